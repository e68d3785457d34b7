"""The CLI as admins and cron use it: help everywhere, exit codes, one-line errors, the demo."""

from __future__ import annotations

import json
import subprocess
import sys

import click
import pytest

from erp_recovery.cli.main import cli, main


def _commands(group: click.Group, prefix: tuple[str, ...] = ()):
    for name, command in group.commands.items():
        yield (*prefix, name), command
        if isinstance(command, click.Group):
            yield from _commands(command, (*prefix, name))


ALL_COMMANDS = list(_commands(cli))


@pytest.mark.parametrize("path", [path for path, _ in ALL_COMMANDS], ids=lambda p: " ".join(p))
def test_every_command_has_help_with_an_example(path, capsys):
    assert main([*path, "--help"]) == 0
    out = capsys.readouterr().out
    assert "Example" in out, f"'erp-recovery {' '.join(path)} --help' has no example"
    assert len(out.splitlines()) > 3


def test_root_help_lists_core_commands(capsys):
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    for name in ("init", "sync", "status", "customers", "invoices", "export", "demo", "sources"):
        assert name in out


def _run(args, cwd, env=None):
    return subprocess.run(
        [sys.executable, "-m", "erp_recovery.cli", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


def test_malformed_config_is_exit_2_one_line_no_traceback(tmp_path):
    (tmp_path / "erp-recovery.toml").write_text("[store]\nurl = 3\n[[companies]]\ncode='x'\n")
    result = _run(["sync"], tmp_path)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "store.url" in lines[0]
    assert "Traceback" not in result.stderr
    verbose = _run(["-v", "sync"], tmp_path)
    assert verbose.returncode == 2 and "Traceback" in verbose.stderr


def test_unknown_source_is_exit_2(tmp_path):
    (tmp_path / "erp-recovery.toml").write_text("[[companies]]\ncode='x'\nname='X'\n")
    result = _run(["sync", "nope"], tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip() == "error: sources: unknown source 'nope'; configured sources: none"


def test_unreachable_database_is_exit_2(tmp_path):
    result = _run(["--db", "postgresql+psycopg://nobody@127.0.0.1:1/none", "status"], tmp_path)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert (
        len(lines) == 1
        and "cannot open the database postgresql+psycopg://nobody@127.0.0.1:1/none" in lines[0]
    )


def test_usage_error_is_exit_2(tmp_path):
    assert _run(["export", "nothing"], tmp_path).returncode == 2


def test_demo_twice_then_query_and_export(tmp_path):
    first = _run(["--json", "demo"], tmp_path)
    assert first.returncode == 0, first.stderr
    summary = json.loads(first.stdout)
    assert summary["sync"]["demo-books"]["created"] > 50
    second = json.loads(_run(["--json", "demo"], tmp_path).stdout)
    assert second["sync"]["demo-books"]["created"] == 0
    assert second["sync"]["demo-books"]["updated"] == 0
    assert second["receivables"] == summary["receivables"]

    config = ["--config", "erp-recovery-demo.toml"]
    status = json.loads(_run([*config, "status", "--json"], tmp_path).stdout)
    assert [run["status"] for run in status["runs"]] == ["succeeded", "succeeded"]  # demo-bank, demo-books
    overdue = json.loads(
        _run([*config, "--json", "invoices", "--overdue", "--as-of", "2026-11-20"], tmp_path).stdout
    )
    assert overdue and all(item["due_date"] < "2026-11-20" for item in overdue)
    exported = _run([*config, "export", "invoices", "--format", "csv"], tmp_path)
    assert exported.returncode == 0
    header = exported.stdout.splitlines()[0].split(",")
    assert {"company", "source", "number", "total", "total_currency", "residual"} <= set(header)
    customers = json.loads(_run([*config, "customers", "--json", "--search", "martin"], tmp_path).stdout)
    assert [c["name"] for c in customers] == ["Boulangerie Martin SARL"]
