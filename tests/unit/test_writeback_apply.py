"""The apply mechanism on an in-memory target (a dict of records, implementing the protocol):
classification, grouping, isolation of a refused change, read-back, policy, audit log in a store."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from erp_recovery.errors import AccessDeniedError, RemoteError, TransientError, UnsafePlanError
from erp_recovery.store import Store
from erp_recovery.writeback import store as wb_store
from erp_recovery.writeback.apply import StoreAuditLog, apply_plan
from erp_recovery.writeback.plan import ActionChange, FieldChange, Plan, Reason, TargetRef
from erp_recovery.writeback.policy import WritebackPolicy
from erp_recovery.writeback.target import Observed, WritebackTarget


class DictTarget:
    """A write-back target over a dict {external_id: {field: value}}: the protocol, nothing else."""

    def __init__(self, records: dict[str, dict[str, Any]]) -> None:
        self.records = records
        self.writes: list[list[str]] = []
        self.done: set[str] = set()
        self.refuse: dict[str, Exception] = {}
        self.ignore: set[str] = set()

    def read_current(self, changes: Sequence[FieldChange | ActionChange]) -> dict[str, Observed]:
        found = {}
        for change in changes:
            record = self.records.get(change.target.external_id)
            if record is None:
                continue
            if isinstance(change, FieldChange):
                found[change.slot] = Observed(value=record.get(change.field))
            else:
                found[change.slot] = Observed(done=change.idempotency_key in self.done)
        return found

    def write(self, changes: Sequence[FieldChange | ActionChange]) -> None:
        ids = [change.target.external_id for change in changes]
        for rid in ids:
            if rid in self.refuse:
                raise self.refuse[rid]
        self.writes.append(ids)
        for change in changes:
            if isinstance(change, ActionChange):
                self.done.add(change.idempotency_key)
            elif change.target.external_id not in self.ignore:
                self.records[change.target.external_id][change.field] = change.new


POLICY = WritebackPolicy(owned_fields=("risk_flag", "dunning_step"), min_population=0, max_share=1.0)


def change(rid: str, base: str | None, new: str, field: str = "risk_flag") -> FieldChange:
    return FieldChange(target=TargetRef(source="s", entity="customer", external_id=rid), field=field, base=base,
                       new=new, reason=Reason(rule="test"))  # fmt: skip


def plan_of(*changes: FieldChange | ActionChange) -> Plan:
    return Plan.build("s", changes, created_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC))


def run(plan: Plan, target: WritebackTarget, store: Store | None = None, **kwargs: Any) -> Any:
    options: dict[str, Any] = {"policy": POLICY, "population": {}}
    options.update(kwargs)
    audit = StoreAuditLog(store) if store is not None else None
    return apply_plan(plan, target, checksum=plan.checksum, audit=audit, **options)


@pytest.fixture
def store(tmp_path: Path) -> Store:
    instance = Store(f"sqlite:///{tmp_path / 'wb.sqlite'}")
    instance.upgrade()
    return instance


def test_outcomes_and_grouping(store: Store) -> None:
    target = DictTarget({"1": {"risk_flag": "A"}, "2": {"risk_flag": "A"}, "3": {"risk_flag": "C"},
                         "4": {"risk_flag": "B"}, "5": {"risk_flag": "X"}})  # fmt: skip
    plan = plan_of(change("1", "A", "C"), change("2", "A", "C"), change("3", "A", "C"), change("4", "A", "C"),
                   change("5", "X", "D"), change("6", "A", "C"), change("1", None, "x", field="trust"))  # fmt: skip
    report = run(plan, target, store)
    outcomes = {(r.change.target.external_id, r.change.name): r.outcome for r in report.results}
    assert outcomes == {
        ("1", "risk_flag"): "applied", ("2", "risk_flag"): "applied", ("3", "risk_flag"): "already_applied",
        ("4", "risk_flag"): "conflict", ("5", "risk_flag"): "applied", ("6", "risk_flag"): "conflict",
        ("1", "trust"): "not_owned",
    }  # fmt: skip
    assert sorted(target.writes) == [["1", "2"], ["5"]]  # identical writes grouped into one call
    assert target.records["4"]["risk_flag"] == "B"  # the conflict was left as it is
    assert report.status == "partial"
    with store.connect() as connection:
        rows = wb_store.run_entries(connection, report.run_id)
    assert len(rows) == len(plan.changes)


def test_a_refused_change_in_a_group_is_isolated() -> None:
    target = DictTarget({rid: {"risk_flag": "A"} for rid in ("1", "2", "3")})
    target.refuse["2"] = RemoteError("Odoo refused res.partner.write: You cannot do that.")
    report = run(plan_of(*(change(rid, "A", "C") for rid in ("1", "2", "3"))), target)
    assert {r.change.target.external_id: r.outcome for r in report.results} == {
        "1": "applied",
        "2": "failed",
        "3": "applied",
    }
    assert "You cannot do that" in str(report.of("failed")[0].detail)


def test_a_transient_failure_fails_the_group_and_the_next_apply_completes_it() -> None:
    target = DictTarget({"1": {"risk_flag": "A"}})
    target.refuse["1"] = TransientError("Odoo answered HTTP 503")
    plan = plan_of(change("1", "A", "C"))
    assert run(plan, target).counts()["failed"] == 1
    del target.refuse["1"]
    assert run(plan, target).counts()["applied"] == 1


def test_an_access_error_stops_the_apply_and_skips_the_rest() -> None:
    target = DictTarget({"1": {"risk_flag": "A"}, "2": {"risk_flag": "B"}})
    target.refuse["1"] = AccessDeniedError("Odoo user 'bot' lacks write access to res.partner")
    report = run(plan_of(change("1", "A", "C"), change("2", "B", "D")), target)
    assert report.status == "failed" and "lacks write access" in str(report.error)
    assert report.counts()["skipped"] == 2 and target.writes == []


def test_a_write_that_does_not_stick_is_failed() -> None:
    target = DictTarget({"1": {"risk_flag": "A"}})
    target.ignore.add("1")
    report = run(plan_of(change("1", "A", "C")), target)
    assert report.of("failed")[0].detail.startswith("written, but reading it back gives 'A'")


def test_actions_are_done_once() -> None:
    step = ActionChange(target=TargetRef(source="s", entity="invoice", external_id="9"), action="dunning_step",
                        idempotency_key="dunning:9:1", params={"level": 1}, reason=Reason(rule="dunning"))  # fmt: skip
    target = DictTarget({"9": {}})
    plan = plan_of(step)
    assert run(plan, target).counts()["applied"] == 1
    assert run(plan, target).counts()["already_applied"] == 1
    assert target.writes == [["9"]]


def test_the_safety_share() -> None:
    policy = WritebackPolicy(owned_fields=("risk_flag",), max_share=0.5, min_population=4)
    target = DictTarget({rid: {"risk_flag": "A"} for rid in "123"})
    plan = plan_of(*(change(rid, "A", "B") for rid in "123"))
    with pytest.raises(UnsafePlanError, match=r"changes 3 of 4 customer records \(75%, limit 50%\)"):
        run(plan, target, policy=policy, population={"customer": 4})
    assert target.writes == []
    assert run(plan, target, policy=policy, population={"customer": 3}, force=True).counts()["applied"] == 3
    small = WritebackPolicy(owned_fields=("risk_flag",), max_share=0.5, min_population=10)
    assert run(plan, target, policy=small, population={"customer": 4}).counts()["already_applied"] == 3


def test_per_source_policy() -> None:
    policy = WritebackPolicy.model_validate(
        {
            "owned_fields": ["credit_limit"],
            "sources": {"s": {"owned_fields": ["risk_flag"], "max_share": 0.5}},
        }
    )
    chosen = policy.for_source("s")
    assert chosen.owned_fields == ("risk_flag",) and chosen.max_share == 0.5
    assert policy.for_source("other").owned_fields == ("credit_limit",)
