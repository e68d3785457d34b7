"""Syncing the Odoo stand-in into a real store: full and incremental pulls, changes during a sync,
deletions, reconciliations, errors, and the call budget."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from odoo_standin import OdooStandin, recorded_database
from odoo_standin.helpers import PASSWORD_ENV, SOURCE, app_config, sqlite_store
from odoo_standin.seed import ADMIN_API_KEY, add_payment, receivable_line, reconcile, unreconcile
from sqlalchemy import select

from erp_recovery.model.records import Allocation, Customer, Invoice, Payment
from erp_recovery.store import Store
from erp_recovery.store.records import load_records
from erp_recovery.store.schema import RECORD_TABLES
from erp_recovery.sync.runner import RunReport, SyncRunner


@pytest.fixture(autouse=True)
def _password(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(PASSWORD_ENV, "admin")


@pytest.fixture
def standin() -> Iterator[OdooStandin]:
    with OdooStandin() as server:
        yield server


def sync(standin: OdooStandin, store: Store, **settings: Any) -> RunReport:
    report = SyncRunner(store, app_config(standin, **settings)).sync(SOURCE)
    assert report.status == "succeeded", report.error
    return report


def stored(store: Store, entity: str) -> dict[str, Any]:
    with store.connect() as connection:
        return {record.external_id: record for record in load_records(connection, entity)}


def upstream_state(store: Store, entity: str, external_id: str) -> str:
    table = RECORD_TABLES[entity]
    with store.connect() as connection:
        return str(
            connection.execute(
                select(table.c.upstream_state).where(table.c.external_id == external_id)
            ).scalar()
        )


# -- what the server holds, computed from the stand-in's own records ------------------------------


def server_invoices(standin: OdooStandin) -> dict[str, tuple[str, str, Decimal, Decimal]]:
    db = standin.db
    return {
        str(rid): (
            move["name"],
            str(db.raw_value("account.move", rid, "commercial_partner_id")),
            Decimal(repr(move["amount_total"])),
            Decimal(repr(move["amount_residual"])),
        )
        for rid, move in db.records["account.move"].items()
        if move.get("move_type") in ("out_invoice", "out_refund") and move["state"] == "posted"
    }


def server_allocations(standin: OdooStandin) -> dict[str, tuple[str, Decimal]]:
    db = standin.db
    lines, moves = db.records["account.move.line"], db.records["account.move"]
    return {
        str(pid): (str(lines[p["debit_move_id"]]["move_id"]), Decimal(repr(p["debit_amount_currency"])))
        for pid, p in db.records["account.partial.reconcile"].items()
        if moves[lines[p["debit_move_id"]]["move_id"]]["move_type"] == "out_invoice"
    }


def server_customers(standin: OdooStandin) -> set[str]:
    db = standin.db
    return {
        str(db.raw_value("res.partner", rid, "commercial_partner_id"))
        for rid, partner in db.records["res.partner"].items()
        if partner.get("customer_rank", 0) > 0
    }


@pytest.mark.parametrize("protocol", ["jsonrpc", "xmlrpc", "json2"])
def test_full_pull_equals_the_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, protocol: str) -> None:
    settings: dict[str, Any] = {"protocol": protocol}
    version = "18.0"
    if protocol == "json2":
        monkeypatch.setenv(PASSWORD_ENV, ADMIN_API_KEY)
        settings["login"] = None
        version = "19.0"
    with OdooStandin(version=version) as standin:
        store = sqlite_store(tmp_path)
        report = sync(standin, store, **settings)
        assert report.total("rejected") == 0

        invoices = stored(store, "invoice")
        assert {
            key: (inv.number, inv.customer_id, inv.total.amount, inv.residual.amount)
            for key, inv in invoices.items()
        } == server_invoices(standin)
        assert all(isinstance(inv, Invoice) for inv in invoices.values())
        eur = next(inv for inv in invoices.values() if inv.number == "INV/2026/00017")
        assert (eur.currency, eur.total.amount) == ("EUR", Decimal("4000.00"))
        credit_notes = [inv for inv in invoices.values() if inv.kind == "credit_note"]
        assert len(credit_notes) == 6

        allocations = stored(store, "allocation")
        assert {key: (a.invoice_id, a.amount.amount) for key, a in allocations.items()} == server_allocations(
            standin
        )
        assert all(isinstance(a, Allocation) and a.kind == "payment" for a in allocations.values())

        customers = stored(store, "customer")
        assert set(customers) == server_customers(standin)
        deco = customers["10"]
        assert isinstance(deco, Customer) and deco.credit_limit is not None
        assert (deco.credit_limit.amount, deco.credit_limit.currency) == (Decimal("30000.00"), "USD")
        assert deco.payment_terms is not None and deco.payment_terms.days == 30

        payments = stored(store, "payment")
        assert set(payments) == {"1", "2", "3", "4", "5"}
        assert isinstance(payments["1"], Payment) and payments["1"].memo == "INV/2026/00006"
        assert payments["5"].customer_id == "14"


def test_open_residuals_by_customer_equal_odoo_partner_credit(standin: OdooStandin, tmp_path: Path) -> None:
    """Odoo's own figure: res.partner.credit = open receivable balance of the commercial partner."""
    store = sqlite_store(tmp_path)
    sync(standin, store)
    balance: Counter[str] = Counter()
    for invoice in stored(store, "invoice").values():
        rate = Decimal("3116.72") / Decimal("4000.00") if invoice.currency == "EUR" else Decimal(1)
        balance[invoice.customer_id] += (invoice.signed_residual.amount * rate).quantize(Decimal("0.01"))
    for payment in stored(store, "payment").values():
        if payment.status != "reconciled" and payment.external_id == "5":  # the unmatched payment
            balance[str(payment.customer_id)] -= payment.amount.amount
    for customer_id in ("10", "11", "12", "13", "14", "15", "16"):
        assert balance[customer_id] == Decimal(
            repr(standin.db.raw_value("res.partner", int(customer_id), "credit"))
        )


