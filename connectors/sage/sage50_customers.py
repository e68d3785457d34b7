"""Sage 50 (UK) customer records CSV for write-back: read the latest export, write an import file.

Sage 50's File › Import › Customer Records creates an account, or updates an existing one (same
Account Reference) with every column of the row (``shared/domain/formats.md`` §7.2). The import
file is therefore built from the latest customer export: each changed account's row is re-emitted
cell for cell, under the export's header, and only the columns of the fields erp-recovery owns
(``mappings/sage50_customers_writeback.toml``) change.
"""

from __future__ import annotations

import csv
import io
import tomllib
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Literal

from erp_recovery.connectors.sage.fec_rules import mapping_path
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from erp_recovery.errors import MappingError, ParseError, RemoteError
from erp_recovery.model.money import Money
from erp_recovery.textfiles import file_encoding
from erp_recovery.writeback.plan import WriteValue


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FileRules(_Strict):
    encoding: str = "cp1252"
    separator: str = Field(default=",", min_length=1, max_length=1)
    line_ending: Literal["\r\n", "\n"] = "\r\n"
    key_column: str = "Account Reference"


class ColumnRule(_Strict):
    """One write-back field: the export column it lives in and how its values are written."""

    column: str
    type: Literal["money", "bool", "text"]
    currency: str | None = None
    true: str = "1"
    false: str = "0"
    #: bool only: a status column moved along (Sage 50 puts accounts on hold through a status).
    status_column: str | None = None
    status_blocked: str | None = None
    status_released: str | None = None

    @model_validator(mode="after")
    def _consistent(self) -> ColumnRule:
        if self.type == "money" and not self.currency:
            raise ValueError("a money column needs currency (the company's base currency)")
        status = (self.status_column, self.status_blocked, self.status_released)
        if any(status) and (self.type != "bool" or not all(status)):
            raise ValueError("status_column, status_blocked and status_released go together, on a bool")
        return self


class WritebackLayout(_Strict):
    description: str = ""
    file: FileRules = FileRules()
    fields: dict[str, ColumnRule]


