"""The dunning commands on the demo company: plan, run, history, pauses, promises, payment plans,
tasks, previews, dossiers, templates and policies; and the demo's dunning stage."""

from __future__ import annotations

import csv
import json
import shutil

import click
import pytest

from erp_recovery.cli.dunning import dunning
from erp_recovery.cli.main import main


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    folder = tmp_path_factory.mktemp("demo")
    assert main(["--db", str(folder / "erp-recovery-demo.sqlite"), "--quiet", "demo"]) == 0
    return folder


@pytest.fixture
def copy(demo, tmp_path):
    """A copy of the demo folder for tests that change it."""
    target = tmp_path / "demo"
    shutil.copytree(demo, target, ignore=shutil.ignore_patterns("*.locks"))
    return target


def run(capsys, folder, *args):
    capsys.readouterr()
    code = main(["--config", str(folder / "erp-recovery-demo.toml"), *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_every_dunning_command_has_help_with_an_example():
    for name, command in dunning.commands.items():
        with click.Context(command, info_name=name) as context:
            text = command.get_help(context)
        assert "Example:" in text and f"erp-recovery dunning {name}" in text, name


def test_the_demo_writes_the_plan_letters_and_a_dossier(demo, capsys):
    folder = demo / "erp-recovery-demo-dunning"
    plan = (folder / "plan-2026-11-20.txt").read_text("utf-8")
    assert plan.startswith("Dunning plan of demo for 2026-11-20")
    assert "C004 FA2026-0011: dispute — disputed in the ERP" in plan
    assert "Replayed history from 2026-08-10" in plan
    letters = sorted(p.name for p in folder.glob("*.pdf"))
    # The demo bank statement pays several invoices (matched before dunning), so 4 letters remain.
    assert "C012-2026-11-16-formal_notice.pdf" in letters and len(letters) == 4
    assert all((folder / name).read_bytes().startswith(b"%PDF-") for name in letters)
    dossier = json.loads((folder / "dossier-C012" / "dossier.json").read_text("utf-8"))
    assert dossier["formal_notice"]["date"] == "2026-11-02"
    steps = (demo / "erp-recovery-demo-outbox" / "dunning-steps.csv").read_text("utf-8")
    assert "dunning:demo:C012:2026-11-16" in steps


def test_running_the_demo_again_records_nothing_new(copy, capsys):
    database = copy / "erp-recovery-demo.sqlite"
    capsys.readouterr()
    assert main(["--db", str(database), "--json", "demo"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["dunning"]["recorded"] == 0 and result["dunning"]["replayed"] == 24


def test_history_plan_and_json(demo, capsys):
    code, out, _ = run(capsys, demo, "--json", "dunning", "history", "C012")
    assert code == 0
    history = json.loads(out)
    assert [c["level"] for c in history["communications"]][-2:] == ["formal_notice", "escalation"]
    code, out, _ = run(
        capsys, demo, "--json", "dunning", "plan", "--as-of", "2026-11-23", "--customer", "Hôtel du Parc"
    )
    plan = json.loads(out)
    assert [(c["customer"], c["level"]) for c in plan["communications"]] == [("C003", "courtesy")]
    assert plan["cases"][0]["customer"] == "C003"
    code, out, _ = run(capsys, demo, "dunning", "plan", "--as-of", "2026-11-23")
    assert (
        code == 0
        and "To send today" in out
        and "Hôtel du Parc SA (C003): Rappel avant échéance by email" in out
    )


def test_pause_and_resume(copy, capsys):
    code, out, _ = run(
        capsys,
        copy,
        "dunning",
        "pause",
        "C003",
        "--until",
        "2026-12-15",
        "--reason",
        "négociation",
        "--as-of",
        "2026-11-20",
    )
    assert code == 0 and "until 2026-12-15" in out
    code, out, _ = run(
        capsys, copy, "--json", "dunning", "plan", "--as-of", "2026-11-23", "--customer", "C003"
    )
    plan = json.loads(out)
    assert plan["communications"] == [] and {h["kind"] for h in plan["held"]} == {"hold"}
    assert plan["cases"][0]["state"] == "paused"
    code, out, _ = run(capsys, copy, "dunning", "resume", "C003", "--as-of", "2026-11-23")
    assert code == 0 and "1 pause(s)" in out
    code, out, _ = run(
        capsys, copy, "--json", "dunning", "plan", "--as-of", "2026-11-23", "--customer", "C003"
    )
    assert [c["level"] for c in json.loads(out)["communications"]] == ["courtesy"]


def test_payment_plan_and_promise(copy, capsys):
    code, out, _ = run(
        capsys,
        copy,
        "dunning",
        "payment-plan",
        "C012",
        "--count",
        "3",
        "--first",
        "2026-12-15",
        "--as-of",
        "2026-11-20",
    )
    assert (
        code == 0
        and "ECH-1" in out
        and "2026-12-15 4188.97 EUR, 2027-01-15 4188.97 EUR, 2027-02-15 4188.96 EUR" in out
    )
    code, out, _ = run(
        capsys, copy, "--json", "dunning", "plan", "--as-of", "2026-12-10", "--customer", "C012"
    )
    plan = json.loads(out)
    assert {h["kind"] for h in plan["held"]} == {"payment_plan"}
    assert [(c["level"], [i["number"] for i in c["items"]]) for c in plan["communications"]] == [
        ("courtesy", ["ECH-1 1/3"])
    ]
    code, out, _ = run(capsys, copy, "dunning", "payment-plan", "C012", "--cancel", "1")
    assert code == 0 and "cancelled" in out
    code, out, err = run(
        capsys,
        copy,
        "dunning",
        "promise",
        "C010",
        "--date",
        "2026-12-04",
        "--amount",
        "abc",
        "--as-of",
        "2026-11-20",
    )
    assert code == 2 and "not an amount" in err
    code, out, _ = run(
        capsys, copy, "dunning", "promise", "C010", "--date", "2026-12-04", "--as-of", "2026-11-20"
    )
    assert code == 0 and "17093.25 EUR by 2026-12-04" in out
    code, out, _ = run(
        capsys, copy, "--json", "dunning", "plan", "--as-of", "2026-11-23", "--customer", "C010"
    )
    assert {h["kind"] for h in json.loads(out)["held"]} == {"promise"}


def test_run_without_smtp_keeps_emails_waiting_and_lists_tasks(copy, capsys):
    code, out, _ = run(capsys, copy, "--json", "dunning", "run", "--as-of", "2026-11-23")
    assert code == 0
    result = json.loads(out)
    assert result["counts"]["communications"] == 3
    assert any("no [smtp] server configured" in note for note in result["notes"])
    code, out, _ = run(capsys, copy, "--json", "dunning", "run", "--as-of", "2026-11-23")
    assert json.loads(out)["counts"]["communications"] == 0
    code, out, _ = run(capsys, copy, "--json", "dunning", "tasks")
    assert code == 0 and isinstance(json.loads(out), list)
    code, out, _ = run(capsys, copy, "dunning", "history")
    assert code == 0 and "Actions (trace)" in out


def test_preview_dossier_templates_and_policies(copy, capsys, tmp_path):
    code, out, _ = run(
        capsys,
        copy,
        "dunning",
        "preview",
        "C012",
        "--level",
        "formal_notice",
        "--out",
        str(tmp_path / "fn.pdf"),
        "--as-of",
        "2026-11-20",
    )
    assert code == 0 and (tmp_path / "fn.pdf").read_bytes().startswith(b"%PDF-")
    code, out, _ = run(
        capsys, copy, "dunning", "preview", "C012", "--out", str(tmp_path / "fn.html"), "--level", "reminder"
    )
    assert "Relance" in (tmp_path / "fn.html").read_text("utf-8")
    code, out, err = run(
        capsys, copy, "dunning", "preview", "C012", "--level", "escalation", "--out", str(tmp_path / "x.pdf")
    )
    assert code == 2 and "dunning dossier" in err
    code, out, _ = run(
        capsys,
        copy,
        "dunning",
        "dossier",
        "C012",
        "--agency",
        "--out",
        str(tmp_path / "agency"),
        "--as-of",
        "2026-11-20",
    )
    assert code == 0
    [folder] = list((tmp_path / "agency").iterdir())
    rows = list(csv.DictReader((folder / "handover.csv").open(encoding="utf-8"), delimiter=";"))
    # FA2026-0039 is paid by the demo bank statement (matched automatically): not handed over.
    assert sorted(r["invoice_number"] for r in rows) == [
        "FA2026-0036",
        "FA2026-0037",
        "FA2026-0038",
    ]
    assert {r["debtor_siren"] for r in rows} == {"512345604"}
    assert {r["invoice_number"]: r["formal_notice_date"] for r in rows} == {
        "FA2026-0036": "2026-11-02",
        "FA2026-0037": "2026-11-16",
        "FA2026-0038": "2026-11-02",
    }
    assert json.loads((folder / "dossier.json").read_text("utf-8"))["route"] == "collection_agency"
    code, out, _ = run(capsys, copy, "dunning", "templates", "--export", str(tmp_path / "letters"))
    assert code == 0 and (tmp_path / "letters" / "fr" / "formal_notice.html.j2").is_file()
    code, out, err = run(capsys, copy, "dunning", "templates", "--export", str(tmp_path / "letters"))
    assert code == 2 and "already exists" in err
    code, out, _ = run(capsys, copy, "--json", "dunning", "policies")
    assert json.loads(out)["default"] == "fr_b2b"
    code, out, _ = run(capsys, copy, "dunning", "policies", "--export", str(tmp_path / "p.toml"))
    assert code == 0 and (tmp_path / "p.toml").read_text("utf-8").startswith("# erp-recovery")


def test_unknown_customer_and_bad_instalment(demo, capsys):
    code, _, err = run(capsys, demo, "dunning", "history", "ZZZ")
    assert code == 2 and "no customer 'ZZZ'" in err
    code, _, err = run(capsys, demo, "dunning", "payment-plan", "C012", "--instalment", "tomorrow:10")
    assert code == 2 and "expected DATE:AMOUNT" in err
    code, _, err = run(capsys, demo, "dunning", "dispute", "C004", "FA9999", "--reason", "x")
    assert code == 2 and "has no invoice 'FA9999'" in err
