"""Fault tests of the worker mode with real parts: PostgreSQL, Redis or RabbitMQ, real worker
processes (``erp-recovery worker``), the real CSV connector and write-back.

- a worker killed mid-sync: the task is delivered again, the sync resumes after its last
  committed batch, and the store and the write-back end exactly as in a run without the kill;
- the database restarting mid-run: the task is retried with back-off and the run completes;
- two workers racing for one source (a duplicate delivery, plus an ``erp-recovery sync`` of the
  same source at the same time): one reads it, the others wait or drop out; nothing is doubled.

(The ERP answering 503s is in ``test_pipeline_faults_odoo.py``.)
"""

from __future__ import annotations

import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import pytest
from pipeline_support import (
    Worker,
    broker_or_skip,
    company_toml,
    config_text,
    finished_run,
    query,
    wait_for,
    write_company,
)

from erp_recovery.config import load_config
from erp_recovery.pipeline.tasks import RUN_STAGE, celery_app_for, start_run
from erp_recovery.store import Store

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

AS_OF = date(2026, 6, 30)
INVOICES = 6000


def _setup(tmp_path: Path, pg_url: str, broker: str, name: str, **workers: object) -> tuple[Path, Store]:
    data = write_company(tmp_path / name / "data", invoices=INVOICES, customers=40)
    config = tmp_path / name / "erp-recovery.toml"
    retries = {"retry_backoff_seconds": 0.5, "retry_backoff_max_seconds": 3, "max_retries": 6}
    config.write_text(
        config_text(pg_url, company_toml("acme", data), broker=broker, workers={**retries, **workers}),
        encoding="utf-8",
    )
    store = Store(pg_url)
    store.upgrade()
    return config, store


def _start(config_path: Path, store: Store) -> str:
    config = load_config(config_path)
    app = celery_app_for(config, store)
    run_id, key = start_run(app, config, store, "acme", as_of=AS_OF, trigger="worker")
    assert run_id is not None, key
    return key


def _fingerprint(url: str, folder: Path) -> dict[str, object]:
    """What a run leaves behind: the records, the stage outcomes, the write-back audit and file."""
    outbox = folder / "data" / "outbox" / "customers-import.csv"
    return {
        "invoices": sorted(
            (row.external_id, row.content_hash)
            for row in query(url, "SELECT external_id, content_hash FROM invoices")
        ),
        "customers": sorted(
            (row.external_id, row.content_hash)
            for row in query(url, "SELECT external_id, content_hash FROM customers")
        ),
        "stages": [
            (row.stage, row.status)
            for row in query(url, "SELECT stage, status FROM pipeline_stage_runs ORDER BY position")
        ],
        "applied": sorted(
            (row.external_id, row.name, str(row.new))
            for row in query(
                url, "SELECT external_id, name, new FROM writeback_audit WHERE outcome = 'applied'"
            )
        ),
        "import_file": outbox.read_text(encoding="utf-8") if outbox.exists() else None,
    }


