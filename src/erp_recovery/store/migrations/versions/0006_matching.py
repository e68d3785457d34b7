"""matching: runs, proposals and their lines, review decisions, payer memory

Revision ID: 0006_matching
Revises: 0005_pipeline
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import erp_recovery.store.types

revision = "0006_matching"
down_revision = "0005_pipeline"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _json() -> sa.types.TypeEngine:
    return sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def _money() -> sa.types.TypeEngine:
    return erp_recovery.store.types.ExactDecimal()


def upgrade() -> None:
    op.create_table(
        "match_runs",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("company_id", _ID, nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("counts", _json(), nullable=True),
        sa.ForeignKeyConstraint(
            ["company_id"], ["companies.id"], name=op.f("fk_match_runs_company_id_companies")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_match_runs")),
    )
    op.create_table(
        "match_proposals",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("company_id", _ID, nullable=False),
        sa.Column("bank_transaction_id", sa.String(length=255), nullable=False),
        sa.Column("bank_ref", sa.String(length=255), nullable=False),
        sa.Column("booking_date", sa.Date(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("amount", _money(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("confidence", _money(), nullable=False),
        sa.Column("rule", sa.String(length=40), nullable=False),
        sa.Column("customer_id", sa.String(length=255), nullable=True),
        sa.Column("writeoff", _money(), nullable=True),
        sa.Column("unapplied", _money(), nullable=True),
        sa.Column("flags", _json(), nullable=False),
        sa.Column("payload", _json(), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("run_id", _ID, nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["company_id"], ["companies.id"], name=op.f("fk_match_proposals_company_id_companies")
        ),
        sa.ForeignKeyConstraint(
            ["run_id"], ["match_runs.id"], name=op.f("fk_match_proposals_run_id_match_runs")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_match_proposals")),
        sa.UniqueConstraint("company_id", "bank_transaction_id", name="uq_match_proposals_transaction"),
    )
    op.create_index("ix_match_proposals_status", "match_proposals", ["company_id", "status"], unique=False)
    op.create_index(
        "ix_match_proposals_bank_ref", "match_proposals", ["company_id", "bank_ref"], unique=False
    )
    op.create_table(
        "match_lines",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("proposal_id", _ID, nullable=False),
        sa.Column("company_id", _ID, nullable=False),
        sa.Column("bank_transaction_id", sa.String(length=255), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("invoice_id", sa.String(length=255), nullable=False),
        sa.Column("invoice_number", sa.String(length=255), nullable=False),
        sa.Column("customer_id", sa.String(length=255), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("amount", _money(), nullable=False),
        sa.ForeignKeyConstraint(
            ["proposal_id"],
            ["match_proposals.id"],
            name=op.f("fk_match_lines_proposal_id_match_proposals"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["company_id"], ["companies.id"], name=op.f("fk_match_lines_company_id_companies")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_match_lines")),
    )
    op.create_index("ix_match_lines_invoice", "match_lines", ["company_id", "invoice_id"], unique=False)
    op.create_index("ix_match_lines_proposal", "match_lines", ["proposal_id"], unique=False)
    op.create_table(
        "match_decisions",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("company_id", _ID, nullable=False),
        sa.Column("bank_transaction_id", sa.String(length=255), nullable=False),
        sa.Column("bank_ref", sa.String(length=255), nullable=False),
        sa.Column("decision", sa.String(length=16), nullable=False),
        sa.Column("decided_by", sa.String(length=255), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("payload", _json(), nullable=False),
        sa.ForeignKeyConstraint(
            ["company_id"], ["companies.id"], name=op.f("fk_match_decisions_company_id_companies")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_match_decisions")),
    )
    op.create_index(
        "ix_match_decisions_transaction",
        "match_decisions",
        ["company_id", "bank_transaction_id"],
        unique=False,
    )
    op.create_table(
        "payer_memory",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("company_id", _ID, nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("customer_id", sa.String(length=255), nullable=False),
        sa.Column("origin", sa.String(length=16), nullable=False),
        sa.Column("confirmations", sa.Integer(), nullable=False),
        sa.Column("blocked", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["company_id"], ["companies.id"], name=op.f("fk_payer_memory_company_id_companies")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payer_memory")),
        sa.UniqueConstraint("company_id", "kind", "key", "customer_id", name="uq_payer_memory_entry"),
    )


def downgrade() -> None:
    op.drop_table("payer_memory")
    op.drop_index("ix_match_decisions_transaction", table_name="match_decisions")
    op.drop_table("match_decisions")
    op.drop_index("ix_match_lines_proposal", table_name="match_lines")
    op.drop_index("ix_match_lines_invoice", table_name="match_lines")
    op.drop_table("match_lines")
    op.drop_index("ix_match_proposals_bank_ref", table_name="match_proposals")
    op.drop_index("ix_match_proposals_status", table_name="match_proposals")
    op.drop_table("match_proposals")
    op.drop_table("match_runs")
