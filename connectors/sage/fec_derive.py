"""From a validated FEC to receivables: customers, invoices, credit notes, payments, allocations.

Which line is what (see :mod:`.fec_rules` for the journal roles):

================  =====================================  =====================================
role of entry     debit on a customer account            credit on a customer account
================  =====================================  =====================================
sales             invoice                                credit note (avoir)
opening           invoice carried forward (à-nouveau)    payment ``opening balance``
bank              invoice-like debt (refund, bounced     payment (``ModeRglt`` when the file
                  payment: the customer owes it again)   has it, else ``bank``)
other (OD)        invoice-like debt                      payment ``journal entry``
================  =====================================  =====================================

Lines of one entry with the same customer, date, ``PieceRef`` and direction form one document
(an invoice with several due-date lines is one invoice).

**Lettrage** (``EcritureLet``): lines of one customer account with the same code settle each
other. Within a group, credits are allocated to debits first where amounts are equal, then
oldest first; a group whose credits fall short of its debits is *partial lettrage* and leaves a
residual on the latest debits. A group with credits only (its debits are in an earlier fiscal
year, summarised in the à-nouveaux) settles the customer's unlettered opening-balance debits,
oldest first; and symmetrically for a group with debits only. Hence, for every invoice,
``residual = total − lettered credits allocated to it``; nothing is allocated without lettrage.

Foreign currency (``Idevise`` ≠ ledger currency, ``Montantdevise`` given): the document is in that
currency; allocations are computed in the ledger currency where lettrage balances, and converted
at the invoice's own rate, so a fully lettered invoice has a residual of exactly zero.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Literal

from erp_recovery.connectors.sage.drafts import Draft
from erp_recovery.connectors.sage.fec_reader import FecLedger, ReceivableLine
from erp_recovery.connectors.sage.fec_rules import FecRules, LineRole

from erp_recovery.model.money import Money, minor_units
from erp_recovery.model.records import Allocation, CreditNote, Customer, Invoice, Payment, Record

DocKind = Literal["invoice", "credit_note", "payment"]

#: ``(invoice facts) -> due date``; the connector plugs the échéancier and payment terms in here.
DueDateResolver = Callable[["Document"], dt.date | None]

_MAX_ID = 255


@dataclass(slots=True, eq=False)
class Document:
    """A derived document before it becomes a canonical record (plain Python, cheap to build)."""

    external_id: str
    kind: DocKind
    role: LineRole
    customer_id: str
    number: str
    journal: str
    journal_lib: str
    date: dt.date
    issue_date: dt.date
    label: str
    currency: str
    lines: list[ReceivableLine] = field(default_factory=list)
    total_base: Decimal = Decimal(0)
    fx_total: Decimal | None = None
    allocated_base: Decimal = Decimal(0)

    @property
    def residual_base(self) -> Decimal:
        return self.total_base - self.allocated_base

    @property
    def is_foreign(self) -> bool:
        return self.fx_total is not None


@dataclass(slots=True, eq=False)
class _Item:
    """One line of a document, the unit lettrage works on."""

    line: ReceivableLine
    doc: Document
    remaining: Decimal


@dataclass(slots=True)
class AllocationFacts:
    debit: Document
    credit: Document
    amount_base: Decimal = Decimal(0)
    date: dt.date | None = None
    letters: set[str] = field(default_factory=set)
    rule: str = "lettrage"


@dataclass
class CustomerFacts:
    external_id: str
    name: str
    account: str
    aux: str
    lines: int = 0
    balance: Decimal = Decimal(0)


@dataclass
class Derivation:
    """What a FEC yields for receivables, before the canonical records are built."""

    scope: str
    currency: str
    customers: dict[str, CustomerFacts]
    documents: list[Document]
    allocations: list[AllocationFacts]
    #: Lettered lines left (partly) unsettled in this file (their other side is elsewhere).
    unmatched_lettered_lines: int = 0

    def by_kind(self, kind: DocKind) -> list[Document]:
        return [doc for doc in self.documents if doc.kind == kind]


def fiscal_scope(ledger: FecLedger) -> str:
    """Scope of a FEC's records: ``<SIREN>:<closing date>`` (``-`` when the name gives no SIREN)."""
    closing = ledger.fiscal_year_end
    return f"{ledger.siren or '-'}:{closing.isoformat() if closing else '-'}"


def _doc_id(prefix: str, parts: tuple[str, ...]) -> str:
    text = "|".join((prefix, *parts))
    if len(text) <= _MAX_ID:
        return text
    digest = hashlib.sha256(text.encode()).hexdigest()[:16]
    return f"{text[: _MAX_ID - 18]}#{digest}"


