"""Generic tabular connector: CSV or fixed-width exports read through declarative mappings.

For any system that can export a table (an in-house ERP, a spreadsheet, a report), an admin writes
or adapts a mapping file (see :mod:`erp_recovery.mapping.spec`) and lists the files::

    [[sources]]
    name = "exports"
    company = "acme"
    connector = "csv"
    [sources.settings.streams.customers]
    path = "exports/clients*.csv"          # a file or a glob, relative to the config file
    mapping = "csv_customers"              # a shipped mapping name or a .toml path
    snapshot = true                         # each file is the full list: missing rows are marked deleted

Each file is imported once (recognised by its SHA-256); a changed file is imported again and the
store keeps only what changed. With ``strict = true`` (the default) a file with one bad row is
refused whole, naming the line and column; with ``strict = false`` bad rows go to the quarantine.
"""

from __future__ import annotations

import glob
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from erp_recovery.connectors.csv.writeback import CsvWriteback, CsvWritebackSettings
from pydantic import Field

from erp_recovery.errors import ConfigError, MappingError, ParseError, SkippableRecord
from erp_recovery.fingerprints import file_sha256
from erp_recovery.mapping import MappingSpec, Row, TabularReader, load_mapping
from erp_recovery.mapping.tabular import convert
from erp_recovery.model.records import Record
from erp_recovery.sync.protocol import (
    Batch,
    Connector,
    Cursor,
    Notice,
    Origin,
    RawRecord,
    Snapshot,
    SourceSettings,
    StreamSpec,
)
from erp_recovery.writeback.plan import ActionChange, FieldChange
from erp_recovery.writeback.target import Observed

BATCH_SIZE = 500


class CsvStreamSettings(SourceSettings):
    path: str
    mapping: str
    snapshot: bool = False


class CsvSettings(SourceSettings):
    streams: dict[str, CsvStreamSettings] = Field(min_length=1)
    strict: bool = True
    #: Write-back as an import file in the export's layout (see ``connectors/csv/writeback.py``).
    writeback: CsvWritebackSettings | None = None


class CsvConnector(Connector):
    name = "csv"
    description = "CSV / fixed-width exports through declarative mappings"
    settings_model = CsvSettings
    settings: CsvSettings

    def __init__(self, source: Any, settings: CsvSettings) -> None:  # type: ignore[override]
        super().__init__(source, settings)
        self._mappings: dict[str, MappingSpec] = {}
        self._readers: dict[str, TabularReader] = {}
        self.supports_writeback = settings.writeback is not None

    def _mapping(self, stream: str) -> MappingSpec:
        if stream not in self._mappings:
            self._mappings[stream] = load_mapping(
                self.settings.streams[stream].mapping, base_dir=self.source.base_dir
            )
        return self._mappings[stream]

    def streams(self) -> Sequence[StreamSpec]:
        return [
            StreamSpec(name=name, entities=(self._mapping(name).mapping.entity,), primary_key="external_id")  # type: ignore[arg-type]
            for name in self.settings.streams
        ]

    def _files(self, stream: str) -> list[Path]:
        pattern = str(self.source.resolve_path(self.settings.streams[stream].path))
        return sorted(Path(match) for match in glob.glob(pattern))

    def check(self) -> str:
        found = {name: len(self._files(name)) for name in self.settings.streams}
        return ", ".join(f"{name}: {count} file(s)" for name, count in found.items())

    def read(self, stream: StreamSpec, cursor: Cursor | None) -> Iterator[Batch | Snapshot | Notice]:
        settings = self.settings.streams[stream.name]
        spec = self._mapping(stream.name)
        done: dict[str, str] = dict((cursor or {}).get("files", {}))
        partial: dict[str, Any] = dict((cursor or {}).get("partial") or {})
        files = self._files(stream.name)
        if not files:
            yield Notice(f"no file matches {settings.path}", level="info")
        for path in files:
            digest = file_sha256(path)
            if done.get(str(path)) == digest:
                continue
            reader = TabularReader(spec, path)
            self._readers[str(path)] = reader
            rows = list(reader.rows())
            if self.settings.strict:
                for row in rows:
                    reader.to_record(row)  # raises MappingError naming line and column
            start = partial.get("offset", 0) if partial.get("sha256") == digest else 0
            for offset in range(start, len(rows), BATCH_SIZE):
                chunk = rows[offset : offset + BATCH_SIZE]
                next_offset = offset + len(chunk)
                records = [
                    RawRecord(
                        data={"file": str(path), "line": row.line, "cells": row.cells},
                        origin=Origin(file=str(path), line=row.line),
                    )
                    for row in chunk
                ]
                yield Batch(
                    records,
                    cursor={
                        "files": done,
                        "partial": {"file": str(path), "sha256": digest, "offset": next_offset},
                    },
                )
            if settings.snapshot:
                present = frozenset(self._identity(reader, row) for row in rows)
                yield Snapshot(entity=spec.mapping.entity, present=present)  # type: ignore[arg-type]
            done = {**done, str(path): digest}
            partial = {}
            yield Batch([], cursor={"files": done, "partial": None})

    def _identity(self, reader: TabularReader, row: Row) -> str:
        rule = reader.spec.fields["external_id"]
        return str(convert(reader.raw_value(row, "external_id", rule), rule, reader.layout, None))

    # -- write-back ------------------------------------------------------------------------------

    def _writeback(self) -> CsvWriteback:
        settings = self.settings.writeback
        if settings is None:
            raise ConfigError(
                f"source {self.source.name} has no [sources.settings.writeback]", key="writeback"
            )
        if settings.stream not in self.settings.streams:
            raise ConfigError(
                f"writeback.stream {settings.stream!r} is not a stream of source {self.source.name}; "
                f"streams: {', '.join(self.settings.streams)}",
                key="writeback.stream",
            )
        files = self._files(settings.stream)
        if not files:
            raise ConfigError(f"no export file for stream {settings.stream!r} to write back against")
        actions = self.source.resolve_path(settings.actions_output) if settings.actions_output else None
        return CsvWriteback(
            settings,
            self._mapping(settings.stream),
            files[-1],
            self.source.resolve_path(settings.output),
            actions,
        )

    def read_current(self, changes: Sequence[FieldChange | ActionChange]) -> dict[str, Observed]:
        return self._writeback().read_current(changes)

    def write(self, changes: Sequence[FieldChange | ActionChange]) -> None:
        self._writeback().write(changes)

    def to_canonical(self, stream: StreamSpec, raw: RawRecord) -> Record:
        if isinstance(raw.data, Record):
            return raw.data
        path = str(raw.data["file"])
        reader = self._readers.get(path) or TabularReader(self._mapping(stream.name), Path(path))
        try:
            return reader.to_record(Row(int(raw.data["line"]), list(raw.data["cells"])))
        except MappingError as exc:
            raise SkippableRecord(exc.reason, file=path, line=exc.line) from None
        except ParseError as exc:
            raise SkippableRecord(exc.reason, file=path, line=exc.line) from None
