"""Bank statement files through the sync runner: folder source and ``import-bank``, on SQLite and
PostgreSQL: cross-format dedup, idempotent re-import, rejected files stored nothing."""

from __future__ import annotations

import shutil
from pathlib import Path

from sqlalchemy import func, select

from erp_recovery.cli.main import main
from erp_recovery.config import load_config
from erp_recovery.store import Store
from erp_recovery.store.schema import RECORD_TABLES
from erp_recovery.sync.runner import SyncRunner

FIXTURES = Path(__file__).resolve().parents[1] / "golden" / "bank" / "fixtures"


def _config(tmp_path: Path, store_url: str) -> Path:
    (tmp_path / "inbox").mkdir()
    config = tmp_path / "erp-recovery.toml"
    config.write_text(
        f"""
[store]
url = "{store_url}"
[[companies]]
code = "acme"
name = "ACME"
[[sources]]
name = "bank"
company = "acme"
connector = "bank-folder"
[sources.settings]
inbox = "inbox"
""",
        encoding="utf-8",
    )
    return config


def _rows(store: Store) -> dict[str, tuple[str, str]]:
    table = RECORD_TABLES["bank_transaction"]
    with store.connect() as connection:
        return {
            row.external_id: (row.content_hash, row.upstream_state)
            for row in connection.execute(
                select(table.c.external_id, table.c.content_hash, table.c.upstream_state)
            )
        }


def test_folder_import_dedups_across_formats_and_rejects_bad_files(
    tmp_path: Path, store_url: str, store: Store
) -> None:
    config = load_config(_config(tmp_path, store_url))
    inbox = tmp_path / "inbox"
    for name in ("camt053-tricky.xml", "mt940-cp850.sta", "cfonb120-sepa.txt", "camt053-truncated.xml"):
        shutil.copy(FIXTURES / name, inbox / name)
    report = SyncRunner(store, config).sync("bank")
    assert report.status == "succeeded", report.error
    # 6 camt transactions (a batch split in 2); the MT940 and CFONB files carry the same bookings
    # (same ids) plus the unsplit batch booking under the entry's own id.
    rows = _rows(store)
    assert len(rows) == 7
    assert report.total("rejected") == 1
    assert report.rejects[0]["origin"].startswith("camt053-truncated.xml")
    assert sorted(p.name for p in (inbox / "archive").iterdir()) == [
        "camt053-tricky.xml",
        "cfonb120-sepa.txt",
        "mt940-cp850.sta",
    ]
    reason = (inbox / "rejected" / "camt053-truncated.xml.reason.txt").read_text()
    assert "line 53" in reason and "not well-formed XML" in reason
    assert not [p for p in inbox.iterdir() if p.is_file()]

    # The same files again, under other names: recognised by content, nothing changes.
    for name in ("camt053-tricky.xml", "mt940-cp850.sta"):
        shutil.copy(FIXTURES / name, inbox / f"copy-of-{name}")
    again = SyncRunner(store, config).sync("bank")
    assert again.status == "succeeded"
    assert again.total("read") == 0 and _rows(store) == rows
    assert any("already imported" in notice["message"] for notice in again.notices)


def test_import_bank_command(tmp_path: Path, store_url: str, store: Store, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    config = _config(tmp_path, store_url)
    monkeypatch.setenv("ERP_RECOVERY_CONFIG", str(config))
    files = [str(FIXTURES / "camt053-tricky.xml"), str(FIXTURES / "statements.zip")]
    assert main(["--json", "import-bank", *files]) == 0
    first = _rows(Store(load_config(config).store_url(None)))
    assert len(first) == 7
    # Re-importing changes nothing; a bad file is rejected with exit code 1 and stores nothing.
    assert main(["--json", "import-bank", *files]) == 0
    assert main(["--json", "import-bank", str(FIXTURES / "camt053-xxe.xml")]) == 1
    with Store(load_config(config).store_url(None)).connect() as connection:
        table = RECORD_TABLES["bank_transaction"]
        assert connection.execute(select(func.count()).select_from(table)).scalar() == 7


def test_same_bookings_from_another_file_are_unchanged_and_stay_booked(
    tmp_path: Path, store_url: str, store: Store
) -> None:
    """A statement re-sent under another statement id and layout (other file, other lines) and an
    intraday camt.052 still showing the bookings pending leave the stored transactions as they are."""
    config = load_config(_config(tmp_path, store_url))
    inbox = tmp_path / "inbox"
    original = (FIXTURES / "camt053-tricky.xml").read_text(encoding="utf-8")
    shutil.copy(FIXTURES / "camt053-tricky.xml", inbox / "camt053-tricky.xml")
    first = SyncRunner(store, config).sync("bank")
    assert first.status == "succeeded", first.error
    rows = _rows(store)
    assert first.total("created") == len(rows) == 6

    resent = original.replace("<Id>STMT-2024-03-01</Id>", "<Id>RESENT-2024-03-01</Id>").replace(
        "<Document", "<!-- re-sent by the bank -->\n\n<Document", 1
    )
    (inbox / "resent.xml").write_text(resent, encoding="utf-8")
    intraday = (
        original.replace("camt.053.001.08", "camt.052.001.08")
        .replace("BkToCstmrStmt>", "BkToCstmrAcctRpt>")
        .replace("<Stmt>", "<Rpt>")
        .replace("</Stmt>", "</Rpt>")
        .replace("<Cd>BOOK</Cd>", "<Cd>PDNG</Cd>")
    )
    (inbox / "intraday.xml").write_text(intraday, encoding="utf-8")
    again = SyncRunner(store, config).sync("bank")
    assert again.status == "succeeded", again.error
    assert again.total("read") == 12
    assert again.total("unchanged") == 12 and again.total("updated") == again.total("created") == 0
    assert _rows(store) == rows
    table = RECORD_TABLES["bank_transaction"]
    with store.connect() as connection:
        assert set(connection.execute(select(table.c.status)).scalars()) == {"booked"}