def load_layout(name_or_path: str = "sage50_customers_writeback") -> WritebackLayout:
    """The write-back columns: a shipped mapping by name, or a TOML file by path."""
    path = mapping_path(name_or_path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        return WritebackLayout.model_validate(data)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise MappingError(f"cannot read the write-back layout: {exc}", file=str(path)) from None
    except ValidationError as exc:
        error = exc.errors()[0]
        where = ".".join(str(part) for part in error["loc"])
        raise MappingError(f"{where}: {error['msg']}", file=str(path)) from None


@dataclass
class CustomerRow:
    """One account's row: its cells in the export's column order, and where it was read."""

    account: str
    cells: list[str]
    line: int


@dataclass
class CustomerFile:
    """A customer records CSV: header, rows by account reference, and the column positions."""

    path: Path
    header: list[str]
    rows: dict[str, CustomerRow]

    def column(self, name: str) -> int:
        try:
            return self.header.index(name)
        except ValueError:
            raise MappingError(
                f"the customer export has no column {name!r} (columns: {', '.join(self.header)}); "
                "fix mappings/sage50_customers_writeback.toml or re-export with that column",
                file=str(self.path),
                line=1,
                column=name,
            ) from None


def read_customer_file(path: Path, layout: WritebackLayout) -> CustomerFile:
    """Parse the export (header line first); every line must have the header's field count."""
    try:
        encoding = file_encoding(path, "auto")
        text = path.read_bytes().decode(encoding)
    except OSError as exc:
        raise ParseError(f"cannot read: {exc.strerror}", file=str(path)) from None
    except UnicodeDecodeError as exc:
        raise ParseError(f"not valid text ({exc.reason})", file=str(path)) from None
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff"), newline=""), delimiter=layout.file.separator)
    try:
        header = [name.strip() for name in next(reader)]
    except StopIteration:
        raise ParseError("empty customer export (no header line)", file=str(path), line=1) from None
    except csv.Error as exc:
        raise ParseError(f"badly quoted field ({exc})", file=str(path), line=1) from None
    customers = CustomerFile(path=path, header=header, rows={})
    key = customers.column(layout.file.key_column)
    for rule in layout.fields.values():
        customers.column(rule.column)
        if rule.status_column:
            customers.column(rule.status_column)
    try:
        for cells in reader:
            line = reader.line_num
            if not any(cell.strip() for cell in cells):
                continue
            if len(cells) != len(header):
                raise ParseError(
                    f"{len(cells)} fields, the header has {len(header)}", file=str(path), line=line
                )
            account = cells[key].strip()
            if not account:
                raise ParseError(f"empty {layout.file.key_column}", file=str(path), line=line)
            customers.rows[account] = CustomerRow(account, cells, line)
    except csv.Error as exc:
        raise ParseError(f"badly quoted field ({exc})", file=str(path), line=reader.line_num) from None
    return customers


def current_values(
    customers: CustomerFile, row: CustomerRow, layout: WritebackLayout
) -> dict[str, WriteValue]:
    """The write-back fields of one account, in the write-back vocabulary (credit limit 0 = none)."""
    values: dict[str, WriteValue] = {}
    for name, rule in layout.fields.items():
        raw = row.cells[customers.column(rule.column)].strip()
        if rule.type == "money":
            try:
                amount = Decimal(raw.replace(",", "") or "0")
            except InvalidOperation:
                raise ParseError(
                    f"{rule.column} {raw!r} is not an amount", file=str(customers.path), line=row.line
                ) from None
            assert rule.currency is not None
            values[name] = Money(amount=amount, currency=rule.currency) if amount else None
        elif rule.type == "bool":
            values[name] = raw == rule.true
        else:
            values[name] = raw or None
    return values


def set_value(
    customers: CustomerFile, row: CustomerRow, layout: WritebackLayout, name: str, value: WriteValue
) -> None:
    """Change one field of a row as the write-back layout says; a value it cannot take is refused."""
    rule = layout.fields.get(name)
    if rule is None:
        raise RemoteError(f"Sage 50 write-back has no column for {name!r}; known: {', '.join(layout.fields)}")
    index = customers.column(rule.column)
    if rule.type == "money":
        if value is None:
            text = "0.00"
        elif isinstance(value, Money):
            if value.currency != rule.currency:
                raise RemoteError(
                    f"credit limit {value} for account {row.account}: Sage 50 holds it in {rule.currency}"
                )
            text = f"{value.amount.quantize(Decimal('0.01')):f}"
        else:
            raise RemoteError(f"{name} of account {row.account} must be an amount, got {value!r}")
    elif rule.type == "bool":
        if not isinstance(value, bool):
            raise RemoteError(f"{name} of account {row.account} must be yes or no, got {value!r}")
        text = rule.true if value else rule.false
        if rule.status_column:
            status = customers.column(rule.status_column)
            if value:
                row.cells[status] = rule.status_blocked or ""
            elif row.cells[status].strip() == rule.status_blocked:
                row.cells[status] = rule.status_released or ""
    else:
        text = "" if value is None else str(value)
    row.cells[index] = text


def render_import_file(customers: CustomerFile, rows: list[CustomerRow], layout: WritebackLayout) -> bytes:
    """The bytes of an import file: the export's header, then the given rows, in the layout's
    encoding and line ending (a character it cannot encode is an error naming the account)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=layout.file.separator, lineterminator=layout.file.line_ending)
    writer.writerow(customers.header)
    for row in rows:
        writer.writerow(row.cells)
    try:
        return buffer.getvalue().encode(layout.file.encoding)
    except UnicodeEncodeError as exc:
        raise RemoteError(
            f"the import file cannot be written in {layout.file.encoding}: {exc.object[exc.start : exc.end]!r} "
            "(set [file] encoding in the write-back layout)"
        ) from None
