"""Plans: frozen, serialisable lists of changes to write back to a source, with a checksum.

A :class:`FieldChange` says "set ``field`` of this record from ``base`` (the value read when the
plan was made) to ``new``, because of ``reason``". An :class:`ActionChange` says "do ``action``
once on this record" (schedule a dunning activity, post a chatter message...) and carries an
``idempotency_key`` chosen by the engine, stable across plan rebuilds, by which the connector
finds out whether the action was already done. Field names and action names are the connector
-independent write-back vocabulary (``credit_limit``, ``risk_flag``, ``trust``, ``dunning_step``...);
each connector maps them to its own fields.

Values (:data:`WriteValue`) are JSON-safe and round-trip exactly: ``Money`` for amounts (never a
bare number), ``bool``, ``int``, ``str`` (dates as ISO text), a tuple of strings, or ``None``
(nothing set).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Sequence
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from erp_recovery.errors import UnsafePlanError
from erp_recovery.model.money import Money
from erp_recovery.model.records import EntityName

PLAN_FORMAT = "erp-recovery.plan/1"

WriteValue = Money | bool | int | str | tuple[str, ...] | None
ActionParam = bool | int | str | None


def canonical_value(value: WriteValue) -> Any:
    """The JSON form of a value, used for keys, grouping and comparisons."""
    if isinstance(value, Money):
        return {"amount": format(value.quantized().amount, "f"), "currency": value.currency}
    if isinstance(value, tuple):
        return list(value)
    return value


def same_value(left: WriteValue, right: WriteValue) -> bool:
    """Equality as the write-back sees it: Money by amount and currency, tuples as sets."""
    if isinstance(left, tuple) and isinstance(right, tuple):
        return sorted(left) == sorted(right)
    if isinstance(left, bool) or isinstance(right, bool):
        return type(left) is type(right) and left == right
    return bool(canonical_value(left) == canonical_value(right))


def _digest(data: Any) -> str:
    text = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TargetRef(_Frozen):
    """The record a change applies to: its source, canonical entity and external id."""

    source: str = Field(min_length=1)
    entity: EntityName
    external_id: str = Field(min_length=1)
    #: What a person recognises (customer name, invoice number); shown, not used to find it.
    label: str | None = None

    def describe(self) -> str:
        label = f" ({self.label})" if self.label else ""
        return f"{self.entity} {self.external_id}{label}"


class Reason(_Frozen):
    """Why a change is proposed: the rule or decision that asked for it, in words."""

    rule: str = Field(min_length=1, description="rule or engine id, e.g. risk.limit or dunning.step")
    explanation: str = ""
    #: Reference to the engine's stored decision (assessment id, dunning case id...).
    decision_id: str | None = None


class FieldChange(_Frozen):
    """Set ``field`` of ``target`` from ``base`` (read at planning time) to ``new``."""

    kind: Literal["set"] = "set"
    target: TargetRef
    field: str = Field(min_length=1, pattern=r"^[a-z][a-z0-9_]*$")
    base: WriteValue = None
    new: WriteValue = None
    reason: Reason

    @field_validator("base", "new")
    @classmethod
    def _normalise(cls, value: WriteValue) -> WriteValue:
        return value.quantized() if isinstance(value, Money) else value

    @property
    def name(self) -> str:
        return self.field

    @property
    def slot(self) -> str:
        """What is written: one target field (two changes of one slot cannot share a plan)."""
        return f"{self.target.source}/{self.target.entity}/{self.target.external_id}/{self.field}"

    @property
    def key(self) -> str:
        return _digest(["set", self.slot, canonical_value(self.base), canonical_value(self.new)])[:24]

    def describe(self) -> str:
        return f"{self.field}: {render_value(self.base)} → {render_value(self.new)}"


class ActionChange(_Frozen):
    """Perform ``action`` once on ``target`` (e.g. a dunning step: activity + chatter message)."""

    kind: Literal["action"] = "action"
    target: TargetRef
    action: str = Field(min_length=1, pattern=r"^[a-z][a-z0-9_]*$")
    params: dict[str, ActionParam] = Field(default_factory=dict)
    #: Stable identity of this action (``dunning:invoice-25:level-2``): the connector looks it up
    #: upstream, so the action is done once however many times a plan is applied.
    idempotency_key: str = Field(min_length=1, max_length=120, pattern=r"^[A-Za-z0-9][A-Za-z0-9:._/-]*$")
    reason: Reason

    @property
    def name(self) -> str:
        return self.action

    @property
    def slot(self) -> str:
        return f"{self.target.source}/{self.target.entity}/{self.target.external_id}/{self.action}/{self.idempotency_key}"

    @property
    def key(self) -> str:
        return _digest(["action", self.slot, self.params])[:24]

    def describe(self) -> str:
        """One line for people: the summary and the short parameters (long texts are in --json)."""
        long_texts = ("summary", "message", "note")
        shown = ", ".join(
            f"{key}={value}"
            for key, value in sorted(self.params.items())
            if value is not None and key not in long_texts and len(str(value)) <= 60
        )
        head = f"{self.action}: {self.params['summary']}" if self.params.get("summary") else self.action
        return f"{head} ({shown})" if shown else head


Change = Annotated[FieldChange | ActionChange, Field(discriminator="kind")]


def render_value(value: WriteValue) -> str:
    if value is None:
        return "(none)"
    if isinstance(value, tuple):
        return ", ".join(value) or "(none)"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


class Proposal(_Frozen):
    """What an engine proposes before the plan reads the current value (``base``) for it."""

    target: TargetRef
    field: str = Field(min_length=1, pattern=r"^[a-z][a-z0-9_]*$")
    new: WriteValue = None
    reason: Reason

    def as_change(self, base: WriteValue = None) -> FieldChange:
        return FieldChange(target=self.target, field=self.field, base=base, new=self.new, reason=self.reason)


def _sort_key(change: FieldChange | ActionChange) -> tuple[str, ...]:
    return (change.target.entity, change.target.external_id.zfill(20), change.kind, change.name, change.key)


class Plan(_Frozen):
    """A frozen list of changes for one source, identified by the checksum of its content."""

    format: Literal["erp-recovery.plan/1"] = "erp-recovery.plan/1"
    source: str = Field(min_length=1)
    created_at: dt.datetime
    #: Who made it: an engine (``risk``, ``dunning``) or ``cli`` for hand-written proposals.
    created_by: str = "cli"
    changes: tuple[Change, ...] = ()
    checksum: str = Field(pattern=r"^[0-9a-f]{64}$")

    @model_validator(mode="after")
    def _one_source(self) -> Plan:
        others = sorted({c.target.source for c in self.changes} - {self.source})
        if others:
            raise ValueError(f"a plan writes to one source ({self.source}); changes name {', '.join(others)}")
        slots = [c.slot for c in self.changes]
        duplicates = sorted({slot for slot in slots if slots.count(slot) > 1})
        if duplicates:
            raise ValueError(f"two changes of the same target in one plan: {', '.join(duplicates)}")
        return self

    @staticmethod
    def compute_checksum(
        source: str, created_at: dt.datetime, created_by: str, changes: Sequence[FieldChange | ActionChange]
    ) -> str:
        body = {
            "format": PLAN_FORMAT,
            "source": source,
            "created_at": created_at.isoformat(),
            "created_by": created_by,
            "changes": [change.model_dump(mode="json") for change in changes],
        }
        return _digest(body)

    @classmethod
    def build(
        cls,
        source: str,
        changes: Iterable[FieldChange | ActionChange],
        *,
        created_by: str = "cli",
        created_at: dt.datetime | None = None,
    ) -> Plan:
        ordered = tuple(sorted(changes, key=_sort_key))
        stamp = (created_at or dt.datetime.now(dt.UTC)).astimezone(dt.UTC).replace(microsecond=0)
        checksum = cls.compute_checksum(source, stamp, created_by, ordered)
        return cls(source=source, created_at=stamp, created_by=created_by, changes=ordered, checksum=checksum)

    @property
    def id(self) -> str:
        return f"plan-{self.checksum[:12]}"

    def verify(self, checksum: str | None = None) -> None:
        """Check the content matches its checksum and, if given, the checksum a person approved.

        ``checksum`` may be the full hex digest or its first 12 characters or more.
        """
        actual = self.compute_checksum(self.source, self.created_at, self.created_by, self.changes)
        if actual != self.checksum:
            raise UnsafePlanError(
                f"plan {self.id} was modified after it was made (its checksum no longer matches): "
                "make a new plan with 'erp-recovery plan'",
                plan=self.id,
            )
        if checksum is not None:
            given = checksum.strip().lower()
            if len(given) < 12 or not self.checksum.startswith(given):
                raise UnsafePlanError(
                    f"--checksum {checksum!r} does not match plan {self.id} (checksum {self.checksum[:16]}...): "
                    "apply only the plan you reviewed",
                    plan=self.id,
                )

    def field_changes(self) -> list[FieldChange]:
        return [c for c in self.changes if isinstance(c, FieldChange)]

    def actions(self) -> list[ActionChange]:
        return [c for c in self.changes if isinstance(c, ActionChange)]

    def to_json(self) -> str:
        return self.model_dump_json(indent=2)

    @classmethod
    def from_json(cls, text: str) -> Plan:
        return cls.model_validate_json(text)
