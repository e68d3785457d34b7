"""Incremental reading of one Odoo model by ``write_date``, with an overlap window and an id tie-break.

Odoo stamps ``write_date`` with the *start* time of the writing transaction, to the second
(``models.py`` ``_write_multi``), also when a stored computed field is recomputed (a residual
after a reconciliation). Two consequences shape this reader:

- many records share a ``write_date``: pages are cut with a keyset on ``(write_date, id)``
  (``write_date > d OR (write_date = d AND id > i)``, ordered ``write_date asc, id asc``), never
  with an offset, so records that change while we page move to the end and are read again;
- a transaction that started before our read and commits after it carries a ``write_date``
  older than the newest one we saw: each read therefore restarts ``overlap_seconds`` before the
  high-water mark, and the ``(id, write_date)`` pairs already seen inside that window are
  remembered in the cursor so that re-reading them yields nothing new.

A full read is the same query without the ``write_date`` bound; its ids are the ones present
upstream (the connector turns them into a :class:`~erp_recovery.sync.protocol.Snapshot`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .client import OdooClient

ODOO_DATETIME = "%Y-%m-%d %H:%M:%S"


def shift(write_date: str, seconds: int) -> str:
    moment = dt.datetime.strptime(write_date[:19], ODOO_DATETIME) + dt.timedelta(seconds=seconds)
    return moment.strftime(ODOO_DATETIME)


@dataclass
class ModelCursor:
    """Where the reading of one model stands: high-water mark and the window already seen."""

    write_date: str | None = None
    last_id: int = 0
    #: id -> write_date of records seen at or after ``write_date - overlap``.
    seen: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | None) -> ModelCursor:
        if not data:
            return cls()
        return cls(
            write_date=data.get("write_date"),
            last_id=int(data.get("id") or 0),
            seen={str(k): str(v) for k, v in (data.get("seen") or {}).items()},
        )

    def to_json(self) -> dict[str, Any]:
        return {"write_date": self.write_date, "id": self.last_id, "seen": dict(sorted(self.seen.items()))}

    def advance(self, rows: Sequence[Mapping[str, Any]], overlap_seconds: int) -> None:
        for row in rows:
            stamp = row.get("write_date") or ""
            if not stamp:
                continue
            key = (stamp, int(row["id"]))
            if self.write_date is None or key > (self.write_date, self.last_id):
                self.write_date, self.last_id = key
            self.seen[str(row["id"])] = stamp
        if self.write_date is not None:
            floor = shift(self.write_date, -overlap_seconds)
            self.seen = {rid: stamp for rid, stamp in self.seen.items() if stamp >= floor}


@dataclass
class Page:
    """One search_read page: the rows not seen before, and the cursor after it."""

    new_rows: list[dict[str, Any]]
    rows: list[dict[str, Any]]
    cursor: ModelCursor


class ModelReader:
    """Pages through ``model`` records matching ``domain``, incrementally or in full."""

    def __init__(
        self,
        client: OdooClient,
        model: str,
        domain: Sequence[Any],
        fields: Sequence[str],
        *,
        page_size: int,
        overlap_seconds: int,
        context: Mapping[str, Any] | None = None,
    ) -> None:
        self.client = client
        self.model = model
        self.domain = list(domain)
        self.fields = list(dict.fromkeys(["id", "write_date", *fields]))
        self.page_size = page_size
        self.overlap_seconds = overlap_seconds
        self.context = dict(context or {})

    def pages(self, cursor: ModelCursor, *, full: bool) -> Iterator[Page]:
        """Pages in ``(write_date, id)`` order; ``full`` ignores the cursor's high-water mark."""
        state = ModelCursor(cursor.write_date, cursor.last_id, dict(cursor.seen))
        bound: list[Any] = []
        if not full and state.write_date:
            bound = [("write_date", ">=", shift(state.write_date, -self.overlap_seconds))]
        keyset: list[Any] = []
        while True:
            rows = self.client.search_read(
                self.model,
                [*self.domain, *bound, *keyset],
                self.fields,
                limit=self.page_size,
                order="write_date asc, id asc",
                context=self.context,
            )
            new_rows = (
                rows if full else [r for r in rows if state.seen.get(str(r["id"])) != r.get("write_date")]
            )
            state.advance(rows, self.overlap_seconds)
            yield Page(new_rows, rows, ModelCursor(state.write_date, state.last_id, dict(state.seen)))
            if len(rows) < self.page_size:
                return
            last = rows[-1]
            keyset = [
                "|",
                ("write_date", ">", last["write_date"]),
                "&",
                ("write_date", "=", last["write_date"]),
                ("id", ">", last["id"]),
            ]
