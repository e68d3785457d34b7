"""Dunning status reaches Odoo only through plan → apply: sync from the Odoo stand-in, run
dunning, ``plan --from dunning`` (one dunning_step per communication), apply, and find in Odoo
the activity (deadline = next action date, responsible user) and the chatter message; applying
again does nothing."""

from __future__ import annotations

import datetime as dt

import pytest
from odoo_standin import OdooStandin
from odoo_standin.helpers import PASSWORD_ENV, SOURCE, app_config, sqlite_store
from odoo_standin.seed import add_customer, add_invoice, base_database

from erp_recovery.dunning_ops import service
from erp_recovery.dunning_ops.writeback import dunning_proposals
from erp_recovery.sync.registry import create_connector
from erp_recovery.sync.runner import sync_sources
from erp_recovery.writeback import ActionChange, WritebackPolicy, apply_plan, make_plan


@pytest.fixture(autouse=True)
def _password(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(PASSWORD_ENV, "admin")


def test_dunning_steps_reach_odoo_once(tmp_path):
    db = base_database()
    late = add_customer(db, "Late Payer SARL", email="ap@late.example")
    add_invoice(db, late, 1500.0, "2026-05-01", "2026-05-31", number="INV/2026/00900")
    with OdooStandin(db) as standin:
        config = app_config(
            standin,
            writeback_section={"owned_fields": ["dunning_step"], "min_population": 0, "max_share": 1.0},
        )
        config.sections["dunning"] = {
            "outbox_dir": str(tmp_path / "outbox"),
            "writeback": {"responsible": "admin"},
        }
        store = sqlite_store(tmp_path)
        (report,) = sync_sources(store, config)
        assert report.status == "succeeded", report.error
        setup_ = service.setup(store, config, "acme")
        run = service.run_day(store, config, setup_, dt.date(2026, 6, 5))
        assert [c["level"] for c in run.communications] == ["reminder"]
        assert "no [smtp] server configured" in run.notes[0]

        proposals = dunning_proposals(store, config, SOURCE)
        [step] = [p for p in proposals if isinstance(p, ActionChange)]
        assert (
            step.target.external_id == str(late) and step.idempotency_key == f"dunning:acme:{late}:2026-06-05"
        )
        assert step.params["deadline"] == "2026-06-15"  # the second reminder: D+15
        assert step.params["user"] == "admin" and step.params["level"] == 2

        connector = create_connector(config.source(SOURCE))
        try:
            draft = make_plan(SOURCE, connector, proposals, created_by="dunning")
            policy = config.section("writeback", WritebackPolicy)
            result = apply_plan(
                draft.plan, connector, checksum=draft.plan.checksum, policy=policy, population={}
            )
            assert result.counts().get("applied") == 1, result.to_dict()
            activities = [a for a in db.records["mail.activity"].values() if a.get("res_id") == late]
            messages = [m for m in db.records["mail.message"].values() if m.get("res_id") == late]
            assert len(activities) == 1 and len(messages) == 1
            assert activities[0]["summary"] == "Dunning: Relance 1"
            assert activities[0]["date_deadline"] == "2026-06-15"
            assert "Relance 1 sent on 2026-06-05 by e-mail for INV/2026/00900" in messages[0]["body"]
            again = make_plan(
                SOURCE, connector, dunning_proposals(store, config, SOURCE), created_by="dunning"
            )
            assert again.plan.changes == () and [why for _, why in again.dropped] == ["already done"]
        finally:
            connector.close()
