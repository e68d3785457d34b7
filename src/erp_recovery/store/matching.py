"""Matching in the store: the matcher's proposals, people's decisions on them, and the payer memory.

- ``match_runs``: one row per run of the matcher (when, counts).
- ``match_proposals``: the current proposal for each bank transaction of a company (unique per
  company and transaction): status (``auto``, ``suggested``, ``accepted``, ``unmatched``),
  confidence, rule, flags, amounts, and the whole proposal (lines and evidence) as JSON with its
  hash, so a rerun that finds the same proposal changes nothing, not even a timestamp.
- ``match_lines``: the invoices each proposal settles and how much (what residuals, ageing and
  dunning read), denormalised with the proposal's status.
- ``match_decisions``: every decision a person took (accept / reject), never deleted; the latest
  one per transaction is the one in force, and the matcher never overrides it.
- ``payer_memory``: IBAN → customer and payer name → customer learned from decisions (or blocked).

:func:`run_matching` loads a company's records, decisions and memory, runs the pure engine
(:func:`erp_recovery.engines.matching.match`) and stores the result; :func:`stored_proposals` is
what risk, dunning and the export read.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    bindparam,
    delete,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.engine import Connection

from erp_recovery.engines.matching import (
    MatchInput,
    MatchProposal,
    MatchResult,
    MatchSettings,
    PayerMemory,
    ReviewDecision,
    match,
    memory_from_decision,
    merge_memory,
)
from erp_recovery.errors import ConfigError
from erp_recovery.model.records import Allocation, BankTransaction, Customer, Invoice, Payment, Record
from erp_recovery.store.records import load_records
from erp_recovery.store.schema import Id, allocations, invoices, metadata, payments
from erp_recovery.store.types import ExactDecimal, JsonDocument

match_runs = Table(
    "match_runs",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("company_id", Id, ForeignKey("companies.id"), nullable=False),
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("ended_at", DateTime(timezone=True)),
    #: transactions by status, and proposals created / updated / unchanged / removed
    Column("counts", JsonDocument),
)

match_proposals = Table(
    "match_proposals",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("company_id", Id, ForeignKey("companies.id"), nullable=False),
    Column("bank_transaction_id", String(255), nullable=False),
    Column("bank_ref", String(255), nullable=False),
    Column("booking_date", Date, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("amount", ExactDecimal, nullable=False),
    Column("status", String(16), nullable=False),
    Column("confidence", ExactDecimal, nullable=False),
    Column("rule", String(40), nullable=False),
    Column("customer_id", String(255)),
    Column("writeoff", ExactDecimal),
    Column("unapplied", ExactDecimal),
    Column("flags", JsonDocument, nullable=False),
    Column("payload", JsonDocument, nullable=False),
    Column("content_hash", String(64), nullable=False),
    Column("run_id", Id, ForeignKey("match_runs.id")),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("company_id", "bank_transaction_id", name="uq_match_proposals_transaction"),
)
Index("ix_match_proposals_status", match_proposals.c.company_id, match_proposals.c.status)
Index("ix_match_proposals_bank_ref", match_proposals.c.company_id, match_proposals.c.bank_ref)

match_lines = Table(
    "match_lines",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("proposal_id", Id, ForeignKey("match_proposals.id", ondelete="CASCADE"), nullable=False),
    Column("company_id", Id, ForeignKey("companies.id"), nullable=False),
    Column("bank_transaction_id", String(255), nullable=False),
    Column("status", String(16), nullable=False),
    Column("invoice_id", String(255), nullable=False),
    Column("invoice_number", String(255), nullable=False),
    Column("customer_id", String(255), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("amount", ExactDecimal, nullable=False),
)
Index("ix_match_lines_invoice", match_lines.c.company_id, match_lines.c.invoice_id)
Index("ix_match_lines_proposal", match_lines.c.proposal_id)

match_decisions = Table(
    "match_decisions",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("company_id", Id, ForeignKey("companies.id"), nullable=False),
    Column("bank_transaction_id", String(255), nullable=False),
    Column("bank_ref", String(255), nullable=False),
    Column("decision", String(16), nullable=False),
    Column("decided_by", String(255), nullable=False),
    Column("decided_at", DateTime(timezone=True), nullable=False),
    Column("note", Text),
    Column("payload", JsonDocument, nullable=False),
)
Index("ix_match_decisions_transaction", match_decisions.c.company_id, match_decisions.c.bank_transaction_id)

payer_memory = Table(
    "payer_memory",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("company_id", Id, ForeignKey("companies.id"), nullable=False),
    Column("kind", String(8), nullable=False),
    Column("key", String(255), nullable=False),
    Column("customer_id", String(255), nullable=False),
    Column("origin", String(16), nullable=False),
    Column("confirmations", Integer, nullable=False),
    Column("blocked", Boolean, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("company_id", "kind", "key", "customer_id", name="uq_payer_memory_entry"),
)


#: Rows per statement (keeps SQLite's parameter count low).
_CHUNK = 500


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _digest(payload: dict[str, Any]) -> str:
    encoded = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(encoded.encode("utf-8")).hexdigest()


def _typed(records: Iterable[Record], kind: type[Any]) -> list[Any]:
    return [record for record in records if isinstance(record, kind)]


# -- reading what the matcher needs ----------------------------------------------------------------


def load_decisions(connection: Connection, company_id: int) -> list[ReviewDecision]:
    """Every decision of the company, oldest first (the engine keeps the latest per transaction)."""
    rows = connection.execute(
        select(match_decisions.c.payload)
        .where(match_decisions.c.company_id == company_id)
        .order_by(match_decisions.c.decided_at, match_decisions.c.id)
    )
    return [ReviewDecision.model_validate(row.payload) for row in rows]


def load_memory(connection: Connection, company_id: int) -> list[PayerMemory]:
    rows = connection.execute(
        select(payer_memory).where(payer_memory.c.company_id == company_id).order_by(payer_memory.c.id)
    )
    return [
        PayerMemory(
            kind=row.kind,
            key=row.key,
            customer_id=row.customer_id,
            origin=row.origin,
            confirmations=row.confirmations,
            blocked=row.blocked,
        )
        for row in rows
    ]


def load_input(connection: Connection, company_id: int, settings: MatchSettings | None = None) -> MatchInput:
    """The company's customers, invoices, bank lines, ERP allocations and payments, decisions, memory.

    Records of every source of the company are read (the books from one, the bank from others); a
    bank transaction stored by two sources (the same account as MT940 and camt) is read once. Only
    what the matcher can use is loaded: the ERP's allocations of bank lines, the ERP payments from
    a few days before the first bank line, and settled invoices issued since ``closed_items_days``
    before it (with every open one).
    """
    settings = settings or MatchSettings()
    transactions: dict[str, BankTransaction] = {}
    for record in load_records(connection, "bank_transaction", company_id=company_id):
        if isinstance(record, BankTransaction):
            transactions.setdefault(record.external_id, record)
    first_day = min((tx.booking_date for tx in transactions.values()), default=None)
    invoice_filter = []
    payment_filter = []
    if first_day is not None:
        closed_since = first_day - dt.timedelta(days=settings.closed_items_days)
        invoice_filter = [
            or_(invoices.c.status.in_(("open", "partial")), invoices.c.issue_date >= closed_since)
        ]
        payment_filter = [payments.c.date >= first_day - dt.timedelta(days=settings.erp_payment_window_days)]
    return MatchInput(
        customers=_typed(load_records(connection, "customer", company_id=company_id), Customer),
        invoices=_typed(
            load_records(connection, "invoice", company_id=company_id, where=invoice_filter), Invoice
        ),
        bank_transactions=list(transactions.values()),
        allocations=_typed(
            load_records(
                connection,
                "allocation",
                company_id=company_id,
                where=[allocations.c.bank_transaction_id.is_not(None)],
            ),
            Allocation,
        ),
        payments=_typed(
            load_records(connection, "payment", company_id=company_id, where=payment_filter), Payment
        ),
        decisions=load_decisions(connection, company_id),
        memory=load_memory(connection, company_id),
    )


# -- storing proposals ---------------------------------------------------------------------------


@dataclass
class SaveCounts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    removed: int = 0

    def as_dict(self) -> dict[str, int]:
        return {
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "removed": self.removed,
        }


def _proposal_row(company_id: int, proposal: MatchProposal, payload: dict[str, Any]) -> dict[str, Any]:
    return {
        "company_id": company_id,
        "bank_transaction_id": proposal.bank_transaction_id,
        "bank_ref": proposal.bank_ref[:255],
        "booking_date": proposal.booking_date,
        "currency": proposal.amount.currency,
        "amount": proposal.amount.amount,
        "status": proposal.status,
        "confidence": proposal.confidence,
        "rule": proposal.rule[:40],
        "customer_id": proposal.customer_id,
        "writeoff": proposal.writeoff.amount if proposal.writeoff else None,
        "unapplied": proposal.unapplied.amount if proposal.unapplied else None,
        "flags": list(proposal.flags),
        "payload": payload,
        "content_hash": _digest(payload),
    }


def _line_rows(company_id: int, proposal_id: int, proposal: MatchProposal) -> list[dict[str, Any]]:
    return [
        {
            "proposal_id": proposal_id,
            "company_id": company_id,
            "bank_transaction_id": proposal.bank_transaction_id,
            "status": proposal.status,
            "invoice_id": line.invoice_id,
            "invoice_number": line.invoice_number[:255],
            "customer_id": line.customer_id,
            "kind": line.kind,
            "currency": line.amount.currency,
            "amount": line.amount.amount,
        }
        for line in proposal.lines
    ]


def save_proposals(
    connection: Connection, company_id: int, proposals: Sequence[MatchProposal], run_id: int | None
) -> SaveCounts:
    """Store the run's proposals: identical ones are left untouched; proposals of transactions no
    longer in the run (deleted upstream) are removed with their lines. Writes go in batches."""
    counts = SaveCounts()
    stored = {
        row.bank_transaction_id: (row.id, row.content_hash)
        for row in connection.execute(
            select(
                match_proposals.c.id, match_proposals.c.bank_transaction_id, match_proposals.c.content_hash
            ).where(match_proposals.c.company_id == company_id)
        )
    }
    stamp = _now()
    seen: set[str] = set()
    inserts: list[tuple[MatchProposal, dict[str, Any]]] = []
    updates: list[tuple[MatchProposal, int, dict[str, Any]]] = []
    for proposal in proposals:
        seen.add(proposal.bank_transaction_id)
        row = _proposal_row(company_id, proposal, proposal.model_dump(mode="json", exclude_none=True))
        previous = stored.get(proposal.bank_transaction_id)
        if previous is None:
            inserts.append((proposal, row))
        elif previous[1] == row["content_hash"]:
            counts.unchanged += 1
        else:
            updates.append((proposal, previous[0], row))
    ids: dict[str, int] = {}
    for start in range(0, len(inserts), _CHUNK):
        chunk = inserts[start : start + _CHUNK]
        returned = connection.execute(
            insert(match_proposals).returning(match_proposals.c.id, match_proposals.c.bank_transaction_id),
            [{**row, "run_id": run_id, "created_at": stamp, "updated_at": stamp} for _, row in chunk],
        )
        ids.update({found.bank_transaction_id: found.id for found in returned})
    counts.created = len(inserts)
    if updates:
        columns = [key for key in updates[0][2] if key not in ("company_id", "bank_transaction_id")]
        statement = (
            update(match_proposals)
            .where(match_proposals.c.id == bindparam("_row_id"))
            .values({column: bindparam(f"v_{column}") for column in [*columns, "run_id", "updated_at"]})
        )
        for start in range(0, len(updates), _CHUNK):
            changed = updates[start : start + _CHUNK]
            connection.execute(
                statement,
                [
                    {
                        "_row_id": row_id,
                        **{f"v_{column}": row[column] for column in columns},
                        "v_run_id": run_id,
                        "v_updated_at": stamp,
                    }
                    for _, row_id, row in changed
                ],
            )
            connection.execute(
                delete(match_lines).where(match_lines.c.proposal_id.in_([row_id for _, row_id, _ in changed]))
            )
        ids.update({proposal.bank_transaction_id: row_id for proposal, row_id, _ in updates})
    counts.updated = len(updates)
    written = [proposal for proposal, _ in inserts] + [proposal for proposal, _, _ in updates]
    lines = [
        line
        for proposal in written
        for line in _line_rows(company_id, ids[proposal.bank_transaction_id], proposal)
    ]
    for start in range(0, len(lines), _CHUNK):
        connection.execute(insert(match_lines), lines[start : start + _CHUNK])
    gone = [row_id for transaction_id, (row_id, _) in stored.items() if transaction_id not in seen]
    for start in range(0, len(gone), _CHUNK):
        chunk_ids = gone[start : start + _CHUNK]
        connection.execute(delete(match_lines).where(match_lines.c.proposal_id.in_(chunk_ids)))
        connection.execute(delete(match_proposals).where(match_proposals.c.id.in_(chunk_ids)))
    counts.removed = len(gone)
    return counts


def stored_proposals(
    connection: Connection,
    company_id: int,
    *,
    statuses: Sequence[str] | None = None,
    keys: Sequence[str] | None = None,
) -> list[MatchProposal]:
    """The stored proposals of a company, in booking order.

    ``statuses`` filters (``["suggested"]``...); ``keys`` selects by bank reference or bank
    transaction id. This is what risk and dunning read: pass the result to
    :func:`~erp_recovery.engines.matching.effective_residuals` and
    :func:`~erp_recovery.engines.matching.pending_by_invoice`.
    """
    statement = select(match_proposals.c.payload).where(match_proposals.c.company_id == company_id)
    if statuses is not None:
        statement = statement.where(match_proposals.c.status.in_(list(statuses)))
    if keys is not None:
        wanted = list(keys)
        statement = statement.where(
            match_proposals.c.bank_ref.in_(wanted) | match_proposals.c.bank_transaction_id.in_(wanted)
        )
    statement = statement.order_by(match_proposals.c.booking_date, match_proposals.c.bank_transaction_id)
    return [MatchProposal.model_validate(row.payload) for row in connection.execute(statement)]


# -- decisions and memory ------------------------------------------------------------------------


def save_memory(connection: Connection, company_id: int, entries: Sequence[PayerMemory]) -> None:
    """Merge entries into the company's memory (confirmations add up, a block wins)."""
    if not entries:
        return
    current = load_memory(connection, company_id)
    merged = merge_memory(current, entries)
    before = {(entry.kind, entry.key, entry.customer_id): entry for entry in current}
    stamp = _now()
    for entry in merged:
        key = (entry.kind, entry.key, entry.customer_id)
        values = {
            "origin": entry.origin,
            "confirmations": entry.confirmations,
            "blocked": entry.blocked,
            "updated_at": stamp,
        }
        if key not in before:
            connection.execute(
                insert(payer_memory).values(
                    company_id=company_id,
                    kind=entry.kind,
                    key=entry.key[:255],
                    customer_id=entry.customer_id,
                    **values,
                )
            )
        elif before[key] != entry:
            connection.execute(
                update(payer_memory)
                .where(
                    payer_memory.c.company_id == company_id,
                    payer_memory.c.kind == entry.kind,
                    payer_memory.c.key == entry.key[:255],
                    payer_memory.c.customer_id == entry.customer_id,
                )
                .values(**values)
            )


