"""Bank transactions in the store, on SQLite and PostgreSQL: where a booking was read (file,
position, statement, line) is not part of its content, and a booked transaction is never taken
back to pending by a later intraday report."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from erp_recovery.config import parse_config
from erp_recovery.model import BankTransaction, Invoice, Money
from erp_recovery.store import Store
from erp_recovery.store import runs as run_store
from erp_recovery.store.records import load_records, serialise, upsert_records
from erp_recovery.store.schema import RECORD_TABLES

CONFIG = parse_config(
    {
        "companies": [{"code": "acme", "name": "ACME"}],
        "sources": [{"name": "bank", "company": "acme", "connector": "bank-files"}],
    }
)


def _ids(store: Store) -> tuple[int, int, int]:
    with store.begin() as connection:
        ids = run_store.register_config(connection, CONFIG)
        run_id = run_store.start_run(connection, ids.sources["bank"], {})
    return ids.companies["acme"], ids.sources["bank"], run_id


def _booking(**changes: object) -> BankTransaction:
    values: dict[str, object] = {
        "external_id": "bt1:0123456789abcdef0123456789abcdef",
        "account": "FR7630006000011234567890189",
        "booking_date": date(2024, 3, 1),
        "amount": Money.of("545.00", "EUR"),
        "counterparty_name": "ATELIER LEROY",
        "remittance": "FACTURE FA-2024-0150",
        "status": "booked",
        "statement_id": "STMT-2024-03-01",
        "source_file": "camt053-2024-03.xml",
        "source_position": "Stmt[1]/Ntry[3]",
        "source_refs": {"line": "42"},
    }
    values.update(changes)
    return BankTransaction.model_validate(values)


def _upsert(store: Store, records: list[BankTransaction]) -> tuple[int, int, int]:
    company, source, run = _ids(store)
    with store.begin() as connection:
        counts = upsert_records(connection, records, company_id=company, source_id=source, run_id=run)
    return counts.created, counts.updated, counts.unchanged


def _stored(store: Store) -> BankTransaction:
    with store.connect() as connection:
        [record] = load_records(connection, "bank_transaction")
    assert isinstance(record, BankTransaction)
    return record


def _status_column(store: Store) -> str:
    table = RECORD_TABLES["bank_transaction"]
    with store.connect() as connection:
        return str(connection.execute(select(table.c.status)).scalar_one())


def test_provenance_fields_are_left_out_of_the_content_hash() -> None:
    first = _booking()
    elsewhere = _booking(
        statement_id="940-2024-03",
        source_file="statement.sta",
        source_position="line 17",
        source_refs={"line": "17"},
    )
    assert BankTransaction.provenance_fields == {
        "source_refs",
        "source_file",
        "source_position",
        "statement_id",
    }
    assert serialise(first)[0] == serialise(elsewhere)[0]
    assert serialise(first)[0] != serialise(_booking(remittance="FACTURE FA-2024-0151"))[0]
    # The payload keeps where the record was read, and reads back to the same record.
    digest, payload = serialise(first)
    assert BankTransaction.model_validate_json(payload) == first
    assert '"source_file":"camt053-2024-03.xml"' in payload
    # Other records: only source_refs is provenance.
    invoice = Invoice(
        external_id="F1",
        number="F1",
        customer_id="C1",
        issue_date=date(2026, 1, 5),
        currency="EUR",
        total=Money.of("10", "EUR"),
        residual=Money.of("10", "EUR"),
    )
    assert Invoice.provenance_fields == {"source_refs"}
    moved = invoice.model_copy(update={"source_refs": {"line": "9"}})
    assert serialise(invoice)[0] == serialise(moved)[0]
    assert serialise(invoice)[1] == invoice.model_dump_json(exclude_none=True, exclude={"source_refs"})
    assert Invoice.model_validate_json(serialise(moved)[1]) == moved


def test_the_same_booking_from_another_file_is_unchanged(store: Store) -> None:
    assert _upsert(store, [_booking()]) == (1, 0, 0)
    other_file = _booking(
        statement_id="940-2024-03",
        source_file="statement.sta",
        source_position="line 17",
        source_refs={"line": "17"},
    )
    assert _upsert(store, [other_file]) == (0, 0, 1)
    # The stored version is the first one read, provenance included.
    assert _stored(store) == _booking()
    # A change of content is still an update.
    assert _upsert(store, [_booking(remittance="FACTURE FA-2024-0151")]) == (0, 1, 0)
    assert _stored(store).remittance == "FACTURE FA-2024-0151"


def test_a_booked_transaction_is_never_taken_back_to_pending(store: Store) -> None:
    assert _upsert(store, [_booking()]) == (1, 0, 0)
    intraday = _booking(status="pending", source_file="mt942.sta", source_position="line 5")
    assert _upsert(store, [intraday]) == (0, 0, 1)
    assert _upsert(store, [_booking(status="info")]) == (0, 0, 1)
    assert _stored(store) == _booking()
    assert _status_column(store) == "booked"


def test_a_pending_transaction_becomes_booked(store: Store) -> None:
    pending = _booking(status="pending", source_file="camt052.xml")
    assert _upsert(store, [pending]) == (1, 0, 0)
    assert _upsert(store, [pending]) == (0, 0, 1)
    assert _upsert(store, [_booking()]) == (0, 1, 0)
    assert _stored(store).status == "booked" and _status_column(store) == "booked"


def test_within_one_batch_the_booked_version_wins(store: Store) -> None:
    pending = _booking(status="pending", source_file="camt052.xml")
    assert _upsert(store, [_booking(), pending]) == (1, 0, 0)
    assert _stored(store) == _booking()
    # Otherwise the last version of a record in a batch wins, as before.
    assert _upsert(store, [_booking(remittance="A"), _booking(remittance="B")]) == (0, 1, 0)
    assert _stored(store).remittance == "B"
