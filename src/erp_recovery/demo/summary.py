"""A short picture of a company's receivables, printed at the end of the demo."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import Decimal
from typing import Any

from erp_recovery.model.records import Customer, Invoice
from erp_recovery.store import Store
from erp_recovery.store import runs as run_store
from erp_recovery.store.records import load_records


def receivables_summary(store: Store, company: str, as_of: date) -> dict[str, Any]:
    """Counts, open and overdue amounts, and the customers with the most overdue, at ``as_of``."""
    with store.connect() as connection:
        company_id = run_store.company_id(connection, company)
        if company_id is None:
            return {"error": f"company {company} not in the database"}
        customers = {
            c.external_id: c
            for c in load_records(connection, "customer", company_id=company_id)
            if isinstance(c, Customer)
        }
        documents = [
            i for i in load_records(connection, "invoice", company_id=company_id) if isinstance(i, Invoice)
        ]
    open_total: dict[str, Decimal] = defaultdict(Decimal)
    overdue_total: dict[str, Decimal] = defaultdict(Decimal)
    overdue_by_customer: dict[str, Decimal] = defaultdict(Decimal)
    for document in documents:
        if not document.is_open:
            continue
        residual = document.signed_residual
        open_total[residual.currency] += residual.amount
        if document.kind == "invoice" and document.due_date and document.due_date < as_of:
            overdue_total[residual.currency] += residual.amount
            overdue_by_customer[document.customer_id] += residual.amount
    top = sorted(overdue_by_customer.items(), key=lambda item: item[1], reverse=True)[:5]
    return {
        "as_of": as_of.isoformat(),
        "customers": len(customers),
        "invoices": sum(1 for d in documents if d.kind == "invoice"),
        "credit_notes": sum(1 for d in documents if d.kind == "credit_note"),
        "open": {currency: format(amount, "f") for currency, amount in open_total.items()},
        "overdue": {currency: format(amount, "f") for currency, amount in overdue_total.items()},
        "top_overdue": [
            {
                "customer": code,
                "name": customers[code].name if code in customers else code,
                "overdue": format(amount, "f"),
            }
            for code, amount in top
        ],
    }
