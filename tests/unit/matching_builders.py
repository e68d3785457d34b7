"""Small builders of canonical records for the matching tests (not a test module)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from schwifty import IBAN

from erp_recovery.engines.matching import MatchInput, MatchProposal, MatchResult, MatchSettings, match
from erp_recovery.model import BankTransaction, Customer, Invoice, Money

#: Our own account (the statements' account).
OUR_ACCOUNT = str(IBAN.generate("FR", bank_code="30004", account_code="00000009999").compact)


def iban(number: int) -> str:
    """A valid French IBAN, different for each number."""
    return str(IBAN.generate("FR", bank_code="30004", account_code=f"{1000 + number:011d}").compact)


def customer(code: str, name: str, **extra: Any) -> Customer:
    return Customer(external_id=code, name=name, **extra)


def invoice(
    code: str,
    number: str,
    customer_id: str,
    total: str,
    *,
    issue: str = "2024-01-10",
    due: str | None = None,
    residual: str | None = None,
    kind: str = "invoice",
    currency: str = "EUR",
    status: str | None = None,
    **extra: Any,
) -> Invoice:
    left = residual if residual is not None else total
    return Invoice(
        external_id=code,
        number=number,
        customer_id=customer_id,
        kind=kind,
        issue_date=dt.date.fromisoformat(issue),
        due_date=dt.date.fromisoformat(due) if due else None,
        currency=currency,
        total=Money.of(total, currency),
        residual=Money.of(left, currency),
        status=status or ("paid" if Money.of(left, currency).is_zero() else "open"),
        **extra,
    )


def credit(
    code: str,
    amount: str,
    *,
    name: str | None = None,
    remittance: str | None = None,
    payer_iban: str | None = None,
    date: str = "2024-03-01",
    currency: str = "EUR",
    **extra: Any,
) -> BankTransaction:
    return BankTransaction(
        external_id=code,
        account=OUR_ACCOUNT,
        booking_date=dt.date.fromisoformat(date),
        amount=Money.of(amount, currency),
        counterparty_name=name,
        counterparty_iban=payer_iban,
        remittance=remittance,
        bank_reference=f"BR-{code}",
        **extra,
    )


def run(
    customers: Sequence[Customer],
    invoices: Sequence[Invoice],
    transactions: Sequence[BankTransaction],
    settings: MatchSettings | None = None,
    **extra: Any,
) -> MatchResult:
    return match(
        MatchInput(customers=customers, invoices=invoices, bank_transactions=transactions, **extra), settings
    )


def only(result: MatchResult, transaction_id: str) -> MatchProposal:
    return result.by_transaction()[transaction_id]


def allocated(proposal: MatchProposal) -> dict[str, str]:
    """invoice number -> amount allocated, as strings (easy to compare)."""
    return {line.invoice_number: str(line.amount.amount) for line in proposal.lines}


def rules(proposal: MatchProposal) -> list[str]:
    return [evidence.rule for evidence in proposal.evidence]