def derive(ledger: FecLedger, rules: FecRules) -> Derivation:
    """Turn the receivable lines of a validated FEC into documents and allocations."""
    currency = rules.ledger.currency
    closing = ledger.fiscal_year_end
    year_tag = closing.strftime("%Y%m%d") if closing else "-"
    customers: dict[str, CustomerFacts] = {}
    documents: dict[tuple[str, ...], Document] = {}
    items: list[_Item] = []
    entry_roles = ledger.entry_roles
    key_mode = rules.ledger.customer_key
    #: ``AAAAMMJJ`` of each entry date (a year has a few hundred; formatting one costs ~1 µs).
    day_tags: dict[dt.date, str] = {}

    for line in ledger.receivable_lines:
        role = entry_roles.get(f"{line.journal}\x1f{line.number}", "other")
        if role == "ignored":
            continue
        if key_mode == "account" or (key_mode == "aux_or_account" and not line.aux):
            customer_id = line.account
        else:
            customer_id = line.aux or line.account
        facts = customers.get(customer_id)
        name = line.aux_lib or line.account_lib or customer_id
        if facts is None:
            facts = customers[customer_id] = CustomerFacts(customer_id, name, line.account, line.aux)
        else:
            facts.name = name  # the latest label wins: names get corrected over a year
        facts.lines += 1
        facts.balance += line.amount
        if not line.amount:
            continue
        debit = line.amount > 0
        kind: DocKind = "invoice" if debit else ("credit_note" if role == "sales" else "payment")
        day = day_tags.get(line.date)
        if day is None:
            day = day_tags[line.date] = line.date.strftime("%Y%m%d")
        key = (
            line.journal,
            line.number,
            day,
            customer_id,
            line.piece_ref[:80],
            "D" if debit else "C",
        )
        doc = documents.get(key)
        if doc is None:
            doc = documents[key] = Document(
                external_id=_doc_id(year_tag, key),
                kind=kind,
                role=role,
                customer_id=customer_id,
                number=line.piece_ref or f"{line.journal}-{line.number}",
                journal=line.journal,
                journal_lib=line.journal_lib,
                date=line.date,
                issue_date=line.piece_date,
                label=line.label,
                currency=currency,
            )
        amount = line.amount if debit else -line.amount
        doc.lines.append(line)
        doc.total_base += amount
        items.append(_Item(line, doc, amount))

    for doc in documents.values():
        _set_currency(doc, currency)

    allocations: dict[tuple[int, int], AllocationFacts] = {}
    unmatched = _letter(items, allocations)
    derivation = Derivation(
        scope=fiscal_scope(ledger),
        currency=currency,
        customers=customers,
        documents=list(documents.values()),
        allocations=list(allocations.values()),
        unmatched_lettered_lines=unmatched,
    )
    return derivation


def _set_currency(doc: Document, ledger_currency: str) -> None:
    currencies = {line.fx_currency for line in doc.lines}
    if len(currencies) != 1:
        return
    (fx_currency,) = currencies
    if not fx_currency or fx_currency == ledger_currency:
        return
    if any(line.fx_amount is None for line in doc.lines):
        return
    doc.currency = fx_currency
    doc.fx_total = sum((abs(line.fx_amount or 0) for line in doc.lines), Decimal(0))


def _allocate(
    debit: _Item,
    credit: _Item,
    amount: Decimal,
    allocations: dict[tuple[int, int], AllocationFacts],
    rule: str,
) -> None:
    debit.remaining -= amount
    credit.remaining -= amount
    debit.doc.allocated_base += amount
    credit.doc.allocated_base += amount
    key = (id(debit.doc), id(credit.doc))
    facts = allocations.get(key)
    if facts is None:
        facts = allocations[key] = AllocationFacts(debit=debit.doc, credit=credit.doc, rule=rule)
    facts.amount_base += amount
    if credit.line.letter:
        facts.letters.add(credit.line.letter)
    dates = [d for d in (debit.line.letter_date, credit.line.letter_date) if d] or [
        debit.line.date,
        credit.line.date,
    ]
    when = max(dates)
    facts.date = when if facts.date is None else max(facts.date, when)


def _order(item: _Item) -> tuple[dt.date, int]:
    return (item.line.date, item.line.line)


