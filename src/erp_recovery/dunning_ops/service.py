"""Dunning on a configured company: load from the store, plan, and run (render, send, record).

``prepare`` builds the engine's input from the store — records, what was already sent, pauses,
promises, payment plans, the latest risk grades, the matcher's pending payments and (optionally)
BODACC insolvency signals — and returns the day's plan. ``run_day`` carries it out:

1. each communication is rendered first (a template error records nothing), its PDFs written to
   the outbox, then recorded in one transaction with the levels its items reach and one action
   per delivery; a communication already recorded for that customer and day is skipped, so a
   second run the same day sends nothing;
2. tasks (phone calls, registered letters to post, claim declarations, prescription alerts,
   escalations) are recorded once each;
3. e-mails waiting for delivery — new ones, and earlier failures below ``max_attempts`` — are sent;
   one that reaches ``max_attempts`` is marked ``gave_up`` and a "send manually" task is created;
4. promises found kept or broken are recorded, and every customer's case (level reached, next
   action date) is saved for the write-back.

Days can be simulated (``as_of``): the trace keeps both the dunning day and the real time.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import re
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from erp_recovery.config import AppConfig
from erp_recovery.dunning_docs.context import communication_reference
from erp_recovery.dunning_docs.render import DocumentRenderer, html_to_pdf
from erp_recovery.dunning_ops.mailer import Attachment, OutgoingEmail, SmtpMailer
from erp_recovery.dunning_ops.settings import DunningSettings, SmtpSettings
from erp_recovery.engines.dunning import (
    DunningInput,
    DunningPlan,
    Pause,
    PlannedCommunication,
    PlannedTask,
    PolicySet,
    load_policies,
    plan_dunning,
)
from erp_recovery.engines.legal import JurisdictionProfile, RateTable, load_profile
from erp_recovery.engines.legal.settings import LegalSettings
from erp_recovery.errors import AuthenticationError, ConfigError
from erp_recovery.model.money import Money
from erp_recovery.model.records import Allocation, Company, Customer, Invoice, Payment
from erp_recovery.store import Store
from erp_recovery.store import dunning as dunning_store
from erp_recovery.store import runs as run_store
from erp_recovery.store.locks import named_lock
from erp_recovery.store.records import load_records
from erp_recovery.store.schema import bank_transactions

log = logging.getLogger(__name__)


@dataclass
class DunningSetup:
    """What every dunning operation on one company needs, read once from the configuration."""

    company: Company
    company_id: int
    settings: DunningSettings
    smtp: SmtpSettings
    policies: PolicySet
    profile: JurisdictionProfile
    rates: RateTable
    renderer: DocumentRenderer
    outbox: Path


def resolve_company(config: AppConfig, code: str | None) -> Company:
    if code is not None:
        return config.company(code)
    if len(config.companies) == 1:
        return config.companies[0]
    known = ", ".join(c.code for c in config.companies) or "none"
    raise ConfigError(
        f"several companies are configured ({known}): choose one with --company", key="--company"
    )


def setup(store: Store, config: AppConfig, company_code: str | None = None) -> DunningSetup:
    company = resolve_company(config, company_code)
    settings = config.section("dunning", DunningSettings)
    base = config.base_dir
    with store.begin() as connection:
        company_id = run_store.company_id(connection, company.code)
        if company_id is None:
            company_id = run_store.ensure_company(connection, company)
    legal = config.section("legal", LegalSettings)
    return DunningSetup(
        company=company,
        company_id=company_id,
        settings=settings,
        smtp=config.section("smtp", SmtpSettings),
        policies=load_policies(settings.path(settings.policies_file, base)),
        profile=load_profile(company.jurisdiction),
        rates=legal.rate_table(base),
        renderer=DocumentRenderer(settings.path(settings.templates_dir, base)),
        outbox=settings.path(settings.outbox_dir, base) or base / "dunning-outbox",
    )


# -- preparing the day's plan ---------------------------------------------------------------------


@dataclass
class Prepared:
    plan: DunningPlan
    data: DunningInput
    notes: list[str] = field(default_factory=list)


def _typed(records: list[Any], kind: type) -> list[Any]:
    return [record for record in records if isinstance(record, kind)]


def _latest_grades(connection: Any, company_id: int, as_of: dt.date) -> dict[str, str]:
    from erp_recovery.store.risk import risk_assessments

    latest = connection.execute(
        select(func.max(risk_assessments.c.as_of)).where(
            risk_assessments.c.company_id == company_id, risk_assessments.c.as_of <= as_of
        )
    ).scalar()
    if latest is None:
        return {}
    rows = connection.execute(
        select(risk_assessments.c.customer_id, risk_assessments.c.grade).where(
            risk_assessments.c.company_id == company_id, risk_assessments.c.as_of == latest
        )
    )
    return {row.customer_id: row.grade for row in rows}


def _matching(
    connection: Any, config: AppConfig, setup_: DunningSetup, invoices: list[Invoice]
) -> tuple[dict[str, Money], dict[str, str], str]:
    """Residuals after the matcher's applied allocations, invoices with a pending bank payment,
    and where they come from.

    The matcher's stored proposals (``erp-recovery match``, with people's review decisions) are
    used when there are any; otherwise the matcher runs in memory on the stored bank lines (with
    the stored decisions and payer memory) and nothing is saved.
    """
    from erp_recovery.engines.matching import MatchSettings, effective_residuals, pending_by_invoice
    from erp_recovery.store import matching as match_store

    proposals = match_store.stored_proposals(connection, setup_.company_id)
    origin = "the matcher's stored proposals"
    if not proposals:
        settings = config.section("matching", MatchSettings)
        run = match_store.run_matching(
            connection, setup_.company_id, setup_.company.code, settings, dry_run=True
        )
        proposals = list(run.result.proposals)
        origin = "the matcher run in memory; 'erp-recovery match' stores them for review"
    pending = {
        invoice_id: f"{item.amount} from bank line(s) {', '.join(item.bank_refs) or ', '.join(item.bank_transaction_ids)}"
        for invoice_id, item in pending_by_invoice(proposals).items()
    }
    return effective_residuals(invoices, proposals), pending, origin


def _insolvency_pauses(config: AppConfig, customers: list[Customer], notes: list[str]) -> list[Pause]:
    from erp_recovery.engines.signals.clients import SignalsService, SignalsSettings

    service = SignalsService(config.section("signals", SignalsSettings), base_dir=config.base_dir)
    sirens = {c.external_id: c.siren for c in customers if c.siren and not c.is_consumer}
    signals, problems = service.signals_for_customers(sirens)
    notes.extend(f"signals: {problem}" for problem in problems)
    pauses = []
    for customer_id, found in signals.items():
        proceeding = found.open_proceeding
        if proceeding is None:
            continue
        pauses.append(
            Pause(
                id=f"bodacc:{proceeding.announcement_id}",
                customer_id=customer_id,
                kind="insolvency",
                start=proceeding.published_on,
                published_on=proceeding.published_on,
                reason=f"{proceeding.nature}" + (f", {proceeding.court}" if proceeding.court else ""),
                origin="bodacc",
            )
        )
    return pauses


def prepare(
    store: Store,
    config: AppConfig,
    setup_: DunningSetup,
    as_of: dt.date,
    *,
    use_signals: bool | None = None,
    pending_invoice_ids: set[str] | None = None,
) -> Prepared:
    """The plan of ``as_of`` from the store (nothing is written)."""
    notes: list[str] = []
    with store.connect() as connection:
        company_id = setup_.company_id
        customers = _typed(load_records(connection, "customer", company_id=company_id), Customer)
        invoices = _typed(load_records(connection, "invoice", company_id=company_id), Invoice)
        allocations = _typed(load_records(connection, "allocation", company_id=company_id), Allocation)
        payments = _typed(load_records(connection, "payment", company_id=company_id), Payment)
        has_bank_lines = (
            connection.execute(
                select(bank_transactions.c.id).where(bank_transactions.c.company_id == company_id).limit(1)
            ).first()
            is not None
        )
        residuals: dict[str, Money] | None = None
        pending: dict[str, str] = {}
        if setup_.settings.use_matching and has_bank_lines:
            residuals, pending, origin = _matching(connection, config, setup_, invoices)
            if pending:
                notes.append(
                    f"{len(pending)} invoice(s) have a bank payment awaiting review ({origin}): not dunned"
                )
        history = dunning_store.load_history(connection, company_id)
        pauses = dunning_store.load_pauses(connection, company_id)
        promises, statuses = dunning_store.load_promises(connection, company_id)
        plans = dunning_store.load_payment_plans(connection, company_id)
        grades = _latest_grades(connection, company_id, as_of)
    for invoice_id in sorted(pending_invoice_ids or ()):
        pending.setdefault(invoice_id, "a bank payment awaits confirmation")
    if use_signals if use_signals is not None else setup_.settings.signals:
        pauses = [*pauses, *_insolvency_pauses(config, customers, notes)]
    data = DunningInput(
        company=setup_.company,
        customers=customers,
        invoices=invoices,
        profile=setup_.profile,
        rates=setup_.rates,
        policies=setup_.policies,
        allocations=allocations,
        payments=payments,
        history=history,
        pauses=pauses,
        promises=promises,
        promise_status=statuses,
        payment_plans=plans,
        residuals=residuals,
        pending_payments=pending,
        grades=grades,
    )
    plan = plan_dunning(data, as_of)
    plan.notes.extend(notes)
    return Prepared(plan=plan, data=data, notes=notes)


# -- running it -----------------------------------------------------------------------------------------


@dataclass
class RunReport:
    as_of: dt.date
    company: str
    communications: list[dict[str, Any]] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    deliveries: list[dict[str, Any]] = field(default_factory=list)
    tasks: list[dict[str, Any]] = field(default_factory=list)
    promise_updates: list[dict[str, Any]] = field(default_factory=list)
    cases: int = 0
    notes: list[str] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        statuses: dict[str, int] = {}
        for delivery in self.deliveries:
            statuses[delivery["status"]] = statuses.get(delivery["status"], 0) + 1
        return {
            "communications": len(self.communications),
            "skipped": len(self.skipped),
            "tasks": len(self.tasks),
            **{f"deliveries_{k}": v for k, v in sorted(statuses.items())},
        }


_LRAR = " by registered letter with acknowledgment of receipt"
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def _safe(name: str) -> str:
    return _UNSAFE.sub("_", name).strip("._") or "x"


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def email_hash(to: str, subject: str, text: str, attachment_hash: str | None) -> str:
    """Hash of what an e-mail says (recipient, subject, text, attachment), stable across retries."""
    body = json.dumps([to, subject, text, attachment_hash], ensure_ascii=False, separators=(",", ":"))
    return _sha256(body.encode("utf-8"))


def _customer_email(customer: Customer) -> str | None:
    if customer.email:
        return customer.email
    return next((contact.email for contact in customer.contacts if contact.email), None)


def communication_payload(communication: PlannedCommunication) -> dict[str, Any]:
    """What is kept with a communication: its items' figures, totals, reasons (JSON-ready)."""
    return {
        "policy": communication.policy,
        "policy_reason": communication.policy_reason,
        "reasons": list(communication.reasons),
        "notes": list(communication.notes),
        "items": [
            {
                "key": item.key,
                "kind": item.kind,
                "number": item.number,
                "issue_date": item.issue_date.isoformat(),
                "due_date": item.due_date.isoformat(),
                "currency": item.outstanding.currency,
                "total": format(item.total.amount, "f"),
                "outstanding": format(item.outstanding.amount, "f"),
                "days_late": item.days_late,
                "interest": format(item.interest.amount, "f") if item.interest else None,
                "fixed_fee": format(item.fixed_fee.amount, "f") if item.fixed_fee else None,
                "working": item.charges.working() if item.charges else None,
                "previous": [[code, day.isoformat()] for code, day in item.previous],
            }
            for item in communication.items
        ],
        "credits": [
            {"number": c.number, "currency": c.currency, "amount": format(c.residual.amount, "f")}
            for c in communication.credits
        ],
        "totals": [
            {
                "currency": t.currency,
                "principal": format(t.principal, "f"),
                "interest": format(t.interest, "f"),
                "fees": format(t.fees, "f"),
                "credits": format(t.credits, "f"),
                "total": format(t.total, "f"),
            }
            for t in communication.totals()
        ],
    }


