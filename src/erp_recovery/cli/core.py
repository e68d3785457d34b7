"""Core commands: init, db, connectors, sources, sync, status, quarantine, customers, invoices, export."""

from __future__ import annotations

import csv
import io
import json
from datetime import date
from pathlib import Path
from typing import Any

import click
from sqlalchemy import or_, select

from erp_recovery.cli.context import AppContext, json_default, json_option, pass_app
from erp_recovery.cli.pipeline import show_stage_status, stage_status_rows
from erp_recovery.config import DEFAULT_CONFIG_FILE
from erp_recovery.errors import ConfigError, ErpRecoveryError
from erp_recovery.model.records import Customer, Invoice, Record
from erp_recovery.store import runs as run_store
from erp_recovery.store.records import iter_record_rows
from erp_recovery.store.schema import RECORD_TABLES, companies, sources
from erp_recovery.sync.registry import available_connectors, create_connector
from erp_recovery.sync.runner import RunReport, SyncRunner

SAMPLE_CONFIG = """\
# erp-recovery configuration. Secrets are never written here: use "${ENV_VAR}" or "keyring:service/user".

[store]
url = "erp-recovery.sqlite"            # or "postgresql+psycopg://erp@db.example/erp_recovery"

[[companies]]
code = "acme"
name = "ACME SAS"
siren = "732829320"
base_currency = "EUR"
jurisdiction = "FR"                    # FR | EU | UK | DE

[[sources]]
name = "exports"
company = "acme"
connector = "csv"
[sources.settings.streams.customers]
path = "exports/customers.csv"
mapping = "csv_customers"
snapshot = true
[sources.settings.streams.invoices]
path = "exports/invoices.csv"
mapping = "csv_invoices"
snapshot = true
"""


def _company_filter(app: AppContext, connection: Any, code: str | None) -> int | None:
    if code is None:
        return None
    company = run_store.company_id(connection, code)
    if company is None:
        known = ", ".join(run_store.company_ids(connection)) or "none"
        raise ConfigError(f"unknown company {code!r}; companies in the database: {known}", key="--company")
    return company


@click.command()
@click.option(
    "--sample-config",
    type=click.Path(dir_okay=False, writable=True),
    help="Write a commented example configuration to this path first.",
)
@json_option
@pass_app
def init(app: AppContext, sample_config: str | None) -> None:
    """Create or upgrade the database and register the configured companies and sources.

    \b
    Example:
      erp-recovery init --sample-config erp-recovery.toml   # then edit it
      erp-recovery --config erp-recovery.toml init
    """
    if sample_config:
        target = Path(sample_config)
        if target.exists():
            raise ConfigError(f"{target} already exists; not overwriting it")
        target.write_text(SAMPLE_CONFIG, encoding="utf-8")
        app.info(f"wrote an example configuration to {target}")
        app.config_path = str(target)
    store = app.store(migrate=True)
    config = app.config_or_empty()
    with store.begin() as connection:
        ids = run_store.register_config(connection, config)
    company_codes, source_names = sorted(ids.companies), sorted(ids.sources)
    if app.as_json:
        app.emit_json(
            {"database": store.describe(), "schema": store.current_revision(), "companies": company_codes,
             "sources": source_names}
        )
        return
    app.info(f"database {store.describe()} is at schema {store.current_revision()}")
    app.info(f"companies: {', '.join(company_codes) or 'none'}; sources: {', '.join(source_names) or 'none'}")


@click.group()
def db() -> None:
    """Database schema: migrations with Alembic.

    \b
    Example:
      erp-recovery --db postgresql+psycopg://erp@localhost/erp db upgrade
    """


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True, help="Target schema revision.")
@json_option
@pass_app
def db_upgrade(app: AppContext, revision: str) -> None:
    """Apply pending migrations.

    \b
    Example:
      erp-recovery --db erp-recovery.sqlite db upgrade
    """
    store = app.store(require_current=False)
    before, after = store.upgrade(revision)
    if app.as_json:
        app.emit_json({"database": store.describe(), "before": before, "after": after})
    else:
        app.info(f"{store.describe()}: schema {before or '(empty)'} → {after}")


