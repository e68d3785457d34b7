"""``erp-recovery demo``: the one command that shows a newcomer what the tool does."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from erp_recovery.cli.context import AppContext, json_option, pass_app
from erp_recovery.demo import DEMO_AS_OF, DEMO_COMPANY, STAGES, StageContext, demo_config
from erp_recovery.store import Store

DEFAULT_DEMO_DB = "erp-recovery-demo.sqlite"


@click.command()
@click.option(
    "--path",
    "database",
    type=click.Path(dir_okay=False),
    default=DEFAULT_DEMO_DB,
    show_default=True,
    help="SQLite file of the demo (created on first use; a configuration is written beside it).",
)
@json_option
@pass_app
def demo(app: AppContext, database: str) -> None:
    """Create or refresh the demo company from bundled data and run every stage on it.

    The demo company is a French SME with a dozen customers of different payment behaviours,
    as of 2026-11-20. Running it twice changes nothing the second time (0 created, 0 updated).

    \b
    Example:
      erp-recovery demo
      erp-recovery --config erp-recovery-demo.toml invoices --overdue --as-of 2026-11-20
    """
    path = Path(app.db or database).expanduser().resolve()
    config, text = demo_config(path)
    config_file = path.with_suffix(".toml")
    if not config_file.exists() or config_file.read_text(encoding="utf-8") != text:
        config_file.write_text(text, encoding="utf-8")
    store = Store(str(path))
    store.upgrade()
    app.use_store(store)
    app.use_config(config)
    results: dict[str, Any] = {"database": str(path), "config": str(config_file)}
    echo = app.info
    context = StageContext(store=store, config=config, as_of=DEMO_AS_OF, company=DEMO_COMPANY, echo=echo)
    for name, stage in STAGES:
        echo(f"[bold]▶ {name}[/]")
        results[name] = stage(context)
        if not app.as_json:
            _print_stage(app, name, results[name])
    if app.as_json:
        app.emit_json(results)
    else:
        app.info(f"\nDemo database: {path}\nIts configuration: {config_file}")
        app.info(f"Next: erp-recovery --config {config_file.name} status")


def _print_stage(app: AppContext, name: str, result: dict[str, Any]) -> None:
    if name == "sync":
        rows = [
            [source, *(counts[k] for k in ("read", "created", "updated", "unchanged", "rejected", "deleted"))]
            for source, counts in result.items()
        ]
        app.table(None, ["source", "read", "created", "updated", "unchanged", "rejected", "deleted"], rows)
        return
    if name == "receivables":
        open_text = ", ".join(f"{v} {k}" for k, v in result["open"].items()) or "0"
        overdue_text = ", ".join(f"{v} {k}" for k, v in result["overdue"].items()) or "0"
        app.info(
            f"{result['customers']} customers, {result['invoices']} invoices, {result['credit_notes']} credit notes; "
            f"open {open_text}, overdue {overdue_text} (as of {result['as_of']})"
        )
        app.table(
            "Most overdue",
            ["customer", "name", "overdue"],
            [[t["customer"], t["name"], t["overdue"]] for t in result["top_overdue"]],
        )
        return
    if name == "match" and "proposals" in result:
        counts = result["counts"]
        app.info(
            f"{counts.get('auto', 0)} applied, {counts.get('suggested', 0)} for review, "
            f"{counts.get('unmatched', 0)} unmatched bank lines"
        )
        for line in result["proposals"]:
            app.info(f"  {line}")
        return
    summary = result.get("summary") if isinstance(result, dict) else None
    app.info(str(summary if summary is not None else result))


def register(group: click.Group) -> None:
    group.add_command(demo)
