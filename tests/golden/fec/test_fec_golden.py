"""Golden tests: FEC files → canonical records, compared exactly with reviewed ``.expected.json`` files.

Inputs: the public FEC samples of ``tests/samples/fec`` (their totals are the ones
stated in ``tests/samples/MANIFEST.tsv``) and the fixtures of this folder, one per edge case.
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
from erp_recovery.connectors.sage.fec_derive import build_records, derive
from erp_recovery.connectors.sage.fec_reader import read_fec
from erp_recovery.connectors.sage.fec_rules import load_rules

from erp_recovery.model.records import Allocation, Invoice, Payment, Record, canonical_json

HERE = Path(__file__).parent
SAMPLES = HERE.parents[2] / "tests" / "samples" / "fec"
FIXTURES = sorted(HERE.glob("*FEC*.txt"))

#: Stated in shared/samples/MANIFEST.tsv (lines, total debit = total credit, lettered lines,
#: auxiliary accounts), and the entry count (distinct JournalCode + EcritureNum).
SAMPLE_TOTALS = {
    "neolegal__0000000001FEC20220831.txt": {
        "lines": 5422,
        "total": Decimal("10186219.81"),
        "lettered": 2035,
        "aux": 95,
        "entries": 2033,
    },
    "neolegal__000000000FEC20231231.txt": {
        "lines": 2102,
        "total": Decimal("1265350.82"),
        "lettered": 371,
        "aux": 45,
        "entries": 6,
    },
}


def _records(path: Path) -> tuple[Any, Any, list[Record]]:
    rules = load_rules()
    ledger = read_fec(path, rules)
    derivation = derive(ledger, rules)
    return ledger, derivation, list(build_records(derivation, file_name=path.name))


def _compare(path: Path, actual: dict[str, Any]) -> None:
    golden = HERE / f"{path.name}.expected.json"
    text = json.dumps(actual, indent=1, ensure_ascii=False, sort_keys=True) + "\n"
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


def _residual_rule(records: list[Record]) -> None:
    """Every invoice: residual = total − what is allocated to it (lettered credits)."""
    allocated: dict[str, Decimal] = defaultdict(Decimal)
    for record in records:
        if isinstance(record, Allocation):
            allocated[record.invoice_id] += record.amount.amount
        if isinstance(record, Allocation) and record.credit_note_id:
            allocated[record.credit_note_id] += record.amount.amount
    for record in records:
        if isinstance(record, Invoice):
            assert record.residual.amount == record.total.amount - allocated[record.external_id], (
                record.external_id
            )
            assert record.residual.amount >= 0


def _balances_reconcile(derivation: Any, records: list[Record]) -> None:
    """Per customer (ledger currency): open invoices − open credit notes − unallocated payments
    equals the balance of the customer's account lines."""
    paid: dict[str, Decimal] = defaultdict(Decimal)
    for record in records:
        if isinstance(record, Allocation) and record.payment_id:
            paid[record.payment_id] += record.amount.amount
    balance: dict[str, Decimal] = defaultdict(Decimal)
    for record in records:
        if isinstance(record, Invoice):
            balance[record.customer_id] += record.signed_residual.amount
        elif isinstance(record, Payment) and record.customer_id:
            balance[record.customer_id] -= record.amount.amount - paid[record.external_id]
    for customer_id, facts in derivation.customers.items():
        assert balance[customer_id] == facts.balance, customer_id


@pytest.mark.parametrize("name", sorted(SAMPLE_TOTALS))
def test_sample_totals_and_golden(name: str) -> None:
    path = SAMPLES / name
    if not path.exists():
        pytest.skip(f"shared samples not found at {SAMPLES}")
    ledger, derivation, records = _records(path)
    stated = SAMPLE_TOTALS[name]
    assert ledger.stats.lines == stated["lines"]
    assert ledger.stats.total_debit == stated["total"] == ledger.stats.total_credit
    assert ledger.stats.lettered_lines == stated["lettered"]
    assert ledger.stats.aux_accounts == stated["aux"]
    assert ledger.stats.entries == stated["entries"]
    _residual_rule(records)
    _balances_reconcile(derivation, records)
    invoices = [r for r in records if isinstance(r, Invoice)]
    _compare(
        path,
        {
            "stats": {key: str(value) for key, value in vars(ledger.stats).items()},
            "counts": {
                kind: sum(1 for r in records if type(r).__name__ == kind)
                for kind in sorted({type(r).__name__ for r in records})
            },
            "customers": {cid: str(facts.balance) for cid, facts in sorted(derivation.customers.items())},
            "invoices": [
                [r.external_id, r.kind, r.number, str(r.total.amount), str(r.residual.amount), r.status]
                for r in invoices
            ],
        },
    )


@pytest.mark.parametrize("path", FIXTURES, ids=[p.name.split("_", 1)[1] for p in FIXTURES])
def test_fixture_golden(path: Path) -> None:
    ledger, derivation, records = _records(path)
    assert ledger.stats.total_debit == ledger.stats.total_credit
    _residual_rule(records)
    if not any(r.currency != "EUR" for r in records if isinstance(r, Invoice)):
        _balances_reconcile(derivation, records)
    _compare(path, {"records": [{"type": type(r).__name__, **canonical_json(r)} for r in records]})
