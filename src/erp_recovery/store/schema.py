"""Tables of the store (SQLAlchemy Core).

Every synced record lives in the table of its entity, keyed by (company, source, external id), with:
- ``payload``: the canonical record as JSON (Decimals as strings) — the source of truth that is
  read back into the pydantic model;
- typed columns copied from it for filtering, sorting and joins (dates, amounts, numbers...);
- ``content_hash`` of the payload, so an unchanged record is recognised without comparing fields;
- ``first_run_id`` / ``changed_run_id``: the sync runs that created and last changed the row;
- ``upstream_state``: ``present``, or ``deleted`` when the source no longer has it (rows are never
  removed by a sync).

Engine tables (match proposals, risk assessments, dunning cases, write-back plans) are added by
their own migrations next to this one.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from erp_recovery.store.types import ExactDecimal, JsonDocument

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

#: Integer primary keys: BIGINT on PostgreSQL, INTEGER (rowid alias) on SQLite.
Id = BigInteger().with_variant(Integer(), "sqlite")

companies = Table(
    "companies",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("code", String(63), nullable=False, unique=True),
    Column("name", String(255), nullable=False),
    Column("payload", JsonDocument, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

sources = Table(
    "sources",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("company_id", Id, ForeignKey("companies.id"), nullable=False),
    Column("name", String(63), nullable=False, unique=True),
    Column("connector", String(63), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

sync_runs = Table(
    "sync_runs",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("source_id", Id, ForeignKey("sources.id"), nullable=False, index=True),
    #: running | succeeded | failed | interrupted (a crashed run found by the next one)
    Column("status", String(16), nullable=False),
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("ended_at", DateTime(timezone=True)),
    Column("pid", Integer),
    Column("host", String(255)),
    Column("read_count", Integer, nullable=False, default=0),
    Column("created_count", Integer, nullable=False, default=0),
    Column("updated_count", Integer, nullable=False, default=0),
    Column("unchanged_count", Integer, nullable=False, default=0),
    Column("rejected_count", Integer, nullable=False, default=0),
    Column("deleted_count", Integer, nullable=False, default=0),
    Column("cursor_before", JsonDocument),
    Column("cursor_after", JsonDocument),
    #: Per-stream counts and notes (balance warnings...).
    Column("details", JsonDocument),
    Column("error", Text),
)

stream_states = Table(
    "stream_states",
    metadata,
    Column("source_id", Id, ForeignKey("sources.id"), primary_key=True),
    Column("stream", String(63), primary_key=True),
    Column("cursor", JsonDocument),
    Column("run_id", Id, ForeignKey("sync_runs.id")),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

quarantine = Table(
    "quarantine",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("source_id", Id, ForeignKey("sources.id"), nullable=False, index=True),
    Column("run_id", Id, ForeignKey("sync_runs.id"), nullable=False),
    Column("stream", String(63), nullable=False),
    Column("record_id", String(255)),
    Column("file", Text),
    Column("line", Integer),
    Column("reason", Text, nullable=False),
    Column("raw", JsonDocument),
    #: Hash of (stream, origin, reason, raw): the same bad record read twice is stored once.
    Column("fingerprint", String(64), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("source_id", "fingerprint", name="uq_quarantine_source_fingerprint"),
)


def _record_table(name: str, *typed: Column) -> Table:
    return Table(
        name,
        metadata,
        Column("id", Id, primary_key=True, autoincrement=True),
        Column("company_id", Id, ForeignKey("companies.id"), nullable=False),
        Column("source_id", Id, ForeignKey("sources.id"), nullable=False),
        Column("external_id", String(255), nullable=False),
        Column("scope", String(63)),
        *typed,
        Column("payload", JsonDocument, nullable=False),
        Column("content_hash", String(64), nullable=False),
        Column("upstream_state", String(16), nullable=False, default="present"),
        Column("first_run_id", Id, ForeignKey("sync_runs.id")),
        Column("changed_run_id", Id, ForeignKey("sync_runs.id")),
        Column("created_at", DateTime(timezone=True), nullable=False),
        Column("updated_at", DateTime(timezone=True), nullable=False),
        UniqueConstraint("company_id", "source_id", "external_id", name=f"uq_{name}_identity"),
    )


customers = _record_table(
    "customers",
    Column("name", String(255), nullable=False),
    Column("parent_id", String(255)),
    Column("siren", String(9)),
    Column("vat_number", String(32)),
    Column("email", String(255)),
    Column("credit_limit", ExactDecimal),
    Column("credit_limit_currency", String(3)),
    Column("blocked", Boolean, nullable=False, default=False),
)
Index("ix_customers_company_siren", customers.c.company_id, customers.c.siren)

invoices = _record_table(
    "invoices",
    Column("kind", String(16), nullable=False),
    Column("number", String(255), nullable=False),
    Column("customer_id", String(255), nullable=False),
    Column("issue_date", Date, nullable=False),
    Column("due_date", Date),
    Column("currency", String(3), nullable=False),
    Column("total", ExactDecimal, nullable=False),
    Column("residual", ExactDecimal, nullable=False),
    Column("status", String(16), nullable=False),
    Column("disputed", Boolean, nullable=False, default=False),
)
Index("ix_invoices_company_customer", invoices.c.company_id, invoices.c.source_id, invoices.c.customer_id)
Index("ix_invoices_company_number", invoices.c.company_id, invoices.c.number)

payments = _record_table(
    "payments",
    Column("customer_id", String(255)),
    Column("date", Date, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("amount", ExactDecimal, nullable=False),
    Column("status", String(16), nullable=False),
)

bank_transactions = _record_table(
    "bank_transactions",
    Column("account", String(64), nullable=False),
    Column("booking_date", Date, nullable=False),
    Column("value_date", Date),
    Column("currency", String(3), nullable=False),
    Column("amount", ExactDecimal, nullable=False),
    Column("counterparty_name", String(255)),
    Column("counterparty_iban", String(34)),
    Column("end_to_end_id", String(255)),
    Column("bank_reference", String(255)),
    Column("status", String(16), nullable=False),
)
Index("ix_bank_transactions_company_date", bank_transactions.c.company_id, bank_transactions.c.booking_date)

allocations = _record_table(
    "allocations",
    Column("invoice_id", String(255), nullable=False),
    Column("kind", String(24), nullable=False),
    Column("payment_id", String(255)),
    Column("credit_note_id", String(255)),
    Column("bank_transaction_id", String(255)),
    Column("currency", String(3), nullable=False),
    Column("amount", ExactDecimal, nullable=False),
    Column("date", Date),
)
Index("ix_allocations_invoice", allocations.c.company_id, allocations.c.source_id, allocations.c.invoice_id)

#: Record tables by canonical entity name.
RECORD_TABLES: dict[str, Table] = {
    "customer": customers,
    "invoice": invoices,
    "payment": payments,
    "bank_transaction": bank_transactions,
    "allocation": allocations,
}
