"""Matching commands: ``match`` (run the matcher), ``match review`` (suggestions with their evidence),
``match show``, ``match accept`` / ``match reject`` (single or bulk), ``match export`` (CSV), and
``match history`` (the decisions taken).

Every decision is kept, teaches the payer memory, and survives every later run of the matcher.
"""

from __future__ import annotations

import csv
import getpass
import sys
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any, TextIO

import click

from erp_recovery.cli.context import AppContext, json_option, pass_app
from erp_recovery.config import AppConfig
from erp_recovery.engines.matching import MatchProposal, MatchSettings
from erp_recovery.errors import ConfigError
from erp_recovery.model.records import BankTransaction
from erp_recovery.store import matching as match_store
from erp_recovery.store import runs as run_store
from erp_recovery.store.records import load_records
from erp_recovery.store.schema import bank_transactions

#: Flags that call for a person even on an applied or unmatched proposal (``match review --flagged``).
ATTENTION_FLAGS = frozenset(
    {"overpayment", "duplicate_payment", "unknown_reference", "cross_currency", "payer_conflict", "name_tie"}
)
#: Columns of ``match export --format csv`` (the first five are the contract).
EXPORT_COLUMNS = (
    "bank_ref",
    "invoice_number",
    "amount",
    "status",
    "confidence",
    "currency",
    "booking_date",
    "bank_transaction_id",
    "invoice_id",
    "customer_id",
    "kind",
    "rule",
    "writeoff",
    "unapplied",
    "flags",
)


def _company(app: AppContext, code: str | None) -> tuple[str, int]:
    """The company to work on: ``--company``, else the only one configured, else the only one stored."""
    config = app.config_or_empty()
    store = app.store()
    with store.connect() as connection:
        stored = run_store.company_ids(connection)
    if code is None:
        configured = [company.code for company in config.companies]
        candidates = configured or sorted(stored)
        if len(candidates) != 1:
            known = ", ".join(candidates) or "none"
            raise ConfigError(f"choose a company with --company (known: {known})", key="--company")
        code = candidates[0]
    if code not in stored:
        raise ConfigError(f"company {code!r} has no data yet: run 'erp-recovery sync' first", key="--company")
    return code, stored[code]


def _settings(config: AppConfig) -> MatchSettings:
    return config.section("matching", MatchSettings)


def _rerun(app: AppContext, code: str, company_id: int) -> match_store.MatchRun:
    with app.store().begin() as connection:
        return match_store.run_matching(connection, company_id, code, _settings(app.config_or_empty()))


def _money(value: Any) -> str:
    return "" if value is None else format(value.amount if hasattr(value, "amount") else value, "f")


def _lines_text(proposal: MatchProposal) -> str:
    parts = [f"{line.invoice_number} {_money(line.amount)}" for line in proposal.lines]
    if proposal.writeoff:
        parts.append(f"write-off {_money(proposal.writeoff)}")
    if proposal.unapplied:
        parts.append(f"unapplied {_money(proposal.unapplied)}")
    return ", ".join(parts)


def _evidence_text(proposal: MatchProposal) -> str:
    return "; ".join(
        f"[{evidence.rule} {evidence.weight:+}] {evidence.detail}" for evidence in proposal.evidence
    )


company_option = click.option("--company", help="Company code (needed when several are configured).")


@click.group("match", invoke_without_command=True)
@company_option
@click.option("--dry-run", is_flag=True, help="Compute and show the proposals; store nothing.")
@json_option
@pass_app
@click.pass_context
def match_group(ctx: click.Context, app: AppContext, company: str | None, dry_run: bool) -> None:
    """Match bank credits to open invoices: each bank line gets a proposal with a confidence, the
    evidence behind it and a status — auto (applied), suggested (waits for review), accepted, or
    unmatched. Running it again changes nothing unless the data changed; decisions are never undone.

    \b
    Example:
      erp-recovery match                      # after each sync
      erp-recovery match review               # the suggestions, with their evidence
      erp-recovery match accept 20250107000042
      erp-recovery match export --format csv -o matches.csv
    """
    if ctx.invoked_subcommand is not None:
        ctx.meta["match.company"] = company
        return
    code, company_id = _company(app, company)
    with app.progress("matching"), app.store().begin() as connection:
        run = match_store.run_matching(
            connection, company_id, code, _settings(app.config_or_empty()), dry_run=dry_run
        )
    counts = run.counts()
    if app.as_json:
        app.emit_json(
            {"company": code, "dry_run": dry_run, "seconds": round(run.seconds, 3), "counts": counts}
        )
        return
    statuses = ", ".join(
        f"{counts.get(status, 0)} {status}" for status in ("auto", "suggested", "accepted", "unmatched")
    )
    app.info(f"{code}: {sum(run.result.counts().values())} bank lines — {statuses} ({run.seconds:.1f} s)")
    if not dry_run:
        app.info(
            f"stored: {run.saved.created} new, {run.saved.updated} changed, {run.saved.unchanged} unchanged, "
            f"{run.saved.removed} removed"
        )
    if counts.get("suggested"):
        app.info("review the suggestions with: erp-recovery match review")


