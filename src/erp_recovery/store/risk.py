"""Risk assessments in the store: one row per customer and assessment date.

A row keeps what the write-back plan and the reports need without recomputing (score, grade,
exposure, limits, flags) and the full explanation as JSON (factors with their sentences, figures),
so a later run can show how a grade moved. Re-assessing the same day replaces that day's rows.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    delete,
    insert,
    select,
)
from sqlalchemy.engine import Connection

from erp_recovery.engines.risk import CustomerAssessment, PortfolioAssessment
from erp_recovery.store.schema import Id, metadata
from erp_recovery.store.types import ExactDecimal, JsonDocument

risk_assessments = Table(
    "risk_assessments",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("company_id", Id, ForeignKey("companies.id"), nullable=False),
    Column("as_of", Date, nullable=False),
    Column("customer_id", String(255), nullable=False),
    Column("score", Integer, nullable=False),
    Column("grade", String(1), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("exposure", ExactDecimal, nullable=False),
    Column("overdue", ExactDecimal, nullable=False),
    Column("credit_limit", ExactDecimal),
    Column("recommended_limit", ExactDecimal, nullable=False),
    Column("flags", JsonDocument, nullable=False),
    Column("payload", JsonDocument, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)
Index(
    "ix_risk_assessments_customer",
    risk_assessments.c.company_id,
    risk_assessments.c.customer_id,
    risk_assessments.c.as_of,
)


def _text(value: Decimal | None) -> str | None:
    return None if value is None else format(value, "f")


def assessment_payload(item: CustomerAssessment) -> dict[str, Any]:
    """The JSON kept with a row: factors, flags with reasons, limit working, main figures."""
    figures = item.figures
    return {
        "factors": [
            {
                "name": f.name,
                "weight": _text(f.weight),
                "severity": _text(f.severity.quantize(Decimal("0.0001"))),
                "points": _text(f.points),
                "sentence": f.sentence,
            }
            for f in item.score.factors
        ],
        "overrides": list(item.score.overrides),
        "flags": [{"code": flag.code, "reason": flag.reason} for flag in item.flags],
        "credit_limit": {
            "current": _text(item.credit_limit.current.amount) if item.credit_limit.current else None,
            "recommended": _text(item.credit_limit.recommended.amount),
            "working": item.credit_limit.working,
            "propose": item.credit_limit.should_propose,
        },
        "figures": {
            "open_items": figures.open_items,
            "ageing": {b.label: _text(b.amount) for b in figures.ageing},
            "dso_countback": _text(figures.dso_countback),
            "dso_simple": _text(figures.dso_simple),
            "days_late_weighted": {str(s.months): _text(s.weighted_days) for s in figures.lateness},
            "pending_bank_payments": _text(figures.pending_bank_payments),
        },
        "explanation": item.explain(),
    }


def save_assessment(connection: Connection, company_id: int, assessment: PortfolioAssessment) -> int:
    """Store the customers' assessments of ``assessment.as_of`` (replacing that day's); returns rows."""
    connection.execute(
        delete(risk_assessments).where(
            risk_assessments.c.company_id == company_id, risk_assessments.c.as_of == assessment.as_of
        )
    )
    stamp = dt.datetime.now(dt.UTC)
    rows = [
        {
            "company_id": company_id,
            "as_of": assessment.as_of,
            "customer_id": item.customer_id,
            "score": item.score.score,
            "grade": item.score.grade,
            "currency": assessment.currency,
            "exposure": item.figures.open_amount,
            "overdue": item.figures.overdue_amount,
            "credit_limit": item.figures.credit_limit,
            "recommended_limit": item.credit_limit.recommended.amount,
            "flags": [flag.code for flag in item.flags],
            "payload": assessment_payload(item),
            "created_at": stamp,
        }
        for item in assessment.customers
    ]
    if rows:
        connection.execute(insert(risk_assessments), rows)
    return len(rows)


def assessment_history(
    connection: Connection, company_id: int, customer_id: str, *, limit: int = 12
) -> Sequence[Any]:
    """The stored assessments of one customer, newest first."""
    return list(
        connection.execute(
            select(risk_assessments)
            .where(risk_assessments.c.company_id == company_id, risk_assessments.c.customer_id == customer_id)
            .order_by(risk_assessments.c.as_of.desc())
            .limit(limit)
        )
    )
