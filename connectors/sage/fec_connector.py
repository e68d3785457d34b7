"""The ``fec`` and ``sage100`` connectors: a folder of FEC files (+ optional Sage 100 exports).

Configuration::

    [[sources]]
    name = "compta"
    company = "acme"
    connector = "fec"                    # or "sage100" (same reading, plus write-back files)
    [sources.settings]
    path = "exports/*FEC*.txt"           # a file, a folder or a glob
    siren = "552100554"                  # optional: only files of this company
    mapping = "fec"                      # ledger rules (mappings/fec.toml or your copy)
    # Sage 100 exports, each read through a mapping of mappings/ (all optional):
    tiers = "exports/tiers.csv"          # customers: credit limit, risk code, terms, SIREN...
    echeancier = "exports/echeancier.csv"   # due dates of open items
    balance_agee = "exports/balance_agee.csv"  # cross-check of customer balances

**Incremental re-import.** The cursor holds each file's SHA-256. A file already imported is skipped;
a newer FEC of the same fiscal year (same SIREN and closing date) is derived again in full and the
store keeps what changed; invoices, payments and allocations of that fiscal year that are no longer
in it are marked deleted (snapshot with ``scope`` = ``<SIREN>:<closing date>``). Fiscal years never
touch each other's records. One source holds one company: files of several SIRENs in one source are
refused unless ``siren`` picks one.

A malformed FEC is rejected as a whole before anything of it is stored (see :mod:`.fec_reader`).
"""

from __future__ import annotations

import gc
import glob
import logging
import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from erp_recovery.connectors.sage.drafts import LEDGER_STREAM, Draft, build_draft, validated
from erp_recovery.connectors.sage.fec_derive import Derivation, derive, record_drafts
from erp_recovery.connectors.sage.fec_format import parse_file_name
from erp_recovery.connectors.sage.fec_reader import FecLedger, read_fec
from erp_recovery.connectors.sage.fec_rules import FecRules, load_rules
from erp_recovery.connectors.sage.format_sage import (
    Block,
    MpctLayout,
    SageFile,
    copy_block,
    current_values,
    load_layout,
    read_format_sage,
    render_import_file,
    set_value,
)
from erp_recovery.connectors.sage.sage100_exports import Sage100Exports, load_exports
from pydantic import Field

from erp_recovery.errors import ConfigError, MissingRecordError
from erp_recovery.fingerprints import file_sha256
from erp_recovery.model.records import EntityName, Record
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
from erp_recovery.writeback.preview import FilePreview
from erp_recovery.writeback.target import Observed

log = logging.getLogger(__name__)


class FecSettings(SourceSettings):
    #: A FEC file, a folder of them, or a glob (relative to the configuration file).
    path: str
    #: Ledger rules: a shipped mapping name or a path to your copy of ``mappings/fec.toml``.
    mapping: str = "fec"
    #: Only read files of this SIREN (the nine digits before ``FEC`` in the legal file name).
    siren: str | None = Field(default=None, pattern=r"^\d{9}$")
    #: Force an encoding instead of detecting it (``cp1252``, ``iso8859-15``...).
    encoding: str | None = None
    #: Records per stored batch.
    batch_size: int = Field(default=5000, ge=100, le=100_000)
    tiers: str | None = None
    tiers_mapping: str = "sage100_tiers"
    echeancier: str | None = None
    echeancier_mapping: str = "sage100_echeancier"
    balance_agee: str | None = None
    balance_agee_mapping: str = "sage100_balance_agee"