@db.command("current")
@json_option
@pass_app
def db_current(app: AppContext) -> None:
    """Show the database's schema revision and the one this version needs.

    \b
    Example:
      erp-recovery db current
    """
    store = app.store(require_current=False)
    current, head = store.current_revision(), store.head_revision()
    if app.as_json:
        app.emit_json({"database": store.describe(), "current": current, "head": head})
    else:
        state = "up to date" if current == head else "needs 'erp-recovery db upgrade'"
        app.info(f"{store.describe()}: schema {current or '(empty)'}, code needs {head} — {state}")


@click.command("connectors")
@json_option
@pass_app
def connectors_cmd(app: AppContext) -> None:
    """List installed connectors (built in, or added by other packages through entry points).

    \b
    Example:
      erp-recovery connectors
    """
    rows = []
    for name, entry in sorted(available_connectors().items()):
        try:
            description = entry.load().description
        except Exception as exc:  # a broken third-party plug-in is shown, not fatal
            description = f"cannot be loaded: {exc}"
        rows.append({"name": name, "module": entry.value, "description": description})
    if app.as_json:
        app.emit_json(rows)
    else:
        app.table(
            "Connectors",
            ["name", "description", "module"],
            [[r["name"], r["description"], r["module"]] for r in rows],
        )


@click.group("sources")
def sources_group() -> None:
    """Configured sources.

    \b
    Example:
      erp-recovery sources list
      erp-recovery sources check odoo-main
    """


@sources_group.command("list")
@json_option
@pass_app
def sources_list(app: AppContext) -> None:
    """List configured sources with their last sync.

    \b
    Example:
      erp-recovery --config erp-recovery.toml sources list --json
    """
    config = app.config
    last: dict[str, Any] = {}
    try:
        with app.store().connect() as connection:
            last = {row.source_name: row for row in run_store.last_runs(connection)}
    except ErpRecoveryError as exc:
        app.warn(f"no run history: {exc.message}")
    rows = []
    for source in config.sources:
        run = last.get(source.name)
        rows.append(
            {
                "name": source.name,
                "company": source.company,
                "connector": source.connector,
                "enabled": source.enabled,
                "schedule": source.schedule,
                "last_run": run.started_at if run else None,
                "last_status": run.status if run else None,
            }
        )
    if app.as_json:
        app.emit_json(rows)
        return
    app.table(
        "Sources",
        ["name", "company", "connector", "enabled", "last run", "status"],
        [
            [r["name"], r["company"], r["connector"], r["enabled"], r["last_run"], r["last_status"]]
            for r in rows
        ],
    )


@sources_group.command("check")
@click.argument("names", nargs=-1)
@json_option
@pass_app
def sources_check(app: AppContext, names: tuple[str, ...]) -> None:
    """Check that sources are reachable/readable (connectivity, credentials, files).

    \b
    Example:
      erp-recovery sources check odoo-main bank
    """
    config = app.config
    selected = [config.source(name) for name in names] if names else config.sources
    results = []
    failed = False
    for source in selected:
        connector = create_connector(source)
        try:
            results.append({"source": source.name, "ok": True, "detail": connector.check()})
        except ErpRecoveryError as exc:
            failed = True
            results.append({"source": source.name, "ok": False, "detail": exc.message})
        finally:
            connector.close()
    if app.as_json:
        app.emit_json(results)
    else:
        app.table(
            "Source checks",
            ["source", "ok", "detail"],
            [[r["source"], r["ok"], r["detail"]] for r in results],
        )
    if failed:
        raise click.exceptions.Exit(1)


def print_run_reports(app: AppContext, reports: list[RunReport]) -> int:
    """Show sync reports; returns the exit code (1 if a run failed or rejected records)."""
    if app.as_json:
        app.emit_json([report.to_dict() for report in reports])
    else:
        app.table(
            "Sync",
            ["source", "status", "read", "created", "updated", "unchanged", "rejected", "deleted"],
            [
                [
                    r.source,
                    r.status,
                    r.total("read"),
                    r.total("created"),
                    r.total("updated"),
                    r.total("unchanged"),
                    r.total("rejected"),
                    r.total("deleted"),
                ]
                for r in reports
            ],
        )
        for report in reports:
            if report.error:
                app.stderr.print(f"[red]{report.source}:[/] {report.error}", highlight=False)
            for notice in report.notices:
                app.warn(f"{report.source}: {notice['message']}")
            for reject in report.rejects:
                app.warn(f"{report.source}: rejected {reject['origin']}: {reject['reason']}")
            if report.total("rejected") > len(report.rejects):
                app.warn(
                    f"{report.source}: see 'erp-recovery quarantine {report.source}' for all rejected records"
                )
    failed = any(report.status != "succeeded" or report.total("rejected") for report in reports)
    return 1 if failed else 0


