"""Receivables figures: ageing, overdue, exposure, DSO (simple and countback), lateness, pending."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from risk_builders import customer, eur, invoice

from erp_recovery.engines.risk import PendingPayment, Portfolio, RiskConfig, assess_portfolio
from erp_recovery.engines.risk.figures import dso_countback, dso_simple

AS_OF = dt.date(2026, 6, 30)


def build(*documents, customers=None, pending=()):
    invoices, allocations = [], []
    for document, allocs in documents:
        invoices.append(document)
        allocations.extend(allocs)
    return Portfolio.build(
        currency="EUR",
        customers=customers or [customer("C1", limit="10000")],
        invoices=invoices,
        allocations=allocations,
        pending=pending,
    )


def test_ageing_by_due_date_with_default_buckets():
    portfolio = build(
        invoice("C1", dt.date(2026, 6, 20), 100, due=dt.date(2026, 7, 20)),  # not due
        invoice("C1", dt.date(2026, 5, 1), 200, due=dt.date(2026, 6, 1)),  # 29 days
        invoice("C1", dt.date(2026, 4, 1), 300, due=dt.date(2026, 5, 1)),  # 60 days
        invoice("C1", dt.date(2026, 3, 1), 400, due=dt.date(2026, 4, 1)),  # 90 days
        invoice("C1", dt.date(2026, 2, 1), 500, due=dt.date(2026, 3, 1)),  # 121 days
        invoice("C1", dt.date(2026, 1, 1), 999, due=dt.date(2026, 2, 1), paid=[(dt.date(2026, 2, 1), 999)]),
    )
    figures = assess_portfolio(portfolio, AS_OF).customers[0].figures
    assert [(b.label, b.amount, b.count) for b in figures.ageing] == [
        ("not due", Decimal(100), 1),
        ("1-30", Decimal(200), 1),
        ("31-60", Decimal(300), 1),
        ("61-90", Decimal(400), 1),
        ("> 90", Decimal(500), 1),
    ]
    assert figures.open_items == 5
    assert figures.overdue_amount == Decimal(1400)
    assert figures.overdue_over_60 == Decimal(900)
    assert figures.open_amount == Decimal(1500)
    assert figures.exposure_ratio == Decimal("0.150")


def test_configurable_buckets_and_partial_payment():
    config = RiskConfig(ageing_buckets=(15, 45))
    portfolio = build(
        invoice("C1", dt.date(2026, 4, 1), 1000, due=dt.date(2026, 6, 1), paid=[(dt.date(2026, 6, 10), 400)]),
    )
    figures = assess_portfolio(portfolio, AS_OF, config).customers[0].figures
    assert [b.label for b in figures.ageing] == ["not due", "1-15", "16-45", "> 45"]
    assert figures.ageing[2].amount == Decimal(600)


def test_credit_notes_apart_and_pending_bank_payments_not_deducted():
    note, _ = invoice("C1", dt.date(2026, 6, 1), 150, kind="credit_note")
    portfolio = build(
        invoice("C1", dt.date(2026, 5, 1), 1000, due=dt.date(2026, 6, 1)),
        (note, []),
        pending=[PendingPayment("C1", eur(1000), dt.date(2026, 6, 29), bank_transaction_id="bt-1")],
    )
    figures = assess_portfolio(portfolio, AS_OF).customers[0].figures
    assert figures.unallocated_credits == Decimal(150)
    assert figures.open_amount == Decimal(850)
    assert figures.pending_bank_payments == Decimal(1000)
    assert figures.exposure == Decimal(850)
    assert figures.exposure_after_pending == Decimal(-150)


def test_dso_countback_worked_example():
    # benjipays.com "Mastering DSO calculation: the count-back method explained": receivables
    # $212,000; month 3 sales $100,000, month 2 $80,000, month 1 $70,000 -> months 3 and 2 fully
    # covered, then 32,000/70,000 of month 1. aro2c.zendesk.com: countback uses the actual number of
    # days in each month -> 30 (June) + 31 (May) + 32/70 x 30 (April) = 74.7 days.
    portfolio = build(
        invoice("C1", dt.date(2026, 6, 10), 100000, due=dt.date(2026, 7, 10)),
        invoice("C1", dt.date(2026, 5, 10), 80000, due=dt.date(2026, 7, 10)),
        invoice(
            "C1", dt.date(2026, 4, 10), 70000, due=dt.date(2026, 7, 10), paid=[(dt.date(2026, 5, 1), 38000)]
        ),
    )
    histories = portfolio.histories["C1"]
    assert dso_countback(histories, AS_OF) == Decimal("74.7")


def test_dso_simple_worked_example():
    # trymesha.com "The 2 DSO calculation formulas": $150,000 receivables, $1,800,000 annual credit
    # sales -> (150,000 / 1,800,000) x 365 = 30.4 days.
    portfolio = build(
        invoice(
            "C1",
            dt.date(2025, 9, 1),
            1650000,
            due=dt.date(2025, 10, 1),
            paid=[(dt.date(2025, 10, 1), 1650000)],
        ),
        invoice("C1", dt.date(2026, 6, 15), 150000, due=dt.date(2026, 7, 15)),
    )
    assert dso_simple(portfolio.histories["C1"], AS_OF, 365) == Decimal("30.4")


def test_days_late_average_weighted_and_trend():
    portfolio = build(
        # due in the last 12 months, paid 0, 10 and 50 days late; one open 40 days overdue
        invoice(
            "C1", dt.date(2025, 9, 1), 1000, due=dt.date(2025, 10, 1), paid=[(dt.date(2025, 10, 1), 1000)]
        ),
        invoice(
            "C1", dt.date(2025, 12, 1), 1000, due=dt.date(2026, 1, 1), paid=[(dt.date(2026, 1, 11), 1000)]
        ),
        invoice(
            "C1", dt.date(2026, 3, 1), 3000, due=dt.date(2026, 4, 1), paid=[(dt.date(2026, 5, 21), 3000)]
        ),
        invoice("C1", dt.date(2026, 4, 21), 5000, due=dt.date(2026, 5, 21)),
    )
    figures = assess_portfolio(portfolio, AS_OF).customers[0].figures
    year = figures.lateness_for(12)
    assert year.invoices == 4
    assert year.average_days == Decimal("25.0")  # (0 + 10 + 50 + 40) / 4
    assert year.weighted_days == Decimal("36.0")  # (0 + 10 000 + 150 000 + 200 000) / 10 000
    assert year.late_30_share == Decimal("0.500")
    recent = figures.lateness_for(3)
    assert (recent.invoices, recent.weighted_days) == (2, Decimal("43.8"))  # (150 000 + 200 000) / 8000


def test_company_figures_and_dso_trend():
    portfolio = build(
        invoice("C1", dt.date(2026, 5, 1), 1000, due=dt.date(2026, 6, 1)),
        invoice("C2", dt.date(2026, 6, 1), 500, due=dt.date(2026, 7, 1)),
        customers=[customer("C1"), customer("C2")],
    )
    assessment = assess_portfolio(portfolio, AS_OF)
    assert assessment.company.open_amount == Decimal(1500)
    assert assessment.company.overdue_amount == Decimal(1000)
    assert len(assessment.dso_trend) == 12
    assert assessment.dso_trend[-1].date == AS_OF
    assert assessment.dso_trend[-1].receivables == Decimal(1500)
    assert assessment.dso_trend[-3].receivables == Decimal(0)  # 30 April: nothing issued yet


def test_pending_payments_from_matcher_proposals():
    from erp_recovery.engines.matching.model import MatchProposal, ProposalLine
    from erp_recovery.engines.risk import pending_from_matches

    line = ProposalLine(invoice_id="F1", invoice_number="F1", customer_id="C1", amount=eur(600))
    note = ProposalLine(
        invoice_id="AV1", invoice_number="AV1", customer_id="C1", kind="credit_note", amount=eur(100)
    )
    proposals = [
        MatchProposal(
            bank_transaction_id="bt-1", bank_ref="R1", booking_date=dt.date(2026, 6, 28), amount=eur(500),
            status="suggested", rule="invoice_number", customer_id="C1", lines=(line, note),
        ),
        MatchProposal(
            bank_transaction_id="bt-2", bank_ref="R2", booking_date=dt.date(2026, 6, 28), amount=eur(90),
            status="unmatched", rule="none",
        ),
    ]  # fmt: skip
    (pending,) = pending_from_matches(proposals)
    assert (pending.customer_id, pending.amount, pending.invoice_id) == ("C1", eur(600), "F1")
    portfolio = build(invoice("C1", dt.date(2026, 5, 1), 1000, due=dt.date(2026, 6, 1)), pending=[pending])
    figures = assess_portfolio(portfolio, AS_OF).customers[0].figures
    assert (figures.pending_bank_payments, figures.open_amount) == (Decimal(600), Decimal(1000))
