"""The scenario as canonical records, the way the importers would store them.

Used by the pure-engine benchmark (no files, no store) and as the fallback when an importer is
missing. Bank transactions follow the camt importer's conventions: one record per entry (a batch
entry whose ``TxDtls`` add up becomes one record per detail, ``references["TxDtls"]`` = index),
``bank_reference`` = the entry's ``AcctSvcrRef``, the counterparty is the debtor of a credit and the
creditor of a debit, ``remittance`` = ``Ustrd`` else ``AddtlNtryInf``.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from erp_recovery.model import BankTransaction, Customer, Invoice, Money, Payment

from .books import Books
from .statements import BankLine
from .world import World

_CENT = Decimal("0.01")


def euros(cents: int) -> Money:
    return Money(amount=(Decimal(cents) / 100).quantize(_CENT), currency="EUR")


def customers(world: World) -> list[Customer]:
    return [
        Customer(external_id=party.code, name=party.name, parent_id=party.parent)
        for party in world.parties.values()
    ]


def invoices(world: World, books: Books) -> list[Invoice]:
    """Invoices and credit notes at the cut-off, as the FEC gives them (no due-date-less, no dispute flag:
    the FEC has neither; due dates come from the échéancier)."""
    records = []
    for doc in books.documents:
        open_cents = books.open_cents[doc.number]
        status = "paid" if open_cents == 0 else ("partial" if open_cents < doc.total_cents else "open")
        records.append(
            Invoice(
                external_id=doc.number,
                kind=doc.kind,
                number=doc.number,
                customer_id=doc.customer,
                issue_date=doc.issue,
                due_date=doc.due,
                currency="EUR",
                total=euros(doc.total_cents),
                residual=euros(open_cents),
                status=status,
            )
        )
    return records


def payments(world: World, books: Books) -> list[Payment]:
    records = []
    for position, event in enumerate(books.booked):
        records.append(
            Payment(
                external_id=f"RG{position + 1:06d}",
                customer_id=event.allocations[0][0].customer,
                date=event.date,
                amount=euros(event.cents),
            )
        )
    return records


def bank_transactions(world: World, lines: list[BankLine]) -> list[BankTransaction]:
    records = []
    for line in lines:
        for index, detail in enumerate(line.details, start=1):
            batch = line.is_batch
            records.append(
                BankTransaction(
                    external_id=f"bt:{line.acct_svcr_ref}" + (f"/{index}" if batch else ""),
                    account=world.account_iban,
                    booking_date=line.booking,
                    value_date=line.booking,
                    amount=euros(detail.cents),
                    counterparty_name=detail.party_name,
                    counterparty_iban=detail.party_iban,
                    remittance=detail.ustrd or line.additional,
                    structured_reference=detail.creditor_reference,
                    referred_documents=tuple(detail.referred_documents),
                    end_to_end_id=detail.end_to_end,
                    bank_reference=line.acct_svcr_ref,
                    references={"TxDtls": str(index)} if batch else {},
                    statement_id=f"{world.siren}-{line.booking:%Y%m%d}",
                    source_position="Stmt[1]/Ntry" + (f"/TxDtls[{index}]" if batch else ""),
                )
            )
    return records


def truth_rows(lines: list[BankLine]) -> list[dict[str, object]]:
    """The ground truth, one row per bank transaction, keyed by ``bank_ref``."""
    rows = []
    for line in lines:
        for index, detail in enumerate(line.details, start=1):
            truth = detail.truth
            rows.append(
                {
                    "bank_ref": f"{line.acct_svcr_ref}/{index}" if line.is_batch else line.acct_svcr_ref,
                    "booking_date": line.booking.isoformat(),
                    "amount": str(euros(detail.cents).amount),
                    "payer": truth.payer,
                    "kinds": sorted(set(truth.kinds)),
                    "allocations": [
                        {"invoice_number": number, "amount": str(euros(cents).amount)}
                        for number, cents in truth.allocations
                    ],
                    "writeoff": str(euros(truth.writeoff_cents).amount),
                    "unapplied": str(euros(truth.unapplied_cents).amount),
                }
            )
    return rows


def customer_truth(world: World, lines: list[BankLine], books: Books) -> dict[str, dict[str, object]]:
    """Each customer's behaviour class and what it did after the cut-off (for the risk benchmark)."""
    customer_of = {doc.number: doc.customer for doc in books.documents}
    paid_after: dict[str, int] = {}
    for line in lines:
        for detail in line.details:
            for number, cents in detail.truth.allocations:
                customer = customer_of.get(number)
                if customer:
                    paid_after[customer] = paid_after.get(customer, 0) + cents
    paid_by_end: dict[int, int] = {}
    for event in world.payments:
        if event.date <= world.end:
            for item, cents in event.allocations:
                paid_by_end[id(item)] = paid_by_end.get(id(item), 0) + cents
    overdue_at_end: dict[str, int] = {}
    for doc in world.documents:
        if doc.kind == "invoice" and doc.due < world.end:
            left = doc.total_cents - paid_by_end.get(id(doc), 0)
            if left > 0:
                overdue_at_end[doc.customer] = overdue_at_end.get(doc.customer, 0) + left
    return {
        party.code: {
            "name": party.name,
            "behaviour": party.behaviour,
            "parent": party.parent,
            "direct_debit": party.direct_debit,
            "default_on": party.default_on.isoformat() if party.default_on else None,
            "defaulted_by_end": bool(party.default_on and party.default_on <= world.end),
            "paid_after_cutoff": str(euros(paid_after.get(party.code, 0)).amount),
            "overdue_at_end": str(euros(overdue_at_end.get(party.code, 0)).amount),
        }
        for party in world.parties.values()
    }


def as_of(world: World) -> dt.date:
    return world.cutoff
