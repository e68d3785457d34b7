"""The ``sage50`` connector: Sage 50 Accounts (UK) customer records and audit trail CSV exports,
and write-back of credit limits, on-hold flags (and any owned column) as a customer import CSV.

Configuration::

    [[sources]]
    name = "sage50"
    company = "acme-uk"
    connector = "sage50"
    [sources.settings]
    customers = "exports/customers.csv"        # Reports › Customers › Customer Record CSV
    transactions = "exports/audit*.csv"         # audit trail transactions CSV (a file or a glob)
    currency = "GBP"                            # the company's base currency
    default_due_days = 30                       # when neither the row nor the customer says
    allocate = "reference_then_oldest"          # or "reference", "none" (see sage50_ledger)
    customers_output = "exports/erp-recovery-customers-import.csv"   # written by apply

Both exports are read through editable mappings (``mappings/sage50_customers.toml``, a customer
mapping; ``mappings/sage50_audit_trail.toml``, a row mapping); a file that does not fit its mapping
is refused with the first offending line and column, before anything is stored.

**Incremental re-import.** The cursor holds the SHA-256 of the exports and mappings: unchanged
exports are not read again; changed ones are read in full, the store keeps what changed, and
records no longer in the exports are marked deleted (a snapshot per entity read).

**Write-back** (see :mod:`.sage50_customers`): ``read_current`` reads the customer export
(overlaid by the import file written since, while it is newer than the export); ``write`` re-emits
the complete rows of the changed accounts into ``customers_output`` with only the owned columns
changed; ``preview`` gives that file without writing it (``apply --dry-run``).
"""

from __future__ import annotations

import datetime as dt
import glob
import hashlib
import logging
import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from erp_recovery.connectors.sage.drafts import LEDGER_STREAM, build_draft
from erp_recovery.connectors.sage.sage50_customers import (
    CustomerFile,
    CustomerRow,
    WritebackLayout,
    current_values,
    load_layout,
    read_customer_file,
    render_import_file,
    set_value,
)
from erp_recovery.connectors.sage.sage50_ledger import (
    AllocationPolicy,
    DueDateResolver,
    Ledger,
    Transaction,
    derive,
    record_drafts,
)
from pydantic import Field, model_validator

from erp_recovery.errors import ConfigError, MappingError, MissingRecordError
from erp_recovery.fingerprints import update_with_file
from erp_recovery.mapping import MappingSpec, Row, load_mapping, mapped_records, mapped_rows
from erp_recovery.model.money import CurrencyCode
from erp_recovery.model.records import Customer, EntityName, PaymentTerms, Record
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
from erp_recovery.writeback.plan import ActionChange, FieldChange, render_value
from erp_recovery.writeback.preview import FilePreview
from erp_recovery.writeback.target import Observed

log = logging.getLogger(__name__)

#: Customers named in the transactions but absent from the customer export, listed in a notice.
_LISTED_UNKNOWN = 10


class Sage50Settings(SourceSettings):
    #: The latest customer records CSV (also the base of the write-back file).
    customers: str | None = None
    customers_mapping: str = "sage50_customers"
    #: Audit trail transactions CSV: a file or a glob (files are read in name order).
    transactions: str | None = None
    transactions_mapping: str = "sage50_audit_trail"
    #: The company's base currency (transactions without a currency column are in it).
    currency: CurrencyCode = "GBP"
    #: Days after the invoice date when neither the row's due date nor the customer's terms say.
    default_due_days: int = Field(default=30, ge=0, le=3650)
    allocate: AllocationPolicy = "reference_then_oldest"
    #: Records per stored batch.
    batch_size: int = Field(default=5000, ge=100, le=100_000)
    #: The import file written by ``apply`` (File › Import › Customer Records in Sage 50).
    customers_output: str = "erp-recovery-customers-import.csv"
    #: Columns of the written fields (``mappings/sage50_customers_writeback.toml`` or your copy).
    writeback_layout: str = "sage50_customers_writeback"

    @model_validator(mode="after")
    def _something_to_read(self) -> Sage50Settings:
        if not self.customers and not self.transactions:
            raise ValueError(
                "give customers (a customer records CSV), transactions (audit trail CSV), or both"
            )
        return self


