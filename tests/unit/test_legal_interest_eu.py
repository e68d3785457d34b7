"""EU default profile (Directive 2011/7/EU): legal-rules.md EU-1, EU-5; and the limitation rules."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from erp_recovery.engines.legal import compute_late_charges, limitation_date, load_profile, load_rate_table
from erp_recovery.model import Money

EU = load_profile("EU")
RATES = load_rate_table()


def eur(value: str) -> Money:
    return Money.of(value, "EUR")


def test_reference_rate_plus_eight_points_per_half_year():
    # Dir. 2011/7/EU art. 2(6)-(7): reference rate = ECB MRO on 1 January (first half) / 1 July
    # (second half); statutory interest = reference + 8 points (EU-1). The legal-rules.md worked
    # example (EUR 10,000 due 31/03/2026, 91 days of H1) at 2.15 + 8 = 10.15 %.
    charges = compute_late_charges(
        EU, RATES, principal=eur("10000"), due_date=dt.date(2026, 3, 31), as_of=dt.date(2026, 6, 30)
    )
    (period,) = charges.periods
    assert (period.days, period.annual_rate) == (91, Decimal("10.15"))
    assert (
        charges.interest
        == Money(amount=Decimal(10000) * Decimal("10.15") / 100 * 91 / 365, currency="EUR").quantized()
    )
    assert charges.interest == eur("253.05")
    # art. 6(1): at least EUR 40 fixed compensation, no reminder needed (EU-5)
    assert charges.fixed_fee == eur("40.00")


def test_split_on_1_january():
    # art. 2(7)(b): "for the second half of the year ... 1 July"; a debt over the year end uses
    # 4.25 + 8 = 12.25 % (2024 H2) then 3.15 + 8 = 11.15 % (2025 H1).
    charges = compute_late_charges(
        EU, RATES, principal=eur("2000"), due_date=dt.date(2024, 12, 20), as_of=dt.date(2025, 1, 10)
    )
    assert [(p.days, p.annual_rate) for p in charges.periods] == [
        (11, Decimal("12.25")),
        (10, Decimal("11.15")),
    ]


def test_consumers_are_outside_the_directive():
    charges = compute_late_charges(
        EU,
        RATES,
        principal=eur("300"),
        due_date=dt.date(2026, 1, 31),
        as_of=dt.date(2026, 3, 1),
        consumer=True,
    )
    assert charges.interest == eur("0")
    assert charges.fixed_fee is None


def test_limitation_periods():
    # C. com. L110-4 (FR-S1) 5 years; C. conso L218-2 (FR-S2) 2 years; Limitation Act 1980 s.5 (UK-5) 6 years.
    assert limitation_date(load_profile("FR"), dt.date(2026, 3, 31)) == dt.date(2031, 3, 31)
    assert limitation_date(load_profile("FR"), dt.date(2026, 3, 31), consumer=True) == dt.date(2028, 3, 31)
    assert limitation_date(load_profile("UK"), dt.date(2024, 2, 29)) == dt.date(2030, 2, 28)
