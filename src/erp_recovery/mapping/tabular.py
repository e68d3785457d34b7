"""Applying a :class:`~erp_recovery.mapping.spec.MappingSpec` to a delimited or fixed-width file.

Reading is streamed line by line. Errors name the file, the line (1-based, as an editor shows it)
and the column; a mapping that does not fit the file's header fails before any row is read.

Record mappings yield canonical records (:func:`mapped_records`); row mappings (``entity = "row"``)
yield plain dicts of converted values (:func:`mapped_rows`): every field of the mapping is a key
(``None`` when the cell is empty and the rule has no default), dotted names nest as in records,
and ``money`` cells become :class:`~erp_recovery.model.money.Money`.
"""

from __future__ import annotations

import csv
import io
import re
import string
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from erp_recovery.config import config_error_from_validation
from erp_recovery.errors import ConfigError, MappingError
from erp_recovery.mapping.spec import FieldRule, MappingSpec
from erp_recovery.model.money import Money
from erp_recovery.model.records import RECORD_TYPES, Record
from erp_recovery.textfiles import file_encoding

_TRUE = {"1", "true", "yes", "oui", "o", "y", "x", "vrai"}
_FALSE = {"0", "false", "no", "non", "n", "", "faux"}


def load_mapping(name_or_path: str | Path, *, base_dir: Path | None = None) -> MappingSpec:
    """Load a mapping by path, or by name from the mappings shipped in ``erp_recovery.mappings``."""
    candidate = Path(name_or_path)
    if not candidate.is_absolute() and base_dir is not None:
        candidate = base_dir / candidate
    if candidate.suffix == ".toml" and candidate.exists():
        text, origin = candidate.read_text(encoding="utf-8"), str(candidate)
    else:
        name = str(name_or_path).removesuffix(".toml")
        shipped = resources.files("erp_recovery.mappings").joinpath(f"{name}.toml")
        if not shipped.is_file():
            raise ConfigError(
                f"mapping {name_or_path!r} not found (neither a .toml file nor a shipped mapping; "
                f"shipped: {', '.join(shipped_mappings()) or 'none'})"
            )
        text, origin = shipped.read_text(encoding="utf-8"), f"{name}.toml (shipped)"
    return parse_mapping(text, origin=origin)


def shipped_mappings() -> list[str]:
    """Names of the shipped tabular mappings (files with ``[mapping]`` and ``[fields]`` tables).

    ``mappings/`` also holds other declarative files (FEC ledger rules, API field maps) that their
    connectors read; those are not listed here.
    """
    folder = resources.files("erp_recovery.mappings")
    names = []
    for entry in folder.iterdir():
        if entry.name.endswith(".toml"):
            document = tomllib.loads(entry.read_text(encoding="utf-8"))
            if isinstance(document.get("mapping"), dict) and isinstance(document.get("fields"), dict):
                names.append(entry.name.removesuffix(".toml"))
    return sorted(names)


def parse_mapping(text: str, *, origin: str = "<mapping>") -> MappingSpec:
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"not valid TOML: {exc}", path=origin) from None
    try:
        return MappingSpec.model_validate(raw)
    except ValidationError as exc:
        raise config_error_from_validation(exc, path=Path(origin), model=MappingSpec) from None


@dataclass(frozen=True)
class Row:
    """One data line of a tabular file: its 1-based line number and its cells."""

    line: int
    cells: list[str]


