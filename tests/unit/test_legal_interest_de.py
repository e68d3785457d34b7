"""German Verzugszinsen and Pauschale (BGB §§ 247, 286, 288): legal-rules.md DE-1..DE-5."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from erp_recovery.engines.legal import (
    Settlement,
    compute_late_charges,
    limitation_date,
    load_profile,
    load_rate_table,
)
from erp_recovery.model import Money

DE = load_profile("DE")
RATES = load_rate_table()


def eur(value: str) -> Money:
    return Money.of(value, "EUR")


def test_days_counted_from_the_day_after_due_to_the_payment_day():
    # wirtschaftswissen.de "Verzugszinsen richtig berechnen – Beispiel": due 01.07.2021, payment
    # received 05.07.2021 -> Verzugszeitraum 02.07.21 – 05.07.21 = 4 Säumnistage.
    charges = compute_late_charges(
        DE,
        RATES,
        principal=eur("1000"),
        due_date=dt.date(2021, 7, 1),
        as_of=dt.date(2021, 7, 31),
        settlements=[Settlement(dt.date(2021, 7, 5), eur("1000"))],
    )
    (period,) = charges.periods
    assert (period.start, period.end, period.days) == (dt.date(2021, 7, 2), dt.date(2021, 7, 5), 4)
    assert charges.days_late == 4
    # 2021 H2: Basiszins -0.88 + 9 = 8.12 % (legal-rules.md §3, "2019 H1–2022 H2 ... 8.12")
    assert period.annual_rate == Decimal("8.12")


def test_consumer_example_five_points_over_basiszins():
    # anleiter.de "Wie berechnet man Verzugszinsen?": "für eine Forderung von 1000,00 € aus einem
    # Verbrauchergeschäft, welche seit 25 Tagen fällig ist, bei einem Verzugszinssatz von 5,12%
    # Verzugszinsen i. H. v. 3.51 €" (5.12 % = Basiszins 0.12 % of 2012 H1 + 5, BGB §288(1)).
    charges = compute_late_charges(
        DE,
        RATES,
        principal=eur("1000"),
        due_date=dt.date(2012, 3, 1),
        as_of=dt.date(2012, 3, 26),
        consumer=True,
        formal_notice_date=dt.date(2012, 3, 1),
    )
    (period,) = charges.periods
    assert (period.days, period.annual_rate) == (25, Decimal("5.12"))
    assert charges.interest == eur("3.51")
    assert charges.fixed_fee is None  # §288(5): no Pauschale against a consumer


def test_b2b_nine_points_over_the_basiszins_of_each_half_year():
    # BGB §288(2) + §247 (DE-2); rates of legal-rules.md §3: 2024 H2 Basiszins 3.37 -> 12.37 %,
    # 2025 H1 2.27 -> 11.27 %. EUR 10,000 due 30/11/2024, paid 31/01/2025: 31 days each.
    charges = compute_late_charges(
        DE,
        RATES,
        principal=eur("10000"),
        due_date=dt.date(2024, 11, 30),
        as_of=dt.date(2025, 3, 1),
        settlements=[Settlement(dt.date(2025, 1, 31), eur("10000"))],
    )
    assert [(p.days, p.annual_rate) for p in charges.periods] == [
        (31, Decimal("12.37")),
        (31, Decimal("11.27")),
    ]
    expected = Decimal(10000) * (Decimal("12.37") * 31 + Decimal("11.27") * 31) / 100 / 365
    assert charges.interest == Money(amount=expected, currency="EUR").quantized()
    assert charges.fixed_fee == eur("40.00")  # §288(5) Pauschale


def test_2026_first_half_rate():
    # Bundesbank, Bekanntgabe des Basiszinssatzes zum 1. Januar 2026: unverändert 1,27 % -> 10.27 %.
    charges = compute_late_charges(
        DE, RATES, principal=eur("100"), due_date=dt.date(2026, 2, 1), as_of=dt.date(2026, 2, 11)
    )
    assert charges.periods[0].annual_rate == Decimal("10.27")


def test_limitation_three_years_from_end_of_year():
    # BGB §195, §199(1) (DE-5): 3 years from the end of the year in which the claim arose.
    assert limitation_date(DE, dt.date(2026, 3, 15)) == dt.date(2029, 12, 31)
