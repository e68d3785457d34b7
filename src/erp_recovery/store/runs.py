"""Companies, sources, sync runs, stream cursors and the quarantine."""

from __future__ import annotations

import hashlib
import json
import os
import socket
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, func, insert, select, update

from erp_recovery.config import AppConfig, SourceConfig
from erp_recovery.errors import ConfigError
from erp_recovery.model.records import Company
from erp_recovery.store.records import now
from erp_recovery.store.schema import companies, quarantine, sources, stream_states, sync_runs

RUN_COUNTERS = ("read", "created", "updated", "unchanged", "rejected", "deleted")


def ensure_company(connection: Connection, company: Company) -> int:
    """Insert or refresh a company row from its configuration; returns its id."""
    payload = company.model_dump(mode="json", exclude_none=True)
    row = connection.execute(
        select(companies.c.id, companies.c.payload).where(companies.c.code == company.code)
    ).first()
    if row is None:
        stamp = now()
        result = connection.execute(
            insert(companies).values(
                code=company.code, name=company.name, payload=payload, created_at=stamp, updated_at=stamp
            )
        )
        return int(result.inserted_primary_key[0])  # type: ignore[index]
    if row.payload != payload:
        connection.execute(
            update(companies)
            .where(companies.c.id == row.id)
            .values(name=company.name, payload=payload, updated_at=now())
        )
    return int(row.id)


def ensure_source(connection: Connection, source: SourceConfig, company_id: int) -> int:
    row = connection.execute(select(sources).where(sources.c.name == source.name)).first()
    if row is None:
        result = connection.execute(
            insert(sources).values(
                name=source.name, company_id=company_id, connector=source.connector, created_at=now()
            )
        )
        return int(result.inserted_primary_key[0])  # type: ignore[index]
    if row.company_id != company_id or row.connector != source.connector:
        connection.execute(
            update(sources)
            .where(sources.c.id == row.id)
            .values(company_id=company_id, connector=source.connector)
        )
    return int(row.id)


@dataclass(frozen=True)
class RegisteredIds:
    companies: dict[str, int]
    sources: dict[str, int]


def register_config(connection: Connection, config: AppConfig) -> RegisteredIds:
    """Make sure every configured company and source has its row; returns their ids."""
    company_ids = {company.code: ensure_company(connection, company) for company in config.companies}
    source_ids = {
        source.name: ensure_source(connection, source, company_ids[source.company])
        for source in config.sources
    }
    return RegisteredIds(companies=company_ids, sources=source_ids)


def company_id(connection: Connection, code: str) -> int | None:
    value = connection.execute(select(companies.c.id).where(companies.c.code == code)).scalar()
    return int(value) if value is not None else None


def company_ids(connection: Connection) -> dict[str, int]:
    return {row.code: int(row.id) for row in connection.execute(select(companies.c.code, companies.c.id))}


def load_company(connection: Connection, code: str) -> Company | None:
    payload = connection.execute(select(companies.c.payload).where(companies.c.code == code)).scalar()
    return Company.model_validate(payload) if payload is not None else None


def source_ids_of(connection: Connection, company: int) -> dict[str, int]:
    rows = connection.execute(select(sources.c.name, sources.c.id).where(sources.c.company_id == company))
    return {row.name: int(row.id) for row in rows}


def synced_source_ids(connection: Connection, source: SourceConfig) -> tuple[int, int]:
    """Company and source ids of a configured source; a :class:`ConfigError` until it is synced."""
    company = company_id(connection, source.company)
    if company is None:
        raise ConfigError(f"company {source.company!r} has no data yet: run 'erp-recovery sync'")
    source_id = source_ids_of(connection, company).get(source.name)
    if source_id is None:
        raise ConfigError(f"source {source.name!r} has not been synced yet: run 'erp-recovery sync'")
    return company, source_id


# -- runs --------------------------------------------------------------------------------------


def interrupt_stale_runs(connection: Connection, source_id: int) -> int:
    """Runs still 'running' when we hold the source's lock died (crash, kill -9): say so."""
    result = connection.execute(
        update(sync_runs)
        .where(sync_runs.c.source_id == source_id, sync_runs.c.status == "running")
        .values(status="interrupted", ended_at=now(), error="the process stopped before the run finished")
    )
    return int(result.rowcount or 0)


def start_run(connection: Connection, source_id: int, cursor_before: Mapping[str, Any]) -> int:
    result = connection.execute(
        insert(sync_runs).values(
            source_id=source_id,
            status="running",
            started_at=now(),
            pid=os.getpid(),
            host=socket.gethostname()[:255],
            read_count=0,
            created_count=0,
            updated_count=0,
            unchanged_count=0,
            rejected_count=0,
            deleted_count=0,
            cursor_before=dict(cursor_before),
        )
    )
    return int(result.inserted_primary_key[0])  # type: ignore[index]


