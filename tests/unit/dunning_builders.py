"""Builders for the dunning tests: a French creditor, customers, invoices (not a test module)."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from decimal import Decimal
from typing import Any

from erp_recovery.engines.dunning import DunningInput, DunningPlan, load_policies, simulate
from erp_recovery.engines.legal import load_profile, load_rate_table
from erp_recovery.model import Address, Company, Customer, Invoice, Money

D = dt.date


def eur(value: str | int | Decimal) -> Money:
    return Money.of(str(value), "EUR")


def company(**extra: Any) -> Company:
    return Company(
        code="acme",
        name="Atelier Démo SAS",
        siren="900000126",
        vat_number="FR55900000126",
        iban="FR7630006000011234567890189",
        bic="AGRIFRPP",
        email="recouvrement@atelier-demo.example",
        phone="+33 4 72 00 00 00",
        address=Address(street="12 quai des Célestins", postal_code="69002", city="Lyon", country="FR"),
        **extra,
    )


def customer(code: str = "C1", **extra: Any) -> Customer:
    values: dict[str, Any] = {
        "name": f"Garage {code}",
        "siren": "745678904",
        "email": f"compta-{code.lower()}@client.example",
        "phone": "+33 4 76 00 00 00",
        "address": Address(
            street="12 rue de la République", postal_code="38000", city="Grenoble", country="FR"
        ),
        **extra,
    }
    return Customer(external_id=code, **values)


def invoice(
    number: str,
    customer_id: str,
    due: dt.date,
    total: str | int,
    *,
    issue: dt.date | None = None,
    residual: str | int | None = None,
    **extra: Any,
) -> Invoice:
    left = eur(total if residual is None else residual)
    status = "paid" if left.amount == 0 else ("partial" if left.amount != eur(total).amount else "open")
    return Invoice(
        external_id=number,
        number=number,
        customer_id=customer_id,
        issue_date=issue or due - dt.timedelta(days=30),
        due_date=due,
        currency="EUR",
        total=eur(total),
        residual=left,
        status=status,
        **extra,
    )


def paid(document: Invoice) -> Invoice:
    return document.model_copy(update={"residual": eur(0), "status": "paid"})


def data(customers: list[Customer], invoices: list[Invoice], **extra: Any) -> DunningInput:
    return DunningInput(
        company=extra.pop("company", None) or company(),
        customers=customers,
        invoices=invoices,
        profile=load_profile("FR"),
        rates=load_rate_table(missing="carry_forward"),
        policies=extra.pop("policies", None) or load_policies(),
        **extra,
    )


def walk(start_data: DunningInput, start: dt.date, end: dt.date, changes: Any = None) -> list[DunningPlan]:
    return list(simulate(start_data, start, end, changes=changes))


def sent(plans: list[DunningPlan]) -> list[tuple[dt.date, str, str, tuple[str, ...]]]:
    """(day, customer, level, item numbers) of every communication, in order."""
    return [
        (c.send_on, c.customer_id, c.level.code, tuple(item.number for item in c.items))
        for plan in plans
        for c in plan.communications
    ]


def with_invoices(source: DunningInput, invoices: list[Invoice]) -> DunningInput:
    return replace(source, invoices=invoices)
