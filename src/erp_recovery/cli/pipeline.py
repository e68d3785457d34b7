"""Pipeline commands: ``run``, ``schedule``, ``approvals list|approve|reject``, ``worker``, ``beat``."""

from __future__ import annotations

import getpass
import os
import signal
from datetime import datetime
from typing import Any

import click

from erp_recovery.cli.context import AppContext, json_option, pass_app
from erp_recovery.errors import ConfigError
from erp_recovery.pipeline import store as pipeline_store
from erp_recovery.pipeline.observability import Health, ObservabilityServer, install_log_context
from erp_recovery.pipeline.runner import PipelineReport, PipelineRunner
from erp_recovery.pipeline.settings import ScheduleSettings
from erp_recovery.pipeline.stage import CancelToken
from erp_recovery.pipeline.stages import apply_source, missing_stages


def _counts_text(counts: dict[str, Any] | None) -> str:
    return " ".join(f"{key}={value}" for key, value in (counts or {}).items() if value)


def _duration(seconds: float | None) -> str:
    return "" if seconds is None else f"{seconds:.2f}s"


def _install_signals(cancel: CancelToken, app: AppContext) -> None:
    """First SIGTERM/SIGINT: stop after the current batch. Second: exit at once."""

    def handler(signum: int, _frame: Any) -> None:
        name = signal.Signals(signum).name
        if cancel.cancelled:
            app.stderr.print(f"{name} again: exiting now (the open batch is rolled back)")
            os._exit(130)
        app.stderr.print(f"{name}: stopping after the current batch (send it again to exit at once)")
        cancel.cancel(f"stopped by {name}")

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)


def print_pipeline_reports(app: AppContext, reports: list[PipelineReport]) -> int:
    if app.as_json:
        app.emit_json([report.to_dict() for report in reports])
    else:
        for report in reports:
            resumed = " (resumed)" if report.resumed else ""
            app.info(f"[bold]{report.company}[/]: {report.status}{resumed} — run {report.run_key or '-'}")
            if report.stages:
                app.table(
                    None,
                    ["stage", "status", "attempts", "duration", "counts", "error"],
                    [
                        [s.name, s.status, s.attempts, _duration(s.duration), _counts_text(s.counts), s.error]
                        for s in report.stages
                    ],
                )
            elif report.error:
                app.warn(f"{report.company}: {report.error}")
    return 0 if all(report.status in ("succeeded", "skipped") for report in reports) else 1


@click.command("run")
@click.option(
    "--company", "companies", multiple=True, help="Company code (repeatable; default: every company)."
)
@click.option(
    "--source", "sources", multiple=True, help="Sync only these sources (one company), then its stages."
)
@click.option(
    "--as-of", type=click.DateTime(formats=["%Y-%m-%d"]), help="Date the engines work at (default today)."
)
@click.option("--no-resume", is_flag=True, help="Start a new run even if the last one was interrupted today.")
@click.option("--wait", type=float, default=0.0, help="Seconds to wait if the company is already running.")
@json_option
@pass_app
def run_cmd(
    app: AppContext,
    companies: tuple[str, ...],
    sources: tuple[str, ...],
    as_of: datetime | None,
    no_resume: bool,
    wait: float,
) -> None:
    """Run the pipeline: sync every source → match → assess → dunning → write-back plan → apply
    what the approval policy allows → report, company by company.

    Each stage is recorded (see 'erp-recovery status'); a failed stage skips the stages that
    depend on it for that company only, and the next run picks up. Changes the policy holds wait
    in 'erp-recovery approvals'. Exit code 1 when a stage failed.

    \b
    Example:
      erp-recovery run                       # every company
      erp-recovery run --company acme --json
      erp-recovery run --company acme --source bank-bnp --as-of 2026-11-20
    """
    install_log_context()
    config = app.config
    store = app.store()
    codes = list(companies) or [company.code for company in config.companies]
    if not codes:
        raise ConfigError("no company to run: add [[companies]] to the configuration", key="companies")
    if sources and len(codes) != 1:
        raise click.UsageError("--source needs exactly one --company")
    for name in missing_stages(config):
        app.warn(f"stage {name!r} is configured but no installed engine provides it; it is left out")
    cancel = CancelToken()
    _install_signals(cancel, app)
    runner = PipelineRunner(store, config, trigger="cli", cancel=cancel)
    reports = []
    for code in codes:
        if cancel.cancelled:
            break
        reports.append(
            runner.run(
                code,
                sources=sources or None,
                as_of=as_of.date() if as_of else None,
                resume=not no_resume,
                lock_wait=wait,
            )
        )
    exit_code = print_pipeline_reports(app, reports)
    if exit_code:
        raise click.exceptions.Exit(exit_code)


