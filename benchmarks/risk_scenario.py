"""Generator of French SME receivables whose customers' later behaviour is known (risk benchmark).

Each customer gets a behaviour, a relationship start, an invoicing rhythm, payment terms and a
credit limit; invoices are simulated from the start of the relationship to six months after the
observation date ``as_of``, with their payments. What the risk engine sees is the state at
``as_of`` (invoices issued, payments booked up to that day); what happened after is the truth the
benchmark scores against.

Behaviours (shares of the population by default):

- ``prompt`` (35 %): pays around the due date.
- ``slow`` (22 %): pays 10-30 days late, steadily.
- ``erratic`` (10 %): usually on time, sometimes very late, at random.
- ``chronic`` (11 %): pays 35-75 days late, steadily.
- ``deteriorating`` (12 %): was prompt; lateness climbs from a turning point a few months before
  ``as_of`` and keeps climbing.
- ``defaulter`` (10 %): lateness climbs, payments come in instalments or bounce, disputes appear,
  then from a default date near ``as_of`` nothing more is paid; some are published in BODACC.

Every customer can also hit an unforeseeable liquidity shock after ``as_of`` (3 %), so the
benchmark is not trivially separable.

Outcome (label = 1): in the six months after ``as_of``, the customer leaves an invoice unpaid more
than 90 days past its due date, or pays one more than 60 days late.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field
from decimal import Decimal

from dateutil.relativedelta import relativedelta

from erp_recovery.engines.signals import CollectiveProceeding, CompanySignals, CompanyStatus
from erp_recovery.model import Allocation, BankTransaction, Customer, Invoice, Money, PaymentTerms

BEHAVIOURS = (
    ("prompt", 0.35),
    ("slow", 0.22),
    ("erratic", 0.10),
    ("chronic", 0.11),
    ("deteriorating", 0.12),
    ("defaulter", 0.10),
)
CENT = Decimal("0.01")


def eur(value: Decimal) -> Money:
    return Money(amount=value.quantize(CENT), currency="EUR")


@dataclass
class SimInvoice:
    customer_id: str
    number: str
    issue: dt.date
    due: dt.date
    total: Decimal
    payments: list[tuple[dt.date, Decimal]] = field(default_factory=list)
    disputed: bool = False

    def paid_by(self, day: dt.date) -> Decimal:
        return sum((amount for date, amount in self.payments if date <= day), Decimal(0))

    def fully_paid_on(self) -> dt.date | None:
        running = Decimal(0)
        for date, amount in sorted(self.payments):
            running += amount
            if running >= self.total:
                return date
        return None


@dataclass
class SimCustomer:
    customer: Customer
    behaviour: str
    invoices: list[SimInvoice]
    returned: list[BankTransaction]
    signals: CompanySignals | None
    label: int
    peak_exposure_after: Decimal
    unpaid_after: Decimal


@dataclass
class Scenario:
    as_of: dt.date
    customers: list[SimCustomer]

    def visible_records(
        self,
    ) -> tuple[list[Customer], list[Invoice], list[Allocation], list[BankTransaction]]:
        """What the ERP and the bank show on ``as_of``."""
        customers, invoices, allocations, transactions = [], [], [], []
        for sim in self.customers:
            customers.append(sim.customer)
            transactions.extend(t for t in sim.returned if t.booking_date <= self.as_of)
            for item in sim.invoices:
                if item.issue > self.as_of:
                    continue
                paid = item.paid_by(self.as_of)
                residual = item.total - paid
                status = "paid" if residual <= 0 else ("partial" if paid > 0 else "open")
                invoices.append(
                    Invoice(
                        external_id=item.number,
                        number=item.number,
                        customer_id=item.customer_id,
                        issue_date=item.issue,
                        due_date=item.due,
                        currency="EUR",
                        total=eur(item.total),
                        residual=eur(max(residual, Decimal(0))),
                        status=status,
                        disputed=item.disputed,
                    )
                )
                for index, (date, amount) in enumerate(sorted(item.payments)):
                    if date <= self.as_of:
                        allocations.append(
                            Allocation(
                                external_id=f"{item.number}-{index}",
                                invoice_id=item.number,
                                payment_id=f"P-{item.number}-{index}",
                                amount=eur(amount),
                                date=date,
                            )
                        )
        return customers, invoices, allocations, transactions

    def signals(self) -> dict[str, CompanySignals]:
        return {s.customer.external_id: s.signals for s in self.customers if s.signals is not None}


def _pick(rng: random.Random) -> str:
    roll, cumulative = rng.random(), 0.0
    for name, share in BEHAVIOURS:
        cumulative += share
        if roll < cumulative:
            return name
    return BEHAVIOURS[-1][0]


def _siren(rng: random.Random) -> str:
    """A random SIREN with a valid Luhn check digit."""
    digits = [rng.randint(0, 9) for _ in range(8)]
    for check in range(10):
        candidate = [*digits, check]
        total = 0
        for index, digit in enumerate(reversed(candidate)):
            doubled = digit * 2 if index % 2 else digit
            total += doubled - 9 if doubled > 9 else doubled
        if total % 10 == 0:
            return "".join(map(str, candidate))
    raise AssertionError("unreachable")


def generate(seed: int = 7, customers: int = 400, as_of: dt.date = dt.date(2026, 6, 30)) -> Scenario:
    rng = random.Random(seed)
    horizon = as_of + relativedelta(months=6)
    sims: list[SimCustomer] = []
    counter = 0
    for index in range(customers):
        code = f"C{index:04d}"
        behaviour = _pick(rng)
        start = as_of - dt.timedelta(days=rng.randint(90, 1460))
        per_month = rng.choice((1, 1, 2, 2, 3, 4))
        mean_amount = Decimal(rng.choice((400, 900, 1800, 3500, 7000, 15000)))
        terms = rng.choice((30, 30, 45, 60))
        turning = as_of - dt.timedelta(days=rng.randint(30, 200))
        default_day = as_of + dt.timedelta(days=rng.randint(-60, 120))
        shock = rng.random() < 0.03
        shock_day = as_of + dt.timedelta(days=rng.randint(1, 150))
        invoices: list[SimInvoice] = []
        returned: list[BankTransaction] = []
        day = start
        while day <= horizon:
            for _ in range(per_month):
                issue = day + dt.timedelta(days=rng.randint(0, 27))
                if issue > horizon:
                    continue
                counter += 1
                total = (mean_amount * Decimal(str(round(rng.lognormvariate(0, 0.5), 3)))).quantize(CENT)
                item = SimInvoice(code, f"FA{counter:07d}", issue, issue + dt.timedelta(days=terms), total)
                _pay(rng, item, behaviour, turning, default_day, shock, shock_day)
                invoices.append(item)
            day += relativedelta(months=1)
        if behaviour in ("defaulter", "erratic"):
            for item in invoices:
                if item.payments and rng.random() < (0.08 if behaviour == "defaulter" else 0.02):
                    bounce_day = item.payments[0][0]
                    returned.append(
                        BankTransaction(
                            external_id=f"RJ-{item.number}",
                            account="FR7630006000011234567890189",
                            booking_date=bounce_day + dt.timedelta(days=3),
                            amount=eur(-item.payments[0][1]),
                            reversal=True,
                            return_reason="AM04",
                            counterparty_iban=None,
                        )
                    )
        monthly = mean_amount * per_month
        limit = None if rng.random() < 0.2 else eur(monthly * Decimal(rng.choice((1, 2, 2, 3))))
        siren = _siren(rng)
        customer = Customer(
            external_id=code,
            name=f"Client {code} SARL",
            siren=siren,
            payment_terms=PaymentTerms(days=terms),
            credit_limit=limit,
            created_on=start,
        )
        signals = _signals(rng, siren, behaviour, default_day, as_of, start)
        label, peak, unpaid = _outcome(invoices, as_of, horizon)
        sims.append(SimCustomer(customer, behaviour, invoices, returned, signals, label, peak, unpaid))
    return Scenario(as_of=as_of, customers=sims)


def _pay(
    rng: random.Random,
    item: SimInvoice,
    behaviour: str,
    turning: dt.date,
    default_day: dt.date,
    shock: bool,
    shock_day: dt.date,
) -> None:
    """Decide when (and whether) ``item`` is paid, from the customer's behaviour."""
    if behaviour == "prompt":
        late = rng.randint(-5, 6)
    elif behaviour == "slow":
        late = rng.randint(10, 30)
    elif behaviour == "erratic":
        late = rng.randint(50, 100) if rng.random() < 0.12 else rng.randint(-3, 10)
    elif behaviour == "chronic":
        late = rng.randint(35, 75)
    elif behaviour == "deteriorating":
        months_past = max(0, (item.due - turning).days) / 30
        late = rng.randint(-3, 8) + int(14 * months_past) + rng.randint(0, 10)
    else:  # defaulter
        months_to_default = (default_day - item.due).days / 30
        if item.issue >= default_day - dt.timedelta(days=45):
            if rng.random() < 0.2:
                item.payments.append(
                    (
                        item.due + dt.timedelta(days=rng.randint(20, 60)),
                        (item.total * Decimal("0.3")).quantize(CENT),
                    )
                )
            item.disputed = rng.random() < 0.25
            return
        late = rng.randint(0, 12) + (int(18 * (6 - months_to_default)) if months_to_default < 6 else 0)
        item.disputed = months_to_default < 5 and rng.random() < 0.15
        if months_to_default < 5 and rng.random() < 0.4:
            first = (item.total * Decimal(rng.choice(("0.3", "0.5")))).quantize(CENT)
            item.payments.append((item.due + dt.timedelta(days=max(0, late // 2)), first))
            item.payments.append((item.due + dt.timedelta(days=late), item.total - first))
            return
    pay_day = item.due + dt.timedelta(days=late)
    if shock and pay_day >= shock_day:
        pay_day = pay_day + dt.timedelta(days=rng.randint(70, 150))
    item.payments.append((pay_day, item.total))


def _signals(
    rng: random.Random, siren: str, behaviour: str, default_day: dt.date, as_of: dt.date, start: dt.date
) -> CompanySignals:
    created = start - dt.timedelta(days=rng.randint(60, 4000))
    status = CompanyStatus(siren=siren, name=None, state="A", created_on=created, category="PME")
    proceedings: tuple[CollectiveProceeding, ...] = ()
    if behaviour == "defaulter" and default_day <= as_of and rng.random() < 0.5:
        published = default_day + dt.timedelta(days=rng.randint(5, 40))
        if published <= as_of:
            proceedings = (
                CollectiveProceeding(
                    siren=siren,
                    announcement_id=f"A{siren}",
                    published_on=published,
                    judgment_date=published - dt.timedelta(days=8),
                    nature="Jugement d'ouverture d'une procédure de redressement judiciaire",
                    kind="redressement",
                ),
            )
    return CompanySignals(siren=siren, checked_on=as_of, status=status, proceedings=proceedings)


def _outcome(invoices: list[SimInvoice], as_of: dt.date, horizon: dt.date) -> tuple[int, Decimal, Decimal]:
    """(label, peak exposure after as_of, amount unpaid > 90 days past due at the horizon)."""
    label = 0
    unpaid = Decimal(0)
    for item in invoices:
        paid_on = item.fully_paid_on()
        if item.due > horizon:
            continue
        if paid_on is not None and paid_on > as_of and (paid_on - item.due).days > 60:
            label = 1
        if (paid_on is None or paid_on > horizon) and (horizon - item.due).days > 90:
            label = 1
            unpaid += item.total - item.paid_by(horizon)
    peak = Decimal(0)
    day = as_of
    while day <= horizon:
        exposure = sum((item.total - item.paid_by(day) for item in invoices if item.issue <= day), Decimal(0))
        peak = max(peak, exposure)
        day += dt.timedelta(days=15)
    return label, peak, unpaid
