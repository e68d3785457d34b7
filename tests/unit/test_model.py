from datetime import date
from decimal import Decimal

import pytest
from pydantic import ValidationError

from erp_recovery.errors import CurrencyMismatchError
from erp_recovery.model import (
    Allocation,
    BankTransaction,
    CreditNote,
    Customer,
    Invoice,
    Money,
    canonical_json,
    minor_units,
)


def test_money_is_exact_and_refuses_floats():
    total = Money.of("0.10", "EUR") + Money.of("0.20", "EUR")
    assert total == Money.of("0.30", "EUR")
    assert total.amount == Decimal("0.30")
    with pytest.raises(ValidationError, match="never float"):
        Money.of(0.1, "EUR")
    with pytest.raises(TypeError):
        Money.of("1", "EUR") * 1.5  # type: ignore[operator]


def test_money_refuses_mixing_currencies():
    with pytest.raises(CurrencyMismatchError, match="without an exchange rate"):
        Money.of("1", "EUR") + Money.of("1", "USD")


def test_money_quantizes_to_minor_unit_half_up():
    assert Money.of("2.345", "EUR").quantized().amount == Decimal("2.35")
    assert Money.of("1234.5", "JPY").quantized().amount == Decimal("1235")
    assert minor_units("KWD") == 3


def test_money_parses_compact_form_and_rejects_bad_currency():
    assert Money.model_validate("12.50 eur") == Money.of("12.50", "EUR")
    with pytest.raises(ValidationError, match="ISO 4217"):
        Money.of("1", "EURO")


def test_customer_identifiers_are_validated_and_compacted():
    customer = Customer(
        external_id="C1",
        name="ACME",
        siren="732 829 320",
        vat_number="FR 40 303 265 045",
        ibans=["FR76 3000 6000 0112 3456 7890 189"],
    )
    assert customer.siren == "732829320"
    assert customer.vat_number == "FR40303265045"
    assert customer.ibans == ("FR7630006000011234567890189",)
    with pytest.raises(ValidationError, match="invalid SIREN"):
        Customer(external_id="C1", name="ACME", siren="732829321")
    with pytest.raises(ValidationError, match="invalid IBAN"):
        Customer(external_id="C1", name="ACME", ibans=["FR7630006000011234567890188"])


def _invoice(**overrides):
    values = dict(
        external_id="F1",
        number="F1",
        customer_id="C1",
        issue_date=date(2026, 1, 10),
        due_date=date(2026, 3, 10),
        currency="EUR",
        total=Money.of("120", "EUR"),
        residual=Money.of("20", "EUR"),
    )
    values.update(overrides)
    return Invoice(**values)


def test_invoice_checks_currency_dates_and_sign():
    assert _invoice().signed_residual == Money.of("20", "EUR")
    with pytest.raises(ValidationError, match="residual is in USD"):
        _invoice(residual=Money.of("20", "USD"))
    with pytest.raises(ValidationError, match="before issue date"):
        _invoice(due_date=date(2026, 1, 1))
    with pytest.raises(ValidationError, match="must be positive"):
        _invoice(total=Money.of("-5", "EUR"))


def test_credit_note_counts_negative():
    note = CreditNote(
        external_id="A1",
        number="A1",
        customer_id="C1",
        issue_date=date(2026, 1, 10),
        currency="EUR",
        total=Money.of("50", "EUR"),
        residual=Money.of("50", "EUR"),
    )
    assert note.kind == "credit_note"
    assert note.signed_residual == Money.of("-50", "EUR")


def test_allocation_needs_its_counterpart_and_a_positive_amount():
    with pytest.raises(ValidationError, match="needs payment_id"):
        Allocation(external_id="A", invoice_id="F1", amount=Money.of("1", "EUR"))
    with pytest.raises(ValidationError, match="positive"):
        Allocation(external_id="A", invoice_id="F1", payment_id="P", amount=Money.of("0", "EUR"))


def test_canonical_json_keeps_decimals_as_strings():
    transaction = BankTransaction(
        external_id="T1",
        account="FR7630006000011234567890189",
        booking_date=date(2026, 2, 1),
        amount=Money.of("18.150", "EUR"),
        counterparty_iban="DE89 3704 0044 0532 0130 00",
    )
    payload = canonical_json(transaction)
    assert payload["amount"] == {"amount": "18.150", "currency": "EUR"}
    assert payload["counterparty_iban"] == "DE89370400440532013000"
    assert BankTransaction.model_validate(payload) == transaction
