"""``erp-recovery plan``, ``apply`` and ``writeback history`` end to end against the Odoo stand-in."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from odoo_standin import OdooStandin
from odoo_standin.helpers import PASSWORD_ENV, SOURCE

from erp_recovery.cli.main import main


@pytest.fixture
def standin(monkeypatch: pytest.MonkeyPatch) -> Iterator[OdooStandin]:
    monkeypatch.setenv(PASSWORD_ENV, "admin")
    with OdooStandin() as server:
        yield server


@pytest.fixture
def config_file(standin: OdooStandin, tmp_path: Path) -> Path:
    path = tmp_path / "erp-recovery.toml"
    path.write_text(
        f"""
[store]
url = "{tmp_path / "store.sqlite"}"

[[companies]]
code = "acme"
name = "Acme"
base_currency = "USD"

[[sources]]
name = "{SOURCE}"
company = "acme"
connector = "odoo"
[sources.settings]
url = "{standin.url}"
database = "erp_test"
login = "admin"
password = "${{{PASSWORD_ENV}}}"
retry_wait_seconds = 0

[writeback]
owned_fields = ["credit_limit", "risk_flag", "dunning_step"]
""",
        encoding="utf-8",
    )
    return path


@pytest.fixture
def invoke(config_file: Path, capsys: pytest.CaptureFixture[str]) -> Callable[..., tuple[int, str]]:
    def run(*args: str) -> tuple[int, str]:
        code = main(["--config", str(config_file), *args])
        captured = capsys.readouterr()
        return code, captured.out + captured.err

    return run


def write_proposals(path: Path) -> Path:
    proposals = {
        "source": SOURCE,
        "created_by": "risk",
        "proposals": [
            {"target": {"source": SOURCE, "entity": "customer", "external_id": "10", "label": "Deco Addict"},
             "field": "credit_limit", "new": {"amount": "20000", "currency": "USD"},
             "reason": {"rule": "risk.limit", "explanation": "grade C"}},
            {"target": {"source": SOURCE, "entity": "customer", "external_id": "15"}, "field": "risk_flag",
             "new": "C", "reason": {"rule": "risk.grade"}},
            {"kind": "action", "target": {"source": SOURCE, "entity": "invoice", "external_id": "32"},
             "action": "dunning_step", "idempotency_key": "dunning:invoice-32:level-3",
             "params": {"level": 3, "summary": "Formal notice", "message": "Formal notice sent."},
             "reason": {"rule": "dunning.step"}},
        ],
    }  # fmt: skip
    path.write_text(json.dumps(proposals), encoding="utf-8")
    return path


def test_plan_apply_history(
    invoke: Callable[..., tuple[int, str]], standin: OdooStandin, tmp_path: Path
) -> None:
    proposals = write_proposals(tmp_path / "proposals.json")
    plan_file = tmp_path / "plan.json"
    code, output = invoke("plan", SOURCE, "--proposals", str(proposals), "--out", str(plan_file))
    assert code == 0, output
    assert "customer 10 (Deco Addict): credit_limit: 30000.00 USD → 20000.00 USD" in output
    plan = json.loads(plan_file.read_text())
    checksum = plan["checksum"]

    code, output = invoke("plan", SOURCE, "--proposals", str(proposals), "--markdown")
    assert code == 0 and "| target | field / action | current | new | reason |" in output

    code, output = invoke("apply", str(plan_file), "--checksum", "0123456789abcdef")
    assert code == 2 and "does not match" in output
    assert standin.db.records["res.partner"][10]["credit_limit"] == 30000.0

    code, output = invoke("apply", str(plan_file), "--checksum", checksum[:12])
    assert code == 0, output
    assert "succeeded" in output and "applied 3" in output
    assert standin.db.records["res.partner"][10]["credit_limit"] == 20000.0

    code, output = invoke("apply", f"plan-{checksum[:12]}", "--checksum", checksum, "--json")
    assert code == 0
    assert json.loads(output)["counts"]["already_applied"] == 3

    code, output = invoke("writeback", "history", "--json")
    runs = json.loads(output)
    assert [run["status"] for run in runs] == ["succeeded", "succeeded"]
    code, output = invoke("writeback", "history", "--run", str(runs[-1]["run_id"]), "--json")
    entries = json.loads(output)["changes"]
    assert {entry["outcome"] for entry in entries} == {"applied"} and len(entries) == 3
    code, output = invoke("writeback", "plans", "--json")
    # Plans are stamped to the second: the --markdown plan above is the same stored plan unless
    # the clock ticked between the two, and then it is listed first (newest first).
    listed = [plan["checksum"] for plan in json.loads(output)]
    assert listed[-1] == checksum and len(listed) in (1, 2)


def test_a_conflict_exits_with_one(
    invoke: Callable[..., tuple[int, str]], standin: OdooStandin, tmp_path: Path
) -> None:
    proposals = write_proposals(tmp_path / "proposals.json")
    plan_file = tmp_path / "plan.json"
    invoke("plan", SOURCE, "--proposals", str(proposals), "--out", str(plan_file))
    standin.db.write("res.partner", [10], {"credit_limit": 45000.0})
    checksum = json.loads(plan_file.read_text())["checksum"]
    code, output = invoke("apply", str(plan_file), "--checksum", checksum)
    assert code == 1
    assert "CONFLICT: customer 10 (Deco Addict)" in output
    assert standin.db.records["res.partner"][10]["credit_limit"] == 45000.0


def test_sync_and_check_from_the_cli(invoke: Callable[..., tuple[int, str]], standin: OdooStandin) -> None:
    code, output = invoke("sources", "check", SOURCE)
    assert code == 0, output
    assert "Odoo 18.0 at http://127.0.0.1" in output and "company YourCompany (USD)" in output
    code, output = invoke("sync", SOURCE, "--json")
    assert code == 0, output
    code, output = invoke("sync", SOURCE, "--json")
    assert code == 0 and '"read": 0' in output
