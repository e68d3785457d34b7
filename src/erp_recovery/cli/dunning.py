"""Dunning commands: ``dunning plan`` (what would go out and why), ``dunning run`` (do it, once per
day), ``dunning history``, pauses, disputes, promises and payment plans, tasks, dossiers, previews,
templates and policies. Every command takes ``--as-of`` so days can be simulated.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import click
from rich.markup import escape

from erp_recovery.cli.context import AppContext, json_option, pass_app
from erp_recovery.dunning_docs.render import export_templates, html_to_pdf
from erp_recovery.dunning_ops import report, service
from erp_recovery.engines.dunning import customer_statement, shipped_policies_text
from erp_recovery.errors import ConfigError
from erp_recovery.model.money import Money, quantize_amount
from erp_recovery.model.records import Customer, Invoice
from erp_recovery.store import dunning as dunning_store
from erp_recovery.store.records import load_records

DATE = click.DateTime(formats=["%Y-%m-%d"])


def _say(app: AppContext, text: str) -> None:
    """A line for people; what it holds ([smtp], names with brackets) is not console markup."""
    app.info(escape(text))


def _warn(app: AppContext, text: str) -> None:
    app.warn(escape(text))


def _day(value: dt.datetime | None) -> dt.date:
    return value.date() if value else dt.date.today()


def company_option(func: Any) -> Any:
    return click.option("--company", help="Company code (needed when several are configured).")(func)


def as_of_option(func: Any) -> Any:
    return click.option(
        "--as-of", "as_of", type=DATE, help="The dunning day (default today); use it to simulate days."
    )(func)


def _setup(app: AppContext, company: str | None) -> service.DunningSetup:
    return service.setup(app.store(), app.config, company)


def _customers(app: AppContext, setup_: service.DunningSetup) -> list[Customer]:
    with app.store().connect() as connection:
        return [
            r
            for r in load_records(connection, "customer", company_id=setup_.company_id)
            if isinstance(r, Customer)
        ]


def _invoices(app: AppContext, setup_: service.DunningSetup, customer_id: str) -> list[Invoice]:
    with app.store().connect() as connection:
        return [
            r
            for r in load_records(connection, "invoice", company_id=setup_.company_id)
            if isinstance(r, Invoice) and r.customer_id == customer_id
        ]


def find_customer(app: AppContext, setup_: service.DunningSetup, text: str) -> Customer:
    """A customer by external id, or by name (exact, case-insensitive; else a unique partial match)."""
    customers = _customers(app, setup_)
    for customer in customers:
        if customer.external_id == text:
            return customer
    lowered = text.casefold()
    exact = [c for c in customers if c.name.casefold() == lowered]
    partial = exact or [c for c in customers if lowered in c.name.casefold()]
    if len(partial) == 1:
        return partial[0]
    if partial:
        names = ", ".join(f"{c.external_id} ({c.name})" for c in partial[:8])
        raise click.UsageError(f"{text!r} matches several customers: {names}; give the code")
    raise click.UsageError(f"no customer {text!r} in company {setup_.company.code}")


def find_invoices(
    app: AppContext, setup_: service.DunningSetup, customer: Customer, numbers: tuple[str, ...]
) -> list[Invoice]:
    invoices = _invoices(app, setup_, customer.external_id)
    found = []
    for number in numbers:
        match = next((i for i in invoices if number in (i.number, i.external_id)), None)
        if match is None:
            known = ", ".join(sorted(i.number for i in invoices if i.is_open)) or "none open"
            raise click.UsageError(f"{customer.name} has no invoice {number!r}; open invoices: {known}")
        found.append(match)
    return found


def _open_invoices(app: AppContext, setup_: service.DunningSetup, customer: Customer) -> list[Invoice]:
    return [i for i in _invoices(app, setup_, customer.external_id) if i.kind == "invoice" and i.is_open]


def _outstanding(invoices: list[Invoice]) -> Money:
    if not invoices:
        raise click.UsageError("no open invoice to cover")
    currencies = {i.currency for i in invoices}
    if len(currencies) > 1:
        raise click.UsageError(
            f"the invoices are in several currencies ({', '.join(sorted(currencies))}): one at a time"
        )
    return Money(amount=sum((i.residual.amount for i in invoices), Decimal(0)), currency=invoices[0].currency)


@click.group()
def dunning() -> None:
    """Dunning: reminders, formal notices and escalation, with pauses, promises and payment plans.

    \b
    Example:
      erp-recovery dunning plan --as-of 2026-11-20
      erp-recovery dunning run
      erp-recovery dunning history C012
    """


@dunning.command("plan")
@company_option
@as_of_option
@click.option("--customer", help="Only this customer (code or name).")
@click.option("--signals/--no-signals", "use_signals", default=None, help="Check BODACC for insolvency.")
@json_option
@pass_app
def plan_cmd(
    app: AppContext,
    company: str | None,
    as_of: dt.datetime | None,
    customer: str | None,
    use_signals: bool | None,
) -> None:
    """Show what would be sent today and why, what is on hold and until when. Changes nothing.

    \b
    Example:
      erp-recovery dunning plan --as-of 2026-11-20 --customer C012
    """
    setup_ = _setup(app, company)
    prepared = service.prepare(app.store(), app.config, setup_, _day(as_of), use_signals=use_signals)
    plan = prepared.plan
    if customer is not None:
        wanted = find_customer(app, setup_, customer).external_id
        plan.communications = [c for c in plan.communications if c.customer_id == wanted]
        plan.tasks = [t for t in plan.tasks if t.customer_id == wanted]
        plan.held = [h for h in plan.held if h.customer_id == wanted]
        plan.waiting = [w for w in plan.waiting if w.customer_id == wanted]
        plan.standings = [s for s in plan.standings if s.customer_id == wanted]
        plan.promise_updates = [u for u in plan.promise_updates if u.customer_id == wanted]
    if app.as_json:
        app.emit_json(report.plan_json(plan))
        return
    click.echo(report.plan_text(plan), nl=False)
    if plan.standings:
        app.table("Cases after today", report.CASE_COLUMNS, report.case_rows(plan))


@dunning.command("run")
@company_option
@as_of_option
@click.option(
    "--send/--no-send", default=True, show_default=True, help="Send e-mails (else they wait in the outbox)."
)
@click.option("--signals/--no-signals", "use_signals", default=None, help="Check BODACC for insolvency.")
@json_option
@pass_app
def run_cmd(
    app: AppContext, company: str | None, as_of: dt.datetime | None, send: bool, use_signals: bool | None
) -> int:
    """Do today's dunning: render and send the communications, create the tasks, record everything.

    Idempotent for a day: a second run the same day sends nothing (it only retries e-mails that
    failed, up to [dunning] max_attempts). Letters to post are PDFs in the outbox plus a task.

    \b
    Example:
      erp-recovery dunning run
      erp-recovery dunning run --as-of 2026-11-23 --no-send
    """
    setup_ = _setup(app, company)
    mailer = service.make_mailer(setup_) if send else None
    result = service.run_day(
        app.store(), app.config, setup_, _day(as_of), mailer=mailer, send=send, use_signals=use_signals
    )
    if app.as_json:
        app.emit_json({"as_of": result.as_of, "company": result.company, "counts": result.counts(),
                       "communications": result.communications, "deliveries": result.deliveries,
                       "tasks": result.tasks, "skipped": result.skipped,
                       "promise_updates": result.promise_updates, "notes": result.notes})  # fmt: skip
    else:
        counts = result.counts()
        _say(
            app,
            f"{result.as_of.isoformat()}: {counts['communications']} communication(s), {counts['tasks']} new task(s), "
            f"{counts['skipped']} already done today",
        )
        if result.communications:
            app.table(
                None,
                ["customer", "level", "channels", "items", "document"],
                [
                    [
                        c["customer"],
                        c["label"],
                        ", ".join(c["channels"]),
                        ", ".join(c["items"]),
                        c["document"],
                    ]
                    for c in result.communications
                ],
            )
        if result.deliveries:
            app.table(
                "E-mails",
                ["customer", "to", "status", "attempts", "detail"],
                [
                    [d["customer"], d["to"], d["status"], d["attempts"], d["detail"]]
                    for d in result.deliveries
                ],
            )
        for task in result.tasks:
            _say(app, f"task [{task['kind']}] {task['title']} (due {task['due_on'].isoformat()})")
        for note in result.notes:
            _warn(app, note)
    failed = [d for d in result.deliveries if d["status"] in ("failed", "gave_up")]
    return 1 if failed else 0


@dunning.command("history")
@click.argument("customer", required=False)
@company_option
@json_option
@pass_app
def history_cmd(app: AppContext, customer: str | None, company: str | None) -> None:
    """Everything dunning did: communications, deliveries, tasks, pauses and promises.

    \b
    Example:
      erp-recovery dunning history C012
    """
    setup_ = _setup(app, company)
    customer_id = find_customer(app, setup_, customer).external_id if customer else None
    with app.store().connect() as connection:
        communications = dunning_store.communications_of(connection, setup_.company_id, customer_id)
        actions = dunning_store.actions_of(connection, setup_.company_id, customer_id)
        pauses = dunning_store.pauses_of(connection, setup_.company_id, customer_id)
        promises = dunning_store.promises_of(connection, setup_.company_id, customer_id)
        plans = dunning_store.payment_plans_of(connection, setup_.company_id, customer_id)
    if app.as_json:
        app.emit_json(
            {
                "communications": [
                    {"id": r.id, "customer": r.customer_id, "day": r.day, "level": r.level, "label": r.level_label,
                     "channels": r.channels, "reference": r.reference, "deadline": r.deadline,
                     "currency": r.currency, "total": r.total, "document": r.document_path,
                     "document_sha256": r.document_hash, "items": [i["number"] for i in r.payload.get("items", [])]}
                    for r in communications
                ],
                "actions": [
                    {"id": r.id, "customer": r.customer_id, "day": r.day, "channel": r.channel, "task": r.task_kind,
                     "to": r.recipient, "subject": r.subject, "status": r.status, "attempts": r.attempts,
                     "error": r.last_error, "content_sha256": r.content_hash, "document": r.document_path,
                     "created_at": r.created_at, "delivered_at": r.delivered_at, "due_on": r.due_on}
                    for r in actions
                ],
                "pauses": [
                    {"id": r.id, "customer": r.customer_id, "invoice": r.invoice_id, "kind": r.kind, "reason": r.reason,
                     "start": r.start, "until": r.until, "ended_on": r.ended_on}
                    for r in pauses
                ],
                "promises": [
                    {"id": r.id, "customer": r.customer_id, "invoices": r.invoice_ids, "amount": r.amount,
                     "currency": r.currency, "promised_on": r.promised_on, "status": r.status, "status_on": r.status_on}
                    for r in promises
                ],
                "payment_plans": [
                    {"id": service_plan_label(r.id), "customer": r.customer_id, "invoices": r.invoice_ids,
                     "agreed_on": r.agreed_on, "status": r.status}
                    for r in plans
                ],
            }
        )  # fmt: skip
        return
    app.table(
        "Communications",
        ["day", "customer", "level", "channels", "items", "total", "reference"],
        [[r.day, r.customer_id, r.level_label, ", ".join(r.channels), ", ".join(i["number"] for i in r.payload.get("items", [])),
          f"{r.total} {r.currency}", r.reference] for r in communications],
    )  # fmt: skip
    app.table(
        "Actions (trace)",
        ["id", "day", "customer", "channel", "to / task", "status", "tries", "sha256", "at"],
        [[r.id, r.day, r.customer_id, r.task_kind or r.channel, r.recipient if r.channel != "task" else r.subject, r.status,
          r.attempts, (r.content_hash or "")[:12], (r.delivered_at or r.created_at).isoformat(timespec="seconds")]
         for r in actions],
    )  # fmt: skip
    if pauses or promises or plans:
        app.table(
            "Pauses, promises and payment plans",
            ["what", "customer", "invoice(s)", "from", "until", "status / reason"],
            [["pause " + r.kind, r.customer_id, r.invoice_id or "all", r.start, r.until or "",
              (f"resumed {r.ended_on}; " if r.ended_on else "") + (r.reason or "")] for r in pauses]
            + [["promise", r.customer_id, ", ".join(r.invoice_ids), r.made_on, r.promised_on,
                f"{r.status} ({r.amount} {r.currency})"] for r in promises]
            + [["payment plan " + service_plan_label(r.id), r.customer_id, ", ".join(r.invoice_ids), r.agreed_on, "", r.status]
               for r in plans],
        )  # fmt: skip


def service_plan_label(plan_id: int) -> str:
    return dunning_store.plan_label(plan_id)


@dunning.command("pause")
@click.argument("customer")
@click.option("--invoice", "invoices", multiple=True, help="Only this invoice (number); repeat for several.")
@click.option(
    "--kind",
    type=click.Choice(["hold", "excluded", "insolvency"]),
    default="hold",
    show_default=True,
    help="hold: a pause until a date; excluded: out of dunning until resumed; insolvency: stop + claim task.",
)
@click.option("--until", type=DATE, help="Last day of the pause (default: the policy's review days).")
@click.option("--reason", default="", help="Why (shown in the plan and the history).")
@click.option(
    "--published", type=DATE, help="Insolvency: BODACC publication date (starts the 2-month claim deadline)."
)
@company_option
@as_of_option
@pass_app
def pause_cmd(app: AppContext, customer: str, invoices: tuple[str, ...], kind: str, until: dt.datetime | None,
              reason: str, published: dt.datetime | None, company: str | None, as_of: dt.datetime | None) -> None:  # fmt: skip
    """Pause dunning of a customer or of some invoices, with a visible end.

    \b
    Example:
      erp-recovery dunning pause C007 --until 2026-12-15 --reason "negotiating a discount"
      erp-recovery dunning pause C012 --kind insolvency --published 2026-11-18 --reason "RJ, TC Grenoble"
    """
    setup_ = _setup(app, company)
    found = find_customer(app, setup_, customer)
    day = _day(as_of)
    if kind == "insolvency" and invoices:
        raise click.UsageError("insolvency stops the whole customer: no --invoice")
    if kind == "hold" and until is None:
        policy, _ = setup_.policies.choose(
            customer_id=found.external_id, consumer=found.is_consumer, segment=found.segment, grade=None
        )
        until_day: dt.date | None = day + dt.timedelta(days=policy.pause_review_days)
    else:
        until_day = _day(until) if until else None
    targets = [i.external_id for i in find_invoices(app, setup_, found, invoices)] if invoices else [None]
    ids = []
    with app.store().begin() as connection:
        for invoice_id in targets:
            ids.append(
                dunning_store.add_pause(
                    connection, setup_.company_id, customer_id=found.external_id, kind=kind, start=day,
                    until=until_day, invoice_id=invoice_id, reason=reason,
                    published_on=_day(published) if published else None, created_by="cli",
                )
            )  # fmt: skip
    end = f"until {until_day.isoformat()}" if until_day else "until resumed"
    _say(app, f"pause {', '.join(map(str, ids))} recorded for {found.name} ({kind}, {end})")


@dunning.command("resume")
@click.argument("customer")
@click.option("--invoice", "invoices", multiple=True, help="Only the pauses of this invoice.")
@click.option("--pause", "pause_id", type=int, help="Only this pause id (see 'dunning history').")
@company_option
@as_of_option
@pass_app
def resume_cmd(app: AppContext, customer: str, invoices: tuple[str, ...], pause_id: int | None, company: str | None,
               as_of: dt.datetime | None) -> None:  # fmt: skip
    """End pauses and disputes (and open promises) of a customer: dunning resumes from today.

    \b
    Example:
      erp-recovery dunning resume C007
      erp-recovery dunning resume C004 --invoice FA2026-0011
    """
    setup_ = _setup(app, company)
    found = find_customer(app, setup_, customer)
    day = _day(as_of)
    count = 0
    with app.store().begin() as connection:
        targets = [i.external_id for i in find_invoices(app, setup_, found, invoices)] if invoices else [None]
        for invoice_id in targets:
            count += dunning_store.end_pauses(
                connection, setup_.company_id, on=day, pause_id=pause_id, customer_id=found.external_id,
                invoice_id=invoice_id,
            )  # fmt: skip
    _say(app, f"{count} pause(s) or promise(s) of {found.name} ended on {day.isoformat()}")


@dunning.command("dispute")
@click.argument("customer")
@click.argument("invoices", nargs=-1, required=True)
@click.option("--reason", required=True, help="What the customer disputes.")
@click.option("--until", type=DATE, help="Review date (default: the policy's review days).")
@company_option
@as_of_option
@pass_app
def dispute_cmd(app: AppContext, customer: str, invoices: tuple[str, ...], reason: str, until: dt.datetime | None,
                company: str | None, as_of: dt.datetime | None) -> None:  # fmt: skip
    """Record a dispute on invoices: they are not dunned until the review date or 'resume'.

    \b
    Example:
      erp-recovery dunning dispute C004 FA2026-0012 --reason "delivery incomplete"
    """
    setup_ = _setup(app, company)
    found = find_customer(app, setup_, customer)
    day = _day(as_of)
    policy, _ = setup_.policies.choose(
        customer_id=found.external_id, consumer=found.is_consumer, segment=found.segment, grade=None
    )
    until_day = _day(until) if until else day + dt.timedelta(days=policy.pause_review_days)
    with app.store().begin() as connection:
        for invoice in find_invoices(app, setup_, found, invoices):
            dunning_store.add_pause(
                connection, setup_.company_id, customer_id=found.external_id, kind="dispute", start=day,
                until=until_day, invoice_id=invoice.external_id, reason=reason, created_by="cli",
            )  # fmt: skip
    _say(app, f"dispute recorded on {', '.join(invoices)} of {found.name} until {until_day.isoformat()}")


@dunning.command("promise")
@click.argument("customer")
@click.option("--date", "promised", type=DATE, required=True, help="The day the customer promised to pay by.")
@click.option("--amount", help="Amount promised (default: everything open on the invoices).")
@click.option("--invoice", "invoices", multiple=True, help="Invoices covered (default: every open invoice).")
@click.option("--note", default="", help="Who promised, how.")
@company_option
@as_of_option
@pass_app
def promise_cmd(app: AppContext, customer: str, promised: dt.datetime, amount: str | None, invoices: tuple[str, ...],
                note: str, company: str | None, as_of: dt.datetime | None) -> None:  # fmt: skip
    """Record a promise to pay: its invoices wait until the date (+ grace); broken → next level.

    \b
    Example:
      erp-recovery dunning promise C010 --date 2026-12-04 --amount 8159.25 --note "M. Moreau by phone"
    """
    setup_ = _setup(app, company)
    found = find_customer(app, setup_, customer)
    covered = find_invoices(app, setup_, found, invoices) if invoices else _open_invoices(app, setup_, found)
    outstanding = _outstanding(covered)
    try:
        promised_amount = (
            Money(amount=Decimal(amount), currency=outstanding.currency) if amount else outstanding
        )
    except InvalidOperation:
        raise click.BadParameter(f"not an amount: {amount!r}", param_hint="--amount") from None
    day = _day(as_of)
    if promised.date() < day:
        raise click.BadParameter("the promised date is in the past", param_hint="--date")
    with app.store().begin() as connection:
        promise_id = dunning_store.add_promise(
            connection, setup_.company_id, customer_id=found.external_id,
            invoice_ids=[i.external_id for i in covered], amount=promised_amount, outstanding=outstanding,
            promised_on=promised.date(), made_on=day, note=note,
        )  # fmt: skip
    _say(
        app,
        f"promise {promise_id}: {found.name} pays {promised_amount} by {promised.date().isoformat()} "
        f"({', '.join(i.number for i in covered)})",
    )


def _parse_instalment(text: str) -> tuple[dt.date, Decimal]:
    day, _, amount = text.partition(":")
    try:
        return dt.date.fromisoformat(day.strip()), Decimal(amount.strip())
    except (ValueError, InvalidOperation):
        raise click.BadParameter(
            f"expected DATE:AMOUNT such as 2026-12-15:1500.00, got {text!r}", param_hint="--instalment"
        ) from None


@dunning.command("payment-plan")
@click.argument("customer")
@click.option("--instalment", "instalments", multiple=True, help="DATE:AMOUNT, repeat for each instalment.")
@click.option("--count", type=click.IntRange(2, 60), help="Split evenly into this many monthly instalments.")
@click.option("--first", type=DATE, help="With --count: due date of the first instalment.")
@click.option("--invoice", "invoices", multiple=True, help="Invoices covered (default: every open invoice).")
@click.option("--note", default="", help="Where it was agreed.")
@click.option("--cancel", "cancel_id", type=int, help="Cancel the payment plan with this number instead.")
@company_option
@as_of_option
@pass_app
def payment_plan_cmd(app: AppContext, customer: str, instalments: tuple[str, ...], count: int | None, first: dt.datetime | None,
                     invoices: tuple[str, ...], note: str, cancel_id: int | None, company: str | None,
                     as_of: dt.datetime | None) -> None:  # fmt: skip
    """Agree a payment plan (échéancier): its invoices wait, each late instalment is dunned on its own.

    \b
    Example:
      erp-recovery dunning payment-plan C012 --count 3 --first 2026-12-15
      erp-recovery dunning payment-plan C012 --instalment 2026-12-15:5000 --instalment 2027-01-15:7566.90
    """
    setup_ = _setup(app, company)
    found = find_customer(app, setup_, customer)
    if cancel_id is not None:
        with app.store().begin() as connection:
            if not dunning_store.cancel_payment_plan(connection, setup_.company_id, cancel_id):
                raise click.UsageError(f"no payment plan {cancel_id}")
        _say(
            app,
            f"payment plan {dunning_store.plan_label(cancel_id)} cancelled: its invoices are dunned again",
        )
        return
    covered = find_invoices(app, setup_, found, invoices) if invoices else _open_invoices(app, setup_, found)
    outstanding = _outstanding(covered)
    if instalments and count:
        raise click.UsageError("give either --instalment or --count, not both")
    if count:
        if first is None:
            raise click.UsageError("--count needs --first (due date of the first instalment)")
        from dateutil.relativedelta import relativedelta

        share = quantize_amount(outstanding.amount / count, outstanding.currency)
        amounts = [share] * (count - 1) + [outstanding.amount - share * (count - 1)]
        schedule = [
            (first.date() + relativedelta(months=index), amount) for index, amount in enumerate(amounts)
        ]
    elif instalments:
        schedule = [_parse_instalment(text) for text in instalments]
    else:
        raise click.UsageError(
            "give the instalments (--instalment DATE:AMOUNT ...) or --count N --first DATE"
        )
    with app.store().begin() as connection:
        plan_id = dunning_store.add_payment_plan(
            connection, setup_.company_id, customer_id=found.external_id,
            invoice_ids=[i.external_id for i in covered], outstanding=outstanding, agreed_on=_day(as_of),
            instalments=schedule, note=note,
        )  # fmt: skip
    _say(
        app,
        f"payment plan {dunning_store.plan_label(plan_id)} for {found.name}: "
        + ", ".join(f"{day.isoformat()} {amount} {outstanding.currency}" for day, amount in sorted(schedule)),
    )


@dunning.command("tasks")
@click.option("--all", "show_all", is_flag=True, help="Include tasks already done.")
@click.option("--customer", help="Only this customer.")
@company_option
@json_option
@pass_app
def tasks_cmd(app: AppContext, show_all: bool, customer: str | None, company: str | None) -> None:
    """Tasks for people: calls, letters to post, claims to declare, prescriptions, escalations.

    \b
    Example:
      erp-recovery dunning tasks
    """
    setup_ = _setup(app, company)
    customer_id = find_customer(app, setup_, customer).external_id if customer else None
    with app.store().connect() as connection:
        rows = dunning_store.actions_of(connection, setup_.company_id, customer_id, tasks_only=True)
    rows = [r for r in rows if show_all or r.status == "open"]
    if app.as_json:
        app.emit_json([{"id": r.id, "kind": r.task_kind, "customer": r.customer_id, "due_on": r.due_on, "title": r.subject,
                        "detail": r.detail, "status": r.status} for r in rows])  # fmt: skip
        return
    app.table(
        None,
        ["id", "due", "kind", "customer", "task", "status"],
        [
            [r.id, r.due_on, r.task_kind, r.customer_id, f"{r.subject}\n{r.detail or ''}".strip(), r.status]
            for r in rows
        ],
    )


@dunning.command("done")
@click.argument("task_id", type=int)
@click.option("--note", default="", help="What was done (a registered letter's tracking number...).")
@company_option
@pass_app
def done_cmd(app: AppContext, task_id: int, note: str, company: str | None) -> None:
    """Mark a task done (the note is kept: e.g. the registered letter's tracking number).

    \b
    Example:
      erp-recovery dunning done 42 --note "LRAR 1A 234 567 8901 2"
    """
    setup_ = _setup(app, company)
    with app.store().begin() as connection:
        if not dunning_store.set_task_status(
            connection, setup_.company_id, task_id, "done", note=note or None
        ):
            raise click.UsageError(f"no task {task_id} (see 'erp-recovery dunning tasks')")
    _say(app, f"task {task_id} done")


@dunning.command("dossier")
@click.argument("customer")
@click.option(
    "--agency", is_flag=True, help="Collection agency hand-over (CSV + PDFs) instead of injonction de payer."
)
@click.option(
    "--out", "out_dir", type=click.Path(file_okay=False), help="Folder (default: the outbox's escalations)."
)
@company_option
@as_of_option
@pass_app
def dossier_cmd(app: AppContext, customer: str, agency: bool, out_dir: str | None, company: str | None,
                as_of: dt.datetime | None) -> None:  # fmt: skip
    """Export the escalation dossier of a customer's open invoices (JSON + PDF, or CSV for an agency).

    \b
    Example:
      erp-recovery dunning dossier C012 --out dossiers/
    """
    from erp_recovery.dunning_ops.escalation import dossier_data, sent_history, write_dossier

    setup_ = _setup(app, company)
    found = find_customer(app, setup_, customer)
    day = _day(as_of)
    prepared = service.prepare(app.store(), app.config, setup_, day)
    statement = customer_statement(prepared.data, found.external_id, day)
    with app.store().connect() as connection:
        sent = sent_history(connection, setup_, statement)
    route = "collection_agency" if agency else "injonction_de_payer"
    data = dossier_data(setup_, statement, day, sent, route=route)
    folder = (
        Path(out_dir) / f"{found.external_id}-{day.isoformat()}"
        if out_dir
        else setup_.outbox / setup_.company.code / "escalations" / f"{found.external_id}-{day.isoformat()}"
    )
    written = write_dossier(setup_, statement, data, folder)
    _say(app, f"{route} dossier for {found.name}: " + ", ".join(str(p) for p in written.files))


@dunning.command("preview")
@click.argument("customer")
@click.option("--level", help="Level code (default: the customer's highest level reached, else the first).")
@click.option(
    "--out", "out_file", type=click.Path(dir_okay=False), required=True, help="PDF (or .html) file to write."
)
@click.option(
    "--channel",
    type=click.Choice(["letter", "registered_letter", "email"]),
    default="letter",
    show_default=True,
)
@company_option
@as_of_option
@pass_app
def preview_cmd(app: AppContext, customer: str, level: str | None, out_file: str, channel: str, company: str | None,
                as_of: dt.datetime | None) -> None:  # fmt: skip
    """Render the letter a customer would get at a level, with all its open invoices. Sends nothing.

    \b
    Example:
      erp-recovery dunning preview C012 --level formal_notice --out mise-en-demeure.pdf
    """
    setup_ = _setup(app, company)
    found = find_customer(app, setup_, customer)
    day = _day(as_of)
    prepared = service.prepare(app.store(), app.config, setup_, day)
    statement = customer_statement(prepared.data, found.external_id, day, level)
    if statement.level.kind == "escalation":
        raise click.UsageError("an escalation level has no letter: use 'erp-recovery dunning dossier'")
    html, _ = setup_.renderer.letter_html(
        statement, setup_.company, channel=channel, policies=setup_.policies
    )
    path = Path(out_file)
    if path.suffix.lower() in (".html", ".htm"):
        path.write_text(html, encoding="utf-8")
    else:
        path.write_bytes(html_to_pdf(html))
    _say(app, f"{statement.level.label} for {found.name} written to {path}")


@dunning.command("templates")
@click.option(
    "--export",
    "export_dir",
    type=click.Path(file_okay=False),
    required=True,
    help="Empty folder to copy them into.",
)
@pass_app
def templates_cmd(app: AppContext, export_dir: str) -> None:
    """Copy the shipped letter templates to edit them; then set [dunning] templates_dir.

    \b
    Example:
      erp-recovery dunning templates --export letters/
    """
    written = export_templates(Path(export_dir))
    _say(
        app,
        f'{len(written)} template(s) copied to {export_dir}; set [dunning] templates_dir = "{export_dir}"',
    )


@dunning.command("policies")
@click.option(
    "--export",
    "export_file",
    type=click.Path(dir_okay=False),
    help="Write the shipped policy file here to edit it.",
)
@company_option
@json_option
@pass_app
def policies_cmd(app: AppContext, export_file: str | None, company: str | None) -> None:
    """Show the dunning policies in use (levels, channels, offsets) and the rules choosing them.

    \b
    Example:
      erp-recovery dunning policies
      erp-recovery dunning policies --export dunning-policies.toml
    """
    if export_file:
        path = Path(export_file)
        if path.exists():
            raise click.UsageError(f"{path} already exists")
        path.write_text(shipped_policies_text(), encoding="utf-8")
        _say(app, f'policies written to {path}; set [dunning] policies_file = "{path}"')
        return
    try:
        config = app.config
    except ConfigError:
        config = app.config_or_empty()
    from erp_recovery.dunning_ops.settings import DunningSettings
    from erp_recovery.engines.dunning import load_policies

    settings = config.section("dunning", DunningSettings)
    policies = load_policies(settings.path(settings.policies_file, config.base_dir))
    if app.as_json:
        app.emit_json(policies.model_dump(mode="json"))
        return
    _say(app, f"Policies from {policies.origin}; default {policies.default}")
    for index, rule in enumerate(policies.rules, start=1):
        _say(app, f"rule {index}: {rule.describe()} → {rule.policy}")
    for code, policy in policies.policies.items():
        app.table(
            f"{code}: {policy.label}",
            ["level", "label", "kind", "day", "channels", "min amount", "after previous", "deadline", "enabled"],
            [[lv.code, lv.label, lv.kind, f"D{lv.offset_days:+d}", ", ".join(lv.channels), lv.min_amount,
              lv.min_days_after_previous, lv.deadline_days or "", "yes" if lv.enabled else "no"] for lv in policy.levels],
        )  # fmt: skip


def register(group: click.Group) -> None:
    group.add_command(dunning)
