"""Golden tests: Sage exports → canonical records (or mapped rows), compared exactly with reviewed
``.expected.json`` files.

Fixtures (written for these tests, there is no public sample): ``sage100/`` a tiers export
(CP1252, a supplier, SIRET with spaces, code and label values, padded amount, blank line), an
échéancier (UTF-8 BOM, padded and lower-case piece numbers, two échéances for one invoice, three
date formats) and a balance âgée (trailing minus, report footer); ``sage50/`` a customer records
CSV (quoted commas, a thousands separator, credit limit 0, Payment Due Days 0, on hold, UK VAT
numbers) and an audit trail (split invoice, supplier and journal rows, receipt by extra reference,
receipt allocated oldest first, discount by reference, credit note, payment on account, receipt
before its invoice, an account missing from the customer export).

A missing golden is written when ``ERP_RECOVERY_UPDATE_GOLDENS=1`` (and only then); an existing
one is never overwritten unless that variable is ``force``. Read a new golden before committing it.
"""

from __future__ import annotations

import difflib
import json
import os
from collections import defaultdict
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from erp_recovery.connectors.sage.sage100_exports import load_exports

from erp_recovery.config import parse_config
from erp_recovery.mapping import load_mapping, mapped_rows
from erp_recovery.model.records import Allocation, Invoice, Payment, Record, canonical_json
from erp_recovery.sync.protocol import Batch, Notice, Snapshot
from erp_recovery.sync.registry import create_connector

HERE = Path(__file__).parent


def _compare(golden: Path, actual: Any) -> None:
    text = json.dumps(actual, indent=1, ensure_ascii=False, sort_keys=True, default=str) + "\n"
    update = os.environ.get("ERP_RECOVERY_UPDATE_GOLDENS", "")
    if not golden.exists() or update == "force":
        if not update:
            pytest.fail(f"no golden {golden.name}; run with ERP_RECOVERY_UPDATE_GOLDENS=1 and review it")
        golden.write_text(text, encoding="utf-8")
        return
    expected = golden.read_text(encoding="utf-8")
    if expected != text:
        diff = "".join(
            difflib.unified_diff(expected.splitlines(True), text.splitlines(True), golden.name, "actual", n=2)
        )
        pytest.fail(f"{golden.name} differs:\n{diff[:6000]}")


def test_sage100_tiers_golden() -> None:
    exports = load_exports(
        tiers=HERE / "sage100" / "tiers.csv",
        tiers_mapping="sage100_tiers",
        echeancier=None,
        echeancier_mapping="sage100_echeancier",
        balance_agee=None,
        balance_agee_mapping="sage100_balance_agee",
    )
    assert sorted(exports.customers) == ["CANCIEN", "CDUPONT", "CLEBLANC"]
    _compare(
        HERE / "sage100" / "tiers.csv.expected.json",
        [canonical_json(customer) for customer in exports.customers.values()],
    )


@pytest.mark.parametrize(
    ("name", "mapping"), [("echeancier", "sage100_echeancier"), ("balance_agee", "sage100_balance_agee")]
)
def test_sage100_row_exports_golden(name: str, mapping: str) -> None:
    path = HERE / "sage100" / f"{name}.csv"
    rows = [{"line": row.line, **values} for row, values in mapped_rows(load_mapping(mapping), path)]
    _compare(path.with_name(f"{name}.csv.expected.json"), rows)


def _sage50_read() -> tuple[list[Record], list[str], dict[str, list[str]]]:
    folder = HERE / "sage50"
    config = parse_config(
        {
            "companies": [{"code": "uk", "name": "UK Ltd", "base_currency": "GBP", "jurisdiction": "UK"}],
            "sources": [
                {
                    "name": "sage50",
                    "company": "uk",
                    "connector": "sage50",
                    "settings": {"customers": "customers.csv", "transactions": "audit_trail.csv"},
                }
            ],
        },
        path=folder / "erp-recovery.toml",
    )
    connector = create_connector(config.source("sage50"))
    stream = connector.streams()[0]
    records: list[Record] = []
    notices: list[str] = []
    snapshots: dict[str, list[str]] = {}
    for item in connector.read(stream, None):
        if isinstance(item, Batch):
            records += [connector.to_canonical(stream, raw) for raw in item.records]
        elif isinstance(item, Notice):
            notices.append(item.message)
        elif isinstance(item, Snapshot):
            snapshots[item.entity] = sorted(item.present)
    return records, notices, snapshots


def test_sage50_golden() -> None:
    records, notices, snapshots = _sage50_read()
    allocated: dict[str, Decimal] = defaultdict(Decimal)
    for record in records:
        if isinstance(record, Allocation):
            allocated[record.invoice_id] += record.amount.amount
            if record.credit_note_id:
                allocated[record.credit_note_id] += record.amount.amount
    # Without Sage's outstanding column: residual = total − allocations, never negative.
    for record in records:
        if isinstance(record, Invoice):
            assert record.residual.amount == record.total.amount - allocated[record.external_id]
            assert record.residual.amount >= 0
    # A receipt is never allocated beyond its amount.
    paid: dict[str, Decimal] = defaultdict(Decimal)
    for record in records:
        if isinstance(record, Allocation) and record.payment_id:
            paid[record.payment_id] += record.amount.amount
    for record in records:
        if isinstance(record, Payment):
            assert paid[record.external_id] <= record.amount.amount
    assert snapshots["invoice"] == sorted(r.external_id for r in records if isinstance(r, Invoice))
    _compare(
        HERE / "sage50" / "audit_trail.csv.expected.json",
        {
            "notices": notices,
            "records": [{"type": type(record).__name__, **canonical_json(record)} for record in records],
        },
    )
