"""Storing and reading canonical records: idempotent upserts keyed by (company, source, external id).

An upsert compares the SHA-256 of the record's canonical JSON with the stored one: equal → the row
is not touched (``unchanged``), different → updated and stamped with the run, absent → created.
Importing the same data twice therefore changes nothing, not even timestamps.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from functools import lru_cache
from typing import Any, TypeVar

from sqlalchemy import Connection, Table, func, select, update
from sqlalchemy.sql.elements import ColumnElement

from erp_recovery.model.records import (
    RECORD_TYPES,
    Allocation,
    BankTransaction,
    Customer,
    Invoice,
    Payment,
    Record,
)
from erp_recovery.store.schema import RECORD_TABLES, sources

RecordT = TypeVar("RecordT", bound=Record)

#: Rows fetched or written per SQL statement (keeps parameter counts under SQLite's limit).
CHUNK = 500


def now() -> datetime:
    return datetime.now(UTC)


def serialise(record: Record) -> tuple[str, str]:
    """(content hash, payload JSON text) of a record.

    The hash covers the record's content in model field order, without its provenance fields
    (:attr:`Record.provenance_fields`: ``source_refs``, and for a bank transaction the file,
    position and statement it was read from), so a record that only moved within an export, or
    that arrives again from another file or format, has not changed. The payload keeps them.
    """
    provenance = record.provenance_fields
    content = record.model_dump_json(exclude_none=True, exclude=set(provenance))
    digest = hashlib.sha256(content.encode("utf-8")).hexdigest()
    present = {name for name in provenance if getattr(record, name) not in (None, {})}
    if not present:
        return digest, content
    where = record.model_dump_json(include=present)
    return digest, f"{where[:-1]},{content[1:]}"


def _typed_columns(record: Record) -> dict[str, Any]:
    """Columns copied from the payload for queries (the payload stays the source of truth)."""
    if isinstance(record, Customer):
        return {
            "name": record.name[:255],
            "parent_id": record.parent_id,
            "siren": record.siren,
            "vat_number": record.vat_number,
            "email": record.email,
            "credit_limit": record.credit_limit.amount if record.credit_limit else None,
            "credit_limit_currency": record.credit_limit.currency if record.credit_limit else None,
            "blocked": record.blocked,
        }
    if isinstance(record, Invoice):
        return {
            "kind": record.kind,
            "number": record.number[:255],
            "customer_id": record.customer_id,
            "issue_date": record.issue_date,
            "due_date": record.due_date,
            "currency": record.currency,
            "total": record.total.amount,
            "residual": record.residual.amount,
            "status": record.status,
            "disputed": record.disputed,
        }
    if isinstance(record, Payment):
        return {
            "customer_id": record.customer_id,
            "date": record.date,
            "currency": record.amount.currency,
            "amount": record.amount.amount,
            "status": record.status,
        }
    if isinstance(record, BankTransaction):
        return {
            "account": record.account[:64],
            "booking_date": record.booking_date,
            "value_date": record.value_date,
            "currency": record.amount.currency,
            "amount": record.amount.amount,
            "counterparty_name": (record.counterparty_name or "")[:255] or None,
            "counterparty_iban": record.counterparty_iban,
            "end_to_end_id": (record.end_to_end_id or "")[:255] or None,
            "bank_reference": (record.bank_reference or "")[:255] or None,
            "status": record.status,
        }
    if isinstance(record, Allocation):
        return {
            "invoice_id": record.invoice_id,
            "kind": record.kind,
            "payment_id": record.payment_id,
            "credit_note_id": record.credit_note_id,
            "bank_transaction_id": record.bank_transaction_id,
            "currency": record.amount.currency,
            "amount": record.amount.amount,
            "date": record.date,
        }
    raise TypeError(f"not a canonical record: {type(record).__name__}")


@dataclass
class UpsertCounts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    by_entity: dict[str, dict[str, int]] = field(default_factory=dict)

    def add(self, entity: str, outcome: str, count: int = 1) -> None:
        setattr(self, outcome, getattr(self, outcome) + count)
        per_entity = self.by_entity.setdefault(entity, {"created": 0, "updated": 0, "unchanged": 0})
        per_entity[outcome] += count


def _chunks(items: Sequence[Any], size: int = CHUNK) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _driver_value(value: Any, dialect: str) -> Any:
    """A value as the database driver takes it (what the column types do, done once per value)."""
    if dialect == "sqlite" and value is not None:
        converter = _SQLITE_CONVERTERS.get(type(value))
        if converter is not None:
            return converter(value)
    return value


#: SQLite storage forms of the typed columns (the same as SQLAlchemy's and ExactDecimal's).
_SQLITE_CONVERTERS: dict[type, Any] = {
    Decimal: lambda value: format(value, "f"),
    date: date.isoformat,
    datetime: lambda value: value.strftime("%Y-%m-%d %H:%M:%S.%f"),
}


@lru_cache(maxsize=64)
def _write_sql(table_name: str, columns: tuple[str, ...], dialect: str, kind: str) -> str:
    marker = "?" if dialect == "sqlite" else "%s"

    def placeholder(column: str) -> str:
        return f"CAST({marker} AS JSONB)" if column == "payload" and dialect == "postgresql" else marker

    if kind == "insert":
        names = ", ".join(f'"{column}"' for column in columns)
        values = ", ".join(placeholder(column) for column in columns)
        return f'INSERT INTO "{table_name}" ({names}) VALUES ({values})'
    assignments = ", ".join(f'"{column}" = {placeholder(column)}' for column in columns)
    return f'UPDATE "{table_name}" SET {assignments} WHERE "id" = {marker}'


def _keeps_booked(stored_status: str | None, record: Record) -> bool:
    """A booked bank transaction is final: a later intraday report (MT942, camt.052) that still
    shows the booking pending (or as information) does not take it back to that state."""
    return stored_status == "booked" and isinstance(record, BankTransaction) and record.status != "booked"


def upsert_records(
    connection: Connection,
    records: Iterable[Record],
    *,
    company_id: int,
    source_id: int,
    run_id: int | None,
) -> UpsertCounts:
    """Insert new records, update changed ones, leave identical ones untouched.

    A bank transaction stored as ``booked`` is never replaced by a ``pending`` or ``info`` version
    of itself (counted unchanged).

    Rows are written with one ``executemany`` per statement through the driver (the typed-column
    conversions done here once), which keeps large imports (a 1,000,000-line FEC) fast.
    """
    counts = UpsertCounts()
    by_entity: dict[str, dict[str, Record]] = {}
    for record in records:
        # Within one batch the last version of a record wins (a booked bank transaction excepted).
        batch = by_entity.setdefault(record.entity, {})
        earlier = batch.get(record.external_id)
        if earlier is not None and _keeps_booked(getattr(earlier, "status", None), record):
            continue
        batch[record.external_id] = record
    dialect = connection.dialect.name
    stamp = _driver_value(now(), dialect)
    for entity, batch in by_entity.items():
        table = RECORD_TABLES[entity]
        existing: dict[str, tuple[int, str, str]] = {}
        stored_status: dict[str, str] = {}
        columns_read = [table.c.id, table.c.external_id, table.c.content_hash, table.c.upstream_state]
        if entity == BankTransaction.entity:
            columns_read.append(table.c.status)
        for chunk in _chunks(list(batch)):
            rows = connection.execute(
                select(*columns_read).where(
                    table.c.company_id == company_id,
                    table.c.source_id == source_id,
                    table.c.external_id.in_(chunk),
                )
            )
            for row in rows:
                existing[row.external_id] = (row.id, row.content_hash, row.upstream_state)
                if entity == BankTransaction.entity and row.upstream_state == "present":
                    stored_status[row.external_id] = row.status
        inserts: list[tuple[Any, ...]] = []
        updates: list[tuple[Any, ...]] = []
        columns: tuple[str, ...] = ()
        for external_id, record in batch.items():
            if stored_status and _keeps_booked(stored_status.get(external_id), record):
                counts.add(entity, "unchanged")
                continue
            digest, payload = serialise(record)
            previous = existing.get(external_id)
            if previous is not None and previous[1] == digest and previous[2] == "present":
                counts.add(entity, "unchanged")
                continue
            values = {
                **_typed_columns(record),
                "scope": record.scope,
                "payload": payload,
                "content_hash": digest,
                "upstream_state": "present",
                "changed_run_id": run_id,
                "updated_at": stamp,
            }
            columns = tuple(values)
            converted = tuple(
                _driver_value(value, dialect) if value is not None else None for value in values.values()
            )
            if previous is None:
                inserts.append((*converted, company_id, source_id, external_id, run_id, stamp))
                counts.add(entity, "created")
            else:
                updates.append((*converted, previous[0]))
                counts.add(entity, "updated")
        if inserts:
            insert_columns = (
                *columns,
                "company_id",
                "source_id",
                "external_id",
                "first_run_id",
                "created_at",
            )
            connection.exec_driver_sql(_write_sql(table.name, insert_columns, dialect, "insert"), inserts)
        if updates:
            connection.exec_driver_sql(_write_sql(table.name, columns, dialect, "update"), updates)
    return counts


def mark_missing(
    connection: Connection,
    entity: str,
    *,
    company_id: int,
    source_id: int,
    present: Iterable[str],
    scope: str | None,
    run_id: int | None,
) -> int:
    """Mark rows of ``entity`` that the source no longer has as ``deleted``; returns how many."""
    table = RECORD_TABLES[entity]
    present_ids = set(present)
    conditions = [
        table.c.company_id == company_id,
        table.c.source_id == source_id,
        table.c.upstream_state == "present",
    ]
    if scope is not None:
        conditions.append(table.c.scope == scope)
    stored = connection.execute(select(table.c.id, table.c.external_id).where(*conditions))
    gone = [row.id for row in stored if row.external_id not in present_ids]
    stamp = now()
    for chunk in _chunks(gone):
        connection.execute(
            update(table)
            .where(table.c.id.in_(chunk))
            .values(upstream_state="deleted", changed_run_id=run_id, updated_at=stamp)
        )
    return len(gone)


def load_records(
    connection: Connection,
    entity: str,
    *,
    company_id: int | None = None,
    source_ids: Sequence[int] | None = None,
    include_deleted: bool = False,
    where: Sequence[ColumnElement[bool]] = (),
    order_by: Sequence[Any] = (),
    limit: int | None = None,
) -> list[Record]:
    """Canonical records of one entity, rebuilt from their stored payloads."""
    return [
        record
        for _, record in iter_record_rows(
            connection,
            entity,
            company_id=company_id,
            source_ids=source_ids,
            include_deleted=include_deleted,
            where=where,
            order_by=order_by,
            limit=limit,
        )
    ]


def iter_record_rows(
    connection: Connection,
    entity: str,
    *,
    company_id: int | None = None,
    source_ids: Sequence[int] | None = None,
    include_deleted: bool = False,
    where: Sequence[ColumnElement[bool]] = (),
    order_by: Sequence[Any] = (),
    limit: int | None = None,
) -> Iterator[tuple[Any, Record]]:
    """(row, record) pairs: the row gives store columns (ids, source, state), the record the data."""
    table: Table = RECORD_TABLES[entity]
    model = RECORD_TYPES[entity]
    statement = select(table)
    if company_id is not None:
        statement = statement.where(table.c.company_id == company_id)
    if source_ids is not None:
        statement = statement.where(table.c.source_id.in_(list(source_ids)))
    if not include_deleted:
        statement = statement.where(table.c.upstream_state == "present")
    for condition in where:
        statement = statement.where(condition)
    statement = statement.order_by(*(order_by or (table.c.id,)))
    if limit is not None:
        statement = statement.limit(limit)
    for row in connection.execute(statement):
        yield row, model.model_validate(row.payload)


def source_population(connection: Connection, source_name: str) -> dict[str, int]:
    """Records of each entity the store holds for a source (present upstream): the denominator of
    the write-back safety share. Empty when the source was never synced."""
    source_id = connection.execute(select(sources.c.id).where(sources.c.name == source_name)).scalar()
    if source_id is None:
        return {}
    return {
        entity: int(
            connection.execute(
                select(func.count()).where(
                    table.c.source_id == source_id, table.c.upstream_state == "present"
                )
            ).scalar()
            or 0
        )
        for entity, table in RECORD_TABLES.items()
    }
