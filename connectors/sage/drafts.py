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
    """Field values of a ``model`` record (validated by :func:`build_draft`)."""

    __slots__ = ("model",)

    def __init__(self, model: type[Record], values: dict[str, Any]) -> None:
        super().__init__(values)
        self.model = model


def build_draft(raw: RawRecord) -> Record:
    """The canonical record of a raw record holding a draft (or already a record).

    A record the model refuses raises :class:`~erp_recovery.errors.SkippableRecord` naming the
    field and the draft's origin, so it goes to the quarantine and the batch goes on.
    """
    data = raw.data
    if isinstance(data, Record):
        return data
    if not isinstance(data, RecordDraft):
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