def _settle(
    debits: list[_Item], credits: list[_Item], allocations: dict[tuple[int, int], AllocationFacts], rule: str
) -> None:
    """Exact amounts first, then oldest debit with oldest credit."""
    by_amount: dict[Decimal, list[_Item]] = defaultdict(list)
    for debit in reversed(debits):
        by_amount[debit.remaining].append(debit)
    for credit in credits:
        candidates = by_amount.get(credit.remaining)
        while candidates:
            debit = candidates.pop()
            if debit.remaining == credit.remaining:
                _allocate(debit, credit, credit.remaining, allocations, rule)
                break
    index = 0
    for credit in credits:
        while credit.remaining and index < len(debits):
            debit = debits[index]
            if not debit.remaining:
                index += 1
                continue
            _allocate(debit, credit, min(debit.remaining, credit.remaining), allocations, rule)


def _letter(items: list[_Item], allocations: dict[tuple[int, int], AllocationFacts]) -> int:
    groups: dict[tuple[str, str, str], list[_Item]] = defaultdict(list)
    opening: dict[tuple[str, str], list[_Item]] = defaultdict(list)
    for item in items:
        line = item.line
        if line.letter:
            groups[(line.account, item.doc.customer_id, line.letter)].append(item)
        elif item.doc.role == "opening":
            opening[(line.account, item.doc.customer_id)].append(item)

    # What lettrage leaves unsettled inside this file was lettered with lines of an earlier year,
    # which the à-nouveaux summarise: excess credits of a group, and groups with one side only.
    leftovers: dict[tuple[str, str], list[_Item]] = defaultdict(list)
    unmatched = 0
    for (account, customer, _code), members in groups.items():
        debits = sorted((m for m in members if m.line.amount > 0), key=_order)
        credits = sorted((m for m in members if m.line.amount < 0), key=_order)
        if debits and credits:
            _settle(debits, credits, allocations, "lettrage")
            leftovers[(account, customer)].extend(c for c in credits if c.remaining)
        else:
            leftovers[(account, customer)].extend(members)

    for account_customer, members in leftovers.items():
        carried = sorted(opening.get(account_customer, ()), key=_order)
        credits = sorted((m for m in members if m.line.amount < 0), key=_order)
        debits = sorted((m for m in members if m.line.amount > 0), key=_order)
        if credits:
            targets = [item for item in carried if item.line.amount > 0 and item.remaining]
            _settle(targets, credits, allocations, "lettrage with the opening balance")
        if debits:
            targets = [item for item in carried if item.line.amount < 0 and item.remaining]
            _settle(debits, targets, allocations, "lettrage with the opening balance")
        unmatched += sum(1 for item in members if item.remaining)
    return unmatched


# -- canonical records ---------------------------------------------------------------------------


def _fx_share(doc: Document, amount_base: Decimal, cumulated_base: Decimal) -> Decimal:
    """Foreign-currency part of ``amount_base`` at the document's own rate, rounding carried over."""
    if doc.fx_total is None or not doc.total_base:
        return amount_base
    exponent = Decimal(1).scaleb(-minor_units(doc.currency))
    before = (cumulated_base * doc.fx_total / doc.total_base).quantize(exponent, rounding=ROUND_HALF_UP)
    after = ((cumulated_base + amount_base) * doc.fx_total / doc.total_base).quantize(
        exponent, rounding=ROUND_HALF_UP
    )
    return after - before


def _line_refs(doc: Document, file_name: str) -> dict[str, str]:
    lines = doc.lines
    first = lines[0]
    refs = {
        "file": file_name,
        "lines": str(first.line) if len(lines) == 1 else ",".join([str(line.line) for line in lines]),
        "journal": doc.journal,
        "entry": first.number,
        "role": doc.role,
    }
    if len(lines) == 1:
        if first.letter:
            refs["lettrage"] = first.letter
    else:
        letters = sorted({line.letter for line in lines if line.letter})
        if letters:
            refs["lettrage"] = ",".join(letters)
    for name, value in first.extras:
        refs[name] = value
    return refs


class _MoneyCache:
    """Validated :class:`Money` values by (amount, currency), built once each.

    A ledger repeats amounts (an invoice's total, the payment and the allocation that settle it,
    every zero residual): each distinct value goes through the model's validation once and the
    immutable result is shared. The key holds the amount's text, so ``100.0`` and ``100.00``
    (equal Decimals) stay distinct values.
    """

    __slots__ = ("values",)

    def __init__(self) -> None:
        self.values: dict[tuple[str, str], Money] = {}

    def __call__(self, amount: Decimal, currency: str) -> Money:
        key = (str(amount), currency)
        money = self.values.get(key)
        if money is None:
            money = self.values[key] = Money(amount=amount, currency=currency)
        return money