def test_a_second_sync_with_nothing_changed_reads_nothing_and_costs_one_search_per_model(
    standin: OdooStandin, tmp_path: Path
) -> None:
    store = sqlite_store(tmp_path)
    sync(standin, store)
    standin.reset_counters()
    report = sync(standin, store)
    assert report.total("read") == 0
    searches = Counter(
        call.model for call in standin.db.calls if call.method in ("search", "search_read", "search_count")
    )
    assert searches and max(searches.values()) == 1, searches
    assert set(searches) == {
        "res.partner",
        "account.move",
        "account.payment",
        "account.bank.statement.line",
        "account.move.line",
    }


def test_incremental_sync_reads_only_what_changed(standin: OdooStandin, tmp_path: Path) -> None:
    store = sqlite_store(tmp_path)
    sync(standin, store)
    standin.db.write("res.partner", [11], {"email": "ap@gemini.example"})
    payment = add_payment(standin.db, 10, 2000.0, "2026-11-21", "INV/2026/00005")
    payment_line = receivable_line(standin.db, standin.db.records["account.payment"][payment]["move_id"])
    partial = reconcile(standin.db, receivable_line(standin.db, 25), payment_line, 2000.0)

    report = sync(standin, store)
    counts = {stream.name: stream.read for stream in report.streams}
    assert counts == {"customers": 1, "invoices": 1, "payments": 1, "allocations": 1}
    assert stored(store, "customer")["11"].email == "ap@gemini.example"
    invoice = stored(store, "invoice")["25"]
    assert (invoice.residual.amount, invoice.status) == (Decimal("10000.00"), "partial")
    allocation = stored(store, "allocation")[str(partial)]
    assert (allocation.invoice_id, allocation.payment_id, allocation.amount.amount) == (
        "25",
        str(payment),
        Decimal("2000.00"),
    )

    unreconcile(standin.db, partial)
    report = sync(standin, store)
    assert stored(store, "invoice")["25"].residual.amount == Decimal("12000.00")
    assert upstream_state(store, "allocation", str(partial)) == "deleted"
    assert next(s for s in report.streams if s.name == "allocations").deleted == 1


def test_a_record_changed_during_the_sync_is_not_missed(standin: OdooStandin, tmp_path: Path) -> None:
    store = sqlite_store(tmp_path)
    pages = []

    def person_edits(uid: int, model: str, method: str, args: list[Any], kwargs: dict[str, Any]) -> None:
        if model == "account.move" and method == "search_read":
            pages.append(1)
            if len(pages) == 2:  # after the first page was read, a person edits an invoice of that page
                standin.db.write("account.move", [1], {"ref": "PO-4711"})

    standin.db.before_call = person_edits
    sync(standin, store, page_size=5)
    standin.db.before_call = None
    assert len(pages) >= 5
    assert stored(store, "invoice")["1"].customer_reference == "PO-4711"
    assert sync(standin, store, page_size=5).total("read") == 0


def test_a_transaction_committed_late_is_caught_by_the_overlap_window(
    standin: OdooStandin, tmp_path: Path
) -> None:
    """Odoo stamps write_date with the transaction's start: a long transaction that commits after
    our read carries a write_date older than the newest we saw."""
    store = sqlite_store(tmp_path)
    sync(standin, store)
    newest = max(move["write_date"] for move in standin.db.records["account.move"].values())
    standin.db.write("account.move", [3], {"ref": "late"}, write_date="2026-11-22 09:59:00")
    assert newest > "2026-11-22 09:59:00"
    sync(standin, store)
    assert stored(store, "invoice")["3"].customer_reference == "late"


