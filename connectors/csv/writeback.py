"""Write-back for tabular sources: an import file for the system the exports come from.

A system that exports CSV usually imports it too. Write-back therefore produces, in the layout of
the latest export (same columns, separator, decimal, encoding), a file holding the complete rows
of the records we change, with only the fields we own changed — plus, for actions such as dunning
steps, a CSV log of the steps for people or a macro to enter them::

    [sources.settings.writeback]
    stream = "customers"                     # whose latest file is the current state
    output = "outbox/customers-import.csv"   # written by 'erp-recovery apply'
    actions_output = "outbox/dunning-steps.csv"
    [sources.settings.writeback.columns]     # write-back field → column of the export
    credit_limit = "credit_limit"
    risk_flag = "risk_code"

Until the system has imported the file and exported again, the current state is the export
overlaid by the import file (when it is newer): a second apply then finds nothing to do.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

from erp_recovery.errors import ConfigError, MissingRecordError
from erp_recovery.mapping import MappingSpec, Row, TabularReader
from erp_recovery.mapping.tabular import convert
from erp_recovery.model.money import Money
from erp_recovery.sync.protocol import SourceSettings
from erp_recovery.writeback.plan import ActionChange, FieldChange, WriteValue
from erp_recovery.writeback.target import Observed

ACTION_COLUMNS = (
    "idempotency_key",
    "entity",
    "external_id",
    "label",
    "action",
    "level",
    "summary",
    "deadline",
    "message",
)


class CsvWritebackSettings(SourceSettings):
    stream: str = "customers"
    output: str
    actions_output: str | None = None
    columns: dict[str, str]


class CsvWriteback:
    """Reads the current values from the latest export (+ pending import file) and writes the file."""

    def __init__(
        self,
        settings: CsvWritebackSettings,
        spec: MappingSpec,
        export: Path,
        output: Path,
        actions_output: Path | None,
    ) -> None:
        self.settings = settings
        self.spec = spec
        self.export = export
        self.output = output
        self.actions_output = actions_output
        for field, column in settings.columns.items():
            rule = self._rule_for(column)
            if rule is None:
                raise ConfigError(
                    f"writeback.columns.{field} names column {column!r}, which mapping "
                    f"{spec.mapping.name!r} does not read",
                )

    def _rule_for(self, column: str) -> Any:
        return next((rule for rule in self.spec.fields.values() if rule.column == column), None)

    # -- reading the current state ----------------------------------------------------------------

    def _read(self, path: Path) -> tuple[list[str], dict[str, tuple[Row, TabularReader]]]:
        reader = TabularReader(self.spec, path)
        rows: dict[str, tuple[Row, TabularReader]] = {}
        id_rule = self.spec.fields["external_id"]
        for row in reader.rows():
            external_id = str(
                convert(reader.raw_value(row, "external_id", id_rule), id_rule, reader.layout, None)
            )
            rows[external_id] = (row, reader)
        header = sorted(reader.columns, key=lambda name: reader.columns[name])
        return header, rows

    def current_rows(self) -> tuple[list[str], dict[str, tuple[Row, TabularReader]]]:
        header, rows = self._read(self.export)
        if self.output.exists() and self.output.stat().st_mtime >= self.export.stat().st_mtime:
            rows.update(self._read(self.output)[1])
        return header, rows

    def _value(self, row: Row, reader: TabularReader, field: str) -> WriteValue:
        column = self.settings.columns[field]
        rule = self._rule_for(column)
        raw = row.cells[reader.columns[column]] if reader.columns[column] < len(row.cells) else ""
        value = convert(raw, rule, reader.layout, rule.currency)
        if isinstance(value, dict) and {"amount", "currency"} <= set(value):
            return Money.of(value["amount"], value["currency"])
        if isinstance(value, Decimal):
            return format(value, "f")
        return value if isinstance(value, bool | int | str) or value is None else str(value)

    def read_current(self, changes: Sequence[FieldChange | ActionChange]) -> dict[str, Observed]:
        _, rows = self.current_rows()
        done = self._done_actions()
        observed: dict[str, Observed] = {}
        for change in changes:
            if isinstance(change, ActionChange):
                observed[change.slot] = Observed(
                    done=change.idempotency_key in done, where=str(self.actions_output)
                )
                continue
            if change.target.entity != self.spec.mapping.entity or change.field not in self.settings.columns:
                continue
            found = rows.get(change.target.external_id)
            if found is not None:
                row, reader = found
                observed[change.slot] = Observed(
                    value=self._value(row, reader, change.field), where=f"{reader.path.name}, line {row.line}"
                )
        return observed

    # -- writing --------------------------------------------------------------------------------

    def _format(self, value: WriteValue, reader: TabularReader) -> str:
        if isinstance(value, Money):
            text = format(value.quantized().amount, "f")
            return text.replace(".", ",") if reader.layout.decimal == "," else text
        if isinstance(value, tuple):
            return ",".join(value)
        if value is None:
            return ""
        return str(value)

    def write(self, changes: Sequence[FieldChange | ActionChange]) -> None:
        actions = [change for change in changes if isinstance(change, ActionChange)]
        fields = [change for change in changes if isinstance(change, FieldChange)]
        if actions:
            self._append_actions(actions)
        if not fields:
            return
        header, rows = self.current_rows()
        written: dict[str, list[str]] = {}
        if self.output.exists() and self.output.stat().st_mtime >= self.export.stat().st_mtime:
            written = {key: list(row.cells) for key, (row, _) in self._read(self.output)[1].items()}
        for change in fields:
            found = rows.get(change.target.external_id)
            if found is None:
                raise MissingRecordError(f"{change.target.describe()} is not in {self.export.name}")
            row, reader = found
            cells = written.get(change.target.external_id) or list(row.cells)
            cells += [""] * (len(header) - len(cells))
            cells[reader.columns[self.settings.columns[change.field]]] = self._format(change.new, reader)
            written[change.target.external_id] = cells
        self._write_rows(header, list(written.values()))

    def _dialect(self) -> tuple[str, str]:
        reader = TabularReader(self.spec, self.export)
        first_line = self.export.read_text(encoding=reader.encoding).splitlines()[0]
        separator = reader.separator(first_line)
        return separator, reader.encoding

    def _write_rows(self, header: list[str], rows: list[list[str]]) -> None:
        separator, encoding = self._dialect()
        buffer = io.StringIO()
        writer = csv.writer(buffer, delimiter=separator, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)
        self.output.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.output.with_suffix(self.output.suffix + ".tmp")
        temporary.write_text(buffer.getvalue(), encoding=encoding.removesuffix("-sig"))
        temporary.replace(self.output)

    def _done_actions(self) -> set[str]:
        if self.actions_output is None or not self.actions_output.exists():
            return set()
        with self.actions_output.open(encoding="utf-8", newline="") as handle:
            return {row["idempotency_key"] for row in csv.DictReader(handle, delimiter=";")}

    def _append_actions(self, actions: Sequence[ActionChange]) -> None:
        if self.actions_output is None:
            raise ConfigError("this source has no writeback.actions_output: it cannot record actions")
        done = self._done_actions()
        new_file = not self.actions_output.exists()
        self.actions_output.parent.mkdir(parents=True, exist_ok=True)
        with self.actions_output.open("a", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle, delimiter=";", lineterminator="\n")
            if new_file:
                writer.writerow(ACTION_COLUMNS)
            for action in actions:
                if action.idempotency_key in done:
                    continue
                params: Mapping[str, Any] = action.params
                writer.writerow(
                    [
                        action.idempotency_key,
                        action.target.entity,
                        action.target.external_id,
                        action.target.label or "",
                        action.action,
                        params.get("level", ""),
                        params.get("summary", ""),
                        params.get("deadline", ""),
                        params.get("message", ""),
                    ]
                )