def build_records(
    derivation: Derivation, *, file_name: str, due_date: DueDateResolver | None = None
) -> Iterator[Record]:
    """The canonical records of a derivation, built and validated one by one."""
    for model, values, _line in record_drafts(derivation, file_name=file_name, due_date=due_date):
        yield model.model_validate(values)


def record_drafts(
    derivation: Derivation,
    *,
    file_name: str,
    due_date: DueDateResolver | None = None,
    with_customers: bool = True,
) -> Iterator[Draft]:
    """Yield the records to build, lazily: customers, invoices and credit notes, payments, then
    allocations (whose amounts need every allocation of their invoice). Each draft's line is the
    first FEC line it comes from (None for customers and allocations)."""
    if with_customers:
        for customer in derivation.customers.values():
            yield (
                Customer,
                {
                    "external_id": customer.external_id,
                    "name": customer.name,
                    "source_refs": {
                        "account": customer.account,
                        **({"aux": customer.aux} if customer.aux else {}),
                    },
                },
                None,
            )

    money = _MoneyCache()
    fx_allocated: dict[int, Decimal] = defaultdict(Decimal)
    base_cumulated: dict[int, Decimal] = defaultdict(Decimal)
    allocation_amounts: list[Decimal] = []
    for facts in derivation.allocations:
        debit = facts.debit
        share = _fx_share(debit, facts.amount_base, base_cumulated[id(debit)])
        base_cumulated[id(debit)] += facts.amount_base
        fx_allocated[id(debit)] += share
        allocation_amounts.append(share)
        credit = facts.credit
        if credit.kind == "credit_note":
            credit_share = _fx_share(credit, facts.amount_base, base_cumulated[id(credit)])
            base_cumulated[id(credit)] += facts.amount_base
            fx_allocated[id(credit)] += credit_share

    scope = derivation.scope
    no_allocation = Decimal(0)
    methods = {"bank": "bank", "opening": "opening balance"}
    for doc in derivation.documents:
        refs = _line_refs(doc, file_name)
        first_line = doc.lines[0]
        total = doc.fx_total if doc.fx_total is not None else doc.total_base
        if doc.kind == "payment":
            method = (dict(first_line.extras).get("ModeRglt") if first_line.extras else None) or methods.get(
                doc.role, "journal entry"
            )
            yield (
                Payment,
                {
                    "external_id": doc.external_id,
                    "scope": scope,
                    "source_refs": refs,
                    "customer_id": doc.customer_id,
                    "date": doc.date,
                    "amount": money(total, doc.currency),
                    "method": method,
                    "reference": doc.number,
                    "memo": doc.label or None,
                    "bank_account": f"{doc.journal} {doc.journal_lib}".strip()
                    if doc.role == "bank"
                    else None,
                },
                first_line.line,
            )
            continue
        allocated = fx_allocated.get(id(doc), no_allocation)
        residual = total - allocated
        status = "paid" if residual == 0 else ("partial" if allocated else "open")
        due = due_date(doc) if due_date is not None and doc.kind == "invoice" else None
        if due is not None and due < doc.issue_date:
            due = doc.issue_date
        yield (
            CreditNote if doc.kind == "credit_note" else Invoice,
            {
                "external_id": doc.external_id,
                "scope": scope,
                "source_refs": refs,
                "number": doc.number,
                "customer_id": doc.customer_id,
                "issue_date": doc.issue_date,
                "due_date": due,
                "currency": doc.currency,
                "total": money(total, doc.currency),
                "residual": money(residual, doc.currency),
                "status": status,
            },
            first_line.line,
        )

    for facts, amount in zip(derivation.allocations, allocation_amounts, strict=True):
        debit, credit = facts.debit, facts.credit
        if not amount:
            continue
        refs = {"rule": facts.rule}
        if facts.letters:
            refs["lettrage"] = ",".join(sorted(facts.letters))
        common: dict[str, Any] = {
            "external_id": _doc_id("A", (debit.external_id, credit.external_id)),
            "scope": scope,
            "source_refs": refs,
            "invoice_id": debit.external_id,
            "amount": money(amount, debit.currency),
            "date": facts.date,
        }
        if credit.kind == "credit_note":
            yield Allocation, {"kind": "credit_note", "credit_note_id": credit.external_id, **common}, None
        else:
            yield Allocation, {"kind": "payment", "payment_id": credit.external_id, **common}, None
