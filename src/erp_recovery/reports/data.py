"""Load a company's records from the store into a risk :class:`Portfolio`.

This is the one place where the risk engine meets the store: the engine itself stays pure.
"""

from __future__ import annotations

from collections.abc import Mapping

from erp_recovery.engines.risk.portfolio import PendingPayment, Portfolio, pending_from_matches
from erp_recovery.engines.signals.models import CompanySignals
from erp_recovery.errors import ConfigError
from erp_recovery.model.money import Money
from erp_recovery.model.records import Allocation, BankTransaction, Company, Customer, Invoice, Payment
from erp_recovery.store import Store
from erp_recovery.store import runs as run_store
from erp_recovery.store.matching import stored_proposals
from erp_recovery.store.records import load_records


def load_portfolio(
    store: Store,
    company: Company,
    *,
    pending: list[PendingPayment] | None = None,
    signals: Mapping[str, CompanySignals] | None = None,
    insured_limits: Mapping[str, Money] | None = None,
) -> Portfolio:
    """Customers, invoices, allocations, payments and bank transactions of ``company``."""
    with store.connect() as connection:
        company_id = run_store.company_id(connection, company.code)
        if company_id is None:
            raise ConfigError(
                f"company {company.code!r} has no data in the database yet: run 'erp-recovery sync' first",
                key="companies",
            )
        customers = [
            r for r in load_records(connection, "customer", company_id=company_id) if isinstance(r, Customer)
        ]
        invoices = [
            r for r in load_records(connection, "invoice", company_id=company_id) if isinstance(r, Invoice)
        ]
        allocations = [
            r
            for r in load_records(connection, "allocation", company_id=company_id)
            if isinstance(r, Allocation)
        ]
        payments = [
            r for r in load_records(connection, "payment", company_id=company_id) if isinstance(r, Payment)
        ]
        transactions = [
            r
            for r in load_records(connection, "bank_transaction", company_id=company_id)
            if isinstance(r, BankTransaction)
        ]
        if pending is None:
            # Bank credits the matcher attributed to invoices, not booked in the ERP yet: shown apart.
            pending = pending_from_matches(
                stored_proposals(connection, company_id, statuses=["auto", "suggested", "accepted"])
            )
    return Portfolio.build(
        currency=company.base_currency,
        customers=customers,
        invoices=invoices,
        allocations=allocations,
        payments=payments,
        bank_transactions=transactions,
        pending=pending or [],
        signals=signals,
        insured_limits=insured_limits,
        jurisdiction=company.jurisdiction,
    )
