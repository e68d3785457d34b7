"""The per-company pipeline runner: stages in order, records in the store, failures kept local.

``PipelineRunner.run("acme")`` (what ``erp-recovery run`` and the scheduler call):

1. takes the company's lock ``pipeline:<company>`` — a second run of the same company waits or is
   skipped, never overlaps; other companies run freely;
2. resumes the company's last run if it was interrupted (process killed) or cancelled (SIGTERM)
   the same day with the same sources — stages that succeeded in it are not run again — or
   starts a new run with one ``pending`` row per stage;
3. runs each stage whose dependencies succeeded; a stage whose dependency failed is ``skipped``
   with the reason; a transient failure (TransientError, a held lock, the database restarting) is
   retried ``[pipeline] stage_retries`` times with exponential back-off, then recorded ``failed``;
4. the ``final`` stage (report) runs last whatever happened; the run ends ``succeeded``,
   ``failed`` (some stage failed) or ``cancelled``.

The worker mode (:mod:`erp_recovery.pipeline.tasks`) uses the same building blocks —
:meth:`PipelineRunner.open_run`, :meth:`PipelineRunner.ready_stages` and
:meth:`PipelineRunner.execute_stage` — one Celery task per stage.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

from erp_recovery.config import AppConfig
from erp_recovery.errors import (
    ConfigError,
    ErpRecoveryError,
    LockBusyError,
    StoreUnavailableError,
    TransientError,
)
from erp_recovery.pipeline import store as pipeline_store
from erp_recovery.pipeline.observability import Metrics, log_context
from erp_recovery.pipeline.settings import PipelineSettings
from erp_recovery.pipeline.stage import (
    CancelToken,
    RunCancelled,
    Stage,
    StageContext,
    StageReport,
    StageStatus,
    dependency_matches,
    is_final,
)
from erp_recovery.pipeline.stages import build_stages
from erp_recovery.store import Store
from erp_recovery.store import runs as run_store
from erp_recovery.store.locks import named_lock

log = logging.getLogger(__name__)

StageFactory = Callable[[AppConfig, str, Sequence[str]], list[Stage]]

#: Triggers of runs driven by one process holding the company lock for the whole run.
IN_PROCESS_TRIGGERS = ("cli", "schedule", "approvals")
BLOCKING = ("failed", "skipped", "cancelled")


def is_database_outage(exc: BaseException) -> bool:
    """The store is unreachable or the connection died (server restart): worth retrying."""
    if isinstance(exc, StoreUnavailableError | PoolTimeoutError):
        return True
    if isinstance(exc, OperationalError):
        return True
    return isinstance(exc, DBAPIError) and bool(exc.connection_invalidated)


@dataclass
class StageOutcome:
    name: str
    status: str
    attempts: int = 0
    duration: float | None = None
    counts: dict[str, int] = field(default_factory=dict)
    details: dict[str, Any] = field(default_factory=dict)
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "stage": self.name,
            "status": self.status,
            "attempts": self.attempts,
            "duration_seconds": self.duration,
            "counts": self.counts,
            "error": self.error,
        }


@dataclass
class PipelineReport:
    """What one run of one company did."""

    company: str
    status: str
    run_id: int | None = None
    run_key: str | None = None
    as_of: date | None = None
    resumed: bool = False
    stages: list[StageOutcome] = field(default_factory=list)
    error: str | None = None

    def stage(self, name: str) -> StageOutcome | None:
        return next((stage for stage in self.stages if stage.name == name), None)

    def to_dict(self) -> dict[str, Any]:
        return {
            "company": self.company,
            "run_id": self.run_key,
            "status": self.status,
            "as_of": self.as_of.isoformat() if self.as_of else None,
            "resumed": self.resumed,
            "stages": [stage.to_dict() for stage in self.stages],
            "error": self.error,
        }


def _report_from_row(row: Any) -> StageReport:
    status: StageStatus = row.status if row.status in ("succeeded", "failed", "skipped") else "failed"
    return StageReport(
        status=status, counts=dict(row.counts or {}), details=dict(row.details or {}), error=row.error
    )


def _run_status(rows: Sequence[Any]) -> str:
    statuses = {row.status for row in rows}
    if "cancelled" in statuses:
        return "cancelled"
    if "failed" in statuses:
        return "failed"
    return "succeeded"


class PipelineRunner:
    """Runs the pipeline of configured companies into a store (see the module docstring)."""

    def __init__(
        self,
        store: Store,
        config: AppConfig,
        *,
        trigger: str = "cli",
        cancel: CancelToken | None = None,
        stage_factory: StageFactory = build_stages,
        metrics: bool = True,
    ) -> None:
        self.store = store
        self.config = config
        self.trigger = trigger
        self.cancel = cancel or CancelToken()
        self.stage_factory = stage_factory
        self.settings = config.section("pipeline", PipelineSettings)
        self.metrics = Metrics.get() if metrics else None

    # -- planning ---------------------------------------------------------------------------------

    def selected_sources(self, company: str, names: Sequence[str] | None) -> list[str]:
        self.config.company(company)
        enabled = [source.name for source in self.config.sources_of(company)]
        if not names:
            return enabled
        for name in names:
            source = self.config.source(name)
            if source.company != company:
                raise ConfigError(f"source {name!r} belongs to company {source.company!r}, not {company!r}")
        return list(names)

    def stages_for(self, company: str, selected: Sequence[str]) -> list[Stage]:
        return self.stage_factory(self.config, company, selected)

    # -- one process, whole run -----------------------------------------------------------------

    def run(
        self,
        company: str,
        *,
        sources: Sequence[str] | None = None,
        as_of: date | None = None,
        resume: bool = True,
        lock_wait: float = 0.0,
    ) -> PipelineReport:
        """Run (or resume) the pipeline of one company in this process."""
        as_of = as_of or date.today()
        selected = self.selected_sources(company, sources)
        stages = self.stages_for(company, selected)
        try:
            with named_lock(self.store, f"pipeline:{company}", wait=lock_wait):
                return self._run_locked(company, selected, stages, as_of, resume, explicit=bool(sources))
        except LockBusyError:
            log.warning("company %s: a run is already in progress; this one is skipped", company)
            return PipelineReport(
                company=company,
                status="skipped",
                as_of=as_of,
                error=f"a run of company {company} is already in progress",
            )

    def _run_locked(
        self,
        company: str,
        selected: list[str],
        stages: list[Stage],
        as_of: date,
        resume: bool,
        *,
        explicit: bool,
    ) -> PipelineReport:
        run_id, run_key, resumed = self._with_db_retries(
            lambda: self.open_run(
                company, selected if explicit else None, stages, as_of, resume=resume, in_process=True
            )
        )
        if run_id is None:
            return PipelineReport(company=company, status="skipped", as_of=as_of, error=run_key)
        by_name = {stage.name: stage for stage in stages}
        with log_context(run_id=run_key, company=company):
            log.info(
                "run %s of company %s %s (as of %s)",
                run_key,
                company,
                "resumed" if resumed else "started",
                as_of,
            )
            while True:
                if self.cancel.cancelled:
                    self._with_db_retries(lambda: self._cancel_pending(run_id))
                ready = self._with_db_retries(lambda: self.ready_stages(run_id))
                if not ready:
                    break
                self._execute_with_retries(run_id, by_name[ready[0]])
            report = self._with_db_retries(lambda: self.finish_run(run_id))
        report.resumed = resumed
        log.info("run %s of company %s ended: %s", run_key, company, report.status)
        return report

    def _cancel_pending(self, run_id: int) -> None:
        with self.store.begin() as connection:
            rows = pipeline_store.stage_rows(connection, run_id)
            names = [row.stage for row in rows if row.status in ("pending", "queued") and not row.final]
            pipeline_store.mark_stages(connection, run_id, names, "cancelled", error=self.cancel.reason)

    def _backoff(self, attempt: int) -> float:
        wait = self.settings.retry_wait_seconds * (2 ** max(0, attempt - 1))
        return float(min(wait, self.settings.retry_max_wait_seconds))

    def _with_db_retries(self, action: Callable[[], Any]) -> Any:
        """Run a store operation, waiting out a database restart (bounded by stage_retries)."""
        attempt = 0
        while True:
            try:
                return action()
            except Exception as exc:
                attempt += 1
                if not is_database_outage(exc) or attempt > self.settings.stage_retries:
                    raise
                wait = self._backoff(attempt)
                log.warning(
                    "the store is unavailable (%s); retrying in %.1fs", str(exc).splitlines()[0], wait
                )
                time.sleep(wait)

    def _execute_with_retries(self, run_id: int, stage: Stage) -> None:
        attempt = 0
        while True:
            attempt += 1
            last = attempt > self.settings.stage_retries or self.cancel.cancelled
            try:
                report = self.execute_stage(run_id, stage, final_attempt=last)
            except Exception as exc:
                if not is_database_outage(exc) or last:
                    raise
                log.warning("stage %s: the store is unavailable (%s)", stage.name, str(exc).splitlines()[0])
                report = StageReport(status="failed", retryable=True, error=str(exc).splitlines()[0])
            if not report.retryable or last:
                return
            wait = self._backoff(attempt)
            log.warning(
                "stage %s failed (%s); attempt %d, retrying in %.1fs", stage.name, report.error, attempt, wait
            )
            if self.cancel.wait(wait):
                with self.store.begin() as connection:
                    pipeline_store.mark_stages(
                        connection, run_id, [stage.name], "cancelled", error=self.cancel.reason
                    )
                return

    # -- building blocks shared with the worker mode ---------------------------------------------------

    def open_run(
        self,
        company: str,
        selected: Sequence[str] | None,
        stages: Sequence[Stage],
        as_of: date,
        *,
        resume: bool = True,
        in_process: bool,
        run_timeout: float | None = None,
    ) -> tuple[int | None, str, bool]:
        """Resume or create the run; (run id, run key, resumed), or (None, why) when one is active."""
        layout = [(stage.name, tuple(stage.depends_on), is_final(stage)) for stage in stages]
        with self.store.begin() as connection:
            company_id = run_store.ensure_company(connection, self.config.company(company))
            for source in self.config.sources_of(company):
                run_store.ensure_source(connection, source, company_id)
            for row in pipeline_store.active_runs(connection, company_id):
                if row.trigger in IN_PROCESS_TRIGGERS and in_process:
                    # We hold the company lock: the process of that run is gone.
                    pipeline_store.set_run_status(
                        connection, row.id, "interrupted", error="the process stopped before the run finished"
                    )
                elif run_timeout is not None and row.updated_at < pipeline_store.stale_before(run_timeout):
                    pipeline_store.set_run_status(
                        connection,
                        row.id,
                        "abandoned",
                        error=f"no progress for {run_timeout:.0f}s: tasks lost",
                    )
                else:
                    return None, f"run {row.run_key} of company {company} is still in progress", False
            previous = pipeline_store.latest_run(connection, company_id)
            if (
                resume
                and previous is not None
                and previous.status in ("interrupted", "cancelled")
                and previous.as_of == as_of
                and (previous.sources or None) == (list(selected) if selected is not None else None)
                and [(row.stage, tuple(row.depends_on or ()), bool(row.final))
                     for row in pipeline_store.stage_rows(connection, previous.id)] == layout
            ):  # fmt: skip
                pipeline_store.reopen_run(connection, previous.id)
                return int(previous.id), str(previous.run_key), True
            run_id, run_key = pipeline_store.create_run(
                connection,
                company_id=company_id,
                as_of=as_of,
                trigger=self.trigger,
                selected_sources=selected,
                stages=layout,
            )
            return run_id, run_key, False

    def ready_stages(self, run_id: int) -> list[str]:
        """Pending stages whose dependencies all succeeded (in order); blocked ones become ``skipped``."""
        with self.store.begin() as connection:
            rows = pipeline_store.stage_rows(connection, run_id)
            status = {row.stage: row.status for row in rows}
            ready: list[str] = []
            changed = True
            while changed:
                changed = False
                ready = []
                for row in rows:
                    if status[row.stage] != "pending":
                        continue
                    if row.final:
                        if all(
                            status[other.stage] in pipeline_store.TERMINAL_STAGE
                            for other in rows
                            if not other.final
                        ):
                            ready.append(row.stage)
                        continue
                    dependencies = [
                        name
                        for name in status
                        if name != row.stage
                        and any(dependency_matches(dep, name) for dep in row.depends_on or ())
                    ]
                    blocked = [name for name in dependencies if status[name] in BLOCKING]
                    if blocked:
                        reason = "blocked: " + ", ".join(f"{name} {status[name]}" for name in blocked)
                        pipeline_store.mark_stages(connection, run_id, [row.stage], "skipped", error=reason)
                        status[row.stage] = "skipped"
                        changed = True
                    elif all(status[name] == "succeeded" for name in dependencies):
                        ready.append(row.stage)
            return ready

    def context_for(self, run: Any, rows: Sequence[Any], stage_name: str) -> StageContext:
        company = self.config.company(run.company_code)
        selected = (
            tuple(run.sources) if run.sources else tuple(s.name for s in self.config.sources_of(company.code))
        )
        results = {
            row.stage: _report_from_row(row)
            for row in rows
            if row.stage != stage_name and row.status in pipeline_store.TERMINAL_STAGE
        }
        return StageContext(
            store=self.store,
            config=self.config,
            company=company,
            as_of=run.as_of,
            run_id=int(run.id),
            run_key=str(run.run_key),
            sources=selected,
            trigger=str(run.trigger),
            results=results,
            cancel=self.cancel,
        )

    def execute_stage(
        self, run_id: int, stage: Stage, *, final_attempt: bool, retry_status: str = "pending"
    ) -> StageReport:
        """Run one stage once and record it. A retryable failure that is not the last attempt is
        recorded with ``retry_status`` (the caller retries); anything else is final."""
        with self.store.begin() as connection:
            run = pipeline_store.get_run(connection, run_id)
            rows = pipeline_store.stage_rows(connection, run_id)
            row = next(row for row in rows if row.stage == stage.name)
            if row.status in pipeline_store.TERMINAL_STAGE:
                return _report_from_row(row)
            attempt = pipeline_store.start_stage(connection, run_id, stage.name)
        context = self.context_for(run, rows, stage.name)
        started = time.monotonic()
        with log_context(run_id=context.run_key, company=context.company.code, stage=stage.name):
            log.info("stage %s started (attempt %d)", stage.name, attempt)
            report = self._run_stage(stage, context)
            duration = time.monotonic() - started
            cancelled = report.status == "failed" and isinstance(report.details.get("cancelled"), bool)
            status: str
            error: str | None
            if report.retryable and not final_attempt and not cancelled:
                status = retry_status
                error = f"attempt {attempt} failed: {report.error}; will retry"
            else:
                status = "cancelled" if cancelled else report.status
                error = report.error
            with self.store.begin() as connection:
                pipeline_store.finish_stage(
                    connection,
                    run_id,
                    stage.name,
                    status=status,
                    duration=duration,
                    counts=report.counts,
                    details=report.details,
                    error=error,
                )
            level = logging.INFO if status == "succeeded" else logging.WARNING
            log.log(level, "stage %s %s in %.2fs %s%s", stage.name, status, duration, report.counts,
                    f": {error}" if error else "")  # fmt: skip
            if self.metrics is not None and status in pipeline_store.TERMINAL_STAGE:
                self.metrics.observe_stage(context.company.code, stage.name, status, duration, report.counts)
        return report

    def _run_stage(self, stage: Stage, context: StageContext) -> StageReport:
        try:
            return stage.run(context)
        except RunCancelled as exc:
            return StageReport(status="failed", error=exc.message, details={"cancelled": True})
        except TransientError as exc:
            return StageReport(status="failed", error=exc.message, retryable=True)
        except LockBusyError as exc:
            return StageReport(status="failed", error=exc.message, retryable=True)
        except ErpRecoveryError as exc:
            if is_database_outage(exc):
                return StageReport(status="failed", error=exc.message, retryable=True)
            return StageReport(status="failed", error=exc.message, details={"error": exc.to_dict()})
        except Exception as exc:
            if is_database_outage(exc):
                raise
            log.exception("stage %s crashed", stage.name)
            return StageReport(status="failed", error=f"unexpected {type(exc).__name__}: {exc}")

    def finish_run(self, run_id: int) -> PipelineReport:
        """Close the run when every stage is done (status, summary, metrics); returns its report."""
        with self.store.begin() as connection:
            run = pipeline_store.get_run(connection, run_id)
            rows = pipeline_store.stage_rows(connection, run_id)
            done = all(row.status in pipeline_store.TERMINAL_STAGE for row in rows)
            status = _run_status(rows) if done else "running"
            outcomes = [
                StageOutcome(
                    name=row.stage,
                    status=row.status,
                    attempts=int(row.attempts or 0),
                    duration=row.duration_seconds,
                    counts=dict(row.counts or {}),
                    details=dict(row.details or {}),
                    error=row.error,
                )
                for row in rows
            ]
            failed = [o.name for o in outcomes if o.status == "failed"]
            if done and run.status == "running":
                pipeline_store.set_run_status(
                    connection,
                    run_id,
                    status,
                    summary={o.name: o.to_dict() for o in outcomes},
                    error=f"failed: {', '.join(failed)}" if failed else None,
                )
                if self.metrics is not None:
                    self.metrics.observe_run(run.company_code, status)
            elif done:
                status = run.status
        return PipelineReport(
            company=run.company_code,
            status=status,
            run_id=run_id,
            run_key=run.run_key,
            as_of=run.as_of,
            stages=outcomes,
            error=f"failed: {', '.join(failed)}" if failed else None,
        )


def run_companies(
    store: Store,
    config: AppConfig,
    companies: Sequence[str] | None = None,
    *,
    as_of: date | None = None,
    trigger: str = "cli",
    cancel: CancelToken | None = None,
) -> list[PipelineReport]:
    """Run every (or the named) company one after the other; one company's failure stops none other."""
    runner = PipelineRunner(store, config, trigger=trigger, cancel=cancel)
    codes = list(companies) if companies else [company.code for company in config.companies]
    reports = []
    for code in codes:
        if runner.cancel.cancelled:
            break
        reports.append(runner.run(code, as_of=as_of))
    return reports
