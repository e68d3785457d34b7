"""The sync runner with the real CSV connector: idempotence, changes, deletions, crash safety, locks."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from erp_recovery.config import load_config
from erp_recovery.store import Store
from erp_recovery.store.schema import RECORD_TABLES, sync_runs
from erp_recovery.sync.runner import SyncRunner

HERE = Path(__file__).parent
HEADER = (
    "number;type;customer_code;issue_date;due_date;currency;total;residual;status;disputed;"
    "payment_reference;customer_reference"
)


def _invoices(rows: int, *, change: int | None = None, drop: int | None = None) -> str:
    lines = [HEADER]
    for n in range(1, rows + 1):
        if n == drop:
            continue
        residual = "0,00" if n == change else f"{n},50"
        lines.append(
            f"F{n:06d};FA;C{n % 50:03d};2026-01-{1 + n % 28:02d};2026-03-01;EUR;{n},50;{residual};open;non;;"
        )
    return "\n".join(lines) + "\n"


def _setup(tmp_path: Path, db_url: str, rows: int = 3000) -> Path:
    data = tmp_path / "invoices.csv"
    data.write_text(_invoices(rows), encoding="utf-8")
    config = tmp_path / "erp-recovery.toml"
    config.write_text(
        f"""
[store]
url = "{db_url}"
[[companies]]
code = "acme"
name = "ACME"
[[sources]]
name = "books"
company = "acme"
connector = "csv"
[sources.settings.streams.invoices]
path = "invoices.csv"
mapping = "csv_invoices"
snapshot = true
""",
        encoding="utf-8",
    )
    return config


def _snapshot(store: Store) -> dict[str, list[tuple]]:
    """Everything a sync stores, without run ids and timestamps."""
    result = {}
    with store.connect() as connection:
        for entity, table in RECORD_TABLES.items():
            rows = connection.execute(
                select(
                    table.c.external_id, table.c.content_hash, table.c.upstream_state, table.c.payload
                ).order_by(table.c.external_id)
            )
            result[entity] = [
                (r.external_id, r.content_hash, r.upstream_state, json.dumps(r.payload, sort_keys=True))
                for r in rows
            ]
    return result


def _sync(config_path: Path):
    config = load_config(config_path)
    store = Store(config.store_url())
    store.upgrade()
    return store, SyncRunner(store, config).sync("books")


def test_second_sync_changes_nothing_and_changed_file_updates_only_what_changed(tmp_path, store_url):
    config_path = _setup(tmp_path, store_url, rows=1200)
    store, first = _sync(config_path)
    assert first.status == "succeeded"
    assert first.counts()["created"] == 1200
    _, second = _sync(config_path)
    assert second.counts() == {
        "read": 0,
        "created": 0,
        "updated": 0,
        "unchanged": 0,
        "rejected": 0,
        "deleted": 0,
    }
    (tmp_path / "invoices.csv").write_text(_invoices(1200, change=7, drop=9), encoding="utf-8")
    _, third = _sync(config_path)
    assert (third.total("updated"), third.total("created"), third.total("deleted")) == (1, 0, 1)
    assert third.total("unchanged") == 1198
    with store.connect() as connection:
        states = dict(
            connection.execute(
                select(RECORD_TABLES["invoice"].c.external_id, RECORD_TABLES["invoice"].c.upstream_state)
            ).all()
        )
    assert states["F000009"] == "deleted"


def test_bad_rows_are_quarantined_when_not_strict_and_refused_whole_when_strict(tmp_path):
    config_path = _setup(tmp_path, f"sqlite:///{tmp_path / 'db.sqlite'}", rows=10)
    text = (tmp_path / "invoices.csv").read_text().replace("2026-01-04;", "2026-02-30;", 1)
    (tmp_path / "invoices.csv").write_text(text)
    store, report = _sync(config_path)
    assert report.status == "failed"
    assert "line 4" in (report.error or "") and "issue_date" in (report.error or "")
    with store.connect() as connection:
        assert connection.execute(select(RECORD_TABLES["invoice"].c.id)).first() is None
    config_path.write_text(
        config_path.read_text().replace(
            'connector = "csv"', 'connector = "csv"\n[sources.settings]\nstrict = false'
        )
    )
    _, report = _sync(config_path)
    assert report.status == "succeeded"
    assert (report.total("created"), report.total("rejected")) == (9, 1)
    assert "line 4" in report.rejects[0]["origin"]


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def test_sigkill_mid_batch_then_rerun_equals_an_uninterrupted_run(tmp_path, backend, request):
    db_url = (
        f"sqlite:///{tmp_path / 'killed.sqlite'}"
        if backend == "sqlite"
        else request.getfixturevalue("pg_url")
    )
    config_path = _setup(tmp_path, db_url)
    store = Store(db_url)
    store.upgrade()
    marker = tmp_path / "in-batch-3"
    process = subprocess.Popen([sys.executable, str(HERE / "slow_sync.py"), str(config_path), str(marker)])
    deadline = time.monotonic() + 60
    while not marker.exists():
        assert process.poll() is None, "the sync process ended before reaching batch 3"
        assert time.monotonic() < deadline, "batch 3 not reached in 60 s"
        time.sleep(0.05)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    with store.connect() as connection:
        partial = connection.execute(select(RECORD_TABLES["invoice"].c.id)).all()
        [run] = connection.execute(select(sync_runs)).all()
    assert len(partial) == 1000, "exactly the two committed batches survive the kill"
    assert run.status == "running"

    _, resumed = _sync(config_path)
    assert resumed.status == "succeeded"
    assert resumed.counts()["created"] == 2000
    with store.connect() as connection:
        statuses = [r.status for r in connection.execute(select(sync_runs).order_by(sync_runs.c.id))]
    assert statuses == ["interrupted", "succeeded"]

    clean_dir = tmp_path / "clean"
    clean_dir.mkdir()
    clean_config = _setup(clean_dir, f"sqlite:///{clean_dir / 'clean.sqlite'}")
    clean_store, _ = _sync(clean_config)
    assert _snapshot(store) == _snapshot(clean_store)


def test_two_runs_of_one_source_never_overlap(tmp_path):
    config_path = _setup(tmp_path, f"sqlite:///{tmp_path / 'db.sqlite'}", rows=10)
    config = load_config(config_path)
    store = Store(config.store_url())
    store.upgrade()
    from erp_recovery.store.locks import named_lock

    holding = threading.Event()
    release = threading.Event()

    def hold() -> None:
        with named_lock(Store(config.store_url()), "sync:books"):
            holding.set()
            release.wait(10)

    thread = threading.Thread(target=hold)
    thread.start()
    holding.wait(5)
    report = SyncRunner(store, config).sync("books")
    release.set()
    thread.join()
    assert report.status == "failed"
    assert "already running" in (report.error or "")
