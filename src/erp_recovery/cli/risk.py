"""Risk commands: ``assess`` (scores, grades, limits, flags, with ``--explain``), ``report`` (ageing,
DSO, risk as a table, CSV or self-contained HTML) and ``charges`` (late-payment interest and fees of
an invoice with the working).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import click

from erp_recovery.cli.context import AppContext, json_option, pass_app
from erp_recovery.engines.legal import invoice_late_charges, load_profile
from erp_recovery.engines.legal.settings import LegalSettings
from erp_recovery.engines.risk import CustomerAssessment
from erp_recovery.errors import ConfigError
from erp_recovery.model.records import Allocation, Customer, Invoice, Payment
from erp_recovery.reports.render import to_csv, to_html, to_terminal
from erp_recovery.reports.service import resolve_company, run_assessment
from erp_recovery.reports.tables import REPORT_KINDS, report_tables, risk_table
from erp_recovery.store import runs as run_store
from erp_recovery.store.records import load_records
from erp_recovery.store.schema import RECORD_TABLES

DATE = click.DateTime(formats=["%Y-%m-%d"])


def _as_of(value: dt.datetime | None) -> dt.date:
    return value.date() if value else dt.date.today()


def _customer_json(item: CustomerAssessment) -> dict[str, Any]:
    figures = item.figures
    return {
        "customer": item.customer_id,
        "name": item.customer.name,
        "score": item.score.score,
        "grade": item.score.grade,
        "overrides": list(item.score.overrides),
        "factors": [
            {
                "name": f.name,
                "weight": f.weight,
                "severity": f.severity,
                "points": f.points,
                "sentence": f.sentence,
            }
            for f in item.score.factors
        ],
        "open": figures.open_amount,
        "overdue": figures.overdue_amount,
        "ageing": {b.label: b.amount for b in figures.ageing},
        "credit_limit": figures.credit_limit,
        "recommended_limit": item.credit_limit.recommended.amount,
        "limit_working": item.credit_limit.working,
        "dso_countback": figures.dso_countback,
        "dso_simple": figures.dso_simple,
        "days_late_weighted": {s.months: s.weighted_days for s in figures.lateness},
        "pending_bank_payments": figures.pending_bank_payments,
        "flags": [{"code": f.code, "reason": f.reason} for f in item.flags],
    }


@click.command()
@click.option("--company", help="Company code (needed when several are configured).")
@click.option("--as-of", type=DATE, help="Assessment date (default today).")
@click.option(
    "--explain", "explain", metavar="CUSTOMER", help="Print the reasoning for one customer (code or name)."
)
@click.option(
    "--signals/--no-signals",
    "use_signals",
    default=None,
    help="Query BODACC and recherche-entreprises (default: [signals] enabled in the configuration).",
)
@click.option(
    "--save/--no-save", default=True, show_default=True, help="Store the assessment in the database."
)
@json_option
@pass_app
def assess(
    app: AppContext,
    company: str | None,
    as_of: dt.datetime | None,
    explain: str | None,
    use_signals: bool | None,
    save: bool,
) -> None:
    """Score every customer (0-100, grade A-E), recommend credit limits and raise risk flags.

    Recommended limits and flags are proposals for the write-back plan: nothing is written to
    the ERP here.

    \b
    Example:
      erp-recovery assess --as-of 2026-11-20
      erp-recovery assess --explain C004
      erp-recovery assess --json > assessment.json
    """
    run = run_assessment(
        app.store(), app.config, company_code=company, as_of=_as_of(as_of), use_signals=use_signals, save=save
    )
    for warning in run.warnings:
        app.warn(warning)
    assessment = run.assessment
    if explain:
        item = assessment.customer(explain)
        if item is None:
            raise click.BadParameter(
                f"no customer {explain!r} (give its code or exact name)", param_hint="--explain"
            )
        if app.as_json:
            app.emit_json({**_customer_json(item), "explanation": item.explain()})
        else:
            click.echo(item.explain())
        return
    proposals = assessment.proposals()
    if app.as_json:
        app.emit_json(
            {
                "company": run.company.code,
                "as_of": assessment.as_of,
                "currency": assessment.currency,
                "customers": [_customer_json(item) for item in assessment.customers],
                "proposals": [
                    {
                        "customer": p.customer_id,
                        "field": p.field,
                        "current": p.current.amount if hasattr(p.current, "amount") else p.current,
                        "proposed": p.proposed.amount if hasattr(p.proposed, "amount") else p.proposed,
                        "reason": p.reason,
                    }
                    for p in proposals
                ],
                "saved_rows": run.saved_rows,
            }
        )
        return
    to_terminal([risk_table(assessment)], app.stdout)
    if proposals:
        app.table(
            "Proposed changes (not applied: they go to the write-back plan)",
            ["customer", "field", "current", "proposed", "reason"],
            [
                [
                    p.customer_id,
                    p.field,
                    _show(p.current),
                    _show(p.proposed),
                    p.reason if len(p.reason) <= 80 else p.reason[:77] + "...",
                ]
                for p in proposals
            ],
        )
    if run.saved_rows:
        app.info(f"{run.saved_rows} assessment(s) saved for {assessment.as_of.isoformat()}")


def _show(value: Any) -> str:
    if value is None:
        return "none"
    if hasattr(value, "amount"):
        return f"{value.amount:.2f}"
    if isinstance(value, tuple):
        return ", ".join(value) or "(none)"
    return str(value)


@click.command()
@click.argument("kind", type=click.Choice(REPORT_KINDS))
@click.option("--company", help="Company code (needed when several are configured).")
@click.option("--as-of", type=DATE, help="Report date (default today).")
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["table", "csv", "html"]),
    default="table",
    show_default=True,
    help="Terminal table, CSV, or a self-contained HTML page with charts.",
)
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True), help="Write to this file.")
@click.option("--delimiter", default=";", show_default=True, help="CSV delimiter.")
@pass_app
def report(
    app: AppContext,
    kind: str,
    company: str | None,
    as_of: dt.datetime | None,
    output_format: str,
    output: str | None,
    delimiter: str,
) -> None:
    """Receivables reports: aged balance, DSO over 12 months, customer risk.

    \b
    Example:
      erp-recovery report ageing
      erp-recovery report dso --format csv -o dso.csv
      erp-recovery report risk --format html -o risk.html   # open it in a browser
    """
    run = run_assessment(
        app.store(), app.config, company_code=company, as_of=_as_of(as_of), use_signals=False, save=False
    )
    assessment = run.assessment
    tables = report_tables(assessment, kind)  # type: ignore[arg-type]
    if output_format == "table":
        if output:
            raise click.BadParameter("--output needs --format csv or html", param_hint="--output")
        to_terminal(tables, app.stdout)
        return
    text = (
        to_csv(tables, delimiter=delimiter)
        if output_format == "csv"
        else to_html(assessment, kind, company_name=run.company.name)  # type: ignore[arg-type]
    )
    if output:
        Path(output).write_text(text, encoding="utf-8")
        app.info(f"{kind} report written to {output}")
    else:
        click.echo(text, nl=False)


@click.command()
@click.argument("invoice_number")
@click.option("--company", help="Company code (needed when several are configured).")
@click.option("--as-of", type=DATE, help="Compute up to this date (default today).")
@click.option(
    "--formal-notice", type=DATE, help="Date of the formal notice (consumer debtors: interest starts there)."
)
@json_option
@pass_app
def charges(
    app: AppContext, invoice_number: str, company: str | None, as_of: dt.datetime | None, formal_notice: Any
) -> None:
    """Late-payment interest and fixed recovery fee of an invoice, with the working.

    The rules come from the company's jurisdiction profile (FR, EU, UK, DE) and the dated rate
    table ([legal] rates_file adds or corrects rates).

    \b
    Example:
      erp-recovery charges F2026-0042 --as-of 2026-06-30
    """
    config = app.config
    company_config = resolve_company(config, company)
    rates = config.section("legal", LegalSettings).rate_table(config.base_dir)
    profile = load_profile(company_config.jurisdiction)
    with app.store().connect() as connection:
        company_id = run_store.company_id(connection, company_config.code)
        if company_id is None:
            raise ConfigError(f"company {company_config.code!r} has no data yet: run 'erp-recovery sync'")
        invoices = [
            r
            for r in load_records(
                connection,
                "invoice",
                company_id=company_id,
                where=[RECORD_TABLES["invoice"].c.number == invoice_number],
            )
            if isinstance(r, Invoice) and r.kind == "invoice"
        ]
        if not invoices:
            raise click.BadParameter(f"no invoice numbered {invoice_number!r}", param_hint="INVOICE_NUMBER")
        invoice = invoices[0]
        customers = [
            r
            for r in load_records(
                connection,
                "customer",
                company_id=company_id,
                where=[RECORD_TABLES["customer"].c.external_id == invoice.customer_id],
            )
            if isinstance(r, Customer)
        ]
        allocations = [
            r
            for r in load_records(
                connection,
                "allocation",
                company_id=company_id,
                where=[RECORD_TABLES["allocation"].c.invoice_id == invoice.external_id],
            )
            if isinstance(r, Allocation)
        ]
        payment_ids = [a.payment_id for a in allocations if a.payment_id]
        payments = {
            r.external_id: r
            for r in load_records(
                connection,
                "payment",
                company_id=company_id,
                where=[RECORD_TABLES["payment"].c.external_id.in_(payment_ids)],
            )
            if isinstance(r, Payment)
        }
    result = invoice_late_charges(
        invoice,
        _as_of(as_of),
        profile,
        rates,
        customer=customers[0] if customers else None,
        allocations=allocations,
        payments=payments,
        formal_notice_date=formal_notice.date() if formal_notice else None,
    )
    if app.as_json:
        app.emit_json(
            {
                "invoice": invoice.number,
                "jurisdiction": result.jurisdiction,
                "due_date": result.due_date,
                "as_of": result.as_of,
                "days_late": result.days_late,
                "interest": result.interest.amount,
                "currency": result.interest.currency,
                "fixed_fee": result.fixed_fee.amount if result.fixed_fee else None,
                "periods": [
                    {
                        "start": p.start,
                        "end": p.end,
                        "days": p.days,
                        "outstanding": p.outstanding.amount,
                        "annual_rate": p.annual_rate,
                        "reference": p.reference_label,
                        "amount": p.amount_rounded.amount,
                    }
                    for p in result.periods
                ],
                "working": result.working(),
            }
        )
        return
    click.echo(result.working())


def register(group: click.Group) -> None:
    for command in (assess, report, charges):
        group.add_command(command)
