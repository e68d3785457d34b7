"""The bank's own reference of a transaction, as exported (``bank_ref``).

- camt.053/054: the entry's ``AcctSvcrRef``; when the bank importer split a batch entry into its
  ``TxDtls`` (``references["TxDtls"]`` = the 1-based index, ``source_position`` ending in
  ``/TxDtls[n]``), the entry's ``AcctSvcrRef`` + ``/`` + that index (``2024031500042/2``);
- MT940: the bank reference of ``:61:`` (after ``//``); OFX: the ``FITID`` — both kept by the
  bank importers in ``BankTransaction.bank_reference``;
- otherwise the transaction's stable identity (``external_id``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from erp_recovery.model.records import BankTransaction

_TX_DETAIL = re.compile(r"/TxDtls\[(?P<index>\d+)\]$")


def bank_ref(transaction: BankTransaction) -> str:
    """``bank_ref`` of one transaction (see the module docstring)."""
    base = transaction.bank_reference or transaction.references.get("FITID") or transaction.external_id
    index = transaction.references.get("TxDtls")
    if not index and transaction.source_position:
        found = _TX_DETAIL.search(transaction.source_position)
        index = found.group("index") if found else None
    if index and base != transaction.external_id:
        return f"{base}/{index}"
    return base


def bank_refs(transactions: Iterable[BankTransaction]) -> dict[str, str]:
    """``bank_ref`` of each transaction, by external id."""
    return {transaction.external_id: bank_ref(transaction) for transaction in transactions}
