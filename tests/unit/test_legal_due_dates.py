"""Due dates and the legal-maximum flag (FR-T1..FR-T3, EU-2/EU-3, UK-2/UK-4, DE-1/DE-4).

Sources of the worked examples are cited in each test.
"""

from __future__ import annotations

import datetime as dt

import pytest

from erp_recovery.engines.legal import compute_due_date, load_profile
from erp_recovery.model import PaymentTerms

FR = load_profile("FR")
A = PaymentTerms(days=45, method="days_then_end_of_month")
B = PaymentTerms(days=45, method="end_of_month_then_days")


@pytest.mark.parametrize(
    ("issue", "terms", "due", "days"),
    [
        # shared/domain/legal-rules.md §3 "45 FDM": invoice 15/01/2026 -> A = 31/03 (75 d), B = 17/03 (61 d)
        (dt.date(2026, 1, 15), A, dt.date(2026, 3, 31), 75),
        (dt.date(2026, 1, 15), B, dt.date(2026, 3, 17), 61),
        # same source: invoice 05/10/2026 -> A = 30/11 (56 d), B = 15/12 (71 d)
        (dt.date(2026, 10, 5), A, dt.date(2026, 11, 30), 56),
        (dt.date(2026, 10, 5), B, dt.date(2026, 12, 15), 71),
        # expertfiscal.fr "Retard de paiement" (18/05/2025): invoice 15 February, method A:
        # 15 February + 45 days = 1 April, end of month = 30 April
        (dt.date(2025, 2, 15), A, dt.date(2025, 4, 30), 74),
        # fnaseph.org "paiement 45 jours fin de mois": invoice 10 March -> A: 24 April -> 30 April;
        # B: 31 March + 45 days = 15 May
        (dt.date(2025, 3, 10), A, dt.date(2025, 4, 30), 51),
        (dt.date(2025, 3, 10), B, dt.date(2025, 5, 15), 66),
        # scribd "Calcul date échéance": invoice 22 October, B: end of October + 45 days = 15 December
        (dt.date(2025, 10, 22), B, dt.date(2025, 12, 15), 54),
    ],
)
def test_45_days_end_of_month_both_computations(issue, terms, due, days):
    # economie.gouv.fr/cepc/delais-paiement-sur-computation-des-delais: both computations accepted
    result = compute_due_date(FR, issue, terms)
    assert result.date == due
    assert result.term_days == days
    assert not result.beyond_legal_max
    assert ("computation A" in result.rule) == (terms.method == "days_then_end_of_month")


def test_45_fdm_beyond_60_days_needs_express_stipulation():
    # L441-10 I al. 3 (legal-rules FR-T3): 45 FDM only "sous réserve que ce délai soit expressément
    # stipulé"; 05/10/2026 computation B gives 71 days.
    implicit = PaymentTerms(days=45, method="end_of_month_then_days", expressly_agreed=False)
    result = compute_due_date(FR, dt.date(2026, 10, 5), implicit)
    assert result.beyond_legal_max
    assert "expressly stipulated" in result.reasons[0]


def test_60_days_end_of_month_is_always_beyond_the_maximum():
    # expertfiscal.fr (18/05/2025): "Le délai 60 jours fin de mois est illégal : il dépasse toujours
    # les 60 jours calendaires."
    terms = PaymentTerms(days=60, method="end_of_month_then_days")
    for issue in (dt.date(2026, 1, 15), dt.date(2026, 2, 1), dt.date(2026, 7, 30)):
        result = compute_due_date(FR, issue, terms)
        assert result.beyond_legal_max, issue
        assert "60 days end of month" in result.reasons[0]


def test_60_days_net_is_the_maximum():
    # L441-10 I al. 2 (legal-rules FR-T2): at most 60 days from the invoice date.
    assert not compute_due_date(FR, dt.date(2026, 1, 15), PaymentTerms(days=60)).beyond_legal_max
    over = compute_due_date(FR, dt.date(2026, 1, 15), PaymentTerms(days=61))
    assert over.date == dt.date(2026, 3, 17)
    assert over.beyond_legal_max
    assert "L441-10 I al. 2" in over.reasons[0]


def test_nothing_agreed_france_30_days_after_delivery():
    # L441-10 I al. 1 (legal-rules FR-T1): 30 days after receipt of the goods, not the invoice date.
    result = compute_due_date(FR, dt.date(2026, 3, 10), None, delivery_date=dt.date(2026, 3, 2))
    assert result.date == dt.date(2026, 4, 1)
    unknown = compute_due_date(FR, dt.date(2026, 3, 10), None)
    assert unknown.date == dt.date(2026, 4, 9)
    assert "delivery date unknown" in unknown.reasons[0]


@pytest.mark.parametrize("code", ["EU", "UK", "DE"])
def test_nothing_agreed_elsewhere_30_days_after_later_of_delivery_and_invoice(code):
    # Dir. 2011/7/EU art. 3(3)(b) (EU-2); Late Payment Act s.4(3)-(5) (UK-2); BGB §286(3) (DE-1).
    profile = load_profile(code)
    late_delivery = compute_due_date(profile, dt.date(2026, 3, 1), None, delivery_date=dt.date(2026, 3, 11))
    assert late_delivery.date == dt.date(2026, 4, 10)
    early_delivery = compute_due_date(profile, dt.date(2026, 3, 1), None, delivery_date=dt.date(2026, 2, 20))
    assert early_delivery.date == dt.date(2026, 3, 31)


@pytest.mark.parametrize("code", ["EU", "UK", "DE"])
def test_beyond_60_days_flagged_for_review(code):
    # Dir. 2011/7/EU art. 3(5) (EU-3); Late Payment Regulations 2013 (UK-4); BGB §271a (DE-4).
    profile = load_profile(code)
    result = compute_due_date(profile, dt.date(2026, 1, 1), PaymentTerms(days=90))
    assert result.beyond_legal_max
    assert "grossly unfair" in result.reasons[0]
    assert not compute_due_date(profile, dt.date(2026, 1, 1), PaymentTerms(days=60)).beyond_legal_max


def test_on_receipt_and_net():
    issue = dt.date(2026, 2, 27)
    assert compute_due_date(FR, issue, PaymentTerms(method="on_receipt")).date == issue
    assert compute_due_date(FR, issue, PaymentTerms(days=30)).date == dt.date(2026, 3, 29)
