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


def _detail(
    code: str, entry: int, index: int | None, amount: str, reference: str | None = "ENTRY-77"
) -> BankTransaction:
    position = f"Stmt[1]/Ntry[{entry}]" + (f"/TxDtls[{index}]" if index else "")
    return BankTransaction(
        external_id=code,
        account=OUR_ACCOUNT,
        booking_date=dt.date(2024, 3, 1),
        amount=Money.of(amount, "EUR"),
        bank_reference=reference,
        statement_id="STMT-1",
        source_position=position,
        references={"TxDtls": str(index)} if index else {},
    )


def test_bank_ref_is_the_entry_reference_plus_txdtls_index_for_split_batch_entries() -> None:
    transactions = [
        _detail("bt1:a/1", 3, 1, "10.00"),
        _detail("bt1:a/2", 3, 2, "20.00"),
        _detail("bt1:c", 4, None, "30.00", reference="ENTRY-78"),
        _detail("bt1:d", 5, None, "40.00", reference=None),
        credit("D", "40.00"),
    ]
    refs = bank_refs(transactions)
    assert refs == {
        "bt1:a/1": "ENTRY-77/1",
        "bt1:a/2": "ENTRY-77/2",
        "bt1:c": "ENTRY-78",
        "bt1:d": "bt1:d",
        "D": "BR-D",
    }