def test_cancelled_and_deleted_invoices(standin: OdooStandin, tmp_path: Path) -> None:
    store = sqlite_store(tmp_path)
    sync(standin, store)
    standin.db.write("account.move", [36], {"state": "cancel"}, force=True)
    standin.db.write("account.move", [28], {"state": "draft"}, force=True)
    sync(standin, store)
    invoices = stored(store, "invoice")
    assert invoices["36"].status == "cancelled" and invoices["28"].status == "draft"

    standin.db.unlink("account.move", [28])
    assert sync(standin, store).total("deleted") == 0  # an incremental read cannot see a deletion
    report = sync(standin, store, full_sweep_hours=0)  # the periodic full sweep does
    assert next(s for s in report.streams if s.name == "invoices").deleted == 1
    assert upstream_state(store, "invoice", "28") == "deleted"
    assert upstream_state(store, "invoice", "36") == "present"


def test_a_gateway_error_during_a_sync_is_retried(standin: OdooStandin, tmp_path: Path) -> None:
    store = sqlite_store(tmp_path)
    standin.fail_next(2, status=502)
    report = sync(standin, store)
    assert report.total("read") > 0


def test_an_access_error_stops_the_sync_with_a_clear_message(
    standin: OdooStandin, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(PASSWORD_ENV, "demo")
    store = sqlite_store(tmp_path)
    report = SyncRunner(store, app_config(standin, login="demo", company_id=1)).sync(
        SOURCE, streams=["invoices"]
    )
    assert report.status == "failed"
    assert report.error is not None
    assert (
        "Odoo user 'demo' lacks read access to account.move: give it the Invoicing / Billing role"
        in report.error
    )
    assert len(standin.object_calls("account.move", "search_read")) == 1  # not retried


def test_ten_thousand_invoices_cost_at_most_twenty_calls(tmp_path: Path) -> None:
    from odoo_standin.seed import generate_invoices

    db = recorded_database()
    generate_invoices(db, 10_000)
    with OdooStandin(db) as standin:
        store = sqlite_store(tmp_path)
        config = app_config(standin)
        standin.reset_counters()
        report = SyncRunner(store, config).sync(SOURCE, streams=["invoices"])
        assert report.status == "succeeded"
        assert report.total("read") == 10_022
        total_requests = sum(standin.requests.values())
        assert total_requests <= 20, standin.requests
        invoices = stored(store, "invoice")
        assert sum(inv.residual.amount for inv in invoices.values() if inv.kind == "invoice") == sum(
            Decimal(repr(move["amount_residual"]))
            for move in db.records["account.move"].values()
            if move.get("move_type") == "out_invoice" and move["state"] == "posted"
        )


def test_older_field_names_are_detected_and_used(tmp_path: Path) -> None:
    """An Odoo 16-style server: ``account.payment.ref`` instead of ``memo``, payment state
    draft/posted/cancel, payment term lines with ``days``/``end_month``, and no
    ``use_partner_credit_limit``. The connector reads what fields_get reports."""
    db = recorded_database()
    payment_fields = db.models["account.payment"].fields
    payment_fields["ref"] = payment_fields.pop("memo")
    payment_fields["state"] = {
        **payment_fields["state"],
        "selection": [["draft", "Draft"], ["posted", "Posted"], ["cancel", "Cancelled"]],
    }
    for payment in db.records["account.payment"].values():
        payment["ref"] = payment.pop("memo")
        payment["state"] = "posted"
    term_line_fields = db.models["account.payment.term.line"].fields
    for name in ("delay_type", "nb_days", "days_next_month"):
        term_line_fields.pop(name)
    term_line_fields.update(
        days={"type": "integer", "string": "Days"},
        end_month={"type": "boolean", "string": "End of month"},
        days_after={"type": "integer", "string": "Days after"},
        months={"type": "integer", "string": "Months"},
    )
    for line in db.records["account.payment.term.line"].values():
        line.update(days=line.pop("nb_days"), end_month=False, days_after=0, months=0)
        line.pop("delay_type")
    del db.models["res.partner"].fields["use_partner_credit_limit"]
    with OdooStandin(db, version="16.0") as standin:
        store = sqlite_store(tmp_path)
        report = sync(standin, store)
        assert report.total("rejected") == 0 and not report.notices
        payments = stored(store, "payment")
        assert payments["1"].memo == "INV/2026/00006" and payments["1"].status == "reconciled"
        assert payments["5"].status == "posted"
        customers = stored(store, "customer")
        assert customers["10"].payment_terms is not None and customers["10"].payment_terms.days == 30
        assert customers["10"].credit_limit is not None and customers["10"].credit_limit.amount == Decimal(
            "30000.00"
        )
        assert customers["9"].credit_limit is None  # 0.0 and no use_partner_credit_limit: no limit


def test_an_unsupported_version_is_synced_with_a_notice(tmp_path: Path) -> None:
    with OdooStandin(version="15.0") as standin:
        report = sync(standin, sqlite_store(tmp_path))
        assert any(
            "not a version this connector is tested with" in notice["message"] for notice in report.notices
        )
