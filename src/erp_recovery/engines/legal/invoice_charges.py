"""Late charges of a canonical invoice: the entry point the dunning engine calls.

It gathers what :func:`~erp_recovery.engines.legal.late_charges.compute_late_charges` needs from
the canonical model: the debt including VAT (``Invoice.total``), the due date (stated, or computed
from the customer's payment terms under the profile), the settlements booked against the invoice
(``Allocation`` with their date, or the date of their payment), and whether the debtor is a consumer.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import replace
from decimal import Decimal

from erp_recovery.engines.legal.due_dates import compute_due_date
from erp_recovery.engines.legal.late_charges import LateCharges, Settlement, compute_late_charges
from erp_recovery.engines.legal.profiles import JurisdictionProfile
from erp_recovery.engines.legal.rates import RateTable
from erp_recovery.model.money import Money
from erp_recovery.model.records import Allocation, Customer, Invoice, Payment


def invoice_settlements(
    invoice: Invoice,
    allocations: Iterable[Allocation],
    payments: Mapping[str, Payment] | None = None,
) -> tuple[list[Settlement], list[str]]:
    """Dated settlements of ``invoice`` from its allocations, and notes on what had to be assumed."""
    notes: list[str] = []
    settlements: list[Settlement] = []
    booked = Decimal(0)
    for allocation in allocations:
        if allocation.invoice_id != invoice.external_id:
            continue
        day = allocation.date
        if day is None and allocation.payment_id and payments and allocation.payment_id in payments:
            day = payments[allocation.payment_id].date
        if day is None:
            notes.append(
                f"allocation {allocation.external_id} has no date: counted as received on the due date"
            )
            day = invoice.due_date or invoice.issue_date
        settlements.append(Settlement(date=day, amount=allocation.amount))
        booked += allocation.amount.amount
    undated = invoice.total.amount - invoice.residual.amount - booked
    if undated > 0:
        day = invoice.due_date or invoice.issue_date
        notes.append(
            f"{undated} {invoice.currency} settled without a dated allocation: counted as received on {day.isoformat()}"
        )
        settlements.append(Settlement(date=day, amount=Money(amount=undated, currency=invoice.currency)))
    return settlements, notes


def invoice_late_charges(
    invoice: Invoice,
    as_of: dt.date,
    profile: JurisdictionProfile,
    rates: RateTable,
    *,
    customer: Customer | None = None,
    allocations: Iterable[Allocation] = (),
    payments: Mapping[str, Payment] | None = None,
    formal_notice_date: dt.date | None = None,
    contractual_rate: Decimal | None = None,
) -> LateCharges:
    """Interest (rate, periods, amount) and fixed fee of ``invoice`` at ``as_of`` under ``profile``.

    ``result.working()`` prints the computation. Raises ``ValueError`` for a credit note and
    :class:`~erp_recovery.errors.ConfigError` when the rate table lacks a needed period.
    """
    if invoice.kind != "invoice":
        raise ValueError(f"{invoice.number} is a credit note: no late charges")
    notes: list[str] = []
    due_date = invoice.due_date
    if due_date is None:
        computed = compute_due_date(
            profile,
            invoice.issue_date,
            customer.payment_terms if customer else None,
            delivery_date=invoice.delivery_date,
        )
        due_date = computed.date
        notes.append(f"no due date on the invoice: {computed.rule} gives {due_date.isoformat()}")
        notes.extend(computed.reasons)
    settlements, settlement_notes = invoice_settlements(invoice, allocations, payments)
    notes.extend(settlement_notes)
    result = compute_late_charges(
        profile,
        rates,
        principal=invoice.total,
        due_date=due_date,
        as_of=as_of,
        settlements=settlements,
        consumer=bool(customer and customer.is_consumer),
        formal_notice_date=formal_notice_date,
        contractual_rate=contractual_rate,
        reference=invoice.number,
    )
    if not notes:
        return result
    return replace(result, notes=(*result.notes, *notes))
