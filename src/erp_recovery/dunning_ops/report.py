"""Dunning plans and runs as tables and JSON for people and scripts (CLI and demo)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from erp_recovery.dunning_docs.formatting import format_money
from erp_recovery.engines.dunning import DunningPlan, PlannedCommunication


def _amounts(communication: PlannedCommunication) -> str:
    return "; ".join(format_money(t.total, "en", t.currency) for t in communication.totals())


def communication_rows(plan: DunningPlan) -> list[list[Any]]:
    return [
        [
            c.customer_id,
            c.customer.name,
            c.level.label,
            ", ".join(c.channels),
            ", ".join(item.number for item in c.items),
            _amounts(c),
            c.deadline.isoformat() if c.deadline else "",
        ]
        for c in plan.communications
    ]


COMMUNICATION_COLUMNS = ["customer", "name", "level", "channels", "items", "total", "deadline"]


def plan_json(plan: DunningPlan) -> dict[str, Any]:
    return {
        "as_of": plan.as_of,
        "company": plan.company,
        "communications": [
            {
                "customer": c.customer_id,
                "name": c.customer.name,
                "policy": c.policy,
                "policy_reason": c.policy_reason,
                "level": c.level.code,
                "label": c.level.label,
                "channels": list(c.channels),
                "language": c.language,
                "deadline": c.deadline,
                "items": [
                    {
                        "key": item.key,
                        "number": item.number,
                        "due_date": item.due_date,
                        "days_late": item.days_late,
                        "outstanding": item.outstanding.amount,
                        "currency": item.outstanding.currency,
                        "interest": item.interest.amount if item.interest else None,
                        "fixed_fee": item.fixed_fee.amount if item.fixed_fee else None,
                    }
                    for item in c.items
                ],
                "totals": [
                    {
                        "currency": t.currency,
                        "principal": t.principal,
                        "interest": t.interest,
                        "fees": t.fees,
                        "credits": t.credits,
                        "total": t.total,
                    }
                    for t in c.totals()
                ],
                "reasons": list(c.reasons),
                "notes": list(c.notes),
            }
            for c in plan.communications
        ],
        "tasks": [
            {
                "key": t.key,
                "kind": t.kind,
                "customer": t.customer_id,
                "due_on": t.due_on,
                "title": t.title,
                "detail": t.detail,
            }
            for t in plan.tasks
        ],
        "held": [
            {
                "customer": h.customer_id,
                "item": h.number,
                "kind": h.kind,
                "explanation": h.explanation,
                "until": h.until,
                "until_text": h.until_text,
                "outstanding": h.outstanding.amount,
            }
            for h in plan.held
        ],
        "waiting": [
            {
                "customer": w.customer_id,
                "item": w.number,
                "next_level": w.next_level,
                "next_on": w.next_on,
                "why": w.why,
            }
            for w in plan.waiting
        ],
        "promise_updates": [
            {
                "promise": u.promise_id,
                "customer": u.customer_id,
                "status": u.status,
                "on": u.on,
                "explanation": u.explanation,
            }
            for u in plan.promise_updates
        ],
        "cases": [
            {
                "customer": s.customer_id,
                "name": s.customer_name,
                "policy": s.policy,
                "state": s.state,
                "level": s.level,
                "level_label": s.level_label,
                "last_sent_on": s.last_sent_on,
                "next_action_on": s.next_action_on,
                "next_action": s.next_action,
                "open_amount": s.open_amount,
                "currency": s.currency,
                "note": s.note,
            }
            for s in plan.standings
        ],
        "notes": list(plan.notes),
    }


def plan_text(plan: DunningPlan) -> str:
    """The plan as plain text: what goes out today and why, what waits and until when."""
    lines = [f"Dunning plan of {plan.company} for {plan.as_of.isoformat()}", ""]
    if plan.communications:
        lines.append(f"To send today ({len(plan.communications)}):")
        for c in plan.communications:
            deadline = f", deadline {c.deadline.isoformat()}" if c.deadline else ""
            lines.append(
                f"- {c.customer.name} ({c.customer_id}): {c.level.label} by {', '.join(c.channels)}; "
                f"{_amounts(c)}{deadline} [{c.policy}: {c.policy_reason}]"
            )
            lines.extend(f"    {reason}" for reason in c.reasons)
            lines.extend(f"    note: {note}" for note in c.notes)
    else:
        lines.append("Nothing to send today.")
    if plan.tasks:
        lines += ["", f"Tasks ({len(plan.tasks)}):"]
        lines.extend(f"- [{t.kind}] {t.title} (due {t.due_on.isoformat()})" for t in plan.tasks)
    if plan.held:
        lines += ["", f"On hold ({len(plan.held)}):"]
        lines.extend(
            f"- {h.customer_id} {h.number}: {h.kind} — {h.explanation}; {h.until_text}" for h in plan.held
        )
    if plan.promise_updates:
        lines += ["", "Promises:"]
        lines.extend(f"- {u.customer_id}: {u.status} — {u.explanation}" for u in plan.promise_updates)
    upcoming = sorted((w for w in plan.waiting if w.next_on), key=lambda w: (w.next_on, w.customer_id))
    if upcoming:
        lines += ["", "Next steps:"]
        lines.extend(
            f"- {w.next_on.isoformat() if w.next_on else ''} {w.customer_id} {w.number}: {w.next_level} — {w.why}"
            for w in upcoming
        )
    lines.extend(["", *(f"Note: {note}" for note in plan.notes)] if plan.notes else [])
    return "\n".join(lines) + "\n"


def case_rows(plan: DunningPlan) -> list[list[Any]]:
    return [
        [
            s.customer_id,
            s.customer_name,
            s.state,
            s.level_label or "",
            s.last_sent_on.isoformat() if s.last_sent_on else "",
            s.next_action_on.isoformat() if s.next_action_on else "",
            s.next_action or "",
            format_money(Decimal(s.open_amount), "en", s.currency),
        ]
        for s in plan.standings
    ]


CASE_COLUMNS = ["customer", "name", "state", "level", "last sent", "next on", "next action", "open"]
