"""Sage 100 and Sage 50 write-back driven end to end through ``erp-recovery plan`` / ``apply``:
the plan reads the latest customer export, ``apply --dry-run`` previews per customer and shows the
file without writing it, ``apply`` writes the import file, a customer changed in a newer export
between plan and apply is a conflict (left as Sage has it), and applying twice gives the same file."""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from erp_recovery.connectors.sage.format_sage import MPCT_FIXED_FIELDS, read_format_sage

from erp_recovery.cli.main import main
from erp_recovery.config import load_config
from erp_recovery.sync.registry import create_connector
from erp_recovery.writeback.plan import Plan
from erp_recovery.writeback.policy import WritebackPolicy
from erp_recovery.writeback.preview import dry_run, render_dry_run

FIXTURES = Path(__file__).parents[1] / "golden" / "sage" / "sage50"

Invoke = Callable[..., tuple[int, str]]


def age(path: Path, seconds: float = 120) -> None:
    """Make an export older than what is written next (Sage re-exports are compared by mtime)."""
    old = time.time() - seconds
    os.utime(path, (old, old))


def mpct(account: str, name: str, limit: str, risk: str, control: str) -> list[str]:
    """An #MPCT record of the Sage v12.25 layout (133 fields), with a bank sub-record."""
    fields = [f"{account} champ {i}" for i in range(1, MPCT_FIXED_FIELDS + 1)]
    fields[0], fields[1], fields[29], fields[32], fields[50], fields[52] = (
        account,
        name,
        limit,
        risk,
        control,
        "0",
    )
    fields[10] = ""
    return ["#MPCT", *fields, "4110000", "#MBQT", *[f"banque {i}" for i in range(21)]]


def write_mpct(path: Path, c1_limit: str = "1000,00") -> None:
    lines = [
        "#FLG 000",
        "#VER 31",
        "#DEV EUR",
        *mpct("C1", "CLIENT UN", c1_limit, "1", "0"),
        *mpct("C2", "CLIENT DEUX", "0,00", "3", "1"),
        "#FIN",
    ]
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("cp850"))


CONFIG = """
[store]
url = "sqlite:///{store}"
[[companies]]
code = "acme"
name = "ACME"
[[sources]]
name = "{source}"
company = "acme"
connector = "{connector}"
[sources.settings]
{settings}
[writeback]
owned_fields = ["credit_limit", "blocked", "risk_code"]
"""


def make_invoke(
    tmp_path: Path, source: str, connector: str, settings: str, capsys: pytest.CaptureFixture[str]
) -> Invoke:
    config = tmp_path / "erp-recovery.toml"
    config.write_text(
        CONFIG.format(store=tmp_path / "store.sqlite", source=source, connector=connector, settings=settings),
        encoding="utf-8",
    )

    def run(*args: str) -> tuple[int, str]:
        code = main(["--config", str(config), *args])
        captured = capsys.readouterr()
        return code, captured.out + captured.err

    return run


def proposal(source: str, account: str, field: str, new: object) -> dict[str, object]:
    return {
        "target": {"source": source, "entity": "customer", "external_id": account},
        "field": field,
        "new": new,
        "reason": {"rule": "risk.limit", "explanation": "test"},
    }


def make_plan(
    invoke: Invoke, tmp_path: Path, source: str, proposals: list[dict[str, object]]
) -> tuple[Path, str, str]:
    proposals_file = tmp_path / "proposals.json"
    proposals_file.write_text(json.dumps({"source": source, "proposals": proposals}), encoding="utf-8")
    plan_file = tmp_path / "plan.json"
    code, output = invoke("plan", source, "--proposals", str(proposals_file), "--out", str(plan_file))
    assert code == 0, output
    return plan_file, json.loads(plan_file.read_text())["checksum"], output


def history_runs(invoke: Invoke) -> list[dict[str, object]]:
    code, output = invoke("writeback", "history", "--json")
    assert code == 0, output
    runs: list[dict[str, object]] = json.loads(output)
    return runs


# -- Sage 100 --------------------------------------------------------------------------------------


