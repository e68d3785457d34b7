"""The demo's write-back stage: every engine's proposals → one plan → applied to the demo books.

The demo company's source is a CSV export, so "writing back" produces the import file and the
dunning-steps log its system would read (see ``connectors/csv/writeback.py``). Run the demo twice:
the second plan is empty, because the first apply already made every change.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from erp_recovery.store.locks import named_lock
from erp_recovery.store.records import source_population
from erp_recovery.sync.registry import create_connector
from erp_recovery.writeback import StoreAuditLog, WritebackPolicy, apply_plan, make_plan
from erp_recovery.writeback import store as wb_store
from erp_recovery.writeback.planner import providers
from erp_recovery.writeback.render import render

if TYPE_CHECKING:
    from erp_recovery.demo import StageContext


def plan_and_apply(context: StageContext, *, source: str) -> dict[str, Any]:
    proposals = []
    for _name, entry in sorted(providers().items()):
        proposals.extend(entry.load()(context.store, context.config, source))
    connector = create_connector(context.config.source(source))
    try:
        draft = make_plan(source, connector, proposals, created_by="demo")
        with context.store.begin() as connection:
            wb_store.save_plan(connection, draft.plan)
        if draft.plan.changes:
            context.echo(render(draft.plan, "text"))
        policy = context.config.section("writeback", WritebackPolicy)
        with context.store.connect() as connection:
            population = source_population(connection, source)
        with named_lock(context.store, f"writeback:{source}"):
            report = apply_plan(
                draft.plan,
                connector,
                checksum=draft.plan.checksum,
                policy=policy,
                population=population,
                audit=StoreAuditLog(context.store),
            )
    finally:
        connector.close()
    settings = context.config.source(source).settings["writeback"]
    return {
        "plan": draft.plan.id,
        "proposed": len(proposals),
        "already_so": len(draft.dropped),
        "changes": len(draft.plan.changes),
        "applied": report.counts(),
        "files": [settings["output"], settings["actions_output"]],
        "summary": (
            f"{len(proposals)} proposals, {len(draft.dropped)} already so, {len(draft.plan.changes)} changes planned; "
            f"apply: {report.counts()}; files: {settings['output']}, {settings['actions_output']}"
        ),
    }
