"""Incremental reading of one Odoo model by ``write_date``, with an overlap window and an id tie-break.

Odoo stamps ``write_date`` with the *start* time of the writing transaction (``cr.now()``,
``models.py`` ``_write_multi``), also when a stored computed field is recomputed (a residual
after a reconciliation). PostgreSQL keeps the microseconds; the ORM reads and compares them, but
hands them out to the second. Three consequences shape this reader:

- many records share a second (a whole import is one transaction): pages are cut *between*
  seconds — a full page ending inside a second stops before that second and the next page starts
  at it (``write_date >= second``); a second holding more records than a page is read on its own,
  by id (``second <= write_date < second + 1s``, ``id > last``). An offset is never used, so
  records that change while we page move to the end and are read again;
- a transaction that started before our read and commits after it carries a ``write_date``
  older than the newest one we saw: each read restarts ``overlap_seconds`` before the high-water
  mark;
- rows re-read inside that window are compared with what was read last time — the cursor keeps,
  per id, the second and a fingerprint of the fields read — so only rows that really changed are
  returned, even when two writes fall in the same second.

A full read is the same query without the ``write_date`` bound (plus the rare records without a
``write_date``); its ids are the ones present upstream (the connector turns them into a
:class:`~erp_recovery.sync.protocol.Snapshot`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .client import OdooClient

ODOO_DATETIME = "%Y-%m-%d %H:%M:%S"
ORDER = "write_date asc, id asc"


def shift(write_date: str, seconds: int) -> str:
    moment = dt.datetime.strptime(write_date[:19], ODOO_DATETIME) + dt.timedelta(seconds=seconds)
    return moment.strftime(ODOO_DATETIME)


def fingerprint(row: Mapping[str, Any]) -> str:
    """A short digest of everything read for a record (write_date included)."""
    text = json.dumps(row, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


@dataclass
class ModelCursor:
    """Where the reading of one model stands: high-water mark and the rows seen in the window."""

    write_date: str | None = None
    last_id: int = 0
    #: id -> [write_date, fingerprint] of records seen at or after ``write_date - overlap``.
    seen: dict[str, list[str]] = field(default_factory=dict)
    #: A full read was done (a model without records has no high-water mark yet still was read).
    initialized: bool = False

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | None) -> ModelCursor:
        if not data:
            return cls()
        seen = {}
        for key, value in (data.get("seen") or {}).items():
            if isinstance(value, list) and len(value) == 2:
                seen[str(key)] = [str(value[0]), str(value[1])]
        return cls(
            write_date=data.get("write_date"),
            last_id=int(data.get("id") or 0),
            seen=seen,
            initialized=bool(data.get("initialized", data.get("write_date") is not None)),
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "write_date": self.write_date,
            "id": self.last_id,
            "seen": dict(sorted(self.seen.items())),
            "initialized": self.initialized,
        }

    def copy(self) -> ModelCursor:
        return ModelCursor(
            self.write_date, self.last_id, {k: list(v) for k, v in self.seen.items()}, self.initialized
        )

    def is_new(self, row: Mapping[str, Any]) -> bool:
        known = self.seen.get(str(row["id"]))
        return known is None or known[1] != fingerprint(row)

    def advance(self, rows: Sequence[Mapping[str, Any]], overlap_seconds: int) -> None:
        for row in rows:
            stamp = row.get("write_date") or ""
            if not stamp:
                continue
            key = (stamp, int(row["id"]))
            if self.write_date is None or key > (self.write_date, self.last_id):
                self.write_date, self.last_id = key
            self.seen[str(row["id"])] = [stamp, fingerprint(row)]
        if self.write_date is not None:
            floor = shift(self.write_date, -overlap_seconds)
            self.seen = {rid: value for rid, value in self.seen.items() if value[0] >= floor}


@dataclass
class Page:
    """One batch of rows: those not seen before, all of them, and the cursor after them."""

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

    def _search(self, domain: Sequence[Any], order: str) -> list[dict[str, Any]]:
        return self.client.search_read(
            self.model,
            [*self.domain, *domain],
            self.fields,
            limit=self.page_size,
            order=order,
            context=self.context,
        )

    def _page(self, rows: list[dict[str, Any]], state: ModelCursor, full: bool) -> Page:
        new_rows = rows if full else [row for row in rows if state.is_new(row)]
        state.advance(rows, self.overlap_seconds)
        return Page(new_rows, rows, state.copy())

    def pages(self, cursor: ModelCursor, *, full: bool) -> Iterator[Page]:
        """Pages of records; ``full`` (or a first read) reads everything, else only what changed."""
        state = cursor.copy()
        if full or not state.initialized:
            state.initialized = True
            yield from self._full(state)
        else:
            yield from self._incremental(state)

    def _full(self, state: ModelCursor) -> Iterator[Page]:
        lower: str | None = None
        while True:
            bound: list[Any] = [("write_date", ">=", lower)] if lower else [("write_date", "!=", False)]
            rows = self._search(bound, ORDER)
            if len(rows) < self.page_size:
                yield self._page(rows, state, True)
                break
            last_second = str(rows[-1]["write_date"])
            if rows[0]["write_date"] == last_second:
                yield from self._one_second(last_second, state, True)
                lower = shift(last_second, 1)
            else:
                yield self._page([row for row in rows if row["write_date"] != last_second], state, True)
                lower = last_second
        yield from self._without_write_date(state)

    def _incremental(self, state: ModelCursor) -> Iterator[Page]:
        """One light search lists (id, write_date) from ``overlap`` before the high-water mark; the
        rows that are new, moved to another second, or in the last two seconds seen (a write in the
        same second as our last read looks unchanged to the second) are then read in full, by id,
        and compared with their fingerprints."""
        if state.write_date is None:  # nothing existed at the last read: everything is new
            bound: list[Any] = []
            tail = ""
        else:
            bound = [("write_date", ">=", shift(state.write_date, -self.overlap_seconds))]
            tail = shift(state.write_date, -1)
        listed = self.client.search_read(
            self.model, [*self.domain, *bound], ["id", "write_date"], order=ORDER, context=self.context
        )
        candidates = []
        for row in listed:
            known = state.seen.get(str(row["id"]))
            if known is None or known[0] != row["write_date"] or (tail and str(row["write_date"]) >= tail):
                candidates.append(int(row["id"]))
        if not candidates:
            yield Page([], [], state.copy())
            return
        for start in range(0, len(candidates), self.page_size):
            rows = self.client.read(self.model, candidates[start : start + self.page_size], self.fields)
            yield self._page(rows, state, False)

    def _one_second(self, second: str, state: ModelCursor, full: bool) -> Iterator[Page]:
        """Every record of one second, by id (more of them than a page holds)."""
        last_id = 0
        while True:
            rows = self._search(
                [("write_date", ">=", second), ("write_date", "<", shift(second, 1)), ("id", ">", last_id)],
                "id asc",
            )
            yield self._page(rows, state, full)
            if len(rows) < self.page_size:
                return
            last_id = int(rows[-1]["id"])

    def _without_write_date(self, state: ModelCursor) -> Iterator[Page]:
        """Records inserted without the ORM have no write_date: only a full read finds them."""
        last_id = 0
        while True:
            rows = self._search([("write_date", "=", False), ("id", ">", last_id)], "id asc")
            if rows:
                yield Page(rows, rows, state.copy())
            if len(rows) < self.page_size:
                return
            last_id = int(rows[-1]["id"])
