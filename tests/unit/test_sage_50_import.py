"""Sage 50 (UK): customer records and audit-trail transactions read through their mappings, through
the real sync runner and store (SQLite, and PostgreSQL when reachable)."""

from __future__ import annotations

import datetime as dt
import shutil
from decimal import Decimal
from pathlib import Path

import pytest
from erp_recovery.connectors.sage.sage50_ledger import collect, settle

from erp_recovery.config import load_config
from erp_recovery.errors import ConfigError, MappingError
from erp_recovery.mapping import Row
from erp_recovery.model.records import Allocation, Customer, Invoice, Payment
from erp_recovery.store import Store
from erp_recovery.store.records import load_records
from erp_recovery.store.schema import RECORD_TABLES
from erp_recovery.sync.runner import SyncRunner

FIXTURES = Path(__file__).parents[1] / "golden" / "sage" / "sage50"
HEADER = (
    "Type,Account Reference,Nominal A/C Ref,Department Code,Date,Reference,Details,Net Amount,Tax Code,"
    "Tax Amount,Exchange Rate,Extra Reference,User Name,Project Refn,Cost Code Refn"
)


def trail(*rows: str) -> str:
    return "\r\n".join([HEADER, *rows]) + "\r\n"


def tx(kind: str, account: str, date: str, ref: str, net: str, tax: str = "0.00", extra: str = "") -> str:
    return f"{kind},{account},4000,1,{date},{ref},Details,{net},T1,{tax},1,{extra},MANAGER,,"


def configure(tmp_path: Path, store: Store, settings: str) -> SyncRunner:
    config = tmp_path / "erp-recovery.toml"
    config.write_text(
        f"""
[store]
url = "{store.engine.url.render_as_string(hide_password=False)}"
[[companies]]
code = "uk"
name = "UK Ltd"
base_currency = "GBP"
jurisdiction = "UK"
[[sources]]
name = "sage50"
company = "uk"
connector = "sage50"
[sources.settings]
{settings}
""",
        encoding="utf-8",
    )
    return SyncRunner(store, load_config(config))


def stored(store: Store, entity: str, *, include_deleted: bool = False) -> dict[str, object]:
    with store.connect() as connection:
        return {r.external_id: r for r in load_records(connection, entity, include_deleted=include_deleted)}


def states(store: Store, entity: str) -> dict[str, str]:
    with store.connect() as connection:
        return {
            row.external_id: row.upstream_state for row in connection.execute(RECORD_TABLES[entity].select())
        }


@pytest.mark.parametrize("written", ["GB980780684", "GB 980 7806 84", "gb980780684"])
def test_uk_vat_numbers_are_valid_customer_vat_numbers(written: str) -> None:
    customer = Customer(external_id="ABC01", name="ABC Ltd", vat_number=written)
    assert customer.vat_number == "GB980780684"
    with pytest.raises(ValueError, match="checksum"):
        Customer(external_id="ABC01", name="ABC Ltd", vat_number="GB980780685")


def test_import_twice_changes_nothing_and_a_newer_export_updates(tmp_path: Path, store: Store) -> None:
    shutil.copy(FIXTURES / "customers.csv", tmp_path / "customers.csv")
    shutil.copy(FIXTURES / "audit_trail.csv", tmp_path / "audit.csv")
    runner = configure(tmp_path, store, 'customers = "customers.csv"\ntransactions = "audit*.csv"')

    first = runner.sync("sage50")
    assert first.status == "succeeded", first.error
    assert first.total("created") == 5 + 6 + 4 + 5  # customers, invoices + credit note, payments, allocations
    assert any("ZED009" in notice["message"] for notice in first.notices)
    invoices = stored(store, "invoice")
    assert {
        i.number: (str(i.residual.amount), i.status) for i in invoices.values() if isinstance(i, Invoice)
    } == {
        "INV1001": ("0.00", "paid"),
        "INV1002": ("290.00", "partial"),
        "INV1003": ("240.00", "partial"),
        "CN001": ("0.00", "paid"),
        "INV1004": ("0.00", "paid"),
        "INV1005": ("100.00", "open"),
    }
    customers = stored(store, "customer")
    bristol = customers["BRI002"]
    assert isinstance(bristol, Customer) and bristol.blocked and bristol.credit_limit is None

    again = runner.sync("sage50")
    assert again.status == "succeeded"
    assert again.total("read") == again.total("created") == again.total("updated") == 0

    # A newer export: INV1005 is paid by reference, INV1003 was deleted in Sage (with its credit note).
    text = (FIXTURES / "audit_trail.csv").read_text(encoding="cp1252")
    lines = [line for line in text.splitlines() if ",BRI002," not in line]
    lines.append(tx("SR", "ZED009", "02/04/2024", "INV1005", "100.00"))
    (tmp_path / "audit.csv").write_text("\r\n".join(lines) + "\r\n", encoding="cp1252")
    third = runner.sync("sage50")
    assert third.status == "succeeded", third.error
    after = stored(store, "invoice")
    paid = after["SI|ZED009|20240328|INV1005"]
    assert isinstance(paid, Invoice) and (paid.residual.amount, paid.status) == (Decimal("0.00"), "paid")
    gone = states(store, "invoice")
    assert gone["SI|BRI002|20240302|INV1003"] == gone["SC|BRI002|20240310|CN001"] == "deleted"
    assert states(store, "payment")["SA|BRI002|20240312|BACS"] == "deleted"
    assert states(store, "customer")["BRI002"] == "present"  # still in the customer export
    assert third.total("updated") == 1  # INV1005
    assert third.total("created") == 2  # its receipt and allocation