class TabularReader:
    """Reads the rows of one file under one mapping and turns them into canonical records."""

    def __init__(self, spec: MappingSpec, path: Path) -> None:
        self.spec = spec
        self.path = path
        self.layout = spec.layout
        #: The canonical record class, None for a row mapping.
        self.model: type[Record] | None = None if spec.is_row else RECORD_TYPES[spec.mapping.entity]
        self.columns: dict[str, int] = {}
        self.encoding = file_encoding(path, self.layout.encoding)

    # -- reading lines ---------------------------------------------------------------------------

    def _lines(self) -> Iterator[tuple[int, str]]:
        try:
            with self.path.open("r", encoding=self.encoding, newline="") as handle:
                for number, raw_line in enumerate(handle, start=1):
                    yield number, raw_line.rstrip("\r\n")
        except UnicodeDecodeError as exc:
            raise MappingError(
                f"not valid {self.encoding} text ({exc.reason}); set layout.encoding", file=str(self.path)
            ) from None
        except OSError as exc:
            raise MappingError(f"cannot read file: {exc.strerror}", file=str(self.path)) from None

    def separator(self, first_line: str) -> str:
        """The layout's separator, or the one guessed from the header line when it says 'auto'."""
        if self.layout.separator != "auto":
            return self.layout.separator
        counts = {sep: first_line.count(sep) for sep in (";", "\t", "|", ",")}
        best = max(counts, key=lambda sep: counts[sep])
        if counts[best] == 0:
            raise MappingError(
                "cannot guess the separator (none of ; TAB | , on the first line); set layout.separator",
                file=str(self.path),
                line=1 + self.layout.skip_lines,
            )
        return best

    def rows(self) -> Iterator[Row]:
        """Data rows after skipped lines and header, blank lines dropped, filters applied."""
        lines = self._lines()
        layout = self.layout
        for _ in range(layout.skip_lines):
            next(lines, None)
        if layout.format == "fixed":
            yield from self._fixed_rows(lines)
            return
        header_line: tuple[int, str] | None = None
        for number, text in lines:
            if text.strip() or not layout.skip_blank:
                header_line = (number, text.lstrip("\ufeff"))
                break
        if header_line is None:
            return
        separator = self.separator(header_line[1])
        if layout.header:
            header = self._split(header_line[1], separator, header_line[0])
            self.columns = {name.strip(): index for index, name in enumerate(header) if name.strip()}
            self._check_header(header_line[0])
            pending: Iterator[tuple[int, str]] = lines
        else:
            pending = _chain_one(header_line, lines)
        for number, text in pending:
            if not text.strip() and layout.skip_blank:
                continue
            if layout.stop_at and text.startswith(layout.stop_at):
                break
            cells = self._split(text, separator, number)
            if self._keep(cells, number):
                yield Row(number, cells)

    def _fixed_rows(self, lines: Iterator[tuple[int, str]]) -> Iterator[Row]:
        for number, text in lines:
            if not text.strip() and self.layout.skip_blank:
                continue
            if self.layout.stop_at and text.startswith(self.layout.stop_at):
                break
            yield Row(number, [text])

    def _split(self, text: str, separator: str, number: int) -> list[str]:
        if self.layout.quote is None:
            return text.split(separator)
        try:
            return next(
                csv.reader(io.StringIO(text), delimiter=separator, quotechar=self.layout.quote, strict=True)
            )
        except csv.Error as exc:
            raise MappingError(f"badly quoted field ({exc})", file=str(self.path), line=number) from None
        except StopIteration:
            return [""]

    def _check_header(self, line: int) -> None:
        wanted = [rule.column for rule in self.spec.fields.values() if rule.column is not None]
        wanted += [rule.currency_column for rule in self.spec.fields.values() if rule.currency_column]
        wanted += [f.column for f in self.spec.filter]
        for rule in self.spec.fields.values():
            if rule.template:
                wanted += [name for _, name, _, _ in string.Formatter().parse(rule.template) if name]
        for column in wanted:
            if column not in self.columns:
                found = ", ".join(self.columns) or "(none)"
                raise MappingError(
                    f"mapping {self.spec.mapping.name!r} expects a column {column!r} that the header lacks; "
                    f"columns found: {found}",
                    file=str(self.path),
                    line=line,
                    column=column,
                )

    def _keep(self, cells: list[str], number: int) -> bool:
        for rule in self.spec.filter:
            value = self._cell(cells, rule.column, number).strip()
            if rule.in_ is not None and value not in rule.in_:
                return False
            if rule.not_in is not None and value in rule.not_in:
                return False
        return True

    def _cell(self, cells: list[str], column: str, number: int) -> str:
        index = self.columns[column]
        if index >= len(cells):
            raise MappingError(
                f"the line has {len(cells)} fields, column {column!r} is field {index + 1}",
                file=str(self.path),
                line=number,
                column=column,
            )
        return cells[index]

    # -- mapping rows ----------------------------------------------------------------------------

    def raw_value(self, row: Row, name: str, rule: FieldRule) -> Any:
        if rule.value is not None:
            return rule.value
        if rule.template is not None:
            values = {column: self._cell(row.cells, column, row.line).strip() for column in self.columns}
            try:
                return rule.template.format(**values)
            except (KeyError, IndexError, ValueError) as exc:
                raise MappingError(
                    f"fields.{name}: bad template ({exc})", file=str(self.path), line=row.line
                ) from None
        if rule.column is not None:
            return self._cell(row.cells, rule.column, row.line)
        if rule.position is not None:
            if rule.position > len(row.cells):
                raise MappingError(
                    f"fields.{name} reads field {rule.position} but the line has {len(row.cells)}",
                    file=str(self.path),
                    line=row.line,
                    column=rule.position,
                )
            return row.cells[rule.position - 1]
        assert rule.start is not None and rule.length is not None
        text = row.cells[0]
        if self.layout.record_length is not None:
            text = text.ljust(self.layout.record_length)
        return text[rule.start - 1 : rule.start - 1 + rule.length]

    def _converted(self, row: Row, name: str, rule: FieldRule) -> tuple[Any, str | int]:
        """(converted value, the column it came from) of one field; a bad cell raises MappingError."""
        column = rule.column or rule.position or (f"{rule.start}-{rule.length}" if rule.start else name)
        raw = self.raw_value(row, name, rule)
        try:
            value = convert(raw, rule, self.layout, self._currency(row, rule))
        except ValueError as exc:
            raise MappingError(
                f"fields.{name}: {exc}", file=str(self.path), line=row.line, column=column
            ) from None
        if value is None and rule.required:
            raise MappingError(
                f"fields.{name} is required but empty", file=str(self.path), line=row.line, column=column
            )
        return value, column

    def to_record(self, row: Row) -> Record:
        """The canonical record of one row; a value that does not fit raises MappingError."""
        if self.model is None:
            raise ConfigError(
                f"mapping {self.spec.mapping.name!r} has entity 'row': read it with mapped_rows",
                path=str(self.path),
            )
        data: dict[str, Any] = {}
        for name, rule in self.spec.fields.items():
            value, _column = self._converted(row, name, rule)
            if value is not None:
                _set_dotted(data, name, value)
        data.setdefault("source_refs", {"file": self.path.name, "line": str(row.line)})
        try:
            return self.model.model_validate(data)
        except ValidationError as exc:
            error = exc.errors()[0]
            location = ".".join(str(part) for part in error["loc"])
            failing = self.spec.fields.get(location) or self.spec.fields.get(str(error["loc"][0]))
            failing_column = (failing.column or failing.position) if failing else None
            raise MappingError(
                f"{location}: {error['msg'].removeprefix('Value error, ')}",
                file=str(self.path),
                line=row.line,
                column=failing_column,
            ) from None

    def to_row(self, row: Row) -> dict[str, Any]:
        """The converted values of one row, one key per field (None when empty); money as Money."""
        values: dict[str, Any] = {}
        for name, rule in self.spec.fields.items():
            value, column = self._converted(row, name, rule)
            if rule.type == "money" and isinstance(value, dict):
                try:
                    value = Money(**value)
                except ValidationError as exc:
                    message = exc.errors()[0]["msg"].removeprefix("Value error, ")
                    raise MappingError(
                        f"fields.{name}: {message}", file=str(self.path), line=row.line, column=column
                    ) from None
            _set_dotted(values, name, value)
        return values

    def _currency(self, row: Row, rule: FieldRule) -> str | None:
        if rule.currency_column:
            return self._cell(row.cells, rule.currency_column, row.line).strip() or rule.currency
        return rule.currency

    def records(self) -> Iterator[tuple[Row, Record]]:
        for row in self.rows():
            yield row, self.to_record(row)

    def dicts(self) -> Iterator[tuple[Row, dict[str, Any]]]:
        for row in self.rows():
            yield row, self.to_row(row)


