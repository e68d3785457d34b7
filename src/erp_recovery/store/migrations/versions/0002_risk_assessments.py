"""risk assessments: one row per customer and assessment date

Revision ID: 0002_risk
Revises: 0001
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import erp_recovery.store.types

revision = "0002_risk"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "risk_assessments",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("company_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("customer_id", sa.String(length=255), nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("grade", sa.String(length=1), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("exposure", erp_recovery.store.types.ExactDecimal(), nullable=False),
        sa.Column("overdue", erp_recovery.store.types.ExactDecimal(), nullable=False),
        sa.Column("credit_limit", erp_recovery.store.types.ExactDecimal(), nullable=True),
        sa.Column("recommended_limit", erp_recovery.store.types.ExactDecimal(), nullable=False),
        sa.Column("flags", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"), nullable=False),
        sa.Column("payload", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["company_id"], ["companies.id"], name=op.f("fk_risk_assessments_company_id_companies")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_risk_assessments")),
    )
    op.create_index(
        "ix_risk_assessments_customer", "risk_assessments", ["company_id", "customer_id", "as_of"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_risk_assessments_customer", table_name="risk_assessments")
    op.drop_table("risk_assessments")
