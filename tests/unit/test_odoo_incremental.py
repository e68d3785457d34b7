"""Incremental reading by write_date: keyset pages with an id tie-break, the overlap window, the cursor."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from erp_recovery.connectors.odoo.client import OdooClient
from erp_recovery.connectors.odoo.incremental import ModelCursor, ModelReader, Page, shift
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
    return ModelReader(
        client, "account.move", domain, ["name", "ref"], page_size=page_size, overlap_seconds=overlap
    )


def test_cursor_keeps_the_high_water_mark_and_the_window() -> None:
    cursor = ModelCursor()
    cursor.advance(
        [{"id": 5, "write_date": "2026-11-22 09:00:00"}, {"id": 3, "write_date": "2026-11-22 10:00:00"},
         {"id": 4, "write_date": "2026-11-22 10:00:00"}],
        overlap_seconds=600,
    )  # fmt: skip
    assert (cursor.write_date, cursor.last_id) == ("2026-11-22 10:00:00", 4)
    assert {rid: value[0] for rid, value in cursor.seen.items()} == {
        "3": "2026-11-22 10:00:00",
        "4": "2026-11-22 10:00:00",
    }  # 09:00 is outside the window
    assert ModelCursor.from_json(cursor.to_json()) == cursor
    assert shift("2026-11-22 00:05:00", -600) == "2026-11-21 23:55:00"


def all_rows(pages: list[Page]) -> list[dict[str, Any]]:
    return [row for page in pages for row in page.rows]


def test_pages_cover_every_record_once_despite_shared_write_dates(standin: OdooStandin) -> None:
    pages = list(reader(standin, page_size=3).pages(ModelCursor(), full=True))
    ids = [row["id"] for row in all_rows(pages)]
    assert len(ids) == len(set(ids)) == 22
    stamps = [(row["write_date"], row["id"]) for row in all_rows(pages)]
    assert stamps == sorted(stamps)
    assert len({stamp for stamp, _ in stamps}) < len(stamps)  # write_dates are shared: the id breaks ties


def test_a_second_holding_more_records_than_a_page(standin: OdooStandin) -> None:
    """One transaction (an import, a batch reconciliation) stamps all its records alike."""
    batch = [1, 2, 3, 4, 8, 9, 12, 13, 14, 25]
    standin.db.write("account.move", batch, {"ref": "batch"})
    pages = list(reader(standin, page_size=3).pages(ModelCursor(), full=True))
    ids = [row["id"] for row in all_rows(pages)]
    assert sorted(ids) == sorted(set(ids)) and len(ids) == 22
    assert [row["id"] for row in all_rows(pages) if row["ref"] == "batch"] == batch


def test_seconds_shared_by_transactions_in_another_order_than_ids(standin: OdooStandin) -> None:
    """Within a second, the true (microsecond) order may differ from the id order."""
    for rid in (39, 3, 31, 1, 36, 2):  # six transactions, 0.25 s apart: two seconds, ids out of order
        standin.db.write("account.move", [rid], {"ref": f"r{rid}"})
    for page_size in (2, 3, 4, 5):
        rows = all_rows(list(reader(standin, page_size=page_size).pages(ModelCursor(), full=True)))
        assert sorted(row["id"] for row in rows) == sorted({row["id"] for row in rows}), page_size
        assert len(rows) == 22, page_size


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


def test_two_writes_in_the_same_second_are_both_seen(standin: OdooStandin) -> None:
    cursor = list(reader(standin, page_size=50).pages(ModelCursor(), full=True))[-1].cursor
    standin.db.clock.tick(1)
    standin.db.write("account.move", [2], {"ref": "first"})
    cursor = list(reader(standin, page_size=50).pages(cursor, full=False))[-1].cursor
    standin.db.write("account.move", [2], {"ref": "second"})  # 0.25 s later: the same second
    assert standin.db.records["account.move"][2]["write_date"][:19] == cursor.write_date
    again = list(reader(standin, page_size=50).pages(cursor, full=False))
    assert [row["ref"] for row in all_rows_new(again)] == ["second"]


def all_rows_new(pages: list[Page]) -> list[dict[str, Any]]:
    return [row for page in pages for row in page.new_rows]