def _task_values(
    setup_: DunningSetup, task: PlannedTask, day: dt.date, detail_extra: str = ""
) -> dict[str, Any]:
    return {
        "company_id": setup_.company_id,
        "customer_id": task.customer_id,
        "action_key": task.key[:160],
        "channel": "task",
        "task_kind": task.kind,
        "day": day,
        "due_on": task.due_on,
        "subject": task.title,
        "detail": (task.detail + (f"; {detail_extra}" if detail_extra else "")).strip("; "),
        "status": "open",
        "details": {"invoice_ids": list(task.invoice_ids)},
    }


class _DayRun:
    def __init__(
        self,
        store: Store,
        config: AppConfig,
        setup_: DunningSetup,
        as_of: dt.date,
        *,
        mailer: SmtpMailer | None,
        send: bool,
        use_signals: bool | None,
        pending_invoice_ids: set[str] | None,
    ) -> None:
        self.store = store
        self.config = config
        self.setup = setup_
        self.as_of = as_of
        self.mailer = mailer
        self.send = send
        self.prepared = prepare(
            store, config, setup_, as_of, use_signals=use_signals, pending_invoice_ids=pending_invoice_ids
        )
        self.report = RunReport(as_of=as_of, company=setup_.company.code, notes=list(self.prepared.notes))
        self.folder = setup_.outbox / _safe(setup_.company.code) / as_of.isoformat()
        #: Extra detail for the tasks of a communication (paths of the letters to post).
        self.task_details: dict[str, str] = {}

    def run(self) -> RunReport:
        plan = self.prepared.plan
        for communication in plan.communications:
            self.communication(communication)
        for task in plan.tasks:
            self.task(task)
        self.deliver()
        with self.store.begin() as connection:
            for update in plan.promise_updates:
                dunning_store.set_promise_status(connection, update.promise_id, update.status, update.on)
                self.report.promise_updates.append(
                    {"promise": update.promise_id, "customer": update.customer_id, "status": update.status,
                     "on": update.on, "explanation": update.explanation}
                )  # fmt: skip
            self.report.cases = dunning_store.save_cases(
                connection, self.setup.company_id, self.as_of, plan.standings
            )
        return self.report

    # -- communications ------------------------------------------------------------------------

    def communication(self, communication: PlannedCommunication) -> None:
        setup_ = self.setup
        customer = communication.customer
        with self.store.connect() as connection:
            if dunning_store.communication_exists(
                connection, setup_.company_id, customer.external_id, self.as_of
            ):
                self.report.skipped.append(
                    f"{customer.external_id}: already recorded for {self.as_of.isoformat()}"
                )
                return
        level = communication.level
        stem = f"{_safe(customer.external_id)}-{level.code}"
        self.folder.mkdir(parents=True, exist_ok=True)
        actions: list[dict[str, Any]] = []
        main_path: Path | None = None
        main_hash: str | None = None
        day = self.as_of.isoformat()
        base = {"company_id": setup_.company_id, "customer_id": customer.external_id, "day": self.as_of}
        for channel in ("registered_letter", "letter"):
            if channel not in communication.channels:
                continue
            letter = setup_.renderer.letter(
                communication, setup_.company, channel=channel, policies=setup_.policies
            )
            path = self.folder / f"{stem}.pdf"
            path.write_bytes(letter.pdf)
            main_path, main_hash = path, letter.content_hash
            recipient = " / ".join([customer.name, *(customer.address.lines() if customer.address else [])])
            actions.append(
                {**base, "action_key": f"{channel}:{customer.external_id}:{day}", "channel": channel,
                 "recipient": recipient[:255], "subject": letter.subject, "document_path": str(path),
                 "content_hash": letter.content_hash, "status": "written",
                 "detail": "PDF in the outbox, to post" + (_LRAR if channel == "registered_letter" else "")}
            )  # fmt: skip
            self.task_details[f"post:{customer.external_id}:{level.code}:{day}"] = f"PDF: {path}"
            break
        if "email" in communication.channels:
            email = setup_.renderer.email(communication, setup_.company, policies=setup_.policies)
            html, _subject = setup_.renderer.letter_html(
                communication, setup_.company, channel="email", policies=setup_.policies
            )
            pdf = html_to_pdf(html)
            path = self.folder / f"{stem}-email.pdf"
            path.write_bytes(pdf)
            if main_path is None:
                main_path, main_hash = path, _sha256(pdf)
            to = _customer_email(customer) or ""
            actions.append(
                {**base, "action_key": f"email:{customer.external_id}:{day}", "channel": "email", "recipient": to,
                 "subject": email.subject, "document_path": str(path),
                 "content_hash": email_hash(to, email.subject, email.text, _sha256(pdf)), "status": "pending",
                 "details": {"text": email.text, "attachment": str(path),
                             "attachment_name": f"{communication_reference(communication)}.pdf"}}
            )  # fmt: skip
        if "escalation" in communication.channels:
            from erp_recovery.dunning_ops.escalation import write_escalation

            with self.store.connect() as connection:
                written = write_escalation(connection, setup_, communication, self.as_of)
            main_path, main_hash = written.pdf, _sha256(written.pdf.read_bytes())
            actions.append(
                {**base, "action_key": f"dossier:{customer.external_id}:{day}", "channel": "dossier",
                 "recipient": written.route, "subject": f"{level.label}: dossier", "document_path": str(written.folder),
                 "content_hash": main_hash, "status": "written",
                 "detail": ", ".join(p.name for p in written.files)}
            )  # fmt: skip
            self.task_details[f"escalation:{customer.external_id}:{day}"] = f"dossier: {written.folder}"
        totals = communication.totals()
        first = totals[0] if totals else None
        values = {
            "company_id": setup_.company_id,
            "customer_id": customer.external_id,
            "day": self.as_of,
            "policy": communication.policy,
            "level": level.code,
            "level_index": communication.level_index,
            "level_label": level.label,
            "level_kind": level.kind,
            "channels": list(communication.channels),
            "language": communication.language,
            "deadline": communication.deadline,
            "reference": communication_reference(communication),
            "currency": first.currency if first else setup_.company.base_currency,
            "total": first.total if first else Decimal(0),
            "document_path": str(main_path) if main_path else None,
            "document_hash": main_hash,
            "payload": communication_payload(communication),
        }
        steps = [
            {"customer_id": customer.external_id, "item_key": item.key, "level": level.code,
             "level_index": communication.level_index, "sent_on": self.as_of, "deadline": communication.deadline}
            for item in communication.items
        ]  # fmt: skip
        try:
            with self.store.begin() as connection:
                communication_id = dunning_store.insert_communication(connection, values, steps)
                for action in actions:
                    dunning_store.insert_action(connection, {**action, "communication_id": communication_id})
        except IntegrityError:
            # Recorded meanwhile by another run (same customer and day, or an item's level).
            self.report.skipped.append(
                f"{customer.external_id}: recorded by another run for {self.as_of.isoformat()}"
            )
            return
        self.report.communications.append(
            {"customer": customer.external_id, "name": customer.name, "level": level.code, "label": level.label,
             "channels": list(communication.channels), "items": [item.number for item in communication.items],
             "deadline": communication.deadline, "document": str(main_path) if main_path else None,
             "reasons": list(communication.reasons)}
        )  # fmt: skip

    def task(self, task: PlannedTask) -> None:
        try:
            with self.store.begin() as connection:
                if dunning_store.action_by_key(connection, self.setup.company_id, task.key[:160]) is not None:
                    return
                dunning_store.insert_action(
                    connection,
                    _task_values(self.setup, task, self.as_of, self.task_details.get(task.key, "")),
                )
        except IntegrityError:
            return  # created meanwhile by another run
        self.report.tasks.append(
            {
                "key": task.key,
                "kind": task.kind,
                "customer": task.customer_id,
                "due_on": task.due_on,
                "title": task.title,
            }
        )

    # -- e-mail deliveries --------------------------------------------------------------------------

    def deliver(self) -> None:
        settings = self.setup.settings
        with self.store.connect() as connection:
            pending = dunning_store.retryable_deliveries(
                connection, self.setup.company_id, settings.max_attempts
            )
        if not pending:
            return
        if not self.send:
            self.report.notes.append(f"{len(pending)} e-mail(s) waiting: not sent (--no-send)")
            return
        if self.mailer is None:
            self.report.notes.append(
                f"{len(pending)} e-mail(s) waiting: no [smtp] server configured (their PDFs are in the outbox)"
            )
            return
        for row in pending:
            try:
                self.deliver_one(row)
            except AuthenticationError as exc:
                self.report.notes.append(f"e-mail sending stopped: {exc.message}")
                with self.store.begin() as connection:
                    dunning_store.update_action(
                        connection,
                        row.id,
                        status="failed",
                        attempts=int(row.attempts or 0) + 1,
                        last_error=exc.message,
                    )
                self.report.deliveries.append(
                    {"customer": row.customer_id, "to": row.recipient, "subject": row.subject, "status": "failed",
                     "attempts": int(row.attempts or 0) + 1, "detail": exc.message}
                )  # fmt: skip
                return

    def deliver_one(self, row: Any) -> None:
        assert self.mailer is not None
        settings = self.setup.settings
        details = dict(row.details or {})
        if not row.recipient:
            result_ok, attempts, detail, refused, message_id = (
                False,
                0,
                "no e-mail address for this customer",
                True,
                None,
            )
        else:
            attachment = Path(details["attachment"])
            result = self.mailer.send(
                OutgoingEmail(
                    to=row.recipient,
                    subject=row.subject,
                    text=details["text"],
                    attachments=(
                        Attachment(
                            details.get("attachment_name") or attachment.name, attachment.read_bytes()
                        ),
                    ),
                    key=row.action_key,
                )
            )
            result_ok, attempts, detail, refused, message_id = (
                result.ok, result.attempts, result.detail, result.refused, result.message_id
            )  # fmt: skip
        total = int(row.attempts or 0) + max(attempts, 1)
        if result_ok:
            status = "sent"
        elif total >= settings.max_attempts:
            status = "gave_up"
        else:
            status = "failed"
        history = [
            *details.get("attempts", []),
            {"at": dt.datetime.now(dt.UTC).isoformat(), "result": detail, "refused": refused},
        ]
        details["attempts"] = history
        if message_id:
            details["message_id"] = message_id
        with self.store.begin() as connection:
            dunning_store.update_action(
                connection,
                row.id,
                status=status,
                attempts=total,
                last_error=None if result_ok else detail,
                details=details,
                delivered_at=dt.datetime.now(dt.UTC) if result_ok else None,
            )
            if status == "gave_up":
                key = f"send-manually:{row.action_key}"[:160]
                if dunning_store.action_by_key(connection, self.setup.company_id, key) is None:
                    dunning_store.insert_action(
                        connection,
                        {"company_id": self.setup.company_id, "customer_id": row.customer_id, "action_key": key,
                         "channel": "task", "task_kind": "send_manually", "day": self.as_of, "due_on": self.as_of,
                         "subject": f"E-mail to {row.recipient or row.customer_id} failed {total} time(s): send it another way",
                         "detail": f"{detail}; PDF: {details.get('attachment')}", "status": "open"},
                    )  # fmt: skip
        self.report.deliveries.append(
            {"customer": row.customer_id, "to": row.recipient, "subject": row.subject, "status": status,
             "attempts": total, "detail": detail}
        )  # fmt: skip


