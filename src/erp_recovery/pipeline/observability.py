"""Run ids in every log line, and Prometheus metrics for the scheduler and the workers.

Log lines emitted while a stage runs carry ``run_id`` (the run's key), ``company`` and ``stage``
as fields: with ``--json`` each line is one JSON object holding them, so one run can be followed
across processes and machines (``jq 'select(.run_id == "…")'``).

Metrics (``/metrics`` on the scheduler's or the worker's HTTP port):

- ``erp_recovery_stage_runs_total{company,stage,status}`` — stages finished, by outcome;
- ``erp_recovery_stage_duration_seconds{company,stage}`` — histogram of stage durations;
- ``erp_recovery_records_total{company,stage,counter}`` — what the stages counted (read, created...);
- ``erp_recovery_pipeline_runs_total{company,status}`` — runs finished, by outcome;
- ``erp_recovery_last_success_sync_timestamp_seconds{company,source}`` and
  ``erp_recovery_sync_lag_seconds{company,source}`` — read from the store at each scrape, so every
  process reports the same, true lag since the last successful sync of each source;
- ``erp_recovery_approvals_pending{company,source}`` — changes waiting for a person (from the store).

Celery's prefork workers share counters through ``PROMETHEUS_MULTIPROC_DIR`` (set by
``erp-recovery worker --metrics-port``).
"""

from __future__ import annotations

import contextlib
import contextvars
import json
import logging
import os
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from erp_recovery.store import Store

log = logging.getLogger(__name__)

_run_context: contextvars.ContextVar[dict[str, str] | None] = contextvars.ContextVar(
    "erp_recovery_run_context", default=None
)


@contextlib.contextmanager
def log_context(**fields: str | None) -> Iterator[None]:
    """Add ``fields`` (run_id, company, stage...) to every log record emitted inside the block."""
    current = dict(_run_context.get() or {})
    current.update({key: value for key, value in fields.items() if value is not None})
    token = _run_context.set(current)
    try:
        yield
    finally:
        _run_context.reset(token)


class RunContextFilter(logging.Filter):
    """Copies the current run context onto each record (shown by :class:`~erp_recovery.logs.JsonFormatter`)."""

    def filter(self, record: logging.LogRecord) -> bool:
        for key, value in (_run_context.get() or {}).items():
            if not hasattr(record, key):
                setattr(record, key, value)
        return True


def install_log_context() -> None:
    """Attach the run-context filter to the root handlers (idempotent)."""
    for handler in logging.getLogger().handlers:
        if not any(isinstance(existing, RunContextFilter) for existing in handler.filters):
            handler.addFilter(RunContextFilter())


# -- metrics -------------------------------------------------------------------------------------


class Metrics:
    """The process's counters and histograms (prometheus_client), created once."""

    _instance: Metrics | None = None
    _lock = threading.Lock()

    def __init__(self) -> None:
        from prometheus_client import Counter, Histogram

        self.stage_runs = Counter(
            "erp_recovery_stage_runs", "Pipeline stages finished, by outcome", ["company", "stage", "status"]
        )
        self.stage_duration = Histogram(
            "erp_recovery_stage_duration_seconds",
            "Duration of pipeline stages",
            ["company", "stage"],
            buckets=(0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600),
        )
        self.records = Counter(
            "erp_recovery_records",
            "What the stages counted (records read, created...)",
            ["company", "stage", "counter"],
        )
        self.pipeline_runs = Counter(
            "erp_recovery_pipeline_runs", "Pipeline runs finished, by outcome", ["company", "status"]
        )

    @classmethod
    def get(cls) -> Metrics:
        with cls._lock:
            if cls._instance is None:
                cls._instance = cls()
            return cls._instance

    def observe_stage(
        self, company: str, stage: str, status: str, duration: float, counts: Mapping[str, int]
    ) -> None:
        group = stage.split(":", 1)[0]
        self.stage_runs.labels(company, stage, status).inc()
        self.stage_duration.labels(company, stage).observe(duration)
        for counter, value in counts.items():
            if value:
                self.records.labels(company, group, counter).inc(value)

    def observe_run(self, company: str, status: str) -> None:
        self.pipeline_runs.labels(company, status).inc()


