"""The FEC file format: columns, header, amounts, dates, encodings and file names.

Source: article A47 A-1 of the Livre des procédures fiscales (arrêté of 29 July 2013) and the
DGFiP "Test Compta Demat" validator rules, summarised in ``shared/domain/formats.md`` §6:

- one file per fiscal year, named ``<SIREN>FEC<AAAAMMJJ>`` (closing date);
- records separated by CR and/or LF, fields separated by TAB or ``|`` (one of them per file),
  first line = field names;
- encodings ASCII, ISO 8859-15 or UTF-8 (real files also come in CP1252, with or without BOM);
- numbers with a decimal **comma**, no thousands separator, sign first or last, often zero- or
  space-padded (``0000000069,60``, `` 000000000001437,12``);
- dates ``AAAAMMJJ``.

The 18 columns may come as ``Montant`` + ``Sens`` instead of ``Debit`` + ``Credit``; cash-basis
(BNC/BA) files add ``DateRglt``, ``ModeRglt``, ``NatOp`` and ``IdClient``.
"""

from __future__ import annotations

import codecs
import datetime as dt
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path

from erp_recovery.textfiles import detect_file_encoding

#: The 18 columns of the arrêté, in their order (Debit/Credit form).
STANDARD_COLUMNS: tuple[str, ...] = (
    "JournalCode",
    "JournalLib",
    "EcritureNum",
    "EcritureDate",
    "CompteNum",
    "CompteLib",
    "CompAuxNum",
    "CompAuxLib",
    "PieceRef",
    "PieceDate",
    "EcritureLib",
    "Debit",
    "Credit",
    "EcritureLet",
    "DateLet",
    "ValidDate",
    "Montantdevise",
    "Idevise",
)
#: Columns of the ``Montant`` + ``Sens`` variant replacing ``Debit`` + ``Credit``.
SIGNED_AMOUNT_COLUMNS: tuple[str, str] = ("Montant", "Sens")
#: Extra columns of cash-basis (BNC/BA "recettes-dépenses") files.
CASH_BASIS_COLUMNS: tuple[str, ...] = ("DateRglt", "ModeRglt", "NatOp", "IdClient")

_KNOWN = {name.casefold(): name for name in (*STANDARD_COLUMNS, *SIGNED_AMOUNT_COLUMNS, *CASH_BASIS_COLUMNS)}

#: Values of ``Sens`` meaning debit / credit.
DEBIT_SENS = frozenset({"D", "d", "+1", "1", "+"})
CREDIT_SENS = frozenset({"C", "c", "-1", "-"})


@dataclass(frozen=True)
class FecHeader:
    """The header line of a FEC: separator and the position of each known column."""

    separator: str
    names: tuple[str, ...]
    #: Position of each known column, by its canonical name (``MontantDevise`` → ``Montantdevise``).
    positions: dict[str, int]
    signed_amount: bool

    @property
    def width(self) -> int:
        return len(self.names)

    def has(self, column: str) -> bool:
        return column in self.positions


class HeaderError(ValueError):
    """The header line is not a FEC header (the reader turns it into a ParseError on line 1)."""


def parse_header(line: str) -> FecHeader:
    """Read the field-name line: separator (TAB or ``|``), column positions, variant.

    Names are matched case-insensitively and may be padded; a trailing separator is tolerated.
    Missing mandatory columns are reported all at once, by name.
    """
    text = line.lstrip("\ufeff").rstrip("\r\n")
    tabs, pipes = text.count("\t"), text.count("|")
    if not tabs and not pipes:
        raise HeaderError("no TAB or '|' separator in the header line; is this a FEC file?")
    separator = "\t" if tabs >= pipes else "|"
    names = [name.strip() for name in text.split(separator)]
    while names and not names[-1]:
        names.pop()
    positions: dict[str, int] = {}
    for index, name in enumerate(names):
        canonical = _KNOWN.get(name.casefold())
        if canonical is None:
            continue
        if canonical in positions:
            raise HeaderError(
                f"column {canonical!r} appears twice (positions {positions[canonical] + 1} and {index + 1})"
            )
        positions[canonical] = index
    signed_amount = "Debit" not in positions and "Credit" not in positions and "Montant" in positions
    required = [c for c in STANDARD_COLUMNS if c not in ("Debit", "Credit")]
    required += list(SIGNED_AMOUNT_COLUMNS) if signed_amount else ["Debit", "Credit"]
    missing = [column for column in required if column not in positions]
    if missing:
        raise HeaderError(
            f"missing FEC column(s) {', '.join(missing)}; the header has {', '.join(names) or 'no names'}"
            " (article A47 A-1 LPF: 18 columns, or Montant + Sens instead of Debit + Credit)"
        )
    return FecHeader(
        separator=separator, names=tuple(names), positions=positions, signed_amount=signed_amount
    )


