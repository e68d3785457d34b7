"""SWIFT MT940 (customer statement) and MT942 (interim transaction report).

Spec: SWIFT Standards MT Category 9, MT 940 / MT 942 (fields ``:20: :21: :25: :28C: :60F/M:
:61: :86: :62F/M: :64: :65:``; MT942 adds ``:34F: :13D: :90D: :90C:``), with the real-world
deviations found in public bank files:

- optional SWIFT envelope ``{1:…}{2:O940…}{3:…}{4:`` … ``-}``, proprietary header lines before
  ``:20:`` (ING ``0000 01INGBNL2AXXXX00001``, ABN ``ABNANL2A``, Rabobank ``:940:``), ``-``
  message terminators, several statements per file;
- ``:61:`` statement line ``YYMMDD[MMDD](C|D|RC|RD)[funds code]amount type ref[//bank ref]
  [\\n supplementary details]``, where real files put the amount on the next line, exceed 16
  characters of customer reference or write free text on the second line (read leniently);
  the entry date's year is taken from the value date, across a December/January turn;
  ``February 30th``-style value dates (German interest settlements) are moved to the month's
  last day;
- ``:86:`` read by the pluggable dialects of :mod:`.mt940_details`; ``:NS:`` (non-SWIFT) text
  after a ``:61:`` stands for it when there is no ``:86:``.

Sign: ``C`` and ``RD`` are money in (+), ``D`` and ``RC`` money out (−); ``RC``/``RD`` mark
reversals. MT940 statements must have their opening (``:60F:``/``:60M:``) and closing
(``:62F:``/``:62M:``) balances — a statement without its closing balance is reported as
truncated. MT942 has no balances: its transactions are ``pending`` (superseded by the
statement's booked ones, which carry the same identity) and its ``:90D:``/``:90C:`` totals
are checked.

Files of 8 MiB and more are read (tags, statements, statement lines) in a helper process while
this one completes and validates the records (:mod:`.pipeline`).
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from erp_recovery.errors import ParseError
from erp_recovery.model import BankTransaction, Money
from erp_recovery.textfiles import text_lines

from . import pipeline
from .balances import MovementTotal, check_balances, enforce
from .builder import build_transaction, clean, counterparty_account_fields
from .identity import IdentityAssigner, normalise_account, split_currency_suffix
from .model import BalanceCheck, FileEvent, InputFile, ReadOptions, StatementSummary
from .mt940_details import parse_details

NAME = "mt940"

_TAG = re.compile(r"^:(\d{2}[A-Z]?|NS):(.*)$")
#: Tags of MT940/MT942 (and Rabobank's ``:940:`` header); any other ``:NN:`` at the start of a
#: line is text wrapped from the previous field (``2017-01-01T13`` + ``:12:11``).
_KNOWN_TAGS = frozenset(
    {
        "20",
        "21",
        "25",
        "25P",
        "28",
        "28C",
        "60F",
        "60M",
        "61",
        "62F",
        "62M",
        "64",
        "65",
        "86",
        "NS",
        "34F",
        "13",
        "13D",
        "90D",
        "90C",
        "940",
        "942",
    }
)
#: SWIFT FIN framing characters (start/end of text) some files keep.
_FRAMING = str.maketrans("", "", "\x01\x03")
_HEAD = re.compile(rb"(^|[\r\n]|\{4:)\s*:20:", re.MULTILINE)
_BLOCK = re.compile(r"\{\d:[^{}]*(?:\{[^{}]*\}[^{}]*)*\}")
_BALANCE = re.compile(r"^([DC])(\d{6})([A-Z]{3})(\d[\d,]*)$")
_STATEMENT_LINE = re.compile(
    r"^(?P<value>\d{6})(?P<entry>\d{4})?(?P<mark>R?[DC])(?P<funds>[A-Z])?\n?"
    r"(?P<amount>\d[\d,]*)(?P<type>[NSF][A-Z0-9 ]{3})?(?P<refs>[^\n]*)(?:\n(?P<more>.*))?$",
    re.DOTALL,
)
_FLOOR = re.compile(r"^([A-Z]{3})([DC]?)(\d[\d,]*)$")
_TOTAL = re.compile(r"^(\d+)([A-Z]{3})(\d[\d,]*)$")
_NO_REFERENCE = {"NONREF", "NOTPROVIDED", ""}
_SWIFT_AMOUNT = re.compile(r"\d+(,\d*)?")


def identify_head(head: bytes) -> bool:
    """An MT940/942 file has a ``:20:`` tag at the start of a line (after an optional envelope)."""
    return bool(_HEAD.search(head[:8192])) and b":25:" in head


@dataclass
class _Tag:
    name: str
    lines: list[str]
    line: int


@dataclass
class _Statement:
    reference: str
    line: int
    index: int
    tags: dict[str, str] = field(default_factory=dict)
    account: str | None = None
    currency: str | None = None
    statement_number: str | None = None
    opening: Money | None = None
    opening_date: dt.date | None = None
    closing: Money | None = None
    closing_date: dt.date | None = None
    interim: bool = False
    movements: MovementTotal = field(default_factory=MovementTotal)
    entries: int = 0
    debit_total: tuple[int, Decimal] | None = None
    credit_total: tuple[int, Decimal] | None = None
    debits: tuple[int, Decimal] = (0, Decimal(0))
    credits: tuple[int, Decimal] = (0, Decimal(0))
    warnings: list[str] = field(default_factory=list)


@dataclass
class _Line:
    """A ``:61:`` statement line waiting for its ``:86:``."""

    tag: _Tag
    details: list[str] | None = None
    non_swift: list[str] | None = None


class Mt940Reader:
    """Reads MT940/MT942 files; :meth:`events` yields transactions and statement summaries."""

    def __init__(self, infile: InputFile, options: ReadOptions) -> None:
        self.file = infile.name
        self.infile = infile
        self.options = options
        self.identity = IdentityAssigner()
        self.envelope_open = False
        self.message_type: str | None = None

    def _tags(self) -> Iterator[_Tag | None]:
        """Tags in file order; ``None`` marks the end of a message (``-`` or ``-}``)."""
        _encoding, lines = text_lines(self.infile.opener, file=self.file)
        current: _Tag | None = None
        for number, raw in lines:
            line = raw.rstrip("\r")
            if "\x01" in line or "\x03" in line:
                line = line.translate(_FRAMING)
            if line.startswith("{"):
                if "{2:" in line:
                    kind = re.search(r"\{2:[IO](\d{3})", line)
                    self.message_type = kind.group(1) if kind else self.message_type
                if "{4:" in line:
                    self.envelope_open = True
                    line = line.split("{4:", 1)[1]
                else:
                    line = _BLOCK.sub("", line)
                if not line.strip():
                    continue
            if (line.startswith("-") and line.rstrip().rstrip("}").strip("-{}5: ") == "") or line.startswith(
                "-}"
            ):
                if current is not None:
                    yield current
                    current = None
                self.envelope_open = False
                yield None
                continue
            match = _TAG.match(line)
            if match and match.group(1) in _KNOWN_TAGS:
                if current is not None:
                    yield current
                current = _Tag(name=match.group(1), lines=[match.group(2)], line=number)
            elif current is not None:
                current.lines.append(line)
        if current is not None:
            yield current
        if self.envelope_open:
            raise ParseError("truncated SWIFT message: block 4 is not closed by '-}'", file=self.file)

    def events(self) -> Iterator[FileEvent]:
        """Transactions and statement summaries, in file order.

        The file is read by :meth:`_parsed` (tags, statements, statement lines, identities), in a
        helper process for large files (:mod:`.pipeline`); the records are completed and
        validated here (``:86:`` details, amounts, :func:`~.builder.build_transaction`).
        """
        size = self.infile.size
        if size is not None and size >= self.options.pipeline_min_bytes and pipeline.available():
            parsed: Iterator[tuple[Any, ...]] = pipeline.run(self._parsed, file=self.file)
        else:
            parsed = self._parsed()
        for item in parsed:
            if item[0] == "tx":
                yield self._record(*item[1:])
            else:
                yield item[1]

    def _parsed(self) -> Iterator[tuple[Any, ...]]:
        """``("tx", ...)`` per statement line (:meth:`_transaction`'s fields) and ``("summary",
        summary)`` per statement, in file order; plain picklable values."""
        statement: _Statement | None = None
        pending: _Line | None = None
        count = 0
        for tag in self._tags():
            if tag is None or tag.name == "20":
                if pending is not None and statement is not None:
                    yield self._transaction(statement, pending)
                    pending = None
                if statement is not None:
                    yield ("summary", self._finish(statement))
                    statement = None
                if tag is None:
                    continue
                count += 1
                statement = _Statement(reference=clean(" ".join(tag.lines)) or "", line=tag.line, index=count)
                continue
            if statement is None:
                if tag.name in ("940", "942"):
                    continue
                raise ParseError(
                    f"tag :{tag.name}: before the first :20: (not a complete MT940/MT942 statement)",
                    file=self.file,
                    line=tag.line,
                )
            if tag.name == "61":
                if pending is not None:
                    yield self._transaction(statement, pending)
                pending = _Line(tag=tag)
            elif tag.name == "86" and pending is not None and pending.details is None:
                pending.details = tag.lines
            elif tag.name == "NS" and pending is not None and pending.details is None:
                pending.non_swift = tag.lines
            else:
                if pending is not None and tag.name not in ("86", "NS"):
                    yield self._transaction(statement, pending)
                    pending = None
                self._statement_tag(statement, tag)
        if pending is not None and statement is not None:
            yield self._transaction(statement, pending)
        if statement is not None:
            yield ("summary", self._finish(statement))
        if count == 0:
            raise ParseError("no MT940/MT942 statement (no :20: tag)", file=self.file)

    # -- statement fields -----------------------------------------------------------------------

    def _statement_tag(self, statement: _Statement, tag: _Tag) -> None:
        value = "\n".join(tag.lines).strip()
        name = tag.name
        if name == "25":
            account, currency = split_currency_suffix(value.split("\n")[0])
            statement.account = normalise_account(account)
            statement.currency = statement.currency or currency
        elif name in ("28C", "28"):
            statement.statement_number = clean(value)
        elif name in ("60F", "60M"):
            statement.opening, statement.opening_date = self._balance(value, tag)
            statement.currency = statement.opening.currency
        elif name in ("62F", "62M"):
            statement.closing, statement.closing_date = self._balance(value, tag)
        elif name == "34F":
            statement.interim = True
            floor = _FLOOR.match(value)
            if floor:
                statement.currency = statement.currency or floor.group(1)
        elif name in ("13D", "13"):
            statement.interim = True
        elif name in ("90D", "90C"):
            statement.interim = True
            total = _TOTAL.match(value)
            if total is None:
                raise ParseError(f"malformed :{name}: {value!r}", file=self.file, line=tag.line)
            pair = (int(total.group(1)), _amount(total.group(3), file=self.file, line=tag.line))
            statement.currency = statement.currency or total.group(2)
            if name == "90D":
                statement.debit_total = pair
            else:
                statement.credit_total = pair
        statement.tags[name] = value

    def _balance(self, value: str, tag: _Tag) -> tuple[Money, dt.date]:
        match = _BALANCE.match(value.replace("\n", ""))
        if match is None:
            raise ParseError(f"malformed balance :{tag.name}: {value!r}", file=self.file, line=tag.line)
        amount = _amount(match.group(4), file=self.file, line=tag.line)
        if match.group(1) == "D":
            amount = -amount
        return Money(amount=amount, currency=match.group(3)), _date(
            match.group(2), file=self.file, line=tag.line
        )

    # -- transactions ---------------------------------------------------------------------------

    def _transaction(self, statement: _Statement, pending: _Line) -> tuple[Any, ...]:
        """A statement line's fields, read in file order (the statement's totals follow it);
        :meth:`_record` completes them."""
        tag = pending.tag
        if statement.account is None:
            raise ParseError(":61: before the account identification :25:", file=self.file, line=tag.line)
        text = "\n".join(tag.lines)
        match = _STATEMENT_LINE.match(text)
        if match is None:
            raise ParseError(f"malformed statement line :61:{tag.lines[0]!r}", file=self.file, line=tag.line)
        currency = statement.currency
        if currency is None:
            raise ParseError(
                "no currency for this statement (no :60F:/:34F: before the first :61:)",
                file=self.file,
                line=tag.line,
            )
        value_text, entry_text, mark, _funds, amount_text, type_text, refs, more = match.groups()
        value_date = _date(value_text, file=self.file, line=tag.line)
        booking_date = value_date
        if entry_text:
            booking_date = _entry_date(value_date, entry_text, file=self.file, line=tag.line)
        amount = _amount(amount_text, file=self.file, line=tag.line)
        signed = amount if mark in ("C", "RD") else -amount
        customer_reference, _separator, bank_reference = refs.partition("//")
        supplementary = clean(more)
        statement.entries += 1
        interim = statement.interim or self.message_type == "942"
        status = "pending" if interim else "booked"
        if status == "booked":
            statement.movements.add(signed, currency)
        if signed < 0:
            statement.debits = (statement.debits[0] + 1, statement.debits[1] + amount)
        else:
            statement.credits = (statement.credits[0] + 1, statement.credits[1] + amount)
        references: dict[str, str] = {}
        customer_reference = clean(customer_reference)
        if customer_reference and customer_reference not in _NO_REFERENCE:
            references["customer_reference"] = customer_reference
        bank_reference = clean(bank_reference)
        type_code = clean(type_text)
        if type_code:
            references["type"] = type_code
        fields: dict[str, Any] = {
            "external_id": self.identity.entry_id(statement.account, booking_date, signed, currency),
            "account": statement.account,
            "booking_date": booking_date,
            "value_date": value_date,
            "status": status,
            "reversal": mark.startswith("R"),
            "bank_reference": bank_reference if bank_reference not in _NO_REFERENCE else None,
            "transaction_code": type_code,
            "statement_id": "/".join(
                part for part in (statement.reference, statement.statement_number) if part
            ),
            "source_file": self.file,
            "source_position": f"line {tag.line}",
            "source_refs": {"line": str(tag.line)},
        }
        return (
            "tx",
            tag.line,
            fields,
            references,
            pending.details or pending.non_swift,
            supplementary,
            signed,
            currency,
        )

    def _record(
        self,
        line: int,
        fields: dict[str, Any],
        references: dict[str, str],
        detail_lines: list[str] | None,
        supplementary: str | None,
        signed: Decimal,
        currency: str,
    ) -> BankTransaction:
        """The canonical record of a statement line read by :meth:`_transaction`."""
        fields["amount"] = Money(amount=signed, currency=currency)
        if detail_lines is not None:
            details = parse_details([text.rstrip() for text in detail_lines])
            fields.update(
                {
                    "remittance": details.remittance,
                    "counterparty_name": details.counterparty_name,
                    "counterparty_bic": details.counterparty_bic,
                    "end_to_end_id": details.end_to_end_id,
                    "mandate_id": details.mandate_id,
                    "structured_reference": details.structured_reference,
                    "return_reason": details.return_reason,
                }
            )
            fields.update(counterparty_account_fields(details.counterparty_account))
            if details.transaction_code:
                fields["transaction_code"] = details.transaction_code
            references.update(details.references)
            references["details_dialect"] = details.dialect
            if supplementary:
                references["supplementary_details"] = supplementary
        else:
            fields["remittance"] = supplementary
        fields["references"] = references
        return build_transaction(fields, file=self.file, line=line)

    def _finish(self, statement: _Statement) -> StatementSummary:
        position = f"line {statement.line}"
        if statement.account is None:
            raise ParseError(
                f"statement {statement.reference!r} has no account identification (:25:)",
                file=self.file,
                line=statement.line,
            )
        interim = (
            statement.interim
            or self.message_type == "942"
            or (statement.opening is None and statement.closing is None and statement.debit_total is not None)
        )
        if interim:
            check = BalanceCheck(status="unavailable", detail="MT942 interim report: no balances")
            for name, expected, actual in (
                ("debit", statement.debit_total, statement.debits),
                ("credit", statement.credit_total, statement.credits),
            ):
                if expected is not None and expected != actual:
                    statement.warnings.append(
                        f":90{name[0].upper()}: announces {expected[0]} {name} entries for {expected[1]}, "
                        f"the report holds {actual[0]} for {actual[1]}"
                    )
        else:
            if statement.opening is None:
                raise ParseError(
                    f"statement {statement.reference!r} has no opening balance (:60F:/:60M:)",
                    file=self.file,
                    line=statement.line,
                )
            if statement.closing is None:
                raise ParseError(
                    f"statement {statement.reference!r} has no closing balance (:62F:/:62M:): "
                    "the file is truncated or incomplete",
                    file=self.file,
                    line=statement.line,
                )
            check = check_balances(statement.opening, statement.closing, statement.movements)
            enforce(
                check,
                strict=self.options.strict,
                file=self.file,
                statement=statement.reference,
                line=statement.line,
            )
        return StatementSummary(
            format="mt942" if interim else "mt940",
            statement_id="/".join(part for part in (statement.reference, statement.statement_number) if part),
            account=statement.account,
            currency=statement.currency,
            opening_balance=statement.opening,
            opening_date=statement.opening_date,
            closing_balance=statement.closing,
            closing_date=statement.closing_date,
            entry_count=statement.entries,
            transaction_count=statement.entries,
            movements=statement.movements.money(statement.currency),
            balance_check=check,
            warnings=tuple(statement.warnings),
            source_file=self.file,
            source_position=position,
        )


def _amount(text: str, *, file: str, line: int) -> Decimal:
    """SWIFT amount ``15d``: digits with a decimal comma (``0,``, ``1234,5``)."""
    value = text.strip()
    if not _SWIFT_AMOUNT.fullmatch(value):
        raise ParseError(f"malformed SWIFT amount {value!r}", file=file, line=line)
    whole, _comma, fraction = value.partition(",")
    return Decimal(f"{whole}.{fraction}" if fraction else whole)


def _year(two_digits: str) -> int:
    number = int(two_digits)
    return 1900 + number if number >= 80 else 2000 + number


def _safe_date(year: int, month: int, day: int, *, file: str, line: int, text: str) -> dt.date:
    if not 1 <= month <= 12 or not 1 <= day <= 31:
        raise ParseError(f"invalid date {text!r}", file=file, line=line)
    try:
        return dt.date(year, month, day)
    except ValueError:
        last = calendar.monthrange(year, month)[1]
        return dt.date(year, month, min(day, last))


def _date(text: str, *, file: str, line: int) -> dt.date:
    """``YYMMDD``; a day past the month's end (``160230``) becomes the month's last day."""
    return _safe_date(_year(text[:2]), int(text[2:4]), int(text[4:6]), file=file, line=line, text=text)


def _entry_date(value_date: dt.date, text: str, *, file: str, line: int) -> dt.date:
    """``MMDD`` entry date, in the year that puts it closest to the value date."""
    month, day = int(text[:2]), int(text[2:4])
    same_year = _safe_date(value_date.year, month, day, file=file, line=line, text=text)
    if abs((same_year - value_date).days) <= 181:
        # The same date a year before or after is 365 days (at least 364 with a clamped
        # 29th February) from this one, so at least 183 days from the value date: farther.
        return same_year
    candidates = [
        _safe_date(year, month, day, file=file, line=line, text=text)
        for year in (value_date.year - 1, value_date.year, value_date.year + 1)
    ]
    return min(candidates, key=lambda candidate: abs((candidate - value_date).days))


def read(infile: InputFile, options: ReadOptions | None = None) -> Iterator[FileEvent]:
    """Transactions and statement summaries of an MT940/MT942 file, streamed."""
    return Mt940Reader(infile, options or ReadOptions()).events()