@pytest.fixture
def sage100(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Invoke:
    (tmp_path / "fec").mkdir()
    write_mpct(tmp_path / "tiers.txt")
    age(tmp_path / "tiers.txt")
    settings = 'path = "fec"\nmpct_export = "tiers.txt"\nmpct_output = "import.txt"'
    return make_invoke(tmp_path, "sage", "sage100", settings, capsys)


SAGE100_PROPOSALS = [
    proposal("sage", "C1", "credit_limit", {"amount": "2500", "currency": "EUR"}),
    proposal("sage", "C2", "blocked", True),
    proposal("sage", "C2", "risk_code", "4"),
]


def test_sage100_dry_run_previews_per_customer_and_writes_nothing(sage100: Invoke, tmp_path: Path) -> None:
    plan_file, checksum, output = make_plan(sage100, tmp_path, "sage", SAGE100_PROPOSALS)
    assert "customer C1: credit_limit: 1000.00 EUR → 2500.00 EUR" in output
    assert "customer C2: blocked: no → yes" in output
    code, output = sage100(
        "apply",
        str(plan_file),
        "--checksum",
        checksum,
        "--dry-run",
        "--preview-dir",
        str(tmp_path / "preview"),
    )
    assert code == 0, output
    assert "DRY RUN, nothing written" in output and "would write 3" in output
    assert "customer C1:\n    credit_limit: 1000.00 EUR → 2500.00 EUR   [would write]" in output
    assert (
        "customer C2:\n    blocked: no → yes   [would write]\n    risk_code: 3 → 4   [would write]" in output
    )
    assert f"would write {tmp_path / 'import.txt'}: Sage 100 'format Sage' import file, 2 #MPCT" in output
    assert "#MPCT C1 field 30 (credit_limit): '1000,00' → '2500,00'" in output
    assert "#MPCT C2 field 51 (blocked): '1' → '2'" in output
    assert not (tmp_path / "import.txt").exists()
    preview = read_format_sage(tmp_path / "preview" / "import.txt").customers()
    assert preview["C1"].fields[29] == "2500,00" and preview["C2"].fields[50] == "2"
    assert history_runs(sage100) == []
    code, output = sage100("apply", str(plan_file), "--checksum", checksum, "--dry-run", "--json")
    report = json.loads(output)
    assert report["dry_run"] is True and report["counts"]["would_write"] == 3
    assert report["files"][0]["details"][0].startswith("#MPCT C1 field 30")


def test_sage100_apply_conflict_and_apply_twice(sage100: Invoke, tmp_path: Path) -> None:
    plan_file, checksum, _ = make_plan(sage100, tmp_path, "sage", SAGE100_PROPOSALS)
    # Between plan and apply, someone raises C1's limit in Sage and re-exports.
    write_mpct(tmp_path / "tiers.txt", c1_limit="1500,00")
    age(tmp_path / "tiers.txt", 60)
    code, output = sage100("apply", str(plan_file), "--checksum", checksum)
    assert code == 1, output
    assert "CONFLICT: customer C1 credit_limit: 1000.00 EUR → 2500.00 EUR" in output
    assert "now {'amount': '1500.00', 'currency': 'EUR'}" in output
    written = (tmp_path / "import.txt").read_bytes()
    records = read_format_sage(tmp_path / "import.txt").customers()
    assert list(records) == ["C2"]  # C1 left as Sage has it: not in the import file
    export = read_format_sage(tmp_path / "tiers.txt").customers()["C2"]
    changed = {
        i + 1 for i, (a, b) in enumerate(zip(export.fields, records["C2"].fields, strict=True)) if a != b
    }
    assert changed == {33, 51}
    assert records["C2"].children[0].fields == export.children[0].fields

    code, output = sage100("apply", str(plan_file), "--checksum", checksum, "--json")
    assert code == 1
    assert json.loads(output)["counts"] == {
        "applied": 0, "already_applied": 2, "conflict": 1, "not_owned": 0, "failed": 0, "skipped": 0,
    }  # fmt: skip
    assert (tmp_path / "import.txt").read_bytes() == written


def test_sage100_apply_twice_gives_the_same_file(sage100: Invoke, tmp_path: Path) -> None:
    plan_file, checksum, _ = make_plan(sage100, tmp_path, "sage", SAGE100_PROPOSALS)
    code, output = sage100("apply", str(plan_file), "--checksum", checksum)
    assert code == 0 and "applied 3" in output, output
    first = (tmp_path / "import.txt").read_bytes()
    assert first.startswith(b"#FLG 000\r\n#VER 31\r\n#DEV EUR\r\n#MPCT\r\nC1\r\n") and first.endswith(
        b"#FIN\r\n"
    )
    code, output = sage100("apply", str(plan_file), "--checksum", checksum)
    assert code == 0 and "already applied 3" in output, output
    assert (tmp_path / "import.txt").read_bytes() == first
    assert [run["status"] for run in history_runs(sage100)] == ["succeeded", "succeeded"]


# -- Sage 50 ---------------------------------------------------------------------------------------


@pytest.fixture
def sage50(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Invoke:
    shutil.copy(FIXTURES / "customers.csv", tmp_path / "customers.csv")
    age(tmp_path / "customers.csv")
    settings = 'customers = "customers.csv"\ncustomers_output = "import.csv"'
    return make_invoke(tmp_path, "uk", "sage50", settings, capsys)


SAGE50_PROPOSALS = [
    proposal("uk", "ABB001", "credit_limit", {"amount": "7500", "currency": "GBP"}),
    proposal("uk", "BRI002", "blocked", False),
    proposal("uk", "CAR003", "risk_code", "C"),
]


def rows(path: Path) -> tuple[list[str], dict[str, dict[str, str]]]:
    reader = csv.reader(io.StringIO(path.read_bytes().decode("cp1252"), newline=""))
    header = next(reader)
    return header, {cells[0]: dict(zip(header, cells, strict=True)) for cells in reader}


def test_sage50_dry_run_previews_per_customer_and_writes_nothing(sage50: Invoke, tmp_path: Path) -> None:
    plan_file, checksum, output = make_plan(sage50, tmp_path, "uk", SAGE50_PROPOSALS)
    assert "customer ABB001: credit_limit: 5000.00 GBP → 7500.00 GBP" in output
    assert "customer BRI002: blocked: yes → no" in output
    assert "customer CAR003: risk_code: (none) → C" in output
    code, output = sage50(
        "apply",
        str(plan_file),
        "--checksum",
        checksum,
        "--dry-run",
        "--preview-dir",
        str(tmp_path / "preview"),
    )
    assert code == 0, output
    assert "customer ABB001:\n    credit_limit: 5000.00 GBP → 7500.00 GBP   [would write]" in output
    assert "Sage 50 customer records import CSV, 3 account row(s)" in output
    assert (
        "account BRI002, column 'On Hold' (blocked): yes → no; column 'Account Status': '3' → '0'" in output
    )
    assert not (tmp_path / "import.csv").exists()
    _, preview = rows(tmp_path / "preview" / "import.csv")
    assert preview["BRI002"]["On Hold"] == "0" and preview["BRI002"]["Account Status"] == "0"
    assert history_runs(sage50) == []


def test_sage50_apply_writes_complete_rows_conflicts_and_twice(sage50: Invoke, tmp_path: Path) -> None:
    plan_file, checksum, _ = make_plan(sage50, tmp_path, "uk", SAGE50_PROPOSALS)
    # Between plan and apply, a person fills in CAR003's Analysis 3 in Sage and re-exports.
    text = (tmp_path / "customers.csv").read_bytes().decode("cp1252")
    before = (
        "CAR003,Carlisle Motors,The Garage,Botchergate,Carlisle,Cumbria,CA1 1QS,,01228 496 000,,Trade,North,,"
    )
    text = text.replace(before, before[:-1] + "B,")
    (tmp_path / "customers.csv").write_bytes(text.encode("cp1252"))
    age(tmp_path / "customers.csv", 60)
    code, output = sage50("apply", str(plan_file), "--checksum", checksum)
    assert code == 1, output
    assert "CONFLICT: customer CAR003 risk_code: (none) → C" in output and "now 'B'" in output
    header, written = rows(tmp_path / "import.csv")
    export_header, export = rows(tmp_path / "customers.csv")
    assert header == export_header and list(written) == ["ABB001", "BRI002"]
    differences = {
        account: {
            name: (export[account][name], value)
            for name, value in row.items()
            if export[account][name] != value
        }
        for account, row in written.items()
    }
    assert differences == {
        "ABB001": {"Credit Limit": ("5000.00", "7500.00")},
        "BRI002": {"On Hold": ("1", "0"), "Account Status": ("3", "0")},
    }
    first = (tmp_path / "import.csv").read_bytes()
    assert first.count(b"\r\n") == 3 and b'"Unit 4, Kingsway"' in first

    code, output = sage50("apply", str(plan_file), "--checksum", checksum, "--json")
    assert json.loads(output)["counts"]["already_applied"] == 2
    assert (tmp_path / "import.csv").read_bytes() == first


def test_dry_run_reports_a_plan_apply_would_refuse(sage100: Invoke, tmp_path: Path) -> None:
    plan_file, checksum, _ = make_plan(sage100, tmp_path, "sage", SAGE100_PROPOSALS)
    plan = Plan.from_json(plan_file.read_text(encoding="utf-8"))
    connector = create_connector(load_config(tmp_path / "erp-recovery.toml").source("sage"))
    policy = WritebackPolicy(owned_fields=("credit_limit", "blocked"), max_share=0.2, min_population=1)
    report = dry_run(plan, connector, checksum=checksum, policy=policy, population={"customer": 2})
    assert report.refused is not None and "re-run with --force" in report.refused
    assert report.counts() == {"would_write": 2, "already_applied": 0, "conflict": 0, "not_owned": 1}
    assert "REFUSED without --force: the plan changes 2 of 2 customer records" in render_dry_run(report)
    forced = dry_run(
        plan, connector, checksum=checksum, policy=policy, population={"customer": 2}, force=True
    )
    assert forced.refused is None
    assert not (tmp_path / "import.txt").exists()
