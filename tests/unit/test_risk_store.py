"""Risk assessments in the store (SQLite and PostgreSQL) and the proposals built from them."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from risk_builders import customer, invoice
from sqlalchemy import select

from erp_recovery.engines.risk import Portfolio, RiskConfig, assess_portfolio
from erp_recovery.engines.risk.config import RiskWritebackSettings
from erp_recovery.model import Company
from erp_recovery.reports.writeback import proposals_from_rows, worst_flag
from erp_recovery.store import runs as run_store
from erp_recovery.store.risk import assessment_history, risk_assessments, save_assessment

AS_OF = dt.date(2026, 6, 30)


def _assessment(as_of=AS_OF):
    documents = [invoice("C1", dt.date(2026, 1, 5) + dt.timedelta(days=30 * m), 1000) for m in range(5)]
    documents.append(invoice("C2", dt.date(2026, 5, 1), 100, paid=[(dt.date(2026, 5, 31), 100)]))
    invoices, allocations = [], []
    for document, allocs in documents:
        invoices.append(document)
        allocations.extend(allocs)
    portfolio = Portfolio.build(
        currency="EUR",
        customers=[customer("C1", limit="1000", name="Late SARL"), customer("C2", name="Prompt SA")],
        invoices=invoices,
        allocations=allocations,
    )
    return assess_portfolio(portfolio, as_of, RiskConfig())


def test_save_replaces_the_day_and_keeps_history(store):
    with store.begin() as connection:
        company_id = run_store.ensure_company(connection, Company(code="acme", name="Acme"))
        assert save_assessment(connection, company_id, _assessment()) == 2
        assert save_assessment(connection, company_id, _assessment()) == 2
        save_assessment(connection, company_id, _assessment(AS_OF + dt.timedelta(days=1)))
    with store.connect() as connection:
        rows = list(connection.execute(select(risk_assessments).where(risk_assessments.c.as_of == AS_OF)))
        assert len(rows) == 2
        history = assessment_history(connection, company_id, "C1")
    assert [row.as_of for row in history] == [AS_OF + dt.timedelta(days=1), AS_OF]
    late = history[-1]
    assert late.grade in "CDE" and "over_limit" in late.flags
    assert late.payload["explanation"].startswith("Late SARL (C1) on 2026-06-30")
    assert late.exposure == Decimal(5000)


def test_proposals_grade_or_worst_flag(store):
    with store.begin() as connection:
        company_id = run_store.ensure_company(connection, Company(code="acme", name="Acme"))
        save_assessment(connection, company_id, _assessment())
        rows = list(connection.execute(select(risk_assessments).order_by(risk_assessments.c.customer_id)))
    customers = {"C1": customer("C1", limit="1000", name="Late SARL"), "C2": customer("C2", name="Prompt SA")}
    by_grade = proposals_from_rows(rows, customers, "odoo-main", RiskWritebackSettings())
    flags = {p.target.external_id: p.new for p in by_grade if p.field == "risk_flag"}
    assert flags["C1"] == rows[0].grade and flags["C2"] == rows[1].grade
    limit = next(p for p in by_grade if p.field == "credit_limit" and p.target.external_id == "C1")
    assert limit.reason.rule == "risk.limit" and limit.new.currency == "EUR"
    worst = proposals_from_rows(rows, customers, "odoo-main", RiskWritebackSettings(risk_flag="worst_flag"))
    worst_flags = {p.target.external_id: p.new for p in worst if p.field == "risk_flag"}
    assert worst_flags == {"C1": "over_limit", "C2": None}
    off = proposals_from_rows(
        rows, {"C2": customers["C2"]}, "odoo-main", RiskWritebackSettings(risk_flag="off", credit_limit=False)
    )
    assert off == []


def test_worst_flag_order():
    assert worst_flag(["deteriorating", "insolvency_proceedings", "over_limit"]) == "insolvency_proceedings"
    assert worst_flag([]) is None


def test_sage_risk_code_through_a_value_table(store):
    with store.begin() as connection:
        company_id = run_store.ensure_company(connection, Company(code="acme", name="Acme"))
        save_assessment(connection, company_id, _assessment())
        rows = list(connection.execute(select(risk_assessments).order_by(risk_assessments.c.customer_id)))
    customers = {"C1": customer("C1", limit="1000"), "C2": customer("C2")}
    settings = RiskWritebackSettings.model_validate(
        {
            "sources": {
                "sage-books": {
                    "risk_field": "risk_code",
                    "risk_values": {"A": "1", "B": "1", "C": "2", "D": "3", "E": "4"},
                }
            }
        }
    )
    assert settings.for_source("odoo-main").risk_field == "risk_flag"
    sage = settings.for_source("sage-books")
    proposals = proposals_from_rows(rows, customers, "sage-books", sage)
    codes = {p.target.external_id: p.new for p in proposals if p.field == "risk_code"}
    expected = {"A": "1", "B": "1", "C": "2", "D": "3", "E": "4"}
    assert codes == {row.customer_id: expected[row.grade] for row in rows}
