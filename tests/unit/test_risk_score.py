"""Explainable score and grades: each factor has its points and a sentence; weights are configuration."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from risk_builders import customer, invoice

from erp_recovery.engines.risk import Portfolio, RiskConfig, assess_portfolio
from erp_recovery.engines.risk.config import ScoreWeights
from erp_recovery.engines.signals import CollectiveProceeding, CompanySignals, CompanyStatus
from erp_recovery.model import BankTransaction, Money

AS_OF = dt.date(2026, 6, 30)


def monthly_history(code: str, days_late: list[int], amount: int = 1000, open_last: int = 0):
    """One invoice a month for len(days_late) months up to AS_OF, each paid ``days_late`` after due."""
    documents = []
    months = len(days_late)
    for index, late in enumerate(days_late):
        issue = dt.date(2026, 6, 1) - dt.timedelta(days=30 * (months - index))
        due = issue + dt.timedelta(days=30)
        paid_on = due + dt.timedelta(days=late)
        if index >= months - open_last or paid_on > AS_OF:
            documents.append(invoice(code, issue, amount, due=due))
        else:
            documents.append(invoice(code, issue, amount, due=due, paid=[(paid_on, amount)]))
    return documents


def build(customers, documents, **extra):
    invoices, allocations = [], []
    for document, allocs in documents:
        invoices.append(document)
        allocations.extend(allocs)
    return Portfolio.build(
        currency="EUR", customers=customers, invoices=invoices, allocations=allocations, **extra
    )


def test_good_payer_grade_a_and_chronic_late_payer_low_grade():
    portfolio = build(
        [customer("GOOD", limit="5000"), customer("LATE", limit="5000")],
        monthly_history("GOOD", [0] * 18)
        + monthly_history("LATE", [45, 60, 50, 70, 40, 65] * 3, open_last=2),
    )
    assessment = assess_portfolio(portfolio, AS_OF)
    good, late = assessment.customer("GOOD"), assessment.customer("LATE")
    assert good.score.grade == "A"
    assert good.score.score >= 90
    # a slow but sure payer is not a defaulter: C at best, and far below the good payer
    assert late.score.grade in ("C", "D", "E")
    assert late.score.score <= good.score.score - 30
    lateness = next(f for f in late.score.factors if f.name == "lateness")
    # 11 of the 12 invoices due in the last 12 months are > 30 days late; the last is open 29 days
    assert lateness.sentence.startswith("paid 92 % of invoices more than 30 days late in the last 12 months")
    assert lateness.points > Decimal(20)


def test_explanation_lists_every_factor_with_contribution_and_sentence():
    portfolio = build(
        [customer("C1", limit="1500", name="Garage Lefèvre")],
        monthly_history("C1", [0, 5, 35, 40], open_last=1),
    )
    text = assess_portfolio(portfolio, AS_OF).customer("Garage Lefèvre").explain()
    assert text.splitlines()[0].startswith("Garage Lefèvre (C1) on 2026-06-30: score ")
    for name in (
        "lateness",
        "trend",
        "overdue",
        "disputes",
        "partial_broken",
        "exposure",
        "relationship",
        "external",
    ):
        assert f" {name} " in text
    assert "ageing: not due" in text
    assert "credit limit: current 1500.00, recommended " in text


def test_weights_are_configuration():
    portfolio = build([customer("C1")], monthly_history("C1", [45] * 24))
    default = assess_portfolio(portfolio, AS_OF).customers[0].score
    only_relationship = RiskConfig(
        weights=ScoreWeights(
            lateness=Decimal(0), trend=Decimal(0), overdue=Decimal(0), disputes=Decimal(0),
            partial_broken=Decimal(0), exposure=Decimal(0), relationship=Decimal(10), external=Decimal(0),
        )
    )  # fmt: skip
    relaxed = assess_portfolio(portfolio, AS_OF, only_relationship).customers[0].score
    assert relaxed.score == 100  # 24 months, 12 invoices a year: no relationship risk
    assert relaxed.score > default.score


def test_deterioration_disputes_partial_and_returned_payments_cost_points():
    steady = monthly_history("S", [2] * 12)
    worse = monthly_history("W", [2] * 9 + [40, 55, 70])
    disputed_doc, _ = invoice("W", dt.date(2026, 5, 15), 800, disputed=True)
    partial = invoice(
        "W", dt.date(2026, 1, 5), 1000, paid=[(dt.date(2026, 2, 4), 300), (dt.date(2026, 2, 20), 700)]
    )
    bounced = BankTransaction(
        external_id="bt-1",
        account="FR7630006000011234567890189",
        booking_date=dt.date(2026, 5, 3),
        amount=Money.of("-1000", "EUR"),
        reversal=True,
        return_reason="AM04",
        counterparty_iban="FR7630004000000000000100158",
    )
    portfolio = build(
        [customer("S"), customer("W", ibans=("FR7630004000000000000100158",))],
        [*steady, *worse, (disputed_doc, []), partial],
        bank_transactions=[bounced],
    )
    assessment = assess_portfolio(portfolio, AS_OF)
    factors = {f.name: f for f in assessment.customer("W").score.factors}
    assert factors["trend"].severity > 0
    assert "rose from" in factors["trend"].sentence
    assert factors["disputes"].sentence.startswith("1 of 13 invoices")
    assert "1 returned payment(s)" in factors["partial_broken"].sentence
    assert factors["partial_broken"].severity > 0
    assert assessment.customer("W").score.score < assessment.customer("S").score.score


def test_collective_proceeding_forces_grade_e_and_explains_deadline():
    proceeding = CollectiveProceeding(
        siren="412345670",
        announcement_id="A202600123",
        published_on=dt.date(2026, 6, 10),
        judgment_date=dt.date(2026, 6, 2),
        nature="Jugement d'ouverture d'une procédure de redressement judiciaire",
        kind="redressement",
        court="Tribunal de commerce de Lyon",
    )
    signals = {
        "C1": CompanySignals(
            siren="412345670",
            checked_on=AS_OF,
            status=CompanyStatus(siren="412345670", state="A", created_on=dt.date(2001, 1, 1)),
            proceedings=(proceeding,),
        )
    }
    portfolio = build([customer("C1")], monthly_history("C1", [0] * 12), signals=signals)
    result = assess_portfolio(portfolio, AS_OF).customers[0]
    assert result.score.grade == "E"
    assert "collective proceeding published on 2026-06-10" in result.score.overrides[0]
    external = next(f for f in result.score.factors if f.name == "external")
    assert "declare the claim by 2026-08-10" in external.sentence


def test_grade_thresholds_are_configuration():
    portfolio = build([customer("C1")], monthly_history("C1", [0] * 24))
    strict = RiskConfig.model_validate({"grades": {"A": 101, "B": 100, "C": 50, "D": 10}})
    assert assess_portfolio(portfolio, AS_OF, strict).customers[0].score.grade == "B"
