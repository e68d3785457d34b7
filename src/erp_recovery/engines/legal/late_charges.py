"""Late-payment interest and fixed recovery fees of one debt, with their printable working.

Interest is simple interest counted day by day on the amount outstanding including VAT
(shared/domain/legal-rules.md FR-P4: Σ over the days late of TTC outstanding × rate of the day /
365). The days counted run from the day after the due date (or after the formal notice for
consumer debtors) up to and including the day of payment: an invoice due 31/03/2026 and paid
30/07/2026 is 91 days late in 2026-H1 and 30 days in 2026-H2. A partial payment made on day D
reduces the outstanding amount from D + 1.

The annual rate of each day comes from the jurisdiction profile:

- FR / EU: reference rate in force on 1 January (H1) or 1 July (H2) + margin, so a debt spanning
  two half-years is split at 1 July / 1 January (L441-10 II; Dir. 2011/7/EU art. 2(7));
- DE: Basiszinssatz of each half-year + 9 points (BGB §288(2), §247);
- UK: reference rate of the half-year in which interest starts + 8 %, fixed for the whole debt
  (Late Payment Act 1998 s.6; SI 2002/1675).

Amounts per period are kept exact; the interest total is rounded once to the currency's minor unit,
half up (no text sets a rounding rule; a claim is stated in cents).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from erp_recovery.engines.legal.profiles import FeeRule, InterestRule, JurisdictionProfile
from erp_recovery.engines.legal.rates import ASSUMED_PREFIX, HalfYear, RateTable
from erp_recovery.model.money import Money

ONE_DAY = dt.timedelta(days=1)
HUNDRED = Decimal(100)


@dataclass(frozen=True)
class Settlement:
    """Money received against the debt on ``date`` (a payment, a credit note, a bank credit)."""

    date: dt.date
    amount: Money


@dataclass(frozen=True)
class InterestPeriod:
    """A run of days with the same outstanding amount and the same annual rate."""

    start: dt.date
    end: dt.date
    days: int
    outstanding: Money
    reference_label: str
    reference_rate: Decimal | None
    margin: Decimal
    annual_rate: Decimal
    rate_source: str
    #: Exact (unrounded) interest of the period.
    amount: Decimal

    @property
    def amount_rounded(self) -> Money:
        return Money(amount=self.amount, currency=self.outstanding.currency).quantized()


@dataclass(frozen=True)
class LateCharges:
    """Interest and fixed fee due on one debt at ``as_of``, and how they were obtained."""

    jurisdiction: str
    profile_name: str
    consumer: bool
    reference: str | None
    principal: Money
    due_date: dt.date
    as_of: dt.date
    #: Date of full payment when the debt was settled on or before ``as_of``.
    paid_on: dt.date | None
    interest_start: dt.date | None
    periods: tuple[InterestPeriod, ...]
    interest: Money
    fixed_fee: Money | None
    interest_rule: str
    interest_source: str
    fee_rule: str
    fee_source: str
    day_count: int = 365
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def days_late(self) -> int:
        end = self.paid_on or self.as_of
        return max(0, (end - self.due_date).days)

    @property
    def rate_periods(self) -> tuple[tuple[str, Decimal], ...]:
        """Distinct (half-year, annual rate) pairs used, in order: what a letter states."""
        seen: list[tuple[str, Decimal]] = []
        for period in self.periods:
            key = (str(HalfYear.of(period.start)), period.annual_rate)
            if key not in seen:
                seen.append(key)
        return tuple(seen)

    @property
    def total(self) -> Money | None:
        """Interest + fee when both are in the same currency (else None: state them apart)."""
        if self.fixed_fee is None:
            return self.interest
        if self.fixed_fee.currency != self.interest.currency:
            return None
        return self.interest + self.fixed_fee

    def working(self) -> str:
        """The computation as text: rule, source, one line per period, totals, notes."""
        currency = self.principal.currency
        lines = [
            f"Late-payment charges under the {self.jurisdiction} profile: {self.profile_name}",
            f"Debt{(' ' + self.reference) if self.reference else ''}: {_fmt(self.principal.amount)} {currency} "
            f"including tax, due {self.due_date.isoformat()}, "
            + (
                f"paid {self.paid_on.isoformat()}"
                if self.paid_on
                else f"computed to {self.as_of.isoformat()} (still open)"
            )
            + f"; {self.days_late} day(s) late"
            + ("; consumer debtor" if self.consumer else ""),
            f"Interest rule: {self.interest_rule}",
            f"  source: {self.interest_source}",
        ]
        if self.periods:
            lines.append(
                f"  {'from':<10}  {'to':<10}  {'days':>4}  {'outstanding':>12}  {'reference':<34}  "
                f"{'rate':>7}  {'interest':>10}"
            )
            for period in self.periods:
                reference = (
                    f"{period.reference_label} {_fmt(period.reference_rate)} % + {_fmt(period.margin)}"
                    if period.reference_rate is not None
                    else period.reference_label
                )
                lines.append(
                    f"  {period.start.isoformat():<10}  {period.end.isoformat():<10}  {period.days:>4}  "
                    f"{_fmt(period.outstanding.amount):>12}  {reference:<34}  {_fmt(period.annual_rate):>5} %  "
                    f"{_fmt(period.amount_rounded.amount):>10}"
                )
            lines.append(f"  each line: outstanding × rate × days / {self.day_count}; simple interest")
        lines.append(f"Interest: {_fmt(self.interest.amount)} {currency} (total rounded once, half up)")
        if self.fixed_fee is not None:
            lines.append(
                f"Fixed recovery fee: {_fmt(self.fixed_fee.amount)} {self.fixed_fee.currency}: {self.fee_rule}"
            )
        else:
            lines.append(f"Fixed recovery fee: none: {self.fee_rule}")
        lines.append(f"  source: {self.fee_source}")
        total = self.total
        if total is not None:
            lines.append(f"Total claimable besides the principal: {_fmt(total.amount)} {total.currency}")
        lines.extend(f"Note: {note}" for note in self.notes)
        return "\n".join(lines)


def _fmt(value: Decimal | None) -> str:
    """Decimal as text with at least two decimals and no float detour (12.15, 10.00, 302.9178)."""
    if value is None:
        return "-"
    cents = value.quantize(Decimal("0.01"))
    return format(cents if cents == value else value.normalize(), "f")


def _outstanding_on(day: dt.date, principal: Money, settlements: Sequence[Settlement]) -> Money:
    """Amount still owed during ``day``: money received on a day still counts as owed that day."""
    paid = sum((s.amount.amount for s in settlements if s.date < day), Decimal(0))
    return Money(amount=max(Decimal(0), principal.amount - paid), currency=principal.currency)


def _paid_on(principal: Money, settlements: Sequence[Settlement]) -> dt.date | None:
    paid = Decimal(0)
    for settlement in sorted(settlements, key=lambda s: s.date):
        paid += settlement.amount.amount
        if paid >= principal.amount:
            return settlement.date
    return None


def _annual_rate(
    rule: InterestRule, rates: RateTable, day: dt.date, interest_start: dt.date
) -> tuple[str, Decimal, str]:
    """(reference label, reference rate, source) for ``day`` under ``rule``."""
    assert rule.reference is not None
    series = rates.get(rule.reference)
    if rule.fixing == "half_year_start":
        half = HalfYear.of(day)
        entry = series.in_force_on(half.start)
        label = f"{_short(rule.reference)} on {half.start.isoformat()}"
    elif rule.fixing == "half_year":
        half = HalfYear.of(day)
        entry = series.for_half_year(half) if series.kind == "half_year" else series.in_force_on(half.start)
        label = f"{_short(rule.reference)} {half}"
    else:
        half = HalfYear.of(interest_start)
        entry = (
            series.for_half_year(half)
            if series.kind == "half_year"
            else series.in_force_on(half.day_before_start)
        )
        label = f"{_short(rule.reference)} on {half.day_before_start.isoformat()} (fixed)"
    return label, entry.rate, entry.source


def _short(series_name: str) -> str:
    return {
        "ecb_mro": "ECB MRO",
        "uk_reference_rate": "BoE Bank Rate",
        "de_basiszins": "Basiszins",
        "fr_taux_legal_autres_cas": "taux légal (autres cas)",
        "fr_taux_legal_particuliers": "taux légal (particuliers)",
    }.get(series_name, series_name)


def _breakpoints(
    start: dt.date, end: dt.date, settlements: Sequence[Settlement], split_half_years: bool
) -> list[dt.date]:
    points = {start}
    for settlement in settlements:
        after = settlement.date + ONE_DAY
        if start < after <= end:
            points.add(after)
    if split_half_years:
        half = HalfYear.of(start)
        while True:
            nxt = half.end + ONE_DAY
            if nxt > end:
                break
            points.add(nxt)
            half = HalfYear.of(nxt)
    return sorted(points)


def _rule_text(rule: InterestRule, contractual_rate: Decimal | None) -> str:
    if contractual_rate is not None:
        return f"contractual rate {_fmt(contractual_rate)} % a year"
    if rule.kind == "none":
        return "no statutory interest"
    reference = _short(rule.reference or "")
    fixing = {
        "half_year_start": "rate in force on 1 January / 1 July, for the days of each half-year",
        "half_year": "rate published for each half-year, for the days of that half-year",
        "fixed_at_start": "reference of the half-year in which interest starts, fixed for the whole debt",
    }[rule.fixing]
    starts = "from the day after the due date" if rule.starts == "day_after_due" else "from the formal notice"
    margin = f" + {_fmt(rule.margin)} points" if rule.margin else ""
    return f"{reference}{margin}; {fixing}; {starts}; simple interest, days / {rule.day_count}"


def compute_fixed_fee(
    rule: FeeRule, debt: Money, profile: JurisdictionProfile
) -> tuple[Money | None, str, list[str]]:
    """The fixed recovery fee for one late debt under ``rule``, its description and notes."""
    notes: list[str] = []
    if rule.kind == "none":
        return None, "not due from this debtor", notes
    if rule.kind == "flat":
        amount = rule.amounts[0].amount
        return (
            Money(amount=amount, currency=profile.currency).quantized(),
            f"{_fmt(amount)} {profile.currency} per invoice paid late, due from the first day late",
            notes,
        )
    if debt.currency != profile.currency:
        notes.append(
            f"the fee tiers are in {profile.currency} and the debt is in {debt.currency}: "
            "convert the debt to choose the tier"
        )
        return None, "tier not determined (currency)", notes
    for tier in rule.amounts:
        if tier.below is None or debt.amount < tier.below:
            bound = (
                f"debt below {_fmt(tier.below)} {profile.currency}" if tier.below else "debt of the top tier"
            )
            return (
                Money(amount=tier.amount, currency=profile.currency).quantized(),
                f"{_fmt(tier.amount)} {profile.currency} per debt ({bound}; debt {_fmt(debt.amount)})",
                notes,
            )
    raise AssertionError("the last tier has no bound")  # guarded by FeeRule validation


def compute_late_charges(
    profile: JurisdictionProfile,
    rates: RateTable,
    *,
    principal: Money,
    due_date: dt.date,
    as_of: dt.date,
    settlements: Sequence[Settlement] = (),
    consumer: bool = False,
    formal_notice_date: dt.date | None = None,
    contractual_rate: Decimal | None = None,
    reference: str | None = None,
) -> LateCharges:
    """Interest (rate, periods, amount) and fixed fee due on a debt at ``as_of``.

    Args:
        principal: the debt including VAT (invoice total TTC).
        settlements: money received against it, any date; what was received up to the due date
            reduces the debt before interest starts.
        consumer: the debtor is a consumer (B2C): the profile's consumer rules apply (FR: legal
            rate from the formal notice, no EUR 40).
        formal_notice_date: date of the formal notice (mise en demeure, Mahnung), when sent.
        contractual_rate: an agreed annual rate in percent replacing the statutory one (France:
            checked against the floor of three times the legal rate, FR-P3).
    """
    for settlement in settlements:
        if settlement.amount.currency != principal.currency:
            raise ValueError(
                f"settlement of {settlement.amount} on {settlement.date} is not in the debt's currency "
                f"{principal.currency}"
            )
    rule = profile.interest_rule(consumer)
    fee_rule = profile.fee_rule(consumer)
    notes: list[str] = []
    paid_on = _paid_on(principal, settlements)
    if paid_on is not None and paid_on > as_of:
        paid_on = None
    end = paid_on or as_of
    zero = Money.zero(principal.currency)
    unpaid_after_due = _outstanding_on(due_date + ONE_DAY, principal, settlements)
    late = end > due_date and not unpaid_after_due.is_zero()

    interest_start: dt.date | None = None
    if late and (rule.kind == "statutory" or contractual_rate is not None):
        if rule.starts == "formal_notice" and contractual_rate is None:
            if formal_notice_date is None:
                notes.append("interest runs only from a formal notice, and none is recorded for this debt")
            else:
                interest_start = max(due_date, formal_notice_date) + ONE_DAY
        else:
            interest_start = due_date + ONE_DAY
    elif late and rule.kind == "none":
        notes.append(f"no statutory late-payment interest for this debtor ({rule.source})")

    periods: list[InterestPeriod] = []
    if interest_start is not None and interest_start <= end:
        split = contractual_rate is None and rule.fixing != "fixed_at_start"
        points = _breakpoints(interest_start, end, settlements, split_half_years=split)
        for index, start in enumerate(points):
            stop = points[index + 1] - ONE_DAY if index + 1 < len(points) else end
            outstanding = _outstanding_on(start, principal, settlements)
            if outstanding.is_zero():
                continue
            if contractual_rate is not None:
                label, reference_rate, margin = "contractual rate", None, Decimal(0)
                annual, source = contractual_rate, "contract"
            else:
                label, reference_rate, source = _annual_rate(rule, rates, start, interest_start)
                margin = rule.margin
                annual = reference_rate + margin
            days = (stop - start).days + 1
            amount = outstanding.amount * annual / HUNDRED * days / Decimal(rule.day_count)
            periods.append(
                InterestPeriod(
                    start=start,
                    end=stop,
                    days=days,
                    outstanding=outstanding,
                    reference_label=label,
                    reference_rate=reference_rate,
                    margin=margin,
                    annual_rate=annual,
                    rate_source=source,
                    amount=amount,
                )
            )
        if contractual_rate is not None:
            notes.extend(_check_contractual_floor(rule, rates, contractual_rate, interest_start, end))
    assumed = sorted(
        {period.reference_label for period in periods if period.rate_source.startswith(ASSUMED_PREFIX)}
    )
    if assumed:
        notes.append(
            f"reference rate not in the rate table for {', '.join(assumed)}: the last known rate was carried "
            "forward; confirm it and add it to legal.rates_file"
        )
    total_exact = sum((p.amount for p in periods), Decimal(0))
    interest = (
        Money(amount=total_exact, currency=principal.currency).quantized(ROUND_HALF_UP) if periods else zero
    )

    fee: Money | None = None
    fee_text = "not due: the debt was not paid late"
    if late:
        fee, fee_text, fee_notes = compute_fixed_fee(fee_rule, unpaid_after_due, profile)
        notes.extend(fee_notes)
        if fee is not None and paid_on is None:
            fee_text += "; the invoice is still open"
    return LateCharges(
        jurisdiction=profile.code,
        profile_name=profile.name,
        consumer=consumer,
        reference=reference,
        principal=principal,
        due_date=due_date,
        as_of=as_of,
        paid_on=paid_on,
        interest_start=interest_start,
        periods=tuple(periods),
        interest=interest,
        fixed_fee=fee,
        interest_rule=_rule_text(rule, contractual_rate),
        interest_source=rule.source,
        fee_rule=fee_text,
        fee_source=fee_rule.source,
        day_count=rule.day_count,
        notes=tuple(notes),
    )


def _check_contractual_floor(
    rule: InterestRule, rates: RateTable, contractual_rate: Decimal, start: dt.date, end: dt.date
) -> list[str]:
    if rule.contractual_floor_series is None or rule.contractual_floor_factor is None:
        return []
    series = rates.get(rule.contractual_floor_series)
    notes = []
    half = HalfYear.of(start)
    while half.start <= end:
        floor = series.for_half_year(half).rate * rule.contractual_floor_factor
        if contractual_rate < floor:
            notes.append(
                f"the contractual rate {_fmt(contractual_rate)} % is below the legal floor of "
                f"{_fmt(rule.contractual_floor_factor)} × the legal rate = {_fmt(floor)} % in {half} (FR-P3)"
            )
        half = HalfYear.of(half.end + ONE_DAY)
    return notes
