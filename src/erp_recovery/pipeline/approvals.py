"""Approval policy: which write-back changes apply by themselves and which wait for a person.

Read from the ``[approvals]`` section::

    [approvals]
    auto = ["dunning_step", "dunning_status", "risk_flag", "credit_limit"]   # change kinds applied by the pipeline
    wait_values = { risk_flag = ["E", "insolvency_proceedings"], trust = ["bad"] }
    [approvals.credit_limit]
    max_auto_cut = 0.20       # a cut of more than 20 % waits (None: any cut applies by itself)
    raise = "auto"            # "wait": raises wait too
    first_limit = "wait"      # setting a limit where there was none (0 or empty) waits

A change kind is a write-back field (``credit_limit``, ``risk_flag``, ``trust``, ``blocked``...) or
action (``dunning_step``). Kinds not listed in ``auto`` always wait — a block flag or anything a
new engine proposes waits until the policy says otherwise. Approving never bypasses the
write-back's own guards: owned fields, the safety share (``[writeback] max_share``), the re-read
and conflict check all still apply when an approved change is applied.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from erp_recovery.model.money import Money
from erp_recovery.writeback.plan import ActionChange, FieldChange, canonical_value

Decision = Literal["auto", "wait"]


class CreditLimitRule(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    max_auto_cut: float | None = Field(default=0.20, ge=0, le=1)
    raise_: Decision = Field(default="auto", alias="raise")
    first_limit: Decision = "wait"


class ApprovalPolicy(BaseModel):
    """The ``[approvals]`` section."""

    model_config = ConfigDict(extra="forbid")

    auto: tuple[str, ...] = ("dunning_step", "dunning_status", "risk_flag", "credit_limit")
    wait_values: dict[str, tuple[str, ...]] = Field(
        default_factory=lambda: {"risk_flag": ("E", "insolvency_proceedings"), "trust": ("bad",)}
    )
    credit_limit: CreditLimitRule = Field(default_factory=CreditLimitRule)

    def decide(self, change: FieldChange | ActionChange) -> tuple[Decision, str]:
        """("auto", why) or ("wait", why a person must see it first)."""
        name = change.name
        if name not in self.auto:
            return "wait", f"{name} changes wait for approval (not in approvals.auto)"
        if isinstance(change, ActionChange):
            return "auto", f"{name} applies automatically"
        waiting_values = self.wait_values.get(name, ())
        shown = canonical_value(change.new)
        if waiting_values and isinstance(change.new, str) and change.new in waiting_values:
            return "wait", f"{name} = {shown!r} waits for approval (approvals.wait_values)"
        if name == "credit_limit":
            return self._credit_limit(change)
        return "auto", f"{name} applies automatically"

    def _credit_limit(self, change: FieldChange) -> tuple[Decision, str]:
        rule = self.credit_limit
        base, new = change.base, change.new
        base_amount = base.amount if isinstance(base, Money) else None
        if new is None or (isinstance(new, Money) and new.amount == 0):
            return rule.raise_, "credit limit removed (no limit)"
        if not isinstance(new, Money):
            return "wait", "credit limit value is not an amount"
        if base_amount is None or base_amount == 0:
            return rule.first_limit, f"first credit limit set ({new})"
        assert isinstance(base, Money)
        if base.currency != new.currency:
            return "wait", f"credit limit currency changes ({base.currency} → {new.currency})"
        if new.amount >= base_amount:
            return rule.raise_, f"credit limit raised from {base} to {new}"
        cut = (base_amount - new.amount) / base_amount
        percent = (cut * 100).quantize(Decimal("1"))
        if rule.max_auto_cut is not None and cut > Decimal(str(rule.max_auto_cut)):
            limit = (Decimal(str(rule.max_auto_cut)) * 100).quantize(Decimal("1"))
            return "wait", f"credit limit cut of {percent} % ({base} → {new}) is over {limit} %"
        return "auto", f"credit limit cut of {percent} % ({base} → {new})"
