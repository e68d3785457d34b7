"""Plans: values, keys and slots, checksum and tampering, JSON round trip, rendering."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from pydantic import ValidationError

from erp_recovery.errors import UnsafePlanError
from erp_recovery.model.money import Money
from erp_recovery.writeback.plan import (
    ActionChange,
    FieldChange,
    Plan,
    Proposal,
    Reason,
    TargetRef,
    same_value,
)
from erp_recovery.writeback.render import render_markdown, render_text

WHEN = dt.datetime(2026, 11, 30, 8, 0, tzinfo=dt.UTC)
REASON = Reason(rule="risk.limit", explanation="grade C: 30 days of sales", decision_id="assessment:42")


def target(external_id: str = "10", entity: str = "customer") -> TargetRef:
    return TargetRef(
        source="odoo-main", entity=entity, external_id=external_id, label=f"Customer {external_id}"
    )  # type: ignore[arg-type]


def credit_limit(external_id: str, base: str | None, new: str) -> FieldChange:
    return FieldChange(
        target=target(external_id),
        field="credit_limit",
        base=Money.of(base, "EUR") if base else None,
        new=Money.of(new, "EUR"),
        reason=REASON,
    )


def step(invoice: str = "25", level: int = 2) -> ActionChange:
    return ActionChange(
        target=target(invoice, "invoice"),
        action="dunning_step",
        idempotency_key=f"dunning:invoice-{invoice}:level-{level}",
        params={"level": level, "summary": "Second reminder", "deadline": "2026-12-07"},
        reason=Reason(rule="dunning.step"),
    )


def test_values_are_normalised_and_compared_as_the_write_back_sees_them() -> None:
    change = credit_limit("10", "30000", "25000.5")
    assert change.new == Money.of("25000.50", "EUR")
    assert same_value(Money.of("25000.5", "EUR"), Money.of("25000.50", "EUR"))
    assert not same_value(Money.of("1", "EUR"), Money.of("1", "USD"))
    assert same_value(("B", "A"), ("A", "B"))
    assert not same_value(True, 1) and not same_value(None, "")


def test_keys_and_slots() -> None:
    a, b = credit_limit("10", "30000", "25000"), credit_limit("10", "30000", "26000")
    assert a.slot == b.slot == "odoo-main/customer/10/credit_limit"
    assert a.key != b.key and a.key == credit_limit("10", "30000", "25000").key
    assert step().slot.endswith("/dunning_step/dunning:invoice-25:level-2")


def test_plan_checksum_round_trip_and_order() -> None:
    plan = Plan.build("odoo-main", [step(), credit_limit("9", None, "5000"), credit_limit("10", "30000", "25000")],
                      created_by="risk", created_at=WHEN)  # fmt: skip
    assert [c.target.external_id for c in plan.changes] == ["9", "10", "25"]
    assert plan.id == f"plan-{plan.checksum[:12]}"
    again = Plan.from_json(plan.to_json())
    assert again == plan
    again.verify(plan.checksum[:12])
    assert json.loads(plan.to_json())["changes"][0]["new"] == {"amount": "5000.00", "currency": "EUR"}
    rebuilt = Plan.build("odoo-main", reversed(plan.changes), created_by="risk", created_at=WHEN)
    assert rebuilt.checksum == plan.checksum


def test_a_changed_plan_or_another_checksum_is_refused() -> None:
    plan = Plan.build("odoo-main", [credit_limit("10", "30000", "25000")], created_at=WHEN)
    data = json.loads(plan.to_json())
    data["changes"][0]["new"]["amount"] = "99999.00"
    with pytest.raises(UnsafePlanError, match="modified after it was made"):
        Plan.model_validate(data).verify()
    with pytest.raises(UnsafePlanError, match="does not match"):
        plan.verify("abc")
    with pytest.raises(UnsafePlanError, match="does not match"):
        plan.verify("0" * 12)


def test_a_plan_targets_one_source_and_each_slot_once() -> None:
    other = FieldChange(target=TargetRef(source="sage", entity="customer", external_id="1"), field="credit_limit",
                        new=Money.of(1, "EUR"), reason=REASON)  # fmt: skip
    with pytest.raises(ValidationError, match="one source"):
        Plan.build("odoo-main", [other])
    with pytest.raises(ValidationError, match="same target"):
        Plan.build("odoo-main", [credit_limit("10", None, "1"), credit_limit("10", None, "2")])


def test_idempotency_keys_are_plain_text() -> None:
    with pytest.raises(ValidationError):
        ActionChange(target=target(), action="dunning_step", idempotency_key="<b>x</b>", reason=REASON)


def test_proposal_becomes_a_change_with_its_base() -> None:
    proposal = Proposal(target=target(), field="risk_flag", new="C", reason=REASON)
    assert proposal.as_change(base="B").describe() == "risk_flag: B → C"


def test_rendering() -> None:
    plan = Plan.build(
        "odoo-main", [credit_limit("10", "30000", "25000"), step()], created_by="risk", created_at=WHEN
    )
    text = render_text(plan)
    assert "customer 10 (Customer 10): credit_limit: 30000.00 EUR → 25000.00 EUR" in text
    assert "because risk.limit: grade C: 30 days of sales" in text
    assert f"--checksum {plan.checksum[:16]}" in text
    markdown = render_markdown(plan)
    assert markdown.splitlines()[0] == f"## Write-back plan `{plan.id}` for `odoo-main`"
    assert (
        "| customer 10 (Customer 10) | credit_limit | 30000.00 EUR | 25000.00 EUR | risk.limit: grade C: 30 days of sales |"
        in markdown
    )
    assert "Nothing to change" in render_text(Plan.build("odoo-main", [], created_at=WHEN))