def record_decision(
    connection: Connection,
    company_id: int,
    proposal: MatchProposal,
    decision: str,
    *,
    decided_by: str,
    note: str | None = None,
    transaction: BankTransaction | None = None,
    at: dt.datetime | None = None,
) -> ReviewDecision:
    """Keep a person's decision on a proposal and teach the payer memory with it.

    Accepting freezes the proposal's lines (status ``accepted`` at once); rejecting a proposal makes
    the matcher leave its invoices aside for that transaction on the next run.
    """
    if decision == "accepted" and not proposal.lines:
        raise ConfigError(
            f"bank line {proposal.bank_ref} has nothing to accept ({proposal.reason or proposal.status})",
            key="bank_ref",
        )
    made = ReviewDecision(
        bank_transaction_id=proposal.bank_transaction_id,
        decision=decision,
        lines=proposal.lines,
        writeoff=proposal.writeoff,
        customer_id=proposal.customer_id,
        decided_by=decided_by,
        decided_at=at or _now(),
        note=note,
    )
    connection.execute(
        insert(match_decisions).values(
            company_id=company_id,
            bank_transaction_id=proposal.bank_transaction_id,
            bank_ref=proposal.bank_ref[:255],
            decision=decision,
            decided_by=decided_by[:255],
            decided_at=made.decided_at,
            note=note,
            payload=made.model_dump(mode="json", exclude_none=True),
        )
    )
    if transaction is not None:
        save_memory(connection, company_id, memory_from_decision(made, transaction, proposal))
    if decision == "accepted":
        accepted = proposal.model_copy(update={"status": "accepted", "reason": f"accepted by {decided_by}"})
        payload = accepted.model_dump(mode="json", exclude_none=True)
        row = _proposal_row(company_id, accepted, payload)
        connection.execute(
            update(match_proposals)
            .where(
                match_proposals.c.company_id == company_id,
                match_proposals.c.bank_transaction_id == proposal.bank_transaction_id,
            )
            .values(status="accepted", payload=payload, content_hash=row["content_hash"], updated_at=_now())
        )
        connection.execute(
            update(match_lines)
            .where(
                match_lines.c.company_id == company_id,
                match_lines.c.bank_transaction_id == proposal.bank_transaction_id,
            )
            .values(status="accepted")
        )
    return made


