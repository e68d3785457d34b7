"""Small builders of canonical records for the risk tests (not a test module)."""

from __future__ import annotations

import datetime as dt
import itertools

from erp_recovery.model import Allocation, Customer, Invoice, Money, PaymentTerms

_ids = itertools.count(1)


def eur(value: str | int) -> Money:
    return Money.of(str(value), "EUR")


def customer(code: str = "C1", *, limit: str | None = None, terms: int | None = 30, **extra) -> Customer:
    return Customer(
        external_id=code,
        name=extra.pop("name", f"Customer {code}"),
        credit_limit=eur(limit) if limit is not None else None,
        payment_terms=PaymentTerms(days=terms) if terms is not None else None,
        **extra,
    )


def invoice(
    customer_id: str,
    issue: dt.date,
    total: str | int,
    *,
    due: dt.date | None = None,
    paid: list[tuple[dt.date, str | int]] | None = None,
    disputed: bool = False,
    kind: str = "invoice",
) -> tuple[Invoice, list[Allocation]]:
    """An invoice (due 30 days after issue unless given) and the allocations of its payments."""
    number = f"F{next(_ids):05d}"
    paid = paid or []
    allocations = [
        Allocation(
            external_id=f"{number}-a{index}",
            invoice_id=number,
            payment_id=f"{number}-p{index}",
            amount=eur(amount),
            date=day,
        )
        for index, (day, amount) in enumerate(paid)
    ]
    paid_total = sum((a.amount.amount for a in allocations), eur(0).amount)
    residual = eur(total).amount - paid_total
    status = "paid" if residual == 0 else ("partial" if paid_total else "open")
    document = Invoice(
        external_id=number,
        kind=kind,
        number=number,
        customer_id=customer_id,
        issue_date=issue,
        due_date=due or issue + dt.timedelta(days=30),
        currency="EUR",
        total=eur(total),
        residual=Money(amount=residual, currency="EUR"),
        status=status,
        disputed=disputed,
    )
    return document, allocations