@click.command()
@click.argument("source_names", nargs=-1)
@click.option("--full", is_flag=True, help="Forget stored cursors and read everything again.")
@click.option("--stream", "streams", multiple=True, help="Only these streams (repeatable).")
@click.option(
    "--wait", type=float, default=0.0, help="Seconds to wait if another sync of the source is running."
)
@json_option
@pass_app
def sync(
    app: AppContext, source_names: tuple[str, ...], full: bool, streams: tuple[str, ...], wait: float
) -> None:
    """Sync sources into the store (all enabled sources when none is named).

    Incremental and idempotent: a second run with nothing new changes nothing. Exit code 1 when a
    source failed or records were rejected (see 'erp-recovery quarantine').

    \b
    Example:
      erp-recovery sync                 # every enabled source
      erp-recovery sync odoo-main --full
    """
    config = app.config
    selected = [config.source(name) for name in source_names] if source_names else config.sources_of()
    if not selected:
        raise ConfigError("no source to sync: add [[sources]] to the configuration", key="sources")
    store = app.store()
    reports = []
    with app.progress("syncing") as advance:
        runner = SyncRunner(
            store,
            config,
            lock_wait=wait,
            progress=lambda source, stream, n: advance(0, f"{source}/{stream}: {n} records"),
        )
        for source in selected:
            reports.append(runner.sync(source.name, streams=streams or None, full=full))
    code = print_run_reports(app, reports)
    if code:
        raise click.exceptions.Exit(code)


@click.command()
@click.option("--runs", default=1, show_default=True, help="Runs shown per source.")
@json_option
@pass_app
def status(app: AppContext, runs: int) -> None:
    """Last sync runs per source (counts, errors), quarantine sizes, and per company the last run of
    each pipeline stage (duration, counts, errors).

    \b
    Example:
      erp-recovery status --runs 5
    """
    store = app.store()
    with store.connect() as connection:
        last = run_store.last_runs(connection, limit_per_source=runs)
        quarantined = run_store.quarantine_counts(connection)
        stages = stage_status_rows(connection)
    rows = [
        {
            "source": row.source_name,
            "company": row.company_code,
            "run": row.id,
            "status": row.status,
            "started_at": row.started_at,
            "ended_at": row.ended_at,
            **{name: getattr(row, f"{name}_count") for name in run_store.RUN_COUNTERS},
            "error": row.error,
            "quarantine": quarantined.get(row.source_name, 0),
        }
        for row in last
    ]
    if app.as_json:
        app.emit_json({"database": store.describe(), "runs": rows, "quarantine": quarantined, "stages": stages})
        return
    app.table(
        f"Sync runs — {store.describe()}",
        [
            "source",
            "run",
            "status",
            "started",
            "read",
            "created",
            "updated",
            "rejected",
            "deleted",
            "quarantine",
            "error",
        ],
        [
            [
                r["source"],
                r["run"],
                r["status"],
                r["started_at"],
                r["read"],
                r["created"],
                r["updated"],
                r["rejected"],
                r["deleted"],
                r["quarantine"],
                r["error"],
            ]
            for r in rows
        ],
    )
    show_stage_status(app, stages)


