"""Alembic environment: runs on the connection erp-recovery hands over (see ``store.engine``)."""

from __future__ import annotations

from alembic import context

import erp_recovery.pipeline.store  # registers the pipeline_* and approvals tables on the metadata
import erp_recovery.store.dunning  # registers the dunning_* tables on the metadata
import erp_recovery.store.matching  # registers the match_* and payer_memory tables on the metadata
import erp_recovery.store.risk  # registers the risk_assessments table on the metadata
import erp_recovery.writeback.store  # noqa: F401  (registers the writeback_* tables on the metadata)
from erp_recovery.store.schema import metadata

config = context.config
connection = config.attributes.get("connection")
if connection is None:
    raise RuntimeError("erp-recovery migrations run through 'erp-recovery db upgrade', not the alembic CLI")

context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
