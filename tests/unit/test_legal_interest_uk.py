"""UK statutory interest and fixed sums (Late Payment of Commercial Debts (Interest) Act 1998).

legal-rules.md UK-1 (reference rate on 31 Dec / 30 Jun + 8 %, fixed for the debt) and UK-3
(GBP 40 / 70 / 100 by size of debt).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from erp_recovery.engines.legal import Settlement, compute_late_charges, load_profile, load_rate_table
from erp_recovery.engines.legal.rates import rate_table_from_documents
from erp_recovery.model import Money

UK = load_profile("UK")
RATES = load_rate_table()


def gbp(value: str) -> Money:
    return Money.of(value, "GBP")


def table_with_reference(period: str, rate: str):
    """A rate table whose UK reference rate for ``period`` is the source example's base rate."""
    document = {
        "series": {
            "uk_reference_rate": {"kind": "half_year", "values": [{"period": period, "rate": Decimal(rate)}]}
        }
    }
    return rate_table_from_documents((document, "worked example"))


def test_daniels_silverman_example():
    # danielssilverman.co.uk/interest.php: "If the base rate is 4% ... the statutory interest rate is
    # 12% ... Debt is £851.06 plus £148.94 VAT = total £1,000 ... 30 days late ... £9.86".
    rates = table_with_reference("2008-H2", "4.00")
    charges = compute_late_charges(
        UK, rates, principal=gbp("1000"), due_date=dt.date(2008, 9, 1), as_of=dt.date(2008, 10, 1)
    )
    (period,) = charges.periods
    assert (period.days, period.annual_rate) == (30, Decimal("12.00"))
    assert charges.interest == gbp("9.86")
    assert charges.fixed_fee == gbp("70.00")  # GBP 1,000 is in the 1,000-9,999.99 tier


def test_garfield_law_example():
    # garfield.law late payment interest calculator: "a £5,000 invoice at 12% (BoE 4% + 8%) overdue
    # by 90 days: £5,000 × 0.12 ÷ 365 × 90 = £147.95".
    rates = table_with_reference("2008-H2", "4.00")
    charges = compute_late_charges(
        UK, rates, principal=gbp("5000"), due_date=dt.date(2008, 8, 31), as_of=dt.date(2008, 11, 29)
    )
    assert charges.days_late == 90
    assert charges.interest == gbp("147.95")


@pytest.mark.parametrize(
    ("due", "rate"),
    [
        # payontime.co.uk reference rate table: 1 Jan-30 Jun 2024 5.25 % -> 13.25 %; 1 Jul-31 Dec
        # 2023 5.00 % -> 13.00 %; 1 Jan-30 Jun 2023 3.50 % -> 11.50 %; 1 Jul-31 Dec 2022 1.25 % -> 9.25 %
        (dt.date(2024, 2, 1), Decimal("13.25")),
        (dt.date(2023, 8, 1), Decimal("13.00")),
        (dt.date(2023, 1, 10), Decimal("11.50")),
        (dt.date(2022, 12, 1), Decimal("9.25")),
        # legal-rules.md §3: 2026 H1 reference 3.75 -> 11.75
        (dt.date(2026, 1, 5), Decimal("11.75")),
    ],
)
def test_reference_rate_of_the_half_year_interest_starts(due, rate):
    charges = compute_late_charges(
        UK, RATES, principal=gbp("100"), due_date=due, as_of=due + dt.timedelta(days=10)
    )
    assert charges.periods[0].annual_rate == rate


def test_rate_is_fixed_for_the_life_of_the_debt():
    # SI 2002/1675 (quoted by debtcollectionservice.uk): 8 % over the rate "in force on the 30th June
    # (in respect of interest which starts to run between 1st July and 31st December) ... immediately
    # before the day on which statutory interest starts to run"; payontime.co.uk: add 8 % to the
    # reference rate "that covers the six-month period in which your debt became late".
    # A debt late from 1 Dec 2025 keeps 4.25 + 8 = 12.25 % in 2026 although the reference fell to 3.75.
    charges = compute_late_charges(
        UK,
        RATES,
        principal=gbp("12000"),
        due_date=dt.date(2025, 11, 30),
        as_of=dt.date(2026, 2, 28),
    )
    (period,) = charges.periods
    assert (period.start, period.end, period.days) == (dt.date(2025, 12, 1), dt.date(2026, 2, 28), 90)
    assert period.annual_rate == Decimal("12.25")
    assert (
        charges.interest
        == Money(amount=Decimal(12000) * Decimal("12.25") / 100 * 90 / 365, currency="GBP").quantized()
    )
    assert "fixed" in charges.working()


@pytest.mark.parametrize(
    ("debt", "fee"),
    [
        # payontime.co.uk compensation table (s.5A): up to £999.99 -> £40; £1,000.00 to £9,999.99 ->
        # £70; £10,000.00 or more -> £100
        ("999.99", "40.00"),
        ("1000.00", "70.00"),
        ("9999.99", "70.00"),
        ("10000.00", "100.00"),
        # tools.gera.services example: "£12,000 invoice that is 90 days overdue ... plus the £100
        # fixed compensation"
        ("12000", "100.00"),
    ],
)
def test_fixed_sum_by_size_of_debt(debt, fee):
    charges = compute_late_charges(
        UK, RATES, principal=gbp(debt), due_date=dt.date(2026, 1, 31), as_of=dt.date(2026, 3, 1)
    )
    assert charges.fixed_fee == gbp(fee)


def test_fixed_sum_tier_uses_what_was_unpaid_at_the_due_date():
    charges = compute_late_charges(
        UK,
        RATES,
        principal=gbp("1500"),
        due_date=dt.date(2026, 1, 31),
        as_of=dt.date(2026, 3, 1),
        settlements=[Settlement(dt.date(2026, 1, 20), gbp("600"))],
    )
    assert charges.fixed_fee == gbp("40.00")


def test_consumer_debts_are_outside_the_act():
    # Late Payment Act 1998 s.2(1): contracts between businesses only.
    charges = compute_late_charges(
        UK,
        RATES,
        principal=gbp("500"),
        due_date=dt.date(2026, 1, 31),
        as_of=dt.date(2026, 3, 1),
        consumer=True,
    )
    assert charges.interest == gbp("0")
    assert charges.fixed_fee is None
    assert "no statutory late-payment interest" in charges.notes[0]