def _chain_one(first: tuple[int, str], rest: Iterator[tuple[int, str]]) -> Iterator[tuple[int, str]]:
    yield first
    yield from rest


def _set_dotted(data: dict[str, Any], name: str, value: Any) -> None:
    parts = name.split(".")
    target = data
    for part in parts[:-1]:
        target = target.setdefault(part, {})
    target[parts[-1]] = value


_NUMBER_CLEAN = re.compile(r"^[+-]?\d+(\.\d+)?$")


def parse_number(text: str, decimal: str, thousands: tuple[str, ...]) -> Decimal:
    """A decimal from an export: comma or point decimal, thousands separators, sign first or last."""
    cleaned = text.strip()
    for separator in thousands:
        cleaned = cleaned.replace(separator, "")
    negative = False
    if cleaned.endswith("-"):
        negative, cleaned = True, cleaned[:-1]
    elif cleaned.startswith("(") and cleaned.endswith(")"):
        negative, cleaned = True, cleaned[1:-1]
    if decimal == ",":
        if "." in cleaned and "," not in cleaned and cleaned.count(".") == 1 and "." not in thousands:
            pass  # a point decimal in a comma layout: tolerated when unambiguous
        else:
            cleaned = cleaned.replace(".", "").replace(",", ".")
    cleaned = cleaned.replace("+", "", 1) if cleaned.startswith("+") else cleaned
    if not _NUMBER_CLEAN.match(cleaned.lstrip("-")) or cleaned.count("-") > 1:
        raise ValueError(f"not a number: {text!r}")
    try:
        number = Decimal(cleaned)
    except InvalidOperation:
        raise ValueError(f"not a number: {text!r}") from None
    return -number if negative else number


