"""Write-back: plan, then apply — the one mechanism every connector uses to change an ERP.

How an engine proposes changes
------------------------------
An engine never writes. It returns *proposals* (:class:`~erp_recovery.writeback.plan.Proposal`)
for fields, and :class:`~erp_recovery.writeback.plan.ActionChange` for one-off actions::

    from erp_recovery.model.money import Money
    from erp_recovery.writeback import ActionChange, Proposal, Reason, TargetRef, make_plan

    customer = TargetRef(source="odoo-main", entity="customer", external_id="10", label="Deco Addict")
    proposals = [
        Proposal(target=customer, field="credit_limit", new=Money.of("15000", "EUR"),
                 reason=Reason(rule="risk.limit", explanation="grade C: 30 days of sales",
                               decision_id="assessment:2026-11-30:10")),
        Proposal(target=customer, field="risk_flag", new="C", reason=Reason(rule="risk.grade")),
        ActionChange(target=TargetRef(source="odoo-main", entity="invoice", external_id="25",
                                      label="INV/2026/00005"),
                     action="dunning_step", idempotency_key="dunning:invoice-25:level-2",
                     params={"level": 2, "summary": "Second reminder sent",
                             "message": "Second reminder sent by e-mail on 2026-11-30.",
                             "deadline": "2026-12-07"},
                     reason=Reason(rule="dunning.step", explanation="45 days overdue")),
    ]
    draft = make_plan("odoo-main", connector, proposals, created_by="risk")
    draft.plan            # frozen Plan: changes with base values read now, checksum
    draft.dropped         # proposals already true upstream (not in the plan), with why

Field vocabulary (connector-independent): ``credit_limit`` (Money), ``risk_flag`` (str, e.g.
"C"), ``trust`` (str), and any field a connector documents. Action vocabulary: ``dunning_step``
(params ``level``, ``summary``, ``message``, ``note``, ``deadline`` ISO date, ``user`` login).
An engine can also register a provider (see :mod:`~erp_recovery.writeback.planner`) so that
``erp-recovery plan SOURCE --from NAME`` builds the plan from its latest decisions.

How a plan is applied
---------------------
:func:`~erp_recovery.writeback.apply.apply_plan` checks the checksum, skips fields the
``[writeback]`` policy does not declare as owned, refuses a plan above the safety share unless
``force``, re-reads every target, writes only where the current value still equals the planned
base (others are conflicts, never overwritten), groups identical writes, verifies, and records
every outcome in the audit log (:mod:`~erp_recovery.writeback.store`) with the run that did it.
Applying twice changes nothing the second time; a crash then a rerun ends as one clean apply.

How a connector implements it
-----------------------------
A connector sets ``supports_writeback = True`` and implements ``read_current(changes)`` and
``write(changes)`` as described in :mod:`~erp_recovery.writeback.target`: batch reads keyed by
``change.slot``, grouped writes, actions findable afterwards by their ``idempotency_key``.
"""

from erp_recovery.writeback.apply import ApplyReport, AuditLog, ChangeResult, StoreAuditLog, apply_plan
from erp_recovery.writeback.plan import (
    ActionChange,
    FieldChange,
    Plan,
    Proposal,
    Reason,
    TargetRef,
    WriteValue,
    same_value,
)
from erp_recovery.writeback.planner import PlanDraft, load_proposals, make_plan
from erp_recovery.writeback.policy import WritebackPolicy
from erp_recovery.writeback.target import Observed, WritebackTarget

__all__ = [
    "ActionChange",
    "ApplyReport",
    "AuditLog",
    "ChangeResult",
    "FieldChange",
    "Observed",
    "Plan",
    "PlanDraft",
    "Proposal",
    "Reason",
    "StoreAuditLog",
    "TargetRef",
    "WriteValue",
    "WritebackPolicy",
    "WritebackTarget",
    "apply_plan",
    "load_proposals",
    "make_plan",
    "same_value",
]
