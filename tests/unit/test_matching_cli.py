"""``erp-recovery match``, ``review``, ``accept``, ``reject``, ``export`` on a small generated scenario
(FEC + Sage exports synced, camt.053 imported, all through the CLI)."""

from __future__ import annotations

import csv
import io
import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))

from scenario import build_scenario, write_scenario

from erp_recovery.cli.main import main


def _cli(capsys: pytest.CaptureFixture[str], config: Path, *args: str) -> str:
    capsys.readouterr()
    code = main(["--config", str(config), *args])
    out = capsys.readouterr().out
    assert code == 0, out
    return out


@pytest.fixture(scope="module")
def scenario_files(tmp_path_factory: pytest.TempPathFactory):
    folder = tmp_path_factory.mktemp("scenario")
    return write_scenario(build_scenario(3, customers=80, weeks=2), folder)


def test_match_review_accept_reject_export(capsys, scenario_files):
    config = scenario_files.config
    _cli(capsys, config, "init")
    _cli(capsys, config, "sync")
    _cli(capsys, config, "import-bank", *map(str, scenario_files.statements))

    first = json.loads(_cli(capsys, config, "--json", "match"))
    assert first["counts"]["auto"] > 0
    again = json.loads(_cli(capsys, config, "--json", "match"))
    assert again["counts"]["created"] == again["counts"]["updated"] == 0

    suggestions = json.loads(_cli(capsys, config, "match", "review", "--json"))
    assert suggestions, "the scenario yields suggestions to review"
    assert all(item["status"] == "suggested" and item["evidence"] for item in suggestions)
    accepted, rejected = suggestions[0], suggestions[-1]
    _cli(capsys, config, "match", "accept", accepted["bank_ref"], "--by", "claire")
    if rejected["bank_ref"] != accepted["bank_ref"]:
        _cli(
            capsys, config, "match", "reject", rejected["bank_ref"], "--by", "claire", "--note", "not theirs"
        )
    _cli(capsys, config, "match")  # a rerun keeps the decision
    shown = json.loads(_cli(capsys, config, "match", "show", accepted["bank_ref"], "--json"))
    assert shown["status"] == "accepted"
    assert shown["lines"] == accepted["lines"]
    history = json.loads(_cli(capsys, config, "match", "history", "--json"))
    assert {item["decision"] for item in history} <= {"accepted", "rejected"}
    assert history[-1]["decided_by"] == "claire"

    exported = _cli(capsys, config, "match", "export", "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(exported)))
    assert list(rows[0])[:5] == ["bank_ref", "invoice_number", "amount", "status", "confidence"]
    assert {row["status"] for row in rows} <= {"auto", "suggested", "accepted"}
    assert any(row["bank_ref"] == accepted["bank_ref"] and row["status"] == "accepted" for row in rows)
    # bank_ref is the camt AcctSvcrRef, + "/<TxDtls index>" for the details of a batch entry
    truth = json.loads(scenario_files.truth.read_text(encoding="utf-8"))["transactions"]
    truth_refs = {line["bank_ref"] for line in truth}
    assert {row["bank_ref"] for row in rows} <= truth_refs
    batch_refs = {line["bank_ref"] for line in truth if "/" in line["bank_ref"] and line["allocations"]}
    assert batch_refs, "this scenario has direct-debit batches"
    assert batch_refs <= {row["bank_ref"] for row in rows}


def test_bulk_accept_needs_references_or_all_suggested(capsys, scenario_files):
    code = main(["--config", str(scenario_files.config), "match", "accept"])
    assert code == 2
