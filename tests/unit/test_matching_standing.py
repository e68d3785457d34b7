"""What risk and dunning read: effective residuals (auto/accepted applied) and pending suggestions;
and the bank reference exported for each line."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from matching_builders import OUR_ACCOUNT, credit, customer, invoice, run

from erp_recovery.engines.matching import (
    bank_refs,
    effective_residuals,
    invoice_standings,
    pending_by_invoice,
)
from erp_recovery.model import BankTransaction, Money

CUSTOMERS = [customer("C1", "Dupont & Fils SARL"), customer("C2", "Martin Industries SAS")]
INVOICES = [
    invoice("I1", "FA-2024-00123", "C1", "1000.00"),
    invoice("I2", "FA-2024-00124", "C1", "480.00", issue="2024-01-11"),
    invoice("I3", "FA-2024-00125", "C1", "480.00", issue="2024-01-12"),
    invoice("I4", "FA-2024-00200", "C2", "300.00"),
]


def test_auto_allocations_reduce_residuals_and_suggestions_are_pending() -> None:
    transactions = [
        credit("T1", "400.00", name="DUPONT ET FILS", remittance="ACOMPTE FA-2024-00123"),
        credit("T2", "480.00", name="DUPONT ET FILS"),  # two open items of 480: suggestion on the oldest
    ]
    result = run(CUSTOMERS, INVOICES, transactions)
    residuals = effective_residuals(INVOICES, result.proposals)
    assert residuals["I1"] == Money.of("600.00", "EUR")
    assert residuals["I2"] == Money.of("480.00", "EUR")
    pending = pending_by_invoice(result.proposals)
    assert set(pending) == {"I2"}
    assert pending["I2"].amount == Money.of("480.00", "EUR")
    assert pending["I2"].bank_transaction_ids == ("T2",)
    standings = invoice_standings(INVOICES, result.proposals)
    assert standings["I2"].has_pending_payment
    assert not standings["I4"].has_pending_payment
    assert standings["I1"].applied.amount == Decimal("400.00")


def _detail(code: str, entry: int, index: int, amount: str, reference: str = "ENTRY-77") -> BankTransaction:
    return BankTransaction(
        external_id=code,
        account=OUR_ACCOUNT,
        booking_date=dt.date(2024, 3, 1),
        amount=Money.of(amount, "EUR"),
        bank_reference=reference,
        statement_id="STMT-1",
        source_position=f"Stmt[1]/Ntry[{entry}]/TxDtls[{index}]",
    )


def test_bank_ref_is_the_entry_reference_plus_txdtls_index_for_batch_entries() -> None:
    transactions = [
        _detail("A", 3, 1, "10.00"),
        _detail("B", 3, 2, "20.00"),
        _detail("C", 4, 1, "30.00", reference="ENTRY-78"),
        credit("D", "40.00"),
    ]
    refs = bank_refs(transactions)
    assert refs == {"A": "ENTRY-77/1", "B": "ENTRY-77/2", "C": "ENTRY-78", "D": "BR-D"}