@pytest.mark.parametrize(
    ("row", "line", "column", "message"),
    [
        (tx("SI", "ABB001", "31/02/2024", "INV9", "10.00"), 3, "Date", "not a date"),
        (tx("SI", "ABB001", "01/02/2024", "INV9", "ten"), 3, "Net Amount", "not a number"),
        (
            tx("SX", "ABB001", "01/02/2024", "INV9", "10.00"),
            None,
            None,
            None,
        ),  # filtered out: not a sales type
        (tx("SI", "ABB001", "01/02/2024", "INV9", "-10.00"), 3, "net", "cannot be negative"),
        (tx("SI", "", "01/02/2024", "INV9", "10.00"), 3, "Account Reference", "required but empty"),
    ],
)
def test_a_bad_row_is_refused_with_its_line_and_column_and_nothing_is_stored(
    tmp_path: Path, store: Store, row: str, line: int | None, column: str | None, message: str | None
) -> None:
    (tmp_path / "audit.csv").write_text(trail(tx("SI", "ABB001", "05/01/2024", "INV1", "10.00"), row))
    report = configure(tmp_path, store, 'transactions = "audit.csv"').sync("sage50")
    if line is None:
        assert report.status == "succeeded" and report.total("created") == 2  # customer + INV1
        return
    assert report.status == "failed"
    assert f"audit.csv, line {line}, column {column}" in (report.error or ""), report.error
    assert message in (report.error or "")
    assert stored(store, "invoice", include_deleted=True) == {}


def test_customer_export_that_does_not_fit_its_mapping(tmp_path: Path, store: Store) -> None:
    text = (FIXTURES / "customers.csv").read_text(encoding="cp1252")
    (tmp_path / "customers.csv").write_text(text.replace("Credit Limit", "Limit"), encoding="cp1252")
    runner = configure(tmp_path, store, 'customers = "customers.csv"')
    report = runner.sync("sage50")
    assert report.status == "failed"
    assert "customers.csv, line 1, column Credit Limit" in (report.error or "")
    assert "expects a column 'Credit Limit'" in (report.error or "")
    (tmp_path / "customers.csv").write_text(
        text.replace("GB 654 3210 06", "GB 654 3210 07"), encoding="cp1252"
    )
    report = runner.sync("sage50")
    assert report.status == "failed"
    assert "customers.csv, line 4, column VAT Registration Number" in (report.error or ""), report.error
    assert stored(store, "customer", include_deleted=True) == {}


def test_settings_need_an_export(tmp_path: Path, store: Store) -> None:
    with pytest.raises(ConfigError, match="give customers"):
        configure(tmp_path, store, 'currency = "GBP"').sync("sage50")


ADMIN_MAPPING = """
# An admin's copy for a semicolon export with decimal commas and the optional columns.
[mapping]
name = "Sage 50 - audit trail with outstanding"
entity = "row"
[layout]
separator = ";"
decimal = ","
thousands = [" "]
date_formats = ["%d/%m/%Y"]
[fields]
transaction_number = { column = "No" }
account = { column = "A/C", required = true }
date = { column = "Date", type = "date", required = true }
due_date = { column = "Due", type = "date" }
reference = { column = "Ref" }
extra_reference = { column = "Ex.Ref" }
net = { column = "Net", type = "decimal", required = true }
tax = { column = "Tax", type = "decimal" }
outstanding = { column = "O/S", type = "decimal" }
currency = { column = "Cur" }
[fields.type]
column = "Type"
required = true
[fields.type.values]
SI = "invoice"
SC = "credit_note"
SR = "receipt"
SA = "payment_on_account"
SD = "discount"
"""


