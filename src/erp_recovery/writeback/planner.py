"""Making a plan from proposals: read the current values, drop what is already so, freeze.

Engines propose; the planner asks the source's connector for the current value of every proposed
field (one batched ``read_current``), which becomes the change's ``base``. A proposal whose
target already has the proposed value is dropped, as is an action already done, and a proposal
whose record no longer exists. Engines can register a provider of proposals under the
``erp_recovery.writeback_providers`` entry-point group: a callable
``(store, config, source_name) -> list[Proposal | ActionChange]``; ``erp-recovery plan SOURCE
--from NAME`` then builds the plan from it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter, ValidationError

from erp_recovery.errors import ConfigError, ParseError
from erp_recovery.writeback.plan import ActionChange, Plan, Proposal, same_value
from erp_recovery.writeback.target import WritebackTarget

PROVIDER_GROUP = "erp_recovery.writeback_providers"

Provider = Callable[[Any, Any, str], Sequence[Proposal | ActionChange]]


@dataclass
class PlanDraft:
    plan: Plan
    #: Proposals left out of the plan, with why (already so, record gone...).
    dropped: list[tuple[Proposal | ActionChange, str]] = field(default_factory=list)


def make_plan(
    source: str,
    target: WritebackTarget,
    proposals: Sequence[Proposal | ActionChange],
    *,
    created_by: str = "cli",
) -> PlanDraft:
    fields = [item for item in proposals if isinstance(item, Proposal)]
    actions = [item for item in proposals if isinstance(item, ActionChange)]
    items: list[Proposal | ActionChange] = [*fields, *actions]
    for item in items:
        if item.target.source != source:
            raise ConfigError(f"a proposal targets source {item.target.source!r}, the plan is for {source!r}")
    probes = [proposal.as_change() for proposal in fields]
    observed = target.read_current([*probes, *actions]) if (probes or actions) else {}
    changes: list[Any] = []
    dropped: list[tuple[Proposal | ActionChange, str]] = []
    for proposal, probe in zip(fields, probes, strict=True):
        seen = observed.get(probe.slot)
        if seen is None or not seen.exists:
            dropped.append((proposal, "the record does not exist upstream"))
        elif same_value(seen.value, proposal.new):
            dropped.append((proposal, "already has this value"))
        else:
            changes.append(proposal.as_change(base=seen.value))
    for action in actions:
        seen = observed.get(action.slot)
        if seen is None or not seen.exists:
            dropped.append((action, "the record does not exist upstream"))
        elif seen.done:
            dropped.append((action, "already done"))
        else:
            changes.append(action)
    return PlanDraft(Plan.build(source, changes, created_by=created_by), dropped)


_ITEMS = TypeAdapter(list[dict[str, Any]])


def load_proposals(path: Path) -> tuple[str | None, str, list[Proposal | ActionChange]]:
    """Read a proposals file: ``{"source", "created_by", "proposals": [...]}``.

    Each proposal is ``{"target": {...}, "field", "new", "reason"}``, or an action
    ``{"kind": "action", "target", "action", "params", "idempotency_key", "reason"}``.
    """
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise ParseError(f"cannot read proposals: {exc}", file=str(path)) from None
    except json.JSONDecodeError as exc:
        raise ParseError(f"not JSON: {exc.msg}", file=str(path), line=exc.lineno) from None
    if isinstance(data, list):
        data = {"proposals": data}
    if not isinstance(data, dict) or not isinstance(data.get("proposals"), list):
        raise ParseError('expected {"proposals": [...]}', file=str(path))
    items: list[Proposal | ActionChange] = []
    for index, raw in enumerate(data["proposals"], start=1):
        try:
            if isinstance(raw, dict) and raw.get("kind") == "action":
                items.append(ActionChange.model_validate(raw))
            else:
                items.append(Proposal.model_validate(raw))
        except ValidationError as exc:
            error = exc.errors()[0]
            where = ".".join(str(part) for part in error["loc"])
            raise ParseError(
                f"{where}: {error['msg']}", file=str(path), element=f"proposals[{index}]"
            ) from None
    return data.get("source"), str(data.get("created_by") or "cli"), items


def providers() -> dict[str, Any]:
    return {entry.name: entry for entry in entry_points(group=PROVIDER_GROUP)}


def provider(name: str) -> Provider:
    found = providers()
    if name not in found:
        known = ", ".join(sorted(found)) or "none installed"
        raise ConfigError(f"no write-back proposal provider {name!r}; installed: {known}")
    loaded: Provider = found[name].load()
    return loaded
