"""Risk decisions → write-back proposals (credit limit, risk class), and the ``risk`` provider.

The write-back vocabulary (:mod:`erp_recovery.writeback`) has one ``risk_flag`` value per
customer (an Odoo tag ``Risk: <value>`` or field, a Sage "code risque"); ``[risk.writeback]``
chooses what goes there:

- ``risk_flag = "grade"`` (default): the grade letter A-E;
- ``risk_flag = "worst_flag"``: the most serious flag (insolvency_proceedings, over_limit,
  chronic_late_payer, deteriorating, prescription_approaching), or nothing when none applies;
- ``risk_flag = "off"``: no risk class proposals.

``risk_field`` names the write-back field (``risk_flag`` for Odoo, ``risk_code`` for Sage 100)
and ``risk_values`` translates the value (Sage risk codes are numbers 1..10), per source if needed.

Every proposal's reason carries the explanation (factors or flag reasons) and the assessment it
comes from (``decision_id = "risk:<as_of>:<customer>"``). ``erp-recovery plan SOURCE --from
risk`` builds a plan from the latest assessment saved by ``erp-recovery assess``; the planner
reads the current values and leaves out what is already so. Nothing is written without ``apply``.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import func, select

from erp_recovery.config import AppConfig
from erp_recovery.engines.risk.config import RiskConfig, RiskWritebackSettings
from erp_recovery.errors import ConfigError
from erp_recovery.model.money import Money
from erp_recovery.model.records import Customer
from erp_recovery.store import Store
from erp_recovery.store import runs as run_store
from erp_recovery.store.records import load_records
from erp_recovery.store.risk import risk_assessments
from erp_recovery.writeback.plan import Proposal, Reason, TargetRef

#: Most serious first: the value ``worst_flag`` writes.
FLAG_SEVERITY = (
    "insolvency_proceedings",
    "over_limit",
    "chronic_late_payer",
    "deteriorating",
    "prescription_approaching",
)


def worst_flag(codes: list[str]) -> str | None:
    ranked = [code for code in FLAG_SEVERITY if code in codes]
    return ranked[0] if ranked else None


def proposals_from_rows(
    rows: list[Any], customers: dict[str, Customer], source: str, settings: RiskWritebackSettings
) -> list[Proposal]:
    """Proposals for the customers of ``source`` from stored assessment rows."""
    proposals: list[Proposal] = []
    for row in rows:
        customer = customers.get(row.customer_id)
        if customer is None:
            continue
        target = TargetRef(source=source, entity="customer", external_id=row.customer_id, label=customer.name)
        decision = f"risk:{row.as_of.isoformat()}:{row.customer_id}"
        payload = row.payload
        limit = payload.get("credit_limit", {})
        if settings.credit_limit and limit.get("propose"):
            proposals.append(
                Proposal(
                    target=target,
                    field="credit_limit",
                    new=Money(amount=Decimal(str(row.recommended_limit)), currency=row.currency),
                    reason=Reason(
                        rule="risk.limit",
                        explanation=f"grade {row.grade} (score {row.score}): {limit.get('working', '')}",
                        decision_id=decision,
                    ),
                )
            )
        if settings.risk_flag == "off":
            continue
        flags = payload.get("flags", [])
        if settings.risk_flag == "grade":
            value: str | None = row.grade
            top = sorted(payload.get("factors", []), key=lambda f: -Decimal(str(f.get("points") or 0)))[:3]
            explanation = f"score {row.score}/100: " + "; ".join(
                f"{f['name']} -{f['points']}: {f['sentence']}"
                for f in top
                if Decimal(str(f.get("points") or 0)) > 0
            )
            rule = "risk.grade"
        else:
            value = worst_flag([f["code"] for f in flags])
            explanation = "; ".join(f"{f['code']}: {f['reason']}" for f in flags) or "no risk flag applies"
            rule = "risk.flags"
        if flags and settings.risk_flag == "grade":
            explanation += " | flags: " + ", ".join(f["code"] for f in flags)
        if settings.risk_values:
            if value is not None and value not in settings.risk_values:
                continue
            value = settings.risk_values[value] if value is not None else None
        proposals.append(
            Proposal(
                target=target,
                field=settings.risk_field,
                new=value,
                reason=Reason(rule=rule, explanation=explanation, decision_id=decision),
            )
        )
    return proposals


def risk_proposals(store: Store, config: AppConfig, source_name: str) -> list[Proposal]:
    """Write-back provider ``risk``: proposals from the latest saved assessment of the source's company."""
    source = config.source(source_name)
    settings = config.section("risk", RiskConfig).writeback.for_source(source_name)
    with store.connect() as connection:
        company_id, source_id = run_store.synced_source_ids(connection, source)
        latest = connection.execute(
            select(func.max(risk_assessments.c.as_of)).where(risk_assessments.c.company_id == company_id)
        ).scalar()
        if latest is None:
            raise ConfigError(
                f"no saved risk assessment for company {source.company!r}: run 'erp-recovery assess' first"
            )
        rows = list(
            connection.execute(
                select(risk_assessments)
                .where(risk_assessments.c.company_id == company_id, risk_assessments.c.as_of == latest)
                .order_by(risk_assessments.c.customer_id)
            )
        )
        customers = {
            record.external_id: record
            for record in load_records(connection, "customer", company_id=company_id, source_ids=[source_id])
            if isinstance(record, Customer)
        }
    return proposals_from_rows(rows, customers, source_name, settings)
