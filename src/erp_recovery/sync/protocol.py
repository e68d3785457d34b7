"""The connector protocol: the small interface every connector implements.

A connector *declares* its streams, *reads* raw records in batches from a cursor the runner gives
it, and *maps* each raw record to a canonical record. It never stores state: the runner keeps the
cursor, committed in the same transaction as the batch it covers (see :mod:`erp_recovery.sync.runner`).

Write-back connectors also implement :meth:`Connector.read_current` and :meth:`Connector.write`, the
two primitives the write-back mechanism (:mod:`erp_recovery.writeback`) needs.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import BaseModel, ConfigDict

from erp_recovery.model.records import EntityName, Record

if TYPE_CHECKING:
    from erp_recovery.config import SourceConfig
    from erp_recovery.writeback.plan import ActionChange, FieldChange
    from erp_recovery.writeback.target import Observed

#: A cursor is a JSON-serialisable dict, opaque to the runner (a write_date, a set of file hashes...).
Cursor = dict[str, Any]


@dataclass(frozen=True)
class StreamSpec:
    """What a connector offers: declared, not coded.

    Attributes:
        name: stream name, unique in the connector (``customers``, ``invoices``, ``statements``).
        entities: canonical entities its records map to (one stream may yield several, e.g. a FEC
            file yields customers, invoices, payments and allocations).
        primary_key: field of the raw record that identifies it upstream.
        cursor_field: field that orders incremental reads (``write_date``), None for file streams.
        is_sorted: whether ``read`` yields records in cursor order (then a crash can resume exactly).
    """

    name: str
    entities: tuple[EntityName, ...]
    primary_key: str = "id"
    cursor_field: str | None = None
    is_sorted: bool = True


@dataclass(frozen=True)
class Origin:
    """Where a raw record comes from: a file and line, or a remote record id. Shown in errors."""

    file: str | None = None
    line: int | None = None
    record_id: str | None = None

    def describe(self) -> str:
        parts = [self.file or "", f"line {self.line}" if self.line is not None else ""]
        if self.record_id:
            parts.append(f"record {self.record_id}")
        return ", ".join(part for part in parts if part) or "<unknown origin>"


@dataclass(frozen=True)
class RawRecord:
    """A record as read from the source, before mapping.

    ``data`` is the source's own shape (a CSV row as a dict, an Odoo record, a parsed bank entry),
    or already a canonical record when the connector's parser builds one directly.
    """

    data: Mapping[str, Any] | Record
    origin: Origin = field(default_factory=Origin)


@dataclass(frozen=True)
class Batch:
    """Records read together, and the cursor to resume from once they are stored."""

    records: Sequence[RawRecord]
    cursor: Cursor | None = None


@dataclass(frozen=True)
class Snapshot:
    """Every external id that exists upstream for ``entity`` (within ``scope``), at read time.

    The runner marks stored records of that entity, source and scope that are not listed as
    ``deleted`` (never removes them). Yield it after the batches it covers.
    """

    entity: EntityName
    present: frozenset[str]
    scope: str | None = None


@dataclass(frozen=True)
class Notice:
    """Something the user should know about a read that is not an error (a balance mismatch...).

    The runner records notices in the run's details and prints them; ``level`` is ``info`` or
    ``warning``.
    """

    message: str
    level: str = "warning"
    origin: Origin | None = None


class SourceSettings(BaseModel):
    """Base class of connector settings (``[sources.settings]`` in the configuration file)."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Connector(ABC):
    """Base class of connectors. Subclasses are registered under the ``erp_recovery.connectors``
    entry-point group (name = the ``connector`` value in configuration).

    Subclasses set ``name``, ``settings_model``, and implement :meth:`streams`, :meth:`read` and
    :meth:`to_canonical`.
    """

    name: ClassVar[str]
    settings_model: ClassVar[type[SourceSettings]] = SourceSettings
    #: Human description shown by ``erp-recovery connectors``.
    description: ClassVar[str] = ""

    def __init__(self, source: SourceConfig, settings: SourceSettings) -> None:
        self.source = source
        self.settings = settings

    @abstractmethod
    def streams(self) -> Sequence[StreamSpec]:
        """The streams this source offers, in the order they should be synced."""

    @abstractmethod
    def read(self, stream: StreamSpec, cursor: Cursor | None) -> Iterator[Batch | Snapshot | Notice]:
        """Yield batches of raw records newer than ``cursor`` (None = from the beginning).

        Each batch carries the cursor to resume from once it is stored. Never store the cursor
        yourself. Raise :class:`~erp_recovery.errors.ParseError` for a file that cannot be read at
        all (before yielding anything from it), :class:`~erp_recovery.errors.TransientError` for
        failures worth retrying.
        """

    def to_canonical(self, stream: StreamSpec, raw: RawRecord) -> Record:
        """Map one raw record to a canonical record.

        The default accepts records the connector already built as canonical models. Raise
        :class:`~erp_recovery.errors.SkippableRecord` for a bad record: it is quarantined with its
        origin and the batch goes on.
        """
        if isinstance(raw.data, Record):
            return raw.data
        raise NotImplementedError(f"{type(self).__name__} must map raw records of stream {stream.name}")

    def check(self) -> str:
        """Check connectivity or readability; return a one-line description of what was found."""
        return "ok"

    # -- write-back primitives (connectors that support write-back override both) -----------------

    #: Set (on the class, or per instance when it depends on settings) by write-back connectors.
    supports_writeback: bool = False

    def read_current(self, changes: Sequence[FieldChange | ActionChange]) -> Mapping[str, Observed]:
        """Current state of the targets of ``changes``, keyed by ``change.slot``.

        Field changes: the field's current value; actions: whether one with the same
        ``idempotency_key`` was already done. A missing record is left out (reported as a conflict
        by the mechanism). See :mod:`erp_recovery.writeback.target`.
        """
        raise NotImplementedError(f"connector {self.name!r} does not support write-back")

    def write(self, changes: Sequence[FieldChange | ActionChange]) -> None:
        """Write a group of changes sharing entity, field and new value (or action): one call where
        the target system allows it. Actions must stay findable by their ``idempotency_key``."""
        raise NotImplementedError(f"connector {self.name!r} does not support write-back")

    def close(self) -> None:
        """Release connections and files."""
