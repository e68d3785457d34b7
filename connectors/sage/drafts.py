"""Record drafts: the field values of canonical records derived from a file, validated in batches.

File connectors derive many records at once (a FEC yields hundreds of thousands). A derivation
yields :data:`Draft` tuples (model, field values, source line); :func:`validated` turns a batch of
them into raw records: each model's drafts are validated by pydantic in one call (a list
validator: fewer Python round trips than one call per record). When a model refuses one record of
the batch, that model's drafts are passed on as :class:`RecordDraft` instead, which the connector's
``to_canonical`` validates one by one (:func:`build_draft`), so only the bad record goes to the
quarantine, with its line, and the batch goes on.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import TypeAdapter, ValidationError

from erp_recovery.errors import SkippableRecord
from erp_recovery.model.records import Record
from erp_recovery.sync.protocol import Origin, RawRecord, StreamSpec

#: The one stream of a ledger file connector (FEC, Sage 50): every file is read whole, as a
#: snapshot, with no cursor.
LEDGER_STREAM = StreamSpec(
    name="ledger",
    entities=("customer", "invoice", "payment", "allocation"),
    primary_key="external_id",
    cursor_field=None,
    is_sorted=False,
)

#: A record not built yet: its model, its field values, and the line of the file it comes from.
Draft = tuple[type[Record], dict[str, Any], int | None]

_LIST_VALIDATORS: dict[type[Record], TypeAdapter[list[Any]]] = {}


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


def _list_validator(model: type[Record]) -> TypeAdapter[list[Any]]:
    adapter = _LIST_VALIDATORS.get(model)
    if adapter is None:
        adapter = _LIST_VALIDATORS[model] = TypeAdapter(list[model])  # type: ignore[valid-type]
    return adapter


def validated(drafts: Sequence[Draft], file_name: str) -> list[RawRecord]:
    """Raw records for a batch of drafts: validated records, or (for a model that refused one of
    its records) the drafts themselves, validated one by one later by :func:`build_draft`."""
    by_model: dict[type[Record], list[int]] = {}
    for index, (model, _values, _line) in enumerate(drafts):
        by_model.setdefault(model, []).append(index)
    raws: list[RawRecord | None] = [None] * len(drafts)
    # Validated records are never quarantined: they share one origin (the file).
    file_origin = Origin(file=file_name)
    for model, indexes in by_model.items():
        try:
            records = _list_validator(model).validate_python([drafts[i][1] for i in indexes])
        except ValidationError:
            for i in indexes:
                values, line = drafts[i][1], drafts[i][2]
                raws[i] = RawRecord(
                    draft(model, values, line), Origin(file_name, line, values.get("external_id"))
                )
            continue
        for i, record in zip(indexes, records, strict=True):
            raws[i] = RawRecord(record, file_origin)
    return [raw for raw in raws if raw is not None]


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
