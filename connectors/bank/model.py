"""What the bank file readers produce besides canonical transactions: statements and their checks.

Every reader yields, in file order, the :class:`~erp_recovery.model.BankTransaction` records of a
statement followed by that statement's :class:`StatementSummary` (account, balances, counts and the
balance check). Streaming this way keeps memory flat on a 200,000-entry file; :func:`collect`
groups the stream into a :class:`BankFile` for callers that want everything at once.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import BinaryIO, Literal

from pydantic import BaseModel, ConfigDict

from erp_recovery.model import BankTransaction, Money

BalanceStatus = Literal["ok", "mismatch", "unavailable"]


class BalanceCheck(BaseModel):
    """Opening balance + booked movements = closing balance, for one statement.

    ``unavailable`` says why it could not be checked (no opening balance in an OFX file, an MT942
    interim report, balances in another currency than the entries...). A mismatch is reported with
    the difference (``closing - (opening + movements)``) and does not stop an import unless the
    reader runs in strict mode.
    """

    model_config = ConfigDict(frozen=True)

    status: BalanceStatus
    expected_closing: Money | None = None
    difference: Decimal | None = None
    detail: str | None = None


class StatementSummary(BaseModel):
    """One statement (camt ``Stmt``/``Ntfctn``/``Rpt``, an MT940 ``:20:`` block, an OFX
    ``STMTRS``, a CFONB ``01``…``07`` block), as read from the file."""

    model_config = ConfigDict(frozen=True)

    format: str
    statement_id: str | None = None
    account: str
    currency: str | None = None
    opening_balance: Money | None = None
    opening_date: dt.date | None = None
    closing_balance: Money | None = None
    closing_date: dt.date | None = None
    #: Bookings on the account (a camt batch entry split into its details counts once).
    entry_count: int = 0
    #: Canonical transactions produced (one per booking, or per detail of a split batch).
    transaction_count: int = 0
    #: Sum of the booked entries, in the account currency.
    movements: Money | None = None
    balance_check: BalanceCheck
    warnings: tuple[str, ...] = ()
    source_file: str
    source_position: str | None = None


FileEvent = BankTransaction | StatementSummary


@dataclass(frozen=True)
class InputFile:
    """A file to read: a path on disk or a member of a ZIP archive, opened as bytes on demand."""

    name: str
    opener: Callable[[], BinaryIO]
    size: int | None = None

    @classmethod
    def from_path(cls, path: Path) -> InputFile:
        return cls(name=path.name, opener=lambda: path.open("rb"), size=path.stat().st_size)

    def head(self, length: int = 1 << 16) -> bytes:
        with self.opener() as stream:
            return stream.read(length)


@dataclass(frozen=True)
class ReadOptions:
    """Options common to every reader.

    Attributes:
        strict: a balance mismatch raises :class:`~erp_recovery.errors.ParseError` instead of
            being reported in the statement summary.
        max_bytes: files (and ZIP members, once uncompressed) larger than this are refused.
        pipeline_min_bytes: XML files of at least this size are parsed in a helper process
            while this one builds the records (:mod:`.pipeline`); ``0`` for every file.
    """

    strict: bool = False
    max_bytes: int = 2 << 30
    pipeline_min_bytes: int = 8 << 20


@dataclass
class BankFile:
    """A whole file read into memory: its statements, each with its transactions."""

    name: str
    format: str
    statements: list[StatementSummary] = field(default_factory=list)
    transactions: list[list[BankTransaction]] = field(default_factory=list)

    def all_transactions(self) -> list[BankTransaction]:
        return [transaction for group in self.transactions for transaction in group]


def collect(name: str, format_name: str, events: Iterable[FileEvent]) -> BankFile:
    """Group a reader's event stream into statements with their transactions."""
    result = BankFile(name=name, format=format_name)
    pending: list[BankTransaction] = []
    for event in events:
        if isinstance(event, StatementSummary):
            result.statements.append(event)
            result.transactions.append(pending)
            pending = []
        else:
            pending.append(event)
    if pending:
        raise AssertionError(f"{name}: transactions after the last statement summary")
    return result


def transactions_only(events: Iterable[FileEvent]) -> Iterator[BankTransaction]:
    for event in events:
        if isinstance(event, BankTransaction):
            yield event
