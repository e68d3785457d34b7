"""Dry run of a plan: what ``apply`` would do now, without writing anything or logging an apply.

:func:`dry_run` guards like :func:`~erp_recovery.writeback.apply.apply_plan` (checksum, owned
fields, safety share: a plan ``apply`` would refuse is reported as refused) and re-reads every
target, so each change is shown as it would end: ``would_write`` (current value → new),
``already_applied``, ``conflict`` (changed upstream since the plan: left alone) or ``not_owned``.

Targets that write files (the Sage connectors: an import file a person then imports into Sage)
also implement :class:`PreviewTarget`: ``preview(changes)`` returns the file(s) ``write`` would
produce for the changes that would be written, with a line per changed record field, and writes
nothing. ``erp-recovery apply PLAN --checksum C --dry-run [--preview-dir DIR]`` shows the report
and can save those files into ``DIR`` for inspection.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from erp_recovery.errors import UnsafePlanError
from erp_recovery.writeback.apply import ChangeResult, _classify
from erp_recovery.writeback.plan import ActionChange, FieldChange, Plan, canonical_value, render_value
from erp_recovery.writeback.policy import WritebackPolicy
from erp_recovery.writeback.target import WritebackTarget


@dataclass(frozen=True)
class FilePreview:
    """A file a file-based target would write: where, its bytes, and what changes in it."""

    path: Path
    content: bytes
    #: What the file is ("format Sage import file, 2 customer record(s)").
    description: str
    #: One line per changed record field ("#MPCT C1 field 30 (credit_limit): 1000,00 → 2500,00").
    details: tuple[str, ...] = ()


@runtime_checkable
class PreviewTarget(Protocol):
    def preview(self, changes: Sequence[FieldChange | ActionChange]) -> list[FilePreview]: ...


@dataclass
class DryRunReport:
    plan_id: str
    source: str
    results: list[ChangeResult] = field(default_factory=list)
    shares: list[str] = field(default_factory=list)
    #: Why ``apply`` would refuse the plan (safety share exceeded without --force), if it would.
    refused: str | None = None
    files: list[FilePreview] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        names = ("would_write", "already_applied", "conflict", "not_owned")
        return {name: sum(1 for r in self.results if r.outcome == name) for name in names}

    def to_dict(self) -> dict[str, Any]:
        return {
            "plan": self.plan_id,
            "source": self.source,
            "dry_run": True,
            "counts": self.counts(),
            "refused": self.refused,
            "shares": self.shares,
            "changes": [result.to_dict() for result in self.results],
            "files": [
                {
                    "path": str(preview.path),
                    "description": preview.description,
                    "bytes": len(preview.content),
                    "details": list(preview.details),
                }
                for preview in self.files
            ],
        }


def dry_run(
    plan: Plan,
    target: WritebackTarget,
    *,
    checksum: str,
    policy: WritebackPolicy,
    population: Mapping[str, int],
    force: bool = False,
) -> DryRunReport:
    """What applying ``plan`` would do now. Reads the targets; writes nothing, logs nothing."""
    plan.verify(checksum)
    policy = policy.for_source(plan.source)
    report = DryRunReport(plan_id=plan.id, source=plan.source)
    owned = [change for change in plan.changes if policy.owns(change)]
    for change in plan.changes:
        if not policy.owns(change):
            report.results.append(
                ChangeResult(change, "not_owned", f"{change.name!r} is not in writeback.owned_fields")
            )
    report.shares = policy.check_share(owned, population, force=True)
    try:
        policy.check_share(owned, population, force=force)
    except UnsafePlanError as exc:
        report.refused = exc.message
    observed = target.read_current(owned) if owned else {}
    pending: list[FieldChange | ActionChange] = []
    for change in owned:
        seen = observed.get(change.slot)
        decided = _classify(change, seen)
        if decided is None:
            current = seen.value if seen is not None else None
            report.results.append(ChangeResult(change, "would_write", None, canonical_value(current)))
            pending.append(change)
        else:
            report.results.append(decided)
    if pending and isinstance(target, PreviewTarget):
        report.files = target.preview(pending)
    return report


def _target_key(result: ChangeResult) -> tuple[str, str]:
    return (result.change.target.entity, result.change.target.external_id.zfill(20))


def render_dry_run(report: DryRunReport) -> str:
    """Text for a terminal: per target (customer), each field as current → new, then the files."""
    counts = report.counts()
    lines = [
        f"{report.plan_id} on {report.source}: DRY RUN, nothing written",
        "  " + ", ".join(f"{name.replace('_', ' ')} {count}" for name, count in counts.items() if count),
    ]
    lines += [f"  safety: {line}" for line in report.shares]
    if report.refused:
        lines.append(f"  REFUSED without --force: {report.refused}")
    current_target = None
    for result in sorted(report.results, key=_target_key):
        change = result.change
        described = change.target.describe()
        if described != current_target:
            lines.append(f"  {described}:")
            current_target = described
        if isinstance(change, FieldChange):
            if result.outcome == "would_write":
                text = f"{change.field}: {render_value(change.base)} → {render_value(change.new)}"
            elif result.outcome == "conflict":
                text = f"{change.field}: planned {render_value(change.base)} → {render_value(change.new)}"
            else:
                text = change.describe()
        else:
            text = change.describe()
        outcome = result.outcome.replace("_", " ")
        lines.append(f"    {text}   [{outcome}]" + (f" {result.detail}" if result.detail else ""))
    for preview in report.files:
        lines.append(f"  would write {preview.path}: {preview.description}")
        lines += [f"    {detail}" for detail in preview.details]
    return "\n".join(lines)


def dry_run_json(report: DryRunReport) -> str:
    return json.dumps(report.to_dict(), indent=2, default=str)


def save_previews(report: DryRunReport, folder: Path) -> list[Path]:
    """Write the previewed files into ``folder`` (never where the target would write them)."""
    folder.mkdir(parents=True, exist_ok=True)
    saved = []
    for preview in report.files:
        path = folder / preview.path.name
        path.write_bytes(preview.content)
        saved.append(path)
    return saved
