"""The pipeline on one machine with the real CSV connector and write-back, on SQLite and PostgreSQL:
stage records, idempotence, failures kept to one company, approvals, resume, the CLI."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from pipeline_support import company_toml, config_text, write_company
from sqlalchemy import select

from erp_recovery.cli.main import main
from erp_recovery.config import load_config
from erp_recovery.pipeline import PipelineRunner, StageContext, StageReport
from erp_recovery.pipeline import store as pipeline_store
from erp_recovery.pipeline.stages import build_stages
from erp_recovery.store import Store

AS_OF = date(2026, 6, 30)

#: The default policy, except that setting a first limit applies by itself.
CUT_POLICY = """
[approvals]
auto = ["credit_limit", "risk_flag", "dunning_step"]
wait_values = { risk_flag = ["E"] }
[approvals.credit_limit]
max_auto_cut = 0.20
first_limit = "auto"
"""


def _config(tmp_path: Path, store_url: str, *companies: str, approvals: str | None = None, **kwargs) -> Path:
    parts = "".join(company_toml(code, write_company(tmp_path / code, invoices=400, seed=n)) for n, code in
                    enumerate(companies, start=1))  # fmt: skip
    path = tmp_path / "erp-recovery.toml"
    path.write_text(config_text(store_url, parts, approvals=approvals, **kwargs), encoding="utf-8")
    return path


def _runner(path: Path) -> tuple[PipelineRunner, Store]:
    config = load_config(path)
    store = Store(config.store_url())
    store.upgrade()
    return PipelineRunner(store, config, metrics=False), store


def test_run_records_every_stage_and_a_second_run_changes_nothing(tmp_path, store_url):
    runner, store = _runner(_config(tmp_path, store_url, "acme"))
    first = runner.run("acme", as_of=AS_OF)
    assert first.status == "succeeded", [(s.name, s.error) for s in first.stages]
    assert [s.name for s in first.stages] == [
        "sync:acme-books",
        "match",
        "assess",
        "writeback_plan",
        "apply",
        "report",
    ]
    assert first.stage("sync:acme-books").counts["created"] == 420
    applied = first.stage("apply").counts["applied"]
    assert applied > 0 and applied == first.stage("writeback_plan").counts["auto"]

    second = runner.run("acme", as_of=AS_OF)
    assert second.status == "succeeded" and second.run_key != first.run_key
    assert second.stage("sync:acme-books").counts["created"] == 0
    assert second.stage("writeback_plan").counts["changes"] == 0  # already written: nothing to plan
    with store.connect() as connection:
        rows = pipeline_store.last_stage_runs(connection, "acme")
    assert {row.stage: row.run_key for row in rows} == {s.name: second.run_key for s in second.stages}
    store.dispose()


def test_a_failed_stage_skips_its_dependents_for_that_company_only(tmp_path, store_url):
    path = _config(tmp_path, store_url, "acme", "beta")
    (tmp_path / "acme" / "invoices.csv").write_text("not;the;expected;header\n1;2;3;4\n", encoding="utf-8")
    runner, store = _runner(path)
    broken = runner.run("acme", as_of=AS_OF)
    healthy = runner.run("beta", as_of=AS_OF)
    assert broken.status == "failed" and healthy.status == "succeeded"
    statuses = {s.name: s.status for s in broken.stages}
    assert statuses["sync:acme-books"] == "failed"
    assert (
        statuses["match"]
        == statuses["assess"]
        == statuses["writeback_plan"]
        == statuses["apply"]
        == "skipped"
    )
    assert statuses["report"] == "succeeded"
    assert "sync:acme-books failed" in broken.stage("match").error
    assert broken.stage("report").details["failed"] == ["sync:acme-books"]
    store.dispose()


def test_approvals_hold_big_credit_limit_cuts_until_approved(tmp_path, store_url):
    path = _config(tmp_path, store_url, "acme", approvals=CUT_POLICY)
    runner, store = _runner(path)
    first = runner.run("acme", as_of=AS_OF)
    assert first.status == "succeeded"
    waiting = first.stage("writeback_plan").counts["waiting"]
    with store.connect() as connection:
        pending = pipeline_store.list_approvals(connection, company="acme")
    assert waiting == len(pending) > 0
    assert all(row.name in ("credit_limit", "risk_flag") for row in pending)
    cuts = [row for row in pending if row.name == "credit_limit"]
    assert cuts and all("is over 20 %" in row.policy_reason for row in cuts)
    import_file = tmp_path / "acme" / "outbox" / "customers-import.csv"

    # Planning again does not ask twice.
    again = runner.run("acme", as_of=AS_OF)
    with store.connect() as connection:
        assert len(pipeline_store.list_approvals(connection, company="acme")) == len(pending)
    assert again.stage("writeback_plan").counts["waiting"] == len(pending)

    # Approve one cut (through the CLI, with who and why), reject the others.
    approve_id, *reject_ids = [int(row.id) for row in cuts]
    assert (
        main(
            ["--config", str(path), "approvals", "approve", str(approve_id), "--by", "marie", "--note", "ok"]
        )
        == 0
    )
    assert main(["--config", str(path), "approvals", "reject", *map(str, reject_ids), "--by", "marie"]) == 0
    third = runner.run("acme", as_of=AS_OF)
    assert third.stage("apply").counts["approved"] == 1
    with store.connect() as connection:
        decided = {int(row.id): row for row in pipeline_store.list_approvals(connection, statuses=None)}
    assert decided[approve_id].status == "applied" and decided[approve_id].decided_by == "marie"
    assert decided[approve_id].decided_at is not None and decided[approve_id].note == "ok"
    assert all(decided[i].status == "rejected" for i in reject_ids)
    written = import_file.read_text(encoding="utf-8")
    approved_customer = decided[approve_id].external_id
    assert approved_customer in written
    # A rejected change is not asked again.
    fourth = runner.run("acme", as_of=AS_OF)
    assert fourth.stage("writeback_plan").counts["rejected"] == len(reject_ids)
    with store.connect() as connection:
        assert {row.status for row in pipeline_store.list_approvals(connection, company="acme")} <= {
            "pending"
        }
    store.dispose()


class _Crash(BaseException):
    """Stands for the process dying in the middle of a stage (not an error the runner catches)."""


class _CrashingStage:
    name = "assess"
    depends_on = ("sync", "match")

    def run(self, context: StageContext) -> StageReport:
        raise _Crash


def test_an_interrupted_run_is_resumed_without_redoing_finished_stages(tmp_path, store_url):
    path = _config(tmp_path, store_url, "acme")
    runner, store = _runner(path)

    def crashing(config, company, sources):  # type: ignore[no-untyped-def]
        return [
            _CrashingStage() if stage.name == "assess" else stage
            for stage in build_stages(config, company, sources)
        ]

    crashing_runner = PipelineRunner(store, runner.config, stage_factory=crashing, metrics=False)
    with pytest.raises(_Crash):
        crashing_runner.run("acme", as_of=AS_OF)
    with store.connect() as connection:
        run = connection.execute(select(pipeline_store.pipeline_runs)).one()
        stages = {row.stage: row.status for row in pipeline_store.stage_rows(connection, run.id)}
    assert run.status == "running" and stages["assess"] == "running" and stages["match"] == "succeeded"

    resumed = runner.run("acme", as_of=AS_OF)
    assert resumed.resumed and resumed.run_key == run.run_key and resumed.status == "succeeded"
    assert resumed.stage("sync:acme-books").attempts == 1  # not run again
    assert resumed.stage("assess").attempts == 2
    store.dispose()


def test_cli_run_and_status_show_each_stage(tmp_path, store_url, capsys):
    path = _config(tmp_path, store_url, "acme")
    assert main(["--config", str(path), "init"]) == 0
    capsys.readouterr()
    assert main(["--config", str(path), "--json", "run", "--company", "acme", "--as-of", "2026-06-30"]) == 0
    (report,) = json.loads(capsys.readouterr().out)
    assert report["status"] == "succeeded" and report["run_id"]
    assert main(["--config", str(path), "status", "--json"]) == 0
    status = json.loads(capsys.readouterr().out)
    stages = {row["stage"]: row for row in status["stages"]}
    assert set(stages) == {"sync:acme-books", "match", "assess", "writeback_plan", "apply", "report"}
    assert stages["sync:acme-books"]["counts"]["created"] == 420
    assert all(
        row["run_id"] == report["run_id"] and row["duration_seconds"] is not None for row in stages.values()
    )
    assert main(["--config", str(path), "status"]) == 0
    assert "Pipeline — last run of each stage" in capsys.readouterr().out
    assert main(["--config", str(path), "approvals", "list", "--status", "all"]) == 0
