"""Simulation of a French SME's receivables: customers, invoices, credit notes, payments.

A company invoices its customers over ``months`` months up to the fiscal year end (the *cut-off*);
everything paid up to the cut-off is in the books (the FEC, with lettrage); what is paid in the
``weeks`` weeks after it arrives on the bank statements (camt.053), with the noise real remittances
carry — that is what the matcher must match, and the ground truth says how.

Customers have one payment behaviour each (shares by default):

- ``on_time`` (30 %): pays around the due date;
- ``late`` (17 %): 5 to 25 days late;
- ``chronically_late`` (11 %): 30 to 75 days late;
- ``partial`` (6 %): pays half of its invoices in two or three instalments;
- ``grouped`` (11 %): one transfer a month for everything due;
- ``disputing`` (8 %): disputes a third of its invoices; half end in a credit note netted in the
  next payment, half stay unpaid;
- ``deteriorating`` (9 %): on time at first, later and later;
- ``defaulting`` (8 %): later and later, then from a default date nothing more.

Some customers are subsidiaries of a group whose parent company pays for them; some pay by SEPA
direct debit (we collect: one batch entry per collection day, end-to-end id = invoice number).
Customers pay invoices of identical amounts in due order, as French law assumes when a payment
names none of them (Code civil art. 1342-10).
"""

from __future__ import annotations

import datetime as dt
import math
import random
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from schwifty import IBAN
from stdnum.iso7064 import mod_97_10

from .names import GROUP_WORDS, SURNAMES, bank_name, company_name

CENT = Decimal("0.01")
BEHAVIOURS: tuple[tuple[str, float], ...] = (
    ("on_time", 0.30),
    ("late", 0.17),
    ("chronically_late", 0.11),
    ("partial", 0.06),
    ("grouped", 0.11),
    ("disputing", 0.08),
    ("deteriorating", 0.09),
    ("defaulting", 0.08),
)
REFERENCE_STYLES: tuple[tuple[str, float], ...] = (
    ("exact", 0.40),
    ("format", 0.20),
    ("none", 0.18),
    ("po", 0.10),
    ("rfrddocinf", 0.07),
    ("rf", 0.05),
)


def money(cents: int) -> Decimal:
    return (Decimal(cents) / 100).quantize(CENT)


def iban_for(bank_code: str, number: int) -> str:
    """A valid French IBAN (RIB key and ISO 13616 check digits) for an account number."""
    return str(IBAN.generate("FR", bank_code=bank_code, account_code=f"{number:011d}").compact)


def rf_reference(number: str) -> str:
    """ISO 11649 creditor reference built from an invoice number (RF + check digits + number)."""
    body = "".join(char for char in number.upper() if char.isalnum())
    return f"RF{mod_97_10.calc_check_digits(body + 'RF')}{body}"


@dataclass
class Party:
    """A customer in the books, with how it pays and how its bank shows it."""

    code: str
    name: str
    behaviour: str
    iban: str
    bank_name: str
    name_kinds: list[str]
    reference_style: str
    format_style: int
    terms_days: int
    direct_debit: bool
    subscription_cents: int | None
    invoices_per_month: float
    median_cents: int
    parent: str | None = None
    is_parent: bool = False
    default_on: dt.date | None = None
    lateness_start: int = 0
    lateness_end: int = 0


@dataclass
class Document:
    """An invoice or a credit note, with what was paid on it."""

    number: str
    customer: str
    kind: str
    issue: dt.date
    due: dt.date
    untaxed_cents: int
    total_cents: int
    purchase_order: str | None = None
    disputed: bool = False
    settles: str | None = None
    paid_cents: int = 0
    letter: str | None = None

    @property
    def open_cents(self) -> int:
        return self.total_cents - self.paid_cents


