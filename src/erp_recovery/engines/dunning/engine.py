"""The dunning engine: which communications go out on a day, which tasks are due, what waits and why.

Pure: canonical records, the history of what was sent, pauses, promises and payment plans in; a
:class:`~erp_recovery.engines.dunning.plan.DunningPlan` out. The rules it applies:

1. Each customer gets a policy (:meth:`PolicySet.choose`: consumer, risk grade, segment...).
2. An open item (an invoice, or a late instalment of a payment plan) goes through the policy's
   levels one at a time, never the same level twice. Its next level is due once
   ``due date + offset_days`` has come, ``min_days_after_previous`` days have passed since its
   previous level, and the deadline stated by that previous level (a formal notice's 8 days) is
   over. A level whose window (``until_days``) has passed is skipped — the courtesy reminder
   before the due date is not sent for an invoice already late.
3. Items on hold are not dunned, and the plan says why and until when (see :mod:`.holds`).
   A broken promise sends its invoices to their next level at once.
4. One communication per customer per level groups all its items due at that level; a customer
   never gets two communications the same day (the highest level goes first, the others wait for
   the next business day); nothing is sent on a weekend or a public holiday of the creditor's or
   the debtor's country; a level whose grouped amount is below its ``min_amount`` waits.
5. Phone levels, registered letters, escalations, insolvency claim declarations and
   prescription alerts (6 months before the debt is time-barred) become tasks, each created once.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from dateutil.relativedelta import relativedelta

from erp_recovery.engines.dunning.calendar import BusinessCalendar
from erp_recovery.engines.dunning.holds import HoldKind, Pause, PaymentPlan, PromiseStatus, PromiseToPay
from erp_recovery.engines.dunning.plan import (
    CaseStanding,
    CaseState,
    DunningPlan,
    HeldItem,
    ItemKind,
    ItemLine,
    PlannedCommunication,
    PlannedTask,
    PromiseUpdate,
    WaitingItem,
)
from erp_recovery.engines.dunning.policy import Channel, Level, Policy, PolicySet
from erp_recovery.engines.legal import (
    JurisdictionProfile,
    RateTable,
    compute_due_date,
    invoice_late_charges,
    limitation_date,
)
from erp_recovery.errors import ConfigError
from erp_recovery.model.money import Money, quantize_amount
from erp_recovery.model.records import Allocation, Company, Customer, Invoice, Payment

ONE_DAY = dt.timedelta(days=1)
#: Prescription alerts start this many months before the debt is time-barred (legal-rules.md §4, S−6).
PRESCRIPTION_NOTICE_MONTHS = 6


def _months_before(day: dt.date, months: int) -> dt.date:
    """The same day ``months`` earlier (the last day of the month when it has fewer days)."""
    index = day.year * 12 + day.month - 1 - months
    year, month = divmod(index, 12)
    month += 1
    last = (dt.date(year + month // 12, month % 12 + 1, 1) - dt.timedelta(days=1)).day
    return dt.date(year, month, min(day.day, last))


@dataclass(frozen=True)
class SentStep:
    """A level an item went through: recorded when a communication is made."""

    customer_id: str
    item_key: str
    level: str
    level_index: int
    sent_on: dt.date
    #: Payment deadline the communication stated (formal notice), if any.
    deadline: dt.date | None = None


@dataclass(frozen=True)
class DunningHistory:
    steps: tuple[SentStep, ...] = ()
    #: Keys of the tasks already created (a task is created once).
    task_keys: frozenset[str] = frozenset()

    def by_item(self) -> dict[str, list[SentStep]]:
        result: dict[str, list[SentStep]] = defaultdict(list)
        for step in sorted(self.steps, key=lambda s: (s.sent_on, s.level_index)):
            result[step.item_key].append(step)
        return result

    def last_contact(self) -> dict[str, dt.date]:
        result: dict[str, dt.date] = {}
        for step in self.steps:
            if step.customer_id not in result or step.sent_on > result[step.customer_id]:
                result[step.customer_id] = step.sent_on
        return result


@dataclass(frozen=True)
class DunningInput:
    """Everything the engine reads for one company."""

    company: Company
    customers: Sequence[Customer]
    invoices: Sequence[Invoice]
    profile: JurisdictionProfile
    rates: RateTable
    policies: PolicySet
    allocations: Sequence[Allocation] = ()
    payments: Sequence[Payment] = ()
    history: DunningHistory = field(default_factory=DunningHistory)
    pauses: Sequence[Pause] = ()
    promises: Sequence[PromiseToPay] = ()
    #: Recorded status of each promise id (``open`` / ``broken``); a change is reported.
    promise_status: Mapping[str, PromiseStatus] = field(default_factory=dict)
    payment_plans: Sequence[PaymentPlan] = ()
    #: Residual of each invoice after the matcher's applied allocations (``effective_residuals``);
    #: ``None`` = the residuals the ERP states.
    residuals: Mapping[str, Money] | None = None
    #: Invoices with a bank payment awaiting confirmation: ids, or id → what is pending.
    pending_payments: Mapping[str, str] | Collection[str] = ()
    #: Latest risk grade per customer (for policy rules).
    grades: Mapping[str, str] = field(default_factory=dict)


@dataclass
class _Item:
    key: str
    kind: ItemKind
    customer_id: str
    number: str
    issue_date: dt.date
    due_date: dt.date
    total: Money
    outstanding: Money
    invoice: Invoice | None = None
    plan_id: str | None = None
    seq: int | None = None
    of: int | None = None


@dataclass
class _Due:
    item: _Item
    level_index: int
    reason: str


def _country(value: str | None) -> str | None:
    if value and len(value.strip()) == 2 and value.strip().isalpha():
        return value.strip().upper()
    return None


def _customer_email(customer: Customer) -> str | None:
    if customer.email:
        return customer.email
    for role in ("billing", "accounting", None):
        for contact in customer.contacts:
            if contact.email and (role is None or contact.role == role):
                return contact.email
    return None


def _fmt_money(amount: Decimal, currency: str) -> str:
    return f"{quantize_amount(amount, currency)} {currency}"


class _Planner:
    def __init__(self, data: DunningInput, as_of: dt.date) -> None:
        self.data = data
        self.as_of = as_of
        self.plan = DunningPlan(as_of=as_of, company=data.company.code)
        self.history_by_item = data.history.by_item()
        self.last_contact = data.history.last_contact()
        self.allocations: dict[str, list[Allocation]] = defaultdict(list)
        for allocation in data.allocations:
            self.allocations[allocation.invoice_id].append(allocation)
        self.payments = {payment.external_id: payment for payment in data.payments}
        pending = data.pending_payments
        if isinstance(pending, Mapping):
            self.pending: dict[str, str] = {str(k): str(v) for k, v in pending.items()}
        else:
            self.pending = {
                invoice_id: "a bank payment matched to it awaits confirmation" for invoice_id in pending
            }
        self.task_keys = set(data.history.task_keys)
        #: Items that may join today's communication of their customer at the given level.
        self.ahead: dict[str, _Due] = {}
        self.invoices_by_customer: dict[str, list[Invoice]] = defaultdict(list)
        for invoice in data.invoices:
            self.invoices_by_customer[invoice.customer_id].append(invoice)
        self.promises_by_customer: dict[str, list[PromiseToPay]] = defaultdict(list)
        for promise in data.promises:
            self.promises_by_customer[promise.customer_id].append(promise)
        self.pauses_by_customer: dict[str, list[Pause]] = defaultdict(list)
        for pause in data.pauses:
            self.pauses_by_customer[pause.customer_id].append(pause)
        self.company_country = _country(data.company.country) or "FR"

    # -- amounts ---------------------------------------------------------------------------------

    def residual(self, invoice: Invoice) -> Money:
        if not invoice.is_open:
            return Money.zero(invoice.currency)
        if self.data.residuals is not None and invoice.external_id in self.data.residuals:
            return self.data.residuals[invoice.external_id]
        return invoice.residual

    def due_date(self, invoice: Invoice, customer: Customer) -> dt.date:
        if invoice.due_date is not None:
            return invoice.due_date
        return compute_due_date(
            self.data.profile, invoice.issue_date, customer.payment_terms, delivery_date=invoice.delivery_date
        ).date

    # -- tasks -----------------------------------------------------------------------------------

    def task(self, task: PlannedTask) -> None:
        if task.key in self.task_keys:
            return
        self.task_keys.add(task.key)
        self.plan.tasks.append(task)

    # -- main ------------------------------------------------------------------------------------

    def run(self) -> DunningPlan:
        invoices_by_customer: dict[str, list[Invoice]] = defaultdict(list)
        credits_by_customer: dict[str, list[Invoice]] = defaultdict(list)
        for invoice in self.data.invoices:
            if self.residual(invoice).amount <= 0:
                continue
            if invoice.kind == "invoice":
                invoices_by_customer[invoice.customer_id].append(invoice)
            else:
                credits_by_customer[invoice.customer_id].append(invoice)
        plans_by_customer: dict[str, list[PaymentPlan]] = defaultdict(list)
        for payment_plan in self.data.payment_plans:
            if payment_plan.active:
                plans_by_customer[payment_plan.customer_id].append(payment_plan)
        for customer in sorted(self.data.customers, key=lambda c: c.external_id):
            cid = customer.external_id
            if not invoices_by_customer.get(cid) and not plans_by_customer.get(cid):
                continue
            self.customer(
                customer,
                sorted(
                    invoices_by_customer.get(cid, []), key=lambda i: (i.due_date or i.issue_date, i.number)
                ),
                credits_by_customer.get(cid, []),
                plans_by_customer.get(cid, []),
            )
        return self.plan

    def customer(
        self, customer: Customer, invoices: list[Invoice], credits: list[Invoice], plans: list[PaymentPlan]
    ) -> None:
        cid = customer.external_id
        as_of = self.as_of
        policy, policy_reason = self.data.policies.choose(
            customer_id=cid,
            consumer=customer.is_consumer,
            segment=customer.segment,
            grade=self.data.grades.get(cid),
        )
        calendar = BusinessCalendar(
            [
                self.company_country,
                *(c for c in [_country(customer.address.country if customer.address else None)] if c),
            ]
        )
        items, held = self.items(customer, invoices, plans, policy)
        pauses = [p for p in self.pauses_by_customer.get(cid, []) if p.active_on(as_of)]
        stop = self.customer_stop(customer, pauses)
        customer_pause = next(
            (p for p in pauses if p.invoice_id is None and p.kind in ("dispute", "hold")), None
        )
        promises = self.promises(customer, policy)
        broken_items: dict[str, tuple[PromiseToPay, dt.date]] = {}
        promised_items: dict[str, PromiseToPay] = {}
        for promise, status in promises:
            for invoice_id in promise.invoice_ids:
                if status == "open":
                    promised_items[invoice_id] = promise
                elif status == "broken":
                    broken_items[invoice_id] = (promise, promise.broken_on(policy.promise_grace_days))

        active: list[_Item] = []
        for item in items:
            hold = self.item_hold(item, customer, stop, customer_pause, pauses, promised_items, policy)
            if hold is not None:
                held.append(hold)
            else:
                active.append(item)
        if active and credits:
            active, covered = self.net_of_credits(active, credits)
            held.extend(covered)
        self.plan.held.extend(held)

        due: list[_Due] = []
        waiting: list[WaitingItem] = []
        for item in active:
            outcome = self.next_level(item, policy, broken_items.get(item.key), calendar)
            if isinstance(outcome, _Due):
                due.append(outcome)
            else:
                waiting.append(outcome)
        communication = self.choose_communication(
            customer, policy, policy_reason, due, waiting, calendar, credits
        )
        self.plan.waiting.extend(waiting)
        upcoming = list(waiting)
        if communication is not None:
            # Today's step counts for the case: what comes next for the items it covers.
            sent = {line.key for line in communication.items}
            for line in communication.items:
                self.history_by_item.setdefault(line.key, []).append(
                    SentStep(
                        customer_id=customer.external_id,
                        item_key=line.key,
                        level=communication.level.code,
                        level_index=communication.level_index,
                        sent_on=communication.send_on,
                        deadline=communication.deadline,
                    )
                )
            for item in active:
                if item.key in sent:
                    outcome = self.next_level(item, policy, None, calendar)
                    if isinstance(outcome, WaitingItem):
                        upcoming.append(outcome)
        self.plan.standings.append(
            self.standing(customer, policy, items, held, upcoming, communication, stop is not None)
        )

    # -- items and holds ---------------------------------------------------------------------------

    def items(
        self, customer: Customer, invoices: list[Invoice], plans: list[PaymentPlan], policy: Policy
    ) -> tuple[list[_Item], list[HeldItem]]:
        items: list[_Item] = []
        held: list[HeldItem] = []
        covered: dict[str, PaymentPlan] = {}
        by_id = {invoice.external_id: invoice for invoice in invoices}
        for payment_plan in plans:
            for invoice_id in payment_plan.invoice_ids:
                covered[invoice_id] = payment_plan
            outstanding = sum(
                (self.residual(by_id[i]).amount for i in payment_plan.invoice_ids if i in by_id), Decimal(0)
            )
            currency = payment_plan.outstanding_at_start.currency
            count = len(payment_plan.instalments)
            for instalment, remaining in payment_plan.instalment_outstanding(
                Money(amount=outstanding, currency=currency)
            ):
                if remaining.amount <= 0:
                    continue
                items.append(
                    _Item(
                        key=f"plan:{payment_plan.id}:{instalment.seq}",
                        kind="instalment",
                        customer_id=customer.external_id,
                        number=f"{payment_plan.id} {instalment.seq}/{count}",
                        issue_date=payment_plan.agreed_on,
                        due_date=instalment.due_date,
                        total=instalment.amount,
                        outstanding=remaining,
                        plan_id=payment_plan.id,
                        seq=instalment.seq,
                        of=count,
                    )
                )
        for invoice in invoices:
            residual = self.residual(invoice)
            due_date = self.due_date(invoice, customer)
            if self.prescription(
                customer, invoice, due_date, covered.get(invoice.external_id), residual, held
            ):
                continue
            if invoice.external_id in covered:
                payment_plan = covered[invoice.external_id]
                held.append(
                    HeldItem(
                        customer_id=customer.external_id,
                        item_key=invoice.external_id,
                        number=invoice.number,
                        kind="payment_plan",
                        explanation=f"in payment plan {payment_plan.id} agreed on {payment_plan.agreed_on.isoformat()}: "
                        "its instalments are dunned instead",
                        until=payment_plan.last_due,
                        until_text=f"until the last instalment ({payment_plan.last_due.isoformat()})",
                        outstanding=residual,
                    )
                )
                continue
            items.append(
                _Item(
                    key=invoice.external_id,
                    kind="invoice",
                    customer_id=customer.external_id,
                    number=invoice.number,
                    issue_date=invoice.issue_date,
                    due_date=due_date,
                    total=invoice.total,
                    outstanding=residual,
                    invoice=invoice,
                )
            )
        return items, held

    def prescription(
        self,
        customer: Customer,
        invoice: Invoice,
        due_date: dt.date,
        payment_plan: PaymentPlan | None,
        residual: Money,
        held: list[HeldItem],
    ) -> bool:
        """Alert 6 months before the debt is time-barred (counted from the last acknowledgment);
        True when it already is (the invoice is then held, not dunned)."""
        if invoice.factored:
            return False
        start, what = due_date, "its due date"
        for allocation in self.allocations.get(invoice.external_id, []):
            day = allocation.date
            if day is None and allocation.payment_id and allocation.payment_id in self.payments:
                day = self.payments[allocation.payment_id].date
            if day is not None and day > start:
                start, what = day, f"the partial payment of {day.isoformat()} (C. civ. 2240)"
        if payment_plan is not None and payment_plan.agreed_on > start:
            start, what = (
                payment_plan.agreed_on,
                f"the payment plan agreed on {payment_plan.agreed_on.isoformat()}",
            )
        barred = limitation_date(self.data.profile, start, consumer=customer.is_consumer)
        if self.as_of > barred:
            held.append(
                HeldItem(
                    customer_id=customer.external_id,
                    item_key=invoice.external_id,
                    number=invoice.number,
                    kind="time_barred",
                    explanation=f"time-barred since {barred.isoformat()} (counted from {what}; "
                    f"{self.data.profile.limitation.source})",
                    until=None,
                    until_text="for good, unless the debtor acknowledges the debt",
                    outstanding=residual,
                )
            )
            return True
        if self.as_of >= _months_before(barred, PRESCRIPTION_NOTICE_MONTHS):
            self.task(
                PlannedTask(
                    key=f"prescription:{invoice.external_id}:{barred.isoformat()}",
                    kind="prescription",
                    customer_id=customer.external_id,
                    due_on=barred - relativedelta(months=1),
                    title=f"{invoice.number} of {customer.name} is time-barred after {barred.isoformat()}: "
                    "file a claim or obtain a written acknowledgment before then",
                    detail=f"{_fmt_money(residual.amount, residual.currency)} open; limitation counted from {what} "
                    f"({self.data.profile.limitation.source})",
                    invoice_ids=(invoice.external_id,),
                )
            )
        return False

    def customer_stop(self, customer: Customer, pauses: list[Pause]) -> HeldItem | None:
        """A hold of every item: insolvency proceedings or an exclusion (template for the items)."""
        zero = Money.zero(self.data.company.base_currency)
        insolvency = next((p for p in pauses if p.kind == "insolvency"), None)
        if insolvency is not None:
            abroad = self.company_country != "FR"
            deadline = insolvency.claim_deadline(creditor_abroad=abroad) or (
                insolvency.start + relativedelta(months=2)
            )
            published = (
                f"published in the BODACC on {insolvency.published_on.isoformat()}"
                if insolvency.published_on
                else f"recorded on {insolvency.start.isoformat()} (publication date unknown: check the BODACC)"
            )
            self.task(
                PlannedTask(
                    key=f"declare-claim:{customer.external_id}:{(insolvency.published_on or insolvency.start).isoformat()}",
                    kind="declare_claim",
                    customer_id=customer.external_id,
                    due_on=deadline,
                    title=f"Declare the claim on {customer.name} to the mandataire before {deadline.isoformat()}",
                    detail=f"collective proceedings {published}; {insolvency.reason}".rstrip("; ")
                    + " (C. com. L622-24, R622-24: two months from the publication"
                    + (", four from outside metropolitan France)" if abroad else ")"),
                )
            )
            return HeldItem(
                customer_id=customer.external_id,
                item_key="",
                number="",
                kind="insolvency",
                explanation=f"collective proceedings {published}: dunning stops (C. com. L622-21)",
                until=None,
                until_text=f"until the proceedings end; declare the claim before {deadline.isoformat()}",
                outstanding=zero,
                pause_id=insolvency.id,
            )
        if customer.dunning_excluded:
            return HeldItem(
                customer_id=customer.external_id,
                item_key="",
                number="",
                kind="excluded",
                explanation="excluded from dunning in the ERP (hors relance)",
                until=None,
                until_text="until the exclusion is lifted in the ERP",
                outstanding=zero,
            )
        excluded = next((p for p in pauses if p.kind == "excluded"), None)
        if excluded is not None:
            return HeldItem(
                customer_id=customer.external_id,
                item_key="",
                number="",
                kind="excluded",
                explanation=f"excluded from dunning by a person on {excluded.start.isoformat()}"
                + (f": {excluded.reason}" if excluded.reason else ""),
                until=excluded.until,
                until_text=f"until {excluded.until.isoformat()}"
                if excluded.until
                else "until a person resumes it",
                outstanding=zero,
                pause_id=excluded.id,
            )
        return None

    def promises(self, customer: Customer, policy: Policy) -> list[tuple[PromiseToPay, PromiseStatus]]:
        result: list[tuple[PromiseToPay, PromiseStatus]] = []
        promises = [
            promise
            for promise in self.promises_by_customer.get(customer.external_id, [])
            if promise.made_on <= self.as_of
        ]
        if not promises:
            return result
        invoices = {i.external_id: i for i in self.invoices_by_customer.get(customer.external_id, [])}
        for promise in promises:
            outstanding = sum(
                (self.residual(invoices[i]).amount for i in promise.invoice_ids if i in invoices), Decimal(0)
            )
            status = promise.status(
                self.as_of,
                Money(amount=outstanding, currency=promise.amount.currency),
                policy.promise_grace_days,
            )
            recorded = self.data.promise_status.get(promise.id, "open")
            if status != recorded and not (recorded == "broken" and status == "open"):
                on = promise.broken_on(policy.promise_grace_days) if status == "broken" else self.as_of
                explanation = (
                    f"promise to pay {promise.amount} by {promise.promised_on.isoformat()} not kept: "
                    f"{_fmt_money(outstanding, promise.amount.currency)} still open"
                    if status == "broken"
                    else f"promise to pay {promise.amount} by {promise.promised_on.isoformat()} kept"
                )
                self.plan.promise_updates.append(
                    PromiseUpdate(
                        promise_id=promise.id,
                        customer_id=customer.external_id,
                        status=status,
                        on=on,
                        explanation=explanation,
                    )
                )
            result.append((promise, status))
        return result

    def item_hold(
        self,
        item: _Item,
        customer: Customer,
        stop: HeldItem | None,
        customer_pause: Pause | None,
        pauses: list[Pause],
        promised: dict[str, PromiseToPay],
        policy: Policy,
    ) -> HeldItem | None:
        def hold(
            kind: HoldKind,
            explanation: str,
            until: dt.date | None,
            until_text: str,
            pause_id: str | None = None,
        ) -> HeldItem:
            return HeldItem(
                customer_id=item.customer_id,
                item_key=item.key,
                number=item.number,
                kind=kind,
                explanation=explanation,
                until=until,
                until_text=until_text,
                outstanding=item.outstanding,
                pause_id=pause_id,
            )

        if stop is not None:
            return hold(stop.kind, stop.explanation, stop.until, stop.until_text, stop.pause_id)
        invoice = item.invoice
        if invoice is not None and invoice.factored:
            return hold(
                "factored", "factored invoice: the factor collects it", None, "as long as it is factored"
            )
        if invoice is not None and invoice.disputed:
            reason = f": {invoice.dispute_reason}" if invoice.dispute_reason else ""
            return hold(
                "dispute", f"disputed in the ERP{reason}", None, "until the dispute is closed in the ERP"
            )
        for pause in pauses:
            if pause.invoice_id == item.key and pause.kind in ("dispute", "hold", "excluded"):
                until = pause.until or (pause.start + dt.timedelta(days=policy.pause_review_days))
                what = "disputed" if pause.kind == "dispute" else "paused"
                return hold(
                    "dispute" if pause.kind == "dispute" else "hold",
                    f"{what} by a person on {pause.start.isoformat()}"
                    + (f": {pause.reason}" if pause.reason else ""),
                    until,
                    f"until {until.isoformat()} (review), or until resumed",
                    pause.id,
                )
        if customer_pause is not None:
            until = customer_pause.until or (
                customer_pause.start + dt.timedelta(days=policy.pause_review_days)
            )
            return hold(
                "dispute" if customer_pause.kind == "dispute" else "hold",
                f"customer paused on {customer_pause.start.isoformat()}"
                + (f": {customer_pause.reason}" if customer_pause.reason else ""),
                until,
                f"until {until.isoformat()} (review), or until resumed",
                customer_pause.id,
            )
        if invoice is not None and invoice.external_id in self.pending:
            return hold(
                "pending_payment",
                f"pending bank payment: {self.pending[invoice.external_id]}",
                None,
                "until the payment is confirmed or rejected in match review",
            )
        promise = promised.get(item.key)
        if promise is not None:
            until = promise.broken_on(policy.promise_grace_days) - ONE_DAY
            return hold(
                "promise",
                f"promise to pay {promise.amount} by {promise.promised_on.isoformat()} (recorded {promise.made_on.isoformat()})",
                until,
                f"until {until.isoformat()} ({policy.promise_grace_days} day(s) of grace after the promised date)",
                promise.id,
            )
        return None

    def net_of_credits(
        self, active: list[_Item], credits: list[Invoice]
    ) -> tuple[list[_Item], list[HeldItem]]:
        """Open credit notes that cover every open item: nothing to claim until they are allocated."""
        by_currency: dict[str, Decimal] = defaultdict(Decimal)
        for credit in credits:
            by_currency[credit.currency] += self.residual(credit).amount
        owed: dict[str, Decimal] = defaultdict(Decimal)
        for item in active:
            owed[item.outstanding.currency] += item.outstanding.amount
        covered_currencies = {c for c, amount in owed.items() if amount <= by_currency.get(c, Decimal(0))}
        if not covered_currencies:
            return active, []
        numbers = ", ".join(c.number for c in credits)
        held = [
            HeldItem(
                customer_id=item.customer_id,
                item_key=item.key,
                number=item.number,
                kind="covered_by_credit",
                explanation=f"open credit notes ({numbers}) cover everything the customer owes",
                until=None,
                until_text="until the credit notes are allocated in the ERP",
                outstanding=item.outstanding,
            )
            for item in active
            if item.outstanding.currency in covered_currencies
        ]
        return [i for i in active if i.outstanding.currency not in covered_currencies], held

    # -- levels ------------------------------------------------------------------------------------

    def next_level(
        self,
        item: _Item,
        policy: Policy,
        broken: tuple[PromiseToPay, dt.date] | None,
        calendar: BusinessCalendar,
    ) -> _Due | WaitingItem:
        steps = self.history_by_item.get(item.key, [])
        reached = -1
        last = steps[-1] if steps else None
        for step in steps:
            index = policy.index_of(step.level)
            reached = max(
                reached, index if index is not None else min(step.level_index, len(policy.levels) - 1)
            )
        days = (self.as_of - item.due_date).days

        def waiting(level: Level | None, on: dt.date | None, why: str) -> WaitingItem:
            return WaitingItem(
                customer_id=item.customer_id,
                item_key=item.key,
                number=item.number,
                next_level=level.code if level else None,
                next_on=on,
                why=why,
                outstanding=item.outstanding,
            )

        candidate: tuple[int, Level] | None = None
        for index in range(reached + 1, len(policy.levels)):
            level = policy.levels[index]
            if not level.enabled:
                continue
            if level.until_days is not None and days > level.until_days:
                continue
            candidate = (index, level)
            break
        if candidate is None:
            final = policy.levels[reached].label if reached >= 0 else "none"
            return waiting(None, None, f"every level of policy {policy.code} done (last: {final})")
        index, level = candidate
        earliest = item.due_date + dt.timedelta(days=level.offset_days)
        why = (
            f"{level.label} is due {level.offset_days:+d} days from the due date {item.due_date.isoformat()}"
        )
        # What grouping ahead may not bring forward: the due date itself (for levels after it),
        # the spacing after the previous level and the deadline that level stated.
        firm = item.due_date + ONE_DAY if level.offset_days >= 0 else dt.date.min
        if last is not None:
            spaced = last.sent_on + dt.timedelta(days=level.min_days_after_previous)
            firm = max(firm, spaced, last.sent_on + ONE_DAY)
            if spaced > earliest:
                earliest = spaced
                why = (
                    f"{level.label} comes {level.min_days_after_previous} days after {last.level} "
                    f"(sent {last.sent_on.isoformat()})"
                )
            if last.deadline is not None:
                firm = max(firm, last.deadline + ONE_DAY)
                if last.deadline + ONE_DAY > earliest:
                    earliest = last.deadline + ONE_DAY
                    why = f"{level.label} comes after the deadline {last.deadline.isoformat()} stated by {last.level}"
        if broken is not None:
            promise, broken_on = broken
            if last is None or last.sent_on < broken_on:
                earliest = max(broken_on, last.sent_on + ONE_DAY if last else broken_on)
                why = (
                    f"promise to pay {promise.amount} by {promise.promised_on.isoformat()} broken: "
                    f"straight to {level.label}"
                )
        late = f"{days} days late" if days >= 0 else f"due in {-days} days"
        previous = f"; previous: {', '.join(s.level for s in steps)}" if steps else ""
        if self.as_of < earliest:
            if self.as_of >= firm and (earliest - self.as_of).days <= policy.group_ahead_days:
                self.ahead[item.key] = _Due(
                    item=item,
                    level_index=index,
                    reason=f"{item.number} ({late}{previous}): due for {level.label} on {earliest.isoformat()}; "
                    f"joins today's {level.label} (items due within {policy.group_ahead_days} days are grouped)",
                )
            return waiting(level, calendar.on_or_after(earliest), why)
        return _Due(item=item, level_index=index, reason=f"{item.number} ({late}{previous}): {why}")

    def choose_communication(
        self,
        customer: Customer,
        policy: Policy,
        policy_reason: str,
        due: list[_Due],
        waiting: list[WaitingItem],
        calendar: BusinessCalendar,
        credits: list[Invoice],
    ) -> PlannedCommunication | None:
        if not due:
            return None
        as_of = self.as_of

        def defer(entries: list[_Due], on: dt.date, why: str) -> None:
            for entry in entries:
                waiting.append(
                    WaitingItem(
                        customer_id=customer.external_id,
                        item_key=entry.item.key,
                        number=entry.item.number,
                        next_level=policy.levels[entry.level_index].code,
                        next_on=on,
                        why=why,
                        outstanding=entry.item.outstanding,
                    )
                )

        not_business = calendar.why_not(as_of)
        if not_business is not None:
            defer(
                due, calendar.next_after(as_of), f"{as_of.isoformat()} is not a business day ({not_business})"
            )
            return None
        if self.last_contact.get(customer.external_id) == as_of:
            defer(due, calendar.next_after(as_of), "the customer was already contacted today")
            return None
        groups: dict[int, list[_Due]] = defaultdict(list)
        for entry in due:
            groups[entry.level_index].append(entry)
        chosen: tuple[int, list[_Due]] | None = None
        for index in sorted(groups, reverse=True):
            level = policy.levels[index]
            entries = groups[index]
            amount = sum(
                (
                    e.item.outstanding.amount
                    for e in entries
                    if e.item.outstanding.currency == self.data.company.base_currency
                ),
                Decimal(0),
            )
            foreign = any(e.item.outstanding.currency != self.data.company.base_currency for e in entries)
            if level.min_amount and amount < level.min_amount and not foreign:
                for entry in entries:
                    waiting.append(
                        WaitingItem(
                            customer_id=customer.external_id,
                            item_key=entry.item.key,
                            number=entry.item.number,
                            next_level=level.code,
                            next_on=None,
                            why=f"{level.label} needs at least {level.min_amount} {self.data.company.base_currency}; "
                            f"{amount} {self.data.company.base_currency} is due at that level",
                            outstanding=entry.item.outstanding,
                        )
                    )
                continue
            if chosen is None:
                chosen = (index, entries)
            else:
                defer(
                    entries,
                    calendar.next_after(as_of),
                    f"one communication per customer per day: {policy.levels[chosen[0]].label} goes first",
                )
        if chosen is None:
            return None
        index, entries = chosen
        level = policy.levels[index]
        joining = [
            self.ahead[w.item_key]
            for w in waiting
            if w.item_key in self.ahead and self.ahead[w.item_key].level_index == index
        ]
        if joining:
            keys = {entry.item.key for entry in joining}
            waiting[:] = [w for w in waiting if w.item_key not in keys]
            entries = [*entries, *joining]
        channels: list[Channel] = list(level.channels)
        notes: list[str] = []
        email = _customer_email(customer)
        if "email" in channels and email is None:
            channels.remove("email")
            if not any(c in channels for c in ("letter", "registered_letter")):
                channels.insert(0, "letter")
            notes.append("no e-mail address for this customer: sent as a letter")
        deadline = calendar.deadline(as_of, level.deadline_days) if level.deadline_days else None
        lines = tuple(self.line(entry.item, customer, policy) for entry in entries)
        language = customer.language if customer.language in ("fr", "en") else policy.language
        communication = PlannedCommunication(
            customer=customer,
            policy=policy.code,
            policy_reason=policy_reason,
            level=level,
            level_index=index,
            send_on=as_of,
            items=lines,
            channels=tuple(channels),
            language=language or "fr",
            deadline=deadline,
            reasons=tuple(entry.reason for entry in entries),
            credits=tuple(sorted(credits, key=lambda c: c.number)),
            notes=tuple(notes),
        )
        self.plan.communications.append(communication)
        self.communication_tasks(communication)
        return communication

    def line(self, item: _Item, customer: Customer, policy: Policy) -> ItemLine:
        steps = self.history_by_item.get(item.key, [])
        charges = None
        if item.invoice is not None:
            notice = next(
                (
                    s.sent_on
                    for s in steps
                    if (index := policy.index_of(s.level)) is not None
                    and policy.levels[index].kind == "formal_notice"
                ),
                None,
            )
            charges = invoice_late_charges(
                item.invoice,
                self.as_of,
                self.data.profile,
                self.data.rates,
                customer=customer,
                allocations=self.allocations.get(item.key, []),
                payments=self.payments,
                formal_notice_date=notice,
            )
        return ItemLine(
            key=item.key,
            kind=item.kind,
            number=item.number,
            issue_date=item.issue_date,
            due_date=item.due_date,
            total=item.total,
            outstanding=item.outstanding,
            days_late=(self.as_of - item.due_date).days,
            invoice=item.invoice,
            charges=charges,
            previous=tuple((s.level, s.sent_on) for s in steps),
            plan_id=item.plan_id,
            seq=item.seq,
            of=item.of,
        )

    def communication_tasks(self, communication: PlannedCommunication) -> None:
        customer = communication.customer
        level = communication.level
        day = communication.send_on.isoformat()
        amounts = "; ".join(_fmt_money(t.total, t.currency) for t in communication.totals())
        numbers = ", ".join(item.number for item in communication.items)
        invoice_ids = tuple(item.key for item in communication.items)
        if "phone" in communication.channels:
            phone = customer.phone or next((c.phone for c in customer.contacts if c.phone), None)
            self.task(
                PlannedTask(
                    key=f"phone:{customer.external_id}:{level.code}:{day}",
                    kind="phone_call",
                    customer_id=customer.external_id,
                    due_on=communication.send_on,
                    title=f"Call {customer.name}"
                    + (f" ({phone})" if phone else " (no phone number on file)"),
                    detail=f"{level.label}: {numbers}; {amounts} claimed; ask for a payment date or a payment plan",
                    invoice_ids=invoice_ids,
                )
            )
        for channel in ("registered_letter", "letter"):
            if channel in communication.channels:
                self.task(
                    PlannedTask(
                        key=f"post:{customer.external_id}:{level.code}:{day}",
                        kind="post_letter",
                        customer_id=customer.external_id,
                        due_on=communication.send_on,
                        title=f"Post the {'registered letter (LRAR)' if channel == 'registered_letter' else 'letter'} "
                        f"'{level.label}' to {customer.name}",
                        detail=f"{numbers}; {amounts}",
                        invoice_ids=invoice_ids,
                    )
                )
                break
        if "escalation" in communication.channels:
            route = (
                "injonction de payer request"
                if level.escalation == "injonction_de_payer"
                else "collection agency hand-over"
            )
            self.task(
                PlannedTask(
                    key=f"escalation:{customer.external_id}:{day}",
                    kind="escalation",
                    customer_id=customer.external_id,
                    due_on=communication.send_on,
                    title=f"Escalate {customer.name}: {route}",
                    detail=f"formal notice unanswered; {numbers}; {amounts}",
                    invoice_ids=invoice_ids,
                )
            )

    # -- standing ---------------------------------------------------------------------------------

    def standing(
        self,
        customer: Customer,
        policy: Policy,
        items: list[_Item],
        held: list[HeldItem],
        waiting: list[WaitingItem],
        communication: PlannedCommunication | None,
        stopped: bool,
    ) -> CaseStanding:
        open_keys = {item.key for item in items}
        reached: int | None = None
        last_sent: dt.date | None = None
        for key in open_keys:
            for step in self.history_by_item.get(key, []):
                index = policy.index_of(step.level)
                index = index if index is not None else min(step.level_index, len(policy.levels) - 1)
                reached = index if reached is None else max(reached, index)
                last_sent = step.sent_on if last_sent is None else max(last_sent, step.sent_on)
        if communication is not None:
            reached = (
                communication.level_index if reached is None else max(reached, communication.level_index)
            )
            last_sent = communication.send_on
        upcoming = sorted(
            (w for w in waiting if w.next_on is not None),
            key=lambda w: (w.next_on or dt.date.max, w.item_key),
        )
        next_on = upcoming[0].next_on if upcoming else None
        next_action = None
        if upcoming:
            level = policy.level(upcoming[0].next_level) if upcoming[0].next_level else None
            names = ", ".join(w.number for w in upcoming if w.next_on == next_on)
            next_action = f"{level.label if level else 'next step'} for {names}"
        held_keys = {h.item_key for h in held}
        currency = self.data.company.base_currency
        open_amount = sum(
            (i.outstanding.amount for i in items if i.outstanding.currency == currency), Decimal(0)
        ) + sum(
            (
                h.outstanding.amount
                for h in held
                if h.kind == "payment_plan" and h.outstanding.currency == currency
            ),
            Decimal(0),
        )
        state: CaseState
        if stopped:
            state = "stopped"
        elif not items:
            state = "clear"
        elif open_keys and open_keys <= held_keys:
            state = "paused"
        else:
            state = "active"
        hold_kinds = sorted({h.kind for h in held})
        level = policy.levels[reached] if reached is not None else None
        return CaseStanding(
            customer_id=customer.external_id,
            customer_name=customer.name,
            policy=policy.code,
            state=state,
            level=level.code if level else None,
            level_label=level.label if level else None,
            level_index=reached,
            last_sent_on=last_sent,
            next_action_on=next_on,
            next_action=next_action,
            open_amount=open_amount,
            currency=currency,
            note=("holds: " + ", ".join(hold_kinds)) if hold_kinds else "",
        )


def plan_dunning(data: DunningInput, as_of: dt.date) -> DunningPlan:
    """What to send and do on ``as_of`` for one company, and why (see the module docstring)."""
    return _Planner(data, as_of).run()


def customer_statement(
    data: DunningInput, customer_id: str, as_of: dt.date, level_code: str | None = None
) -> PlannedCommunication:
    """Every open invoice of one customer (not factored) with its charges at ``as_of``, as a
    communication at ``level_code`` (default: the customer's highest level reached, else the first
    level) — for previews and escalation dossiers outside the day's plan. Nothing is recorded."""
    planner = _Planner(data, as_of)
    customer = next((c for c in data.customers if c.external_id == customer_id), None)
    if customer is None:
        raise ConfigError(f"unknown customer {customer_id!r}")
    policy, policy_reason = data.policies.choose(
        customer_id=customer_id,
        consumer=customer.is_consumer,
        segment=customer.segment,
        grade=data.grades.get(customer_id),
    )
    invoices = [
        invoice
        for invoice in data.invoices
        if invoice.customer_id == customer_id
        and invoice.kind == "invoice"
        and not invoice.factored
        and planner.residual(invoice).amount > 0
    ]
    if not invoices:
        raise ConfigError(f"customer {customer_id} has no open invoice")
    credits = [
        invoice
        for invoice in data.invoices
        if invoice.customer_id == customer_id
        and invoice.kind == "credit_note"
        and planner.residual(invoice).amount > 0
    ]
    if level_code is not None:
        index = policy.index_of(level_code)
        if index is None:
            raise ConfigError(
                f"policy {policy.code} has no level {level_code!r}; levels: {', '.join(lv.code for lv in policy.levels)}"
            )
    else:
        reached = [
            policy.index_of(step.level)
            for invoice in invoices
            for step in planner.history_by_item.get(invoice.external_id, [])
        ]
        known = [i for i in reached if i is not None]
        index = max(known) if known else 0
    level = policy.levels[index]
    items = []
    for invoice in sorted(invoices, key=lambda i: (planner.due_date(i, customer), i.number)):
        item = _Item(
            key=invoice.external_id,
            kind="invoice",
            customer_id=customer_id,
            number=invoice.number,
            issue_date=invoice.issue_date,
            due_date=planner.due_date(invoice, customer),
            total=invoice.total,
            outstanding=planner.residual(invoice),
            invoice=invoice,
        )
        items.append(planner.line(item, customer, policy))
    calendar = BusinessCalendar([planner.company_country])
    return PlannedCommunication(
        customer=customer,
        policy=policy.code,
        policy_reason=policy_reason,
        level=level,
        level_index=index,
        send_on=as_of,
        items=tuple(items),
        channels=level.channels,
        language=customer.language if customer.language in ("fr", "en") else policy.language,
        deadline=calendar.deadline(as_of, level.deadline_days) if level.deadline_days else None,
        reasons=("statement of every open invoice",),
        credits=tuple(sorted(credits, key=lambda c: c.number)),
    )