@click.command("schedule")
@click.option("--once", is_flag=True, help="Run every scheduled job once now, then exit.")
@click.option(
    "--http", "http_address", help="host:port for /healthz and /metrics (overrides [schedule] http)."
)
@click.option("--health-file", help="JSON heartbeat file (overrides [schedule] health_file).")
@click.option("--tick", type=float, default=15.0, show_default=True, help="Seconds between heartbeats.")
@pass_app
def schedule_cmd(
    app: AppContext, once: bool, http_address: str | None, health_file: str | None, tick: float
) -> None:
    """Run the pipeline on the configured cron expressions, in the foreground (systemd, containers).

    Jobs: [schedule] default / companies.<code> run a company's pipeline; a source's own
    'schedule' syncs it and runs the company's stages. A company never runs twice at once. SIGTERM
    stops after the current batch (the next run resumes); a second SIGTERM exits at once.

    \b
    Example:
      erp-recovery --json schedule --http 127.0.0.1:9108 --health-file /run/erp-recovery/health.json
      curl -s 127.0.0.1:9108/healthz; curl -s 127.0.0.1:9108/metrics
    """
    from erp_recovery.pipeline.schedule import Scheduler

    install_log_context()
    config = app.config
    store = app.store()
    settings = config.section("schedule", ScheduleSettings)
    cancel = CancelToken()
    _install_signals(cancel, app)
    health = Health(
        max_age=max(settings.health_max_age_seconds, tick * 3), path=health_file or settings.health_file
    )
    scheduler = Scheduler(store, config, cancel=cancel, health=health, tick=tick)
    server = None
    address = http_address or settings.http
    if address:
        server = ObservabilityServer(address, health=health, store_factory=lambda: store).start()
        app.info(
            f"health: http://{server.host}:{server.port}/healthz  metrics: http://{server.host}:{server.port}/metrics"
        )
    for job in scheduler.jobs:
        app.info(f"job {job.key}: cron '{job.cron}'")
    try:
        started = scheduler.run(once=once)
    finally:
        if server is not None:
            server.stop()
    app.info(f"scheduler stopped after starting {started} run(s)")


# -- approvals -----------------------------------------------------------------------------------


@click.group("approvals")
def approvals_group() -> None:
    """Write-back changes the approval policy holds for a person ([approvals] in the configuration).

    \b
    Example:
      erp-recovery approvals list
      erp-recovery approvals approve 12 13 --note "checked with sales"
      erp-recovery approvals reject 14 --note "customer paid today"
    """


def _approval_dict(row: Any) -> dict[str, Any]:
    change = row.change or {}
    if row.kind == "set":
        what = f"{row.name}: {_value_text(change.get('base'))} → {_value_text(change.get('new'))}"
    else:
        what = f"{row.name}({', '.join(f'{k}={v}' for k, v in sorted((change.get('params') or {}).items()) if v is not None)})"
    return {
        "id": int(row.id),
        "company": row.company_code,
        "source": row.source,
        "target": f"{row.entity} {row.external_id}" + (f" ({row.label})" if row.label else ""),
        "change": what,
        "why": row.policy_reason,
        "reason": (change.get("reason") or {}).get("explanation"),
        "status": row.status,
        "requested_at": row.requested_at,
        "decided_by": row.decided_by,
        "decided_at": row.decided_at,
        "note": row.note,
        "outcome": row.outcome_detail,
    }


def _value_text(value: Any) -> str:
    if value is None:
        return "(none)"
    if isinstance(value, dict) and set(value) == {"amount", "currency"}:
        return f"{value['amount']} {value['currency']}"
    if isinstance(value, list):
        return ", ".join(map(str, value)) or "(none)"
    return str(value)


@approvals_group.command("list")
@click.option("--company", help="Company code.")
@click.option("--source", "source_name", help="Source name.")
@click.option(
    "--status",
    "statuses",
    multiple=True,
    type=click.Choice([*pipeline_store.APPROVAL_STATUSES, "all"]),
    help="Statuses to show (repeatable; default pending).",
)
@click.option("--limit", type=int, default=500, show_default=True)
@json_option
@pass_app
def approvals_list(
    app: AppContext, company: str | None, source_name: str | None, statuses: tuple[str, ...], limit: int
) -> None:
    """Changes waiting for a decision (or, with --status, decided ones with who and when).

    \b
    Example:
      erp-recovery approvals list --company acme
      erp-recovery approvals list --status approved --status rejected --json
    """
    wanted = None if "all" in statuses else (statuses or ("pending",))
    with app.store().connect() as connection:
        rows = pipeline_store.list_approvals(
            connection, company=company, source=source_name, statuses=wanted, limit=limit
        )
    items = [_approval_dict(row) for row in rows]
    if app.as_json:
        app.emit_json(items)
        return
    app.table(
        "Approvals",
        ["id", "company", "source", "target", "change", "why", "status", "decided"],
        [
            [
                i["id"],
                i["company"],
                i["source"],
                i["target"],
                i["change"],
                i["why"],
                i["status"],
                f"{i['decided_by']} {i['decided_at']:%Y-%m-%d %H:%M}" if i["decided_at"] else "",
            ]
            for i in items
        ],
    )


