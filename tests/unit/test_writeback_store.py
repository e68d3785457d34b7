"""The write-back tables on SQLite and PostgreSQL: plans stored once, runs, audit entries, history."""

from __future__ import annotations

import datetime as dt

import pytest

from erp_recovery.errors import ConfigError
from erp_recovery.model.money import Money
from erp_recovery.store import Store
from erp_recovery.writeback import store as wb
from erp_recovery.writeback.plan import ActionChange, FieldChange, Plan, Reason, TargetRef


def a_plan() -> Plan:
    customer = TargetRef(source="odoo-main", entity="customer", external_id="10", label="Deco Addict")
    return Plan.build(
        "odoo-main",
        [
            FieldChange(
                target=customer,
                field="credit_limit",
                base=Money.of("30000", "EUR"),
                new=Money.of("25000", "EUR"),
                reason=Reason(rule="risk.limit"),
            ),
            ActionChange(
                target=TargetRef(source="odoo-main", entity="invoice", external_id="25"),
                action="dunning_step",
                idempotency_key="dunning:25:1",
                params={"level": 1},
                reason=Reason(rule="dunning.step"),
            ),
        ],
        created_by="risk",
        created_at=dt.datetime(2026, 11, 30, tzinfo=dt.UTC),
    )


def test_plans_runs_and_audit(store: Store) -> None:
    plan = a_plan()
    with store.begin() as connection:
        row = wb.save_plan(connection, plan)
        assert wb.save_plan(connection, plan) == row  # stored once per checksum
        run = wb.start_run(connection, row, forced=True)
        wb.record(connection, run_id=run, plan_row=row, change=plan.changes[0], outcome="applied",
                  observed={"amount": "25000.00", "currency": "EUR"})  # fmt: skip
        wb.record(connection, run_id=run, plan_row=row, change=plan.changes[1], outcome="conflict",
                  detail="the record no longer exists upstream")  # fmt: skip
        wb.finish_run(connection, run, status="partial", counts={"applied": 1, "conflict": 1})
    with store.connect() as connection:
        assert wb.load_plan(connection, plan.id) == plan
        assert wb.load_plan(connection, plan.checksum[:16]) == plan
        [summary] = wb.history(connection, source="odoo-main")
        assert (summary.plan_id, summary.status, summary.forced) == (plan.id, "partial", True)
        assert summary.counts == {"applied": 1, "conflict": 1}
        entries = wb.run_entries(connection, run)
        assert [(e.name, e.outcome) for e in entries] == [
            ("credit_limit", "applied"),
            ("dunning_step", "conflict"),
        ]
        assert entries[0].new == {"value": {"amount": "25000.00", "currency": "EUR"}}
        assert entries[1].new == {"value": {"level": 1}}
        assert [p.plan_id for p in wb.plans(connection)] == [plan.id]
        with pytest.raises(ConfigError, match="no stored plan"):
            wb.load_plan(connection, "plan-000000000000")


def test_a_run_left_running_is_marked_interrupted(store: Store) -> None:
    with store.begin() as connection:
        row = wb.save_plan(connection, a_plan())
        wb.start_run(connection, row, forced=False)
    with store.begin() as connection:
        assert wb.interrupt_stale_runs(connection, row) == 1
    with store.connect() as connection:
        assert wb.history(connection)[0].status == "interrupted"


def test_unknown_outcomes_are_refused(store: Store) -> None:
    plan = a_plan()
    with store.begin() as connection:
        row = wb.save_plan(connection, plan)
        run = wb.start_run(connection, row, forced=False)
        with pytest.raises(ValueError, match="unknown outcome"):
            wb.record(connection, run_id=run, plan_row=row, change=plan.changes[0], outcome="done")