@dataclass
class PaymentEvent:
    """Money a payer sends for documents (credit notes netted), before bank noise."""

    date: dt.date
    payer: str
    allocations: list[tuple[Document, int]]
    method: str = "transfer"
    kinds: list[str] = field(default_factory=list)

    @property
    def cents(self) -> int:
        return sum(cents if doc.kind == "invoice" else -cents for doc, cents in self.allocations)


@dataclass
class World:
    company_name: str
    siren: str
    account_iban: str
    savings_iban: str
    cutoff: dt.date
    end: dt.date
    parties: dict[str, Party]
    documents: list[Document]
    payments: list[PaymentEvent]


def _pick(rng: random.Random, table: tuple[tuple[str, float], ...]) -> str:
    roll = rng.random()
    for name, share in table:
        roll -= share
        if roll < 0:
            return name
    return table[-1][0]


def _lateness(party: Party, due: dt.date, start: dt.date, end: dt.date, rng: random.Random) -> int:
    behaviour = party.behaviour
    if behaviour == "on_time":
        return rng.randint(-4, 4)
    if behaviour == "late" or behaviour == "partial":
        return rng.randint(5, 25)
    if behaviour == "chronically_late":
        return rng.randint(30, 75)
    if behaviour in ("deteriorating", "defaulting"):
        share = max(0.0, min(1.0, (due - start).days / max(1, (end - start).days)))
        centre = party.lateness_start + (party.lateness_end - party.lateness_start) * share
        return max(-3, int(rng.gauss(centre, 6)))
    return rng.randint(0, 10)


def _pay_identical_invoices_in_order(payments: list[PaymentEvent]) -> None:
    """A customer paying several invoices of the same amount one by one pays them in due order.

    That is what customers do (the oldest reminder first), and, for those who name no invoice, what
    the law says the creditor must assume (Code civil art. 1342-10: without indication, a payment
    goes to the debt due first among equal ones). The remittance texts are written afterwards from
    these allocations, so references stay consistent. A payment never goes to an invoice not yet
    issued on its date.
    """
    groups: dict[tuple[str, int], list[PaymentEvent]] = {}
    for event in payments:
        if len(event.allocations) != 1 or event.method != "transfer" or event.kinds:
            continue
        doc, cents = event.allocations[0]
        if doc.kind != "invoice" or cents != doc.total_cents:
            continue
        groups.setdefault((doc.customer, cents), []).append(event)
    for events in groups.values():
        if len(events) < 2:
            continue
        events.sort(key=lambda event: (event.date, event.allocations[0][0].number))
        documents = sorted(
            (event.allocations[0][0] for event in events), key=lambda doc: (doc.due, doc.issue, doc.number)
        )
        if all(doc.issue < event.date for doc, event in zip(documents, events, strict=True)):
            for doc, event in zip(documents, events, strict=True):
                event.allocations = [(doc, doc.total_cents)]


