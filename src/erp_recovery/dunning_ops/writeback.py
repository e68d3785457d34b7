"""Dunning status → write-back proposals, and the ``dunning`` provider
(``erp-recovery plan SOURCE --from dunning``).

For each customer of the source that dunning has a case for:

- one ``dunning_step`` action per communication of the last ``since_days`` days (Odoo: a
  scheduled activity with the next action date as deadline and the responsible user, and a chatter
  message saying what was sent, when, how and for which invoices). Its idempotency key
  ``dunning:<company>:<customer>:<day>`` makes it happen once however many plans are applied;
- when ``level_field`` / ``next_action_field`` are set (``[dunning.writeback]``, per source if
  needed): the level reached (its label) and the next action date (ISO) as field values — for
  instance two positions added to the Sage 100 #MPCT layout, or fields a connector documents.

Nothing is written by this module: the planner reads the current values, leaves out what is
already so, and ``erp-recovery apply`` writes.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from erp_recovery.config import AppConfig
from erp_recovery.dunning_docs.formatting import format_money
from erp_recovery.dunning_ops.settings import DunningSettings, DunningWritebackTarget
from erp_recovery.errors import ConfigError
from erp_recovery.model.records import Customer
from erp_recovery.store import Store
from erp_recovery.store import runs as run_store
from erp_recovery.store.dunning import dunning_cases, dunning_communications
from erp_recovery.store.records import load_records
from erp_recovery.writeback.plan import ActionChange, Proposal, Reason, TargetRef

_CHANNELS = {
    "email": "e-mail",
    "letter": "letter",
    "registered_letter": "registered letter",
    "phone": "phone call",
    "escalation": "escalation dossier",
}


def step_message(row: Any, case: Any | None) -> str:
    """The chatter text of one communication: what, when, how, which invoices, what comes next."""
    items = row.payload.get("items", []) if row.payload else []
    numbers = ", ".join(item["number"] for item in items)
    channels = ", ".join(_CHANNELS.get(channel, channel) for channel in row.channels)
    total = format_money(Decimal(str(row.total)), "en", row.currency)
    what = f"for {numbers} ({total} claimed, ref. {row.reference})"
    if row.level_kind == "escalation":
        text = f"{row.level_label}: dossier prepared on {row.day.isoformat()} {what}"
    else:
        text = f"{row.level_label} sent on {row.day.isoformat()} by {channels} {what}"
    if row.deadline:
        text += f"; payment deadline {row.deadline.isoformat()}"
    if case is not None and case.next_action_on:
        text += f". Next: {case.next_action} on {case.next_action_on.isoformat()}"
    return text + "."


def proposals_for_source(
    rows: list[Any],
    cases: dict[str, Any],
    customers: dict[str, Customer],
    source: str,
    company: str,
    settings: DunningWritebackTarget,
) -> list[Proposal | ActionChange]:
    proposals: list[Proposal | ActionChange] = []
    for row in rows:
        customer = customers.get(row.customer_id)
        if customer is None or not settings.steps:
            continue
        case = cases.get(row.customer_id)
        deadline = (
            case.next_action_on if case is not None and case.next_action_on else row.deadline or row.day
        )
        params: dict[str, Any] = {
            "level": int(row.level_index) + 1,
            "summary": f"Dunning: {row.level_label}",
            "message": step_message(row, case),
            "note": step_message(row, case),
            "deadline": deadline.isoformat(),
        }
        if settings.responsible:
            params["user"] = settings.responsible
        proposals.append(
            ActionChange(
                target=TargetRef(
                    source=source, entity="customer", external_id=row.customer_id, label=customer.name
                ),
                action="dunning_step",
                params=params,
                idempotency_key=f"dunning:{company}:{row.customer_id}:{row.day.isoformat()}"[:120],
                reason=Reason(
                    rule="dunning.step",
                    explanation=f"{row.level_label} ({', '.join(row.channels)}) on {row.day.isoformat()}",
                    decision_id=f"dunning:{row.id}",
                ),
            )
        )
    for customer_id, case in sorted(cases.items()):
        customer = customers.get(customer_id)
        if customer is None:
            continue
        target = TargetRef(source=source, entity="customer", external_id=customer_id, label=customer.name)
        reason = Reason(
            rule="dunning.status",
            explanation=f"{case.state}; level {case.level_label or 'none'}; next {case.next_action or 'nothing planned'}",
            decision_id=f"dunning-case:{case.as_of.isoformat()}:{customer_id}",
        )
        if settings.level_field:
            value = case.level_label if case.state != "clear" else None
            proposals.append(Proposal(target=target, field=settings.level_field, new=value, reason=reason))
        if settings.next_action_field:
            value = (
                case.next_action_on.isoformat() if case.next_action_on and case.state == "active" else None
            )
            proposals.append(
                Proposal(target=target, field=settings.next_action_field, new=value, reason=reason)
            )
    return proposals


def dunning_proposals(store: Store, config: AppConfig, source_name: str) -> list[Proposal | ActionChange]:
    """Write-back provider ``dunning``: steps and status of the source's company's dunning cases."""
    source = config.source(source_name)
    settings = config.section("dunning", DunningSettings).writeback.for_source(source_name)
    with store.connect() as connection:
        company_id, source_id = run_store.synced_source_ids(connection, source)
        cases = {
            row.customer_id: row
            for row in connection.execute(
                select(dunning_cases).where(dunning_cases.c.company_id == company_id)
            )
        }
        if not cases:
            raise ConfigError(
                f"no dunning run recorded for company {source.company!r}: run 'erp-recovery dunning run' first"
            )
        latest = max(case.as_of for case in cases.values())
        since = latest - dt.timedelta(days=settings.since_days)
        rows = list(
            connection.execute(
                select(dunning_communications)
                .where(
                    dunning_communications.c.company_id == company_id, dunning_communications.c.day >= since
                )
                .order_by(dunning_communications.c.day, dunning_communications.c.id)
            )
        )
        customers = {
            record.external_id: record
            for record in load_records(connection, "customer", company_id=company_id, source_ids=[source_id])
            if isinstance(record, Customer)
        }
    return proposals_for_source(rows, cases, customers, source_name, source.company, settings)
