"""Sage 50 (UK) audit trail transactions → invoices, credit notes, receipts and allocations.

Input: the rows of an audit trail transactions CSV read through ``mappings/sage50_audit_trail.toml``
(``entity = "row"``; ``shared/domain/formats.md`` §7.2), each with ``type`` already translated to a
kind by the mapping:

=====  ======================  ===============================================================
Type   kind                    becomes
=====  ======================  ===============================================================
SI     ``invoice``             an invoice
SC     ``credit_note``         a credit note
SR     ``receipt``             a payment (method ``receipt``), allocated to invoices
SA     ``payment_on_account``  a payment (method ``payment on account``), left unallocated
SD     ``discount``            a write-off allocation (settlement discount) on an invoice
=====  ======================  ===============================================================

Rows of the same kind, account, date and reference are the splits of one transaction: one
document whose gross amount is the sum of ``net + tax`` of its rows (in the row's ``currency``
when the mapping reads one, else the source's). A document whose total is negative is refused
with its first line: Sage books a negative invoice as a credit note.

**Allocations.** The audit trail CSV does not say which invoices a receipt paid (Sage keeps that in
its allocation history); it gives references. Credits (receipts, credit notes, discounts) are taken
in date order and settle:

1. the invoice of the same account whose reference equals the credit's ``extra_reference``, else
   its ``reference`` (spaces and case ignored), first;
2. with ``allocate = "reference_then_oldest"`` (the default), then the account's oldest open
   invoices, as Sage's automatic allocation does; with ``"reference"`` nothing more; ``"none"``
   allocates nothing.

Payments on account (SA) are never allocated: Sage keeps them on account until a person
allocates them. Documents of different currencies never settle each other. When the mapping reads
Sage's own ``outstanding`` amount, it is the invoice's residual, and allocations only fill the
paid part (total − outstanding); otherwise the residual is the total minus the allocations.

**Due dates:** the row's ``due_date`` when mapped, else the customer's payment terms (Payment Due
Days of the customer record), else the date + ``default_due_days``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

from erp_recovery.connectors.sage.drafts import RecordDraft, draft

from erp_recovery.errors import MappingError
from erp_recovery.mapping import Row
from erp_recovery.model.money import Money
from erp_recovery.model.records import Allocation, CreditNote, Invoice, Payment

Kind = Literal["invoice", "credit_note", "receipt", "payment_on_account", "discount"]
AllocationPolicy = Literal["reference_then_oldest", "reference", "none"]

KINDS: dict[str, str] = {
    "invoice": "SI",
    "credit_note": "SC",
    "receipt": "SR",
    "payment_on_account": "SA",
    "discount": "SD",
}
#: Credits that settle invoices (payments on account stay on account).
_SETTLING: frozenset[str] = frozenset({"receipt", "credit_note", "discount"})
_MAX_ID = 255

#: ``(document) -> due date or None``: the connector plugs the customers' payment terms in here.
DueDateResolver = Callable[["Transaction"], dt.date | None]


def bounded_id(*parts: str) -> str:
    """An external id from its parts, hashed past 255 characters (the model's limit)."""
    text = "|".join(parts)
    if len(text) <= _MAX_ID:
        return text
    return f"{text[: _MAX_ID - 18]}#{hashlib.sha256(text.encode()).hexdigest()[:16]}"


def _folded(reference: str) -> str:
    return "".join(reference.split()).casefold()


@dataclass(eq=False)
class Transaction:
    """One document: the rows (splits) of one kind, account, date and reference."""

    kind: Kind
    account: str
    date: dt.date
    reference: str
    #: What tells documents of one kind, account and date apart: the reference, else the
    #: transaction number (``#123``), else the line (``line 12``: not stable if the file changes).
    identity: str
    currency: str
    file: str
    lines: list[int] = field(default_factory=list)
    total: Decimal = Decimal(0)
    extra_reference: str = ""
    details: str = ""
    due_date: dt.date | None = None
    outstanding: Decimal | None = None
    transaction_numbers: list[str] = field(default_factory=list)
    exchange_rate: Decimal | None = None
    nominals: list[str] = field(default_factory=list)
    allocated: Decimal = Decimal(0)

    @property
    def external_id(self) -> str:
        return bounded_id(KINDS[self.kind], self.account, self.date.strftime("%Y%m%d"), self.identity)

    @property
    def number(self) -> str:
        return self.reference or f"{KINDS[self.kind]} {self.identity}"

    @property
    def capacity(self) -> Decimal:
        """What allocations may use: the total, or its settled part when Sage states what is left."""
        if self.outstanding is not None:
            return self.total - self.outstanding
        return self.total

    @property
    def residual(self) -> Decimal:
        """What is left: Sage's outstanding amount when mapped, else the total minus allocations."""
        if self.outstanding is not None:
            return self.outstanding
        return self.total - self.allocated

    def source_refs(self) -> dict[str, str]:
        refs = {
            "file": self.file,
            "lines": ",".join(str(line) for line in self.lines),
            "type": KINDS[self.kind],
            "account": self.account,
        }
        if self.transaction_numbers:
            refs["transaction"] = ",".join(self.transaction_numbers)
        if self.extra_reference:
            refs["extra_reference"] = self.extra_reference
        if self.nominals:
            refs["nominal"] = ",".join(sorted(set(self.nominals)))
        if self.exchange_rate is not None:
            refs["exchange_rate"] = format(self.exchange_rate, "f")
        return refs


@dataclass
class Settlement:
    """An allocation: ``amount`` of ``credit`` settles ``invoice``."""

    invoice: Transaction
    credit: Transaction
    amount: Decimal = Decimal(0)
    rule: str = "reference"


@dataclass
class Ledger:
    """Documents and settlements derived from the audit trail."""

    transactions: list[Transaction]
    settlements: list[Settlement]
    accounts: set[str]

    def of(self, *kinds: str) -> list[Transaction]:
        return [doc for doc in self.transactions if doc.kind in kinds]


def _decimal(value: Any) -> Decimal:
    if value is None:
        return Decimal(0)
    if isinstance(value, Money):
        return value.amount
    return Decimal(value)


def collect(rows: Iterable[tuple[Path, Row, dict[str, Any]]], *, currency: str) -> list[Transaction]:
    """Group rows into documents (see the module docstring); a negative document is refused."""
    documents: dict[tuple[str, ...], Transaction] = {}
    for path, row, values in rows:
        kind = values["type"]
        if kind not in KINDS:
            raise MappingError(
                f"type {kind!r} is not one of {', '.join(KINDS)} (check the 'values' of fields.type)",
                file=str(path),
                line=row.line,
                column="type",
            )
        account = str(values["account"]).strip()
        date: dt.date = values["date"]
        reference = str(values.get("reference") or "").strip()
        number = str(values.get("transaction_number") or "").strip()
        doc_currency = str(values.get("currency") or currency).strip().upper()
        # Without a reference, the transaction number (else the line) tells documents apart.
        identity = reference or (f"#{number}" if number else f"line {row.line}")
        key = (kind, account, date.isoformat(), identity)
        doc = documents.get(key)
        if doc is None:
            doc = documents[key] = Transaction(
                kind=kind,
                account=account,
                date=date,
                reference=reference,
                identity=identity,
                currency=doc_currency,
                file=path.name,
            )
        elif doc.currency != doc_currency:
            raise MappingError(
                f"{KINDS[kind]} {doc.number} of account {account} has splits in {doc.currency} and "
                f"{doc_currency}",
                file=str(path),
                line=row.line,
                column="currency",
            )
        doc.lines.append(row.line)
        doc.total += _decimal(values["net"]) + _decimal(values.get("tax"))
        if number:
            doc.transaction_numbers.append(number)
        extra = str(values.get("extra_reference") or "").strip()
        if extra and not doc.extra_reference:
            doc.extra_reference = extra
        details = str(values.get("details") or "").strip()
        if details and not doc.details:
            doc.details = details
        if values.get("nominal"):
            doc.nominals.append(str(values["nominal"]).strip())
        if values.get("due_date") is not None:
            due: dt.date = values["due_date"]
            doc.due_date = due if doc.due_date is None else min(doc.due_date, due)
        if values.get("outstanding") is not None:
            doc.outstanding = (doc.outstanding or Decimal(0)) + _decimal(values["outstanding"])
        if values.get("exchange_rate") is not None and doc.exchange_rate is None:
            doc.exchange_rate = _decimal(values["exchange_rate"])
    for doc in documents.values():
        if doc.total < 0:
            raise MappingError(
                f"{KINDS[doc.kind]} {doc.number} of account {doc.account} totals {doc.total}: a document "
                "cannot be negative (Sage books a negative invoice as a credit note, SC)",
                file=doc.file,
                line=doc.lines[0],
                column="net",
            )
        if doc.outstanding is not None and not 0 <= doc.outstanding <= doc.total:
            raise MappingError(
                f"{KINDS[doc.kind]} {doc.number}: outstanding {doc.outstanding} is not between 0 and "
                f"the total {doc.total}",
                file=doc.file,
                line=doc.lines[0],
                column="outstanding",
            )
    return list(documents.values())


def _order(doc: Transaction) -> tuple[dt.date, str, int]:
    return (doc.date, doc.file, doc.lines[0])


def settle(transactions: list[Transaction], policy: AllocationPolicy) -> list[Settlement]:
    """Allocate credits to invoices (see the module docstring)."""
    if policy == "none":
        return []
    invoices: dict[tuple[str, str], list[Transaction]] = defaultdict(list)
    by_reference: dict[tuple[str, str, str], list[Transaction]] = defaultdict(list)
    for doc in sorted(transactions, key=_order):
        if doc.kind == "invoice":
            invoices[(doc.account, doc.currency)].append(doc)
            if doc.reference:
                by_reference[(doc.account, doc.currency, _folded(doc.reference))].append(doc)
    settlements: dict[tuple[int, int], Settlement] = {}

    def allocate(invoice: Transaction, credit: Transaction, remaining: Decimal, rule: str) -> Decimal:
        amount = min(remaining, invoice.capacity - invoice.allocated)
        if amount <= 0:
            return remaining
        invoice.allocated += amount
        credit.allocated += amount
        key = (id(invoice), id(credit))
        found = settlements.get(key)
        if found is None:
            found = settlements[key] = Settlement(invoice, credit, rule=rule)
        found.amount += amount
        return remaining - amount

    for credit in sorted((d for d in transactions if d.kind in _SETTLING), key=_order):
        remaining = credit.capacity
        pool = (credit.account, credit.currency)
        for reference in (credit.extra_reference, credit.reference):
            if not reference or not remaining:
                continue
            for invoice in by_reference.get((*pool, _folded(reference)), ()):
                remaining = allocate(invoice, credit, remaining, "reference")
        if policy == "reference_then_oldest":
            for invoice in invoices.get(pool, ()):
                if not remaining:
                    break
                remaining = allocate(invoice, credit, remaining, "oldest first")
    return list(settlements.values())


def derive(
    rows: Iterable[tuple[Path, Row, dict[str, Any]]], *, currency: str, policy: AllocationPolicy
) -> Ledger:
    transactions = collect(rows, currency=currency)
    settlements = settle(transactions, policy)
    return Ledger(transactions, settlements, {doc.account for doc in transactions})


def record_drafts(ledger: Ledger, *, due_date: DueDateResolver) -> Iterator[RecordDraft]:
    """Drafts of the invoices, credit notes, payments and allocations of a derived ledger."""
    for doc in ledger.transactions:
        refs = doc.source_refs()
        if doc.kind in ("invoice", "credit_note"):
            residual = doc.residual
            paid = doc.total - residual
            status = "paid" if residual == 0 else ("partial" if paid else "open")
            due = due_date(doc) if doc.kind == "invoice" else None
            if due is not None and due < doc.date:
                due = doc.date
            yield draft(
                CreditNote if doc.kind == "credit_note" else Invoice,
                {
                    "external_id": doc.external_id,
                    "source_refs": refs,
                    "number": doc.number,
                    "customer_id": doc.account,
                    "issue_date": doc.date,
                    "due_date": due,
                    "currency": doc.currency,
                    "total": Money(amount=doc.total, currency=doc.currency),
                    "residual": Money(amount=residual, currency=doc.currency),
                    "status": status,
                    "customer_reference": doc.extra_reference or None,
                },
            )
        elif doc.kind in ("receipt", "payment_on_account"):
            yield draft(
                Payment,
                {
                    "external_id": doc.external_id,
                    "source_refs": refs,
                    "customer_id": doc.account,
                    "date": doc.date,
                    "amount": Money(amount=doc.total, currency=doc.currency),
                    "method": "receipt" if doc.kind == "receipt" else "payment on account",
                    "reference": doc.reference or None,
                    "memo": doc.details or None,
                },
            )
    for settlement in ledger.settlements:
        credit, invoice = settlement.credit, settlement.invoice
        common: dict[str, Any] = {
            "external_id": bounded_id("A", invoice.external_id, credit.external_id),
            "source_refs": {"rule": settlement.rule, "lines": ",".join(map(str, credit.lines))},
            "invoice_id": invoice.external_id,
            "amount": Money(amount=settlement.amount, currency=invoice.currency),
            "date": max(invoice.date, credit.date),
        }
        if credit.kind == "credit_note":
            yield draft(Allocation, {"kind": "credit_note", "credit_note_id": credit.external_id, **common})
        elif credit.kind == "discount":
            yield draft(Allocation, {"kind": "writeoff", **common})
        else:
            yield draft(Allocation, {"kind": "payment", "payment_id": credit.external_id, **common})
