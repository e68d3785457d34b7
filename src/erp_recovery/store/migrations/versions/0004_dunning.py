"""dunning: communications, steps, actions (trace), pauses, promises, payment plans, cases

Revision ID: 0004_dunning
Revises: 0003_writeback
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from erp_recovery.store.types import ExactDecimal

revision = "0004_dunning"
down_revision = "0003_writeback"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _json() -> sa.types.TypeEngine:
    return sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table('dunning_cases',
    sa.Column('id', _ID, autoincrement=True, nullable=False),
    sa.Column('company_id', _ID, nullable=False),
    sa.Column('customer_id', sa.String(length=255), nullable=False),
    sa.Column('as_of', sa.Date(), nullable=False),
    sa.Column('policy', sa.String(length=63), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('level', sa.String(length=40), nullable=True),
    sa.Column('level_label', sa.String(length=255), nullable=True),
    sa.Column('level_index', sa.Integer(), nullable=True),
    sa.Column('last_sent_on', sa.Date(), nullable=True),
    sa.Column('next_action_on', sa.Date(), nullable=True),
    sa.Column('next_action', sa.Text(), nullable=True),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('open_amount', ExactDecimal(), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['company_id'], ['companies.id'], name=op.f('fk_dunning_cases_company_id_companies')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_dunning_cases')),
    sa.UniqueConstraint('company_id', 'customer_id', name='uq_dunning_cases_customer')
    )
    op.create_table('dunning_communications',
    sa.Column('id', _ID, autoincrement=True, nullable=False),
    sa.Column('company_id', _ID, nullable=False),
    sa.Column('customer_id', sa.String(length=255), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('policy', sa.String(length=63), nullable=False),
    sa.Column('level', sa.String(length=40), nullable=False),
    sa.Column('level_index', sa.Integer(), nullable=False),
    sa.Column('level_label', sa.String(length=255), nullable=False),
    sa.Column('level_kind', sa.String(length=16), nullable=False),
    sa.Column('channels', _json(), nullable=False),
    sa.Column('language', sa.String(length=8), nullable=False),
    sa.Column('deadline', sa.Date(), nullable=True),
    sa.Column('reference', sa.String(length=64), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('total', ExactDecimal(), nullable=False),
    sa.Column('document_path', sa.Text(), nullable=True),
    sa.Column('document_hash', sa.String(length=64), nullable=True),
    sa.Column('payload', _json(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['company_id'], ['companies.id'], name=op.f('fk_dunning_communications_company_id_companies')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_dunning_communications')),
    sa.UniqueConstraint('company_id', 'customer_id', 'day', name='uq_dunning_communications_customer_day')
    )
    op.create_table('dunning_pauses',
    sa.Column('id', _ID, autoincrement=True, nullable=False),
    sa.Column('company_id', _ID, nullable=False),
    sa.Column('customer_id', sa.String(length=255), nullable=False),
    sa.Column('invoice_id', sa.String(length=255), nullable=True),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('start', sa.Date(), nullable=False),
    sa.Column('until', sa.Date(), nullable=True),
    sa.Column('published_on', sa.Date(), nullable=True),
    sa.Column('origin', sa.String(length=16), nullable=False),
    sa.Column('created_by', sa.String(length=63), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ended_on', sa.Date(), nullable=True),
    sa.ForeignKeyConstraint(['company_id'], ['companies.id'], name=op.f('fk_dunning_pauses_company_id_companies')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_dunning_pauses'))
    )
    op.create_index('ix_dunning_pauses_customer', 'dunning_pauses', ['company_id', 'customer_id'], unique=False)
    op.create_table('dunning_payment_plans',
    sa.Column('id', _ID, autoincrement=True, nullable=False),
    sa.Column('company_id', _ID, nullable=False),
    sa.Column('customer_id', sa.String(length=255), nullable=False),
    sa.Column('invoice_ids', _json(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('outstanding_at_start', ExactDecimal(), nullable=False),
    sa.Column('agreed_on', sa.Date(), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['company_id'], ['companies.id'], name=op.f('fk_dunning_payment_plans_company_id_companies')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_dunning_payment_plans'))
    )
    op.create_table('dunning_promises',
    sa.Column('id', _ID, autoincrement=True, nullable=False),
    sa.Column('company_id', _ID, nullable=False),
    sa.Column('customer_id', sa.String(length=255), nullable=False),
    sa.Column('invoice_ids', _json(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('amount', ExactDecimal(), nullable=False),
    sa.Column('outstanding_at_promise', ExactDecimal(), nullable=False),
    sa.Column('promised_on', sa.Date(), nullable=False),
    sa.Column('made_on', sa.Date(), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('status_on', sa.Date(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['company_id'], ['companies.id'], name=op.f('fk_dunning_promises_company_id_companies')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_dunning_promises'))
    )
    op.create_table('dunning_actions',
    sa.Column('id', _ID, autoincrement=True, nullable=False),
    sa.Column('company_id', _ID, nullable=False),
    sa.Column('communication_id', _ID, nullable=True),
    sa.Column('customer_id', sa.String(length=255), nullable=False),
    sa.Column('action_key', sa.String(length=160), nullable=False),
    sa.Column('channel', sa.String(length=24), nullable=False),
    sa.Column('task_kind', sa.String(length=24), nullable=True),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=True),
    sa.Column('recipient', sa.String(length=255), nullable=True),
    sa.Column('subject', sa.Text(), nullable=True),
    sa.Column('detail', sa.Text(), nullable=True),
    sa.Column('document_path', sa.Text(), nullable=True),
    sa.Column('content_hash', sa.String(length=64), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('details', _json(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('delivered_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['communication_id'], ['dunning_communications.id'], name=op.f('fk_dunning_actions_communication_id_dunning_communications')),
    sa.ForeignKeyConstraint(['company_id'], ['companies.id'], name=op.f('fk_dunning_actions_company_id_companies')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_dunning_actions')),
    sa.UniqueConstraint('company_id', 'action_key', name='uq_dunning_actions_key')
    )
    op.create_index('ix_dunning_actions_customer', 'dunning_actions', ['company_id', 'customer_id'], unique=False)
    op.create_table('dunning_instalments',
    sa.Column('id', _ID, autoincrement=True, nullable=False),
    sa.Column('plan_id', _ID, nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('due_date', sa.Date(), nullable=False),
    sa.Column('amount', ExactDecimal(), nullable=False),
    sa.ForeignKeyConstraint(['plan_id'], ['dunning_payment_plans.id'], name=op.f('fk_dunning_instalments_plan_id_dunning_payment_plans')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_dunning_instalments')),
    sa.UniqueConstraint('plan_id', 'seq', name='uq_dunning_instalments_plan_seq')
    )
    op.create_index(op.f('ix_dunning_instalments_plan_id'), 'dunning_instalments', ['plan_id'], unique=False)
    op.create_table('dunning_steps',
    sa.Column('id', _ID, autoincrement=True, nullable=False),
    sa.Column('company_id', _ID, nullable=False),
    sa.Column('communication_id', _ID, nullable=False),
    sa.Column('customer_id', sa.String(length=255), nullable=False),
    sa.Column('item_key', sa.String(length=255), nullable=False),
    sa.Column('level', sa.String(length=40), nullable=False),
    sa.Column('level_index', sa.Integer(), nullable=False),
    sa.Column('sent_on', sa.Date(), nullable=False),
    sa.Column('deadline', sa.Date(), nullable=True),
    sa.ForeignKeyConstraint(['communication_id'], ['dunning_communications.id'], name=op.f('fk_dunning_steps_communication_id_dunning_communications')),
    sa.ForeignKeyConstraint(['company_id'], ['companies.id'], name=op.f('fk_dunning_steps_company_id_companies')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_dunning_steps')),
    sa.UniqueConstraint('company_id', 'item_key', 'level', name='uq_dunning_steps_item_level')
    )
    op.create_index('ix_dunning_steps_customer', 'dunning_steps', ['company_id', 'customer_id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_dunning_steps_customer', table_name='dunning_steps')
    op.drop_table('dunning_steps')
    op.drop_index(op.f('ix_dunning_instalments_plan_id'), table_name='dunning_instalments')
    op.drop_table('dunning_instalments')
    op.drop_index('ix_dunning_actions_customer', table_name='dunning_actions')
    op.drop_table('dunning_actions')
    op.drop_table('dunning_promises')
    op.drop_table('dunning_payment_plans')
    op.drop_index('ix_dunning_pauses_customer', table_name='dunning_pauses')
    op.drop_table('dunning_pauses')
    op.drop_table('dunning_communications')
    op.drop_table('dunning_cases')
