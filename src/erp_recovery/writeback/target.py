"""What a connector implements to be a write-back target: read the current state, write changes.

The mechanism (:mod:`erp_recovery.writeback.apply`) only ever calls these two methods, through
the :class:`~erp_recovery.sync.protocol.Connector` of the plan's source:

``read_current(changes) -> {change.slot: Observed}``
    One entry per change whose target exists: for a :class:`FieldChange` the field's current
    value in the plan's vocabulary (``Money`` for a credit limit, ``str`` for a risk class...);
    for an :class:`ActionChange` whether an action with its ``idempotency_key`` was already done.
    A target that no longer exists is left out (or given ``exists=False``). Batch the reads (one
    call per model, not per record).

``write(changes) -> None``
    Apply a group the mechanism already checked: field changes that share entity, field and new
    value (write them in one call when the target system allows it), or actions that share entity
    and action name. Raise from :mod:`erp_recovery.errors` on failure: ``TransientError`` (after
    the connector's own retries), ``AccessDeniedError``/``AuthenticationError`` (the apply stops),
    ``RemoteError``/``MissingRecordError`` (the group is retried one change at a time to find the
    culprit). Actions must be findable afterwards by their ``idempotency_key`` (write it into the
    created record), so that a crash between the write and the audit log is harmless.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from erp_recovery.writeback.plan import ActionChange, FieldChange, WriteValue


@dataclass(frozen=True)
class Observed:
    """The state of one change's target upstream, as the connector read it."""

    exists: bool = True
    #: Field changes: the current value (in the plan's vocabulary).
    value: WriteValue = None
    #: Actions: an action with the change's idempotency key was already performed.
    done: bool = False
    #: Where it was seen (``res.partner 10``...), for the audit log.
    where: str | None = None


@runtime_checkable
class WritebackTarget(Protocol):
    def read_current(self, changes: Sequence[FieldChange | ActionChange]) -> Mapping[str, Observed]: ...

    def write(self, changes: Sequence[FieldChange | ActionChange]) -> None: ...
