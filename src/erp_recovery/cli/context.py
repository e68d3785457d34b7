"""What every command shares: configuration, store, output format, progress, exit codes.

Commands are a thin layer: they parse options, call the library and print. Output is a rich table
for people, or JSON with ``--json`` for scripts; progress goes to stderr and only on a terminal.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

import click
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from erp_recovery.config import AppConfig, empty_config, load_config
from erp_recovery.errors import ConfigError
from erp_recovery.logs import JsonFormatter, RedactingFilter
from erp_recovery.store import Store

F = TypeVar("F", bound=Callable[..., Any])


def json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Path):
        return str(value)
    if hasattr(value, "model_dump"):
        return value.model_dump(mode="json", exclude_none=True)
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


@dataclass
class AppContext:
    config_path: str | None = None
    db: str | None = None
    as_json: bool = False
    verbosity: int = 0
    _config: AppConfig | None = None
    _store: Store | None = None
    stdout: Console = field(default_factory=lambda: Console(soft_wrap=True))
    stderr: Console = field(default_factory=lambda: Console(stderr=True, soft_wrap=True))

    # -- configuration and store ------------------------------------------------------------------

    @property
    def config(self) -> AppConfig:
        if self._config is None:
            self._config = load_config(self.config_path)
        return self._config

    def config_or_empty(self) -> AppConfig:
        """The configuration if a file exists; commands that only need a database accept none."""
        try:
            return self.config
        except ConfigError as exc:
            if self.config_path is None and "not found" in exc.message:
                self._config = empty_config()
                return self._config
            raise

    def store(self, *, migrate: bool = False, require_current: bool = True) -> Store:
        if self._store is None:
            config = self.config_or_empty() if self.db else self.config
            self._store = Store(config.store_url(self.db))
            if migrate or (self._store.dialect == "sqlite" and self._store.current_revision() is None):
                # The embedded SQLite file is created and initialised on first use.
                self._store.upgrade()
            elif require_current:
                self._store.require_current()
        return self._store

    def use_store(self, store: Store) -> None:
        self._store = store

    def use_config(self, config: AppConfig) -> None:
        self._config = config

    # -- output ----------------------------------------------------------------------------------

    @property
    def quiet(self) -> bool:
        return self.verbosity < 0

    def emit_json(self, data: Any) -> None:
        click.echo(json.dumps(data, default=json_default, ensure_ascii=False, indent=2))

    def info(self, message: str) -> None:
        """A line for people (stderr in --json mode, so stdout stays machine-readable)."""
        if self.quiet:
            return
        (self.stderr if self.as_json else self.stdout).print(message, highlight=False)

    def warn(self, message: str) -> None:
        self.stderr.print(f"[yellow]warning:[/] {message}", highlight=False)

    def table(self, title: str | None, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
        table = Table(title=title, show_lines=False, header_style="bold")
        for column in columns:
            numeric = column.lower() in {
                "amount",
                "total",
                "residual",
                "open",
                "overdue",
                "limit",
                "count",
                "rows",
            }
            table.add_column(column, justify="right" if numeric else "left", overflow="fold")
        for row in rows:
            table.add_row(*("" if value is None else str(value) for value in row))
        self.stdout.print(table)

    @contextmanager
    def progress(self, description: str, total: int | None = None) -> Iterator[Callable[..., None]]:
        """A progress bar on stderr when it is a terminal (silent otherwise); yields ``advance(n, text)``."""
        if self.quiet or self.as_json or not sys.stderr.isatty():
            yield lambda *args, **kwargs: None
            return
        columns = [SpinnerColumn(), TextColumn("{task.description}")]
        if total is not None:
            columns += [BarColumn(), MofNCompleteColumn()]
        columns.append(TimeElapsedColumn())
        with Progress(*columns, console=self.stderr, transient=True) as progress:
            task = progress.add_task(description, total=total)

            def advance(step: int = 1, text: str | None = None, completed: int | None = None) -> None:
                if completed is not None:
                    progress.update(task, completed=completed, description=text or description)
                else:
                    progress.update(task, advance=step, description=text or description)

            yield advance


pass_app = click.make_pass_decorator(AppContext)


def json_option(func: F) -> F:
    """``--json`` on a subcommand, same as the global one (``erp-recovery status --json``)."""

    def callback(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
        if value:
            ctx.ensure_object(AppContext).as_json = True

    return click.option(
        "--json",
        "as_json",
        is_flag=True,
        expose_value=False,
        callback=callback,
        help="Print JSON for scripts.",
    )(func)


def dry_run_option(func: F) -> F:
    return click.option("--dry-run", is_flag=True, help="Show what would be done; change nothing.")(func)


def configure_logging(verbosity: int, as_json: bool = False) -> None:
    level = logging.WARNING - 10 * verbosity if verbosity >= 0 else logging.ERROR
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(RedactingFilter())
    if as_json:
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(max(logging.DEBUG, level))
