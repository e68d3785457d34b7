"""Dunning in the store: communications, the levels each item reached, the trace of every action,
pauses, promises to pay, payment plans and each customer's case.

- ``dunning_communications``: one row per customer and day (unique), the grouped communication
  with its level, totals, document hash and the items' figures (payload).
- ``dunning_steps``: the level each item reached, unique per (company, item, level): an invoice
  never gets the same level twice, even if two runs race.
- ``dunning_actions``: the trace — every delivery (e-mail, letter, registered letter, dossier) and
  every task (phone call, posting, claim declaration, prescription alert...), with what, when
  (real time and dunning day), to whom, channel, content hash, status, attempts and last error.
  ``action_key`` is unique per company: an action is recorded once, a rerun finds it.
- ``dunning_pauses``, ``dunning_promises``, ``dunning_payment_plans`` / ``dunning_instalments``:
  what people recorded (``erp-recovery dunning pause|promise|dispute|payment-plan``).
- ``dunning_cases``: where each customer stands after the last run (level reached, next action
  date, state) — what the write-back tells the ERP.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    insert,
    select,
    update,
)
from sqlalchemy.engine import Connection

from erp_recovery.engines.dunning.engine import DunningHistory, SentStep
from erp_recovery.engines.dunning.holds import Instalment, Pause, PaymentPlan, PromiseStatus, PromiseToPay
from erp_recovery.engines.dunning.plan import CaseStanding
from erp_recovery.errors import ConfigError
from erp_recovery.model.money import Money
from erp_recovery.store.schema import Id, metadata
from erp_recovery.store.types import ExactDecimal, JsonDocument

dunning_communications = Table(
    "dunning_communications",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("company_id", Id, ForeignKey("companies.id"), nullable=False),
    Column("customer_id", String(255), nullable=False),
    Column("day", Date, nullable=False),
    Column("policy", String(63), nullable=False),
    Column("level", String(40), nullable=False),
    Column("level_index", Integer, nullable=False),
    Column("level_label", String(255), nullable=False),
    Column("level_kind", String(16), nullable=False),
    Column("channels", JsonDocument, nullable=False),
    Column("language", String(8), nullable=False),
    Column("deadline", Date),
    Column("reference", String(64), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("total", ExactDecimal, nullable=False),
    Column("document_path", Text),
    Column("document_hash", String(64)),
    Column("payload", JsonDocument, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("company_id", "customer_id", "day", name="uq_dunning_communications_customer_day"),
)

dunning_steps = Table(
    "dunning_steps",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("company_id", Id, ForeignKey("companies.id"), nullable=False),
    Column("communication_id", Id, ForeignKey("dunning_communications.id"), nullable=False),
    Column("customer_id", String(255), nullable=False),
    #: Invoice external id, or ``plan:<plan id>:<instalment>``.
    Column("item_key", String(255), nullable=False),
    Column("level", String(40), nullable=False),
    Column("level_index", Integer, nullable=False),
    Column("sent_on", Date, nullable=False),
    Column("deadline", Date),
    UniqueConstraint("company_id", "item_key", "level", name="uq_dunning_steps_item_level"),
)
Index("ix_dunning_steps_customer", dunning_steps.c.company_id, dunning_steps.c.customer_id)

dunning_actions = Table(
    "dunning_actions",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("company_id", Id, ForeignKey("companies.id"), nullable=False),
    Column("communication_id", Id, ForeignKey("dunning_communications.id")),
    Column("customer_id", String(255), nullable=False),
    Column("action_key", String(160), nullable=False),
    #: email | letter | registered_letter | dossier | task
    Column("channel", String(24), nullable=False),
    #: Tasks: phone_call | post_letter | declare_claim | prescription | escalation | send_manually
    Column("task_kind", String(24)),
    Column("day", Date, nullable=False),
    Column("due_on", Date),
    Column("recipient", String(255)),
    Column("subject", Text),
    Column("detail", Text),
    Column("document_path", Text),
    Column("content_hash", String(64)),
    #: deliveries: pending | sent | failed | gave_up | written; tasks: open | done
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("last_error", Text),
    Column("details", JsonDocument),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("delivered_at", DateTime(timezone=True)),
    UniqueConstraint("company_id", "action_key", name="uq_dunning_actions_key"),
)
Index("ix_dunning_actions_customer", dunning_actions.c.company_id, dunning_actions.c.customer_id)

dunning_pauses = Table(
    "dunning_pauses",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("company_id", Id, ForeignKey("companies.id"), nullable=False),
    Column("customer_id", String(255), nullable=False),
    Column("invoice_id", String(255)),
    Column("kind", String(16), nullable=False),
    Column("reason", Text, nullable=False, default=""),
    Column("start", Date, nullable=False),
    Column("until", Date),
    Column("published_on", Date),
    Column("origin", String(16), nullable=False, default="person"),
    Column("created_by", String(63)),
    Column("created_at", DateTime(timezone=True), nullable=False),
    #: Set by ``resume``: the pause no longer applies from this day.
    Column("ended_on", Date),
)
Index("ix_dunning_pauses_customer", dunning_pauses.c.company_id, dunning_pauses.c.customer_id)

dunning_promises = Table(
    "dunning_promises",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("company_id", Id, ForeignKey("companies.id"), nullable=False),
    Column("customer_id", String(255), nullable=False),
    Column("invoice_ids", JsonDocument, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("amount", ExactDecimal, nullable=False),
    Column("outstanding_at_promise", ExactDecimal, nullable=False),
    Column("promised_on", Date, nullable=False),
    Column("made_on", Date, nullable=False),
    Column("note", Text, nullable=False, default=""),
    #: open | kept | broken | cancelled
    Column("status", String(16), nullable=False),
    Column("status_on", Date),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

dunning_payment_plans = Table(
    "dunning_payment_plans",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("company_id", Id, ForeignKey("companies.id"), nullable=False),
    Column("customer_id", String(255), nullable=False),
    Column("invoice_ids", JsonDocument, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("outstanding_at_start", ExactDecimal, nullable=False),
    Column("agreed_on", Date, nullable=False),
    Column("note", Text, nullable=False, default=""),
    #: active | cancelled
    Column("status", String(16), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

dunning_instalments = Table(
    "dunning_instalments",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("plan_id", Id, ForeignKey("dunning_payment_plans.id"), nullable=False, index=True),
    Column("seq", Integer, nullable=False),
    Column("due_date", Date, nullable=False),
    Column("amount", ExactDecimal, nullable=False),
    UniqueConstraint("plan_id", "seq", name="uq_dunning_instalments_plan_seq"),
)

dunning_cases = Table(
    "dunning_cases",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("company_id", Id, ForeignKey("companies.id"), nullable=False),
    Column("customer_id", String(255), nullable=False),
    Column("as_of", Date, nullable=False),
    Column("policy", String(63), nullable=False),
    Column("state", String(16), nullable=False),
    Column("level", String(40)),
    Column("level_label", String(255)),
    Column("level_index", Integer),
    Column("last_sent_on", Date),
    Column("next_action_on", Date),
    Column("next_action", Text),
    Column("currency", String(3), nullable=False),
    Column("open_amount", ExactDecimal, nullable=False),
    Column("note", Text),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("company_id", "customer_id", name="uq_dunning_cases_customer"),
)


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


PLAN_PREFIX = "ECH-"


def plan_label(plan_id: int) -> str:
    """How a payment plan is named in letters and item keys (``ECH-12``)."""
    return f"{PLAN_PREFIX}{plan_id}"


# -- reading what the engine needs ----------------------------------------------------------------


def load_history(connection: Connection, company_id: int) -> DunningHistory:
    steps = tuple(
        SentStep(
            customer_id=row.customer_id,
            item_key=row.item_key,
            level=row.level,
            level_index=row.level_index,
            sent_on=row.sent_on,
            deadline=row.deadline,
        )
        for row in connection.execute(
            select(dunning_steps).where(dunning_steps.c.company_id == company_id).order_by(dunning_steps.c.id)
        )
    )
    keys = frozenset(
        connection.execute(
            select(dunning_actions.c.action_key).where(
                dunning_actions.c.company_id == company_id, dunning_actions.c.channel == "task"
            )
        ).scalars()
    )
    return DunningHistory(steps=steps, task_keys=keys)


def load_pauses(connection: Connection, company_id: int) -> list[Pause]:
    """Pauses, with a resumed one ending the day before it was resumed."""
    pauses = []
    for row in connection.execute(
        select(dunning_pauses).where(dunning_pauses.c.company_id == company_id).order_by(dunning_pauses.c.id)
    ):
        until = row.until
        if row.ended_on is not None:
            last = row.ended_on - dt.timedelta(days=1)
            until = last if until is None else min(until, last)
        pauses.append(
            Pause(
                id=str(row.id),
                customer_id=row.customer_id,
                kind=row.kind,
                start=row.start,
                until=until,
                invoice_id=row.invoice_id,
                reason=row.reason or "",
                published_on=row.published_on,
                origin=row.origin,
            )
        )
    return pauses


def load_promises(
    connection: Connection, company_id: int
) -> tuple[list[PromiseToPay], dict[str, PromiseStatus]]:
    promises: list[PromiseToPay] = []
    statuses: dict[str, PromiseStatus] = {}
    for row in connection.execute(
        select(dunning_promises)
        .where(dunning_promises.c.company_id == company_id, dunning_promises.c.status.in_(("open", "broken")))
        .order_by(dunning_promises.c.id)
    ):
        promises.append(
            PromiseToPay(
                id=str(row.id),
                customer_id=row.customer_id,
                promised_on=row.promised_on,
                amount=Money(amount=row.amount, currency=row.currency),
                invoice_ids=tuple(row.invoice_ids),
                made_on=row.made_on,
                outstanding_at_promise=Money(amount=row.outstanding_at_promise, currency=row.currency),
                note=row.note or "",
            )
        )
        statuses[str(row.id)] = row.status
    return promises, statuses


def load_payment_plans(connection: Connection, company_id: int) -> list[PaymentPlan]:
    rows = list(
        connection.execute(
            select(dunning_payment_plans)
            .where(
                dunning_payment_plans.c.company_id == company_id, dunning_payment_plans.c.status == "active"
            )
            .order_by(dunning_payment_plans.c.id)
        )
    )
    if not rows:
        return []
    instalments: dict[int, list[Instalment]] = {}
    currencies = {row.id: row.currency for row in rows}
    for row in connection.execute(
        select(dunning_instalments)
        .where(dunning_instalments.c.plan_id.in_(list(currencies)))
        .order_by(dunning_instalments.c.plan_id, dunning_instalments.c.seq)
    ):
        instalments.setdefault(row.plan_id, []).append(
            Instalment(
                seq=row.seq,
                due_date=row.due_date,
                amount=Money(amount=row.amount, currency=currencies[row.plan_id]),
            )
        )
    return [
        PaymentPlan(
            id=plan_label(row.id),
            customer_id=row.customer_id,
            invoice_ids=tuple(row.invoice_ids),
            agreed_on=row.agreed_on,
            outstanding_at_start=Money(amount=row.outstanding_at_start, currency=row.currency),
            instalments=tuple(instalments.get(row.id, ())),
            note=row.note or "",
        )
        for row in rows
    ]


# -- what people record -----------------------------------------------------------------------------


def add_pause(
    connection: Connection,
    company_id: int,
    *,
    customer_id: str,
    kind: str,
    start: dt.date,
    until: dt.date | None,
    invoice_id: str | None = None,
    reason: str = "",
    published_on: dt.date | None = None,
    created_by: str | None = None,
) -> int:
    result = connection.execute(
        insert(dunning_pauses).values(
            company_id=company_id,
            customer_id=customer_id,
            invoice_id=invoice_id,
            kind=kind,
            reason=reason,
            start=start,
            until=until,
            published_on=published_on,
            origin="person",
            created_by=created_by,
            created_at=now(),
        )
    )
    return int(result.inserted_primary_key[0])  # type: ignore[index]


def end_pauses(
    connection: Connection,
    company_id: int,
    *,
    on: dt.date,
    pause_id: int | None = None,
    customer_id: str | None = None,
    invoice_id: str | None = None,
) -> int:
    """Resume: pauses matching the criteria no longer apply from ``on``; returns how many."""
    conditions = [dunning_pauses.c.company_id == company_id, dunning_pauses.c.ended_on.is_(None)]
    if pause_id is not None:
        conditions.append(dunning_pauses.c.id == pause_id)
    if customer_id is not None:
        conditions.append(dunning_pauses.c.customer_id == customer_id)
    if invoice_id is not None:
        conditions.append(dunning_pauses.c.invoice_id == invoice_id)
    result = connection.execute(update(dunning_pauses).where(*conditions).values(ended_on=on))
    cancelled = 0
    if pause_id is None and customer_id is not None:
        promise_conditions = [
            dunning_promises.c.company_id == company_id,
            dunning_promises.c.customer_id == customer_id,
            dunning_promises.c.status == "open",
        ]
        rows = connection.execute(
            select(dunning_promises.c.id, dunning_promises.c.invoice_ids).where(*promise_conditions)
        )
        ids = [row.id for row in rows if invoice_id is None or invoice_id in row.invoice_ids]
        if ids:
            cancelled = int(
                connection.execute(
                    update(dunning_promises)
                    .where(dunning_promises.c.id.in_(ids))
                    .values(status="cancelled", status_on=on)
                ).rowcount
                or 0
            )
    return int(result.rowcount or 0) + cancelled


def add_promise(
    connection: Connection,
    company_id: int,
    *,
    customer_id: str,
    invoice_ids: Sequence[str],
    amount: Money,
    outstanding: Money,
    promised_on: dt.date,
    made_on: dt.date,
    note: str = "",
) -> int:
    if amount.currency != outstanding.currency:
        raise ConfigError(
            f"the promise is in {amount.currency} but the invoices are in {outstanding.currency}"
        )
    result = connection.execute(
        insert(dunning_promises).values(
            company_id=company_id,
            customer_id=customer_id,
            invoice_ids=list(invoice_ids),
            currency=amount.currency,
            amount=amount.amount,
            outstanding_at_promise=outstanding.amount,
            promised_on=promised_on,
            made_on=made_on,
            note=note,
            status="open",
            created_at=now(),
        )
    )
    return int(result.inserted_primary_key[0])  # type: ignore[index]


def set_promise_status(connection: Connection, promise_id: str, status: str, on: dt.date) -> None:
    connection.execute(
        update(dunning_promises)
        .where(dunning_promises.c.id == int(promise_id))
        .values(status=status, status_on=on)
    )


def add_payment_plan(
    connection: Connection,
    company_id: int,
    *,
    customer_id: str,
    invoice_ids: Sequence[str],
    outstanding: Money,
    agreed_on: dt.date,
    instalments: Sequence[tuple[dt.date, Decimal]],
    note: str = "",
) -> int:
    total = sum((amount for _, amount in instalments), Decimal(0))
    if total != outstanding.amount:
        raise ConfigError(
            f"the instalments add up to {total} {outstanding.currency} but the invoices owe {outstanding}: "
            "they must match"
        )
    result = connection.execute(
        insert(dunning_payment_plans).values(
            company_id=company_id,
            customer_id=customer_id,
            invoice_ids=list(invoice_ids),
            currency=outstanding.currency,
            outstanding_at_start=outstanding.amount,
            agreed_on=agreed_on,
            note=note,
            status="active",
            created_at=now(),
        )
    )
    plan_id = int(result.inserted_primary_key[0])  # type: ignore[index]
    connection.execute(
        insert(dunning_instalments),
        [
            {"plan_id": plan_id, "seq": seq, "due_date": due, "amount": amount}
            for seq, (due, amount) in enumerate(sorted(instalments), start=1)
        ],
    )
    return plan_id


def cancel_payment_plan(connection: Connection, company_id: int, plan_id: int) -> int:
    return int(
        connection.execute(
            update(dunning_payment_plans)
            .where(dunning_payment_plans.c.company_id == company_id, dunning_payment_plans.c.id == plan_id)
            .values(status="cancelled")
        ).rowcount
        or 0
    )


# -- what a run records --------------------------------------------------------------------------------


def communication_exists(connection: Connection, company_id: int, customer_id: str, day: dt.date) -> bool:
    return (
        connection.execute(
            select(dunning_communications.c.id).where(
                dunning_communications.c.company_id == company_id,
                dunning_communications.c.customer_id == customer_id,
                dunning_communications.c.day == day,
            )
        ).first()
        is not None
    )


def steps_exist(connection: Connection, company_id: int, pairs: Sequence[tuple[str, str]]) -> bool:
    """Whether any of these (item, level) pairs was already reached."""
    if not pairs:
        return False
    keys = {key for key, _ in pairs}
    rows = connection.execute(
        select(dunning_steps.c.item_key, dunning_steps.c.level).where(
            dunning_steps.c.company_id == company_id, dunning_steps.c.item_key.in_(list(keys))
        )
    )
    reached = {(row.item_key, row.level) for row in rows}
    return any(pair in reached for pair in pairs)


def insert_communication(
    connection: Connection, values: dict[str, Any], steps: Sequence[dict[str, Any]]
) -> int:
    result = connection.execute(insert(dunning_communications).values(**values, created_at=now()))
    communication_id = int(result.inserted_primary_key[0])  # type: ignore[index]
    if steps:
        connection.execute(
            insert(dunning_steps),
            [
                {**step, "communication_id": communication_id, "company_id": values["company_id"]}
                for step in steps
            ],
        )
    return communication_id


def action_by_key(connection: Connection, company_id: int, key: str) -> Any:
    return connection.execute(
        select(dunning_actions).where(
            dunning_actions.c.company_id == company_id, dunning_actions.c.action_key == key
        )
    ).first()


def insert_action(connection: Connection, values: dict[str, Any]) -> int:
    stamp = now()
    result = connection.execute(
        insert(dunning_actions).values(**{"attempts": 0, **values}, created_at=stamp, updated_at=stamp)
    )
    return int(result.inserted_primary_key[0])  # type: ignore[index]


def update_action(connection: Connection, action_id: int, **values: Any) -> None:
    connection.execute(
        update(dunning_actions).where(dunning_actions.c.id == action_id).values(**values, updated_at=now())
    )


def retryable_deliveries(connection: Connection, company_id: int, max_attempts: int) -> list[Any]:
    return list(
        connection.execute(
            select(dunning_actions)
            .where(
                dunning_actions.c.company_id == company_id,
                dunning_actions.c.channel == "email",
                dunning_actions.c.status.in_(("pending", "failed")),
                dunning_actions.c.attempts < max_attempts,
            )
            .order_by(dunning_actions.c.id)
        )
    )


def save_cases(
    connection: Connection, company_id: int, as_of: dt.date, standings: Sequence[CaseStanding]
) -> int:
    """Replace each customer's case with its standing of ``as_of``; customers no longer in the
    plan (nothing open) are marked ``clear``."""
    existing = {
        row.customer_id: row.id
        for row in connection.execute(
            select(dunning_cases.c.id, dunning_cases.c.customer_id).where(
                dunning_cases.c.company_id == company_id
            )
        )
    }
    stamp = now()
    seen = set()
    for standing in standings:
        seen.add(standing.customer_id)
        values = {
            "as_of": as_of,
            "policy": standing.policy,
            "state": standing.state,
            "level": standing.level,
            "level_label": standing.level_label,
            "level_index": standing.level_index,
            "last_sent_on": standing.last_sent_on,
            "next_action_on": standing.next_action_on,
            "next_action": standing.next_action,
            "currency": standing.currency,
            "open_amount": standing.open_amount,
            "note": standing.note,
            "updated_at": stamp,
        }
        if standing.customer_id in existing:
            connection.execute(
                update(dunning_cases)
                .where(dunning_cases.c.id == existing[standing.customer_id])
                .values(**values)
            )
        else:
            connection.execute(
                insert(dunning_cases).values(
                    company_id=company_id, customer_id=standing.customer_id, **values
                )
            )
    for customer_id, case_id in existing.items():
        if customer_id not in seen:
            connection.execute(
                update(dunning_cases)
                .where(dunning_cases.c.id == case_id)
                .values(
                    as_of=as_of,
                    state="clear",
                    next_action_on=None,
                    next_action=None,
                    open_amount=Decimal(0),
                    note="nothing open",
                    updated_at=stamp,
                )
            )
    return len(standings)


# -- reading for people ----------------------------------------------------------------------------------


def communications_of(connection: Connection, company_id: int, customer_id: str | None = None) -> list[Any]:
    statement = select(dunning_communications).where(dunning_communications.c.company_id == company_id)
    if customer_id is not None:
        statement = statement.where(dunning_communications.c.customer_id == customer_id)
    return list(
        connection.execute(statement.order_by(dunning_communications.c.day, dunning_communications.c.id))
    )


def actions_of(
    connection: Connection, company_id: int, customer_id: str | None = None, *, tasks_only: bool = False
) -> list[Any]:
    statement = select(dunning_actions).where(dunning_actions.c.company_id == company_id)
    if customer_id is not None:
        statement = statement.where(dunning_actions.c.customer_id == customer_id)
    if tasks_only:
        statement = statement.where(dunning_actions.c.channel == "task")
    return list(connection.execute(statement.order_by(dunning_actions.c.day, dunning_actions.c.id)))


def pauses_of(connection: Connection, company_id: int, customer_id: str | None = None) -> list[Any]:
    statement = select(dunning_pauses).where(dunning_pauses.c.company_id == company_id)
    if customer_id is not None:
        statement = statement.where(dunning_pauses.c.customer_id == customer_id)
    return list(connection.execute(statement.order_by(dunning_pauses.c.id)))


def promises_of(connection: Connection, company_id: int, customer_id: str | None = None) -> list[Any]:
    statement = select(dunning_promises).where(dunning_promises.c.company_id == company_id)
    if customer_id is not None:
        statement = statement.where(dunning_promises.c.customer_id == customer_id)
    return list(connection.execute(statement.order_by(dunning_promises.c.id)))


def payment_plans_of(connection: Connection, company_id: int, customer_id: str | None = None) -> list[Any]:
    statement = select(dunning_payment_plans).where(dunning_payment_plans.c.company_id == company_id)
    if customer_id is not None:
        statement = statement.where(dunning_payment_plans.c.customer_id == customer_id)
    return list(connection.execute(statement.order_by(dunning_payment_plans.c.id)))


def cases_of(connection: Connection, company_id: int) -> list[Any]:
    return list(
        connection.execute(
            select(dunning_cases)
            .where(dunning_cases.c.company_id == company_id)
            .order_by(dunning_cases.c.customer_id)
        )
    )


def set_task_status(
    connection: Connection, company_id: int, action_id: int, status: str, *, note: str | None = None
) -> int:
    """Mark a task ``open`` or ``done``; a note (e.g. a registered letter's tracking number) is kept."""
    row = connection.execute(
        select(dunning_actions.c.details).where(
            dunning_actions.c.company_id == company_id,
            dunning_actions.c.id == action_id,
            dunning_actions.c.channel == "task",
        )
    ).first()
    if row is None:
        return 0
    details = dict(row.details or {})
    if note:
        details["note"] = note
    connection.execute(
        update(dunning_actions)
        .where(dunning_actions.c.id == action_id)
        .values(status=status, details=details, updated_at=now())
    )
    return 1