def _decide(
    app: AppContext,
    ids: tuple[int, ...],
    every: bool,
    company: str | None,
    status: str,
    by: str | None,
    note: str | None,
) -> list[Any]:
    if not ids and not every:
        raise click.UsageError("name the approvals (ids from 'approvals list') or give --all")
    who = by or os.environ.get("ERP_RECOVERY_USER") or getpass.getuser()
    store = app.store()
    with store.begin() as connection:
        rows = pipeline_store.list_approvals(
            connection, company=company, statuses=("pending",), ids=list(ids) or None, limit=100000
        )
        found = {int(row.id) for row in rows}
        missing = sorted(set(ids) - found)
        if missing:
            raise ConfigError(
                f"approval(s) {', '.join(map(str, missing))} are not pending (see 'erp-recovery approvals list --status all')"
            )
        for row in rows:
            pipeline_store.decide(connection, int(row.id), status=status, by=who, note=note)
    app.info(f"{len(rows)} change(s) {status} by {who}")
    return rows


def _decision_options(func: Any) -> Any:
    func = click.option("--note", help="Why (kept with the decision).")(func)
    func = click.option("--by", help="Who decides (default: $ERP_RECOVERY_USER or the login name).")(func)
    func = click.option("--company", help="With --all: only this company.")(func)
    func = click.option("--all", "every", is_flag=True, help="Every pending change.")(func)
    func = click.argument("ids", nargs=-1, type=int)(func)
    return func


@approvals_group.command("approve")
@_decision_options
@click.option(
    "--apply", "apply_now", is_flag=True, help="Apply the approved changes now (else: at the next run)."
)
@json_option
@pass_app
def approvals_approve(
    app: AppContext,
    ids: tuple[int, ...],
    every: bool,
    company: str | None,
    by: str | None,
    note: str | None,
    apply_now: bool,
) -> None:
    """Approve pending changes; the next run applies them (or now, with --apply).

    Applying still goes through the write-back's guards: owned fields, the safety share, the
    re-read (a value changed upstream since is a conflict, left alone).

    \b
    Example:
      erp-recovery approvals approve 12 13 --note "limit agreed with sales"
      erp-recovery approvals approve --all --company acme --apply
    """
    rows = _decide(app, ids, every, company, "approved", by, note)
    if not apply_now or not rows:
        return
    store = app.store()
    results = {}
    for source_name in sorted({row.source for row in rows}):
        results[source_name] = apply_source(store, app.config, source_name, [], created_by="approvals")
    if app.as_json:
        app.emit_json(results)
        return
    for source_name, result in results.items():
        app.info(f"{source_name}: {result.get('plan')} {_counts_text(result.get('counts'))}")


@approvals_group.command("reject")
@_decision_options
@pass_app
def approvals_reject(
    app: AppContext, ids: tuple[int, ...], every: bool, company: str | None, by: str | None, note: str | None
) -> None:
    """Reject pending changes: they are not applied, and not asked again until the proposal changes.

    \b
    Example:
      erp-recovery approvals reject 14 --note "customer paid today"
    """
    _decide(app, ids, every, company, "rejected", by, note)


# -- worker mode ---------------------------------------------------------------------------------


def _celery_app(app: AppContext) -> Any:
    try:
        from erp_recovery.pipeline.tasks import celery_app_for
    except ImportError as exc:
        raise ConfigError(
            f"the worker mode needs Celery ({exc.name} is missing): pip install 'erp-recovery[workers]'"
        ) from None
    config = app.config
    # Worker processes re-read the same configuration and store.
    if app.config_path:
        os.environ["ERP_RECOVERY_CONFIG"] = str(app.config_path)
    if app.db:
        os.environ["ERP_RECOVERY_DB"] = app.db
    store = app.store()
    return celery_app_for(config, store)


