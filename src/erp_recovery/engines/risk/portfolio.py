"""What the risk engine reads: one company's receivables in the canonical model, indexed.

The engine is pure: a :class:`Portfolio` is built from records (from the store, a test, a
generator), and every figure is computed from it for an ``as_of`` date. Settlement dates come from
the ERP's allocations (with the date of their payment when the allocation has none); bank credits
the matcher has proposed but nobody has booked yet are :class:`PendingPayment` and are shown apart,
never deducted from what the customer owes.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cached_property
from typing import TYPE_CHECKING

from erp_recovery.engines.legal import invoice_settlements
from erp_recovery.engines.signals.models import CompanySignals
from erp_recovery.model.money import Money
from erp_recovery.model.records import Allocation, BankTransaction, Customer, Invoice, Payment

if TYPE_CHECKING:  # the matcher's models, read duck-typed so risk does not import the matcher
    from erp_recovery.engines.matching.model import MatchProposal


@dataclass(frozen=True)
class PendingPayment:
    """A bank credit the matcher links to a customer (and maybe an invoice), not yet booked in the ERP."""

    customer_id: str
    amount: Money
    date: dt.date
    invoice_id: str | None = None
    bank_transaction_id: str | None = None


def pending_from_matches(proposals: Iterable[MatchProposal]) -> list[PendingPayment]:
    """Pending payments from the matcher's proposals (``auto``, ``suggested`` or ``accepted``).

    One per invoice line: the bank credit is attributed to that customer and invoice but not booked
    in the ERP yet. Credit-note lines (netted) and unmatched transactions give nothing.
    """
    pending: list[PendingPayment] = []
    for proposal in proposals:
        if proposal.status == "unmatched":
            continue
        for line in proposal.lines:
            if line.kind != "invoice":
                continue
            pending.append(
                PendingPayment(
                    customer_id=line.customer_id,
                    amount=line.amount,
                    date=proposal.booking_date,
                    invoice_id=line.invoice_id,
                    bank_transaction_id=proposal.bank_transaction_id,
                )
            )
    return pending


@dataclass(frozen=True)
class InvoiceHistory:
    """One invoice with its dated settlements: when it was paid and how late."""

    invoice: Invoice
    due_date: dt.date
    settlements: tuple[tuple[dt.date, Decimal], ...]
    paid_on: dt.date | None

    @property
    def instalments(self) -> int:
        return len(self.settlements)

    def outstanding_on(self, day: dt.date) -> Decimal:
        """Amount still owed at the end of ``day`` (0 before the invoice exists)."""
        if self.invoice.issue_date > day or (self.paid_on is not None and self.paid_on <= day):
            return Decimal(0)
        if not self.settlements:
            return self.invoice.total.amount
        paid = sum((amount for date, amount in self.settlements if date <= day), Decimal(0))
        return max(Decimal(0), self.invoice.total.amount - paid)

    def days_late_on(self, day: dt.date) -> int | None:
        """Days late: paid → payment date − due date; open → ``day`` − due date; None if not yet due."""
        if self.paid_on is not None and self.paid_on <= day:
            return (self.paid_on - self.due_date).days
        if day > self.due_date:
            return (day - self.due_date).days
        return None


@dataclass
class Portfolio:
    """One company's customers and receivables, in one currency."""

    currency: str
    customers: Mapping[str, Customer]
    invoices: tuple[Invoice, ...]
    allocations: tuple[Allocation, ...] = ()
    payments: Mapping[str, Payment] = field(default_factory=dict)
    bank_transactions: tuple[BankTransaction, ...] = ()
    pending: tuple[PendingPayment, ...] = ()
    signals: Mapping[str, CompanySignals] = field(default_factory=dict)
    #: Insured limits (assurance-crédit) by customer id, when the site knows them.
    insured_limits: Mapping[str, Money] = field(default_factory=dict)
    jurisdiction: str = "FR"

    @classmethod
    def build(
        cls,
        *,
        currency: str,
        customers: Iterable[Customer],
        invoices: Iterable[Invoice],
        allocations: Iterable[Allocation] = (),
        payments: Iterable[Payment] = (),
        bank_transactions: Iterable[BankTransaction] = (),
        pending: Iterable[PendingPayment] = (),
        signals: Mapping[str, CompanySignals] | None = None,
        insured_limits: Mapping[str, Money] | None = None,
        jurisdiction: str = "FR",
    ) -> Portfolio:
        """Index the records; invoices in another currency than ``currency`` are left out."""
        return cls(
            currency=currency,
            customers={customer.external_id: customer for customer in customers},
            invoices=tuple(
                invoice
                for invoice in invoices
                if invoice.currency == currency and invoice.status not in ("draft", "cancelled")
            ),
            allocations=tuple(allocations),
            payments={payment.external_id: payment for payment in payments},
            bank_transactions=tuple(bank_transactions),
            pending=tuple(p for p in pending if p.amount.currency == currency),
            signals=dict(signals or {}),
            insured_limits=dict(insured_limits or {}),
            jurisdiction=jurisdiction,
        )

    @cached_property
    def _allocations_by_invoice(self) -> dict[str, list[Allocation]]:
        grouped: dict[str, list[Allocation]] = defaultdict(list)
        for allocation in self.allocations:
            grouped[allocation.invoice_id].append(allocation)
        return grouped

    @cached_property
    def histories(self) -> dict[str, list[InvoiceHistory]]:
        """Invoice histories (kind ``invoice`` only) by customer id."""
        grouped: dict[str, list[InvoiceHistory]] = defaultdict(list)
        for invoice in self.invoices:
            if invoice.kind != "invoice":
                continue
            due = invoice.due_date or invoice.issue_date
            settlements, _ = invoice_settlements(
                invoice, self._allocations_by_invoice.get(invoice.external_id, ()), self.payments
            )
            dated = tuple(sorted((s.date, s.amount.amount) for s in settlements))
            paid_on = None
            if not invoice.is_open:
                running = Decimal(0)
                for date, amount in dated:
                    running += amount
                    if running >= invoice.total.amount:
                        paid_on = date
                        break
                if paid_on is None:
                    paid_on = dated[-1][0] if dated else None
            grouped[invoice.customer_id].append(
                InvoiceHistory(invoice=invoice, due_date=due, settlements=dated, paid_on=paid_on)
            )
        return grouped

    @cached_property
    def credit_notes(self) -> dict[str, list[Invoice]]:
        grouped: dict[str, list[Invoice]] = defaultdict(list)
        for invoice in self.invoices:
            if invoice.kind == "credit_note":
                grouped[invoice.customer_id].append(invoice)
        return grouped

    @cached_property
    def pending_by_customer(self) -> dict[str, list[PendingPayment]]:
        grouped: dict[str, list[PendingPayment]] = defaultdict(list)
        for payment in self.pending:
            grouped[payment.customer_id].append(payment)
        return grouped

    @cached_property
    def returned_payments(self) -> dict[str, list[BankTransaction]]:
        """Returned / reversed bank transactions, attributed to a customer by counterparty IBAN."""
        by_iban = {iban: cid for cid, customer in self.customers.items() for iban in customer.ibans}
        grouped: dict[str, list[BankTransaction]] = defaultdict(list)
        for transaction in self.bank_transactions:
            if not (transaction.reversal or transaction.return_reason):
                continue
            customer_id = by_iban.get(transaction.counterparty_iban or "")
            if customer_id is not None:
                grouped[customer_id].append(transaction)
        return grouped