def _selected_company(app: AppContext, company: str | None) -> tuple[str, int]:
    inherited = click.get_current_context().meta.get("match.company")
    return _company(app, company or inherited)


@match_group.command("review")
@company_option
@click.option("--flagged", is_flag=True, help="Also list applied or unmatched lines that need attention.")
@click.option("--all", "show_all", is_flag=True, help="List every bank credit, whatever its status.")
@click.option("--limit", type=int, default=200, show_default=True, help="At most this many lines.")
@click.option("--evidence/--no-evidence", default=True, help="Show the evidence of each proposal.")
@json_option
@pass_app
def review(
    app: AppContext, company: str | None, flagged: bool, show_all: bool, limit: int, evidence: bool
) -> None:
    """List the suggestions waiting for a person, with their evidence, best first.

    \b
    Example:
      erp-recovery match review
      erp-recovery match review --flagged     # also overpayments, duplicates, unknown references
    """
    code, company_id = _selected_company(app, company)
    with app.store().connect() as connection:
        proposals = match_store.stored_proposals(connection, company_id)
    chosen = [
        proposal
        for proposal in proposals
        if show_all
        or proposal.status == "suggested"
        or (flagged and proposal.amount.amount > 0 and ATTENTION_FLAGS & set(proposal.flags))
    ]
    if not show_all:
        chosen = [proposal for proposal in chosen if proposal.amount.amount > 0]
    chosen.sort(
        key=lambda proposal: (proposal.status != "suggested", -proposal.confidence, proposal.booking_date)
    )
    chosen = chosen[:limit]
    if app.as_json:
        app.emit_json([proposal.model_dump(mode="json", exclude_none=True) for proposal in chosen])
        return
    if not chosen:
        app.info(f"{code}: nothing to review")
        return
    rows = []
    for proposal in chosen:
        row = [
            proposal.bank_ref,
            proposal.booking_date.isoformat(),
            _money(proposal.amount),
            proposal.status,
            f"{proposal.confidence:.2f}",
            _lines_text(proposal) or "-",
            ", ".join(proposal.flags),
        ]
        if evidence:
            row.append(_evidence_text(proposal) or proposal.reason)
        rows.append(row)
    columns = ["bank_ref", "date", "amount", "status", "confidence", "allocation", "flags"]
    app.table(f"{code}: {len(chosen)} to review", [*columns, "evidence"] if evidence else columns, rows)
    app.info("accept or reject with: erp-recovery match accept|reject BANK_REF... (or --all-suggested)")


@match_group.command("show")
@click.argument("bank_ref")
@company_option
@json_option
@pass_app
def show(app: AppContext, bank_ref: str, company: str | None) -> None:
    """Everything about one bank line's proposal: allocation, confidence, each piece of evidence.

    \b
    Example:
      erp-recovery match show 20250107000042
    """
    code, company_id = _selected_company(app, company)
    with app.store().connect() as connection:
        found = match_store.stored_proposals(connection, company_id, keys=[bank_ref])
    if not found:
        raise click.UsageError(f"no proposal for bank line {bank_ref!r} in company {code}")
    proposal = found[0]
    if app.as_json:
        app.emit_json(proposal.model_dump(mode="json", exclude_none=True))
        return
    app.info(
        f"{proposal.bank_ref} of {proposal.booking_date}: {_money(proposal.amount)} {proposal.amount.currency} — "
        f"{proposal.status}, confidence {proposal.confidence:.2f} ({proposal.rule})"
    )
    if proposal.reason:
        app.info(f"  {proposal.reason}")
    for line in proposal.lines:
        app.info(f"  {line.kind} {line.invoice_number} ({line.customer_id}): {_money(line.amount)}")
    if proposal.writeoff:
        app.info(f"  written off (bank charges): {_money(proposal.writeoff)}")
    if proposal.unapplied:
        app.info(f"  left unapplied: {_money(proposal.unapplied)}")
    for item in proposal.evidence:
        tokens = f" [{', '.join(item.tokens)}]" if item.tokens else ""
        app.info(f"  {item.weight:+} {item.rule}: {item.detail}{tokens}")


