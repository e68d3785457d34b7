"""Applying a plan: re-read, compare, write only what is still as planned, log everything.

``apply_plan`` guards, the connector writes (conventions: "guard at the public boundary, work in
the private method"):

1. the plan's checksum must match its content and the one the person approved (``--checksum``);
2. changes to fields the policy does not declare as owned are skipped (``not_owned``);
3. the safety limit: a plan changing more than ``max_share`` of a source's records is refused
   unless ``force`` (octoDNS' "too many changes, --force required");
4. every target is re-read (one batched ``read_current``): a field already at its new value is
   ``already_applied`` (so a second apply writes nothing), a field no longer at its planned base
   value is a ``conflict`` and is left as the person set it, a missing record too; an action
   found by its idempotency key is ``already_applied``;
5. the rest is grouped (same entity, field and new value; same action) and written, group by
   group; every outcome is committed to the audit log as soon as it is known;
6. written fields are read back (one batched read): ``applied`` when the value stuck, ``failed``
   when it did not (Odoo silently ignores writes to computed fields).

A crash anywhere leaves the audit log describing what was done; the next apply re-reads every
target and finishes the job, so the source ends exactly as after one clean apply.
"""

from __future__ import annotations

import logging
from collections import Counter, defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeAlias

from erp_recovery.errors import (
    AccessDeniedError,
    AuthenticationError,
    ConfigError,
    ErpRecoveryError,
    FatalError,
    MissingRecordError,
)
from erp_recovery.writeback.plan import ActionChange, FieldChange, Plan, canonical_value, same_value
from erp_recovery.writeback.policy import WritebackPolicy
from erp_recovery.writeback.target import Observed, WritebackTarget

log = logging.getLogger(__name__)

Change: TypeAlias = FieldChange | ActionChange


@dataclass(frozen=True)
class ChangeResult:
    change: Change
    outcome: str
    detail: str | None = None
    observed: Any = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.change.key,
            "target": self.change.target.describe(),
            "change": self.change.describe(),
            "outcome": self.outcome,
            "detail": self.detail,
            "observed": self.observed,
        }


@dataclass
class ApplyReport:
    plan_id: str
    source: str
    run_id: int | None = None
    status: str = "running"
    shares: list[str] = field(default_factory=list)
    results: list[ChangeResult] = field(default_factory=list)
    error: str | None = None

    def counts(self) -> dict[str, int]:
        counts = Counter(result.outcome for result in self.results)
        return {outcome: counts.get(outcome, 0) for outcome in
                ("applied", "already_applied", "conflict", "not_owned", "failed", "skipped")}  # fmt: skip

    def of(self, outcome: str) -> list[ChangeResult]:
        return [result for result in self.results if result.outcome == outcome]

    def to_dict(self) -> dict[str, Any]:
        return {
            "plan": self.plan_id,
            "source": self.source,
            "run_id": self.run_id,
            "status": self.status,
            "counts": self.counts(),
            "shares": self.shares,
            "changes": [result.to_dict() for result in self.results],
            "error": self.error,
        }


class AuditLog:
    """Where outcomes go. The store-backed log commits each entry at once (crash-safe)."""

    def start(self, plan: Plan, *, forced: bool) -> int | None:
        return None

    def record(self, run_id: int | None, result: ChangeResult) -> None:
        return None

    def finish(self, run_id: int | None, report: ApplyReport) -> None:
        return None


class StoreAuditLog(AuditLog):
    """The audit log in the store's ``writeback_*`` tables."""

    def __init__(self, store: Any) -> None:
        from erp_recovery.writeback import store as tables

        self.store = store
        self.tables = tables
        self._plan_row: int | None = None

    def start(self, plan: Plan, *, forced: bool) -> int:
        with self.store.begin() as connection:
            self._plan_row = self.tables.save_plan(connection, plan)
            stale = self.tables.interrupt_stale_runs(connection, self._plan_row)
            if stale:
                log.warning("plan %s: %d earlier apply run(s) had been interrupted", plan.id, stale)
            return self.tables.start_run(connection, self._plan_row, forced=forced)

    def record(self, run_id: int | None, result: ChangeResult) -> None:
        assert run_id is not None and self._plan_row is not None
        with self.store.begin() as connection:
            self.tables.record(
                connection,
                run_id=run_id,
                plan_row=self._plan_row,
                change=result.change,
                outcome=result.outcome,
                detail=result.detail,
                observed=result.observed,
            )

    def finish(self, run_id: int | None, report: ApplyReport) -> None:
        assert run_id is not None
        with self.store.begin() as connection:
            self.tables.finish_run(
                connection, run_id, status=report.status, counts=report.counts(), error=report.error
            )


def _group_key(change: Change) -> tuple[Any, ...]:
    if isinstance(change, FieldChange):
        return ("set", change.target.entity, change.field, repr(canonical_value(change.new)))
    return ("action", change.target.entity, change.action)


def _observed_value(observed: Observed | None) -> Any:
    if observed is None:
        return None
    return canonical_value(observed.value) if observed.exists else None


