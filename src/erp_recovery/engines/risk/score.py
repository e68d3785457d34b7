"""Explainable risk score (0-100, 100 = safest) and grade A-E of a customer.

Each factor measures a severity between 0 and 1 from the customer's figures and takes
``weight × severity`` points off; the score is ``100 × (1 − Σ points / Σ weights)``, rounded to an
integer, and the grade follows the configured thresholds. An open collective proceeding caps the
grade at E whatever the score. Every factor carries the sentence that justifies its points, so
``assess --explain`` prints the reasoning, not only the number.

Severities (documented defaults, see :class:`~erp_recovery.engines.risk.config.ScoreWeights`):

- lateness = 0.6 × min(1, share > 30 d late / 0.6) + 0.4 × min(1, weighted days late / 60), over the
  last 12 months, or over the last 3 months when that is worse
- trend = clamp((weighted days late of the last 3 months − of the 9 months before) / 25, 0, 1)
- overdue = min(1, 0.6 × overdue share + 0.8 × share overdue > 60 d)
- disputes = min(1, 4 × share of the last 12 months' invoices disputed)
- partial_broken = min(1, 1.5 × share paid in instalments + 0.35 × returned payments)
- exposure = clamp((exposure / limit − 0.8) / 0.5, 0, 1); 0 when no limit is set
- relationship = 0.6 × (1 − min(1, months / 24)) + 0.4 × (1 − min(1, invoices a year / 6))
- external = 1 for an open collective proceeding or a closed company, 0.5 for a company less than
  two years old, else 0
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from dateutil.relativedelta import relativedelta

from erp_recovery.engines.risk.config import Grade, RiskConfig
from erp_recovery.engines.risk.figures import LatenessStats, ReceivablesFigures
from erp_recovery.engines.risk.portfolio import InvoiceHistory
from erp_recovery.engines.signals.models import CompanySignals
from erp_recovery.model.records import BankTransaction

ZERO = Decimal(0)
ONE = Decimal(1)


def _clamp(value: Decimal) -> Decimal:
    return max(ZERO, min(ONE, value))


def _pct(value: Decimal) -> str:
    return f"{(value * 100).quantize(ONE, rounding=ROUND_HALF_UP)} %"


@dataclass(frozen=True)
class FactorResult:
    name: str
    weight: Decimal
    severity: Decimal
    sentence: str

    @property
    def points(self) -> Decimal:
        """Points taken off (before normalisation to 100)."""
        return (self.weight * self.severity).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class RiskScore:
    score: int
    grade: Grade
    factors: tuple[FactorResult, ...]
    overrides: tuple[str, ...] = ()

    def explain(self, title: str = "") -> str:
        lines = [f"{title}score {self.score}/100, grade {self.grade}".strip()]
        total_weight = sum((f.weight for f in self.factors), ZERO) or ONE
        for factor in sorted(self.factors, key=lambda f: -f.points):
            contribution = (factor.weight * factor.severity * 100 / total_weight).quantize(Decimal("0.1"))
            shown = f"-{contribution}" if contribution > 0 else "0.0"
            lines.append(f"  {shown:>6}  {factor.name:<15} {factor.sentence}")
        lines.extend(f"  grade override: {reason}" for reason in self.overrides)
        return "\n".join(lines)


@dataclass(frozen=True)
class ScoreInputs:
    """What the factors read besides the figures."""

    histories: Sequence[InvoiceHistory]
    returned_payments: Sequence[BankTransaction]
    signals: CompanySignals | None
    as_of: dt.date


def _lateness_severity(stats: LatenessStats | None) -> Decimal:
    if stats is None or not stats.invoices or stats.late_30_share is None or stats.weighted_days is None:
        return ZERO
    return _clamp(
        Decimal("0.6") * min(ONE, stats.late_30_share / Decimal("0.6"))
        + Decimal("0.4") * min(ONE, stats.weighted_days / 60)
    )


def _lateness(figures: ReceivablesFigures, weight: Decimal) -> FactorResult:
    stats, recent = figures.lateness_for(12), figures.lateness_for(3)
    if stats is None or not stats.invoices or stats.late_30_share is None or stats.weighted_days is None:
        return FactorResult("lateness", weight, ZERO, "no invoice fell due in the last 12 months")
    severity = _lateness_severity(stats)
    sentence = (
        f"paid {_pct(stats.late_30_share)} of invoices more than 30 days late in the last 12 months "
        f"({stats.invoices} invoices; {stats.weighted_days} days late on average, weighted by amount)"
    )
    recent_severity = _lateness_severity(recent)
    if recent is not None and recent.late_30_share is not None and recent_severity > severity:
        severity = recent_severity
        sentence += f"; {_pct(recent.late_30_share)} over the last 3 months"
    return FactorResult("lateness", weight, severity, sentence)


def _trend(figures: ReceivablesFigures, weight: Decimal) -> FactorResult:
    recent, baseline = figures.lateness_for(3), figures.baseline_lateness
    if recent is None or recent.weighted_days is None or baseline.weighted_days is None:
        return FactorResult(
            "trend", weight, ZERO, "not enough invoices to compare the last 3 months with before"
        )
    delta = recent.weighted_days - baseline.weighted_days
    severity = _clamp(delta / 25)
    if delta > 0:
        sentence = (
            f"days late rose from {baseline.weighted_days} (the 9 months before) to {recent.weighted_days} "
            "(last 3 months)"
        )
    else:
        sentence = (
            f"days late stable or improving: {recent.weighted_days} (last 3 months) vs {baseline.weighted_days} "
            "(the 9 months before)"
        )
    return FactorResult("trend", weight, severity, sentence)


def _overdue(figures: ReceivablesFigures, weight: Decimal) -> FactorResult:
    if figures.invoices_open_amount <= 0:
        return FactorResult("overdue", weight, ZERO, "nothing open")
    share = figures.overdue_amount / figures.invoices_open_amount
    share_60 = figures.overdue_over_60 / figures.invoices_open_amount
    severity = _clamp(Decimal("0.6") * share + Decimal("0.8") * share_60)
    sentence = (
        f"{_pct(share)} of the open amount is overdue ({figures.overdue_amount:.2f} {figures.currency}), "
        f"{_pct(share_60)} by more than 60 days"
    )
    return FactorResult("overdue", weight, severity, sentence)


def _disputes(inputs: ScoreInputs, weight: Decimal) -> FactorResult:
    start = inputs.as_of - relativedelta(months=12)
    recent = [h for h in inputs.histories if start < h.invoice.issue_date <= inputs.as_of]
    if not recent:
        return FactorResult("disputes", weight, ZERO, "no invoice in the last 12 months")
    disputed = [h for h in recent if h.invoice.disputed]
    share = Decimal(len(disputed)) / len(recent)
    open_disputes = sum(1 for h in disputed if h.invoice.is_open)
    sentence = f"{len(disputed)} of {len(recent)} invoices of the last 12 months disputed ({open_disputes} still open)"
    return FactorResult("disputes", weight, _clamp(4 * share), sentence)


def _partial_broken(inputs: ScoreInputs, weight: Decimal) -> FactorResult:
    start = inputs.as_of - relativedelta(months=12)
    paid = [h for h in inputs.histories if h.paid_on is not None and start < h.paid_on <= inputs.as_of]
    open_partial = [
        h
        for h in inputs.histories
        if h.invoice.is_open and h.instalments > 0 and h.invoice.issue_date <= inputs.as_of
    ]
    considered = len(paid) + len(open_partial)
    in_instalments = sum(1 for h in paid if h.instalments > 1) + len(open_partial)
    share = Decimal(in_instalments) / considered if considered else ZERO
    returned = [t for t in inputs.returned_payments if start < t.booking_date <= inputs.as_of]
    severity = _clamp(Decimal("1.5") * share + Decimal("0.35") * len(returned))
    sentence = (
        f"{in_instalments} of {considered} invoices paid in several instalments, "
        f"{len(returned)} returned payment(s) in the last 12 months"
    )
    return FactorResult("partial_broken", weight, severity, sentence)


def _exposure(figures: ReceivablesFigures, weight: Decimal) -> FactorResult:
    if figures.credit_limit is None or figures.exposure_ratio is None:
        return FactorResult("exposure", weight, ZERO, "no credit limit set in the ERP")
    severity = _clamp((figures.exposure_ratio - Decimal("0.8")) / Decimal("0.5"))
    sentence = (
        f"exposure {figures.open_amount:.2f} {figures.currency} is {_pct(figures.exposure_ratio)} of the credit "
        f"limit {figures.credit_limit:.2f}"
    )
    return FactorResult("exposure", weight, severity, sentence)


def _relationship(inputs: ScoreInputs, figures: ReceivablesFigures, weight: Decimal) -> FactorResult:
    issued = [h.invoice.issue_date for h in inputs.histories if h.invoice.issue_date <= inputs.as_of]
    if not issued:
        return FactorResult("relationship", weight, ONE, "no invoice yet: new customer")
    delta = relativedelta(inputs.as_of, min(issued))
    months = delta.years * 12 + delta.months
    yearly = figures.invoices_12m
    severity = _clamp(
        Decimal("0.6") * (ONE - min(ONE, Decimal(months) / 24))
        + Decimal("0.4") * (ONE - min(ONE, Decimal(yearly) / 6))
    )
    sentence = f"customer for {months} months, {yearly} invoices in the last 12 months"
    return FactorResult("relationship", weight, severity, sentence)


def _external(inputs: ScoreInputs, weight: Decimal) -> FactorResult:
    signals = inputs.signals
    if signals is None:
        return FactorResult("external", weight, ZERO, "no external signal (sources disabled or no SIREN)")
    if signals.restricted:
        return FactorResult(
            "external", weight, ZERO, "the company restricts its public data (statut de diffusion)"
        )
    proceeding = signals.open_proceeding
    if proceeding is not None:
        sentence = (
            f"BODACC {proceeding.published_on.isoformat()}: {proceeding.nature}; declare the claim by "
            f"{proceeding.claim_deadline.isoformat()}"
        )
        return FactorResult("external", weight, ONE, sentence)
    status = signals.status
    if status is not None and not status.active:
        closed = f" on {status.closed_on.isoformat()}" if status.closed_on else ""
        return FactorResult("external", weight, ONE, f"company closed{closed} (recherche-entreprises)")
    if (
        status is not None
        and status.created_on is not None
        and status.created_on > inputs.as_of - relativedelta(years=2)
    ):
        return FactorResult(
            "external", weight, Decimal("0.5"), f"company created on {status.created_on.isoformat()}"
        )
    return FactorResult(
        "external", weight, ZERO, f"active company, no collective proceeding (checked {signals.checked_on})"
    )


def score_customer(figures: ReceivablesFigures, inputs: ScoreInputs, config: RiskConfig) -> RiskScore:
    weights = config.weights
    factors = (
        _lateness(figures, weights.lateness),
        _trend(figures, weights.trend),
        _overdue(figures, weights.overdue),
        _disputes(inputs, weights.disputes),
        _partial_broken(inputs, weights.partial_broken),
        _exposure(figures, weights.exposure),
        _relationship(inputs, figures, weights.relationship),
        _external(inputs, weights.external),
    )
    total_weight = sum((w for _, w in weights.items()), ZERO)
    lost = sum((f.weight * f.severity for f in factors), ZERO)
    score = int((100 * (ONE - lost / total_weight)).quantize(ONE, rounding=ROUND_HALF_UP))
    grade = config.grades.grade(Decimal(score))
    overrides: list[str] = []
    if inputs.signals is not None and inputs.signals.open_proceeding is not None and grade != "E":
        overrides.append(
            f"collective proceeding published on {inputs.signals.open_proceeding.published_on}: grade E"
        )
        grade = "E"
    return RiskScore(score=max(0, min(100, score)), grade=grade, factors=factors, overrides=tuple(overrides))
