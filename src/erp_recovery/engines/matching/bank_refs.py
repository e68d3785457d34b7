"""The bank's own reference of a transaction, as exported (``bank_ref``).

- camt.053/054: the entry's ``AcctSvcrRef``; when the entry carries several ``TxDtls`` (a batch
  booking), the entry's ``AcctSvcrRef`` + ``/`` + the 1-based index of the ``TxDtls``
  (``Stmt[1]/Ntry[3]/TxDtls[2]`` of entry ``2024031500042`` → ``2024031500042/2``);
- MT940: the bank reference of ``:61:`` (after ``//``);
- OFX: the ``FITID``;
- otherwise the transaction's stable identity (``external_id``).

The bank importers record the entry reference in ``BankTransaction.entry_reference`` (or
``bank_reference``) and the position in ``source_position``; an entry is "batched" when the same
statement holds several transactions at positions ``.../Ntry[n]/TxDtls[k]`` of one entry.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable

from erp_recovery.model.records import BankTransaction

_TX_DETAIL = re.compile(r"^(?P<entry>.*Ntry\[\d+\])/TxDtls\[(?P<index>\d+)\]$")


def _entry_reference(transaction: BankTransaction) -> str:
    for key in ("entry_acct_svcr_ref", "AcctSvcrRef", "acct_svcr_ref", "fitid", "FITID"):
        value = transaction.references.get(key)
        if value:
            return value
    return transaction.bank_reference or transaction.entry_reference or transaction.external_id


def bank_refs(transactions: Iterable[BankTransaction]) -> dict[str, str]:
    """``bank_ref`` of each transaction, by external id (see the module docstring)."""
    transactions = list(transactions)
    entries: dict[tuple[str, str, str], list[tuple[int, BankTransaction]]] = defaultdict(list)
    refs: dict[str, str] = {}
    for transaction in transactions:
        position = transaction.source_position or ""
        found = _TX_DETAIL.match(position)
        if found:
            statement = transaction.statement_id or transaction.source_file or transaction.account
            entries[(transaction.account, statement, found.group("entry"))].append(
                (int(found.group("index")), transaction)
            )
        else:
            refs[transaction.external_id] = _entry_reference(transaction)
    for members in entries.values():
        if len(members) == 1 and members[0][0] == 1:
            refs[members[0][1].external_id] = _entry_reference(members[0][1])
            continue
        for index, transaction in members:
            refs[transaction.external_id] = f"{_entry_reference(transaction)}/{index}"
    return refs
