"""What the other engines need from matching: effective residuals and pending payments per invoice.

Risk (ageing, exposure, DSO) and dunning read open items through these two functions:

- :func:`effective_residuals` — the residual the ERP states minus what the matcher *applied*
  (``auto`` and ``accepted`` proposals). Use it for open items, ageing and dunning amounts.
- :func:`pending_by_invoice` — what ``suggested`` proposals would settle, per invoice, with the bank
  lines behind it. An invoice with a pending payment must not be dunned (the dunning engine pauses
  it with reason "pending bank payment"); risk shows it apart.

:func:`invoice_standings` gives both at once, as :class:`InvoiceStanding` records.

Example::

    result = match(MatchInput(customers, invoices, bank_transactions))
    residuals = effective_residuals(invoices, result.proposals)
    pending = pending_by_invoice(result.proposals)
    to_dun = [inv for inv in invoices if residuals[inv.external_id].amount > 0 and inv.external_id not in pending]
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from erp_recovery.engines.matching.model import MatchProposal
from erp_recovery.model.money import Money
from erp_recovery.model.records import Invoice


@dataclass(frozen=True)
class PendingPayment:
    """Money that suggestions would allocate to one invoice, and from which bank lines."""

    invoice_id: str
    amount: Money
    bank_transaction_ids: tuple[str, ...]
    bank_refs: tuple[str, ...]


@dataclass(frozen=True)
class InvoiceStanding:
    """One invoice as the ERP states it and after matching."""

    invoice_id: str
    residual: Money
    applied: Money
    effective_residual: Money
    pending: Money

    @property
    def has_pending_payment(self) -> bool:
        return self.pending.amount > 0


def applied_by_invoice(proposals: Iterable[MatchProposal]) -> dict[str, Money]:
    """Sum of applied (``auto`` / ``accepted``) proposal lines per invoice id."""
    totals: dict[str, Money] = {}
    for proposal in proposals:
        if not proposal.is_applied:
            continue
        for line in proposal.lines:
            previous = totals.get(line.invoice_id)
            totals[line.invoice_id] = line.amount if previous is None else previous + line.amount
    return totals


def pending_by_invoice(proposals: Iterable[MatchProposal]) -> dict[str, PendingPayment]:
    """What ``suggested`` proposals would settle, per invoice id (only invoices with something pending)."""
    amounts: dict[str, Money] = {}
    sources: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for proposal in proposals:
        if proposal.status != "suggested":
            continue
        for line in proposal.lines:
            previous = amounts.get(line.invoice_id)
            amounts[line.invoice_id] = line.amount if previous is None else previous + line.amount
            sources[line.invoice_id].append((proposal.bank_transaction_id, proposal.bank_ref))
    return {
        invoice_id: PendingPayment(
            invoice_id=invoice_id,
            amount=amount,
            bank_transaction_ids=tuple(dict.fromkeys(tx for tx, _ in sources[invoice_id])),
            bank_refs=tuple(dict.fromkeys(ref for _, ref in sources[invoice_id])),
        )
        for invoice_id, amount in amounts.items()
    }


def effective_residuals(invoices: Iterable[Invoice], proposals: Iterable[MatchProposal]) -> dict[str, Money]:
    """Residual of each open invoice / credit note after the matcher's applied allocations (never < 0)."""
    applied = applied_by_invoice(proposals)
    residuals: dict[str, Money] = {}
    for invoice in invoices:
        residual = invoice.residual if invoice.is_open else Money.zero(invoice.currency)
        taken = applied.get(invoice.external_id)
        if taken is not None and taken.currency == residual.currency:
            residual = Money(
                amount=max(Decimal(0), residual.amount - taken.amount), currency=residual.currency
            )
        residuals[invoice.external_id] = residual
    return residuals


def invoice_standings(
    invoices: Iterable[Invoice], proposals: Iterable[MatchProposal]
) -> dict[str, InvoiceStanding]:
    """Residual, applied, effective residual and pending amount of every invoice, by id."""
    proposals = list(proposals)
    invoices = list(invoices)
    applied = applied_by_invoice(proposals)
    pending = pending_by_invoice(proposals)
    residuals = effective_residuals(invoices, proposals)
    standings: dict[str, InvoiceStanding] = {}
    for invoice in invoices:
        zero = Money.zero(invoice.currency)
        standings[invoice.external_id] = InvoiceStanding(
            invoice_id=invoice.external_id,
            residual=invoice.residual if invoice.is_open else zero,
            applied=applied.get(invoice.external_id, zero),
            effective_residual=residuals[invoice.external_id],
            pending=pending[invoice.external_id].amount if invoice.external_id in pending else zero,
        )
    return standings
