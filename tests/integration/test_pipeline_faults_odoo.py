"""The ERP answering 503 for a while, in worker mode: the Odoo stand-in (real HTTP on 127.0.0.1)
behind a failing proxy, a real worker, PostgreSQL and Redis.

The connector retries each call, the task retries the sync with back-off a bounded number of
times, then the run is reported failed (its dependent stages skipped, the report written); once
the ERP answers again the next run succeeds, and nothing is lost or doubled.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from odoo_standin import OdooStandin
from odoo_standin.helpers import PASSWORD_ENV, source_settings
from odoo_standin.seed import recorded_database
from pipeline_support import Worker, broker_or_skip, config_text, finished_run, query, wait_for

from erp_recovery.config import load_config
from erp_recovery.pipeline.tasks import celery_app_for, start_run
from erp_recovery.store import Store

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

MAX_RETRIES = 2
CONNECTOR_RETRIES = 1


def _odoo_company(standin: OdooStandin) -> str:
    settings = source_settings(standin, retries=CONNECTOR_RETRIES)
    lines = "\n".join(f"{key} = {json.dumps(value)}" for key, value in settings.items())
    return f"""
[[companies]]
code = "acme"
name = "Acme"
base_currency = "USD"

[[sources]]
name = "odoo-main"
company = "acme"
connector = "odoo"
[sources.settings]
{lines}
"""


def test_erp_503s_fail_the_run_after_bounded_retries_and_the_next_run_succeeds(tmp_path: Path, pg_url):
    broker = broker_or_skip("redis")
    with OdooStandin(recorded_database()) as standin:
        config_path = tmp_path / "erp-recovery.toml"
        config_path.write_text(
            config_text(
                pg_url,
                _odoo_company(standin),
                broker=broker,
                stages=("sync", "assess", "report"),
                workers={
                    "max_retries": MAX_RETRIES,
                    "retry_backoff_seconds": 0.3,
                    "retry_backoff_max_seconds": 1,
                },
            ),
            encoding="utf-8",
        )
        store = Store(pg_url)
        store.upgrade()
        config = load_config(config_path)
        app = celery_app_for(config, store)
        worker = Worker(config_path, name="odoo", log=tmp_path / "worker.log", env={PASSWORD_ENV: "admin"})
        try:
            standin.fail_next(100_000, status=503)
            start_run(app, config, store, "acme", as_of=date(2026, 6, 30))
            failed = finished_run(pg_url, timeout=120)
            served_503 = 100_000 - standin._failures[0].remaining
            standin._failures.clear()  # the ERP is back

            assert failed.status == "failed", worker.log()[-3000:]
            stages = {row.stage: row for row in query(pg_url, "SELECT * FROM pipeline_stage_runs WHERE run_id = :r",
                                                      r=failed.id)}  # fmt: skip
            sync = stages["sync:odoo-main"]
            assert sync.status == "failed" and sync.attempts == MAX_RETRIES + 1
            assert "503" in sync.error
            assert stages["assess"].status == "skipped" and "sync:odoo-main failed" in stages["assess"].error
            assert stages["report"].status == "succeeded"
            # Bounded: each of the task's attempts made the connector's own few tries, no more.
            assert 0 < served_503 <= (MAX_RETRIES + 1) * (CONNECTOR_RETRIES + 1) * 2
            assert query(pg_url, "SELECT count(*) AS n FROM invoices")[0].n == 0

            start_run(app, config, store, "acme", as_of=date(2026, 6, 30))
            wait_for(
                lambda: (
                    query(pg_url, "SELECT count(*) AS n FROM pipeline_runs WHERE status != 'running'")[0].n
                    == 2
                ),
                timeout=120,
                what="the second run to finish",
            )
        finally:
            worker.stop()
        second = query(pg_url, "SELECT * FROM pipeline_runs ORDER BY id DESC LIMIT 1")[0]
        assert second.status == "succeeded", worker.log()[-3000:]
        invoices = query(pg_url, "SELECT count(*) AS n, count(DISTINCT external_id) AS d FROM invoices")[0]
        upstream = sum(
            1
            for move in standin.db.records["account.move"].values()
            if move.get("move_type") in ("out_invoice", "out_refund") and move.get("state") == "posted"
        )
        assert invoices.n == invoices.d > 0
        assert invoices.n == upstream
        runs = query(pg_url, "SELECT status FROM sync_runs ORDER BY id")
        assert [row.status for row in runs][-1] == "succeeded"
        store.dispose()