@click.command()
@click.argument("source_name", required=False)
@click.option("--limit", default=50, show_default=True)
@json_option
@pass_app
def quarantine(app: AppContext, source_name: str | None, limit: int) -> None:
    """Records rejected by syncs, with the reason, the file and line or the record id.

    \b
    Example:
      erp-recovery quarantine sage-fec --limit 10
    """
    store = app.store()
    with store.connect() as connection:
        source_id = None
        if source_name:
            source_id = connection.execute(select(sources.c.id).where(sources.c.name == source_name)).scalar()
            if source_id is None:
                raise ConfigError(f"no source {source_name!r} in the database")
        rows = run_store.list_quarantine(connection, source_id, limit)
    items = [
        {
            "source": r.source_name,
            "run": r.run_id,
            "stream": r.stream,
            "file": r.file,
            "line": r.line,
            "record": r.record_id,
            "reason": r.reason,
        }
        for r in rows
    ]
    if app.as_json:
        app.emit_json(items)
    else:
        app.table(
            "Quarantine",
            ["source", "run", "stream", "file", "line", "record", "reason"],
            [
                [i["source"], i["run"], i["stream"], i["file"], i["line"], i["record"], i["reason"]]
                for i in items
            ],
        )


def _money(value: Any) -> str:
    return "" if value is None else f"{value.amount:.2f} {value.currency}"


@click.command()
@click.option("--company", help="Company code.")
@click.option("--search", help="Part of the name, SIREN or code.")
@click.option("--include-deleted", is_flag=True, help="Also customers deleted upstream.")
@click.option("--limit", default=200, show_default=True)
@json_option
@pass_app
def customers(
    app: AppContext, company: str | None, search: str | None, include_deleted: bool, limit: int
) -> None:
    """List customers as synced (with the credit limit and flags read from the ERP).

    \b
    Example:
      erp-recovery customers --company demo --search martin
    """
    table = RECORD_TABLES["customer"]
    store = app.store()
    where = []
    if search:
        pattern = f"%{search.lower()}%"
        where.append(
            or_(table.c.name.ilike(pattern), table.c.siren.like(pattern), table.c.external_id.ilike(pattern))
        )
    with store.connect() as connection:
        company_id = _company_filter(app, connection, company)
        items = list(
            iter_record_rows(
                connection,
                "customer",
                company_id=company_id,
                include_deleted=include_deleted,
                where=where,
                order_by=[table.c.name],
                limit=limit,
            )
        )
    if app.as_json:
        app.emit_json(
            [
                {**record.model_dump(mode="json", exclude_none=True), "state": row.upstream_state}
                for row, record in items
            ]
        )
        return
    rows = []
    for row, record in items:
        assert isinstance(record, Customer)
        rows.append(
            [
                record.external_id,
                record.name,
                record.siren,
                _money(record.credit_limit),
                ", ".join(record.risk_flags) or record.risk_code,
                row.upstream_state,
            ]
        )
    app.table("Customers", ["code", "name", "siren", "limit", "flags", "state"], rows)


@click.command()
@click.option("--company", help="Company code.")
@click.option("--customer", "customer_id", help="Customer code (external id).")
@click.option("--open", "only_open", is_flag=True, help="Only invoices with something left to pay.")
@click.option("--overdue", is_flag=True, help="Only open invoices past their due date.")
@click.option(
    "--as-of", type=click.DateTime(formats=["%Y-%m-%d"]), help="Date for --overdue (default today)."
)
@click.option("--limit", default=500, show_default=True)
@json_option
@pass_app
def invoices(
    app: AppContext,
    company: str | None,
    customer_id: str | None,
    only_open: bool,
    overdue: bool,
    as_of: Any,
    limit: int,
) -> None:
    """List invoices and credit notes with their residuals.

    \b
    Example:
      erp-recovery invoices --overdue --as-of 2026-11-20
      erp-recovery invoices --customer C003 --json
    """
    table = RECORD_TABLES["invoice"]
    today = as_of.date() if as_of else date.today()
    where = []
    if customer_id:
        where.append(table.c.customer_id == customer_id)
    if only_open or overdue:
        where.append(table.c.status.in_(["open", "partial"]))
    if overdue:
        where.append(table.c.due_date < today)
    with app.store().connect() as connection:
        company_id = _company_filter(app, connection, company)
        items = [
            record
            for _, record in iter_record_rows(
                connection,
                "invoice",
                company_id=company_id,
                where=where,
                order_by=[table.c.due_date, table.c.number],
                limit=limit,
            )
        ]
    if only_open or overdue:
        items = [record for record in items if isinstance(record, Invoice) and record.residual.amount != 0]
    if app.as_json:
        app.emit_json([record.model_dump(mode="json", exclude_none=True) for record in items])
        return
    rows = []
    for record in items:
        assert isinstance(record, Invoice)
        late = (
            (today - record.due_date).days
            if record.due_date and record.is_open and record.due_date < today
            else None
        )
        rows.append(
            [
                record.number,
                record.kind,
                record.customer_id,
                record.issue_date,
                record.due_date,
                _money(record.total),
                _money(record.residual),
                record.status,
                "yes" if record.disputed else "",
                late,
            ]
        )
    app.table(
        "Invoices",
        [
            "number",
            "kind",
            "customer",
            "issued",
            "due",
            "total",
            "residual",
            "status",
            "disputed",
            "days late",
        ],
        rows,
    )