def _reference_run(tmp_path: Path, pg_url: str, broker: str) -> dict[str, object]:
    """The same company processed by a worker that is not killed (its own fresh database)."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    name = make_url(pg_url).database + "_ref"
    admin = create_engine(make_url(pg_url).set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(pg_url).set(database=name).render_as_string(hide_password=False)
    try:
        config, store = _setup(tmp_path, url, broker, "reference")
        worker = Worker(config, name="reference", log=tmp_path / "reference.log")
        try:
            _start(config, store)
            run = finished_run(url, timeout=180)
            assert run.status == "succeeded", worker.log()[-3000:]
        finally:
            worker.stop()
        result = _fingerprint(url, tmp_path / "reference")
        store.dispose()
        return result
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.mark.parametrize("broker_kind", ["redis", "rabbitmq"])
def test_worker_killed_mid_sync_is_redelivered_with_the_same_result(tmp_path, pg_url, broker_kind):
    broker = broker_or_skip(broker_kind)
    # Redis gives an unacknowledged task back after the visibility timeout; RabbitMQ at once.
    config, store = _setup(tmp_path, pg_url, broker, "killed", visibility_timeout_seconds=8)
    marker = tmp_path / "stalled"
    first = Worker(
        config, name="first", log=tmp_path / "first.log", env={"PIPELINE_TEST_STALL_MARKER": str(marker)}
    )
    second = None
    try:
        _start(config, store)
        wait_for(marker.exists, timeout=90, what="the first worker to stall mid-sync")
        committed = query(pg_url, "SELECT count(*) AS n FROM invoices")[0].n
        assert 0 < committed < INVOICES  # two batches are in, the third was being stored
        first.kill()
        second = Worker(config, name="second", log=tmp_path / "second.log")
        run = finished_run(pg_url, timeout=240)
        assert run.status == "succeeded", second.log()[-3000:]
    finally:
        first.kill()
        if second is not None:
            second.stop()

    sync = query(pg_url, "SELECT * FROM pipeline_stage_runs WHERE stage = 'sync:acme-books'")[0]
    assert sync.status == "succeeded" and sync.attempts == 2  # the redelivered task ran it again
    runs = query(pg_url, "SELECT status, created_count FROM sync_runs ORDER BY id")
    assert [row.status for row in runs] == ["interrupted", "succeeded"]
    assert sum(row.created_count for row in runs) == INVOICES + 40  # each record created exactly once
    killed = _fingerprint(pg_url, tmp_path / "killed")
    assert len(killed["invoices"]) == INVOICES
    assert killed["applied"], "the write-back applied nothing"
    reference = _reference_run(tmp_path, pg_url, broker)
    assert killed == reference


def _pg_ctl(cluster: str, action: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["pg_ctlcluster", "--skip-systemctl-redirect", cluster, "main", action],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_database_restart_mid_run_is_retried_and_completes(tmp_path, pg_url):
    broker = broker_or_skip("rabbitmq")
    config, store = _setup(tmp_path, pg_url, broker, "restart")
    worker = Worker(
        config, name="restart", log=tmp_path / "restart.log", env={"PIPELINE_TEST_SLOW_BATCH": "0.4"}
    )
    try:
        _start(config, store)
        wait_for(
            lambda: query(pg_url, "SELECT count(*) AS n FROM invoices")[0].n >= 1000,
            timeout=90,
            what="the sync to be under way",
        )
        store.dispose()
        cluster = (
            sorted(Path("/etc/postgresql").iterdir())[-1].name if Path("/etc/postgresql").exists() else None
        )
        if cluster is None:
            pytest.skip("no local PostgreSQL cluster to restart (pg_ctlcluster)")
        # A restart with a short outage (3 s down), so that the sync meets the database gone
        # between two batches, not only dropped connections the pool would replace silently.
        stopped = _pg_ctl(cluster, "stop")
        if stopped.returncode != 0:
            pytest.skip(f"cannot stop PostgreSQL: {stopped.stderr.strip()}")
        try:
            time.sleep(3)
        finally:
            started = _pg_ctl(cluster, "start")
        assert started.returncode == 0, started.stderr
        run = finished_run(pg_url, timeout=240)
        assert run.status == "succeeded", worker.log()[-4000:]
    finally:
        worker.stop()
    log = worker.log()
    assert "retrying" in log or "Retry in" in log  # the outage was met and retried
    invoices = query(pg_url, "SELECT count(*) AS n, count(DISTINCT external_id) AS d FROM invoices")[0]
    assert invoices.n == invoices.d == INVOICES
    runs = query(pg_url, "SELECT status, created_count FROM sync_runs ORDER BY id")
    assert runs[-1].status == "succeeded"
    assert sum(row.created_count for row in runs) == INVOICES + 40
    stages = query(pg_url, "SELECT stage, status FROM pipeline_stage_runs ORDER BY position")
    assert all(row.status == "succeeded" for row in stages), stages


def test_two_workers_racing_for_one_source(tmp_path, pg_url):
    broker = broker_or_skip("redis")
    config_path, store = _setup(tmp_path, pg_url, broker, "race")
    config = load_config(config_path)
    app = celery_app_for(config, store)
    key = _start(config_path, store)
    run_id = query(pg_url, "SELECT id FROM pipeline_runs WHERE run_key = :key", key=key)[0].id
    # A duplicate delivery of the same sync task, waiting in the queue before any worker starts.
    app.send_task(
        RUN_STAGE,
        args=[run_id, "sync:acme-books"],
        queue=f"{config.sections['workers']['queue_prefix']}.sync",
    )
    slow = {"PIPELINE_TEST_SLOW_BATCH": "0.3"}
    workers = [
        Worker(config_path, name=f"racer{n}", log=tmp_path / f"racer{n}.log", env=slow) for n in (1, 2)
    ]
    try:
        wait_for(
            lambda: query(pg_url, "SELECT count(*) AS n FROM sync_runs WHERE status = 'running'")[0].n,
            timeout=90,
            what="a worker to start the sync",
        )
        # Meanwhile a person runs the same source's sync by hand: it waits for the lock.
        manual = subprocess.run(
            [sys.executable, "-m", "erp_recovery.cli", "--config", str(config_path), "--json", "sync", "acme-books",
             "--wait", "120"],
            capture_output=True,
            text=True,
            timeout=180,
        )  # fmt: skip
        assert manual.returncode == 0, manual.stderr[-2000:]
        run = finished_run(pg_url, timeout=240)
        assert run.status == "succeeded"
        time.sleep(2)  # let the duplicate delivery be consumed too
    finally:
        for worker in workers:
            worker.stop()
    logs = "\n".join(worker.log() for worker in workers)
    sync = query(pg_url, "SELECT status, attempts FROM pipeline_stage_runs WHERE stage = 'sync:acme-books'")[
        0
    ]
    assert (sync.status, sync.attempts) == ("succeeded", 1)
    assert "already running elsewhere" in logs or "succeeded" in logs
    runs = query(
        pg_url, "SELECT status, started_at, ended_at, created_count FROM sync_runs ORDER BY started_at"
    )
    assert [row.status for row in runs] == ["succeeded", "succeeded"]
    assert runs[0].ended_at <= runs[1].started_at  # never two syncs of the source at once
    assert [row.created_count for row in runs] == [INVOICES + 40, 0]  # the second found nothing new
    invoices = query(pg_url, "SELECT count(*) AS n, count(DISTINCT external_id) AS d FROM invoices")[0]
    assert invoices.n == invoices.d == INVOICES
