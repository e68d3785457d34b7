"""Risk decisions reach Odoo only through plan → apply: sync from the Odoo stand-in, assess,
``plan --from risk`` (credit limit + risk class tag), apply, and check the partner in Odoo."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from odoo_standin import OdooStandin
from odoo_standin.helpers import PASSWORD_ENV, SOURCE, app_config, sqlite_store
from odoo_standin.seed import (
    add_customer,
    add_invoice,
    add_payment,
    base_database,
    receivable_line,
    reconcile,
)

from erp_recovery.reports.service import run_assessment
from erp_recovery.reports.writeback import risk_proposals
from erp_recovery.sync.registry import create_connector
from erp_recovery.sync.runner import sync_sources
from erp_recovery.writeback import WritebackPolicy, apply_plan, make_plan

AS_OF = dt.date(2026, 6, 30)


@pytest.fixture(autouse=True)
def _password(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(PASSWORD_ENV, "admin")


def _seed(db):
    prompt = add_customer(db, "Prompt Payer SA", credit_limit=0.0)
    late = add_customer(db, "Late Payer SARL", credit_limit=1000.0, use_partner_credit_limit=True)
    for month in range(1, 13):
        issue = dt.date(2025, 6, 20) + dt.timedelta(days=30 * month)
        due = issue + dt.timedelta(days=30)
        if issue > AS_OF:
            break
        move = add_invoice(db, prompt, 2000.0, issue.isoformat(), due.isoformat())
        if due <= AS_OF:
            payment = add_payment(db, prompt, 2000.0, due.isoformat(), f"pay {month}")
            credit_line = max(
                rid
                for rid, line in db.records["account.move.line"].items()
                if line.get("payment_id") == payment
                and line["account_id"]
                == db.records["account.move.line"][receivable_line(db, move)]["account_id"]
            )
            reconcile(db, receivable_line(db, move), credit_line, 2000.0)
        add_invoice(db, late, 1500.0, issue.isoformat(), due.isoformat())
    return prompt, late


def test_assess_plan_apply_to_odoo(tmp_path):
    db = base_database()
    prompt, late = _seed(db)
    with OdooStandin(db) as standin:
        config = app_config(
            standin,
            writeback_section={
                "owned_fields": ["credit_limit", "risk_flag"],
                "min_population": 0,
                "max_share": 1.0,
            },
        )
        store = sqlite_store(tmp_path)
        (report,) = sync_sources(store, config)
        assert report.status == "succeeded", report.error
        run = run_assessment(store, config, company_code="acme", as_of=AS_OF)
        assert run.saved_rows >= 2
        late_assessment = run.assessment.customer(str(late))
        assert late_assessment is not None and late_assessment.score.grade in ("D", "E")
        assert {f.code for f in late_assessment.flags} >= {"over_limit", "chronic_late_payer"}

        proposals = risk_proposals(store, config, SOURCE)
        by_target = {(p.target.external_id, p.field): p for p in proposals}
        flag = by_target[(str(late), "risk_flag")]
        assert flag.new == late_assessment.score.grade
        assert flag.reason.decision_id == f"risk:{AS_OF.isoformat()}:{late}"
        assert "over_limit" in flag.reason.explanation

        connector = create_connector(config.source(SOURCE))
        try:
            draft = make_plan(SOURCE, connector, proposals, created_by="risk")
            assert db.records["res.partner"][late]["credit_limit"] == 1000.0  # planning wrote nothing
            result = apply_plan(
                draft.plan,
                connector,
                checksum=draft.plan.checksum,
                policy=config.section("writeback", WritebackPolicy),
                population={"customer": 2},
            )
        finally:
            connector.close()
        assert result.counts().get("applied", 0) >= 2, result.to_dict()
        partner = db.records["res.partner"][late]
        tags = {db.records["res.partner.category"][tag]["name"] for tag in partner.get("category_id", [])}
        assert f"Risk: {late_assessment.score.grade}" in tags
        expected = late_assessment.credit_limit.recommended.amount
        assert Decimal(str(partner["credit_limit"])) == expected
