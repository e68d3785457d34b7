"""The rows of the ``ageing``, ``dso`` and ``risk`` reports, from a :class:`PortfolioAssessment`.

A :class:`ReportTable` is plain data (title, columns, rows of text/Decimal, a total row), so the
terminal, CSV and HTML renderers print the same figures.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Literal

from erp_recovery.engines.risk import PortfolioAssessment

ReportKind = Literal["ageing", "dso", "risk"]
REPORT_KINDS: tuple[ReportKind, ...] = ("ageing", "dso", "risk")

Cell = str | Decimal | int | None


@dataclass(frozen=True)
class ReportTable:
    title: str
    columns: tuple[str, ...]
    rows: tuple[tuple[Cell, ...], ...]
    total: tuple[Cell, ...] | None = None
    #: Columns holding numbers (right-aligned, not quoted as text in CSV).
    numeric: frozenset[str] = field(default_factory=frozenset)
    notes: tuple[str, ...] = ()


def _money(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.01"))


def ageing_table(assessment: PortfolioAssessment) -> ReportTable:
    labels = [bucket.label for bucket in assessment.company.ageing]
    columns = ("customer", "name", *labels, "open", "overdue", "credits", "pending bank")
    rows: list[tuple[Cell, ...]] = []
    for item in sorted(assessment.customers, key=lambda a: -a.figures.open_amount):
        f = item.figures
        if f.invoices_open_amount == 0 and f.unallocated_credits == 0 and f.pending_bank_payments == 0:
            continue
        rows.append(
            (
                item.customer_id,
                item.customer.name,
                *(_money(b.amount) for b in f.ageing),
                _money(f.open_amount),
                _money(f.overdue_amount),
                _money(f.unallocated_credits),
                _money(f.pending_bank_payments),
            )
        )
    c = assessment.company
    total: tuple[Cell, ...] = (
        "total",
        "",
        *(_money(b.amount) for b in c.ageing),
        _money(c.open_amount),
        _money(c.overdue_amount),
        _money(c.unallocated_credits),
        _money(c.pending_bank_payments),
    )
    return ReportTable(
        title=f"Aged balance at {assessment.as_of.isoformat()} ({assessment.currency}, by days past due)",
        columns=columns,
        rows=tuple(rows),
        total=total,
        numeric=frozenset(columns[2:]),
        notes=("pending bank: credits matched to the customer but not booked in the ERP; not deducted",),
    )


def dso_table(assessment: PortfolioAssessment) -> ReportTable:
    columns = ("month end", "receivables", "DSO countback", "DSO simple")
    rows = tuple(
        (point.date.isoformat(), _money(point.receivables), point.dso_countback, point.dso_simple)
        for point in assessment.dso_trend
    )
    return ReportTable(
        title=f"DSO over 12 months to {assessment.as_of.isoformat()} ({assessment.currency})",
        columns=columns,
        rows=rows,
        numeric=frozenset(columns[1:]),
        notes=(
            "countback: receivables covered by walking back month by month through invoiced sales",
            "simple: receivables / sales of the last 90 days x 90 (window set by risk.dso_window_days)",
        ),
    )


def risk_table(assessment: PortfolioAssessment) -> ReportTable:
    columns = (
        "customer",
        "name",
        "score",
        "grade",
        "open",
        "overdue",
        "limit",
        "recommended",
        "DSO",
        "days late 12m",
        "flags",
    )
    rows: list[tuple[Cell, ...]] = []
    for item in sorted(assessment.customers, key=lambda a: (a.score.score, a.customer_id)):
        f = item.figures
        year = f.lateness_for(12)
        rows.append(
            (
                item.customer_id,
                item.customer.name,
                item.score.score,
                item.score.grade,
                _money(f.open_amount),
                _money(f.overdue_amount),
                _money(f.credit_limit) if f.credit_limit is not None else None,
                _money(item.credit_limit.recommended.amount),
                f.dso_countback,
                year.weighted_days if year else None,
                ", ".join(flag.code for flag in item.flags),
            )
        )
    return ReportTable(
        title=f"Customer risk at {assessment.as_of.isoformat()} ({assessment.currency}), riskiest first",
        columns=columns,
        rows=tuple(rows),
        numeric=frozenset({"score", "open", "overdue", "limit", "recommended", "DSO", "days late 12m"}),
        notes=("erp-recovery assess --explain CUSTOMER prints the reasoning of a grade",),
    )


def report_tables(assessment: PortfolioAssessment, kind: ReportKind) -> Sequence[ReportTable]:
    if kind == "ageing":
        return [ageing_table(assessment)]
    if kind == "dso":
        return [dso_table(assessment)]
    return [risk_table(assessment)]