def _decide(
    app: AppContext,
    decision: str,
    bank_refs: Sequence[str],
    company: str | None,
    all_suggested: bool,
    min_confidence: Decimal | None,
    decided_by: str,
    note: str | None,
) -> None:
    code, company_id = _selected_company(app, company)
    if not bank_refs and not all_suggested:
        raise click.UsageError("give the bank references to decide on, or --all-suggested")
    with app.store().begin() as connection:
        if all_suggested:
            proposals = match_store.stored_proposals(connection, company_id, statuses=["suggested"])
            if bank_refs:
                wanted = set(bank_refs)
                proposals = [p for p in proposals if p.bank_ref in wanted or p.bank_transaction_id in wanted]
        else:
            proposals = match_store.stored_proposals(connection, company_id, keys=list(bank_refs))
            found = {p.bank_ref for p in proposals} | {p.bank_transaction_id for p in proposals}
            missing = [ref for ref in bank_refs if ref not in found]
            if missing:
                raise click.UsageError(f"no proposal for {', '.join(missing)} in company {code}")
        if min_confidence is not None:
            proposals = [p for p in proposals if p.confidence >= min_confidence]
        transactions = {
            record.external_id: record
            for record in load_records(
                connection,
                "bank_transaction",
                company_id=company_id,
                where=[bank_transactions.c.external_id.in_([p.bank_transaction_id for p in proposals])],
            )
            if isinstance(record, BankTransaction)
        }
        done = []
        for proposal in proposals:
            if decision == "accepted" and not proposal.lines:
                app.warn(f"{proposal.bank_ref}: nothing to accept ({proposal.reason or proposal.status})")
                continue
            match_store.record_decision(
                connection,
                company_id,
                proposal,
                decision,
                decided_by=decided_by,
                note=note,
                transaction=transactions.get(proposal.bank_transaction_id),
            )
            done.append(proposal.bank_ref)
        run = match_store.run_matching(connection, company_id, code, _settings(app.config_or_empty()))
    if app.as_json:
        app.emit_json({"company": code, "decision": decision, "bank_refs": done, "counts": run.counts()})
        return
    verb = "accepted" if decision == "accepted" else "rejected"
    app.info(f"{code}: {len(done)} proposal(s) {verb}; matcher re-run: {run.result.counts()}")


def _decision_options(func: Any) -> Any:
    func = click.option("--note", help="A note kept with the decision.")(func)
    func = click.option(
        "--by",
        "decided_by",
        default=lambda: getpass.getuser(),
        show_default="current user",
        help="Who decides.",
    )(func)
    func = click.option(
        "--min-confidence", type=Decimal, help="With --all-suggested: only those at least this confident."
    )(func)
    func = click.option("--all-suggested", is_flag=True, help="Every suggestion of the company.")(func)
    func = company_option(func)
    return click.argument("bank_refs", nargs=-1)(func)


@match_group.command("accept")
@_decision_options
@json_option
@pass_app
def accept(
    app: AppContext,
    bank_refs: tuple[str, ...],
    company: str | None,
    all_suggested: bool,
    min_confidence: Decimal | None,
    decided_by: str,
    note: str | None,
) -> None:
    """Accept suggestions: their allocations are applied and kept through every later run; the
    payer's IBAN and name are remembered for this customer.

    \b
    Example:
      erp-recovery match accept 20250107000042 20250108000007
      erp-recovery match accept --all-suggested --min-confidence 0.7 --by claire
    """
    _decide(app, "accepted", bank_refs, company, all_suggested, min_confidence, decided_by, note)


@match_group.command("reject")
@_decision_options
@json_option
@pass_app
def reject(
    app: AppContext,
    bank_refs: tuple[str, ...],
    company: str | None,
    all_suggested: bool,
    min_confidence: Decimal | None,
    decided_by: str,
    note: str | None,
) -> None:
    """Reject proposals: the matcher will not propose those invoices for those bank lines again (it
    may suggest others); a payer identified from memory is no longer tied to that customer.

    \b
    Example:
      erp-recovery match reject 20250107000042 --note "paid for the sister company"
    """
    _decide(app, "rejected", bank_refs, company, all_suggested, min_confidence, decided_by, note)


