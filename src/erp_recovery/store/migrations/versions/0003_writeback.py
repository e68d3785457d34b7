"""write-back: plans, apply runs and the audit log

Revision ID: 0003_writeback
Revises: 0002_risk
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0003_writeback"
down_revision = "0002_risk"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _json() -> sa.types.TypeEngine:
    return sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "writeback_plans",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("plan_id", sa.String(length=32), nullable=False),
        sa.Column("checksum", sa.String(length=64), nullable=False),
        sa.Column("source", sa.String(length=63), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=63), nullable=False),
        sa.Column("change_count", sa.Integer(), nullable=False),
        sa.Column("body", _json(), nullable=False),
        sa.Column("stored_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_writeback_plans")),
        sa.UniqueConstraint("plan_id", name=op.f("uq_writeback_plans_plan_id")),
        sa.UniqueConstraint("checksum", name=op.f("uq_writeback_plans_checksum")),
    )
    op.create_index(op.f("ix_writeback_plans_source"), "writeback_plans", ["source"])
    op.create_table(
        "writeback_runs",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("plan_row_id", _ID, nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("forced", sa.Boolean(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("actor", sa.String(length=255), nullable=True),
        sa.Column("host", sa.String(length=255), nullable=True),
        sa.Column("pid", sa.Integer(), nullable=True),
        sa.Column("counts", _json(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["plan_row_id"],
            ["writeback_plans.id"],
            name=op.f("fk_writeback_runs_plan_row_id_writeback_plans"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_writeback_runs")),
    )
    op.create_index(op.f("ix_writeback_runs_plan_row_id"), "writeback_runs", ["plan_row_id"])
    op.create_table(
        "writeback_audit",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("run_id", _ID, nullable=False),
        sa.Column("plan_row_id", _ID, nullable=False),
        sa.Column("change_key", sa.String(length=24), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("entity", sa.String(length=32), nullable=False),
        sa.Column("external_id", sa.String(length=255), nullable=False),
        sa.Column("label", sa.String(length=255), nullable=True),
        sa.Column("name", sa.String(length=63), nullable=False),
        sa.Column("base", _json(), nullable=True),
        sa.Column("new", _json(), nullable=True),
        sa.Column("observed", _json(), nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.Column("rule", sa.String(length=63), nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"], ["writeback_runs.id"], name=op.f("fk_writeback_audit_run_id_writeback_runs")
        ),
        sa.ForeignKeyConstraint(
            ["plan_row_id"],
            ["writeback_plans.id"],
            name=op.f("fk_writeback_audit_plan_row_id_writeback_plans"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_writeback_audit")),
    )
    op.create_index(op.f("ix_writeback_audit_run_id"), "writeback_audit", ["run_id"])
    op.create_index("ix_writeback_audit_plan_change", "writeback_audit", ["plan_row_id", "change_key"])


def downgrade() -> None:
    op.drop_index("ix_writeback_audit_plan_change", table_name="writeback_audit")
    op.drop_index(op.f("ix_writeback_audit_run_id"), table_name="writeback_audit")
    op.drop_table("writeback_audit")
    op.drop_index(op.f("ix_writeback_runs_plan_row_id"), table_name="writeback_runs")
    op.drop_table("writeback_runs")
    op.drop_index(op.f("ix_writeback_plans_source"), table_name="writeback_plans")
    op.drop_table("writeback_plans")
