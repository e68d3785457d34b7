"""The ``erp-recovery`` command: global options, command modules, and exit codes.

Exit codes: 0 ok; 1 a problem in the data or in a run (rejected records, failed sync, conflicts);
2 usage or configuration (bad option, bad config file, unknown source, unreachable database).
Errors print one actionable line; ``-v`` adds the traceback.
"""

from __future__ import annotations

import importlib
import sys
import traceback
from collections.abc import Sequence

import click

from erp_recovery import __version__
from erp_recovery.cli.context import AppContext, configure_logging
from erp_recovery.errors import ErpRecoveryError

#: Modules that add commands to the root group (each has ``register(group)``).
COMMAND_MODULES = (
    "erp_recovery.cli.core",
    "erp_recovery.cli.bank",
    "erp_recovery.cli.demo",
    "erp_recovery.cli.dunning",
    "erp_recovery.cli.match",
    "erp_recovery.cli.risk",
    "erp_recovery.cli.writeback",
    "erp_recovery.cli.pipeline",
)


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 110})
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False),
    envvar="ERP_RECOVERY_CONFIG",
    help="Configuration file (default: ./erp-recovery.toml, or $ERP_RECOVERY_CONFIG).",
)
@click.option(
    "--db",
    envvar="ERP_RECOVERY_DB",
    help="Database: a SQLite file path or a postgresql+psycopg:// URL (overrides store.url).",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts instead of tables.")
@click.option("-v", "--verbose", count=True, help="More detail (-vv for debug); shows tracebacks.")
@click.option("-q", "--quiet", is_flag=True, help="Only errors.")
@click.version_option(__version__, prog_name="erp-recovery")
@click.pass_context
def cli(
    ctx: click.Context, config_path: str | None, db: str | None, as_json: bool, verbose: int, quiet: bool
) -> None:
    """Protect your cash next to your ERP: sync receivables from Odoo, Sage/FEC and bank feeds,
    match payments, assess risk, run dunning and write decisions back.

    \b
    Example:
      erp-recovery demo                       # a demo company in ./erp-recovery-demo.sqlite
      erp-recovery --config erp-recovery.toml sync
      erp-recovery --db erp-recovery.sqlite invoices --overdue
    """
    app = ctx.ensure_object(AppContext)
    app.config_path = config_path
    app.db = db
    app.as_json = app.as_json or as_json
    app.verbosity = -1 if quiet else verbose
    configure_logging(app.verbosity, as_json=app.as_json)


def _register_commands() -> None:
    for module_name in COMMAND_MODULES:
        importlib.import_module(module_name).register(cli)


_register_commands()


def _report_error(message: str, exit_code: int, details: dict[str, object] | None, as_json: bool) -> None:
    if as_json:
        import json

        click.echo(
            json.dumps({"error": message, "exit_code": exit_code, **(details or {})}, default=str), err=True
        )
    else:
        click.echo(f"error: {message}", err=True)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script; returns (and exits with) the exit code."""
    args = list(sys.argv[1:] if argv is None else argv)
    app = AppContext()
    verbose = any(
        arg in ("-v", "--verbose") or (arg.startswith("-v") and set(arg[1:]) == {"v"}) for arg in args
    )
    try:
        result = cli.main(args=args, prog_name="erp-recovery", standalone_mode=False, obj=app)
        code = result if isinstance(result, int) else 0
    except click.exceptions.Exit as exc:
        code = exc.exit_code
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        code = 130
    except click.ClickException as exc:
        exc.show()
        code = 2 if isinstance(exc, click.UsageError) else exc.exit_code
    except ErpRecoveryError as exc:
        if verbose:
            traceback.print_exc()
        _report_error(exc.message, exc.exit_code, exc.details, app.as_json)
        code = exc.exit_code
    except KeyboardInterrupt:
        click.echo("interrupted", err=True)
        code = 130
    except Exception as exc:
        if verbose:
            traceback.print_exc()
        _report_error(
            f"unexpected {type(exc).__name__}: {exc} (run with -v for the traceback)", 1, None, app.as_json
        )
        code = 1
    return code