def decision_history(connection: Connection, company_id: int, limit: int = 100) -> list[Any]:
    return list(
        connection.execute(
            select(match_decisions)
            .where(match_decisions.c.company_id == company_id)
            .order_by(match_decisions.c.decided_at.desc(), match_decisions.c.id.desc())
            .limit(limit)
        )
    )


# -- a run ----------------------------------------------------------------------------------------


@dataclass
class MatchRun:
    """What a run of the matcher did for one company."""

    company_code: str
    company_id: int
    result: MatchResult
    saved: SaveCounts = field(default_factory=SaveCounts)
    run_id: int | None = None
    seconds: float = 0.0

    def counts(self) -> dict[str, int]:
        return {**self.result.counts(), **self.saved.as_dict()}


def run_matching(
    connection: Connection,
    company_id: int,
    company_code: str,
    settings: MatchSettings,
    *,
    dry_run: bool = False,
) -> MatchRun:
    """Match the company's bank lines and store the proposals (unless ``dry_run``)."""
    started = _now()
    data = load_input(connection, company_id, settings)
    result = match(data, settings)
    ended = _now()
    run = MatchRun(company_code, company_id, result, seconds=(ended - started).total_seconds())
    if dry_run:
        return run
    inserted = connection.execute(
        insert(match_runs).values(company_id=company_id, started_at=started)
    ).inserted_primary_key
    assert inserted is not None
    run.run_id = inserted[0]
    run.saved = save_proposals(connection, company_id, result.proposals, run.run_id)
    connection.execute(
        update(match_runs).where(match_runs.c.id == run.run_id).values(ended_at=_now(), counts=run.counts())
    )
    return run


