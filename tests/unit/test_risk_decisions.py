"""Recommended credit limits, risk flags and the proposals they become."""

from __future__ import annotations

import datetime as dt

from risk_builders import customer, eur, invoice

from erp_recovery.engines.risk import Portfolio, RiskConfig, assess_portfolio
from erp_recovery.engines.signals import CollectiveProceeding, CompanySignals

AS_OF = dt.date(2026, 6, 30)


def build(customers, documents, **extra):
    invoices, allocations = [], []
    for document, allocs in documents:
        invoices.append(document)
        allocations.extend(allocs)
    return Portfolio.build(
        currency="EUR", customers=customers, invoices=invoices, allocations=allocations, **extra
    )


def twelve_paid_invoices(code: str, amount: int = 2000, late: int = 0):
    documents = []
    for month in range(1, 13):
        issue = dt.date(2025, 7, 5) + dt.timedelta(days=30 * (month - 1))
        due = issue + dt.timedelta(days=30)
        documents.append(
            invoice(code, issue, amount, due=due, paid=[(due + dt.timedelta(days=late), amount)])
        )
    return documents


def test_credit_limit_policy_sales_terms_grade_rounding():
    # 12 invoices of 2000 in 12 months -> monthly sales 2000; terms 45 days + 30 days of billing
    # cycle; grade A factor 1.5: 2000 x 75/30 x 1.5 = 7500 -> rounded down to 500 = 7500.
    portfolio = build([customer("C1", limit="20000", terms=45)], twelve_paid_invoices("C1"))
    result = assess_portfolio(portfolio, AS_OF).customers[0]
    assert result.score.grade == "A"
    assert result.credit_limit.recommended == eur("7500")
    assert "monthly sales 2000.00 (12 months)" in result.credit_limit.working
    proposals = assess_portfolio(portfolio, AS_OF).proposals()
    (limit,) = [p for p in proposals if p.field == "credit_limit"]
    assert (limit.current, limit.proposed) == (eur("20000"), eur("7500"))
    assert limit.reason.startswith("grade A (score ")


def test_credit_limit_capped_by_insured_limit():
    portfolio = build(
        [customer("C1", terms=60)],
        twelve_paid_invoices("C1", amount=10000),
        insured_limits={"C1": eur("12000")},
    )
    result = assess_portfolio(portfolio, AS_OF).customers[0]
    assert result.credit_limit.capped_by_insurance
    assert result.credit_limit.recommended == eur("12000")


def test_small_changes_are_not_proposed():
    portfolio = build([customer("C1", limit="7000", terms=45)], twelve_paid_invoices("C1"))
    proposals = assess_portfolio(portfolio, AS_OF).proposals()
    assert not [p for p in proposals if p.field == "credit_limit"]  # 7500 vs 7000: below 10 %


def test_policy_is_configuration():
    config = RiskConfig.model_validate(
        {"credit_limit": {"rounding": 1000, "grade_factors": {"A": 2, "B": 1, "C": 1, "D": 0, "E": 0}}}
    )
    portfolio = build([customer("C1", terms=45)], twelve_paid_invoices("C1"))
    # 2000 x 75/30 x 2 = 10000
    assert assess_portfolio(portfolio, AS_OF, config).customers[0].credit_limit.recommended == eur("10000")


def test_flags_over_limit_chronic_deteriorating():
    documents = []
    for month, late in enumerate([35] * 8 + [80, 90, 100]):
        issue = dt.date(2025, 7, 5) + dt.timedelta(days=30 * month)
        due = issue + dt.timedelta(days=30)
        paid_on = due + dt.timedelta(days=late)
        documents.append(
            invoice("C1", issue, 1000, due=due, paid=[(paid_on, 1000)] if paid_on <= AS_OF else None)
        )
    # last 3 months: 80 (paid), 61 and 31 days (open) -> 57.3; 12 months: (8 x 35 + 172) / 11 = 41.1
    portfolio = build([customer("C1", limit="1000")], documents)
    result = assess_portfolio(portfolio, AS_OF).customers[0]
    codes = {flag.code: flag.reason for flag in result.flags}
    assert set(codes) >= {"over_limit", "chronic_late_payer", "deteriorating"}
    assert codes["over_limit"].startswith("exposure ")
    assert "more than 30 days after their due date" in codes["chronic_late_payer"]
    (flags_proposal,) = [p for p in assess_portfolio(portfolio, AS_OF).proposals() if p.field == "risk_flags"]
    assert "chronic_late_payer" in flags_proposal.proposed
    assert flags_proposal.current == ()


def test_flag_insolvency_proceedings():
    signals = {
        "C1": CompanySignals(
            siren="412345670",
            checked_on=AS_OF,
            proceedings=(
                CollectiveProceeding(
                    siren="412345670",
                    announcement_id="1",
                    published_on=dt.date(2026, 6, 20),
                    nature="Jugement prononçant la liquidation judiciaire",
                ),
            ),
        )
    }
    portfolio = build([customer("C1")], twelve_paid_invoices("C1"), signals=signals)
    flags = {f.code: f.reason for f in assess_portfolio(portfolio, AS_OF).customers[0].flags}
    assert "declare the claim by 2026-08-20" in flags["insolvency_proceedings"]


def test_flag_prescription_approaching_b2b_five_years_consumer_two():
    # C. com. L110-4 (5 years B2B), C. conso L218-2 (2 years towards a consumer); warning 6 months before.
    old_b2b = invoice("B2B", dt.date(2021, 8, 1), 500, due=dt.date(2021, 9, 30))
    old_b2c = invoice("B2C", dt.date(2024, 8, 1), 300, due=dt.date(2024, 9, 30))
    recent = invoice("B2B", dt.date(2026, 6, 1), 100)
    portfolio = build([customer("B2B"), customer("B2C", is_consumer=True)], [old_b2b, old_b2c, recent])
    result = assess_portfolio(portfolio, AS_OF)
    b2b = {f.code: f.reason for f in result.customer("B2B").flags}
    b2c = {f.code: f.reason for f in result.customer("B2C").flags}
    assert "on 2026-09-30" in b2b["prescription_approaching"]
    assert "L110-4" in b2b["prescription_approaching"]
    assert "on 2026-09-30" in b2c["prescription_approaching"]


def test_flag_removed_is_proposed_too():
    portfolio = build([customer("C1", risk_flags=("over_limit",))], twelve_paid_invoices("C1"))
    (proposal,) = [p for p in assess_portfolio(portfolio, AS_OF).proposals() if p.field == "risk_flags"]
    assert proposal.current == ("over_limit",)
    assert proposal.proposed == ()
    assert proposal.reason == "no risk flag applies any more"
