"""The store on SQLite and PostgreSQL: the same tests run on both backends."""

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select

from erp_recovery.config import parse_config
from erp_recovery.errors import LockBusyError, StoreUnavailableError
from erp_recovery.model import Customer, Invoice, Money
from erp_recovery.store import Store
from erp_recovery.store import runs as run_store
from erp_recovery.store.locks import named_lock
from erp_recovery.store.records import load_records, mark_missing, upsert_records
from erp_recovery.store.schema import invoices

CONFIG = parse_config(
    {
        "companies": [{"code": "acme", "name": "ACME"}],
        "sources": [{"name": "books", "company": "acme", "connector": "csv"}],
    }
)


def _ids(store):
    with store.begin() as connection:
        ids = run_store.register_config(connection, CONFIG)
        run_id = run_store.start_run(connection, ids.sources["books"], {})
    return ids.companies["acme"], ids.sources["books"], run_id


def _invoice(number, residual="100.10", total="100.10"):
    return Invoice(
        external_id=number,
        number=number,
        customer_id="C1",
        issue_date=date(2026, 1, 5),
        due_date=date(2026, 2, 4),
        currency="EUR",
        total=Money.of(total, "EUR"),
        residual=Money.of(residual, "EUR"),
        scope="2026",
    )


def test_upsert_is_idempotent_and_detects_changes(store):
    company, source, run = _ids(store)
    with store.begin() as connection:
        counts = upsert_records(
            connection, [_invoice("F1"), _invoice("F2")], company_id=company, source_id=source, run_id=run
        )
    assert (counts.created, counts.updated, counts.unchanged) == (2, 0, 0)
    with store.begin() as connection:
        counts = upsert_records(
            connection, [_invoice("F1"), _invoice("F2")], company_id=company, source_id=source, run_id=run
        )
    assert (counts.created, counts.updated, counts.unchanged) == (0, 0, 2)
    with store.begin() as connection:
        run_store.finish_run(connection, run, status="succeeded", cursor_after={})
        second_run = run_store.start_run(connection, source, {})
        counts = upsert_records(
            connection,
            [_invoice("F1", residual="0.00")],
            company_id=company,
            source_id=source,
            run_id=second_run,
        )
    assert counts.updated == 1
    with store.connect() as connection:
        rows = {row.external_id: row for row in connection.execute(select(invoices))}
    assert rows["F1"].changed_run_id == second_run and rows["F1"].first_run_id == run
    assert rows["F2"].changed_run_id == run


def test_amounts_round_trip_exactly(store):
    company, source, run = _ids(store)
    huge = "123456789012.345678"
    with store.begin() as connection:
        upsert_records(
            connection,
            [_invoice("F1", residual=huge, total=huge)],
            company_id=company,
            source_id=source,
            run_id=run,
        )
    with store.connect() as connection:
        [record] = load_records(connection, "invoice", company_id=company)
        typed = connection.execute(select(invoices.c.total)).scalar_one()
    assert isinstance(record, Invoice)
    assert record.total.amount == Decimal(huge)
    assert typed == Decimal(huge)


def test_missing_records_are_marked_deleted_within_their_scope_and_can_come_back(store):
    company, source, run = _ids(store)
    other_year = _invoice("F9").model_copy(update={"scope": "2025"})
    with store.begin() as connection:
        upsert_records(
            connection,
            [_invoice("F1"), _invoice("F2"), other_year],
            company_id=company,
            source_id=source,
            run_id=run,
        )
        deleted = mark_missing(
            connection,
            "invoice",
            company_id=company,
            source_id=source,
            present={"F1"},
            scope="2026",
            run_id=run,
        )
    assert deleted == 1
    with store.connect() as connection:
        present = {r.external_id for r in load_records(connection, "invoice", company_id=company)}
        everything = {
            r.external_id
            for r in load_records(connection, "invoice", company_id=company, include_deleted=True)
        }
    assert present == {"F1", "F9"}
    assert everything == {"F1", "F2", "F9"}
    with store.begin() as connection:
        counts = upsert_records(
            connection, [_invoice("F2")], company_id=company, source_id=source, run_id=run
        )
    assert counts.updated == 1


def test_quarantine_keeps_each_bad_record_once(store):
    _, source, run = _ids(store)
    with store.begin() as connection:
        first = run_store.quarantine_record(
            connection,
            source_id=source,
            run_id=run,
            stream="s",
            reason="bad date",
            raw={"a": "1"},
            file="f.csv",
            line=3,
        )
        again = run_store.quarantine_record(
            connection,
            source_id=source,
            run_id=run,
            stream="s",
            reason="bad date",
            raw={"a": "1"},
            file="f.csv",
            line=3,
        )
    assert (first, again) == (True, False)
    with store.connect() as connection:
        assert run_store.quarantine_counts(connection) == {"books": 1}


def test_customer_columns_are_queryable(store):
    company, source, run = _ids(store)
    customer = Customer(
        external_id="C1", name="ACME", siren="732829320", credit_limit=Money.of("5000", "EUR")
    )
    with store.begin() as connection:
        upsert_records(connection, [customer], company_id=company, source_id=source, run_id=run)
    with store.connect() as connection:
        [loaded] = load_records(connection, "customer", company_id=company)
    assert loaded == customer


def test_named_lock_excludes_a_second_holder(store):
    with named_lock(store, "sync:books"):
        other = Store(store.url)
        with pytest.raises(LockBusyError, match="already running"), named_lock(other, "sync:books"):
            pass
        other.dispose()
    with named_lock(store, "sync:books"):
        pass


def test_unreachable_postgres_is_a_one_line_store_error():
    store = Store("postgresql+psycopg://nobody@127.0.0.1:1/none")
    with pytest.raises(StoreUnavailableError) as error:
        store.ping()
    assert "\n" not in error.value.message
    assert "cannot open the database postgresql+psycopg://nobody@127.0.0.1:1/none" in error.value.message


def test_uninitialised_database_says_to_run_init(tmp_path):
    # (the CLI initialises a new SQLite file itself; the library asks for it explicitly)
    with pytest.raises(StoreUnavailableError, match="run 'erp-recovery init'"):
        Store(str(tmp_path / "new.sqlite")).require_current()


@pytest.mark.postgres
def test_work_under_a_lock_the_server_dropped_fails_instead_of_writing_unlocked(pg_url):
    """A PostgreSQL restart drops advisory locks while their holder carries on: what is stored
    through the lock's transaction then fails to commit, so nothing is written without the lock."""
    from sqlalchemy import text
    from sqlalchemy.exc import DBAPIError

    store = Store(pg_url)
    store.upgrade()
    with named_lock(store, "sync:books") as lock:
        assert lock.connection is not None
        pid = lock.connection.execute(text("SELECT pg_backend_pid()")).scalar()
        lock.connection.commit()
        with store.begin() as other:
            other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        with pytest.raises(DBAPIError), lock.transaction(store) as connection:
            connection.execute(
                text(
                    "INSERT INTO companies (code, name, payload, created_at, updated_at) "
                    "VALUES ('x', 'X', '{}', now(), now())"
                )
            )
        with named_lock(Store(pg_url), "sync:books"):
            pass  # the server released it: another worker may take the source now
    with store.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM companies")).scalar() == 0
