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
_RECEIVABLE = 4


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
    name_a, name_b = ("Montant", "Sens") if signed else ("Debit", "Credit")
    extras = [(name, pos[name]) for name in CASH_BASIS_COLUMNS if name in pos]

    receivable = tuple(rules.ledger.receivable_accounts)
    bank = tuple(rules.ledger.bank_accounts)
    revenue = tuple(rules.ledger.revenue_accounts)
    journal_roles: dict[str, LineRole | None] = {}
    #: Per account number: 0 other, _BANK, _REVENUE, plus _RECEIVABLE (a ledger has a few hundred).
    account_kinds: dict[str, int] = {}

    # Hot loop, once per line of a file that may hold millions. Dates are parsed once per distinct
    # text; amounts are integer cents on the fast path (``digits,dd``), with an exact Decimal side
    # sum for anything finer; non-receivable lines leave nothing behind but totals and balances.
    dates: dict[str, dt.date] = {}
    entry_dates: dict[str, dt.date] = {}
    zero_texts: set[str] = set()
    #: Idevise texts seen and valid (empty, or three letters).
    currencies: set[str] = set()
    problems: list[Problem] = []
    problem_count = 0
    n_lines = 0
    no_valid_date = 0
    lettered = 0
    debit_cents = credit_cents = 0
    zero = Decimal(0)
    debit_odd = credit_odd = zero
    aux_seen: set[str] = set()
    kept: list[ReceivableLine] = []
    intern = sys.intern

    # Entries: the current (contiguous) one is tracked in locals; an entry that ends unbalanced is
    # parked in ``pending`` in case its other lines come later in the file.
    pending: dict[str, tuple[Decimal, int]] = {}
    entry_flags: dict[str, int] = {}
    entry_keys: set[str] = set()
    cur_journal = cur_number = ""
    cur_key: str | None = None
    cur_sum = 0
    cur_odd = zero
    cur_first = 0
    cur_flags = 0
    cur_has_receivable = False

    def problem(line: int, column: str | None, message: str) -> None:
        nonlocal problem_count
        problem_count += 1
        if len(problems) < MAX_REPORTED_PROBLEMS:
            problems.append(Problem(line, column, message))

    def slow_date(text: str, line: int, column: str) -> dt.date | None:
        try:
            value = parse_date(text)
        except ValueError as exc:
            problem(line, column, str(exc))
            return None
        dates[text] = value
        return value

    def slow_amount(text: str, line: int, column: str) -> tuple[int, Decimal]:
        """Cents, and the exact rest below a cent (zero unless the file has finer amounts)."""
        try:
            value = parse_amount(text)
        except ValueError as exc:
            problem(line, column, str(exc))
            return 0, zero
        cents = int(value.scaleb(2))
        return cents, value - Decimal(cents).scaleb(-2)

    def close_entry() -> None:
        if cur_key is None:
            return
        total = Decimal(cur_sum).scaleb(-2) + cur_odd if (cur_sum or cur_odd) else zero
        first = cur_first
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
        fields = raw.rstrip("\r\n").split(sep)
        if len(fields) != width:
            if not raw.strip():
                continue  # blank lines, e.g. the ones a \r\r\n terminator leaves
            count = len(fields)
            if count < width or any(value.strip() for value in fields[width:]):
                hint = " (a text field may contain the separator)" if count > width else ""
                problem(line_no, None, f"{count} fields, the header has {width}{hint}")
                if problem_count >= MAX_PROBLEMS:
                    break
                continue
        n_lines += 1

        journal = fields[p_journal].strip()
        number = fields[p_num].strip()
        account = fields[p_account].strip()
        if not (journal and number and account):
            for column, value in (("JournalCode", journal), ("EcritureNum", number), ("CompteNum", account)):
                if not value:
                    problem(line_no, column, "empty")

        text = fields[p_date]
        entry_date = entry_dates.get(text)
        if entry_date is None:
            entry_date = dates.get(text) or (
                slow_date(text, line_no, "EcritureDate") if text.strip() else None
            )
            if entry_date is None:
                if not text.strip():
                    problem(line_no, "EcritureDate", "empty")
                if problem_count >= MAX_PROBLEMS:
                    break
                continue
            entry_dates[text] = entry_date
        text = fields[p_pdate]
        piece_date = dates.get(text) if text else entry_date
        if piece_date is None:
            piece_date = slow_date(text, line_no, "PieceDate") if text.strip() else entry_date
        text = fields[p_valid]
        if not text:
            no_valid_date += 1
        elif text not in dates and text.strip():
            slow_date(text, line_no, "ValidDate")
        text = fields[p_dlet]
        letter_date = dates.get(text) if text else None
        if letter_date is None and text.strip():
            letter_date = slow_date(text, line_no, "DateLet")

        odd_a = odd_b = zero
        text = fields[p_a]
        if text in zero_texts:
            cents_a = 0
        elif text[-3:-2] == "," and "_" not in text:
            try:
                cents_a = int(text.replace(",", "", 1))
            except ValueError:
                cents_a, odd_a = slow_amount(text, line_no, name_a)
            if not cents_a:
                zero_texts.add(text)
        else:
            cents_a, odd_a = slow_amount(text, line_no, name_a)
        if signed:
            sens = fields[p_b].strip()
            if sens in DEBIT_SENS:
                cents_b = 0
            elif sens in CREDIT_SENS:
                cents_a, cents_b, odd_a, odd_b = 0, cents_a, zero, odd_a
            else:
                problem(line_no, "Sens", f"{sens!r} is neither D/C nor +1/-1")
                cents_b = 0
        else:
            text = fields[p_b]
            if text in zero_texts:
                cents_b = 0
            elif text[-3:-2] == "," and "_" not in text:
                try:
                    cents_b = int(text.replace(",", "", 1))
                except ValueError:
                    cents_b, odd_b = slow_amount(text, line_no, name_b)
                if not cents_b:
                    zero_texts.add(text)
            else:
                cents_b, odd_b = slow_amount(text, line_no, name_b)
        text = fields[p_fx]
        fx_amount: Decimal | None = None
        if text and text.strip():
            try:
                fx_amount = parse_amount(text)
            except ValueError as exc:
                problem(line_no, "Montantdevise", str(exc))
        text = fields[p_fxcur]
        if text and text not in currencies:
            code = text.strip().upper()
            if not code or (len(code) == 3 and code.isascii() and code.isalpha()):
                currencies.add(text)
            else:
                problem(line_no, "Idevise", f"{text!r} is not an ISO 4217 currency code (3 letters)")
        if problem_count >= MAX_PROBLEMS:
            break

        debit_cents += cents_a
        credit_cents += cents_b
        aux = fields[p_aux]
        if aux:
            aux = aux.strip()
            if aux:
                aux_seen.add(aux)
        letter = fields[p_let]
        if letter:
            letter = letter.strip()
            if letter:
                lettered += 1

        if number != cur_number or journal != cur_journal:
            close_entry()
            cur_journal, cur_number = journal, number
            cur_key = f"{journal}\x1f{number}"
            entry_keys.add(cur_key)
            cur_sum, cur_odd, cur_first, cur_flags, cur_has_receivable = 0, zero, line_no, 0, False
        cur_sum += cents_a - cents_b
        odd = odd_a or odd_b
        if odd:
            debit_odd += odd_a
            credit_odd += odd_b
            cur_odd += odd_a - odd_b
        kind = account_kinds.get(account)
        if kind is None:
            kind = account_kinds[account] = (
                _BANK if account.startswith(bank) else _REVENUE if account.startswith(revenue) else 0
            ) | (_RECEIVABLE if account.startswith(receivable) else 0)
        if not kind:
            continue
        cur_flags |= kind
        if not kind & _RECEIVABLE:
            continue

        cur_has_receivable = True
        journal = intern(journal)
        if journal not in journal_roles:
            journal_roles[journal] = rules.journal_role(journal, fields[p_jlib])
        amount = Decimal(cents_a - cents_b).scaleb(-2)
        if odd:
            amount += odd_a - odd_b
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
                amount=amount,
                letter=letter,
                letter_date=letter_date,
                fx_amount=fx_amount,
                fx_currency=intern(fields[p_fxcur].strip().upper()),
                extras=tuple((name, fields[index].strip()) for name, index in extras if fields[index].strip())
                if extras
                else (),
            )
        )
    close_entry()

    stats = LedgerStats(
        lines=n_lines,
        entries=len(entry_keys),
        total_debit=Decimal(debit_cents).scaleb(-2) + debit_odd,
        total_credit=Decimal(credit_cents).scaleb(-2) + credit_odd,
        lettered_lines=lettered,
        aux_accounts=len(aux_seen),
        first_date=min(entry_dates.values()) if entry_dates else None,
        last_date=max(entry_dates.values()) if entry_dates else None,
        lines_without_valid_date=no_valid_date,
    )
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
    if n_lines == 0:
        raise ParseError("the FEC has a header but no entry lines", file=str(file), line=1)

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
