"""Read and validate a whole FEC in one streaming pass, keeping only what receivables need.

Every line is checked (field count, dates ``AAAAMMJJ``, amounts with a decimal comma, mandatory
values) and every entry — the lines sharing ``JournalCode`` + ``EcritureNum`` — must balance
(article A47 A-1 LPF; DGFiP validator). Problems are collected with their line numbers and the file
is rejected as a whole with a :class:`~erp_recovery.errors.ParseError` naming the first one, so
nothing of a malformed file is ever stored.

Only lines on receivable accounts are kept (as light :class:`ReceivableLine` tuples), with the
roles of their entries; the other lines count in the totals and balances and are then dropped. A
1,000,000-line file is read in constant memory apart from those lines.
"""

from __future__ import annotations

import datetime as dt
import logging
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import NamedTuple

from erp_recovery.connectors.sage.fec_format import (
    CASH_BASIS_COLUMNS,
    CREDIT_SENS,
    DEBIT_SENS,
    FecFileName,
    FecHeader,
    HeaderError,
    detect_encoding,
    parse_amount,
    parse_date,
    parse_file_name,
    parse_header,
)
from erp_recovery.connectors.sage.fec_rules import FecRules, LineRole

from erp_recovery.errors import ParseError

log = logging.getLogger(__name__)

#: Problems listed in the error message of a rejected file (all are counted).
MAX_REPORTED_PROBLEMS = 20
#: Scanning stops after this many problems: the file is rejected anyway.
MAX_PROBLEMS = 1000

_BANK = 1
_REVENUE = 2


class ReceivableLine(NamedTuple):
    """One FEC line on a receivable account, validated. ``amount`` = Debit − Credit."""

    line: int
    journal: str
    journal_lib: str
    number: str
    date: dt.date
    account: str
    account_lib: str
    aux: str
    aux_lib: str
    piece_ref: str
    piece_date: dt.date
    label: str
    amount: Decimal
    letter: str
    letter_date: dt.date | None
    fx_amount: Decimal | None
    fx_currency: str
    #: Cash-basis columns present on the line (DateRglt, ModeRglt, NatOp, IdClient).
    extras: tuple[tuple[str, str], ...]

    @property
    def entry_key(self) -> str:
        return f"{self.journal}\x1f{self.number}"


@dataclass(frozen=True)
class Problem:
    line: int
    column: str | None
    message: str

    def describe(self) -> str:
        where = f"line {self.line}" + (f", column {self.column}" if self.column else "")
        return f"{where}: {self.message}"


@dataclass
class LedgerStats:
    """Totals of the whole file (every line, not only receivables)."""

    lines: int = 0
    entries: int = 0
    total_debit: Decimal = Decimal(0)
    total_credit: Decimal = Decimal(0)
    lettered_lines: int = 0
    aux_accounts: int = 0
    first_date: dt.date | None = None
    last_date: dt.date | None = None
    lines_without_valid_date: int = 0


@dataclass
class FecLedger:
    """A validated FEC: header facts, totals, and the receivable lines with their entries' roles."""

    path: Path
    encoding: str
    header: FecHeader
    file_name: FecFileName
    stats: LedgerStats
    receivable_lines: list[ReceivableLine]
    #: Role of each entry holding receivable lines, by entry key (journal + number).
    entry_roles: dict[str, LineRole]
    warnings: list[str] = field(default_factory=list)

    @property
    def siren(self) -> str | None:
        return self.file_name.siren

    @property
    def fiscal_year_end(self) -> dt.date | None:
        """Closing date: from the file name, else the last entry date."""
        return self.file_name.closing_date or self.stats.last_date


def _rejected(path: Path, problems: list[Problem], total: int) -> ParseError:
    first = problems[0]
    listed = "; ".join(problem.describe() for problem in problems[:MAX_REPORTED_PROBLEMS])
    more = f" (and {total - MAX_REPORTED_PROBLEMS} more)" if total > MAX_REPORTED_PROBLEMS else ""
    plural = "s" if total > 1 else ""
    message = f"invalid FEC, nothing imported: {total} problem{plural}: {listed}{more}"
    error = ParseError(message, file=str(path), line=first.line, column=first.column)
    error.details["problems"] = [problem.describe() for problem in problems[:MAX_REPORTED_PROBLEMS]]
    return error


def _newline(path: Path) -> str:
    """``\\n`` for LF, CRLF and ``\\r\\r\\n`` files (lines then end with stray CRs we strip); ``\\r``
    for old Mac files with CR only."""
    with path.open("rb") as handle:
        head = handle.read(1 << 16)
    return "\r" if b"\n" not in head and b"\r" in head else "\n"


