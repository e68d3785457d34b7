"""The pipeline's stages: each adapts one engine to the :class:`~erp_recovery.pipeline.stage.Stage`
protocol in a few lines.

    sync:<source> (one per source) → match → assess → dunning → writeback_plan → apply → report

An engine joins by adding a factory to :data:`STAGE_FACTORIES` (or, from another package, an
entry point in the ``erp_recovery.pipeline_stages`` group naming a callable
``(config, company_code, sources) -> list[Stage]``). Stages whose engine is not installed are left
out and reported by :func:`missing_stages`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from erp_recovery.config import AppConfig
from erp_recovery.errors import ConfigError, ErpRecoveryError, LockBusyError, TransientError, UnsafePlanError
from erp_recovery.pipeline import store as pipeline_store
from erp_recovery.pipeline.approvals import ApprovalPolicy
from erp_recovery.pipeline.settings import PipelineSettings, plugin_stage_entry_points
from erp_recovery.pipeline.stage import BaseStage, RunCancelled, Stage, StageContext, StageReport
from erp_recovery.store import Store
from erp_recovery.store import runs as run_store
from erp_recovery.store.locks import named_lock
from erp_recovery.store.records import source_population
from erp_recovery.sync import registry as connector_registry

log = logging.getLogger(__name__)

StageFactory = Callable[[AppConfig, str, Sequence[str]], list[Stage]]


def _connector(config: AppConfig, source_name: str) -> Any:
    """The source's connector, looked up at call time (tests and plug-ins may replace the registry's)."""
    return connector_registry.create_connector(config.source(source_name))


def _retryable(exc: BaseException | None) -> bool:
    return isinstance(exc, TransientError | LockBusyError)


# -- sync ----------------------------------------------------------------------------------------


class SyncStage:
    """Sync one source with the crash-safe runner (lock ``sync:<source>``, cursors per batch)."""

    depends_on: tuple[str, ...] = ()
    final = False

    def __init__(self, source: str, *, lock_wait: float) -> None:
        self.source = source
        self.name = f"sync:{source}"
        self.lock_wait = lock_wait

    def run(self, context: StageContext) -> StageReport:
        from erp_recovery.sync.runner import SyncRunner

        def progress(_source: str, _stream: str, _read: int) -> None:
            context.cancel.check()

        runner = SyncRunner(
            context.store,
            context.config,
            connector_factory=lambda source: connector_registry.create_connector(source),
            lock_wait=self.lock_wait,
            progress=progress,
        )
        context.cancel.check()
        report = runner.sync(self.source)
        if isinstance(report.failure, RunCancelled):
            raise report.failure
        details: dict[str, Any] = {
            "sync_run": report.run_id,
            "streams": {s.name: s.counts() for s in report.streams},
        }
        if report.notices:
            details["notices"] = report.notices[:20]
        if report.rejects:
            details["rejects"] = report.rejects
        return StageReport(
            status="succeeded" if report.status == "succeeded" else "failed",
            counts=report.counts(),
            details=details,
            error=report.error,
            retryable=_retryable(report.failure),
        )


def sync_stages(config: AppConfig, company: str, selected: Sequence[str]) -> list[Stage]:
    settings = config.section("pipeline", PipelineSettings)
    return [SyncStage(name, lock_wait=settings.lock_wait_seconds) for name in selected]


# -- match (matching engine) --------------------------------------------------------------------


class MatchStage(BaseStage):
    """Match the company's bank credits to its open invoices and store the proposals (one
    transaction; proposals already stored are updated, decisions and payer memory are kept)."""

    name = "match"
    depends_on = ("sync",)

    def run(self, context: StageContext) -> StageReport:
        from erp_recovery.engines.matching import MatchSettings
        from erp_recovery.store import matching as match_store

        settings = context.config.section("matching", MatchSettings)
        with context.store.begin() as connection:
            company_id = run_store.company_id(connection, context.company.code)
            if company_id is None:
                return StageReport(counts={"proposals": 0})
            run = match_store.run_matching(connection, company_id, context.company.code, settings)
        return StageReport(
            counts=run.counts(), details={"match_run": run.run_id, "seconds": round(run.seconds, 3)}
        )


# -- assess (risk engine) -------------------------------------------------------------------------


class AssessStage(BaseStage):
    """Assess every customer's risk and save the assessment (the write-back's ``risk`` provider reads it)."""

    name = "assess"
    depends_on = ("sync", "match")

    def run(self, context: StageContext) -> StageReport:
        from erp_recovery.reports.service import run_assessment

        run = run_assessment(
            context.store, context.config, company_code=context.company.code, as_of=context.as_of
        )
        grades: dict[str, int] = {}
        for item in run.assessment.customers:
            grades[item.score.grade] = grades.get(item.score.grade, 0) + 1
        return StageReport(
            counts={
                "customers": len(run.assessment.customers),
                "saved": run.saved_rows,
                "proposals": len(run.assessment.proposals()),
            },
            details={"grades": grades, "warnings": run.warnings[:20]},
        )


# -- dunning (dunning operations) -----------------------------------------------------------------


class DunningStage(BaseStage):
    """Do the day's dunning: render the communications, record them, the tasks and each customer's
    case (what the ``dunning`` write-back provider reads). Idempotent for a day.

    E-mails are sent only with ``[pipeline] dunning_send = true`` (and SMTP configured); otherwise
    they wait in the outbox for ``erp-recovery dunning run``.
    """

    name = "dunning"
    depends_on = ("sync", "match", "assess")

    def run(self, context: StageContext) -> StageReport:
        from erp_recovery.dunning_ops import service

        settings = context.config.section("pipeline", PipelineSettings)
        setup = service.setup(context.store, context.config, context.company.code)
        send = settings.dunning_send
        mailer = service.make_mailer(setup) if send else None
        result = service.run_day(
            context.store, context.config, setup, context.as_of, mailer=mailer, send=send
        )
        counts = {**result.counts(), "cases": result.cases}
        details: dict[str, Any] = {"notes": result.notes[:20]}
        failed = [d for d in result.deliveries if d.get("status") != "sent"]
        if failed:
            details["deliveries_not_sent"] = failed[:20]
        return StageReport(counts=counts, details=details)


# -- write-back: plan, then apply ------------------------------------------------------------------


def writeback_sources(config: AppConfig, company: str) -> list[str]:
    """Enabled sources of the company whose connector can write back."""
    names = []
    for source in config.sources_of(company):
        # Whether a connector writes back may depend on its settings (CSV: a writeback section).
        connector = connector_registry.create_connector(source)
        try:
            if connector.supports_writeback:
                names.append(source.name)
        finally:
            connector.close()
    return names


#: The stage whose saved results a write-back provider reads (a provider is asked only when it runs).
PROVIDER_STAGES = {"risk": "assess", "dunning": "dunning"}


class WritebackPlanStage(BaseStage):
    """Ask the engines' providers for proposals, make one plan per write-back source, sort its
    changes by the approval policy: automatic ones are applied by ``apply``, the others wait in
    ``erp-recovery approvals``."""

    name = "writeback_plan"
    depends_on = ("assess", "dunning")

    def run(self, context: StageContext) -> StageReport:
        from erp_recovery.writeback import store as wb_store
        from erp_recovery.writeback.planner import make_plan, provider, providers

        settings = context.config.section("pipeline", PipelineSettings)
        policy = context.config.section("approvals", ApprovalPolicy)
        if settings.writeback_providers is not None:
            names = settings.writeback_providers
        else:
            # Every installed provider whose engine runs in this pipeline.
            names = tuple(
                name
                for name in sorted(providers())
                if PROVIDER_STAGES.get(name) is None or PROVIDER_STAGES[name] in settings.stages
            )
        counts = {"changes": 0, "auto": 0, "waiting": 0, "rejected": 0, "dropped": 0}
        details: dict[str, Any] = {"providers": list(names), "sources": {}}
        for source_name in writeback_sources(context.config, context.company.code):
            proposals: list[Any] = []
            for name in names:
                proposals.extend(provider(name)(context.store, context.config, source_name))
            connector = _connector(context.config, source_name)
            try:
                draft = make_plan(source_name, connector, proposals, created_by="pipeline")
            finally:
                connector.close()
            plan = draft.plan
            auto_keys: list[str] = []
            waiting = rejected = 0
            with context.store.begin() as connection:
                wb_store.save_plan(connection, plan)
                company_id = run_store.company_id(connection, context.company.code)
                assert company_id is not None
                waiting_keys: list[str] = []
                for change in plan.changes:
                    decision, why = policy.decide(change)
                    if decision == "auto":
                        auto_keys.append(change.key)
                        continue
                    _, status = pipeline_store.queue_approval(
                        connection,
                        company_id=company_id,
                        source=source_name,
                        change_key=change.key,
                        slot=change.slot,
                        kind=change.kind,
                        name=change.name,
                        entity=change.target.entity,
                        external_id=change.target.external_id,
                        label=change.target.label,
                        change=change.model_dump(mode="json"),
                        policy_reason=why,
                        run_id=context.run_id,
                    )
                    waiting_keys.append(change.key)
                    if status == "rejected":
                        rejected += 1
                    else:
                        waiting += 1
                pipeline_store.supersede_slots(
                    connection, source_name, [change.slot for change in plan.changes], waiting_keys
                )
            counts["changes"] += len(plan.changes)
            counts["auto"] += len(auto_keys)
            counts["waiting"] += waiting
            counts["rejected"] += rejected
            counts["dropped"] += len(draft.dropped)
            details["sources"][source_name] = {
                "plan": plan.id,
                "checksum": plan.checksum,
                "auto": auto_keys,
                "changes": len(plan.changes),
                "waiting": waiting,
                "rejected": rejected,
                "dropped": len(draft.dropped),
            }
        return StageReport(counts=counts, details=details)


def _change_from_json(body: dict[str, Any]) -> Any:
    from erp_recovery.writeback.plan import ActionChange, FieldChange

    return (
        ActionChange.model_validate(body)
        if body.get("kind") == "action"
        else FieldChange.model_validate(body)
    )


def apply_source(
    store: Store,
    config: AppConfig,
    source_name: str,
    auto_changes: Sequence[Any],
    *,
    lock_wait: float = 60.0,
    created_by: str = "pipeline",
) -> dict[str, Any]:
    """Apply the automatic changes and the approved ones of a source; record approvals' outcomes.

    The write-back's guards all hold: owned fields, the safety share (a refusal fails the stage:
    apply that plan by hand with --force after reading it), the re-read and conflicts.
    """
    from erp_recovery.writeback.apply import StoreAuditLog, apply_plan
    from erp_recovery.writeback.plan import Plan
    from erp_recovery.writeback.policy import WritebackPolicy

    with store.connect() as connection:
        approved_rows = pipeline_store.list_approvals(connection, source=source_name, statuses=("approved",))
    slots = {change.slot for change in auto_changes}
    approved: dict[str, tuple[int, Any]] = {}
    for row in approved_rows:
        change = _change_from_json(row.change)
        if change.slot in slots:
            continue
        approved[change.key] = (int(row.id), change)
    changes = [*auto_changes, *(change for _, change in approved.values())]
    if not changes:
        return {"plan": None, "counts": {}, "approved": 0}
    plan = Plan.build(source_name, changes, created_by=created_by)
    policy = config.section("writeback", WritebackPolicy)
    with store.connect() as connection:
        counts = source_population(connection, source_name)
    connector = _connector(config, source_name)
    try:
        with named_lock(store, f"writeback:{source_name}", wait=lock_wait):
            report = apply_plan(
                plan,
                connector,
                checksum=plan.checksum,
                policy=policy,
                population=counts,
                audit=StoreAuditLog(store),
            )
    finally:
        connector.close()
    outcome_status = {
        "applied": "applied",
        "already_applied": "applied",
        "conflict": "conflict",
        "failed": "failed",
        "not_owned": "failed",
        "skipped": "failed",
    }
    with store.begin() as connection:
        for result in report.results:
            entry = approved.get(result.change.key)
            if entry is not None:
                pipeline_store.record_outcome(
                    connection,
                    entry[0],
                    status=outcome_status.get(result.outcome, "failed"),
                    detail=f"{result.outcome}: {result.detail}" if result.detail else result.outcome,
                )
    if report.status == "failed" and report.error:
        raise ErpRecoveryError(f"apply of {plan.id} to {source_name} failed: {report.error}")
    return {"plan": plan.id, "checksum": plan.checksum, "counts": report.counts(), "approved": len(approved),
            "status": report.status, "run": report.run_id}  # fmt: skip


class ApplyStage(BaseStage):
    """Apply what the approval policy lets through, plus what a person approved since."""

    name = "apply"
    depends_on = ("writeback_plan",)

    def run(self, context: StageContext) -> StageReport:
        from erp_recovery.writeback import store as wb_store

        settings = context.config.section("pipeline", PipelineSettings)
        planned = context.results.get("writeback_plan")
        plans = planned.details.get("sources", {}) if planned is not None else {}
        counts: dict[str, int] = {}
        details: dict[str, Any] = {}
        for source_name in writeback_sources(context.config, context.company.code):
            entry = plans.get(source_name)
            auto_changes: list[Any] = []
            if entry and entry.get("auto"):
                with context.store.connect() as connection:
                    plan = wb_store.load_plan(connection, entry["plan"])
                wanted = set(entry["auto"])
                auto_changes = [change for change in plan.changes if change.key in wanted]
            try:
                result = apply_source(
                    context.store,
                    context.config,
                    source_name,
                    auto_changes,
                    lock_wait=settings.lock_wait_seconds,
                )
            except UnsafePlanError as exc:
                raise UnsafePlanError(
                    f"{source_name}: {exc.message} (the automatic changes were not applied; review them with "
                    "'erp-recovery writeback plans' and apply by hand)"
                ) from exc
            details[source_name] = result
            for outcome, value in result["counts"].items():
                counts[outcome] = counts.get(outcome, 0) + value
            counts["approved"] = counts.get("approved", 0) + result["approved"]
        failed = counts.get("failed", 0)
        return StageReport(
            status="failed" if failed else "succeeded",
            counts=counts,
            details=details,
            error=f"{failed} change(s) failed to apply (see 'erp-recovery writeback history')"
            if failed
            else None,
        )


# -- report --------------------------------------------------------------------------------------


class ReportStage(BaseStage):
    """Sum up the run (always runs, last): what each stage did, what failed, what waits for a person."""

    name = "report"
    depends_on = ()
    final = True

    def run(self, context: StageContext) -> StageReport:
        settings = context.config.section("pipeline", PipelineSettings)
        with context.store.connect() as connection:
            waiting = pipeline_store.approval_counts(connection)
        pending = sum(count for (company, _), count in waiting.items() if company == context.company.code)
        stages = {name: report.to_dict() for name, report in context.results.items()}
        failed = sorted(name for name, report in context.results.items() if report.status == "failed")
        skipped = sorted(name for name, report in context.results.items() if report.status == "skipped")
        summary = {
            "company": context.company.code,
            "run": context.run_key,
            "as_of": context.as_of.isoformat(),
            "trigger": context.trigger,
            "stages": stages,
            "failed": failed,
            "skipped": skipped,
            "approvals_pending": pending,
            "written_at": datetime.now(UTC).isoformat(),
        }
        details: dict[str, Any] = {"failed": failed, "skipped": skipped, "approvals_pending": pending}
        if settings.report_dir:
            folder = Path(settings.report_dir)
            if not folder.is_absolute():
                folder = context.config.base_dir / folder
            target = folder / context.company.code / f"{context.as_of.isoformat()}-{context.run_key}.json"
            target.parent.mkdir(parents=True, exist_ok=True)
            import json

            target.write_text(json.dumps(summary, indent=2, default=str) + "\n", encoding="utf-8")
            details["file"] = str(target)
        return StageReport(
            counts={
                "stages": len(stages),
                "failed": len(failed),
                "skipped": len(skipped),
                "approvals_pending": pending,
            },
            details=details,
        )


# -- registry ------------------------------------------------------------------------------------


def _single(stage: Callable[[], Stage]) -> StageFactory:
    def factory(_config: AppConfig, _company: str, _sources: Sequence[str]) -> list[Stage]:
        return [stage()]

    return factory


#: Stage name (as in ``[pipeline] stages``) → factory. Engines not yet wired are absent.
STAGE_FACTORIES: dict[str, StageFactory] = {
    "sync": sync_stages,
    "match": _single(MatchStage),
    "assess": _single(AssessStage),
    "dunning": _single(DunningStage),
    "writeback_plan": _single(WritebackPlanStage),
    "apply": _single(ApplyStage),
    "report": _single(ReportStage),
}


def _plugin_factories() -> dict[str, StageFactory]:
    found: dict[str, StageFactory] = {}
    for entry in plugin_stage_entry_points():
        try:
            found[entry.name] = entry.load()
        except Exception as exc:  # a broken plug-in must not stop the pipeline of every company
            raise ConfigError(
                f"pipeline stage {entry.name!r} cannot be loaded ({entry.value}): {exc}"
            ) from exc
    return found


def missing_stages(config: AppConfig) -> list[str]:
    """Configured stages no installed engine provides (shown by ``erp-recovery run``)."""
    settings = config.section("pipeline", PipelineSettings)
    available = {**STAGE_FACTORIES, **_plugin_factories()}
    return [name for name in settings.stages if name not in available]


def build_stages(config: AppConfig, company: str, selected_sources: Sequence[str]) -> list[Stage]:
    """The stages of one company's run, in order."""
    settings = config.section("pipeline", PipelineSettings)
    factories = {**STAGE_FACTORIES, **_plugin_factories()}
    stages: list[Stage] = []
    for name in settings.stages:
        factory = factories.get(name)
        if factory is not None:
            stages.extend(factory(config, company, selected_sources))
    names = [stage.name for stage in stages]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise ConfigError(
            f"two pipeline stages share the name {', '.join(duplicates)}", key="pipeline.stages"
        )
    return stages