EXPORTABLE = {
    "customers": "customer",
    "invoices": "invoice",
    "payments": "payment",
    "bank-transactions": "bank_transaction",
    "allocations": "allocation",
}


def _flatten(prefix: str, value: Any, out: dict[str, Any]) -> None:
    if isinstance(value, dict):
        if set(value) == {"amount", "currency"}:
            out[f"{prefix}"] = value["amount"]
            out[f"{prefix}_currency"] = value["currency"]
            return
        for key, inner in value.items():
            _flatten(f"{prefix}.{key}" if prefix else key, inner, out)
    elif isinstance(value, list):
        out[prefix] = "|".join(
            json.dumps(item, default=json_default) if isinstance(item, dict) else str(item) for item in value
        )
    else:
        out[prefix] = value


@click.command()
@click.argument("table_name", type=click.Choice(sorted(EXPORTABLE)))
@click.option("--format", "fmt", type=click.Choice(["csv", "json"]), default="csv", show_default=True)
@click.option(
    "--output", "-o", type=click.Path(dir_okay=False, writable=True), help="File to write (default stdout)."
)
@click.option("--company", help="Company code.")
@click.option("--include-deleted", is_flag=True)
@pass_app
def export(
    app: AppContext, table_name: str, fmt: str, output: str | None, company: str | None, include_deleted: bool
) -> None:
    """Export a canonical table as CSV (one flat row per record) or JSON (the canonical records).

    Amounts are exact decimal strings with their currency in a *_currency column.

    \b
    Example:
      erp-recovery export invoices --format csv -o invoices.csv
      erp-recovery export customers --format json --company demo
    """
    entity = EXPORTABLE[table_name]
    with app.store().connect() as connection:
        company_id = _company_filter(app, connection, company)
        company_codes = {
            row.id: row.code for row in connection.execute(select(companies.c.id, companies.c.code))
        }
        source_names = {row.id: row.name for row in connection.execute(select(sources.c.id, sources.c.name))}
        items: list[tuple[Any, Record]] = list(
            iter_record_rows(connection, entity, company_id=company_id, include_deleted=include_deleted)
        )
    documents = [
        {
            "company": company_codes[row.company_id],
            "source": source_names[row.source_id],
            "state": row.upstream_state,
            **record.model_dump(mode="json", exclude_none=True),
        }
        for row, record in items
    ]
    if fmt == "json":
        text = json.dumps(documents, ensure_ascii=False, indent=2, default=json_default) + "\n"
    else:
        flat_rows = []
        for document in documents:
            flat: dict[str, Any] = {}
            _flatten("", document, flat)
            flat_rows.append(flat)
        columns: list[str] = []
        for flat in flat_rows:
            columns += [key for key in flat if key not in columns]
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        writer.writerows(flat_rows)
        text = buffer.getvalue()
    if output:
        Path(output).write_text(text, encoding="utf-8")
        app.info(f"wrote {len(documents)} {table_name} to {output}")
    else:
        click.echo(text, nl=False)


def register(group: click.Group) -> None:
    for command in (
        init,
        db,
        connectors_cmd,
        sources_group,
        sync,
        status,
        quarantine,
        customers,
        invoices,
        export,
    ):
        group.add_command(command)


__all__ = ["DEFAULT_CONFIG_FILE", "print_run_reports", "register"]