def read_fec(path: str | Path, rules: FecRules, *, encoding: str | None = None) -> FecLedger:
    """Validate the whole file and return its receivable lines; raise ParseError if anything is wrong."""
    file = Path(path)
    if not file.is_file():
        raise ParseError("no such file", file=str(file))
    chosen = detect_encoding(file, configured=encoding or rules.layout.encoding)
    try:
        with file.open("r", encoding=chosen, newline=_newline(file)) as handle:
            return _read(file, chosen, handle, rules)
    except UnicodeDecodeError as exc:
        raise ParseError(
            f"cannot be decoded as {chosen} ({exc.reason} at byte {exc.start} of a chunk); "
            "set [layout] encoding in the FEC mapping",
            file=str(file),
        ) from None


def _read(file: Path, encoding: str, lines: Iterable[str], rules: FecRules) -> FecLedger:
    iterator = iter(lines)
    header_line = next(iterator, "")
    try:
        header = parse_header(header_line)
    except HeaderError as exc:
        raise ParseError(f"invalid FEC header: {exc}", file=str(file), line=1) from None

    pos = header.positions
    sep = header.separator
    width = header.width
    p_journal, p_jlib, p_num = pos["JournalCode"], pos["JournalLib"], pos["EcritureNum"]
    p_date, p_account, p_alib = pos["EcritureDate"], pos["CompteNum"], pos["CompteLib"]
    p_aux, p_auxlib, p_piece = pos["CompAuxNum"], pos["CompAuxLib"], pos["PieceRef"]
    p_pdate, p_label, p_let = pos["PieceDate"], pos["EcritureLib"], pos["EcritureLet"]
    p_dlet, p_valid = pos["DateLet"], pos["ValidDate"]
    p_fx, p_fxcur = pos["Montantdevise"], pos["Idevise"]
    signed = header.signed_amount
    p_a = pos["Montant"] if signed else pos["Debit"]
    p_b = pos["Sens"] if signed else pos["Credit"]
    extras = [(name, pos[name]) for name in CASH_BASIS_COLUMNS if name in pos]

    receivable = tuple(rules.ledger.receivable_accounts)
    bank = tuple(rules.ledger.bank_accounts)
    revenue = tuple(rules.ledger.revenue_accounts)
    journal_roles: dict[str, LineRole | None] = {}

    dates: dict[str, dt.date] = {}
    problems: list[Problem] = []
    problem_count = 0
    stats = LedgerStats()
    total_debit = Decimal(0)
    total_credit = Decimal(0)
    aux_seen: set[str] = set()
    kept: list[ReceivableLine] = []
    intern = sys.intern
    zero = Decimal(0)

    # Entries: the current (contiguous) one is tracked in locals; an entry that ends unbalanced is
    # parked in ``pending`` in case its other lines come later in the file.
    pending: dict[str, tuple[Decimal, int]] = {}
    entry_flags: dict[str, int] = {}
    entry_keys: set[str] = set()
    cur_key: str | None = None
    cur_sum = zero
    cur_first = 0
    cur_flags = 0
    cur_has_receivable = False

    def problem(line: int, column: str | None, message: str) -> None:
        nonlocal problem_count
        problem_count += 1
        if len(problems) < MAX_REPORTED_PROBLEMS:
            problems.append(Problem(line, column, message))

    def date_of(text: str, line: int, column: str) -> dt.date | None:
        value = dates.get(text)
        if value is None:
            try:
                value = parse_date(text)
            except ValueError as exc:
                problem(line, column, str(exc))
                return None
            dates[text] = value
        return value

    def close_entry() -> None:
        if cur_key is None:
            return
        total, first = cur_sum, cur_first
        if cur_key in pending:
            earlier, first = pending.pop(cur_key)
            total += earlier
        if total:
            pending[cur_key] = (total, first)
        if cur_has_receivable or cur_key in entry_flags:
            entry_flags[cur_key] = entry_flags.get(cur_key, 0) | cur_flags

    line_no = 1
    for raw in iterator:
        line_no += 1
        text = raw.rstrip("\r\n")
        if not text.strip():
            continue  # blank lines, e.g. the ones a \r\r\n terminator leaves
        fields = text.split(sep)
        count = len(fields)
        if count != width and (count < width or any(value.strip() for value in fields[width:])):
            hint = " (a text field may contain the separator)" if count > width else ""
            problem(line_no, None, f"{count} fields, the header has {width}{hint}")
            if problem_count >= MAX_PROBLEMS:
                break
            continue
        stats.lines += 1

        journal = fields[p_journal].strip()
        number = fields[p_num].strip()
        account = fields[p_account].strip()
        if not journal:
            problem(line_no, "JournalCode", "empty")
        if not number:
            problem(line_no, "EcritureNum", "empty")
        if not account:
            problem(line_no, "CompteNum", "empty")

        date_text = fields[p_date].strip()
        entry_date = date_of(date_text, line_no, "EcritureDate") if date_text else None
        if not date_text:
            problem(line_no, "EcritureDate", "empty")
        piece_text = fields[p_pdate].strip()
        piece_date = date_of(piece_text, line_no, "PieceDate") if piece_text else entry_date
        valid_text = fields[p_valid].strip()
        if valid_text:
            date_of(valid_text, line_no, "ValidDate")
        else:
            stats.lines_without_valid_date += 1
        let_text = fields[p_dlet].strip()
        letter_date = date_of(let_text, line_no, "DateLet") if let_text else None

        debit = credit = zero
        if signed:
            try:
                magnitude = parse_amount(fields[p_a])
            except ValueError as exc:
                problem(line_no, "Montant", str(exc))
                magnitude = zero
            sens = fields[p_b].strip()
            if sens in DEBIT_SENS:
                debit = magnitude
            elif sens in CREDIT_SENS:
                credit = magnitude
            else:
                problem(line_no, "Sens", f"{sens!r} is neither D/C nor +1/-1")
        else:
            try:
                debit = parse_amount(fields[p_a])
            except ValueError as exc:
                problem(line_no, "Debit", str(exc))
            try:
                credit = parse_amount(fields[p_b])
            except ValueError as exc:
                problem(line_no, "Credit", str(exc))
        fx_text = fields[p_fx].strip()
        fx_amount: Decimal | None = None
        if fx_text:
            try:
                fx_amount = parse_amount(fx_text)
            except ValueError as exc:
                problem(line_no, "Montantdevise", str(exc))

        if problem_count >= MAX_PROBLEMS:
            break
        if entry_date is None:
            continue

        total_debit += debit
        total_credit += credit
        if stats.first_date is None or entry_date < stats.first_date:
            stats.first_date = entry_date
        if stats.last_date is None or entry_date > stats.last_date:
            stats.last_date = entry_date
        aux = fields[p_aux].strip()
        if aux:
            aux_seen.add(aux)
        letter = fields[p_let].strip()
        if letter:
            stats.lettered_lines += 1

        key = f"{journal}\x1f{number}"
        if key != cur_key:
            close_entry()
            entry_keys.add(key)
            cur_key, cur_sum, cur_first, cur_flags, cur_has_receivable = key, zero, line_no, 0, False
        cur_sum += debit - credit
        if account.startswith(bank):
            cur_flags |= _BANK
        elif account.startswith(revenue):
            cur_flags |= _REVENUE
        if not account.startswith(receivable):
            continue

        cur_has_receivable = True
        journal = intern(journal)
        if journal not in journal_roles:
            journal_roles[journal] = rules.journal_role(journal, fields[p_jlib])
        kept.append(
            ReceivableLine(
                line=line_no,
                journal=journal,
                journal_lib=intern(fields[p_jlib].strip()),
                number=number,
                date=entry_date,
                account=intern(account),
                account_lib=intern(fields[p_alib].strip()),
                aux=intern(aux),
                aux_lib=intern(fields[p_auxlib].strip()),
                piece_ref=fields[p_piece].strip(),
                piece_date=piece_date or entry_date,
                label=fields[p_label].strip(),
                amount=debit - credit,
                letter=letter,
                letter_date=letter_date,
                fx_amount=fx_amount,
                fx_currency=intern(fields[p_fxcur].strip().upper()),
                extras=tuple(
                    (name, fields[index].strip()) for name, index in extras if fields[index].strip()
                ),
            )
        )
    close_entry()

    if problem_count < MAX_PROBLEMS:
        for key, (difference, first) in sorted(pending.items(), key=lambda item: item[1][1]):
            journal, number = key.split("\x1f")
            problem(
                first,
                None,
                f"entry {journal} {number} is unbalanced: debit − credit = {difference} "
                "(every EcritureNum must balance)",
            )
    if problem_count:
        raise _rejected(file, problems, problem_count)
    if stats.lines == 0:
        raise ParseError("the FEC has a header but no entry lines", file=str(file), line=1)

    stats.entries = len(entry_keys)
    stats.total_debit = total_debit
    stats.total_credit = total_credit
    stats.aux_accounts = len(aux_seen)
    entry_roles: dict[str, LineRole] = {}
    for key, flags in entry_flags.items():
        journal = key.split("\x1f", 1)[0]
        by_journal = journal_roles.get(journal)
        if by_journal is not None:
            entry_roles[key] = by_journal
        elif flags & _REVENUE:
            entry_roles[key] = "sales"
        elif flags & _BANK:
            entry_roles[key] = "bank"
        else:
            entry_roles[key] = "other"

    warnings: list[str] = []
    if stats.lines_without_valid_date:
        warnings.append(
            f"{stats.lines_without_valid_date} line(s) without ValidDate (mandatory in the arrêté)"
        )
    ledger = FecLedger(
        path=file,
        encoding=encoding,
        header=header,
        file_name=parse_file_name(file.name),
        stats=stats,
        receivable_lines=kept,
        entry_roles=entry_roles,
        warnings=warnings,
    )
    for warning in warnings:
        log.warning("%s: %s", file, warning)
    return ledger
