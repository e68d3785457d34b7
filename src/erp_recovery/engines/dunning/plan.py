"""What the dunning engine decides for a day: communications, tasks, holds, and each case's state.

A :class:`DunningPlan` is pure data. ``erp-recovery dunning plan`` prints it; ``dunning run``
renders and sends its communications, creates its tasks and records everything in the store.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Literal

from erp_recovery.engines.dunning.holds import HoldKind, PromiseStatus
from erp_recovery.engines.dunning.policy import Channel, Level
from erp_recovery.engines.legal import LateCharges
from erp_recovery.model.money import Money
from erp_recovery.model.records import Customer, Invoice

ItemKind = Literal["invoice", "instalment"]


@dataclass(frozen=True)
class ItemLine:
    """One open item in a communication: an invoice, or an instalment of a payment plan."""

    key: str
    kind: ItemKind
    number: str
    issue_date: dt.date
    due_date: dt.date
    total: Money
    outstanding: Money
    days_late: int
    invoice: Invoice | None = None
    #: Late-payment interest and fixed fee at the plan date (invoices only).
    charges: LateCharges | None = None
    #: Levels this item already went through, oldest first: (level code, date sent).
    previous: tuple[tuple[str, dt.date], ...] = ()
    #: Payment plan reference for instalments ("échéance 2/3").
    plan_id: str | None = None
    seq: int | None = None
    of: int | None = None

    @property
    def previous_levels(self) -> tuple[str, ...]:
        return tuple(code for code, _ in self.previous)

    @property
    def interest(self) -> Money | None:
        return self.charges.interest if self.charges else None

    @property
    def fixed_fee(self) -> Money | None:
        return self.charges.fixed_fee if self.charges else None


@dataclass(frozen=True)
class CurrencyTotals:
    currency: str
    principal: Decimal
    interest: Decimal
    fees: Decimal
    credits: Decimal

    @property
    def total(self) -> Decimal:
        return self.principal + self.interest + self.fees - self.credits


@dataclass(frozen=True)
class PlannedCommunication:
    """One communication to one customer at one level, grouping all its items at that level."""

    customer: Customer
    policy: str
    policy_reason: str
    level: Level
    level_index: int
    send_on: dt.date
    items: tuple[ItemLine, ...]
    #: Channels after fallbacks (no e-mail address → a letter).
    channels: tuple[Channel, ...]
    language: str
    deadline: dt.date | None
    reasons: tuple[str, ...]
    #: Open credit notes of the customer, deducted from what is claimed.
    credits: tuple[Invoice, ...] = ()
    notes: tuple[str, ...] = ()

    @property
    def customer_id(self) -> str:
        return self.customer.external_id

    @property
    def key(self) -> str:
        """Identity of the communication: one per customer and day."""
        return f"{self.customer_id}:{self.send_on.isoformat()}"

    def totals(self) -> list[CurrencyTotals]:
        by_currency: dict[str, list[Decimal]] = {}
        for item in self.items:
            row = by_currency.setdefault(item.outstanding.currency, [Decimal(0)] * 4)
            row[0] += item.outstanding.amount
            if item.charges is not None:
                row[1] += item.charges.interest.amount
                if (
                    item.charges.fixed_fee is not None
                    and item.charges.fixed_fee.currency == item.outstanding.currency
                ):
                    row[2] += item.charges.fixed_fee.amount
        for credit in self.credits:
            if credit.currency in by_currency:
                by_currency[credit.currency][3] += credit.residual.amount
        return [
            CurrencyTotals(currency=c, principal=v[0], interest=v[1], fees=v[2], credits=v[3])
            for c, v in sorted(by_currency.items())
        ]


TaskKind = Literal[
    "phone_call", "post_letter", "declare_claim", "prescription", "escalation", "send_manually"
]


@dataclass(frozen=True)
class PlannedTask:
    """Something a person must do; created once (``key``) and listed by ``dunning tasks``."""

    key: str
    kind: TaskKind
    customer_id: str
    due_on: dt.date
    title: str
    detail: str = ""
    invoice_ids: tuple[str, ...] = ()


@dataclass(frozen=True)
class HeldItem:
    """An open item not dunned because of a hold, with its end (a date or a condition)."""

    customer_id: str
    item_key: str
    number: str
    kind: HoldKind
    explanation: str
    until: dt.date | None
    until_text: str
    outstanding: Money
    pause_id: str | None = None


@dataclass(frozen=True)
class WaitingItem:
    """An open item with nothing to send today, and when its next level is due."""

    customer_id: str
    item_key: str
    number: str
    next_level: str | None
    next_on: dt.date | None
    why: str
    outstanding: Money


@dataclass(frozen=True)
class PromiseUpdate:
    promise_id: str
    customer_id: str
    status: PromiseStatus
    on: dt.date
    explanation: str


CaseState = Literal["active", "paused", "stopped", "clear"]


@dataclass(frozen=True)
class CaseStanding:
    """Where a customer stands after the day: what the ERP is told (write-back)."""

    customer_id: str
    customer_name: str
    policy: str
    state: CaseState
    level: str | None
    level_label: str | None
    level_index: int | None
    last_sent_on: dt.date | None
    next_action_on: dt.date | None
    next_action: str | None
    open_amount: Decimal
    currency: str
    note: str = ""


@dataclass
class DunningPlan:
    as_of: dt.date
    company: str
    communications: list[PlannedCommunication] = field(default_factory=list)
    tasks: list[PlannedTask] = field(default_factory=list)
    held: list[HeldItem] = field(default_factory=list)
    waiting: list[WaitingItem] = field(default_factory=list)
    promise_updates: list[PromiseUpdate] = field(default_factory=list)
    standings: list[CaseStanding] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def communications_of(self, customer_id: str) -> list[PlannedCommunication]:
        return [c for c in self.communications if c.customer_id == customer_id]

    def standing(self, customer_id: str) -> CaseStanding | None:
        return next((s for s in self.standings if s.customer_id == customer_id), None)
