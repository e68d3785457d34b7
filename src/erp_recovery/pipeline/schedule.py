"""``erp-recovery schedule``: the pipeline on cron expressions, in the foreground.

Jobs come from the configuration: one per company (``[schedule] companies.<code>`` or
``[schedule] default``) running its whole pipeline, and one per source with its own
``schedule`` syncing that source and running the company's stages after it.

- **No overlap**: a job whose company is still running when it fires again is skipped (and
  counted), and the company lock ``pipeline:<company>`` keeps away a manual ``erp-recovery run``
  or a second scheduler on the same store; missed fires are coalesced into one.
- **Graceful stop**: on SIGTERM or SIGINT no new job starts and running ones stop after the batch
  they are storing (the sync commits batch by batch: nothing is half-written, the next run resumes
  after it); a second signal exits at once (the open batch is rolled back by the database).
- **Health**: a heartbeat at least every ``tick`` seconds, written to ``health_file`` and served on
  ``GET /healthz`` with ``GET /metrics`` (Prometheus) when ``http`` is set.
"""

from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from croniter import croniter

from erp_recovery.config import AppConfig
from erp_recovery.errors import ConfigError
from erp_recovery.pipeline.observability import Health
from erp_recovery.pipeline.runner import PipelineReport, PipelineRunner
from erp_recovery.pipeline.settings import ScheduleSettings, check_cron
from erp_recovery.pipeline.stage import CancelToken
from erp_recovery.store import Store

log = logging.getLogger(__name__)


@dataclass
class Job:
    """A cron expression and what it runs: a company's pipeline, or one source then the stages."""

    company: str
    cron: str
    sources: tuple[str, ...] | None = None
    next_at: float = 0.0
    last: dict[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> str:
        return f"{self.company}/{','.join(self.sources)}" if self.sources else self.company

    def schedule_next(self, after: float) -> None:
        self.next_at = float(croniter(self.cron, after).get_next(float))


def configured_jobs(config: AppConfig) -> list[Job]:
    """The jobs the configuration asks for (a ConfigError names a bad cron expression)."""
    settings = config.section("schedule", ScheduleSettings)
    jobs: list[Job] = []
    for code in settings.companies:
        config.company(code)
    for company in config.companies:
        expression = settings.companies.get(company.code, settings.default)
        if expression:
            jobs.append(Job(company=company.code, cron=expression))
    for source in config.sources_of():
        if source.schedule:
            try:
                expression = check_cron(source.schedule)
            except ValueError as exc:
                raise ConfigError(str(exc), key=f"sources[{source.name}].schedule") from None
            jobs.append(Job(company=source.company, cron=expression, sources=(source.name,)))
    return jobs


class Scheduler:
    """Runs the configured jobs until stopped (see the module docstring)."""

    def __init__(
        self,
        store: Store,
        config: AppConfig,
        *,
        cancel: CancelToken | None = None,
        health: Health | None = None,
        tick: float = 15.0,
        concurrency: int | None = None,
    ) -> None:
        self.store = store
        self.config = config
        self.settings = config.section("schedule", ScheduleSettings)
        self.cancel = cancel or CancelToken()
        self.health = health or Health(
            max_age=self.settings.health_max_age_seconds, path=self.settings.health_file
        )
        self.tick = tick
        self.concurrency = concurrency or self.settings.concurrency
        self.jobs = configured_jobs(config)
        self.running: dict[str, Future[PipelineReport]] = {}
        self.skipped_overlaps = 0
        self._lock = threading.Lock()

    def _run_job(self, job: Job) -> PipelineReport:
        runner = PipelineRunner(self.store, self.config, trigger="schedule", cancel=self.cancel)
        try:
            report = runner.run(job.company, sources=job.sources)
        except Exception as exc:  # one job's failure must not stop the scheduler
            log.exception("job %s failed", job.key)
            report = PipelineReport(
                company=job.company, status="failed", error=f"{type(exc).__name__}: {exc}"
            )
        job.last = {
            "status": report.status,
            "run_id": report.run_key,
            "ended_at": datetime.now(UTC).isoformat(),
            "error": report.error,
        }
        return report

    def _start_due(self, executor: ThreadPoolExecutor, now: float) -> int:
        started = 0
        for job in self.jobs:
            if job.next_at > now:
                continue
            job.schedule_next(now)
            with self._lock:
                busy = any(
                    not future.done() and key.split("/", 1)[0] == job.company
                    for key, future in self.running.items()
                )
                if busy:
                    self.skipped_overlaps += 1
                    log.warning(
                        "job %s: company %s is still running; this turn is skipped", job.key, job.company
                    )
                    continue
                log.info("job %s starts (cron %s)", job.key, job.cron)
                self.running[job.key] = executor.submit(self._run_job, job)
                started += 1
        return started

    def _heartbeat(self, status: str = "ok") -> None:
        with self._lock:
            running = sorted(key for key, future in self.running.items() if not future.done())
        self.health.beat(
            status=status,
            running=running,
            skipped_overlaps=self.skipped_overlaps,
            jobs={
                job.key: {
                    "cron": job.cron,
                    "next_at": datetime.fromtimestamp(job.next_at, UTC).isoformat() if job.next_at else None,
                    "last": job.last,
                }
                for job in self.jobs
            },
        )

    def run(self, *, once: bool = False) -> int:
        """Run until cancelled (or, with ``once``, every job once now); returns the number of runs."""
        if not self.jobs:
            raise ConfigError(
                "nothing to schedule: set [schedule] default (or companies.<code>) or a source's schedule",
                key="schedule",
            )
        started = 0
        now = time.time()
        for job in self.jobs:
            if once:
                job.next_at = now
            else:
                job.schedule_next(now)
        executor = ThreadPoolExecutor(max_workers=self.concurrency, thread_name_prefix="erp-recovery-job")
        try:
            self._heartbeat()
            while not self.cancel.cancelled:
                started += self._start_due(executor, time.time())
                self._heartbeat()
                if once:
                    break
                next_at = min(job.next_at for job in self.jobs)
                self.cancel.wait(max(0.05, min(self.tick, next_at - time.time())))
                with self._lock:
                    for key in [key for key, future in self.running.items() if future.done()]:
                        del self.running[key]
            self._wait_for_running()
        finally:
            executor.shutdown(wait=not self.cancel.cancelled, cancel_futures=True)
        self._heartbeat("stopped")
        return started

    def _wait_for_running(self) -> None:
        """Wait for running jobs: all of them (``once``), or up to stop_timeout_seconds once cancelled."""
        deadline = time.time() + self.settings.stop_timeout_seconds
        with self._lock:
            futures = list(self.running.items())
        for key, future in futures:
            while not future.done():
                if self.cancel.cancelled and time.time() >= deadline:
                    log.warning(
                        "job %s did not stop within %ss; leaving it", key, self.settings.stop_timeout_seconds
                    )
                    break
                self._heartbeat("stopping" if self.cancel.cancelled else "ok")
                future_wait = 0.2 if self.cancel.cancelled else 1.0
                try:
                    future.result(timeout=future_wait)
                except Exception:  # TimeoutError: still running; a job's own errors are in its report
                    continue
