"""Configuration of the risk engine: the ``[risk]`` section of ``erp-recovery.toml``.

Every figure here has a documented default; a site changes what it disagrees with::

    [risk]
    ageing_buckets = [30, 60, 90]          # upper bounds (days overdue) of the ageing columns
    dso_window_days = 90                   # simple DSO: receivables / sales of the last N days x N

    [risk.weights]                         # points each factor can take off a score of 100
    lateness = 25
    trend = 10

    [risk.grades]                          # lowest score of each grade; below D is E
    A = 80

    [risk.credit_limit]
    grade_factors = { A = 1.5, B = 1.2, C = 1.0, D = 0.5, E = 0 }
    rounding = 500
"""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

Grade = Literal["A", "B", "C", "D", "E"]
GRADES: tuple[Grade, ...] = ("A", "B", "C", "D", "E")
DEFAULT_GRADE_FACTORS: dict[Grade, Decimal] = {
    "A": Decimal("1.5"),
    "B": Decimal("1.2"),
    "C": Decimal("1.0"),
    "D": Decimal("0.5"),
    "E": Decimal(0),
}


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ScoreWeights(_Section):
    """Maximum points each factor takes off the score (defaults add up to 100).

    - ``lateness``: share of invoices paid (or still open) more than 30 days late and the
      amount-weighted days late, over the last 12 months.
    - ``trend``: days late of the last 3 months against the last 12.
    - ``overdue``: share of the open amount that is overdue, heavier past 60 days.
    - ``disputes``: share of the invoices of the last 12 months in dispute.
    - ``partial_broken``: invoices paid in several instalments, and returned (bounced) payments.
    - ``exposure``: exposure against the credit limit.
    - ``relationship``: short or thin relationship (months since the first invoice, invoices a year).
    - ``external``: public signals: collective proceedings, closed or very young company.
    """

    lateness: Decimal = Decimal(25)
    trend: Decimal = Decimal(10)
    overdue: Decimal = Decimal(20)
    disputes: Decimal = Decimal(8)
    partial_broken: Decimal = Decimal(8)
    exposure: Decimal = Decimal(12)
    relationship: Decimal = Decimal(7)
    external: Decimal = Decimal(10)

    @model_validator(mode="after")
    def _positive(self) -> ScoreWeights:
        for name, value in self.items():
            if value < 0:
                raise ValueError(f"weight {name} must not be negative")
        if sum(value for _, value in self.items()) <= 0:
            raise ValueError("at least one weight must be positive")
        return self

    def items(self) -> list[tuple[str, Decimal]]:
        return [(name, getattr(self, name)) for name in type(self).model_fields]


class GradeThresholds(_Section):
    """Lowest score (0-100) of grades A-D; anything lower is E."""

    A: Decimal = Decimal(80)
    B: Decimal = Decimal(65)
    C: Decimal = Decimal(50)
    D: Decimal = Decimal(35)

    @model_validator(mode="after")
    def _ordered(self) -> GradeThresholds:
        if not (self.A > self.B > self.C > self.D >= 0):
            raise ValueError("grade thresholds must decrease strictly: A > B > C > D >= 0")
        return self

    def grade(self, score: Decimal) -> Grade:
        grades: tuple[Grade, ...] = ("A", "B", "C", "D")
        for grade in grades:
            if score >= getattr(self, grade):
                return grade
        return "E"


class CreditLimitPolicy(_Section):
    """Recommended limit = monthly sales x ((terms + billing cycle) / 30) x grade factor, capped, rounded down.

    Monthly sales are the invoiced amount of the last ``sales_months`` months divided by that number;
    the payment terms are the customer's (``default_terms_days`` when unknown, never less than
    ``min_terms_days``). The result is capped by the insured limit when one is known and rounded
    down to a multiple of ``rounding``.
    """

    sales_months: int = Field(default=12, ge=1, le=36)
    default_terms_days: int = Field(default=30, ge=0)
    min_terms_days: int = Field(default=30, ge=1)
    #: Days of invoicing carried on top of the terms (invoices of the current month).
    billing_cycle_days: int = Field(default=30, ge=0, le=90)
    grade_factors: dict[Grade, Decimal] = Field(default_factory=lambda: dict(DEFAULT_GRADE_FACTORS))
    rounding: Decimal = Decimal(500)
    #: Do not propose a change smaller than this share of the current limit (avoids noise).
    min_change_ratio: Decimal = Decimal("0.10")

    @field_validator("grade_factors")
    @classmethod
    def _all_grades(cls, value: dict[Grade, Decimal]) -> dict[Grade, Decimal]:
        missing = [grade for grade in GRADES if grade not in value]
        if missing:
            raise ValueError(f"grade_factors needs a factor for every grade; missing {', '.join(missing)}")
        return value


