"""Write-back to the Odoo stand-in through the real connector and a real store: plan, apply,
conflicts, idempotence, crash and rerun, retries, access errors, safety limits, audit log."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from odoo_standin import OdooStandin
from odoo_standin.helpers import PASSWORD_ENV, SOURCE, app_config, sqlite_store

from erp_recovery.errors import UnsafePlanError
from erp_recovery.model.money import Money
from erp_recovery.store import Store
from erp_recovery.sync.registry import create_connector
from erp_recovery.writeback import (
    ActionChange,
    Plan,
    Proposal,
    Reason,
    StoreAuditLog,
    TargetRef,
    WritebackPolicy,
    apply_plan,
    make_plan,
)
from erp_recovery.writeback import store as wb_store

OWNED = ("credit_limit", "risk_flag", "dunning_step", "trust")
POLICY = WritebackPolicy(owned_fields=OWNED)


@pytest.fixture(autouse=True)
def _password(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(PASSWORD_ENV, "admin")


@pytest.fixture
def standin() -> Iterator[OdooStandin]:
    with OdooStandin() as server:
        yield server


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    instance = sqlite_store(tmp_path)
    yield instance
    instance.dispose()


def connector(standin: OdooStandin, **settings: Any) -> Any:
    return create_connector(app_config(standin, **settings).source(SOURCE))


def customer(external_id: str, label: str | None = None) -> TargetRef:
    return TargetRef(source=SOURCE, entity="customer", external_id=external_id, label=label)


def invoice(external_id: str) -> TargetRef:
    return TargetRef(source=SOURCE, entity="invoice", external_id=external_id)


def limit(external_id: str, amount: str) -> Proposal:
    return Proposal(
        target=customer(external_id), field="credit_limit", new=Money.of(amount, "USD"),
        reason=Reason(rule="risk.limit", explanation="grade C"),
    )  # fmt: skip


def dunning(invoice_id: str, level: int) -> ActionChange:
    return ActionChange(
        target=invoice(invoice_id), action="dunning_step", idempotency_key=f"dunning:invoice-{invoice_id}:level-{level}",
        params={"level": level, "summary": f"Reminder {level}", "message": f"Reminder {level} sent by e-mail.",
                "deadline": "2026-12-01"},
        reason=Reason(rule="dunning.step"),
    )  # fmt: skip


def plan_of(standin: OdooStandin, proposals: Sequence[Proposal | ActionChange], **settings: Any) -> Plan:
    return make_plan(SOURCE, connector(standin, **settings), proposals, created_by="test").plan


def apply(
    standin: OdooStandin,
    store: Store,
    plan: Plan,
    *,
    policy: WritebackPolicy = POLICY,
    settings: dict[str, Any] | None = None,
    **kwargs: Any,
) -> Any:
    target = connector(standin, **(settings or {}))
    try:
        return apply_plan(plan, target, checksum=plan.checksum, policy=policy, population=kwargs.pop("population", {}),
                          audit=StoreAuditLog(store), **kwargs)  # fmt: skip
    finally:
        target.close()


def partner(standin: OdooStandin, rid: int) -> dict[str, Any]:
    return standin.db.records["res.partner"][rid]


def test_a_plan_reads_base_values_and_drops_what_is_already_so(standin: OdooStandin) -> None:
    draft = make_plan(
        SOURCE,
        connector(standin),
        [limit("10", "25000"), limit("11", "10000"), limit("4242", "1"), dunning("25", 1)],
        created_by="risk",
    )
    changes = {change.target.external_id: change for change in draft.plan.changes}
    assert set(changes) == {"10", "25"}
    assert changes["10"].base == Money.of("30000.00", "USD")  # type: ignore[union-attr]
    assert sorted(why for _item, why in draft.dropped) == [
        "already has this value",
        "the record does not exist upstream",
    ]


def test_a_plan_applied_twice_changes_the_server_once(standin: OdooStandin, store: Store) -> None:
    plan = plan_of(
        standin,
        [limit("10", "25000"), limit("16", "25000"), limit("11", "8000"),
         Proposal(target=customer("15"), field="risk_flag", new="C", reason=Reason(rule="risk.grade")),
         dunning("25", 2)],
    )  # fmt: skip
    standin.reset_counters()
    first = apply(standin, store, plan)
    assert first.status == "succeeded" and first.counts()["applied"] == 5
    writes = [
        (c.model, c.method) for c in standin.db.calls if c.method in ("write", "create", "message_post")
    ]
    # 10 and 16 get the same limit: one write for both; one for 11; the tag created then linked;
    # the activity created and the message posted.
    assert writes.count(("res.partner", "write")) == 3
    assert ("res.partner.category", "create") in writes and ("mail.activity", "create") in writes
    assert (
        partner(standin, 10)["credit_limit"] == 25000.0
        and partner(standin, 16)["use_partner_credit_limit"] is True
    )
    tag_id = next(
        rid for rid, tag in standin.db.records["res.partner.category"].items() if tag["name"] == "Risk: C"
    )
    assert tag_id in partner(standin, 15)["category_id"]
    stamps = {rid: record["write_date"] for rid, record in standin.db.records["res.partner"].items()}

    standin.reset_counters()
    second = apply(standin, store, plan)
    assert second.status == "succeeded" and second.counts()["already_applied"] == 5
    assert not [c for c in standin.db.calls if c.method in ("write", "create", "message_post", "unlink")]
    assert {rid: record["write_date"] for rid, record in standin.db.records["res.partner"].items()} == stamps
    activities = [a for a in standin.db.records["mail.activity"].values() if a.get("res_id") == 25]
    messages = [m for m in standin.db.records["mail.message"].values() if m.get("res_id") == 25]
    assert len(activities) == 1 and len(messages) == 1
    assert activities[0]["summary"] == "Reminder 2" and activities[0]["date_deadline"] == "2026-12-01"
    assert "erp-recovery message dunning:invoice-25:level-2" in messages[0]["body"]


def test_a_value_edited_between_plan_and_apply_is_a_conflict_and_is_kept(
    standin: OdooStandin, store: Store
) -> None:
    plan = plan_of(standin, [limit("10", "25000"), limit("11", "12000")])
    standin.db.write("res.partner", [10], {"credit_limit": 40000.0})  # a person, in Odoo
    report = apply(standin, store, plan)
    assert report.status == "partial"
    conflict = report.of("conflict")[0]
    assert conflict.change.target.external_id == "10"
    assert "planned from" in str(conflict.detail) and "40000.00" in str(conflict.detail)
    assert partner(standin, 10)["credit_limit"] == 40000.0
    assert partner(standin, 11)["credit_limit"] == 12000.0


def test_a_concurrent_edit_during_apply_is_reported_not_overwritten(
    standin: OdooStandin, store: Store
) -> None:
    plan = plan_of(standin, [limit("10", "25000")])

    def person_edits(uid: int, model: str, method: str, args: list[Any], kwargs: dict[str, Any]) -> None:
        if model == "res.partner" and method == "read":
            standin.db.before_call = None
            standin.db.write("res.partner", [10], {"credit_limit": 31000.0})

    standin.db.before_call = person_edits
    report = apply(standin, store, plan)
    assert report.counts()["conflict"] == 1
    assert partner(standin, 10)["credit_limit"] == 31000.0


class Crash(BaseException):
    """Stands for the process dying (kill -9) between two groups."""


def test_a_crash_mid_apply_then_a_rerun_leaves_odoo_as_one_clean_apply(
    standin: OdooStandin, store: Store
) -> None:
    plan = plan_of(standin, [limit("10", "25000"), limit("11", "9000"), dunning("25", 1), dunning("26", 1)])
    groups: list[int] = []

    def crash_after_first_group(chunk: Sequence[Any]) -> None:
        groups.append(len(chunk))
        raise Crash

    target = connector(standin)
    with pytest.raises(Crash):
        apply_plan(plan, target, checksum=plan.checksum, policy=POLICY, population={}, audit=StoreAuditLog(store),
                   after_group=crash_after_first_group)  # fmt: skip
    target.close()
    assert groups == [1]

    report = apply(standin, store, plan)
    assert report.status == "succeeded"
    assert report.counts()["already_applied"] == 1 and report.counts()["applied"] == 3
    assert partner(standin, 10)["credit_limit"] == 25000.0 and partner(standin, 11)["credit_limit"] == 9000.0
    for invoice_id in (25, 26):
        assert (
            len([a for a in standin.db.records["mail.activity"].values() if a["res_id"] == invoice_id]) == 1
        )
        assert len([m for m in standin.db.records["mail.message"].values() if m["res_id"] == invoice_id]) == 1
    with store.connect() as connection:
        runs = wb_store.history(connection, plan=plan.id)
    assert [run.status for run in runs] == ["succeeded", "interrupted"]


def test_an_action_half_done_is_completed_not_repeated(standin: OdooStandin, store: Store) -> None:
    """The activity was created, then posting the message failed (a proxy 503, not retried since
    Odoo may have posted it). The next apply posts the message and does not re-create the activity."""
    plan = plan_of(standin, [dunning("25", 4)])
    standin.fail_next(1, status=503, body_contains=b'"message_post"')
    report = apply(standin, store, plan)
    assert report.counts()["failed"] == 1

    def level_4(rows: dict[int, dict[str, Any]], field: str) -> int:
        return len([row for row in rows.values() if "level-4" in str(row.get(field) or "")])

    assert level_4(standin.db.records["mail.activity"], "note") == 1
    assert level_4(standin.db.records["mail.message"], "body") == 0
    rerun = apply(standin, store, plan)
    assert rerun.counts()["applied"] == 1
    assert level_4(standin.db.records["mail.activity"], "note") == 1
    assert level_4(standin.db.records["mail.message"], "body") == 1


def test_a_gateway_error_on_write_is_retried(standin: OdooStandin, store: Store) -> None:
    plan = plan_of(standin, [limit("12", "5000")])
    standin.reset_counters()
    standin.fail_next(1, status=502, body_contains=b'"write"')
    report = apply(standin, store, plan)
    assert report.status == "succeeded" and report.counts()["applied"] == 1
    assert partner(standin, 12)["credit_limit"] == 5000.0
    assert standin.requests["/jsonrpc"] == len(standin.db.calls) + 1  # + the write the proxy failed
    assert len(standin.object_calls("res.partner", "write")) == 1  # the 502 never reached Odoo's ORM


def test_an_access_error_stops_the_apply_clearly_without_retry(
    standin: OdooStandin, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    plan = plan_of(standin, [Proposal(target=customer("15"), field="risk_flag", new="D", reason=Reason(rule="risk.grade")),
                             limit("11", "7000")])  # fmt: skip
    monkeypatch.setenv(PASSWORD_ENV, "demo")
    standin.reset_counters()
    report = apply(standin, store, plan, settings={"login": "demo"})
    assert report.status == "failed"
    assert (
        report.error is not None
        and "Odoo user 'demo' lacks write access to res.partner.category" in report.error
    )
    assert len(standin.object_calls("res.partner.category", "create")) == 1
    assert {result.outcome for result in report.results} <= {"skipped", "applied", "conflict"}
    assert report.counts()["skipped"] >= 1


def test_only_owned_fields_are_touched(standin: OdooStandin, store: Store) -> None:
    settings = {"writeback": {"trust": True}}
    trust = Proposal(target=customer("10"), field="trust", new="bad", reason=Reason(rule="risk.trust"))
    plan = plan_of(standin, [limit("10", "20000"), trust], **settings)
    report = apply(
        standin, store, plan, policy=WritebackPolicy(owned_fields=("credit_limit",)), settings=settings
    )
    assert [r.outcome for r in report.results if r.change.name == "trust"] == ["not_owned"]
    assert partner(standin, 10)["trust"] == "normal" and partner(standin, 10)["credit_limit"] == 20000.0


def test_the_safety_limit_refuses_a_large_plan_unless_forced(standin: OdooStandin, store: Store) -> None:
    plan = plan_of(standin, [limit(rid, "5000") for rid in ("9", "10", "11", "12", "13")])
    policy = WritebackPolicy(owned_fields=OWNED, max_share=0.25, min_population=5)
    with pytest.raises(UnsafePlanError, match="changes 5 of 8 customer records"):
        apply(standin, store, plan, policy=policy, population={"customer": 8})
    assert partner(standin, 9)["credit_limit"] == 0.0
    report = apply(standin, store, plan, policy=policy, population={"customer": 8}, force=True)
    assert report.counts()["applied"] == 5
    with store.connect() as connection:
        assert wb_store.history(connection, plan=plan.id)[0].forced


def test_a_write_odoo_ignores_is_reported_failed(standin: OdooStandin, store: Store) -> None:
    """Odoo answers True to a write of a computed field and changes nothing (recording
    write.readonly_computed_field): the read-back after writing catches it."""
    settings = {"writeback": {"risk_flag": {"mode": "field", "field": "credit"}}}
    plan = plan_of(
        standin,
        [Proposal(target=customer("15"), field="risk_flag", new="9", reason=Reason(rule="x"))],
        **settings,
    )
    report = apply(standin, store, plan, settings=settings)
    assert report.counts()["failed"] == 1 and "ignored the write" in str(report.of("failed")[0].detail)


def test_a_tampered_plan_or_a_wrong_checksum_is_refused(standin: OdooStandin, store: Store) -> None:
    plan = plan_of(standin, [limit("10", "25000")])
    tampered = Plan.model_validate({**plan.model_dump(), "created_by": "someone else"})
    with pytest.raises(UnsafePlanError, match="modified after it was made"):
        apply_plan(tampered, connector(standin), checksum=plan.checksum, policy=POLICY, population={})
    with pytest.raises(UnsafePlanError, match="does not match"):
        apply_plan(plan, connector(standin), checksum="0" * 16, policy=POLICY, population={})


def test_the_audit_log_records_every_change_with_its_run(standin: OdooStandin, store: Store) -> None:
    plan = plan_of(standin, [limit("10", "25000"), limit("11", "12000")])
    standin.db.write("res.partner", [11], {"credit_limit": 11111.0})
    report = apply(standin, store, plan)
    with store.connect() as connection:
        rows = wb_store.run_entries(connection, report.run_id)
        summary = wb_store.history(connection, source=SOURCE)[0]
    assert {(row.external_id, row.outcome) for row in rows} == {("10", "applied"), ("11", "conflict")}
    conflict = next(row for row in rows if row.outcome == "conflict")
    assert conflict.observed == {"value": {"amount": "11111.00", "currency": "USD"}}
    assert conflict.base == {"value": {"amount": "10000.00", "currency": "USD"}}
    assert summary.status == "partial" and summary.counts["applied"] == 1 and summary.counts["conflict"] == 1
    assert Decimal(conflict.new["value"]["amount"]) == Decimal("12000.00")


@pytest.mark.parametrize("protocol", ["xmlrpc", "json2"])
def test_write_back_over_other_protocols(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, protocol: str
) -> None:
    from odoo_standin.seed import ADMIN_API_KEY

    settings: dict[str, Any] = {"protocol": protocol}
    version = "18.0"
    if protocol == "json2":
        monkeypatch.setenv(PASSWORD_ENV, ADMIN_API_KEY)
        settings["login"] = None
        version = "19.0"
    with OdooStandin(version=version) as standin:
        store = sqlite_store(tmp_path)
        proposals = [
            limit("10", "25000.50"),
            Proposal(target=customer("15"), field="risk_flag", new="B", reason=Reason(rule="risk.grade")),
            dunning("25", 1),
        ]
        plan = make_plan(SOURCE, connector(standin, **settings), proposals).plan
        assert apply(standin, store, plan, settings=settings).counts()["applied"] == 3
        assert apply(standin, store, plan, settings=settings).counts()["already_applied"] == 3
        assert partner(standin, 10)["credit_limit"] == 25000.5
        assert len([m for m in standin.db.records["mail.message"].values() if m["res_id"] == 25]) == 1


def test_dunning_level_as_a_tag_and_next_action_in_a_configured_field(
    standin: OdooStandin, store: Store
) -> None:
    """The level reached shows as a partner tag (``Dunning: …``, replacing the previous one) and the
    next action date in the partner field an admin configured (a Studio field in practice; here a
    free-text field of the recorded schema)."""
    settings = {"writeback": {"dunning_level": {}, "dunning_next_action": "additional_info"}}
    policy = WritebackPolicy(owned_fields=("dunning_level", "dunning_next_action"))
    reason = Reason(rule="dunning.status")

    def status(level: str, next_action: str) -> list[Proposal]:
        return [
            Proposal(target=customer("15"), field="dunning_level", new=level, reason=reason),
            Proposal(target=customer("15"), field="dunning_next_action", new=next_action, reason=reason),
        ]

    first = plan_of(standin, status("Relance 1", "2026-11-30"), **settings)
    assert apply(standin, store, first, policy=policy, settings=settings).counts()["applied"] == 2
    second = plan_of(standin, status("Mise en demeure", "2026-12-08"), **settings)
    assert {change.base for change in second.changes} == {"Relance 1", "2026-11-30"}
    assert apply(standin, store, second, policy=policy, settings=settings).counts()["applied"] == 2
    tags = standin.db.records["res.partner.category"]
    names = {tags[tag_id]["name"] for tag_id in partner(standin, 15)["category_id"]}
    assert "Dunning: Mise en demeure" in names and "Dunning: Relance 1" not in names
    assert partner(standin, 15)["additional_info"] == "2026-12-08"
    assert plan_of(standin, status("Mise en demeure", "2026-12-08"), **settings).changes == ()
