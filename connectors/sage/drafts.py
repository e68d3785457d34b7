"""Record drafts: the field values of a canonical record, built by the connector's ``to_canonical``.

File connectors derive many records at once (a FEC yields hundreds of thousands); building each
model where it is derived would make one bad record abort the whole read. A draft is the record's
values (a ``dict``, so the runner can quarantine it as it is) that knows its model; the connector
validates it in ``to_canonical``, where a refusal quarantines that record only.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from erp_recovery.errors import SkippableRecord
from erp_recovery.model.records import Record
from erp_recovery.sync.protocol import RawRecord


class RecordDraft(dict[str, Any]):
    """Field values of a ``model`` record (validated by :func:`build_draft`), and the line of the
    source file it comes from when there is one. Make one with :func:`draft`."""

    __slots__ = ("line", "model")
    model: type[Record]
    line: int | None


def draft(model: type[Record], values: dict[str, Any], line: int | None = None) -> RecordDraft:
    """A draft of ``values`` for ``model`` (dict's own constructor: no Python ``__init__`` to run,
    which matters at a few hundred thousand drafts per file)."""
    made = RecordDraft(values)
    made.model = model
    made.line = line
    return made


def build_draft(raw: RawRecord) -> Record:
    """The canonical record of a raw record holding a draft (or already a record).

    A record the model refuses raises :class:`~erp_recovery.errors.SkippableRecord` naming the
    field and the draft's origin, so it goes to the quarantine and the batch goes on.
    """
    data = raw.data
    if type(data) is not RecordDraft:
        if isinstance(data, Record):
            return data
        raise TypeError(f"not a record draft: {type(data).__name__}")
    try:
        return data.model.model_validate(data)
    except ValidationError as exc:
        error = exc.errors()[0]
        location = ".".join(str(part) for part in error["loc"])
        raise SkippableRecord(
            f"{location}: {error['msg'].removeprefix('Value error, ')}",
            file=raw.origin.file,
            line=raw.origin.line,
            record_id=raw.origin.record_id,
        ) from None