class StoreCollector:
    """Gauges read from the store at scrape time: sync lag and pending approvals."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def collect(self) -> Iterator[Any]:
        from prometheus_client.core import GaugeMetricFamily

        from erp_recovery.pipeline import store as pipeline_store

        last_success = GaugeMetricFamily(
            "erp_recovery_last_success_sync_timestamp_seconds",
            "Unix time the last successful sync of a source ended",
            labels=["company", "source"],
        )
        lag = GaugeMetricFamily(
            "erp_recovery_sync_lag_seconds",
            "Seconds since the last successful sync of a source ended (-1: never)",
            labels=["company", "source"],
        )
        pending = GaugeMetricFamily(
            "erp_recovery_approvals_pending",
            "Write-back changes waiting for a person",
            labels=["company", "source"],
        )
        up = GaugeMetricFamily("erp_recovery_store_up", "1 when the store answered this scrape")
        try:
            with self.store.connect() as connection:
                syncs = pipeline_store.last_successful_syncs(connection)
                waiting = pipeline_store.approval_counts(connection)
        except Exception as exc:  # a scrape must answer even when the database is down
            log.warning("metrics: cannot read the store: %s", exc)
            up.add_metric([], 0)
            yield up
            return
        now = time.time()
        for row in syncs:
            if row.ended_at is None:
                lag.add_metric([row.company, row.source], -1)
                continue
            ended = row.ended_at.timestamp()
            last_success.add_metric([row.company, row.source], ended)
            lag.add_metric([row.company, row.source], max(0.0, now - ended))
        for (company, source), count in waiting.items():
            pending.add_metric([company, source], count)
        up.add_metric([], 1)
        yield from (last_success, lag, pending, up)


def metrics_text(store: Store | None) -> bytes:
    """The Prometheus exposition of this process (or of every worker process, in multiprocess mode)."""
    from prometheus_client import REGISTRY as DEFAULT_REGISTRY
    from prometheus_client import CollectorRegistry, generate_latest

    Metrics.get()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    else:
        registry = DEFAULT_REGISTRY
    output = generate_latest(registry)
    if store is not None:
        extra = CollectorRegistry()
        extra.register(StoreCollector(store))
        output += generate_latest(extra)
    return output


# -- health ---------------------------------------------------------------------------------------


class Health:
    """The liveness of a long-running process: a heartbeat, written to a file and served over HTTP."""

    def __init__(self, *, max_age: float, path: str | Path | None = None, role: str = "scheduler") -> None:
        self.max_age = max_age
        self.path = Path(path) if path else None
        self.role = role
        self.state: dict[str, Any] = {"role": role, "pid": os.getpid(), "status": "starting"}
        self._beat = time.time()
        self._lock = threading.Lock()

    def beat(self, **state: Any) -> None:
        with self._lock:
            self._beat = time.time()
            self.state.update(state)
            self.state["status"] = state.get("status", "ok")
            self.state["heartbeat"] = self._beat
            snapshot = dict(self.state)
        if self.path is not None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            temporary = self.path.with_name(self.path.name + ".tmp")
            temporary.write_text(json.dumps(snapshot, default=str, indent=2) + "\n", encoding="utf-8")
            temporary.replace(self.path)

    def healthy(self) -> tuple[bool, dict[str, Any]]:
        with self._lock:
            snapshot = dict(self.state)
            age = time.time() - self._beat
        snapshot["heartbeat_age_seconds"] = round(age, 1)
        ok = age <= self.max_age and snapshot.get("status") not in ("stopping", "stopped")
        return ok, snapshot


class ObservabilityServer:
    """``GET /healthz`` (200 healthy / 503 not) and ``GET /metrics`` on 127.0.0.1 or any host:port."""

    def __init__(
        self, address: str, *, health: Health | None, store_factory: Callable[[], Store | None]
    ) -> None:
        host, _, port = address.rpartition(":")
        self.host = host or "127.0.0.1"
        self.port_requested = int(port)
        self.health = health
        self.store_factory = store_factory
        self._server: ThreadingHTTPServer | None = None

    @property
    def port(self) -> int:
        assert self._server is not None
        return int(self._server.server_address[1])

    def start(self) -> ObservabilityServer:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                return

            def do_GET(self) -> None:
                path = self.path.split("?", 1)[0]
                if path in ("/healthz", "/health"):
                    ok, snapshot = owner.health.healthy() if owner.health else (True, {"status": "ok"})
                    self._send(
                        200 if ok else 503, json.dumps(snapshot, default=str).encode(), "application/json"
                    )
                elif path == "/metrics":
                    try:
                        body = metrics_text(owner.store_factory())
                    except Exception as exc:
                        self._send(500, f"metrics failed: {exc}".encode(), "text/plain")
                        return
                    self._send(200, body, "text/plain; version=0.0.4; charset=utf-8")
                else:
                    self._send(404, b"not found: try /healthz or /metrics\n", "text/plain")

            def _send(self, status: int, body: bytes, content_type: str) -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self._server = ThreadingHTTPServer((self.host, self.port_requested), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, name="erp-recovery-http", daemon=True).start()
        log.info("health and metrics on http://%s:%s/healthz and /metrics", self.host, self.port)
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