def make_mailer(setup_: DunningSetup) -> SmtpMailer | None:
    if not setup_.smtp.configured:
        return None
    return SmtpMailer(
        setup_.smtp,
        attempts_per_run=setup_.settings.attempts_per_run,
        retry_wait_seconds=setup_.settings.retry_wait_seconds,
    )


def run_day(
    store: Store,
    config: AppConfig,
    setup_: DunningSetup,
    as_of: dt.date,
    *,
    mailer: SmtpMailer | None = None,
    send: bool = True,
    use_signals: bool | None = None,
    pending_invoice_ids: set[str] | None = None,
) -> RunReport:
    """Carry out the plan of ``as_of`` (see the module docstring); idempotent for a given day.

    One run at a time per company (a named lock; a second one fails with LockBusyError, waiting
    up to 30 s); should two runs still race, the unique keys make the second skip what the first
    recorded.
    """
    with named_lock(store, f"dunning:{setup_.company.code}", wait=30.0):
        return _DayRun(
            store,
            config,
            setup_,
            as_of,
            mailer=mailer,
            send=send,
            use_signals=use_signals,
            pending_invoice_ids=pending_invoice_ids,
        ).run()


def record_replay(store: Store, setup_: DunningSetup, communications: list[PlannedCommunication]) -> int:
    """Record replayed communications (the demo's in-memory history) as dunning history, without
    documents or deliveries; already-recorded customer days are left alone. Returns rows added."""
    added = 0
    with store.begin() as connection:
        for communication in communications:
            customer_id = communication.customer_id
            if dunning_store.communication_exists(
                connection, setup_.company_id, customer_id, communication.send_on
            ) or dunning_store.steps_exist(
                connection,
                setup_.company_id,
                [(item.key, communication.level.code) for item in communication.items],
            ):
                continue
            totals = communication.totals()
            payload = {**communication_payload(communication), "replayed": True}
            dunning_store.insert_communication(
                connection,
                {
                    "company_id": setup_.company_id,
                    "customer_id": customer_id,
                    "day": communication.send_on,
                    "policy": communication.policy,
                    "level": communication.level.code,
                    "level_index": communication.level_index,
                    "level_label": communication.level.label,
                    "level_kind": communication.level.kind,
                    "channels": list(communication.channels),
                    "language": communication.language,
                    "deadline": communication.deadline,
                    "reference": communication_reference(communication),
                    "currency": totals[0].currency if totals else setup_.company.base_currency,
                    "total": totals[0].total if totals else Decimal(0),
                    "document_path": None,
                    "document_hash": None,
                    "payload": payload,
                },
                [
                    {"customer_id": customer_id, "item_key": item.key, "level": communication.level.code,
                     "level_index": communication.level_index, "sent_on": communication.send_on,
                     "deadline": communication.deadline}
                    for item in communication.items
                ],
            )  # fmt: skip
            added += 1
    return added


def save_standings(store: Store, setup_: DunningSetup, plan: DunningPlan) -> int:
    with store.begin() as connection:
        return dunning_store.save_cases(connection, setup_.company_id, plan.as_of, plan.standings)
