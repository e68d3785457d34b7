"""Incremental reading by write_date: keyset pages with an id tie-break, the overlap window, the cursor."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from erp_recovery.connectors.odoo.client import OdooClient
from erp_recovery.connectors.odoo.incremental import ModelCursor, ModelReader, shift
from erp_recovery.connectors.odoo.settings import OdooSettings
from odoo_standin import OdooStandin
from odoo_standin.helpers import PASSWORD_ENV, source_settings


@pytest.fixture
def standin(monkeypatch: pytest.MonkeyPatch) -> Iterator[OdooStandin]:
    monkeypatch.setenv(PASSWORD_ENV, "admin")
    with OdooStandin() as server:
        yield server


def reader(standin: OdooStandin, page_size: int, overlap: int = 600) -> ModelReader:
    client = OdooClient(OdooSettings.model_validate(source_settings(standin)))
    domain = [("move_type", "in", ["out_invoice", "out_refund"]), ("state", "=", "posted")]
    return ModelReader(client, "account.move", domain, ["name"], page_size=page_size, overlap_seconds=overlap)


def test_cursor_keeps_the_high_water_mark_and_the_window() -> None:
    cursor = ModelCursor()
    cursor.advance(
        [{"id": 5, "write_date": "2026-11-22 09:00:00"}, {"id": 3, "write_date": "2026-11-22 10:00:00"},
         {"id": 4, "write_date": "2026-11-22 10:00:00"}],
        overlap_seconds=600,
    )  # fmt: skip
    assert (cursor.write_date, cursor.last_id) == ("2026-11-22 10:00:00", 4)
    assert cursor.seen == {
        "3": "2026-11-22 10:00:00",
        "4": "2026-11-22 10:00:00",
    }  # 09:00 is outside the window
    assert ModelCursor.from_json(cursor.to_json()) == cursor
    assert shift("2026-11-22 00:05:00", -600) == "2026-11-21 23:55:00"


def test_pages_cover_every_record_once_despite_shared_write_dates(standin: OdooStandin) -> None:
    pages = list(reader(standin, page_size=3).pages(ModelCursor(), full=True))
    ids = [row["id"] for page in pages for row in page.rows]
    assert len(ids) == len(set(ids)) == 22
    stamps = [(row["write_date"], row["id"]) for page in pages for row in page.rows]
    assert stamps == sorted(stamps)
    assert len({stamp for stamp, _ in stamps}) < len(stamps)  # write_dates are shared: the id breaks ties
    assert [len(page.rows) for page in pages] == [3] * 7 + [1]


def test_an_incremental_read_returns_only_new_or_changed_rows(standin: OdooStandin) -> None:
    first = list(reader(standin, page_size=50).pages(ModelCursor(), full=True))
    cursor = first[-1].cursor
    again = list(reader(standin, page_size=50).pages(cursor, full=False))
    assert sum(len(page.new_rows) for page in again) == 0
    assert sum(len(page.rows) for page in again) > 0  # the overlap window was re-read...
    standin.db.write("account.move", [2], {"ref": "changed"})
    changed = list(reader(standin, page_size=50).pages(cursor, full=False))
    assert [row["id"] for page in changed for row in page.new_rows] == [2]  # ...but only news are returned


def test_without_overlap_a_late_commit_would_be_missed(standin: OdooStandin) -> None:
    """Why the window exists: Odoo's write_date is the writing transaction's start time."""
    without = list(reader(standin, page_size=50, overlap=0).pages(ModelCursor(), full=True))[-1].cursor
    with_window = list(reader(standin, page_size=50, overlap=600).pages(ModelCursor(), full=True))[-1].cursor
    standin.db.write("account.move", [2], {"ref": "late"}, write_date="2026-11-22 09:59:00")
    missed = list(reader(standin, page_size=50, overlap=0).pages(without, full=False))
    assert not [row for page in missed for row in page.new_rows]
    caught = list(reader(standin, page_size=50, overlap=600).pages(with_window, full=False))
    assert [row["id"] for page in caught for row in page.new_rows] == [2]
