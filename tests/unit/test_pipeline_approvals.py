"""Approval policy: which write-back changes apply by themselves and which wait for a person."""

from __future__ import annotations

import pytest

from erp_recovery.config import parse_config
from erp_recovery.errors import ConfigError
from erp_recovery.model.money import Money
from erp_recovery.pipeline.approvals import ApprovalPolicy
from erp_recovery.pipeline.stage import dependency_matches
from erp_recovery.writeback.plan import ActionChange, FieldChange, Reason, TargetRef

CUSTOMER = TargetRef(source="odoo-main", entity="customer", external_id="7", label="Deco Addict")
REASON = Reason(rule="risk.limit")


def limit(base: str | None, new: str | None, currency: str = "EUR") -> FieldChange:
    return FieldChange(
        target=CUSTOMER,
        field="credit_limit",
        base=Money.of(base, "EUR") if base is not None else None,
        new=Money.of(new, currency) if new is not None else None,
        reason=REASON,
    )


@pytest.mark.parametrize(
    ("base", "new", "decision", "why"),
    [
        ("10000", "9000", "auto", "cut of 10 %"),
        ("10000", "8000", "auto", "cut of 20 %"),
        ("10000", "7999", "wait", "cut of 20 % (10000.00 EUR → 7999.00 EUR) is over 20 %"),
        ("10000", "2500", "wait", "cut of 75 %"),
        ("10000", "12000", "auto", "raised"),
        (None, "5000", "wait", "first credit limit"),
        ("0", "5000", "wait", "first credit limit"),
        ("10000", None, "auto", "removed"),
    ],
)
def test_credit_limit_cuts_over_the_threshold_wait(base, new, decision, why):
    got, reason = ApprovalPolicy().decide(limit(base, new))
    assert got == decision
    assert why in reason


def test_a_currency_change_waits():
    assert ApprovalPolicy().decide(limit("10000", "9000", currency="USD"))[0] == "wait"


def test_kinds_not_listed_and_listed_values_wait():
    policy = ApprovalPolicy()
    blocked = FieldChange(target=CUSTOMER, field="blocked", base=False, new=True, reason=REASON)
    assert policy.decide(blocked) == ("wait", "blocked changes wait for approval (not in approvals.auto)")
    grade_e = FieldChange(target=CUSTOMER, field="risk_flag", base="C", new="E", reason=REASON)
    grade_b = FieldChange(target=CUSTOMER, field="risk_flag", base="C", new="B", reason=REASON)
    assert policy.decide(grade_e)[0] == "wait"
    assert policy.decide(grade_b)[0] == "auto"
    step = ActionChange(
        target=CUSTOMER, action="dunning_step", idempotency_key="dunning:acme:7:2026-11-20", reason=REASON
    )
    assert policy.decide(step)[0] == "auto"


def test_the_policy_is_read_from_the_approvals_section():
    config = parse_config(
        {
            "approvals": {
                "auto": ["dunning_step"],
                "credit_limit": {"max_auto_cut": 0.5, "raise": "wait", "first_limit": "auto"},
            }
        }
    )
    policy = config.section("approvals", ApprovalPolicy)
    assert policy.decide(limit("10000", "6000"))[0] == "wait"  # credit_limit is not in auto any more
    policy = policy.model_copy(update={"auto": ("credit_limit",)})
    assert policy.decide(limit("10000", "6000"))[0] == "auto"
    assert policy.decide(limit("10000", "16000"))[0] == "wait"
    assert policy.decide(limit(None, "6000"))[0] == "auto"
    bad = parse_config({"approvals": {"credit_limit": {"max_auto_cut": 2}}})
    with pytest.raises(ConfigError, match=r"approvals\.credit_limit\.max_auto_cut"):
        bad.section("approvals", ApprovalPolicy)


def test_a_dependency_on_sync_means_every_source_sync():
    assert dependency_matches("sync", "sync:odoo-main")
    assert dependency_matches("sync", "sync")
    assert not dependency_matches("sync", "syncing")
    assert not dependency_matches("assess", "sync:assess")
