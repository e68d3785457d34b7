"""The open-item ledger of one matching run: what is still unpaid, so no euro is allocated twice.

Every invoice and credit note becomes an :class:`OpenItem` whose ``remaining`` starts at the residual
the ERP states and goes down each time the run allocates from it (accepted decisions first, then
auto matches, then suggestions). An allocation never takes more than ``remaining``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from erp_recovery.model.records import Invoice


@dataclass(slots=True)
class Settlement:
    """An amount taken from an item during this run, and by which bank transaction."""

    bank_transaction_id: str
    amount: Decimal
    booking_date: dt.date
    payer_key: str


@dataclass(slots=True, eq=False)
class OpenItem:
    """A working copy of an invoice or credit note for the run (amounts as Decimals in ``currency``)."""

    position: int
    id: str
    number: str
    customer_id: str
    kind: str
    currency: str
    issue_date: dt.date
    due_date: dt.date
    total: Decimal
    residual: Decimal
    remaining: Decimal
    payment_reference: str | None
    customer_reference: str | None
    status: str
    disputed: bool = False
    settlements: list[Settlement] = field(default_factory=list)
    #: Lookup keys of the number (:func:`~.text.invoice_keys`) and its core, set by the reference index.
    keys: tuple[str, ...] = ()
    core: str = ""

    @property
    def is_invoice(self) -> bool:
        return self.kind == "invoice"

    @property
    def is_open(self) -> bool:
        return self.remaining > 0

    @property
    def age_key(self) -> tuple[dt.date, dt.date, str, str]:
        """Oldest first: due date, issue date, number, id."""
        return (self.due_date, self.issue_date, self.number, self.id)

    @property
    def signed_remaining(self) -> Decimal:
        return self.remaining if self.is_invoice else -self.remaining


def build_items(invoices: Iterable[Invoice], closed_since: dt.date | None = None) -> list[OpenItem]:
    """Working items for every invoice and credit note that is not draft or cancelled.

    Closed items issued on or after ``closed_since`` are kept (with ``remaining`` 0) so that a
    reference to an invoice already paid is recognised (duplicate payment) instead of being read as
    noise; older closed items cannot be paid again and are left out. Sorted by id: the order of the
    input never changes the result.
    """
    items: list[OpenItem] = []
    for invoice in sorted(invoices, key=lambda record: record.external_id):
        if invoice.status in ("draft", "cancelled"):
            continue
        residual = invoice.residual.amount if invoice.status in ("open", "partial") else Decimal(0)
        residual = max(residual, Decimal(0))
        if residual == 0 and closed_since is not None and invoice.issue_date < closed_since:
            continue
        items.append(
            OpenItem(
                position=len(items),
                id=invoice.external_id,
                number=invoice.number,
                customer_id=invoice.customer_id,
                kind=invoice.kind,
                currency=invoice.currency,
                issue_date=invoice.issue_date,
                due_date=invoice.due_date or invoice.issue_date,
                total=invoice.total.amount,
                residual=residual,
                remaining=residual,
                payment_reference=invoice.payment_reference,
                customer_reference=invoice.customer_reference,
                status=invoice.status,
                disputed=invoice.disputed,
            )
        )
    return items


def take(item: OpenItem, amount: Decimal, settlement: Settlement) -> Decimal:
    """Take up to ``amount`` from ``item``; returns what was actually taken (never more than remaining)."""
    taken = min(amount, item.remaining)
    if taken <= 0:
        return Decimal(0)
    item.remaining -= taken
    settlement.amount = taken
    item.settlements.append(settlement)
    return taken


def allocate_oldest_first(items: Sequence[OpenItem], amount: Decimal) -> list[tuple[OpenItem, Decimal]]:
    """Spread ``amount`` over invoices oldest first (credit notes netted first); nothing is taken yet.

    Returns (item, amount) pairs; the last invoice may be paid in part. Credit notes in ``items`` are
    used in full and increase what is available for the invoices.
    """
    available = amount + sum((item.remaining for item in items if not item.is_invoice), Decimal(0))
    plan: list[tuple[OpenItem, Decimal]] = [(item, item.remaining) for item in items if not item.is_invoice]
    for item in sorted((item for item in items if item.is_invoice), key=lambda item: item.age_key):
        if available <= 0:
            break
        part = min(available, item.remaining)
        if part > 0:
            plan.append((item, part))
            available -= part
    return plan