class FlagRules(_Section):
    """Thresholds of the risk flags."""

    #: chronic late payer: at least this share of the last 12 months' invoices > ``late_days`` late ...
    chronic_late_share: Decimal = Decimal("0.5")
    late_days: int = 30
    #: ... out of at least this many invoices.
    chronic_min_invoices: int = 4
    #: deteriorating: days late of the last 3 months exceed the 12-month figure by this many days.
    deteriorating_days: Decimal = Decimal(15)
    #: prescription approaching: an open invoice becomes time-barred within this many months.
    prescription_warning_months: int = 6
    #: over limit: exposure above the credit limit by more than this share.
    over_limit_tolerance: Decimal = Decimal(0)


class RiskWritebackSource(_Section):
    """Per-source override of ``[risk.writeback]`` (``[risk.writeback.sources.<source>]``)."""

    credit_limit: bool | None = None
    risk_flag: Literal["grade", "worst_flag", "off"] | None = None
    risk_field: str | None = None
    risk_values: dict[str, str] | None = None


class RiskWritebackSettings(_Section):
    """``[risk.writeback]``: what the risk engine proposes for the write-back plan.

    ``risk_flag``: ``grade`` proposes the grade letter A-E as the customer's risk class;
    ``worst_flag`` the most serious risk flag (or clears it when none applies); ``off`` nothing.
    ``risk_field`` is the write-back field that receives it: ``risk_flag`` for Odoo (a tag
    ``Risk: C`` or a partner field), ``risk_code`` for Sage 100 (code risque 1..10).
    ``risk_values`` translates the value first (``{ A = "1", B = "1", C = "2", D = "3", E = "4" }``
    for Sage risk codes); a value missing from a non-empty table is not proposed. Example::

        [risk.writeback.sources.sage-books]
        risk_field = "risk_code"
        risk_values = { A = "1", B = "1", C = "2", D = "3", E = "4" }
    """

    credit_limit: bool = True
    risk_flag: Literal["grade", "worst_flag", "off"] = "grade"
    risk_field: str = Field(default="risk_flag", pattern=r"^[a-z][a-z0-9_]*$")
    risk_values: dict[str, str] = Field(default_factory=dict)
    sources: dict[str, RiskWritebackSource] = Field(default_factory=dict)

    def for_source(self, source: str) -> RiskWritebackSettings:
        override = self.sources.get(source)
        if override is None:
            return self
        return self.model_copy(
            update={key: value for key, value in override.model_dump().items() if value is not None}
        )


class RiskConfig(_Section):
    """The ``[risk]`` section."""

    ageing_buckets: tuple[int, ...] = (30, 60, 90)
    dso_window_days: int = Field(default=90, ge=7, le=730)
    trend_months: tuple[int, ...] = (3, 6, 12)
    weights: ScoreWeights = Field(default_factory=ScoreWeights)
    grades: GradeThresholds = Field(default_factory=GradeThresholds)
    credit_limit: CreditLimitPolicy = Field(default_factory=CreditLimitPolicy)
    flags: FlagRules = Field(default_factory=FlagRules)
    writeback: RiskWritebackSettings = Field(default_factory=RiskWritebackSettings)

    @field_validator("ageing_buckets")
    @classmethod
    def _buckets(cls, value: tuple[int, ...]) -> tuple[int, ...]:
        if not value or any(b <= 0 for b in value) or list(value) != sorted(set(value)):
            raise ValueError("ageing_buckets must be increasing positive day counts, e.g. [30, 60, 90]")
        return value

    def bucket_labels(self) -> list[str]:
        labels = ["not due"]
        lower = 1
        for upper in self.ageing_buckets:
            labels.append(f"{lower}-{upper}")
            lower = upper + 1
        labels.append(f"> {self.ageing_buckets[-1]}")
        return labels