class FecConnector(Connector):
    """Receivables from the legal FEC export of any French accounting package."""

    name = "fec"
    description = "FEC (Fichier des Écritures Comptables) files, with optional Sage 100 exports"
    settings_model = FecSettings
    settings: FecSettings

    def __init__(self, source: Any, settings: FecSettings) -> None:
        super().__init__(source, settings)
        self._rules: FecRules | None = None

    # -- configuration -----------------------------------------------------------------------------

    @property
    def rules(self) -> FecRules:
        if self._rules is None:
            mapping = self.settings.mapping
            if "/" in mapping or mapping.endswith(".toml"):
                mapping = str(self.source.resolve_path(mapping))
            self._rules = load_rules(mapping)
        return self._rules

    def streams(self) -> Sequence[StreamSpec]:
        return [LEDGER_STREAM]

    def fec_files(self) -> list[Path]:
        """FEC files under ``path``, oldest fiscal year first."""
        target = self.source.resolve_path(self.settings.path)
        if target.is_dir():
            candidates = [p for p in target.iterdir() if p.is_file() and "fec" in p.name.lower()]
        else:
            candidates = [Path(match) for match in glob.glob(str(target))]
        files = [path for path in candidates if path.is_file()]

        def order(path: Path) -> tuple[str, str, float, str]:
            named = parse_file_name(path.name)
            return (named.siren or "", named.fiscal_year or "", path.stat().st_mtime, path.name)

        return sorted(files, key=order)

    def check(self) -> str:
        files = self.fec_files()
        return f"{len(files)} FEC file(s) under {self.settings.path}"

    def _exports(self) -> Sage100Exports:
        settings = self.settings
        return load_exports(
            tiers=self.source.resolve_path(settings.tiers) if settings.tiers else None,
            tiers_mapping=settings.tiers_mapping,
            echeancier=self.source.resolve_path(settings.echeancier) if settings.echeancier else None,
            echeancier_mapping=settings.echeancier_mapping,
            balance_agee=self.source.resolve_path(settings.balance_agee) if settings.balance_agee else None,
            balance_agee_mapping=settings.balance_agee_mapping,
            base_dir=self.source.base_dir,
            currency=self.rules.ledger.currency,
        )

    def _select(self, files: list[Path]) -> tuple[list[Path], list[Notice]]:
        """One file per fiscal year (the newest), of one company."""
        notices: list[Notice] = []
        wanted = self.settings.siren
        by_year: dict[tuple[str, str], Path] = {}
        for path in files:
            named = parse_file_name(path.name)
            if wanted and named.siren != wanted:
                notices.append(Notice(f"{path.name} skipped: not SIREN {wanted}", level="info"))
                continue
            key = (named.siren or "", named.fiscal_year or path.name)
            if key in by_year:
                notices.append(
                    Notice(f"{by_year[key].name} skipped: {path.name} is a newer FEC of the same fiscal year")
                )
            by_year[key] = path
        sirens = sorted({siren for siren, _ in by_year if siren})
        if len(sirens) > 1:
            raise ConfigError(
                f"FEC files of several companies under {self.settings.path} (SIREN {', '.join(sirens)}); "
                "set `siren` to pick one (one source per company keeps them apart)",
                key=f"sources[{self.source.name}].settings.siren",
            )
        return list(by_year.values()), notices

    # -- reading -------------------------------------------------------------------------------------

    def read(self, stream: StreamSpec, cursor: Cursor | None) -> Iterator[Batch | Snapshot | Notice]:
        done: dict[str, str] = dict((cursor or {}).get("files", {}))
        files, notices = self._select(self.fec_files())
        yield from notices
        if not files:
            yield Notice(f"no FEC file under {self.settings.path}", level="info")
            return
        exports = self._exports()
        yield from exports.notices
        exports_changed = (cursor or {}).get("exports") != exports.digest
        customers_sent: set[str] = set()
        if exports_changed and exports.customers:
            # Customers of the tiers export, including those without entries in any FEC.
            customers_sent.update(exports.customers)
            yield Batch([RawRecord(record) for record in exports.customers.values()])
        for path in files:
            digest = file_sha256(path)
            if done.get(path.name) == digest and not exports_changed:
                continue
            yield from self._read_file(path, exports, customers_sent)
            done = {**done, path.name: digest}
            yield Batch([], cursor={"files": done, "exports": exports.digest})

    def _read_file(
        self, path: Path, exports: Sage100Exports, customers_sent: set[str]
    ) -> Iterator[Batch | Snapshot | Notice]:
        # The ledger and its derivation are acyclic, long-lived and numerous, and the records
        # built from them (and the store's work on each batch) are short-lived acyclic garbage
        # that reference counting frees: the cyclic collector would only re-scan the ledger over
        # and over (a third of the read, 3% of the whole import). It stays off until the file is
        # stored; cycles made meanwhile are collected once it is back on.
        gc_was_enabled = gc.isenabled()
        gc.disable()
        try:
            ledger = read_fec(path, self.rules, encoding=self.settings.encoding)
            derivation = derive(ledger, self.rules)
            yield from self._yield(ledger, derivation, exports, customers_sent)
        finally:
            if gc_was_enabled:
                gc.enable()

    def _yield(
        self, ledger: FecLedger, derivation: Derivation, exports: Sage100Exports, customers_sent: set[str]
    ) -> Iterator[Batch | Snapshot | Notice]:
        origin = Origin(file=str(ledger.path))
        for warning in ledger.warnings:
            yield Notice(warning, level="info", origin=origin)
        if derivation.unmatched_lettered_lines:
            yield Notice(
                f"{derivation.unmatched_lettered_lines} lettered line(s) settle nothing in this file "
                "(lettered with entries of another fiscal year)",
                level="info",
                origin=origin,
            )
        yield from exports.cross_check(derivation)
        due_date = exports.due_date_resolver(self.rules.due_dates.default_days)
        present: dict[EntityName, set[str]] = {"invoice": set(), "payment": set(), "allocation": set()}
        drafts: list[Draft] = []
        size = self.settings.batch_size
        name = ledger.path.name
        for item in record_drafts(derivation, file_name=name, due_date=due_date, with_customers=False):
            present[item[0].entity].add(item[1]["external_id"])
            drafts.append(item)
            if len(drafts) >= size:
                yield Batch(validated(drafts, name))
                drafts = []
        batch = validated(drafts, name)
        for customer_id, facts in derivation.customers.items():
            if customer_id in customers_sent:
                continue
            record = exports.customer_record(facts)
            batch.append(RawRecord(record, origin=Origin(file=name, record_id=customer_id)))
        if batch:
            yield Batch(batch)
        for entity, ids in present.items():
            yield Snapshot(entity=entity, present=frozenset(ids), scope=derivation.scope)

    def to_canonical(self, stream: StreamSpec, raw: RawRecord) -> Record:
        return build_draft(raw)


