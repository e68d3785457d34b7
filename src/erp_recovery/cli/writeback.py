"""Write-back commands: ``plan`` (propose and show), ``apply`` (re-read, write, audit) and
``writeback history``/``writeback plans``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from erp_recovery.cli.context import AppContext, json_option, pass_app
from erp_recovery.errors import ConfigError, ErpRecoveryError
from erp_recovery.store.locks import named_lock
from erp_recovery.store.records import source_population
from erp_recovery.sync.registry import create_connector
from erp_recovery.writeback import store as wb_store
from erp_recovery.writeback.apply import StoreAuditLog, apply_plan
from erp_recovery.writeback.plan import Plan
from erp_recovery.writeback.planner import load_proposals, make_plan, provider
from erp_recovery.writeback.policy import WritebackPolicy
from erp_recovery.writeback.preview import dry_run as dry_run_plan
from erp_recovery.writeback.preview import dry_run_json, render_dry_run, save_previews
from erp_recovery.writeback.render import render, report_json, report_text


def _writeback_connector(app: AppContext, source_name: str) -> Any:
    source = app.config.source(source_name)
    connector = create_connector(source)
    if not connector.supports_writeback:
        raise ConfigError(
            f"connector {source.connector!r} of source {source_name} cannot write back", key="sources"
        )
    return connector


@click.command("plan")
@click.argument("source_name")
@click.option("--proposals", "proposals_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="JSON file of proposals (from an engine or written by hand).")  # fmt: skip
@click.option(
    "--from", "provider_name", help="Proposal provider registered by an engine (e.g. risk, dunning)."
)
@click.option(
    "--out", type=click.Path(dir_okay=False, path_type=Path), help="Also write the plan to this JSON file."
)
@click.option("--markdown", is_flag=True, help="Show the plan as Markdown (for a ticket or an e-mail).")
@json_option
@pass_app
def plan_cmd(
    app: AppContext,
    source_name: str,
    proposals_file: Path | None,
    provider_name: str | None,
    out: Path | None,
    markdown: bool,
) -> None:
    """Make a write-back plan: read the current values upstream and freeze the changes to make.

    Nothing is written to the ERP. The plan is stored (see 'writeback plans') and shown with its
    checksum, which 'apply' asks for.

    \b
    Example:
      erp-recovery plan odoo-main --proposals proposals.json --out plan.json
      erp-recovery plan odoo-main --from risk --markdown > plan.md
    """
    if bool(proposals_file) == bool(provider_name):
        raise click.UsageError("give either --proposals FILE or --from PROVIDER")
    store = app.store()
    if proposals_file:
        named, created_by, proposals = load_proposals(proposals_file)
        if named and named != source_name:
            raise ConfigError(f"{proposals_file} proposes changes for source {named!r}, not {source_name!r}")
    else:
        assert provider_name is not None
        created_by = provider_name
        proposals = list(provider(provider_name)(store, app.config, source_name))
    connector = _writeback_connector(app, source_name)
    try:
        draft = make_plan(source_name, connector, proposals, created_by=created_by)
    finally:
        connector.close()
    with store.begin() as connection:
        wb_store.save_plan(connection, draft.plan)
    if out:
        out.write_text(draft.plan.to_json() + "\n", encoding="utf-8")
    if app.as_json:
        click.echo(render(draft.plan, "json"))
    else:
        click.echo(render(draft.plan, "markdown" if markdown else "text"))
    if draft.dropped:
        app.info(f"{len(draft.dropped)} proposal(s) left out:")
        for item, why in draft.dropped:
            app.info(f"  {item.target.describe()}: {why}")
    if out:
        app.info(f"plan written to {out}")


def _load_plan(app: AppContext, reference: str) -> Plan:
    path = Path(reference)
    if path.is_file():
        try:
            return Plan.from_json(path.read_text(encoding="utf-8"))
        except ValueError as exc:
            raise ConfigError(f"{path} is not a plan file: {str(exc).splitlines()[0]}") from None
    with app.store().connect() as connection:
        return wb_store.load_plan(connection, reference)


@click.command("apply")
@click.argument("plan_reference", metavar="PLAN")
@click.option("--checksum", required=True, help="The plan's checksum as shown by 'plan' (12+ characters).")
@click.option("--force", is_flag=True, help="Apply even if the plan changes more than writeback.max_share.")
@click.option("--wait", type=float, default=0.0, help="Seconds to wait if another apply to the source runs.")
@click.option(
    "--dry-run",
    is_flag=True,
    help="Re-read the targets and show, per record, what would be written (current → new), "
    "conflicts, and the file a file-based source (Sage) would write; write and log nothing.",
)
@click.option(
    "--preview-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="With --dry-run: save the file(s) that would be written into this folder, to inspect them.",
)
@json_option
@pass_app
def apply_cmd(
    app: AppContext,
    plan_reference: str,
    checksum: str,
    force: bool,
    wait: float,
    dry_run: bool,
    preview_dir: Path | None,
) -> None:
    """Apply a plan: re-read each target, write only where the value is still as planned.

    Changes made upstream since the plan are reported as conflicts and left alone; fields not in
    writeback.owned_fields are skipped; applying the same plan again changes nothing. Every
    outcome is in 'writeback history'. Exit code 1 when a change conflicted, failed or was skipped.
    With --dry-run nothing is written and nothing is logged.

    \b
    Example:
      erp-recovery apply plan.json --checksum 3f9a1c0b2d4e
      erp-recovery apply plan.json --checksum 3f9a1c0b2d4e --dry-run --preview-dir preview/
      erp-recovery apply plan-3f9a1c0b2d4e --checksum 3f9a1c0b2d4e --force
    """
    if preview_dir is not None and not dry_run:
        raise click.UsageError("--preview-dir goes with --dry-run")
    plan = _load_plan(app, plan_reference)
    plan.verify(checksum)
    policy = app.config.section("writeback", WritebackPolicy)
    store = app.store()
    with store.connect() as connection:
        counts = source_population(connection, plan.source)
    connector = _writeback_connector(app, plan.source)
    if dry_run:
        try:
            preview = dry_run_plan(
                plan, connector, checksum=checksum, policy=policy, population=counts, force=force
            )
        finally:
            connector.close()
        click.echo(dry_run_json(preview) if app.as_json else render_dry_run(preview))
        if preview_dir is not None:
            for path in save_previews(preview, preview_dir):
                app.info(f"preview saved to {path}")
        return
    try:
        with named_lock(store, f"writeback:{plan.source}", wait=wait):
            report = apply_plan(
                plan,
                connector,
                checksum=checksum,
                policy=policy,
                population=counts,
                force=force,
                audit=StoreAuditLog(store),
            )
    finally:
        connector.close()
    click.echo(report_json(report) if app.as_json else report_text(report))
    outcome = report.counts()
    if report.status != "succeeded" or outcome["skipped"] or outcome["not_owned"]:
        raise click.exceptions.Exit(1)


@click.group("writeback")
def writeback_group() -> None:
    """Write-back plans and the audit log of what was applied.

    \b
    Example:
      erp-recovery writeback history --source odoo-main
      erp-recovery writeback history --run 12
    """


@writeback_group.command("history")
@click.option("--source", "source_name", help="Only plans for this source.")
@click.option("--plan", "plan_id", help="Only runs of this plan (plan-...).")
@click.option("--run", "run_id", type=int, help="Show every change of this apply run.")
@click.option("--limit", type=int, default=20, show_default=True, help="Runs to list.")
@json_option
@pass_app
def history_cmd(
    app: AppContext, source_name: str | None, plan_id: str | None, run_id: int | None, limit: int
) -> None:
    """Apply runs (newest first), or with --run the outcome of each change of one run.

    \b
    Example:
      erp-recovery writeback history
      erp-recovery writeback history --run 3 --json
    """
    store = app.store()
    with store.connect() as connection:
        if run_id is not None:
            rows = wb_store.run_entries(connection, run_id)
            if not rows:
                raise ErpRecoveryError(f"no apply run {run_id} (see 'erp-recovery writeback history')")
            entries = [
                {
                    "target": f"{row.entity} {row.external_id}" + (f" ({row.label})" if row.label else ""),
                    "change": row.name,
                    "base": (row.base or {}).get("value"),
                    "new": (row.new or {}).get("value"),
                    "observed": (row.observed or {}).get("value"),
                    "outcome": row.outcome,
                    "detail": row.detail,
                    "rule": row.rule,
                    "recorded_at": row.recorded_at,
                }
                for row in rows
            ]
            if app.as_json:
                app.emit_json({"run": run_id, "changes": entries})
                return
            app.table(
                f"apply run {run_id}",
                ["target", "change", "from", "to", "outcome", "detail"],
                [
                    [e["target"], e["change"], e["base"], e["new"], e["outcome"], e["detail"] or ""]
                    for e in entries
                ],
            )
            return
        runs = wb_store.history(connection, plan=plan_id, source=source_name, limit=limit)
    if app.as_json:
        app.emit_json([run.__dict__ for run in runs])
        return
    if not runs:
        app.info("no plan applied yet")
        return
    app.table(
        "write-back runs",
        ["run", "plan", "source", "status", "started", "by", "outcomes"],
        [
            [
                run.run_id,
                run.plan_id,
                run.source,
                run.status + (" (forced)" if run.forced else ""),
                run.started_at.isoformat(timespec="seconds") if run.started_at else "",
                run.actor or "",
                ", ".join(f"{k} {v}" for k, v in run.counts.items() if v),
            ]
            for run in runs
        ],
    )


@writeback_group.command("plans")
@click.option("--source", "source_name", help="Only plans for this source.")
@click.option("--limit", type=int, default=20, show_default=True)
@json_option
@pass_app
def plans_cmd(app: AppContext, source_name: str | None, limit: int) -> None:
    """Plans made so far (newest first), with the checksum 'apply' asks for.

    \b
    Example:
      erp-recovery writeback plans --source odoo-main
    """
    with app.store().connect() as connection:
        rows = wb_store.plans(connection, source=source_name, limit=limit)
    data = [
        {"plan": r.plan_id, "source": r.source, "created_at": r.created_at, "created_by": r.created_by,
         "changes": r.change_count, "checksum": r.checksum}
        for r in rows
    ]  # fmt: skip
    if app.as_json:
        app.emit_json(data)
        return
    app.table(
        "write-back plans",
        ["plan", "source", "made", "by", "changes", "checksum"],
        [
            [d["plan"], d["source"], d["created_at"], d["created_by"], d["changes"], d["checksum"][:16]]
            for d in data
        ],
    )


def register(group: click.Group) -> None:
    for command in (plan_cmd, apply_cmd, writeback_group):
        group.add_command(command)


__all__ = ["register"]