def build_world(
    seed: int = 1,
    *,
    customers: int = 500,
    months: int = 12,
    weeks: int = 6,
    fiscal_year: int = 2024,
) -> World:
    """Simulate the receivables; deterministic for a given seed and sizes."""
    rng = random.Random(seed)
    cutoff = dt.date(fiscal_year, 12, 31)
    start = dt.date(fiscal_year, 12 - months + 1, 1) if months <= 12 else dt.date(fiscal_year, 1, 1)
    end = cutoff + dt.timedelta(weeks=weeks)
    taken: set[str] = set()
    parties: dict[str, Party] = {}

    def new_party(code: str, name: str, parent: str | None = None) -> Party:
        behaviour = _pick(rng, BEHAVIOURS)
        shown, kinds = bank_name(rng, name)
        style = _pick(rng, REFERENCE_STYLES)
        subscription = rng.random() < 0.25
        median = int(math.exp(rng.gauss(math.log(1100), 0.8)) * 100)
        party = Party(
            code=code,
            name=name,
            behaviour=behaviour,
            iban=iban_for("30004", 10_000 + len(parties)),
            bank_name=shown,
            name_kinds=kinds,
            reference_style=style,
            format_style=rng.randrange(6),
            terms_days=rng.choice((30, 30, 45, 60)),
            direct_debit=behaviour in ("on_time", "late", "deteriorating") and rng.random() < 0.15,
            subscription_cents=median if subscription else None,
            invoices_per_month=rng.choice((0.5, 1, 1, 2, 3, 4)),
            median_cents=median,
            parent=parent,
        )
        if behaviour == "deteriorating":
            party.lateness_start, party.lateness_end = rng.randint(-2, 5), rng.randint(45, 90)
        elif behaviour == "defaulting":
            party.lateness_start, party.lateness_end = rng.randint(5, 20), rng.randint(40, 80)
            party.default_on = cutoff + dt.timedelta(days=rng.randint(-75, 20))
        parties[code] = party
        return party

    count = 0
    while count < customers:
        if rng.random() < 0.04 and customers - count >= 4:
            word = rng.choice(GROUP_WORDS)
            base = f"Groupe {word} {rng.choice(SURNAMES)}"
            parent_name = f"{base} {rng.choice(('SA', 'SAS'))}"
            if f"base:{base}" in taken:
                continue
            taken.add(parent_name)
            taken.add(f"base:{base}")
            parent = new_party(f"C{count + 1:05d}", parent_name)
            parent.is_parent = True
            parent.invoices_per_month = 0.3
            count += 1
            for _ in range(rng.randint(2, 3)):
                city = rng.choice(("Lyon", "Nantes", "Lille", "Rennes", "Bordeaux", "Toulouse", "Metz"))
                child_name = f"{base.removeprefix('Groupe ')} {city} SAS"
                if child_name in taken:
                    continue
                taken.add(child_name)
                new_party(f"C{count + 1:05d}", child_name, parent=parent.code)
                count += 1
        else:
            new_party(f"C{count + 1:05d}", company_name(rng, taken))
            count += 1

    # invoices, from the start to the end of the statements
    documents: list[Document] = []
    for party in parties.values():
        day = start + dt.timedelta(days=rng.randint(0, 20))
        while day <= end:
            gap = max(1, int(rng.expovariate(party.invoices_per_month / 30)))
            if party.subscription_cents:
                day = day.replace(day=min(day.day, 28))
                cents = party.subscription_cents
            else:
                cents = max(4000, int(math.exp(rng.gauss(math.log(party.median_cents), 0.6))))
            total = int((Decimal(cents) * Decimal("1.2")).quantize(Decimal(1), rounding=ROUND_HALF_UP))
            documents.append(
                Document(
                    number="",
                    customer=party.code,
                    kind="invoice",
                    issue=day,
                    due=day + dt.timedelta(days=party.terms_days),
                    untaxed_cents=cents,
                    total_cents=total,
                    purchase_order=f"{rng.choice(('PO', 'CDE', 'BC'))}-{rng.randint(100000, 4599999)}",
                )
            )
            day = day + dt.timedelta(days=30 if party.subscription_cents else gap)
    documents.sort(key=lambda doc: (doc.issue, doc.customer))
    sequence: dict[int, int] = {}
    for doc in documents:
        sequence[doc.issue.year] = sequence.get(doc.issue.year, 0) + 1
        doc.number = f"FA-{doc.issue.year}-{sequence[doc.issue.year]:05d}"

    # payments (and disputes, credit notes)
    payments: list[PaymentEvent] = []
    credit_sequence: dict[int, int] = {}
    by_customer: dict[str, list[Document]] = {}
    for doc in documents:
        by_customer.setdefault(doc.customer, []).append(doc)

    def pays(party: Party, day: dt.date) -> bool:
        return party.default_on is None or day < party.default_on

    for party in parties.values():
        docs = by_customer.get(party.code, [])
        if party.behaviour == "grouped":
            day = start + dt.timedelta(days=40)
            while day <= end:
                due_now = [doc for doc in docs if doc.due <= day and doc.open_cents > 0 and doc.issue < day]
                if due_now and pays(party, day):
                    payments.append(PaymentEvent(day, party.code, [(doc, doc.open_cents) for doc in due_now]))
                    for doc in due_now:
                        doc.paid_cents = doc.total_cents
                day = (day.replace(day=1) + dt.timedelta(days=32)).replace(day=rng.choice((5, 10, 10, 15)))
            continue
        for doc in docs:
            if party.behaviour == "disputing" and rng.random() < 0.33:
                doc.disputed = True
                if rng.random() < 0.5:
                    continue  # stays unpaid
                credit_day = doc.due + dt.timedelta(days=rng.randint(15, 45))
                share = rng.choice((Decimal("0.1"), Decimal("0.2"), Decimal("0.5")))
                untaxed = int(Decimal(doc.untaxed_cents) * share)
                total = int((Decimal(untaxed) * Decimal("1.2")).quantize(Decimal(1), rounding=ROUND_HALF_UP))
                credit_sequence[credit_day.year] = credit_sequence.get(credit_day.year, 0) + 1
                note = Document(
                    number=f"AV-{credit_day.year}-{credit_sequence[credit_day.year]:05d}",
                    customer=party.code,
                    kind="credit_note",
                    issue=credit_day,
                    due=credit_day,
                    untaxed_cents=untaxed,
                    total_cents=total,
                    settles=doc.number,
                )
                documents.append(note)
                pay_day = credit_day + dt.timedelta(days=rng.randint(5, 25))
                if pays(party, pay_day):
                    payments.append(
                        PaymentEvent(
                            pay_day,
                            party.code,
                            [(doc, doc.total_cents), (note, note.total_cents)],
                            kinds=["credit_note_netted"],
                        )
                    )
                    doc.paid_cents = doc.total_cents
                    note.paid_cents = note.total_cents
                continue
            if party.direct_debit:
                if pays(party, doc.due):
                    payments.append(
                        PaymentEvent(doc.due, party.code, [(doc, doc.total_cents)], method="direct_debit")
                    )
                    doc.paid_cents = doc.total_cents
                continue
            day = doc.due + dt.timedelta(days=_lateness(party, doc.due, start, end, rng))
            day = max(day, doc.issue + dt.timedelta(days=1))
            if party.behaviour == "partial" and doc.total_cents > 30000 and rng.random() < 0.5:
                parts = rng.choice((2, 3))
                base = doc.total_cents // parts
                amounts = [base] * (parts - 1) + [doc.total_cents - base * (parts - 1)]
                for index, cents in enumerate(amounts):
                    when = day + dt.timedelta(days=index * rng.randint(20, 35))
                    if not pays(party, when):
                        break
                    payments.append(
                        PaymentEvent(when, party.code, [(doc, cents)], kinds=["partial"] if parts > 1 else [])
                    )
                    doc.paid_cents += cents
                continue
            if pays(party, day):
                payments.append(PaymentEvent(day, party.code, [(doc, doc.total_cents)]))
                doc.paid_cents = doc.total_cents

    _pay_identical_invoices_in_order(payments)
    # parents pay for their subsidiaries (often), grouping what falls on the same week
    for event in payments:
        party = parties[event.payer]
        if party.parent and event.method == "transfer" and rng.random() < 0.6:
            event.payer = party.parent
            event.kinds.append("parent_payer")
    documents.sort(key=lambda doc: (doc.issue, doc.number))
    payments.sort(key=lambda event: (event.date, event.payer, event.allocations[0][0].number))
    for doc in documents:
        doc.paid_cents = 0  # recomputed from the payments by whoever reads the world at a date
    return World(
        company_name="Atelier Durand Équipements SAS",
        siren="732829320",
        account_iban=iban_for("30004", 1),
        savings_iban=iban_for("30004", 2),
        cutoff=cutoff,
        end=end,
        parties=parties,
        documents=documents,
        payments=payments,
    )
