"""Showing a plan (text for a terminal, JSON for scripts, Markdown for a ticket or an e-mail)
and an apply report."""

from __future__ import annotations

import json
from typing import Any

from erp_recovery.writeback.apply import ApplyReport
from erp_recovery.writeback.plan import ActionChange, FieldChange, Plan, render_value


def _rows(plan: Plan) -> list[tuple[str, str, str, str, str]]:
    rows = []
    for change in plan.changes:
        if isinstance(change, FieldChange):
            what, before, after = change.field, render_value(change.base), render_value(change.new)
        else:
            assert isinstance(change, ActionChange)
            what, before, after = change.action, "", change.describe()
        reason = change.reason.rule + (f": {change.reason.explanation}" if change.reason.explanation else "")
        rows.append((change.target.describe(), what, before, after, reason))
    return rows


def plan_summary(plan: Plan) -> str:
    fields = len(plan.field_changes())
    actions = len(plan.actions())
    return (
        f"{plan.id} for {plan.source}: {fields} field change(s), {actions} action(s); "
        f"made {plan.created_at.isoformat()} by {plan.created_by}; checksum {plan.checksum}"
    )


def render_text(plan: Plan) -> str:
    lines = [plan_summary(plan), ""]
    if not plan.changes:
        lines.append("Nothing to change: every target already has the proposed value.")
    for target, what, before, after, reason in _rows(plan):
        arrow = f"{before} → {after}" if before else after
        lines.append(f"  {target}: {what}: {arrow}")
        lines.append(f"      because {reason}")
    lines += ["", f"Apply with: erp-recovery apply PLAN --checksum {plan.checksum[:16]}"]
    return "\n".join(lines)


def _md(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render_markdown(plan: Plan) -> str:
    lines = [
        f"## Write-back plan `{plan.id}` for `{plan.source}`",
        "",
        f"- made: {plan.created_at.isoformat()} by {plan.created_by}",
        f"- changes: {len(plan.field_changes())} field change(s), {len(plan.actions())} action(s)",
        f"- checksum: `{plan.checksum}`",
        "",
        "| target | field / action | current | new | reason |",
        "|---|---|---|---|---|",
    ]
    lines += [f"| {' | '.join(_md(cell) for cell in row)} |" for row in _rows(plan)]
    lines += ["", f"Apply with `erp-recovery apply PLAN --checksum {plan.checksum[:16]}`."]
    return "\n".join(lines)


def render_json(plan: Plan) -> str:
    return plan.to_json()


def render(plan: Plan, style: str) -> str:
    if style == "json":
        return render_json(plan)
    if style == "markdown":
        return render_markdown(plan)
    return render_text(plan)


def report_text(report: ApplyReport) -> str:
    counts = report.counts()
    lines = [
        f"{report.plan_id} on {report.source}: {report.status} (run {report.run_id})",
        "  " + ", ".join(f"{name.replace('_', ' ')} {count}" for name, count in counts.items() if count),
    ]
    lines += [f"  safety: {line}" for line in report.shares]
    for result in report.results:
        if result.outcome in ("conflict", "failed", "skipped", "not_owned"):
            lines.append(
                f"  {result.outcome.upper()}: {result.change.target.describe()} {result.change.describe()}"
                + (f" — {result.detail}" if result.detail else "")
            )
    if report.error:
        lines.append(f"  stopped: {report.error}")
    return "\n".join(lines)


def report_json(report: ApplyReport) -> str:
    data: dict[str, Any] = report.to_dict()
    return json.dumps(data, indent=2, default=str)