def test_an_admin_mapping_with_outstanding_due_dates_currencies_and_numbers(
    tmp_path: Path, store: Store
) -> None:
    (tmp_path / "audit_os.toml").write_text(ADMIN_MAPPING, encoding="utf-8")
    (tmp_path / "audit.csv").write_text(
        "No;Type;A/C;Date;Due;Ref;Ex.Ref;Net;Tax;O/S;Cur\n"
        # Sage says 100,00 of 1 200,00 is still due; the receipts in this file pay 600,00 of it:
        # the residual is Sage's, the allocations fill only the paid part.
        "11;SI;ABB001;05/01/2024;19/01/2024;INV1;;1 000,00;200,00;100,00;GBP\n"
        "12;SR;ABB001;10/01/2024;;;INV1;600,00;0,00;0,00;GBP\n"
        "13;SR;ABB001;11/01/2024;;;;1 500,00;0,00;0,00;GBP\n"
        # A euro invoice is not settled by a sterling receipt; no reference: the number identifies it.
        "14;SI;ABB001;12/01/2024;;;;100,00;0,00;;EUR\n"
        "15;SI;ABB001;12/01/2024;;;;50,00;0,00;;EUR\n",
        encoding="utf-8",
    )
    report = configure(
        tmp_path, store, 'transactions = "audit.csv"\ntransactions_mapping = "audit_os.toml"'
    ).sync("sage50")
    assert report.status == "succeeded", report.error
    invoices = {i.external_id: i for i in stored(store, "invoice").values() if isinstance(i, Invoice)}
    sterling = invoices["SI|ABB001|20240105|INV1"]
    assert (str(sterling.residual.amount), sterling.status, sterling.due_date) == (
        "100.00",
        "partial",
        dt.date(2024, 1, 19),
    )
    assert {
        i.number: (i.currency, str(i.residual.amount)) for i in invoices.values() if i.currency == "EUR"
    } == {
        "SI #14": ("EUR", "100.00"),
        "SI #15": ("EUR", "50.00"),
    }
    allocations = [a for a in stored(store, "allocation").values() if isinstance(a, Allocation)]
    assert sorted((a.payment_id, str(a.amount.amount)) for a in allocations) == [
        ("SR|ABB001|20240110|#12", "600.00"),
        ("SR|ABB001|20240111|#13", "500.00"),
    ]
    payments = stored(store, "payment")
    assert isinstance(payments["SR|ABB001|20240111|#13"], Payment)


def _rows(*rows: tuple[str, str, str, str, str, str]) -> list[tuple[Path, Row, dict[str, object]]]:
    out: list[tuple[Path, Row, dict[str, object]]] = []
    for line, (kind, account, date, reference, extra, amount) in enumerate(rows, start=2):
        values = {
            "type": kind,
            "account": account,
            "date": dt.date.fromisoformat(date),
            "reference": reference,
            "extra_reference": extra,
            "net": Decimal(amount),
            "tax": None,
        }
        out.append((Path("audit.csv"), Row(line, []), values))
    return out


@pytest.mark.parametrize(
    ("policy", "expected"),
    [
        ("reference_then_oldest", {"INV1": "30", "INV2": "0", "INV3": "50"}),
        ("reference", {"INV1": "100", "INV2": "0", "INV3": "50"}),
        ("none", {"INV1": "100", "INV2": "80", "INV3": "50"}),
    ],
)
def test_allocation_policies(policy: str, expected: dict[str, str]) -> None:
    documents = collect(
        _rows(
            ("invoice", "A1", "2024-01-01", "INV1", "", "100"),
            ("invoice", "A1", "2024-01-05", "INV2", "", "80"),
            ("invoice", "A2", "2024-01-06", "INV3", "", "50"),
            # Pays INV2 by its reference (spaces and case ignored), then the oldest (INV1).
            ("receipt", "A1", "2024-02-01", "BACS", "inv 2", "150"),
            # Another account's invoice is never settled; on account stays on account.
            ("payment_on_account", "A2", "2024-02-02", "", "", "50"),
        ),
        currency="GBP",
    )
    settle(documents, policy)  # type: ignore[arg-type]
    residuals = {doc.reference: doc.residual for doc in documents if doc.kind == "invoice"}
    assert residuals == {name: Decimal(value) for name, value in expected.items()}


def test_splits_in_two_currencies_are_refused() -> None:
    rows = _rows(
        ("invoice", "A1", "2024-01-01", "INV1", "", "100"), ("invoice", "A1", "2024-01-01", "INV1", "", "5")
    )
    rows[1][2]["currency"] = "EUR"
    with pytest.raises(MappingError, match="splits in GBP and EUR") as error:
        collect(rows, currency="GBP")
    assert error.value.line == 3
