"""Receivables figures of a customer or of the whole company at a date.

Definitions (all amounts in the portfolio currency, Decimal):

- **open amount / exposure (encours)**: residual of open invoices minus residual of open credit
  notes. **Overdue**: residual of invoices whose due date is before ``as_of``.
- **ageing (balance âgée)**: invoice residuals by days past due at ``as_of``: "not due", then one
  column per configured bound (default 1-30, 31-60, 61-90, > 90). Open credit notes are shown apart
  as unallocated credits.
- **DSO, simple method**: receivables / invoiced sales of the last N days × N (N = 90 by default).
- **DSO, countback method**: start from the receivables and walk back month by month (calendar
  months ending on ``as_of``), subtracting each month's invoiced sales; every month fully covered
  adds its days, the last one adds the covered fraction of its days. Unlike the simple method it
  is not inflated by one big month nor diluted by old sales.
- **days late** of an invoice: payment date − due date when paid; ``as_of`` − due date when still
  open and overdue. **Average** and **amount-weighted average** over the invoices due in the last
  12 months (negative values — early payments — count as 0).
- **trend**: the amount-weighted days late over the invoices due in the last 3, 6 and 12 months,
  and the baseline of the 9 months before the last 3.
- **pending bank payments**: credits the matcher attributed to the customer but nobody booked;
  shown apart, never deducted from the exposure.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from dateutil.relativedelta import relativedelta

from erp_recovery.engines.risk.config import RiskConfig
from erp_recovery.engines.risk.portfolio import InvoiceHistory, PendingPayment
from erp_recovery.model.records import Invoice

ZERO = Decimal(0)
TENTH = Decimal("0.1")


@dataclass(frozen=True)
class AgeingBucket:
    label: str
    amount: Decimal
    count: int


@dataclass(frozen=True)
class LatenessStats:
    """Lateness over the invoices due in a window of months before ``as_of``."""

    months: int
    invoices: int
    average_days: Decimal | None
    weighted_days: Decimal | None
    late_30_share: Decimal | None


@dataclass(frozen=True)
class ReceivablesFigures:
    as_of: dt.date
    currency: str
    open_items: int
    open_amount: Decimal
    invoices_open_amount: Decimal
    unallocated_credits: Decimal
    overdue_amount: Decimal
    overdue_over_60: Decimal
    ageing: tuple[AgeingBucket, ...]
    credit_limit: Decimal | None
    exposure_ratio: Decimal | None
    dso_simple: Decimal | None
    dso_countback: Decimal | None
    lateness: tuple[LatenessStats, ...]
    #: Invoices due 12 to 3 months ago: the baseline of the trend.
    baseline_lateness: LatenessStats
    pending_bank_payments: Decimal
    pending_count: int
    sales_12m: Decimal
    invoices_12m: int

    @property
    def exposure(self) -> Decimal:
        return self.open_amount

    @property
    def exposure_after_pending(self) -> Decimal:
        return self.open_amount - self.pending_bank_payments

    def lateness_for(self, months: int) -> LatenessStats | None:
        return next((stats for stats in self.lateness if stats.months == months), None)


def _bucket_index(days_overdue: int, bounds: Sequence[int]) -> int:
    if days_overdue <= 0:
        return 0
    for index, bound in enumerate(bounds, start=1):
        if days_overdue <= bound:
            return index
    return len(bounds) + 1


def ageing(
    histories: Iterable[InvoiceHistory], as_of: dt.date, config: RiskConfig
) -> tuple[AgeingBucket, ...]:
    labels = config.bucket_labels()
    amounts = [ZERO] * len(labels)
    counts = [0] * len(labels)
    for history in histories:
        residual = history.outstanding_on(as_of)
        if residual <= 0:
            continue
        index = _bucket_index((as_of - history.due_date).days, config.ageing_buckets)
        amounts[index] += residual
        counts[index] += 1
    return tuple(
        AgeingBucket(label, amount, count)
        for label, amount, count in zip(labels, amounts, counts, strict=True)
    )


def receivables_on(histories: Iterable[InvoiceHistory], day: dt.date) -> Decimal:
    return sum((history.outstanding_on(day) for history in histories), ZERO)


def sales_between(histories: Iterable[InvoiceHistory], first: dt.date, last: dt.date) -> Decimal:
    """Invoiced amount (incl. VAT) of invoices issued from ``first`` to ``last`` inclusive."""
    return sum(
        (h.invoice.total.amount for h in histories if first <= h.invoice.issue_date <= last),
        ZERO,
    )


def dso_simple(
    histories: Sequence[InvoiceHistory],
    as_of: dt.date,
    window_days: int,
    *,
    receivables: Decimal | None = None,
) -> Decimal | None:
    """Receivables / sales of the last ``window_days`` days × ``window_days`` (None without sales)."""
    if receivables is None:
        receivables = receivables_on(histories, as_of)
    sales = sales_between(histories, as_of - dt.timedelta(days=window_days - 1), as_of)
    if sales <= 0:
        return None if receivables > 0 else ZERO
    return (receivables / sales * window_days).quantize(TENTH, rounding=ROUND_HALF_UP)


def dso_countback(
    histories: Sequence[InvoiceHistory],
    as_of: dt.date,
    max_months: int = 24,
    *,
    receivables: Decimal | None = None,
) -> Decimal | None:
    """Countback DSO: walk back month by month until the receivables are covered by sales.

    Months end on ``as_of`` ((``as_of`` + 1 day) − 1 month .. ``as_of``): calendar months when
    ``as_of`` is a month end.
    Returns None when ``max_months`` of sales do not cover the receivables.
    """
    remaining = receivables_on(histories, as_of) if receivables is None else receivables
    if remaining <= 0:
        return ZERO
    days = ZERO
    end = as_of
    for _ in range(max_months):
        start = end + dt.timedelta(days=1) - relativedelta(months=1)
        month_days = (end - start).days + 1
        sales = sales_between(histories, start, end)
        if sales >= remaining and sales > 0:
            days += remaining / sales * month_days
            return days.quantize(TENTH, rounding=ROUND_HALF_UP)
        remaining -= sales
        days += month_days
        end = start - dt.timedelta(days=1)
    return None


def lateness(
    histories: Sequence[InvoiceHistory],
    as_of: dt.date,
    months: int,
    late_days: int = 30,
    *,
    skip_months: int = 0,
) -> LatenessStats:
    """Days late (at ``as_of``) of the invoices due in the ``months`` months up to ``as_of``.

    ``skip_months`` leaves out the most recent months: ``months=12, skip_months=3`` is the
    9 months before the last 3, the baseline the trend compares the last 3 months with.
    """
    start = as_of - relativedelta(months=months)
    end = as_of - relativedelta(months=skip_months)
    values: list[tuple[int, Decimal]] = []
    for history in histories:
        if not (start < history.due_date <= end):
            continue
        days = history.days_late_on(as_of)
        if days is None:
            continue
        values.append((max(0, days), history.invoice.total.amount))
    if not values:
        return LatenessStats(months - skip_months, 0, None, None, None)
    total_amount = sum((amount for _, amount in values), ZERO)
    average = Decimal(sum(days for days, _ in values)) / len(values)
    weighted = (
        sum((Decimal(days) * amount for days, amount in values), ZERO) / total_amount
        if total_amount
        else average
    )
    late_share = Decimal(sum(1 for days, _ in values if days > late_days)) / len(values)
    return LatenessStats(
        months=months - skip_months,
        invoices=len(values),
        average_days=average.quantize(TENTH, rounding=ROUND_HALF_UP),
        weighted_days=weighted.quantize(TENTH, rounding=ROUND_HALF_UP),
        late_30_share=late_share.quantize(Decimal("0.001"), rounding=ROUND_HALF_UP),
    )


def compute_figures(
    histories: Sequence[InvoiceHistory],
    credit_notes: Sequence[Invoice],
    pending: Sequence[PendingPayment],
    as_of: dt.date,
    config: RiskConfig,
    *,
    currency: str,
    credit_limit: Decimal | None = None,
) -> ReceivablesFigures:
    """All figures of one customer (or of the company when given every customer's records)."""
    buckets = ageing(histories, as_of, config)
    invoices_open = sum((b.amount for b in buckets), ZERO)
    credits = sum(
        (note.residual.amount for note in credit_notes if note.is_open and note.issue_date <= as_of), ZERO
    )
    open_amount = invoices_open - credits
    overdue = sum((b.amount for b in buckets[1:]), ZERO)
    over_60 = sum(
        (h.outstanding_on(as_of) for h in histories if (as_of - h.due_date).days > 60),
        ZERO,
    )
    ratio = None
    if credit_limit is not None and credit_limit > 0:
        ratio = (open_amount / credit_limit).quantize(Decimal("0.001"), rounding=ROUND_HALF_UP)
    pending_amount = sum((p.amount.amount for p in pending if p.date <= as_of), ZERO)
    year_ago = as_of - relativedelta(months=12) + dt.timedelta(days=1)
    return ReceivablesFigures(
        as_of=as_of,
        currency=currency,
        open_items=sum(b.count for b in buckets),
        open_amount=open_amount,
        invoices_open_amount=invoices_open,
        unallocated_credits=credits,
        overdue_amount=overdue,
        overdue_over_60=over_60,
        ageing=buckets,
        credit_limit=credit_limit,
        exposure_ratio=ratio,
        dso_simple=dso_simple(histories, as_of, config.dso_window_days),
        dso_countback=dso_countback(histories, as_of),
        lateness=tuple(
            lateness(histories, as_of, months, config.flags.late_days)
            for months in sorted({*config.trend_months, 12})
        ),
        baseline_lateness=lateness(histories, as_of, 12, config.flags.late_days, skip_months=3),
        pending_bank_payments=pending_amount,
        pending_count=sum(1 for p in pending if p.date <= as_of),
        sales_12m=sales_between(histories, year_ago, as_of),
        invoices_12m=sum(1 for h in histories if year_ago <= h.invoice.issue_date <= as_of),
    )


def month_ends(as_of: dt.date, months: int) -> list[dt.date]:
    """The last ``months`` month ends up to ``as_of`` (``as_of`` itself last), oldest first."""
    points = [as_of]
    current = as_of.replace(day=1) - dt.timedelta(days=1)
    while len(points) < months:
        points.append(current)
        current = current.replace(day=1) - dt.timedelta(days=1)
    return sorted(points)


@dataclass(frozen=True)
class DsoPoint:
    date: dt.date
    receivables: Decimal
    dso_simple: Decimal | None
    dso_countback: Decimal | None


def dso_trend(
    histories: Sequence[InvoiceHistory], as_of: dt.date, config: RiskConfig, months: int = 12
) -> list[DsoPoint]:
    """DSO (both methods) at each of the last ``months`` month ends, from the settlement history."""
    points = []
    for point in month_ends(as_of, months):
        receivables = receivables_on(histories, point)
        points.append(
            DsoPoint(
                date=point,
                receivables=receivables,
                dso_simple=dso_simple(histories, point, config.dso_window_days, receivables=receivables),
                dso_countback=dso_countback(histories, point, receivables=receivables),
            )
        )
    return points
