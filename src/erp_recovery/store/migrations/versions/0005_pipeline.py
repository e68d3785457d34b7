"""pipeline: runs, stage runs and approvals

Revision ID: 0005_pipeline
Revises: 0004_dunning
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0005_pipeline"
down_revision = "0004_dunning"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _json() -> sa.types.TypeEngine:
    return sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "pipeline_runs",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("run_key", sa.String(length=32), nullable=False),
        sa.Column("company_id", _ID, nullable=False),
        sa.Column("trigger", sa.String(length=16), nullable=False),
        sa.Column("sources", _json(), nullable=True),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("host", sa.String(length=255), nullable=True),
        sa.Column("pid", sa.Integer(), nullable=True),
        sa.Column("summary", _json(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["company_id"], ["companies.id"], name=op.f("fk_pipeline_runs_company_id_companies")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pipeline_runs")),
        sa.UniqueConstraint("run_key", name=op.f("uq_pipeline_runs_run_key")),
    )
    op.create_index(op.f("ix_pipeline_runs_company_id"), "pipeline_runs", ["company_id"])
    op.create_table(
        "pipeline_stage_runs",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("run_id", _ID, nullable=False),
        sa.Column("stage", sa.String(length=96), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("depends_on", _json(), nullable=True),
        sa.Column("final", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("duration_seconds", sa.Float(), nullable=True),
        sa.Column("counts", _json(), nullable=True),
        sa.Column("details", _json(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("host", sa.String(length=255), nullable=True),
        sa.Column("pid", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["run_id"], ["pipeline_runs.id"], name=op.f("fk_pipeline_stage_runs_run_id_pipeline_runs")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pipeline_stage_runs")),
        sa.UniqueConstraint("run_id", "stage", name="uq_pipeline_stage_runs_run_stage"),
    )
    op.create_table(
        "approvals",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("company_id", _ID, nullable=False),
        sa.Column("source", sa.String(length=63), nullable=False),
        sa.Column("change_key", sa.String(length=24), nullable=False),
        sa.Column("slot", sa.Text(), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("name", sa.String(length=63), nullable=False),
        sa.Column("entity", sa.String(length=32), nullable=False),
        sa.Column("external_id", sa.String(length=255), nullable=False),
        sa.Column("label", sa.String(length=255), nullable=True),
        sa.Column("change", _json(), nullable=False),
        sa.Column("policy_reason", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("requested_run_id", _ID, nullable=True),
        sa.Column("decided_by", sa.String(length=255), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("applied_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("outcome_detail", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["company_id"], ["companies.id"], name=op.f("fk_approvals_company_id_companies")),
        sa.ForeignKeyConstraint(
            ["requested_run_id"], ["pipeline_runs.id"], name=op.f("fk_approvals_requested_run_id_pipeline_runs")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_approvals")),
        sa.UniqueConstraint("source", "change_key", name="uq_approvals_source_change_key"),
    )
    op.create_index(op.f("ix_approvals_company_id"), "approvals", ["company_id"])
    op.create_index("ix_approvals_status", "approvals", ["status", "source"])


def downgrade() -> None:
    op.drop_index("ix_approvals_status", table_name="approvals")
    op.drop_index(op.f("ix_approvals_company_id"), table_name="approvals")
    op.drop_table("approvals")
    op.drop_table("pipeline_stage_runs")
    op.drop_index(op.f("ix_pipeline_runs_company_id"), table_name="pipeline_runs")
    op.drop_table("pipeline_runs")