@click.command("worker", context_settings={"ignore_unknown_options": True})
@click.option("--concurrency", "-c", type=int, help="Worker processes (default: CPU count).")
@click.option("--queues", "-Q", help="Queues to consume (default: all erp-recovery queues).")
@click.option(
    "--pool", type=click.Choice(["prefork", "threads", "solo"]), default="prefork", show_default=True
)
@click.option("--metrics-port", type=int, help="Serve /metrics and /healthz on 127.0.0.1:PORT.")
@click.option("--hostname", "-n", help="Node name (default: erp-recovery@<host>).")
@click.argument("celery_args", nargs=-1, type=click.UNPROCESSED)
@pass_app
def worker_cmd(
    app: AppContext,
    concurrency: int | None,
    queues: str | None,
    pool: str,
    metrics_port: int | None,
    hostname: str | None,
    celery_args: tuple[str, ...],
) -> None:
    """Run a Celery worker: syncs and pipeline stages from the broker in [workers] broker_url.

    Tasks are acknowledged after they finish (a killed worker's task is delivered again) and are
    safe to run twice; the same locks as 'erp-recovery run' keep two workers off one source.
    Extra arguments go to Celery ('-- --loglevel INFO').

    \b
    Example:
      erp-recovery --config erp-recovery.toml worker --concurrency 4 --metrics-port 9109
      erp-recovery --config erp-recovery.toml beat        # the schedule, on one machine only
    """
    if metrics_port and not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        import tempfile

        os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="erp-recovery-metrics-")
    celery = _celery_app(app)
    from erp_recovery.pipeline.tasks import queue_names

    if metrics_port:
        store = app.store()
        health = Health(max_age=1e9, role="worker")
        health.beat()
        ObservabilityServer(f"127.0.0.1:{metrics_port}", health=health, store_factory=lambda: store).start()
    argv = ["worker", "--pool", pool, "--queues", queues or ",".join(queue_names(app.config))]
    if concurrency:
        argv += ["--concurrency", str(concurrency)]
    if hostname:
        argv += ["--hostname", hostname]
    argv += ["--loglevel", "INFO" if app.verbosity > 0 else "WARNING", *celery_args]
    celery.worker_main(argv)


@click.command("beat", context_settings={"ignore_unknown_options": True})
@click.option(
    "--schedule-file", default="erp-recovery-beat.db", show_default=True, help="Celery beat state file."
)
@click.argument("celery_args", nargs=-1, type=click.UNPROCESSED)
@pass_app
def beat_cmd(app: AppContext, schedule_file: str, celery_args: tuple[str, ...]) -> None:
    """Send the configured schedule ([schedule], sources' schedule) to the workers (run one beat only).

    Each tick starts a run of a company (or of one source then the company's stages); a company
    whose previous run is still in progress is skipped.

    \b
    Example:
      erp-recovery --config erp-recovery.toml beat
    """
    celery = _celery_app(app)
    from erp_recovery.pipeline.tasks import beat_schedule

    celery.conf.beat_schedule = beat_schedule(app.config)
    if not celery.conf.beat_schedule:
        raise ConfigError(
            "nothing to schedule: set [schedule] default or a source's schedule", key="schedule"
        )
    celery.start(["beat", "--schedule", schedule_file, "--loglevel", "INFO" if app.verbosity > 0 else "WARNING",
                  *celery_args])  # fmt: skip


# -- status (called by 'erp-recovery status') ----------------------------------------------------------


def stage_status_rows(connection: Any, company: str | None = None) -> list[dict[str, Any]]:
    return [
        {
            "company": row.company_code,
            "stage": row.stage,
            "run_id": row.run_key,
            "as_of": row.as_of,
            "status": row.status,
            "attempts": row.attempts,
            "started_at": row.started_at,
            "duration_seconds": row.duration_seconds,
            "counts": row.counts or {},
            "error": row.error,
        }
        for row in pipeline_store.last_stage_runs(connection, company)
    ]


def show_stage_status(app: AppContext, rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    app.table(
        "Pipeline — last run of each stage",
        ["company", "stage", "status", "started", "duration", "counts", "error"],
        [
            [
                r["company"],
                r["stage"],
                r["status"],
                f"{r['started_at']:%Y-%m-%d %H:%M:%S}" if r["started_at"] else "",
                _duration(r["duration_seconds"]),
                _counts_text(r["counts"]),
                r["error"],
            ]
            for r in rows
        ],
    )


def register(group: click.Group) -> None:
    for command in (run_cmd, schedule_cmd, approvals_group, worker_cmd, beat_cmd):
        group.add_command(command)


__all__ = ["register", "show_stage_status", "stage_status_rows"]
