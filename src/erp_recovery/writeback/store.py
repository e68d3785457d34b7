"""Write-back tables and their repository functions: plans, apply runs, and the audit log.

- ``writeback_plans``: every plan made or applied, its full JSON and checksum (one row per checksum);
- ``writeback_runs``: one row per ``apply`` (status, forced or not, who, counts, error);
- ``writeback_audit``: one row per change per run: ``applied``, ``already_applied``, ``conflict``,
  ``not_owned``, ``failed`` or ``skipped``, with the value observed upstream and the detail.

Each audit row is committed as soon as its outcome is known, so after a crash the log shows what
was done up to that point, and the next apply (which re-reads every target) completes it.
Migration: ``store/migrations/versions/0003_writeback.py``.
"""

from __future__ import annotations

import getpass
import os
import socket
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    insert,
    select,
    update,
)
from sqlalchemy.engine import Connection

from erp_recovery.errors import ConfigError
from erp_recovery.store.schema import Id, metadata
from erp_recovery.store.types import JsonDocument
from erp_recovery.writeback.plan import ActionChange, FieldChange, Plan, canonical_value

writeback_plans = Table(
    "writeback_plans",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("plan_id", String(32), nullable=False, unique=True),
    Column("checksum", String(64), nullable=False, unique=True),
    Column("source", String(63), nullable=False, index=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("created_by", String(63), nullable=False),
    Column("change_count", Integer, nullable=False),
    Column("body", JsonDocument, nullable=False),
    Column("stored_at", DateTime(timezone=True), nullable=False),
)

writeback_runs = Table(
    "writeback_runs",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("plan_row_id", Id, ForeignKey("writeback_plans.id"), nullable=False, index=True),
    #: running | succeeded | partial | failed | refused | interrupted
    Column("status", String(16), nullable=False),
    Column("forced", Boolean, nullable=False, default=False),
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("ended_at", DateTime(timezone=True)),
    Column("actor", String(255)),
    Column("host", String(255)),
    Column("pid", Integer),
    Column("counts", JsonDocument),
    Column("error", Text),
)

writeback_audit = Table(
    "writeback_audit",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("run_id", Id, ForeignKey("writeback_runs.id"), nullable=False, index=True),
    Column("plan_row_id", Id, ForeignKey("writeback_plans.id"), nullable=False),
    Column("change_key", String(24), nullable=False),
    Column("kind", String(8), nullable=False),
    Column("entity", String(32), nullable=False),
    Column("external_id", String(255), nullable=False),
    Column("label", String(255)),
    Column("name", String(63), nullable=False),
    Column("base", JsonDocument),
    Column("new", JsonDocument),
    Column("observed", JsonDocument),
    Column("outcome", String(16), nullable=False),
    Column("detail", Text),
    Column("rule", String(63)),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
)
Index("ix_writeback_audit_plan_change", writeback_audit.c.plan_row_id, writeback_audit.c.change_key)

OUTCOMES = ("applied", "already_applied", "conflict", "not_owned", "failed", "skipped")


def _now() -> datetime:
    return datetime.now(UTC)


def save_plan(connection: Connection, plan: Plan) -> int:
    """Store a plan (once per checksum); returns its row id."""
    existing = connection.execute(
        select(writeback_plans.c.id).where(writeback_plans.c.checksum == plan.checksum)
    ).scalar()
    if existing is not None:
        return int(existing)
    result = connection.execute(
        insert(writeback_plans).values(
            plan_id=plan.id,
            checksum=plan.checksum,
            source=plan.source,
            created_at=plan.created_at,
            created_by=plan.created_by[:63],
            change_count=len(plan.changes),
            body=plan.model_dump(mode="json"),
            stored_at=_now(),
        )
    )
    return int(result.inserted_primary_key[0])  # type: ignore[index]


def load_plan(connection: Connection, reference: str) -> Plan:
    """A stored plan by id (``plan-1a2b3c4d5e6f``) or checksum (12+ hex characters)."""
    wanted = reference.strip().lower()
    if wanted.startswith("plan-"):
        condition = writeback_plans.c.plan_id == wanted
    elif len(wanted) >= 12 and all(ch in "0123456789abcdef" for ch in wanted):
        condition = writeback_plans.c.checksum.startswith(wanted)
    else:
        raise ConfigError(f"{reference!r} is neither a plan file, a plan id (plan-...) nor a checksum")
    rows = connection.execute(select(writeback_plans.c.body).where(condition)).all()
    if not rows:
        raise ConfigError(f"no stored plan {reference!r} (see 'erp-recovery writeback history')")
    if len(rows) > 1:
        raise ConfigError(f"{reference!r} matches {len(rows)} plans: give more of the checksum")
    return Plan.model_validate(rows[0].body)


def plan_row_id(connection: Connection, plan: Plan) -> int:
    return save_plan(connection, plan)


def interrupt_stale_runs(connection: Connection, plan_row: int) -> int:
    """Runs of this plan still 'running' died (we hold the source's write-back lock)."""
    result = connection.execute(
        update(writeback_runs)
        .where(writeback_runs.c.plan_row_id == plan_row, writeback_runs.c.status == "running")
        .values(status="interrupted", ended_at=_now(), error="the process stopped before the apply finished")
    )
    return int(result.rowcount or 0)


def start_run(connection: Connection, plan_row: int, *, forced: bool) -> int:
    try:
        actor = getpass.getuser()
    except (KeyError, OSError):
        actor = None
    result = connection.execute(
        insert(writeback_runs).values(
            plan_row_id=plan_row,
            status="running",
            forced=forced,
            started_at=_now(),
            actor=actor,
            host=socket.gethostname()[:255],
            pid=os.getpid(),
        )
    )
    return int(result.inserted_primary_key[0])  # type: ignore[index]


def record(
    connection: Connection,
    *,
    run_id: int,
    plan_row: int,
    change: FieldChange | ActionChange,
    outcome: str,
    detail: str | None = None,
    observed: Any = None,
) -> None:
    if outcome not in OUTCOMES:
        raise ValueError(f"unknown outcome {outcome!r}; valid: {', '.join(OUTCOMES)}")
    if isinstance(change, FieldChange):
        base, new = canonical_value(change.base), canonical_value(change.new)
    else:
        base, new = None, dict(change.params)
    connection.execute(
        insert(writeback_audit).values(
            run_id=run_id,
            plan_row_id=plan_row,
            change_key=change.key,
            kind=change.kind,
            entity=change.target.entity,
            external_id=change.target.external_id,
            label=(change.target.label or "")[:255] or None,
            name=change.name,
            base={"value": base},
            new={"value": new},
            observed={"value": observed} if observed is not None else None,
            outcome=outcome,
            detail=detail,
            rule=change.reason.rule[:63],
            recorded_at=_now(),
        )
    )


def finish_run(
    connection: Connection, run_id: int, *, status: str, counts: dict[str, int], error: str | None = None
) -> None:
    connection.execute(
        update(writeback_runs)
        .where(writeback_runs.c.id == run_id)
        .values(status=status, ended_at=_now(), counts=counts, error=error)
    )


@dataclass(frozen=True)
class RunSummary:
    run_id: int
    plan_id: str
    source: str
    status: str
    forced: bool
    started_at: datetime
    ended_at: datetime | None
    actor: str | None
    counts: dict[str, int]
    error: str | None


def history(
    connection: Connection, *, plan: str | None = None, source: str | None = None, limit: int = 20
) -> list[RunSummary]:
    """Apply runs, newest first."""
    query = (
        select(writeback_runs, writeback_plans.c.plan_id, writeback_plans.c.source)
        .join(writeback_plans, writeback_plans.c.id == writeback_runs.c.plan_row_id)
        .order_by(writeback_runs.c.id.desc())
        .limit(limit)
    )
    if plan:
        query = query.where(writeback_plans.c.plan_id == plan)
    if source:
        query = query.where(writeback_plans.c.source == source)
    return [
        RunSummary(
            run_id=int(row.id),
            plan_id=row.plan_id,
            source=row.source,
            status=row.status,
            forced=bool(row.forced),
            started_at=row.started_at,
            ended_at=row.ended_at,
            actor=row.actor,
            counts=dict(row.counts or {}),
            error=row.error,
        )
        for row in connection.execute(query)
    ]


def run_entries(connection: Connection, run_id: int) -> Sequence[Any]:
    """Audit rows of one run, in the order they were recorded."""
    return connection.execute(
        select(writeback_audit).where(writeback_audit.c.run_id == run_id).order_by(writeback_audit.c.id)
    ).all()


def plans(connection: Connection, *, source: str | None = None, limit: int = 20) -> Sequence[Any]:
    query = (
        select(
            writeback_plans.c.plan_id,
            writeback_plans.c.source,
            writeback_plans.c.created_at,
            writeback_plans.c.created_by,
            writeback_plans.c.change_count,
            writeback_plans.c.checksum,
        )
        .order_by(writeback_plans.c.id.desc())
        .limit(limit)
    )
    if source:
        query = query.where(writeback_plans.c.source == source)
    return connection.execute(query).all()