def export_rows(
    proposals: Sequence[MatchProposal], *, include_unmatched: bool = False
) -> list[dict[str, str]]:
    """One row per allocation line (write-off and unapplied amounts on the first line of a proposal)."""
    rows: list[dict[str, str]] = []
    for proposal in proposals:
        common = {
            "bank_ref": proposal.bank_ref,
            "status": proposal.status,
            "confidence": f"{proposal.confidence:.2f}",
            "booking_date": proposal.booking_date.isoformat(),
            "bank_transaction_id": proposal.bank_transaction_id,
            "rule": proposal.rule,
            "flags": " ".join(proposal.flags),
        }
        if not proposal.lines:
            if include_unmatched and proposal.amount.amount > 0:
                rows.append(
                    {
                        **common,
                        "invoice_number": "",
                        "amount": _money(proposal.amount),
                        "currency": proposal.amount.currency,
                        "invoice_id": "",
                        "customer_id": proposal.customer_id or "",
                        "kind": "",
                        "writeoff": "",
                        "unapplied": "",
                    }
                )
            continue
        for index, line in enumerate(proposal.lines):
            rows.append(
                {
                    **common,
                    "invoice_number": line.invoice_number,
                    "amount": _money(line.amount),
                    "currency": line.amount.currency,
                    "invoice_id": line.invoice_id,
                    "customer_id": line.customer_id,
                    "kind": line.kind,
                    "writeoff": _money(proposal.writeoff) if index == 0 else "",
                    "unapplied": _money(proposal.unapplied) if index == 0 else "",
                }
            )
    return rows


def write_csv(rows: Sequence[dict[str, str]], handle: TextIO) -> None:
    writer = csv.DictWriter(handle, fieldnames=EXPORT_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)


@match_group.command("export")
@company_option
@click.option(
    "--format", "fmt", type=click.Choice(["csv"]), default="csv", show_default=True, help="Output format."
)
@click.option(
    "-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="File to write (default stdout)."
)
@click.option(
    "--status",
    "statuses",
    multiple=True,
    type=click.Choice(["auto", "suggested", "accepted", "unmatched"]),
    help="Only these statuses (repeatable; default auto, suggested, accepted).",
)
@click.option("--include-unmatched", is_flag=True, help="Also one row per unmatched credit (no invoice).")
@pass_app
def export(
    app: AppContext,
    company: str | None,
    fmt: str,
    output: Path | None,
    statuses: tuple[str, ...],
    include_unmatched: bool,
) -> None:
    """Export one row per allocation: bank_ref, invoice_number, amount, status, confidence, then
    currency, dates, ids, rule, write-off, unapplied amount and flags.

    bank_ref is the bank's own reference of the line: camt AcctSvcrRef (plus "/n" for the n-th
    TxDtls of a batch entry), MT940 bank reference, OFX FITID.

    \b
    Example:
      erp-recovery match export --format csv -o matches.csv
      erp-recovery match export --status suggested
    """
    code, company_id = _selected_company(app, company)
    wanted = list(statuses) or ["auto", "suggested", "accepted"]
    if include_unmatched and "unmatched" not in wanted:
        wanted.append("unmatched")
    with app.store().connect() as connection:
        proposals = match_store.stored_proposals(connection, company_id, statuses=wanted)
    rows = export_rows(proposals, include_unmatched=include_unmatched)
    if output is None:
        write_csv(rows, sys.stdout)
        return
    with output.open("w", encoding="utf-8", newline="") as handle:
        write_csv(rows, handle)
    app.info(f"{code}: {len(rows)} rows written to {output}")


@match_group.command("history")
@company_option
@click.option("--limit", type=int, default=50, show_default=True)
@json_option
@pass_app
def history(app: AppContext, company: str | None, limit: int) -> None:
    """The decisions people took on proposals, newest first.

    \b
    Example:
      erp-recovery match history --limit 20
    """
    code, company_id = _selected_company(app, company)
    with app.store().connect() as connection:
        rows = match_store.decision_history(connection, company_id, limit)
    if app.as_json:
        app.emit_json(
            [
                {
                    "bank_ref": row.bank_ref,
                    "decision": row.decision,
                    "decided_by": row.decided_by,
                    "decided_at": row.decided_at,
                    "note": row.note,
                    "lines": row.payload.get("lines", []),
                }
                for row in rows
            ]
        )
        return
    app.table(
        f"{code}: decisions",
        ["decided_at", "bank_ref", "decision", "by", "invoices", "note"],
        [
            [
                row.decided_at,
                row.bank_ref,
                row.decision,
                row.decided_by,
                ", ".join(line["invoice_number"] for line in row.payload.get("lines", [])),
                row.note or "",
            ]
            for row in rows
        ],
    )


def register(group: click.Group) -> None:
    group.add_command(match_group)
