"""``erp-recovery import-bank``: import bank statement files through the sync runner."""

from __future__ import annotations

from pathlib import Path

import click

from erp_recovery.cli.context import AppContext, json_option, pass_app
from erp_recovery.cli.core import print_run_reports
from erp_recovery.config import SourceConfig
from erp_recovery.errors import ConfigError
from erp_recovery.sync.runner import SyncRunner


@click.command("import-bank")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("--company", help="Company the account belongs to (default: the only configured company).")
@click.option(
    "--source",
    "source_name",
    default="bank-import",
    show_default=True,
    help="Source name the transactions are stored under (one per bank account feed keeps runs apart).",
)
@click.option("--strict", is_flag=True, help="Reject a file whose balances do not reconcile.")
@click.option("--force", is_flag=True, help="Import again files already imported (same content).")
@json_option
@pass_app
def import_bank(
    app: AppContext,
    files: tuple[str, ...],
    company: str | None,
    source_name: str,
    strict: bool,
    force: bool,
) -> None:
    """Import bank statement files: camt.052/053/054, MT940/MT942, OFX, CFONB 120, or ZIPs of them.

    The format is recognised from the content. Each file is checked completely before anything
    of it is stored; a file already imported (same content, any name) is skipped. Balance
    mismatches are reported and do not stop the import unless --strict. Exit code 1 when a file
    was rejected (see 'erp-recovery quarantine').

    \b
    Example:
      erp-recovery import-bank releve-2024-03.xml releves.zip
      erp-recovery import-bank --strict --company acme BNP_0324.sta
    """
    config = app.config
    if company is None:
        if len(config.companies) != 1:
            known = ", ".join(c.code for c in config.companies) or "none configured"
            raise ConfigError(f"name the company with --company (companies: {known})", key="companies")
        company = config.companies[0].code
    config.company(company)
    existing = next((source for source in config.sources if source.name == source_name), None)
    if existing is not None and existing.connector != "bank-files":
        raise ConfigError(
            f"source {source_name!r} is configured with connector {existing.connector!r}; pick another --source",
            key="sources",
        )
    source = SourceConfig(
        name=source_name,
        company=company,
        connector="bank-files",
        settings={"files": [str(Path(name).resolve()) for name in files], "strict": strict},
    )
    others = [item for item in config.sources if item.name != source_name]
    run_config = config.model_copy(update={"sources": [*others, source]})
    store = app.store()
    report = SyncRunner(store, run_config).sync(source_name, full=force)
    code = print_run_reports(app, [report])
    if code:
        raise click.exceptions.Exit(code)


def register(group: click.Group) -> None:
    group.add_command(import_bank)