def add_run_counts(connection: Connection, run_id: int, counts: Mapping[str, int]) -> None:
    values = {
        f"{name}_count": getattr(sync_runs.c, f"{name}_count") + counts[name]
        for name in RUN_COUNTERS
        if counts.get(name)
    }
    if values:
        connection.execute(update(sync_runs).where(sync_runs.c.id == run_id).values(**values))


def finish_run(
    connection: Connection,
    run_id: int,
    *,
    status: str,
    cursor_after: Mapping[str, Any] | None,
    details: Mapping[str, Any] | None = None,
    error: str | None = None,
) -> None:
    connection.execute(
        update(sync_runs)
        .where(sync_runs.c.id == run_id)
        .values(
            status=status,
            ended_at=now(),
            cursor_after=dict(cursor_after) if cursor_after is not None else None,
            details=dict(details) if details is not None else None,
            error=error,
        )
    )


def get_run(connection: Connection, run_id: int) -> Any:
    return connection.execute(select(sync_runs).where(sync_runs.c.id == run_id)).first()


def last_runs(connection: Connection, limit_per_source: int = 1) -> list[Any]:
    """The latest runs of each source, newest first, with the source and company names."""
    ranked = (
        select(
            sync_runs,
            sources.c.name.label("source_name"),
            companies.c.code.label("company_code"),
            func.row_number()
            .over(partition_by=sync_runs.c.source_id, order_by=sync_runs.c.id.desc())
            .label("rank"),
        )
        .join(sources, sources.c.id == sync_runs.c.source_id)
        .join(companies, companies.c.id == sources.c.company_id)
        .subquery()
    )
    rows = connection.execute(
        select(ranked)
        .where(ranked.c.rank <= limit_per_source)
        .order_by(ranked.c.source_name, ranked.c.id.desc())
    )
    return list(rows)


# -- stream cursors ----------------------------------------------------------------------------


def get_cursors(connection: Connection, source_id: int) -> dict[str, Any]:
    rows = connection.execute(
        select(stream_states.c.stream, stream_states.c.cursor).where(stream_states.c.source_id == source_id)
    )
    return {row.stream: row.cursor for row in rows}


def set_cursor(connection: Connection, source_id: int, stream: str, cursor: Any, run_id: int) -> None:
    exists = connection.execute(
        select(stream_states.c.stream).where(
            stream_states.c.source_id == source_id, stream_states.c.stream == stream
        )
    ).first()
    if exists:
        connection.execute(
            update(stream_states)
            .where(stream_states.c.source_id == source_id, stream_states.c.stream == stream)
            .values(cursor=cursor, run_id=run_id, updated_at=now())
        )
    else:
        connection.execute(
            insert(stream_states).values(
                source_id=source_id, stream=stream, cursor=cursor, run_id=run_id, updated_at=now()
            )
        )


def reset_cursors(connection: Connection, source_id: int, streams: list[str] | None = None) -> None:
    statement = update(stream_states).where(stream_states.c.source_id == source_id)
    if streams:
        statement = statement.where(stream_states.c.stream.in_(streams))
    connection.execute(statement.values(cursor=None, updated_at=now()))


# -- quarantine --------------------------------------------------------------------------------


def quarantine_record(
    connection: Connection,
    *,
    source_id: int,
    run_id: int,
    stream: str,
    reason: str,
    raw: Any,
    file: str | None = None,
    line: int | None = None,
    record_id: str | None = None,
) -> bool:
    """Keep a rejected record with its reason and origin; the same record twice is kept once."""
    fingerprint = hashlib.sha256(
        json.dumps([stream, file, line, record_id, reason, raw], sort_keys=True, default=str).encode()
    ).hexdigest()
    exists = connection.execute(
        select(quarantine.c.id).where(
            quarantine.c.source_id == source_id, quarantine.c.fingerprint == fingerprint
        )
    ).first()
    if exists:
        return False
    connection.execute(
        insert(quarantine).values(
            source_id=source_id,
            run_id=run_id,
            stream=stream,
            record_id=record_id,
            file=file,
            line=line,
            reason=reason,
            raw=raw,
            fingerprint=fingerprint,
            created_at=now(),
        )
    )
    return True


def quarantine_counts(connection: Connection) -> dict[str, int]:
    rows = connection.execute(
        select(sources.c.name, func.count(quarantine.c.id))
        .join(quarantine, quarantine.c.source_id == sources.c.id)
        .group_by(sources.c.name)
    )
    return {name: int(count) for name, count in rows}


def list_quarantine(connection: Connection, source_id: int | None = None, limit: int = 100) -> list[Any]:
    statement = (
        select(quarantine, sources.c.name.label("source_name"))
        .join(sources, sources.c.id == quarantine.c.source_id)
        .order_by(quarantine.c.id.desc())
        .limit(limit)
    )
    if source_id is not None:
        statement = statement.where(quarantine.c.source_id == source_id)
    return list(connection.execute(statement))
