"""The risk commands on the demo company: assess, --explain, report (table, CSV, HTML), charges."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from erp_recovery.cli.main import main
from erp_recovery.store import Store
from erp_recovery.store.risk import risk_assessments


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    folder = tmp_path_factory.mktemp("demo")
    database = folder / "erp-recovery-demo.sqlite"
    assert main(["--db", str(database), "--quiet", "demo"]) == 0
    return folder


def run(capsys, demo, *args):
    code = main(["--config", str(demo / "erp-recovery-demo.toml"), *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_demo_runs_the_risk_stage_and_writes_the_html_report(demo):
    page = (demo / "erp-recovery-demo-risk.html").read_text(encoding="utf-8")
    assert "Customer risk report: Atelier Démo SAS" in page
    store = Store(str(demo / "erp-recovery-demo.sqlite"))
    with store.connect() as connection:
        assert connection.execute(select(func.count()).select_from(risk_assessments)).scalar() == 12


def test_assess_explain_gives_each_factor(capsys, demo):
    code, out, _ = run(capsys, demo, "assess", "--as-of", "2026-11-20", "--explain", "C004", "--no-save")
    assert code == 0
    assert out.startswith("Garage Lefèvre (C004) on 2026-11-20: score ")
    for name in (
        "lateness",
        "trend",
        "overdue",
        "disputes",
        "partial_broken",
        "exposure",
        "relationship",
        "external",
    ):
        assert f" {name} " in out
    assert "over_limit: exposure" in out


def test_assess_json_lists_customers_and_proposals(capsys, demo):
    code, out, _ = run(capsys, demo, "--json", "assess", "--as-of", "2026-11-20", "--no-save")
    assert code == 0
    data = json.loads(out)
    assert len(data["customers"]) == 12
    assert {c["grade"] for c in data["customers"]} <= set("ABCDE")
    assert any(p["field"] == "risk_flags" and "over_limit" in p["proposed"] for p in data["proposals"])


def test_explain_unknown_customer_is_a_usage_error(capsys, demo):
    code, _, err = run(capsys, demo, "assess", "--as-of", "2026-11-20", "--explain", "NOPE", "--no-save")
    assert code == 2
    assert "no customer 'NOPE'" in err


def test_reports_in_every_format(capsys, demo, tmp_path):
    code, out, _ = run(capsys, demo, "report", "ageing", "--as-of", "2026-11-20")
    assert code == 0 and "Aged balance at 2026-11-20" in out
    code, out, _ = run(capsys, demo, "report", "dso", "--as-of", "2026-11-20", "--format", "csv")
    assert code == 0 and out.splitlines()[0] == "month end;receivables;DSO countback;DSO simple"
    target = tmp_path / "risk.html"
    code, _, _ = run(
        capsys, demo, "report", "risk", "--as-of", "2026-11-20", "--format", "html", "-o", str(target)
    )
    assert code == 0 and target.read_text(encoding="utf-8").count('role="img"') == 4


def test_charges_refuses_a_missing_rate_then_uses_the_override(capsys, demo):
    code, out, _ = run(capsys, demo, "charges", "FA2026-0011", "--as-of", "2026-11-20")
    assert code == 0
    assert "carried forward" in out  # by default, past the table, with the assumption stated
    config = demo / "erp-recovery-demo.toml"
    strict = demo / "strict.toml"
    strict.write_text(config.read_text(encoding="utf-8") + '\n[legal]\nmissing_rates = "error"\n', encoding="utf-8")
    code = main(["--config", str(strict), "charges", "FA2026-0011", "--as-of", "2026-11-20"])
    err = capsys.readouterr().err
    assert code == 2
    assert "ecb_mro" in err and "2026-07-01" in err
    override = demo / "rates-site.toml"
    override.write_text('[series.ecb_mro]\nkind = "changes"\nvalid_until = 2026-12-31\n', encoding="utf-8")
    config = demo / "erp-recovery-demo.toml"
    with_legal = demo / "with-legal.toml"
    with_legal.write_text(
        config.read_text(encoding="utf-8") + '\n[legal]\nrates_file = "rates-site.toml"\n', encoding="utf-8"
    )
    code = main(["--config", str(with_legal), "charges", "FA2026-0011", "--as-of", "2026-11-20"])
    out = capsys.readouterr().out
    assert code == 0
    assert "Debt FA2026-0011: 2488.50 EUR including tax, due 2026-09-04" in out
    assert "12.15 %" in out and "Fixed recovery fee: 40.00 EUR" in out