_AMOUNT = re.compile(r"^[+-]?\d+(,\d+)?[+-]?$")


def parse_amount(text: str) -> Decimal:
    """A FEC number: decimal comma, no thousands separator, sign first or last, padding allowed.

    Raises ValueError with the reason (a ``.`` is refused: the DGFiP validator rejects it).
    """
    value = text.strip()
    if not value:
        return Decimal(0)
    if value.startswith("-") and len(value) > 1 and value[1] == " ":
        value = "-" + value[1:].lstrip()
    if not _AMOUNT.match(value):
        if "." in value:
            raise ValueError(
                f"amount {text!r} uses '.'; FEC amounts take a decimal comma and no thousands separator"
            )
        raise ValueError(f"not a FEC amount: {text!r} (expected digits with a decimal comma, e.g. 1437,12)")
    negative = False
    if value[-1] in "+-":
        negative = value[-1] == "-"
        value = value[:-1]
    if value[0] in "+-":
        if negative:
            raise ValueError(f"amount {text!r} has two signs")
        negative = value[0] == "-"
        value = value[1:]
    try:
        amount = Decimal(value.replace(",", "."))
    except InvalidOperation:  # pragma: no cover - the regex admits only valid numbers
        raise ValueError(f"not a FEC amount: {text!r}") from None
    return -amount if negative else amount


def parse_date(text: str) -> dt.date:
    """A FEC date ``AAAAMMJJ``; raises ValueError with the reason."""
    value = text.strip()
    if len(value) != 8 or not value.isdigit():
        raise ValueError(f"date {text!r} is not AAAAMMJJ")
    try:
        return dt.date(int(value[:4]), int(value[4:6]), int(value[6:]))
    except ValueError as exc:
        raise ValueError(f"date {text!r} does not exist ({exc})") from None


def detect_encoding(path: Path, configured: str | None = None) -> str:
    """The encoding to read ``path`` with: a BOM wins (UTF-8 or UTF-16); then ``configured`` if
    given; else the project's detector (:mod:`erp_recovery.textfiles`: whole-file UTF-8 check, then
    the most plausible of CP1252 / ISO-8859-1 / CP850)."""
    with path.open("rb") as handle:
        head = handle.read(4)
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    if configured and configured.lower() != "auto":
        codecs.lookup(configured)
        return configured
    return detect_file_encoding(path)


_FILE_NAME = re.compile(r"(?P<digits>\d{9,})FEC(?P<closing>\d{8})", re.IGNORECASE)


@dataclass(frozen=True)
class FecFileName:
    """What the legal file name says: ``<SIREN>FEC<AAAAMMJJ>`` (fiscal year closing date)."""

    siren: str | None
    closing_date: dt.date | None

    @property
    def fiscal_year(self) -> str | None:
        return self.closing_date.isoformat() if self.closing_date else None


def parse_file_name(name: str) -> FecFileName:
    """SIREN and closing date from a FEC file name; both None when the name does not follow the rule.

    The SIREN is the nine digits right before ``FEC`` (some tools pad it to ten digits).
    """
    match = _FILE_NAME.search(name)
    if not match:
        return FecFileName(siren=None, closing_date=None)
    try:
        closing = parse_date(match.group("closing"))
    except ValueError:
        closing = None
    return FecFileName(siren=match.group("digits")[-9:], closing_date=closing)