class Sage100Settings(FecSettings):
    #: The latest "format Sage" export of the customers (#MPCT records), from
    #: Fichier > Exporter > Format Sage: write-back re-emits these records with our fields changed.
    mpct_export: str | None = None
    #: The import file written by ``apply`` (Fichier > Importer > Format Sage in Sage 100).
    mpct_output: str = "erp-recovery-tiers-import.txt"
    #: Positions of the written fields (``mappings/sage100_mpct.toml`` or your copy).
    mpct_layout: str = "sage100_mpct"


class Sage100Connector(FecConnector):
    """Sage 100 Comptabilité: its FEC plus its tiers / échéancier / balance âgée exports, and
    write-back of credit limit, risk code, blocked and hors-relance flags as a #MPCT import file."""

    name = "sage100"
    description = (
        "Sage 100 (FR): FEC + tiers, échéancier and balance âgée exports; write-back as a #MPCT file"
    )
    settings_model = Sage100Settings
    settings: Sage100Settings
    supports_writeback = True

    def _mpct_paths(self) -> tuple[Path, Path]:
        if not self.settings.mpct_export:
            raise ConfigError(
                "write-back to Sage 100 needs the latest customer export in format Sage",
                key=f"sources[{self.source.name}].settings.mpct_export",
            )
        return (
            self.source.resolve_path(self.settings.mpct_export),
            self.source.resolve_path(self.settings.mpct_output),
        )

    def _current_blocks(self) -> tuple[SageFile, dict[str, Block], MpctLayout]:
        """Customer records as they will be in Sage: the export, overlaid by the import file
        written since (when it is newer than the export, it has not been re-exported yet)."""
        layout_name = self.settings.mpct_layout
        if "/" in layout_name or layout_name.endswith(".toml"):
            layout_name = str(self.source.resolve_path(layout_name))
        layout = load_layout(layout_name)
        export_path, output_path = self._mpct_paths()
        export = read_format_sage(export_path, layout.encoding)
        customers = export.customers()
        if output_path.exists() and output_path.stat().st_mtime >= export_path.stat().st_mtime:
            customers.update(read_format_sage(output_path, layout.encoding).customers())
        return export, customers, layout

    def read_current(self, changes: Sequence[FieldChange | ActionChange]) -> dict[str, Observed]:
        _export, customers, layout = self._current_blocks()
        observed: dict[str, Observed] = {}
        for change in changes:
            if not isinstance(change, FieldChange) or change.target.entity != "customer":
                continue
            block = customers.get(change.target.external_id)
            if block is None:
                continue
            values = current_values(block, layout)
            if change.field in values:
                observed[change.slot] = Observed(
                    value=values[change.field], where=f"#MPCT {change.target.external_id}"
                )
        return observed

    def _render(self, changes: Sequence[FieldChange | ActionChange]) -> tuple[Path, bytes, list[str], int]:
        """The import file ``write`` would write for ``changes`` (with the records written since
        the export), a line per changed field, and the number of records in it."""
        export, customers, layout = self._current_blocks()
        export_path, output_path = self._mpct_paths()
        written: dict[str, Block] = {}
        if output_path.exists() and output_path.stat().st_mtime >= export_path.stat().st_mtime:
            written = read_format_sage(output_path, layout.encoding).customers()
        details: list[str] = []
        for change in changes:
            if not isinstance(change, FieldChange):
                raise ConfigError(f"Sage 100 write-back writes fields, not actions ({change.describe()})")
            account = change.target.external_id
            block = customers.get(account)
            if block is None:
                raise MissingRecordError(f"customer {account} is not in {self.settings.mpct_export}")
            block = written.get(account) or copy_block(block)
            set_value(block, layout, change.field, change.new)  # refuses a field without a position
            index = layout.positions[change.field] - 1
            written[account] = block
            details.append(
                f"#MPCT {account} field {index + 1} ({change.field}): "
                f"{customers[account].fields[index]!r} → {block.fields[index]!r}"
            )
        blocks = list(written.values())
        return output_path, render_import_file(export.header, blocks, layout), details, len(blocks)

    def write(self, changes: Sequence[FieldChange | ActionChange]) -> None:
        output_path, content, _details, _count = self._render(changes)
        temporary = output_path.with_name(output_path.name + ".tmp")
        temporary.write_bytes(content)
        os.replace(temporary, output_path)

    def preview(self, changes: Sequence[FieldChange | ActionChange]) -> list[FilePreview]:
        """The #MPCT import file ``write`` would produce, without writing it (``apply --dry-run``)."""
        output_path, content, details, count = self._render(changes)
        return [
            FilePreview(
                path=output_path,
                content=content,
                description=f"Sage 100 'format Sage' import file, {count} #MPCT customer record(s)",
                details=tuple(details),
            )
        ]
