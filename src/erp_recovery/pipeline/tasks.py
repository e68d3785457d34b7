"""Worker mode: the pipeline as Celery tasks, with Redis or RabbitMQ as broker and PostgreSQL as store.

Tasks (all idempotent, acknowledged only when finished — ``acks_late`` — so a task taken by a
worker that dies is delivered again):

- ``erp_recovery.start_run(company, sources=None)`` (queue ``<prefix>.control``; what beat sends):
  opens a run with one row per stage, unless the company has a run in progress (no overlap; a
  run with no progress for ``[workers] run_timeout_seconds`` is abandoned first);
- ``erp_recovery.run_stage(run_id, stage)``: one task per (company, source) sync (queue
  ``<prefix>.sync``) and per company stage (queue ``<prefix>.stages``).

Ordering lives in the store, not in the broker: after each stage, the worker that ran it looks at
the run's stage rows (under the lock ``advance:<run>``) and sends the stages whose dependencies
have all succeeded. So the syncs of one company run in parallel, its stages run strictly in
dependency order, and different companies run side by side on however many workers there are;
a failed stage skips its dependents for that company only.

A delivered task takes the lock ``stage:<run>:<stage>`` and re-reads the stage row: a stage
already finished is not run again (a redelivery after the work was done), a stage left
``running`` by a dead worker is run again (stages are idempotent; the sync resumes after its last
committed batch). Syncs also hold the single-machine lock ``sync:<source>``, so a worker and an
``erp-recovery sync`` never read one source at once. Transient failures (TransientError, 503s
after the connector's own retries, a held lock, the database restarting) are retried with
exponential back-off up to ``[workers] max_retries`` times, then recorded ``failed``.
"""

from __future__ import annotations

import logging
import os
from datetime import date
from typing import Any

from celery import Celery, Task
from celery.schedules import crontab
from celery.signals import worker_process_init
from kombu import Queue

from erp_recovery.config import AppConfig, load_config
from erp_recovery.errors import LockBusyError
from erp_recovery.pipeline import store as pipeline_store
from erp_recovery.pipeline.observability import install_log_context, log_context
from erp_recovery.pipeline.runner import PipelineRunner, is_database_outage
from erp_recovery.pipeline.schedule import configured_jobs
from erp_recovery.pipeline.settings import WorkerSettings
from erp_recovery.store import Store
from erp_recovery.store.locks import named_lock

log = logging.getLogger(__name__)

START_RUN = "erp_recovery.start_run"
RUN_STAGE = "erp_recovery.run_stage"


class _Runtime:
    """The configuration and store of this worker process (inherited by prefork children)."""

    config: AppConfig | None = None
    store: Store | None = None

    @classmethod
    def get(cls) -> tuple[AppConfig, Store]:
        if cls.config is None:
            cls.config = load_config(os.environ.get("ERP_RECOVERY_CONFIG"))
        if cls.store is None:
            cls.store = Store(cls.config.store_url(os.environ.get("ERP_RECOVERY_DB")))
        return cls.config, cls.store


@worker_process_init.connect
def _after_fork(**_kwargs: Any) -> None:
    # Connections opened by the parent must not be shared with the forked child.
    if _Runtime.store is not None:
        _Runtime.store.engine.dispose(close=False)
    install_log_context()


def queue_names(config: AppConfig) -> list[str]:
    prefix = config.section("workers", WorkerSettings).queue_prefix
    return [f"{prefix}.control", f"{prefix}.sync", f"{prefix}.stages"]


def _queue_for(config: AppConfig, stage: str) -> str:
    prefix = config.section("workers", WorkerSettings).queue_prefix
    return f"{prefix}.sync" if stage.startswith("sync:") else f"{prefix}.stages"


def _backoff(settings: WorkerSettings, retries: int) -> float:
    return float(min(settings.retry_backoff_seconds * (2**retries), settings.retry_backoff_max_seconds))


def advance(app: Celery, config: AppConfig, store: Store, run_id: int) -> list[str]:
    """Send the stages of the run that became ready; close the run when every stage is done."""
    runner = PipelineRunner(store, config, trigger="worker", metrics=True)
    with named_lock(store, f"advance:{run_id}", wait=60):
        ready = runner.ready_stages(run_id)
        for stage in ready:
            app.send_task(RUN_STAGE, args=[run_id, stage], queue=_queue_for(config, stage))
        if ready:
            with store.begin() as connection:
                pipeline_store.mark_stages(connection, run_id, ready, "queued")
        else:
            report = runner.finish_run(run_id)
            if report.status != "running":
                log.info("run %s of company %s ended: %s", report.run_key, report.company, report.status)
    return ready


def start_run(
    app: Celery,
    config: AppConfig,
    store: Store,
    company: str,
    *,
    sources: list[str] | None = None,
    as_of: date | None = None,
    trigger: str = "worker",
) -> tuple[int | None, str]:
    """Open a worker-mode run of a company and send its first stages; (run id, run key) or (None, why)."""
    settings = config.section("workers", WorkerSettings)
    runner = PipelineRunner(store, config, trigger=trigger)
    selected = runner.selected_sources(company, sources)
    stages = runner.stages_for(company, selected)
    with named_lock(store, f"pipeline-start:{company}", wait=60):
        run_id, key, _ = runner.open_run(
            company,
            selected if sources else None,
            stages,
            as_of or date.today(),
            resume=False,
            in_process=False,
            run_timeout=settings.run_timeout_seconds,
        )
    if run_id is None:
        log.warning("company %s: %s; not starting another", company, key)
        return None, key
    with log_context(run_id=key, company=company):
        log.info("run %s of company %s started by %s", key, company, trigger)
        advance(app, config, store, run_id)
    return run_id, key


