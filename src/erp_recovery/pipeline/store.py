"""Pipeline tables and their repository functions: runs, stage runs and approvals.

- ``pipeline_runs``: one row per pipeline run of one company (``erp-recovery run``, the scheduler
  or the workers), with a ``run_key`` that every log line of the run carries;
- ``pipeline_stage_runs``: one row per stage of a run (``sync:<source>``, ``assess``, ``apply``...)
  with its status, attempts, duration, counts, details and error — what ``erp-recovery status``
  shows and what a resumed run or a redelivered task reads to skip work already done;
- ``approvals``: write-back changes the approval policy holds for a person, with who decided
  and when. One row per (source, change key): planning the same change again does not ask twice,
  and a rejected change is not proposed again until the proposal itself changes.

Migration: ``store/migrations/versions/0005_pipeline.py``.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import (
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    and_,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.engine import Connection

from erp_recovery.store.records import now
from erp_recovery.store.schema import Id, companies, metadata, sources, sync_runs
from erp_recovery.store.types import JsonDocument

#: Run statuses. ``interrupted``: the process died (found by the next run, which resumes it);
#: ``abandoned``: a worker-mode run that made no progress for ``[workers] run_timeout_seconds``.
RUN_STATUSES = ("running", "succeeded", "failed", "cancelled", "interrupted", "abandoned")
#: Stage statuses. ``queued`` exists only in worker mode (a task was sent).
STAGE_STATUSES = ("pending", "queued", "running", "succeeded", "failed", "skipped", "cancelled")
TERMINAL_STAGE = frozenset({"succeeded", "failed", "skipped", "cancelled"})
APPROVAL_STATUSES = ("pending", "approved", "rejected", "applied", "conflict", "failed", "superseded")

pipeline_runs = Table(
    "pipeline_runs",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("run_key", String(32), nullable=False, unique=True),
    Column("company_id", Id, ForeignKey("companies.id"), nullable=False, index=True),
    #: cli | schedule | worker | beat | approvals
    Column("trigger", String(16), nullable=False),
    #: The sources this run syncs (null: every enabled source of the company).
    Column("sources", JsonDocument),
    Column("as_of", Date, nullable=False),
    Column("status", String(16), nullable=False),
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("ended_at", DateTime(timezone=True)),
    Column("host", String(255)),
    Column("pid", Integer),
    Column("summary", JsonDocument),
    Column("error", Text),
)

pipeline_stage_runs = Table(
    "pipeline_stage_runs",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("run_id", Id, ForeignKey("pipeline_runs.id"), nullable=False),
    Column("stage", String(96), nullable=False),
    #: Position in the run (the order the stages are listed and run in).
    Column("position", Integer, nullable=False),
    Column("depends_on", JsonDocument),
    Column("final", Integer, nullable=False, default=0),
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("started_at", DateTime(timezone=True)),
    Column("ended_at", DateTime(timezone=True)),
    Column("duration_seconds", Float),
    Column("counts", JsonDocument),
    Column("details", JsonDocument),
    Column("error", Text),
    Column("host", String(255)),
    Column("pid", Integer),
    UniqueConstraint("run_id", "stage", name="uq_pipeline_stage_runs_run_stage"),
)

approvals = Table(
    "approvals",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("company_id", Id, ForeignKey("companies.id"), nullable=False, index=True),
    Column("source", String(63), nullable=False),
    Column("change_key", String(24), nullable=False),
    #: What is written (source/entity/id/field): a newer proposal for the slot supersedes this one.
    Column("slot", Text, nullable=False),
    Column("kind", String(8), nullable=False),
    Column("name", String(63), nullable=False),
    Column("entity", String(32), nullable=False),
    Column("external_id", String(255), nullable=False),
    Column("label", String(255)),
    #: The change itself (FieldChange or ActionChange as JSON), applied as it is once approved.
    Column("change", JsonDocument, nullable=False),
    #: Why the policy holds it ("credit limit cut of 35 % is over 20 %").
    Column("policy_reason", Text, nullable=False),
    Column("status", String(16), nullable=False),
    Column("requested_at", DateTime(timezone=True), nullable=False),
    Column("requested_run_id", Id, ForeignKey("pipeline_runs.id")),
    Column("decided_by", String(255)),
    Column("decided_at", DateTime(timezone=True)),
    Column("note", Text),
    Column("applied_at", DateTime(timezone=True)),
    Column("outcome_detail", Text),
    UniqueConstraint("source", "change_key", name="uq_approvals_source_change_key"),
)
Index("ix_approvals_status", approvals.c.status, approvals.c.source)


def _host() -> str:
    return socket.gethostname()[:255]


# -- runs ----------------------------------------------------------------------------------------


def new_run_key() -> str:
    return uuid.uuid4().hex


def create_run(
    connection: Connection,
    *,
    company_id: int,
    as_of: date,
    trigger: str,
    selected_sources: Sequence[str] | None,
    stages: Sequence[tuple[str, Sequence[str], bool]],
) -> tuple[int, str]:
    """A new run and its stage rows (all ``pending``); returns (run id, run key)."""
    stamp = now()
    run_key = new_run_key()
    result = connection.execute(
        insert(pipeline_runs).values(
            run_key=run_key,
            company_id=company_id,
            trigger=trigger,
            sources=list(selected_sources) if selected_sources is not None else None,
            as_of=as_of,
            status="running",
            started_at=stamp,
            updated_at=stamp,
            host=_host(),
            pid=os.getpid(),
        )
    )
    run_id = int(result.inserted_primary_key[0])  # type: ignore[index]
    connection.execute(
        insert(pipeline_stage_runs),
        [
            {
                "run_id": run_id,
                "stage": name,
                "position": position,
                "depends_on": list(depends_on),
                "final": 1 if final else 0,
                "status": "pending",
                "attempts": 0,
            }
            for position, (name, depends_on, final) in enumerate(stages)
        ],
    )
    return run_id, run_key


def get_run(connection: Connection, run_id: int) -> Any:
    return connection.execute(
        select(pipeline_runs, companies.c.code.label("company_code"))
        .join(companies, companies.c.id == pipeline_runs.c.company_id)
        .where(pipeline_runs.c.id == run_id)
    ).first()


def active_runs(connection: Connection, company_id: int) -> list[Any]:
    return list(
        connection.execute(
            select(pipeline_runs)
            .where(pipeline_runs.c.company_id == company_id, pipeline_runs.c.status == "running")
            .order_by(pipeline_runs.c.id)
        )
    )


def latest_run(connection: Connection, company_id: int) -> Any:
    return connection.execute(
        select(pipeline_runs)
        .where(pipeline_runs.c.company_id == company_id)
        .order_by(pipeline_runs.c.id.desc())
        .limit(1)
    ).first()


def set_run_status(
    connection: Connection,
    run_id: int,
    status: str,
    *,
    summary: Mapping[str, Any] | None = None,
    error: str | None = None,
    ended: bool = True,
) -> None:
    values: dict[str, Any] = {"status": status, "updated_at": now(), "error": error}
    if ended:
        values["ended_at"] = now()
    if summary is not None:
        values["summary"] = dict(summary)
    connection.execute(update(pipeline_runs).where(pipeline_runs.c.id == run_id).values(**values))


def touch_run(connection: Connection, run_id: int) -> None:
    connection.execute(update(pipeline_runs).where(pipeline_runs.c.id == run_id).values(updated_at=now()))


def reopen_run(connection: Connection, run_id: int) -> None:
    """Resume an interrupted run: unfinished stages and the final one go back to ``pending``."""
    connection.execute(
        update(pipeline_runs)
        .where(pipeline_runs.c.id == run_id)
        .values(status="running", ended_at=None, error=None, updated_at=now(), host=_host(), pid=os.getpid())
    )
    connection.execute(
        update(pipeline_stage_runs)
        .where(
            pipeline_stage_runs.c.run_id == run_id,
            # The final stage (the report) sums up the whole run: it runs again.
            (pipeline_stage_runs.c.status != "succeeded") | (pipeline_stage_runs.c.final == 1),
        )
        .values(status="pending", error=None)
    )


def stale_before(seconds: float) -> datetime:
    return now() - timedelta(seconds=seconds)


# -- stage runs ----------------------------------------------------------------------------------


def stage_rows(connection: Connection, run_id: int) -> list[Any]:
    return list(
        connection.execute(
            select(pipeline_stage_runs)
            .where(pipeline_stage_runs.c.run_id == run_id)
            .order_by(pipeline_stage_runs.c.position)
        )
    )


def stage_row(connection: Connection, run_id: int, stage: str) -> Any:
    return connection.execute(
        select(pipeline_stage_runs).where(
            pipeline_stage_runs.c.run_id == run_id, pipeline_stage_runs.c.stage == stage
        )
    ).first()


def mark_stages(
    connection: Connection, run_id: int, names: Iterable[str], status: str, **values: Any
) -> None:
    names = list(names)
    if not names:
        return
    connection.execute(
        update(pipeline_stage_runs)
        .where(pipeline_stage_runs.c.run_id == run_id, pipeline_stage_runs.c.stage.in_(names))
        .values(status=status, **values)
    )


def start_stage(connection: Connection, run_id: int, stage: str) -> int:
    """Mark a stage running (one more attempt); returns the attempt number."""
    row = stage_row(connection, run_id, stage)
    attempt = int(row.attempts or 0) + 1
    connection.execute(
        update(pipeline_stage_runs)
        .where(pipeline_stage_runs.c.id == row.id)
        .values(
            status="running",
            attempts=attempt,
            started_at=now(),
            ended_at=None,
            duration_seconds=None,
            error=None,
            host=_host(),
            pid=os.getpid(),
        )
    )
    touch_run(connection, run_id)
    return attempt


def finish_stage(
    connection: Connection,
    run_id: int,
    stage: str,
    *,
    status: str,
    duration: float,
    counts: Mapping[str, int],
    details: Mapping[str, Any],
    error: str | None,
) -> None:
    connection.execute(
        update(pipeline_stage_runs)
        .where(pipeline_stage_runs.c.run_id == run_id, pipeline_stage_runs.c.stage == stage)
        .values(
            status=status,
            ended_at=now(),
            duration_seconds=round(duration, 3),
            counts=dict(counts),
            details=dict(details),
            error=error,
        )
    )
    touch_run(connection, run_id)


def last_stage_runs(connection: Connection, company: str | None = None) -> list[Any]:
    """The latest finished (or running) run of every stage of every company, by company and position.

    Sync stages are listed per source (``sync:<source>``).
    """
    ranked = (
        select(
            pipeline_stage_runs,
            pipeline_runs.c.run_key,
            pipeline_runs.c.as_of,
            companies.c.code.label("company_code"),
            func.row_number()
            .over(
                partition_by=[pipeline_runs.c.company_id, pipeline_stage_runs.c.stage],
                order_by=pipeline_stage_runs.c.id.desc(),
            )
            .label("rank"),
        )
        .join(pipeline_runs, pipeline_runs.c.id == pipeline_stage_runs.c.run_id)
        .join(companies, companies.c.id == pipeline_runs.c.company_id)
        .where(pipeline_stage_runs.c.status.notin_(["pending", "queued"]))
    )
    if company is not None:
        ranked = ranked.where(companies.c.code == company)
    subquery = ranked.subquery()
    rows = connection.execute(
        select(subquery)
        .where(subquery.c.rank == 1)
        .order_by(subquery.c.company_code, subquery.c.position, subquery.c.stage)
    )
    return list(rows)


def last_successful_syncs(connection: Connection) -> list[Any]:
    """(company, source, ended_at) of the latest succeeded sync run of every source (for the lag)."""
    latest = (
        select(sync_runs.c.source_id, func.max(sync_runs.c.ended_at).label("ended_at"))
        .where(sync_runs.c.status == "succeeded")
        .group_by(sync_runs.c.source_id)
        .subquery()
    )
    return list(
        connection.execute(
            select(companies.c.code.label("company"), sources.c.name.label("source"), latest.c.ended_at)
            .select_from(sources)
            .join(companies, companies.c.id == sources.c.company_id)
            .outerjoin(latest, latest.c.source_id == sources.c.id)
        )
    )


def recent_runs(connection: Connection, company: str | None = None, limit: int = 20) -> list[Any]:
    query = (
        select(pipeline_runs, companies.c.code.label("company_code"))
        .join(companies, companies.c.id == pipeline_runs.c.company_id)
        .order_by(pipeline_runs.c.id.desc())
        .limit(limit)
    )
    if company is not None:
        query = query.where(companies.c.code == company)
    return list(connection.execute(query))


# -- approvals -----------------------------------------------------------------------------------


def queue_approval(
    connection: Connection,
    *,
    company_id: int,
    source: str,
    change_key: str,
    slot: str,
    kind: str,
    name: str,
    entity: str,
    external_id: str,
    label: str | None,
    change: Mapping[str, Any],
    policy_reason: str,
    run_id: int | None,
) -> tuple[int, str]:
    """Ask for a decision on a change (once per change key); returns (approval id, its status).

    Pending or approved requests for the same slot with another change key are superseded.
    """
    existing = connection.execute(
        select(approvals.c.id, approvals.c.status).where(
            approvals.c.source == source, approvals.c.change_key == change_key
        )
    ).first()
    if existing is not None:
        if existing.status in ("pending", "approved", "rejected"):
            return int(existing.id), str(existing.status)
        # Proposed again after it was applied (someone set the value back), superseded or failed:
        # a new request.
        connection.execute(
            update(approvals)
            .where(approvals.c.id == existing.id)
            .values(
                status="pending",
                requested_at=now(),
                requested_run_id=run_id,
                decided_by=None,
                decided_at=None,
                note=None,
                applied_at=None,
                outcome_detail=None,
                policy_reason=policy_reason,
            )
        )
        return int(existing.id), "pending"
    connection.execute(
        update(approvals)
        .where(
            approvals.c.source == source,
            approvals.c.slot == slot,
            approvals.c.status.in_(["pending", "approved"]),
        )
        .values(status="superseded", outcome_detail="a newer proposal replaced it")
    )
    result = connection.execute(
        insert(approvals).values(
            company_id=company_id,
            source=source,
            change_key=change_key,
            slot=slot,
            kind=kind,
            name=name,
            entity=entity,
            external_id=external_id,
            label=(label or "")[:255] or None,
            change=dict(change),
            policy_reason=policy_reason,
            status="pending",
            requested_at=now(),
            requested_run_id=run_id,
        )
    )
    return int(result.inserted_primary_key[0]), "pending"  # type: ignore[index]


def supersede_slots(
    connection: Connection, source: str, slots: Iterable[str], keep_keys: Iterable[str]
) -> int:
    """Pending/approved requests for these slots whose change is no longer proposed are superseded."""
    slots, keep = list(slots), list(keep_keys)
    if not slots:
        return 0
    condition = and_(
        approvals.c.source == source,
        approvals.c.slot.in_(slots),
        approvals.c.status.in_(["pending", "approved"]),
    )
    if keep:
        condition = and_(condition, approvals.c.change_key.notin_(keep))
    result = connection.execute(
        update(approvals)
        .where(condition)
        .values(status="superseded", outcome_detail="a newer proposal replaced it")
    )
    return int(result.rowcount or 0)


def list_approvals(
    connection: Connection,
    *,
    company: str | None = None,
    source: str | None = None,
    statuses: Sequence[str] | None = ("pending",),
    ids: Sequence[int] | None = None,
    limit: int = 500,
) -> list[Any]:
    query = (
        select(approvals, companies.c.code.label("company_code"))
        .join(companies, companies.c.id == approvals.c.company_id)
        .order_by(approvals.c.id)
        .limit(limit)
    )
    if company is not None:
        query = query.where(companies.c.code == company)
    if source is not None:
        query = query.where(approvals.c.source == source)
    if statuses:
        query = query.where(approvals.c.status.in_(list(statuses)))
    if ids:
        query = query.where(approvals.c.id.in_(list(ids)))
    return list(connection.execute(query))


def decide(connection: Connection, approval_id: int, *, status: str, by: str, note: str | None) -> None:
    connection.execute(
        update(approvals)
        .where(approvals.c.id == approval_id)
        .values(status=status, decided_by=by[:255], decided_at=now(), note=note)
    )


def record_outcome(connection: Connection, approval_id: int, *, status: str, detail: str | None) -> None:
    connection.execute(
        update(approvals)
        .where(approvals.c.id == approval_id)
        .values(status=status, applied_at=now(), outcome_detail=detail)
    )


def approval_counts(connection: Connection) -> dict[tuple[str, str], int]:
    """Pending approvals by (company, source)."""
    rows = connection.execute(
        select(companies.c.code, approvals.c.source, func.count(approvals.c.id))
        .join(companies, companies.c.id == approvals.c.company_id)
        .where(approvals.c.status == "pending")
        .group_by(companies.c.code, approvals.c.source)
    )
    return {(code, source): int(count) for code, source, count in rows}
