"""Odoo records to the canonical model: identifiers, terms, statuses, versions 16 to 19."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from erp_recovery.connectors.odoo import mapping

from erp_recovery.errors import SkippableRecord
from erp_recovery.model.money import Money


def partner(**values: object) -> dict[str, object]:
    row: dict[str, object] = {
        "id": 10, "name": "Deco Addict", "is_company": True, "vat": False, "company_registry": False,
        "email": "billing@deco.example", "phone": False, "street": "1 rue de la Paix", "zip": "75002",
        "city": "Paris", "country_code": "FR", "lang": "fr_FR", "active": True, "category_id": [],
        "credit_limit": Decimal("30000.0"), "use_partner_credit_limit": True, "trust": "normal",
        "create_date": "2026-11-22 09:58:33", "_contacts": [], "_banks": [], "_tags": [], "_term": None,
        "_currency": "EUR", "_has_use_limit": True, "_risk_prefix": "Risk: ", "_risk_field": None,
    }  # fmt: skip
    row.update(values)
    return row


def test_customer_identifiers_contacts_banks_and_limit() -> None:
    customer = mapping.customer(
        partner(
            vat="FR44732829320",
            company_registry="732 829 320 00074",
            _contacts=[
                {
                    "id": 31,
                    "name": "Compta",
                    "email": "compta@deco.example",
                    "type": "invoice",
                    "phone": False,
                },
                {"id": 32, "name": "Boss", "email": "not an address", "type": "contact", "function": "CEO"},
            ],
            _banks=["FR76 3000 6000 0112 3456 7890 189", "12345678"],
            _tags=["Risk: C", "VIP"],
            trust="bad",
        )
    )
    assert customer.external_id == "10"
    assert customer.vat_number == "FR44732829320"
    assert customer.siret == "73282932000074" and customer.siren == "732829320"
    assert customer.ibans == ("FR7630006000011234567890189",)
    assert [c.email for c in customer.contacts] == ["compta@deco.example", None]
    assert customer.contacts[0].role == "billing"
    assert customer.credit_limit == Money.of("30000.00", "EUR")
    assert customer.risk_flags == ("C", "odoo_trust:bad") and customer.risk_code == "C"
    assert customer.tags == ("Risk: C", "VIP")
    assert customer.address is not None and customer.address.country == "FR"


def test_non_eu_vat_is_kept_for_people_but_not_validated() -> None:
    customer = mapping.customer(
        partner(vat="US12345673", _has_use_limit=True, use_partner_credit_limit=False)
    )
    assert customer.vat_number is None and customer.source_refs["vat"] == "US12345673"
    assert customer.credit_limit is None  # use_partner_credit_limit off = no partner limit


def test_credit_limit_before_use_partner_credit_limit_existed() -> None:
    assert mapping.customer(partner(_has_use_limit=False, credit_limit=Decimal(0))).credit_limit is None
    assert mapping.customer(partner(_has_use_limit=False, credit_limit=Decimal(5))).credit_limit == Money.of(
        5, "EUR"
    )


def test_email_falls_back_to_the_billing_contact_and_archived_partners() -> None:
    customer = mapping.customer(
        partner(
            email=False,
            active=False,
            _contacts=[{"id": 2, "name": "A", "email": "a@x.example", "type": "invoice"}],
        )
    )
    assert customer.email == "a@x.example" and customer.state == "archived"


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        ([{"value": "percent", "value_amount": 100, "delay_type": "days_after", "nb_days": 30}], ("net", 30)),
        ([{"value": "percent", "value_amount": 100, "delay_type": "days_after", "nb_days": 0}], ("on_receipt", 0)),
        ([{"value": "percent", "value_amount": 100, "delay_type": "days_after_end_of_month", "nb_days": 10}],
         ("end_of_month_then_days", 10)),
        ([{"value": "percent", "value_amount": 100, "delay_type": "days_after_end_of_next_month", "nb_days": 0}], None),
        ([{"value": "percent", "value_amount": 30, "delay_type": "days_after", "nb_days": 0},
          {"value": "percent", "value_amount": 70, "delay_type": "days_after", "nb_days": 60}], None),
        # Odoo 16 lines
        ([{"value": "balance", "days": 45, "end_month": True, "days_after": 0, "months": 0}],
         ("days_then_end_of_month", 45)),
        ([{"value": "balance", "days": 0, "end_month": True, "days_after": 10, "months": 0}],
         ("end_of_month_then_days", 10)),
        ([{"value": "balance", "days": 30, "end_month": False, "days_after": 0, "months": 0}], ("net", 30)),
    ],
)  # fmt: skip
def test_payment_terms(lines: list[dict[str, object]], expected: tuple[str, int] | None) -> None:
    terms = mapping.payment_terms({"id": 4, "name": "Terms", "lines": lines})
    if expected is None:
        assert terms is None
    else:
        assert terms is not None and (terms.method, terms.days) == expected and terms.code == "4"


def move(**values: object) -> dict[str, object]:
    row: dict[str, object] = {
        "id": 26, "name": "INV/2026/00006", "move_type": "out_invoice", "state": "posted",
        "partner_id": [31, "Deco Addict, Compta"], "commercial_partner_id": [10, "Deco Addict"],
        "currency_id": [1, "USD"], "date": "2026-10-03", "invoice_date": "2026-10-03",
        "invoice_date_due": "2026-11-02", "amount_untaxed": Decimal("8500.0"), "amount_total": Decimal("8500.0"),
        "amount_residual": Decimal("5500.0"), "payment_state": "partial", "payment_reference": "INV/2026/00006",
        "ref": "SEED-02",
    }  # fmt: skip
    row.update(values)
    return row


@pytest.mark.parametrize(
    ("values", "status"),
    [
        ({}, "partial"),
        ({"amount_residual": Decimal("8500.0")}, "open"),
        ({"amount_residual": Decimal("0.0"), "payment_state": "paid"}, "paid"),
        ({"amount_residual": Decimal("0.0"), "payment_state": "in_payment"}, "paid"),
        ({"state": "cancel"}, "cancelled"),
        ({"state": "draft"}, "draft"),
    ],
)
def test_invoice_status(values: dict[str, object], status: str) -> None:
    assert mapping.invoice(move(**values)).status == status


def test_invoice_fields() -> None:
    invoice = mapping.invoice(move())
    assert invoice.customer_id == "10" and invoice.source_refs["partner_id"] == "31"
    assert invoice.total == Money.of("8500.00", "USD") and invoice.residual == Money.of("5500.00", "USD")
    assert invoice.issue_date == dt.date(2026, 10, 3) and invoice.due_date == dt.date(2026, 11, 2)
    assert invoice.customer_reference == "SEED-02"
    refund = mapping.invoice(
        move(move_type="out_refund", amount_total=Decimal("500.0"), amount_residual=Decimal("500.0"))
    )
    assert refund.kind == "credit_note" and refund.total.amount == Decimal("500.00")
    with pytest.raises(SkippableRecord, match="not a customer invoice"):
        mapping.invoice(move(move_type="in_invoice"))


@pytest.mark.parametrize(
    ("values", "status", "memo"),
    [
        ({"state": "in_process", "memo": "INV/2026/00006"}, "posted", "INV/2026/00006"),  # Odoo 18
        ({"state": "paid", "memo": "x"}, "reconciled", "x"),
        (
            {"state": "posted", "is_reconciled": True, "ref": "old ref", "_memo_field": "ref"},
            "reconciled",
            "old ref",
        ),
        ({"state": "cancel", "ref": False, "_memo_field": "ref"}, "cancelled", None),  # Odoo 16/17
        ({"state": "rejected"}, "cancelled", None),
    ],
)
def test_payment_states_and_memo_across_versions(
    values: dict[str, object], status: str, memo: str | None
) -> None:
    row: dict[str, object] = {
        "id": 1, "name": "PBNK1/2026/00001", "amount": Decimal("3000.0"), "currency_id": [1, "USD"],
        "date": "2026-11-04", "journal_id": [6, "Bank"], "payment_method_line_id": [1, "Manual Payment (Bank)"],
        "_customer_id": "10", "payment_reference": False,
    }  # fmt: skip
    row.update(values)
    payment = mapping.payment(row)
    assert payment.status == status and payment.memo == memo
    assert payment.amount == Money.of("3000.00", "USD") and payment.bank_account == "Bank"


def test_allocation_of_a_partial_reconcile() -> None:
    allocation = mapping.allocation(
        {
            "id": 1,
            "max_date": "2026-11-04",
            "_line_id": 61,
            "_invoice_id": 26,
            "_amount": Decimal("3000.0"),
            "_currency": "USD",
            "_kind": "payment",
            "_counterpart": "1",
        }
    )
    assert (allocation.invoice_id, allocation.payment_id, allocation.scope) == ("26", "1", "aml:61")
    assert allocation.amount == Money.of("3000.00", "USD")