def celery_app_for(config: AppConfig, store: Store | None = None) -> Celery:
    """The Celery application of a configuration (broker, queues, routes, reliability settings)."""
    settings = config.section("workers", WorkerSettings)
    _Runtime.config = config
    if store is not None:
        _Runtime.store = store
    app = Celery("erp_recovery", broker=settings.broker_url, set_as_current=False)
    control, sync_queue, stages_queue = queue_names(config)
    app.conf.update(
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_ignore_result=True,
        task_serializer="json",
        accept_content=["json"],
        task_default_queue=control,
        task_queues=[Queue(control), Queue(sync_queue), Queue(stages_queue)],
        task_routes={START_RUN: {"queue": control}, RUN_STAGE: {"queue": stages_queue}},
        broker_transport_options={"visibility_timeout": settings.visibility_timeout_seconds},
        broker_connection_retry_on_startup=True,
        worker_hijack_root_logger=False,
        worker_cancel_long_running_tasks_on_connection_loss=True,
        enable_utc=True,
        timezone="UTC",
    )

    @app.task(name=START_RUN, bind=True, max_retries=settings.max_retries)
    def start_run_task(
        self: Task,
        company: str,
        sources: list[str] | None = None,
        as_of: str | None = None,
        trigger: str = "beat",
    ) -> str | None:
        config_, store_ = _Runtime.get()
        try:
            _, key = start_run(
                app,
                config_,
                store_,
                company,
                sources=sources,
                as_of=date.fromisoformat(as_of) if as_of else None,
                trigger=trigger,
            )
        except Exception as exc:
            if not (is_database_outage(exc) or isinstance(exc, LockBusyError)):
                raise
            if self.request.retries >= settings.max_retries:
                raise
            retry_error = exc
        else:
            return key
        raise self.retry(exc=retry_error, countdown=_backoff(settings, self.request.retries))

    @app.task(name=RUN_STAGE, bind=True, max_retries=settings.max_retries)
    def run_stage_task(self: Task, run_id: int, stage_name: str) -> str:
        config_, store_ = _Runtime.get()
        final_attempt = self.request.retries >= settings.max_retries
        try:
            outcome = _run_stage(config_, store_, run_id, stage_name, final_attempt=final_attempt)
            if outcome != "retry":
                advance(app, config_, store_, run_id)
        except Exception as exc:
            if not (is_database_outage(exc) or isinstance(exc, LockBusyError)) or final_attempt:
                raise
            log.warning("stage %s of run %s: %s; retrying", stage_name, run_id, str(exc).splitlines()[0])
            raise self.retry(exc=exc, countdown=_backoff(settings, self.request.retries)) from None
        if outcome == "retry":
            raise self.retry(countdown=_backoff(settings, self.request.retries))
        return outcome

    return app


def _run_stage(config: AppConfig, store: Store, run_id: int, stage_name: str, *, final_attempt: bool) -> str:
    with store.connect() as connection:
        run = pipeline_store.get_run(connection, run_id)
    if run is None:
        log.warning("run %s does not exist (any more); task dropped", run_id)
        return "missing"
    runner = PipelineRunner(store, config, trigger=str(run.trigger))
    selected = runner.selected_sources(run.company_code, run.sources or None)
    stages = {stage.name: stage for stage in runner.stages_for(run.company_code, selected)}
    stage = stages.get(stage_name)
    with log_context(run_id=run.run_key, company=run.company_code, stage=stage_name):
        if stage is None:
            with store.begin() as connection:
                pipeline_store.mark_stages(
                    connection,
                    run_id,
                    [stage_name],
                    "failed",
                    error="this stage is no longer in the configuration",
                )
            return "failed"
        try:
            with named_lock(store, f"stage:{run_id}:{stage_name}", wait=0):
                report = runner.execute_stage(
                    run_id, stage, final_attempt=final_attempt, retry_status="queued"
                )
        except LockBusyError:
            # The same stage is running on another worker (a redelivery while it runs): it finishes it.
            log.info(
                "stage %s of run %s is already running elsewhere; this delivery is dropped",
                stage_name,
                run.run_key,
            )
            return "duplicate"
        if report.retryable and not final_attempt:
            return "retry"
        return report.status


def beat_schedule(config: AppConfig) -> dict[str, dict[str, Any]]:
    """Celery beat entries for the configured jobs (the same cron expressions as ``schedule``)."""
    control = queue_names(config)[0]
    entries: dict[str, dict[str, Any]] = {}
    for job in configured_jobs(config):
        minute, hour, day_of_month, month_of_year, day_of_week = job.cron.split()
        entries[f"erp-recovery {job.key}"] = {
            "task": START_RUN,
            "schedule": crontab(
                minute=minute,
                hour=hour,
                day_of_month=day_of_month,
                month_of_year=month_of_year,
                day_of_week=day_of_week,
            ),
            "kwargs": {
                "company": job.company,
                "sources": list(job.sources) if job.sources else None,
                "trigger": "beat",
            },
            "options": {"queue": control},
        }
    return entries