def parse_date(text: str, formats: tuple[str, ...]) -> date:
    cleaned = text.strip()
    for fmt in formats:
        try:
            return datetime.strptime(cleaned, fmt).date()
        except ValueError:
            continue
    raise ValueError(f"not a date in the expected formats ({', '.join(formats)}): {text!r}")


def convert(raw: Any, rule: FieldRule, layout: Any, currency: str | None) -> Any:
    """Convert one raw cell by its rule. Empty → ``rule.default`` (None unless given)."""
    if isinstance(raw, str):
        text = raw.strip() if rule.strip else raw
        if rule.digits_only:
            text = "".join(ch for ch in text if ch.isdigit())
        if rule.first is not None:
            text = text[: rule.first]
    else:
        text = raw
    if rule.values is not None and isinstance(text, str):
        if text in rule.values:
            text = rule.values[text]
        elif rule.strict_values and text != "":
            allowed = ", ".join(repr(key) for key in rule.values)
            raise ValueError(f"unexpected value {text!r}; the mapping knows {allowed}")
    if text is None or (isinstance(text, str) and text == ""):
        return rule.default
    if not isinstance(text, str):
        return text
    kind = rule.type
    if kind in ("str", "enum"):
        return text
    if kind == "int":
        try:
            return int(parse_number(text, layout.decimal, layout.thousands))
        except ValueError:
            raise ValueError(f"not a whole number: {text!r}") from None
    if kind in ("decimal", "money"):
        number = parse_number(text, layout.decimal, layout.thousands)
        if rule.absolute:
            number = abs(number)
        if rule.negate:
            number = -number
        if kind == "decimal":
            return number
        if not currency:
            raise ValueError("no currency for this amount")
        return {"amount": number, "currency": currency}
    if kind == "date":
        return parse_date(text, rule.formats or layout.date_formats)
    if kind == "bool":
        lowered = text.lower()
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
        raise ValueError(f"not a yes/no value: {text!r} (give a 'values' map)")
    if kind == "list":
        return [item.strip() for item in text.split(rule.split) if item.strip()]
    raise ValueError(f"unknown type {kind!r}")


def mapped_records(spec: MappingSpec, path: Path) -> Iterator[tuple[Row, Record]]:
    """All (row, record) pairs of a file; the first bad row raises MappingError (file, line, column)."""
    if spec.is_row:
        raise ConfigError(
            f"mapping {spec.mapping.name!r} has entity 'row': its rows are read with mapped_rows",
            path=str(path),
        )
    return TabularReader(spec, path).records()


def mapped_rows(spec: MappingSpec, path: Path) -> Iterator[tuple[Row, dict[str, Any]]]:
    """All (row, converted values) pairs of a file, for any mapping (``entity = "row"`` ones above
    all); the first bad cell raises MappingError (file, line, column)."""
    return TabularReader(spec, path).dicts()