def invoice_pending_totals(connection: Connection, company_id: int) -> dict[str, Decimal]:
    """Sum of ``suggested`` lines per invoice id, straight from ``match_lines`` (cheap, for listings)."""
    totals: dict[str, Decimal] = {}
    rows = connection.execute(
        select(match_lines.c.invoice_id, match_lines.c.amount).where(
            match_lines.c.company_id == company_id, match_lines.c.status == "suggested"
        )
    )
    for row in rows:
        totals[row.invoice_id] = totals.get(row.invoice_id, Decimal(0)) + row.amount
    return totals


def demo_stage(context: Any) -> dict[str, Any]:
    """The demo's matching stage: match the demo company's bank statement, summarise the proposals.

    ``context`` is the demo's stage context (store, config, company code). Expects the bank statement
    of the demo data (``demo/data/bank-statement.camt053.xml``) synced by a ``bank-files`` source.
    """
    from erp_recovery.store import runs as run_store

    with context.store.begin() as connection:
        company_id = run_store.company_id(connection, context.company)
        if company_id is None:
            return {"note": f"company {context.company} has no data"}
        run = run_matching(
            connection, company_id, context.company, context.config.section("matching", MatchSettings)
        )
    shown = []
    for proposal in run.result.proposals:
        if proposal.amount.amount <= 0:
            continue
        lines = ", ".join(f"{line.invoice_number} {line.amount.amount}" for line in proposal.lines) or "-"
        shown.append(
            f"{proposal.bank_ref} {proposal.amount.amount}: {proposal.status} ({proposal.confidence}) {lines}"
            + (f" [{', '.join(proposal.flags)}]" if proposal.flags else "")
        )
    return {"counts": run.counts(), "proposals": shown}
