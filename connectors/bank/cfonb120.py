"""CFONB 120: the French "relevé de compte 120 caractères" (ETEBAC format).

Spec: CFONB, "Relevé de compte sur support informatique" and "Évolution du relevé de compte
120 caractères" v2.0 (March 2010, SEPA additions). Fixed 120-character records, positions 1-based:

- ``01`` ancien solde / ``07`` nouveau solde: bank 3-7, branch 12-16, currency 17-19, number of
  decimals 20, account 22-32, date 35-40 (JJMMAA), amount 91-104;
- ``04`` mouvement: internal operation code 8-11, interbank operation code 33-34, booking date
  35-40, reject reason 41-42, value date 43-48, label 49-79, entry number 82-88, amount 91-104,
  reference 105-120;
- ``05`` complément: qualifier 46-48, information 49-118, attached to the preceding ``04``.
  ``LIB`` label, ``NPY``/``IPY`` payer name/id, ``NBE``/``IBE`` beneficiary, ``NPO``/``NBU``
  ultimate parties, ``LCC``/``LC2`` unstructured remittance, ``LCS`` structured creditor
  reference, ``RCN`` end-to-end id (49-83) + purpose (84-118), ``REF`` remittance reference
  (49-83) + transaction id (84-118), ``RUM`` mandate (49-83) + sequence, ``CPY``/``CBE``
  counterparty account, ``MMO`` original amount; other qualifiers are kept in ``references``.

Amounts: 14 digits whose last character carries the sign (``{`` ``A``-``I`` = +0..+9,
``}`` ``J``-``R`` = −0..−9; lower case accepted), with the record's decimal count. Blank lines,
missing final newline, files written as one long line of 120-character records and padding
variations ("non-strict" files) are accepted; a record shorter than the positions it must carry
is an error naming its line. The account becomes its French IBAN (the RIB key is computed).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from erp_recovery.errors import ParseError
from erp_recovery.model import BankTransaction, Money
from erp_recovery.textfiles import text_lines

from .balances import MovementTotal, check_balances, enforce
from .builder import build_transaction, clean, counterparty_account_fields, join_texts, structured_reference
from .identity import IdentityAssigner, french_rib_iban
from .model import FileEvent, InputFile, ReadOptions, StatementSummary

NAME = "cfonb120"
RECORD_LENGTH = 120

_POSITIVE = {"{": 0, **{letter: index + 1 for index, letter in enumerate("ABCDEFGHI")}}
_NEGATIVE = {"}": 0, **{letter: index + 1 for index, letter in enumerate("JKLMNOPQR")}}
_CODES = ("01", "04", "05", "07")


def identify_head(head: bytes) -> bool:
    """First non-blank line is a ``01`` record of about 120 characters with a currency code."""
    for raw in head.splitlines():
        line = raw.rstrip(b"\r\n ")
        if not line:
            continue
        return line[:2] == b"01" and len(line) >= 104 and line[16:19].isalpha() and line[19:20].isdigit()
    return False


def _field(record: str, start: int, end: int) -> str:
    """Positions ``start``..``end``, 1-based and inclusive as in the CFONB brochure."""
    return record[start - 1 : end]


@dataclass
class _Movement:
    record: str
    line: int
    complements: list[tuple[str, str, int]] = field(default_factory=list)


@dataclass
class _Statement:
    line: int
    index: int
    account: str
    bank: str
    branch: str
    account_number: str
    currency: str
    opening: Money
    opening_date: dt.date
    movements: MovementTotal = field(default_factory=MovementTotal)
    entries: int = 0
    warnings: list[str] = field(default_factory=list)


class Cfonb120Reader:
    def __init__(self, infile: InputFile, options: ReadOptions) -> None:
        self.file = infile.name
        self.infile = infile
        self.options = options
        self.identity = IdentityAssigner()

    def _records(self) -> Iterator[tuple[int, str]]:
        _encoding, lines = text_lines(self.infile.opener, file=self.file)
        for number, raw in lines:
            line = raw.rstrip("\r")
            if not line.strip():
                continue
            if len(line) > RECORD_LENGTH and len(line.rstrip()) > RECORD_LENGTH:
                # Records written back to back on one line.
                for start in range(0, len(line), RECORD_LENGTH):
                    chunk = line[start : start + RECORD_LENGTH]
                    if chunk.strip():
                        yield number, chunk
                continue
            yield number, line

    def events(self) -> Iterator[FileEvent]:
        statement: _Statement | None = None
        movement: _Movement | None = None
        count = 0
        for number, record in self._records():
            code = record[:2]
            if code not in _CODES:
                raise ParseError(
                    f"unknown CFONB 120 record code {code!r} (expected 01, 04, 05 or 07)",
                    file=self.file,
                    line=number,
                )
            if code == "05":
                if movement is None:
                    raise ParseError(
                        "05 complement record without a preceding 04 movement", file=self.file, line=number
                    )
                movement.complements.append((_field(record, 46, 48).strip(), record, number))
                continue
            if movement is not None and statement is not None:
                yield self._transaction(statement, movement)
                movement = None
            if code == "01":
                if statement is not None:
                    raise ParseError(
                        f"new 01 balance while the statement of line {statement.line} has no 07 closing balance",
                        file=self.file,
                        line=number,
                    )
                count += 1
                statement = self._open(record, number, count)
            elif code == "04":
                if statement is None:
                    raise ParseError(
                        "04 movement outside a statement (no 01 before it)", file=self.file, line=number
                    )
                movement = _Movement(record=record, line=number)
            else:
                if statement is None:
                    raise ParseError(
                        "07 closing balance without a 01 opening balance", file=self.file, line=number
                    )
                yield self._close(statement, record, number)
                statement = None
        if movement is not None and statement is not None:
            yield self._transaction(statement, movement)
        if statement is not None:
            raise ParseError(
                f"statement opened at line {statement.line} has no 07 closing balance: the file is truncated",
                file=self.file,
                line=statement.line,
            )
        if count == 0:
            raise ParseError("no CFONB 120 statement (no 01 record)", file=self.file)

    def _check_length(self, record: str, needed: int, line: int) -> None:
        if len(record) < needed:
            raise ParseError(
                f"record of {len(record)} characters, {needed} at least are needed (truncated line?)",
                file=self.file,
                line=line,
            )

    def _money(self, record: str, line: int) -> Money:
        self._check_length(record, 104, line)
        currency = _field(record, 17, 19)
        if not currency.isalpha():
            raise ParseError(f"invalid currency {currency!r} (positions 17-19)", file=self.file, line=line)
        decimals = _field(record, 20, 20)
        if not decimals.isdigit():
            raise ParseError(
                f"invalid number of decimals {decimals!r} (position 20)", file=self.file, line=line
            )
        return Money(
            amount=_amount(_field(record, 91, 104), int(decimals), file=self.file, line=line),
            currency=currency,
        )

    def _open(self, record: str, line: int, index: int) -> _Statement:
        money = self._money(record, line)
        bank, branch, number = _field(record, 3, 7), _field(record, 12, 16), _field(record, 22, 32)
        iban = french_rib_iban(bank, branch, number) if (bank + branch).isdigit() else None
        account = iban or f"{bank}{branch}{number}".replace(" ", "")
        return _Statement(
            line=line,
            index=index,
            account=account,
            bank=bank,
            branch=branch,
            account_number=number,
            currency=money.currency,
            opening=money,
            opening_date=_date(_field(record, 35, 40), file=self.file, line=line),
        )

    def _close(self, statement: _Statement, record: str, line: int) -> StatementSummary:
        closing = self._money(record, line)
        closing_date = _date(_field(record, 35, 40), file=self.file, line=line)
        if _field(record, 22, 32) != statement.account_number:
            raise ParseError(
                f"07 closing balance of account {_field(record, 22, 32)} closes the statement of account "
                f"{statement.account_number} (line {statement.line})",
                file=self.file,
                line=line,
            )
        check = check_balances(statement.opening, closing, statement.movements)
        statement_id = f"{statement.account}/{closing_date.isoformat()}"
        enforce(check, strict=self.options.strict, file=self.file, statement=statement_id, line=line)
        return StatementSummary(
            format="cfonb120",
            statement_id=statement_id,
            account=statement.account,
            currency=statement.currency,
            opening_balance=statement.opening,
            opening_date=statement.opening_date,
            closing_balance=closing,
            closing_date=closing_date,
            entry_count=statement.entries,
            transaction_count=statement.entries,
            movements=statement.movements.money(statement.currency),
            balance_check=check,
            warnings=tuple(statement.warnings),
            source_file=self.file,
            source_position=f"line {statement.line}",
        )

    def _transaction(self, statement: _Statement, movement: _Movement) -> BankTransaction:
        record, line = movement.record, movement.line
        money = self._money(record, line)
        booking_date = _date(_field(record, 35, 40), file=self.file, line=line)
        value_text = _field(record, 43, 48)
        value_date = _date(value_text, file=self.file, line=line) if value_text.strip() else None
        statement.entries += 1
        statement.movements.add(money.amount, money.currency)
        references: dict[str, str] = {}
        for name, start, end in (
            ("internal_code", 8, 11),
            ("interbank_code", 33, 34),
            ("entry_number", 82, 88),
            ("reference", 105, 120),
        ):
            value = clean(_field(record, start, end))
            if value and value.strip("0"):
                references[name] = value
        label = clean(_field(record, 49, 79))
        fields: dict[str, Any] = {
            "external_id": self.identity.entry_id(
                statement.account, booking_date, money.amount, money.currency
            ),
            "account": statement.account,
            "booking_date": booking_date,
            "value_date": value_date,
            "amount": money,
            "status": "booked",
            "transaction_code": references.get("interbank_code"),
            "return_reason": clean(_field(record, 41, 42)),
            "statement_id": f"{statement.account}/{statement.opening_date.isoformat()}",
            "source_file": self.file,
            "source_position": f"line {line}",
            "source_refs": {"line": str(line)},
        }
        remittance_lines: list[str] = []
        extra_labels: list[str] = []
        credit = money.amount > 0
        for qualifier, complement, complement_line in movement.complements:
            self._check_length(complement, 48, complement_line)
            info = _field(complement, 49, 118)
            first, second = clean(info[:35]), clean(info[35:70])
            whole = clean(info)
            if qualifier == "LIB":
                if whole:
                    extra_labels.append(whole)
            elif qualifier in ("LCC", "LC2"):
                if whole:
                    remittance_lines.append(whole)
            elif qualifier == "LCS":
                fields["structured_reference"] = structured_reference(first)
            elif qualifier == "RCN":
                end_to_end = first
                if end_to_end and end_to_end.upper() != "NOTPROVIDED":
                    fields["end_to_end_id"] = end_to_end
                if second:
                    references["purpose"] = second
            elif qualifier == "REF":
                if first:
                    references["remittance_reference"] = first
                if second:
                    references["transaction_id"] = second
            elif qualifier == "RUM":
                fields["mandate_id"] = first
                if second:
                    references["sequence"] = second[:4]
            elif qualifier in ("NPY", "NBE"):
                # The payer is the counterparty of a credit, the beneficiary of a debit.
                if (qualifier == "NPY") == credit or "counterparty_name" not in fields:
                    fields["counterparty_name"] = whole
            elif qualifier in ("CPY", "CBE"):
                if (qualifier == "CPY") == credit or "counterparty_account" not in fields:
                    fields.update(counterparty_account_fields(first))
            elif qualifier == "MMO":
                references["original_amount"] = whole or ""
            elif whole:
                references[qualifier or "05"] = whole
        fields["remittance"] = join_texts(*remittance_lines) or join_texts(label, *extra_labels)
        if remittance_lines and label:
            references["label"] = join_texts(label, *extra_labels) or label
        fields["references"] = references
        return build_transaction(fields, file=self.file, line=line)


def _amount(text: str, decimals: int, *, file: str, line: int) -> Decimal:
    """14 characters, the last one an overpunched digit carrying the sign."""
    value = text.strip()
    if not value:
        raise ParseError("empty amount (positions 91-104)", file=file, line=line)
    digits, last = value[:-1], value[-1].upper()
    if last in _POSITIVE:
        sign, final = 1, _POSITIVE[last]
    elif last in _NEGATIVE:
        sign, final = -1, _NEGATIVE[last]
    elif last.isdigit():
        sign, final = 1, int(last)
    else:
        raise ParseError(f"invalid amount {text!r}: bad sign character {last!r}", file=file, line=line)
    digits = digits.replace(" ", "0")
    if not digits.isdigit() and digits:
        raise ParseError(f"invalid amount {text!r}", file=file, line=line)
    number = Decimal(f"{digits}{final}") * sign
    return number.scaleb(-decimals)


def _date(text: str, *, file: str, line: int) -> dt.date:
    """``JJMMAA`` (years 80-99 are 19xx)."""
    if not (len(text) == 6 and text.isdigit()):
        raise ParseError(f"invalid date {text!r} (JJMMAA expected)", file=file, line=line)
    year = int(text[4:6])
    try:
        return dt.date(1900 + year if year >= 80 else 2000 + year, int(text[2:4]), int(text[:2]))
    except ValueError:
        raise ParseError(f"invalid date {text!r}", file=file, line=line) from None


def read(infile: InputFile, options: ReadOptions | None = None) -> Iterator[FileEvent]:
    """Transactions and statement summaries of a CFONB 120 file, streamed."""
    return Cfonb120Reader(infile, options or ReadOptions()).events()
