"""Dunning engine: policies as data, levels over simulated or real days, holds, tasks.

Pure (canonical model in, decisions out)::

    from erp_recovery.engines.dunning import DunningInput, load_policies, plan_dunning
    plan = plan_dunning(DunningInput(company=..., customers=..., invoices=..., profile=...,
                                     rates=..., policies=load_policies()), as_of)
    for communication in plan.communications:      # one per customer and day, grouped by level
        print(communication.customer.name, communication.level.label, communication.reasons)
    plan.tasks, plan.held, plan.waiting, plan.standings

Rendering letters is :mod:`erp_recovery.dunning_docs`; sending, the store and the write-back are
:mod:`erp_recovery.dunning_ops`.
"""

from erp_recovery.engines.dunning.calendar import BusinessCalendar
from erp_recovery.engines.dunning.engine import (
    DunningHistory,
    DunningInput,
    SentStep,
    customer_statement,
    plan_dunning,
)
from erp_recovery.engines.dunning.holds import (
    PAUSE_KINDS,
    HoldKind,
    Instalment,
    Pause,
    PauseKind,
    PaymentPlan,
    PromiseStatus,
    PromiseToPay,
)
from erp_recovery.engines.dunning.plan import (
    CaseStanding,
    CurrencyTotals,
    DunningPlan,
    HeldItem,
    ItemLine,
    PlannedCommunication,
    PlannedTask,
    PromiseUpdate,
    WaitingItem,
)
from erp_recovery.engines.dunning.policy import (
    DOCUMENT_CHANNELS,
    Channel,
    Level,
    Policy,
    PolicyRule,
    PolicySet,
    load_policies,
    parse_policies,
    shipped_policies_text,
)
from erp_recovery.engines.dunning.simulate import simulate

__all__ = [
    "DOCUMENT_CHANNELS",
    "PAUSE_KINDS",
    "BusinessCalendar",
    "CaseStanding",
    "Channel",
    "CurrencyTotals",
    "DunningHistory",
    "DunningInput",
    "DunningPlan",
    "HeldItem",
    "HoldKind",
    "Instalment",
    "ItemLine",
    "Level",
    "Pause",
    "PauseKind",
    "PaymentPlan",
    "PlannedCommunication",
    "PlannedTask",
    "Policy",
    "PolicyRule",
    "PolicySet",
    "PromiseStatus",
    "PromiseToPay",
    "PromiseUpdate",
    "SentStep",
    "WaitingItem",
    "customer_statement",
    "load_policies",
    "parse_policies",
    "plan_dunning",
    "shipped_policies_text",
    "simulate",
]