class Sage50Connector(Connector):
    """Sage 50 Accounts (UK): customer records and audit trail CSV exports; write-back as a
    customer records import CSV."""

    name = "sage50"
    description = "Sage 50 (UK): customer records + audit trail CSV; write-back as a customer import CSV"
    settings_model = Sage50Settings
    settings: Sage50Settings
    supports_writeback = True

    # -- configuration -----------------------------------------------------------------------------

    def streams(self) -> Sequence[StreamSpec]:
        return [LEDGER_STREAM]

    def _mapping(self, name: str) -> MappingSpec:
        return load_mapping(name, base_dir=self.source.base_dir)

    def customers_path(self) -> Path | None:
        if not self.settings.customers:
            return None
        path = self.source.resolve_path(self.settings.customers)
        if not path.is_file():
            raise MappingError("the customer records export does not exist", file=str(path))
        return path

    def transaction_files(self) -> list[Path]:
        if not self.settings.transactions:
            return []
        pattern = self.source.resolve_path(self.settings.transactions)
        files = sorted(Path(match) for match in glob.glob(str(pattern)) if Path(match).is_file())
        if not files:
            raise MappingError("no audit trail file matches", file=str(pattern))
        return files

    def check(self) -> str:
        customers = self.customers_path()
        files = self.transaction_files()
        return (
            f"customers: {customers.name if customers else 'not configured'}; "
            f"{len(files)} audit trail file(s)"
        )

    # -- reading -------------------------------------------------------------------------------------

    def _digest(self, customers: Path | None, files: list[Path]) -> str:
        digest = hashlib.sha256()
        for path in [p for p in (customers, *files) if p is not None]:
            update_with_file(digest, path, with_name=True)
        for name in (self.settings.customers_mapping, self.settings.transactions_mapping):
            digest.update(self._mapping(name).model_dump_json().encode())
        digest.update(self.settings.model_dump_json().encode())
        return digest.hexdigest()

    def read(self, stream: StreamSpec, cursor: Cursor | None) -> Iterator[Batch | Snapshot | Notice]:
        customers_file = self.customers_path()
        files = self.transaction_files()
        digest = self._digest(customers_file, files)
        if (cursor or {}).get("digest") == digest:
            return  # unchanged since the last import
        # Everything is read and checked before the first batch: a file that does not fit its
        # mapping stores nothing.
        customers = self._customers(customers_file) if customers_file else {}
        ledger = self._ledger(files) if files else None
        notices: list[Notice] = []
        if ledger is not None:
            unknown = sorted(ledger.accounts - set(customers))
            if customers_file is not None and unknown:
                listed = ", ".join(unknown[:_LISTED_UNKNOWN]) + (
                    " ..." if len(unknown) > _LISTED_UNKNOWN else ""
                )
                notices.append(
                    Notice(
                        f"{len(unknown)} account(s) of the audit trail are not in the customer export: {listed}",
                        origin=Origin(file=str(customers_file)),
                    )
                )
        yield from notices
        batch: list[RawRecord] = []
        size = self.settings.batch_size
        present: dict[EntityName, set[str]] = {
            "customer": set(),
            "invoice": set(),
            "payment": set(),
            "allocation": set(),
        }

        def add(raw: RawRecord, entity: EntityName, external_id: str) -> Iterator[Batch]:
            nonlocal batch
            present[entity].add(external_id)
            batch.append(raw)
            if len(batch) >= size:
                yield Batch(batch)
                batch = []

        for customer in customers.values():
            line = customer.source_refs.get("line", "")
            origin = Origin(
                file=customer.source_refs.get("file"),
                line=int(line) if line.isdigit() else None,
                record_id=customer.external_id,
            )
            yield from add(RawRecord(customer, origin=origin), "customer", customer.external_id)
        if ledger is not None:
            for account in sorted(ledger.accounts - set(customers)):
                record = Customer(external_id=account, name=account, source_refs={"account": account})
                yield from add(RawRecord(record, origin=Origin(record_id=account)), "customer", account)
            due_date = self._due_date_resolver(customers)
            for draft in record_drafts(ledger, due_date=due_date):
                refs = draft["source_refs"]
                origin = Origin(
                    file=refs.get("file"),
                    line=int(refs["lines"].split(",", 1)[0]) if refs.get("lines") else None,
                    record_id=draft["external_id"],
                )
                yield from add(RawRecord(draft, origin=origin), draft.model.entity, draft["external_id"])
        if batch:
            yield Batch(batch)
        # Snapshots before the cursor: a crash in between reads the exports again next time.
        yield Snapshot(entity="customer", present=frozenset(present["customer"]))
        if ledger is not None:
            for entity in ("invoice", "payment", "allocation"):
                yield Snapshot(entity=entity, present=frozenset(present[entity]))
        yield Batch([], cursor={"digest": digest})

    def _customers(self, path: Path) -> dict[str, Customer]:
        spec = self._mapping(self.settings.customers_mapping)
        customers: dict[str, Customer] = {}
        for row, record in mapped_records(spec, path):
            if not isinstance(record, Customer):
                raise ConfigError(
                    f"mapping {self.settings.customers_mapping!r} must produce customers, not {record.entity}"
                )
            if record.external_id in customers:
                raise MappingError(
                    f"account {record.external_id} appears twice", file=str(path), line=row.line
                )
            customers[record.external_id] = record
        return customers

    def _ledger(self, files: list[Path]) -> Ledger:
        spec = self._mapping(self.settings.transactions_mapping)
        if not spec.is_row:
            raise ConfigError(
                f'mapping {self.settings.transactions_mapping!r} must have entity "row"',
                key=f"sources[{self.source.name}].settings.transactions_mapping",
            )
        spec.require("type", "account", "date", "net", origin=self.settings.transactions_mapping)

        def rows() -> Iterator[tuple[Path, Row, dict[str, Any]]]:
            for path in files:
                for row, values in mapped_rows(spec, path):
                    yield path, row, values

        return derive(rows(), currency=self.settings.currency, policy=self.settings.allocate)

    def _due_date_resolver(self, customers: dict[str, Customer]) -> DueDateResolver:
        default = dt.timedelta(days=self.settings.default_due_days)

        def resolve(doc: Transaction) -> dt.date | None:
            if doc.due_date is not None:
                return doc.due_date
            customer = customers.get(doc.account)
            terms: PaymentTerms | None = customer.payment_terms if customer is not None else None
            if terms is not None:
                return doc.date + dt.timedelta(days=terms.days)
            return doc.date + default

        return resolve

    def to_canonical(self, stream: StreamSpec, raw: RawRecord) -> Record:
        return build_draft(raw)

    # -- write-back ----------------------------------------------------------------------------------

    def _writeback_paths(self) -> tuple[Path, Path]:
        if not self.settings.customers:
            raise ConfigError(
                "write-back to Sage 50 needs the latest customer records export",
                key=f"sources[{self.source.name}].settings.customers",
            )
        return (
            self.source.resolve_path(self.settings.customers),
            self.source.resolve_path(self.settings.customers_output),
        )

    def _layout(self) -> WritebackLayout:
        name = self.settings.writeback_layout
        if "/" in name or name.endswith(".toml"):
            name = str(self.source.resolve_path(name))
        return load_layout(name)

    def _current(
        self,
    ) -> tuple[CustomerFile, dict[str, CustomerRow], dict[str, CustomerRow], WritebackLayout]:
        """The export, the rows as they will be in Sage (export overlaid by the import file written
        since, while it is newer than the export), and the rows written so far."""
        layout = self._layout()
        export_path, output_path = self._writeback_paths()
        export = read_customer_file(export_path, layout)
        rows = dict(export.rows)
        written: dict[str, CustomerRow] = {}
        if output_path.exists() and output_path.stat().st_mtime >= export_path.stat().st_mtime:
            output = read_customer_file(output_path, layout)
            if output.header == export.header:  # else written from an export of another layout
                written = output.rows
            rows.update(written)
        return export, rows, written, layout

    def read_current(self, changes: Sequence[FieldChange | ActionChange]) -> dict[str, Observed]:
        export, rows, _written, layout = self._current()
        observed: dict[str, Observed] = {}
        for change in changes:
            if not isinstance(change, FieldChange) or change.target.entity != "customer":
                continue
            row = rows.get(change.target.external_id)
            if row is None:
                continue
            values = current_values(export, row, layout)
            if change.field in values:
                observed[change.slot] = Observed(value=values[change.field], where=f"account {row.account}")
        return observed

    def _render(self, changes: Sequence[FieldChange | ActionChange]) -> tuple[Path, bytes, list[str], int]:
        export, rows, written, layout = self._current()
        _export_path, output_path = self._writeback_paths()
        details: list[str] = []
        changed = dict(written)
        for change in changes:
            if not isinstance(change, FieldChange) or change.target.entity != "customer":
                raise ConfigError(f"Sage 50 write-back writes customer fields only ({change.describe()})")
            row = rows.get(change.target.external_id)
            if row is None:
                raise MissingRecordError(
                    f"account {change.target.external_id} is not in {self.settings.customers}"
                )
            row = changed.get(row.account) or CustomerRow(row.account, list(row.cells), row.line)
            before = current_values(export, row, layout).get(change.field)
            cells_before = list(row.cells)
            set_value(export, row, layout, change.field, change.new)
            changed[row.account] = row
            rule = layout.fields[change.field]
            detail = (
                f"account {row.account}, column {rule.column!r} ({change.field}): "
                f"{render_value(before)} → {render_value(change.new)}"
            )
            if rule.status_column:
                index = export.column(rule.status_column)
                if cells_before[index] != row.cells[index]:
                    detail += (
                        f"; column {rule.status_column!r}: {cells_before[index]!r} → {row.cells[index]!r}"
                    )
            details.append(detail)
        order = {account: index for index, account in enumerate(export.rows)}
        ordered = sorted(changed.values(), key=lambda r: order.get(r.account, len(order)))
        return output_path, render_import_file(export, ordered, layout), details, len(ordered)

    def write(self, changes: Sequence[FieldChange | ActionChange]) -> None:
        output_path, content, _details, _count = self._render(changes)
        temporary = output_path.with_name(output_path.name + ".tmp")
        temporary.write_bytes(content)
        os.replace(temporary, output_path)

    def preview(self, changes: Sequence[FieldChange | ActionChange]) -> list[FilePreview]:
        output_path, content, details, count = self._render(changes)
        return [
            FilePreview(
                path=output_path,
                content=content,
                description=f"Sage 50 customer records import CSV, {count} account row(s)",
                details=tuple(details),
            )
        ]