def _classify(change: Change, observed: Observed | None) -> ChangeResult | None:
    """The outcome decided by the re-read, or None when the change must be written."""
    if observed is None or not observed.exists:
        return ChangeResult(change, "conflict", "the record no longer exists upstream")
    if isinstance(change, ActionChange):
        if observed.done:
            return ChangeResult(change, "already_applied", f"found by its key {change.idempotency_key!r}")
        return None
    current = observed.value
    if same_value(current, change.new):
        return ChangeResult(change, "already_applied", None, canonical_value(current))
    if not same_value(current, change.base):
        return ChangeResult(
            change,
            "conflict",
            f"changed upstream since the plan was made: planned from {canonical_value(change.base)!r}, "
            f"now {canonical_value(current)!r}; left as it is",
            canonical_value(current),
        )
    return None


def apply_plan(
    plan: Plan,
    target: WritebackTarget,
    *,
    checksum: str,
    policy: WritebackPolicy,
    population: Mapping[str, int],
    force: bool = False,
    audit: AuditLog | None = None,
    after_group: Callable[[Sequence[Change]], None] | None = None,
) -> ApplyReport:
    """Apply ``plan`` through ``target`` (the source's connector). See the module docstring.

    ``after_group`` is called after each written group (progress display; tests use it to stop a
    run midway as a crash would).
    """
    plan.verify(checksum)
    policy = policy.for_source(plan.source)
    audit = audit or AuditLog()
    report = ApplyReport(plan_id=plan.id, source=plan.source)
    owned = [change for change in plan.changes if policy.owns(change)]
    not_owned = [change for change in plan.changes if not policy.owns(change)]
    report.shares = policy.check_share(owned, population, force=force)
    report.run_id = audit.start(plan, forced=force)

    def settle(result: ChangeResult) -> None:
        report.results.append(result)
        audit.record(report.run_id, result)

    try:
        for change in not_owned:
            settle(ChangeResult(change, "not_owned", f"{change.name!r} is not in writeback.owned_fields"))
        observed = target.read_current(owned) if owned else {}
        pending: list[Change] = []
        for change in owned:
            decided = _classify(change, observed.get(change.slot))
            if decided is None:
                pending.append(change)
            else:
                settle(decided)
        written = _write_groups(pending, target, policy.group_size, settle, after_group)
        _verify(written, target, settle)
    except (AuthenticationError, AccessDeniedError, ConfigError) as exc:
        report.error = exc.message
        done = {result.change.key for result in report.results}
        for change in plan.changes:
            if change.key not in done:
                settle(ChangeResult(change, "skipped", f"apply stopped: {exc.message}"))
    counts = report.counts()
    if report.error:
        report.status = "failed"
    elif counts["failed"] or counts["conflict"]:
        report.status = "partial"
    else:
        report.status = "succeeded"
    audit.finish(report.run_id, report)
    return report


def _write_groups(
    pending: Sequence[Change],
    target: WritebackTarget,
    group_size: int,
    settle: Callable[[ChangeResult], None],
    after_group: Callable[[Sequence[Change]], None] | None,
) -> list[FieldChange]:
    """Write pending changes in groups; returns the field changes written (to verify)."""
    groups: dict[tuple[Any, ...], list[Change]] = defaultdict(list)
    for change in pending:
        groups[_group_key(change)].append(change)
    written: list[FieldChange] = []
    for _key, members in groups.items():
        for start in range(0, len(members), group_size):
            chunk = members[start : start + group_size]
            outcomes = _write_chunk(chunk, target)
            for change, (outcome, detail) in zip(chunk, outcomes, strict=True):
                if outcome == "applied" and isinstance(change, FieldChange):
                    written.append(change)
                else:
                    settle(ChangeResult(change, outcome, detail))
            if after_group is not None:
                after_group(chunk)
    return written


def _write_chunk(chunk: Sequence[Change], target: WritebackTarget) -> list[tuple[str, str | None]]:
    try:
        target.write(chunk)
        return [("applied", None)] * len(chunk)
    except (AuthenticationError, AccessDeniedError, ConfigError):
        raise
    except MissingRecordError as exc:
        if len(chunk) == 1:
            return [("conflict", f"the record no longer exists upstream ({exc.message})")]
    except FatalError as exc:
        if len(chunk) == 1:
            return [("failed", exc.message)]
    except ErpRecoveryError as exc:  # transient errors left after the connector's retries
        return [("failed", exc.message)] * len(chunk)
    # One change in the group was refused: write them one by one to find which.
    return [_write_chunk([change], target)[0] for change in chunk]


def _verify(
    written: Sequence[FieldChange], target: WritebackTarget, settle: Callable[[ChangeResult], None]
) -> None:
    if not written:
        return
    after = target.read_current(written)
    for change in written:
        observed = after.get(change.slot)
        value = _observed_value(observed)
        if observed is not None and observed.exists and same_value(observed.value, change.new):
            settle(ChangeResult(change, "applied", None, value))
        else:
            settle(
                ChangeResult(
                    change,
                    "failed",
                    f"written, but reading it back gives {value!r}: the target system ignored the write "
                    "(a computed or protected field?)",
                    value,
                )
            )
