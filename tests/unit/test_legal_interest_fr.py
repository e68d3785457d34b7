"""French late-payment penalties (L441-10 II, D441-5): legal-rules.md FR-P1..FR-P5, FR-C1, FR-C2."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from erp_recovery.engines.legal import (
    Settlement,
    compute_late_charges,
    invoice_late_charges,
    load_profile,
    load_rate_table,
)
from erp_recovery.errors import ConfigError
from erp_recovery.model import Allocation, Customer, Invoice, Money

FR = load_profile("FR")
RATES = load_rate_table()


def eur(value: str) -> Money:
    return Money.of(value, "EUR")


def test_worked_example_first_half_2026():
    # shared/domain/legal-rules.md §3 worked example: EUR 10,000 TTC due 31/03/2026, paid
    # 30/07/2026 -> 91 d x 12.15 % = EUR 302.92 for H1 (+ 30 d at MRO of 01/07/2026 + 10) + EUR 40.
    charges = compute_late_charges(
        FR, RATES, principal=eur("10000"), due_date=dt.date(2026, 3, 31), as_of=dt.date(2026, 6, 30)
    )
    (period,) = charges.periods
    assert (period.start, period.end, period.days) == (dt.date(2026, 4, 1), dt.date(2026, 6, 30), 91)
    assert period.annual_rate == Decimal("12.15")
    assert charges.interest == eur("302.92")
    assert charges.fixed_fee == eur("40.00")
    assert charges.total == eur("342.92")


def test_worked_example_second_half_needs_the_july_rate(tmp_path):
    # Same example, paid 30/07/2026: the 30 days of July use the MRO in force on 01/07/2026. The
    # shipped table stops at 30/06/2026, so the computation refuses instead of guessing ...
    with pytest.raises(ConfigError, match=r"ecb_mro.*2026-07-01"):
        compute_late_charges(
            FR,
            RATES,
            principal=eur("10000"),
            due_date=dt.date(2026, 3, 31),
            as_of=dt.date(2026, 7, 30),
            settlements=[Settlement(dt.date(2026, 7, 30), eur("10000"))],
        )
    # ... and a site adds the rate in its override file (here: the MRO confirmed unchanged at
    # 2.15 % on 01/07/2026, written for this test).
    override = tmp_path / "rates.toml"
    override.write_text('[series.ecb_mro]\nkind = "changes"\nvalid_until = 2026-12-31\n', encoding="utf-8")
    rates = load_rate_table(override)
    charges = compute_late_charges(
        FR,
        rates,
        principal=eur("10000"),
        due_date=dt.date(2026, 3, 31),
        as_of=dt.date(2026, 8, 31),
        settlements=[Settlement(dt.date(2026, 7, 30), eur("10000"))],
    )
    first, second = charges.periods
    assert (first.days, first.amount_rounded) == (91, eur("302.92"))
    assert (second.start, second.end, second.days) == (dt.date(2026, 7, 1), dt.date(2026, 7, 30), 30)
    assert second.amount == Decimal(10000) * Decimal("12.15") / 100 * 30 / 365
    assert charges.paid_on == dt.date(2026, 7, 30)
    assert charges.days_late == 121
    assert charges.interest == eur("402.78")
    assert charges.total == eur("442.78")


@pytest.mark.parametrize(
    ("day", "rate"),
    [
        # bpifrance-creation.fr "taux des pénalités de retard": since June 2024 4.25 -> 14.25 % (2024 H2)
        (dt.date(2024, 9, 1), Decimal("14.25")),
        # entreprendre.service-public.fr F23211 (mirror versurmer.fr): 1er semestre 2025 BCE 3.15 %
        # -> 13.15 %; 2e semestre 2025 BCE 2.15 % -> 12.15 %
        (dt.date(2025, 3, 1), Decimal("13.15")),
        (dt.date(2025, 10, 1), Decimal("12.15")),
        # legal-rules.md §3: 2023 H1 12.50, 2023 H2 14.00, 2024 H1 14.50
        (dt.date(2023, 2, 1), Decimal("12.50")),
        (dt.date(2023, 12, 31), Decimal("14.00")),
        (dt.date(2024, 1, 1), Decimal("14.50")),
    ],
)
def test_rate_of_each_half_year_is_ecb_on_1_january_or_1_july_plus_10(day, rate):
    # L441-10 II (FR-P2): H1 uses the rate in force on 1 January, H2 the rate in force on 1 July,
    # even when the ECB changes it in between (12/06/2024 cut is ignored until 1 July 2024).
    charges = compute_late_charges(
        FR, RATES, principal=eur("1000"), due_date=day - dt.timedelta(days=1), as_of=day
    )
    assert charges.periods[0].annual_rate == rate


def test_span_over_two_half_years_is_split_at_1_july():
    # L441-10 II / bpifrance FR-P4: each day at the rate of its half-year. EUR 5,000 due 15/06/2024,
    # paid 15/07/2024: 15 days of H1 at 14.50 % and 15 days of H2 at 14.25 %.
    charges = compute_late_charges(
        FR,
        RATES,
        principal=eur("5000"),
        due_date=dt.date(2024, 6, 15),
        as_of=dt.date(2024, 7, 15),
    )
    assert [(p.days, p.annual_rate) for p in charges.periods] == [
        (15, Decimal("14.50")),
        (15, Decimal("14.25")),
    ]
    expected = Decimal(5000) * (Decimal("14.50") * 15 + Decimal("14.25") * 15) / 100 / 365
    assert charges.interest == Money(amount=expected, currency="EUR").quantized()
    assert charges.rate_periods == (("2024-H1", Decimal("14.50")), ("2024-H2", Decimal("14.25")))


def test_contractual_rate_example():
    # agenceipro.com "Zoom sur les pénalités de retard": "Un retard de 30 jours sur une facture de
    # 15 000 € TTC avec un taux de 15 % entraînerait des pénalités de 184,93 €."
    charges = compute_late_charges(
        FR,
        RATES,
        principal=eur("15000"),
        due_date=dt.date(2025, 3, 1),
        as_of=dt.date(2025, 3, 31),
        contractual_rate=Decimal(15),
    )
    assert charges.interest == eur("184.93")
    assert not charges.notes  # 15 % >= 3 x 3.71 % = 11.13 % (2025 H1)


def test_contractual_rate_below_three_times_the_legal_rate_is_reported():
    # bpifrance-creation.fr: "Au second semestre 2024 : 14,76 % (3 X 4,92 %)" is the floor (FR-P3).
    charges = compute_late_charges(
        FR,
        RATES,
        principal=eur("1000"),
        due_date=dt.date(2024, 8, 1),
        as_of=dt.date(2024, 9, 1),
        contractual_rate=Decimal(12),
    )
    assert any("14.76 % in 2024-H2" in note for note in charges.notes)


def test_partial_payment_reduces_the_base_from_the_next_day_and_still_owes_the_40_euros():
    # charon-avocat.fr "Retard de paiement : quelles pénalités ?": the EUR 40 is due in full even
    # after a partial payment; penalties run on what remains (bpifrance FR-P4: "montant impayé").
    charges = compute_late_charges(
        FR,
        RATES,
        principal=eur("1200"),
        due_date=dt.date(2026, 1, 31),
        as_of=dt.date(2026, 3, 31),
        settlements=[Settlement(dt.date(2026, 2, 10), eur("1000"))],
    )
    first, second = charges.periods
    assert (first.start, first.end, first.outstanding) == (
        dt.date(2026, 2, 1),
        dt.date(2026, 2, 10),
        eur("1200"),
    )
    assert (second.start, second.end, second.outstanding) == (
        dt.date(2026, 2, 11),
        dt.date(2026, 3, 31),
        eur("200"),
    )
    expected = (Decimal(1200) * 10 + Decimal(200) * 49) * Decimal("12.15") / 100 / 365
    assert charges.interest == Money(amount=expected, currency="EUR").quantized()
    assert charges.fixed_fee == eur("40.00")


def test_paid_on_time_owes_nothing():
    # L441-10 II (FR-P1): penalties start the day after the due date.
    charges = compute_late_charges(
        FR,
        RATES,
        principal=eur("500"),
        due_date=dt.date(2026, 3, 31),
        as_of=dt.date(2026, 5, 1),
        settlements=[Settlement(dt.date(2026, 3, 31), eur("500"))],
    )
    assert charges.periods == ()
    assert charges.interest == eur("0")
    assert charges.fixed_fee is None


def test_one_fee_per_invoice():
    # charon-avocat.fr: "L'indemnité pour frais de recouvrement est applicable par facture en
    # retard, et non par client"; D441-5: EUR 40.
    fees = [
        compute_late_charges(
            FR, RATES, principal=eur(amount), due_date=dt.date(2026, 2, 28), as_of=dt.date(2026, 3, 15)
        ).fixed_fee
        for amount in ("100", "2500", "90000")
    ]
    assert fees == [eur("40.00")] * 3


def test_consumer_debtor_legal_rate_from_formal_notice_no_40_euros():
    # legal-rules FR-C1 (C. civ. 1231-6, 1344-1; CMF L313-2): legal rate from the mise en demeure, a
    # company creditor uses the "autres cas" rate: 2.62 % in 2026 H1 (arrêté 15/12/2025, adecia.fr);
    # FR-C2 (CPCE L111-8): no EUR 40 from a consumer.
    before_notice = compute_late_charges(
        FR,
        RATES,
        principal=eur("1000"),
        due_date=dt.date(2026, 1, 15),
        as_of=dt.date(2026, 3, 3),
        consumer=True,
    )
    assert before_notice.interest == eur("0")
    assert before_notice.fixed_fee is None
    assert "formal notice" in before_notice.notes[0]
    charges = compute_late_charges(
        FR,
        RATES,
        principal=eur("1000"),
        due_date=dt.date(2026, 1, 15),
        as_of=dt.date(2026, 3, 3),
        consumer=True,
        formal_notice_date=dt.date(2026, 2, 1),
    )
    (period,) = charges.periods
    assert (period.start, period.days, period.annual_rate) == (dt.date(2026, 2, 2), 30, Decimal("2.62"))
    assert charges.interest == eur("2.15")  # 1000 x 2.62 % x 30 / 365 = 2.153
    assert charges.fixed_fee is None


def test_invoice_entry_point_and_working():
    invoice = Invoice(
        external_id="inv-1",
        number="F2026-0042",
        customer_id="c1",
        issue_date=dt.date(2026, 1, 30),
        due_date=dt.date(2026, 3, 31),
        currency="EUR",
        total=eur("10000"),
        residual=eur("4000"),
        status="partial",
    )
    allocation = Allocation(
        external_id="a1", invoice_id="inv-1", payment_id="p1", amount=eur("6000"), date=dt.date(2026, 4, 30)
    )
    customer = Customer(external_id="c1", name="Dupont SARL")
    charges = invoice_late_charges(
        invoice, dt.date(2026, 6, 30), FR, RATES, customer=customer, allocations=[allocation]
    )
    assert [p.outstanding for p in charges.periods] == [eur("10000"), eur("4000")]
    assert [p.days for p in charges.periods] == [30, 61]
    text = charges.working()
    assert "F2026-0042" in text
    assert "2026-04-01  2026-04-30    30" in text
    assert "12.15 %" in text
    assert "L441-10 II" in text
    assert "D441-5" in text
    assert f"Interest: {charges.interest.amount} EUR" in text


def test_credit_note_has_no_late_charges():
    note = Invoice(
        external_id="cn",
        kind="credit_note",
        number="AV-1",
        customer_id="c1",
        issue_date=dt.date(2026, 1, 1),
        currency="EUR",
        total=eur("10"),
        residual=eur("10"),
    )
    with pytest.raises(ValueError, match="credit note"):
        invoice_late_charges(note, dt.date(2026, 3, 1), FR, RATES)
