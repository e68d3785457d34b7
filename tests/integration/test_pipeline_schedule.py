"""``erp-recovery schedule``: jobs on cron expressions, no overlap, health and metrics over HTTP,
and a graceful stop on SIGTERM (the run stops after a committed batch; the next run resumes it)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from pipeline_support import company_toml, config_text, query, wait_for, write_company

from erp_recovery.config import load_config
from erp_recovery.pipeline.observability import Health, ObservabilityServer
from erp_recovery.pipeline.schedule import Scheduler, configured_jobs
from erp_recovery.store import Store


def _get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _write(
    tmp_path: Path,
    store_url: str,
    schedule: str,
    *,
    invoices: int = 300,
    source_schedule: str | None = None,
    stages: tuple[str, ...] = ("sync", "match", "assess", "writeback_plan", "apply", "report"),
) -> Path:
    company = company_toml("acme", write_company(tmp_path / "acme", invoices=invoices))
    if source_schedule:
        company = company.replace(
            'connector = "csv"\n', f'connector = "csv"\nschedule = "{source_schedule}"\n', 1
        )
    path = tmp_path / "erp-recovery.toml"
    path.write_text(config_text(store_url, company, stages=stages) + schedule, encoding="utf-8")
    return path


def test_jobs_come_from_companies_and_sources():
    from erp_recovery.config import parse_config

    config = parse_config(
        {
            "companies": [{"code": "acme", "name": "Acme"}, {"code": "beta", "name": "Beta"}],
            "sources": [
                {"name": "bank", "company": "beta", "connector": "csv", "schedule": "*/5  *  * * *"},
                {"name": "books", "company": "beta", "connector": "csv"},
            ],
            "schedule": {"default": "0 * * * *", "companies": {"beta": "30 7 * * 1-5"}},
        }
    )
    jobs = {job.key: job.cron for job in configured_jobs(config)}
    assert jobs == {"acme": "0 * * * *", "beta": "30 7 * * 1-5", "beta/bank": "*/5 * * * *"}


def test_a_bad_cron_expression_names_its_key():
    from erp_recovery.config import parse_config
    from erp_recovery.errors import ConfigError
    from erp_recovery.pipeline.settings import ScheduleSettings

    config = parse_config(
        {"companies": [{"code": "acme", "name": "Acme"}], "schedule": {"default": "every hour"}}
    )
    with pytest.raises(ConfigError, match=r"schedule\.default: not a cron expression"):
        config.section("schedule", ScheduleSettings)


def test_once_runs_each_job_without_overlap_and_serves_health_and_metrics(tmp_path):
    store_url = f"sqlite:///{tmp_path / 'store.sqlite'}"
    path = _write(
        tmp_path,
        store_url,
        '\n[schedule]\ndefault = "*/10 * * * *"\nconcurrency = 2\n',
        source_schedule="*/5 * * * *",
    )
    config = load_config(path)
    store = Store(config.store_url())
    store.upgrade()
    health = Health(max_age=60, path=tmp_path / "health.json")
    server = ObservabilityServer("127.0.0.1:0", health=health, store_factory=lambda: store).start()
    try:
        scheduler = Scheduler(store, config, health=health)
        assert scheduler.run(once=True) == 1
        # The company job and the source job fired together: one ran, the other was skipped.
        assert scheduler.skipped_overlaps == 1
        runs = query(store_url, "SELECT status, trigger FROM pipeline_runs")
        assert [(row.status, row.trigger) for row in runs] == [("succeeded", "schedule")]

        # The scheduler has stopped (--once): the health check says so, with each job's last run.
        status, body = _get(f"http://127.0.0.1:{server.port}/healthz")
        state = json.loads(body)
        assert (status, state["status"]) == (503, "stopped")
        assert state["jobs"]["acme"]["last"]["status"] == "succeeded"
        assert set(state["jobs"]) == {"acme", "acme/acme-books"}
        with urllib.request.urlopen(f"http://127.0.0.1:{server.port}/metrics") as response:
            metrics = response.read().decode()
        assert (
            'erp_recovery_stage_runs_total{company="acme",stage="sync:acme-books",status="succeeded"}'
            in metrics
        )
        assert 'erp_recovery_stage_duration_seconds_count{company="acme",stage="assess"}' in metrics
        assert 'erp_recovery_sync_lag_seconds{company="acme",source="acme-books"}' in metrics
        assert "erp_recovery_store_up 1.0" in metrics
        assert json.loads((tmp_path / "health.json").read_text())["pid"] == os.getpid()
    finally:
        server.stop()
        store.dispose()


def test_sigterm_stops_after_a_committed_batch_and_the_next_run_resumes(tmp_path):
    invoices = 8000
    store_url = f"sqlite:///{tmp_path / 'store.sqlite'}"
    path = _write(
        tmp_path,
        store_url,
        '\n[schedule]\ndefault = "0 3 * * *"\n',
        invoices=invoices,
        stages=("sync", "assess", "report"),
    )
    port = _free_port()
    health_file = tmp_path / "health.json"
    command = [sys.executable, "-m", "erp_recovery.cli", "--config", str(path), "init"]
    subprocess.run(command, check=True, capture_output=True)
    scheduler = subprocess.Popen(
        [sys.executable, "-m", "erp_recovery.cli", "--config", str(path), "schedule", "--once",
         "--http", f"127.0.0.1:{port}", "--health-file", str(health_file)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    try:
        wait_for(
            lambda: (
                query(store_url, "SELECT read_count FROM sync_runs WHERE status = 'running'")[0].read_count
                > 0
            ),
            timeout=60,
            what="the scheduled sync to store its first batches",
        )
        status, body = _get(f"http://127.0.0.1:{port}/healthz")
        assert (status, json.loads(body)["running"]) == (200, ["acme"])
        scheduler.send_signal(signal.SIGTERM)
        out, err = scheduler.communicate(timeout=60)
    finally:
        if scheduler.poll() is None:
            scheduler.kill()
    assert scheduler.returncode == 0, err
    assert "stopping after the current batch" in err
    assert json.loads(health_file.read_text())["status"] == "stopped"
    sync = query(store_url, "SELECT status, read_count, error FROM sync_runs")[0]
    assert sync.status == "failed" and "SIGTERM" in sync.error
    assert 0 < sync.read_count < invoices + 20
    stored = query(store_url, "SELECT count(*) AS n FROM invoices")[0].n
    assert stored == sync.read_count - 20 or stored <= sync.read_count  # only committed batches
    run = query(store_url, "SELECT status FROM pipeline_runs")[0]
    assert run.status == "cancelled"

    resumed = subprocess.run(
        [sys.executable, "-m", "erp_recovery.cli", "--config", str(path), "--json", "run"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    (report,) = json.loads(resumed.stdout)
    assert report["resumed"] and report["status"] == "succeeded"
    invoices_now = query(store_url, "SELECT count(*) AS n, count(DISTINCT external_id) AS d FROM invoices")[0]
    assert invoices_now.n == invoices_now.d == invoices
    created = sum(row.created_count for row in query(store_url, "SELECT created_count FROM sync_runs"))
    assert created == invoices + 20  # each record created once across the stopped and resumed syncs
