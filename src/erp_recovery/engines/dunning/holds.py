"""What stops or pauses dunning, as the engine receives it: pauses, promises to pay, payment plans.

Every hold is visible and has an end, a date or a stated condition:

- :class:`Pause` ``dispute`` (one invoice, or the whole customer) and ``hold`` (a person's pause):
  until a review date; ``excluded`` (a person took the customer out of dunning): until lifted;
  ``insolvency`` (collective proceedings, BODACC): everything stops until the proceedings end,
  and the claim must be declared to the mandataire within two months of the publication
  (C. com. L622-21, L622-24, R622-24; legal-rules.md FR-K1, FR-K2).
- :class:`PromiseToPay`: the invoices it covers wait until the promised date plus the policy's
  grace days; a promise not kept by then is *broken* and its invoices go to their next level at once.
- :class:`PaymentPlan` (échéancier): the invoices it covers wait while the plan runs; each
  :class:`Instalment` is dunned on its own when late. Money received on the covered invoices pays
  the instalments in order.

Pending bank payments (a credit the matcher suggested but nobody confirmed), factored invoices,
invoices disputed in the ERP and customers marked "hors relance" in the ERP come from the data
itself; the engine turns them into holds too.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

from dateutil.relativedelta import relativedelta

from erp_recovery.model.money import Money

PauseKind = Literal["dispute", "hold", "excluded", "insolvency"]
PAUSE_KINDS: tuple[PauseKind, ...] = ("dispute", "hold", "excluded", "insolvency")

#: Why an open item is not dunned: the hold kinds the plan reports.
HoldKind = Literal[
    "dispute",
    "hold",
    "excluded",
    "insolvency",
    "promise",
    "payment_plan",
    "pending_payment",
    "factored",
    "time_barred",
    "covered_by_credit",
]


@dataclass(frozen=True)
class Pause:
    """A pause recorded by a person (or read from the ERP, or from BODACC)."""

    id: str
    customer_id: str
    kind: PauseKind
    start: dt.date
    #: Last day of the pause (inclusive); ``None`` = until a person resumes it (excluded, insolvency).
    until: dt.date | None = None
    #: The invoice it concerns (external id); ``None`` = every invoice of the customer.
    invoice_id: str | None = None
    reason: str = ""
    #: Insolvency: date of the BODACC publication of the opening judgment.
    published_on: dt.date | None = None
    #: Who recorded it: ``person``, ``erp`` or ``bodacc``.
    origin: str = "person"

    def active_on(self, day: dt.date) -> bool:
        return self.start <= day and (self.until is None or day <= self.until)

    def claim_deadline(self, creditor_abroad: bool = False) -> dt.date | None:
        """Insolvency: last day to declare the claim (2 months from publication, 4 from abroad)."""
        if self.published_on is None:
            return None
        return self.published_on + relativedelta(months=4 if creditor_abroad else 2)


PromiseStatus = Literal["open", "kept", "broken"]


@dataclass(frozen=True)
class PromiseToPay:
    id: str
    customer_id: str
    #: The day by which the customer promised to pay.
    promised_on: dt.date
    amount: Money
    invoice_ids: tuple[str, ...]
    made_on: dt.date
    #: Outstanding on the covered invoices when the promise was recorded (payments since count).
    outstanding_at_promise: Money
    note: str = ""

    def broken_on(self, grace_days: int) -> dt.date:
        """First day the promise counts as broken if it was not kept."""
        return self.promised_on + dt.timedelta(days=grace_days + 1)

    def status(self, as_of: dt.date, outstanding_now: Money, grace_days: int) -> PromiseStatus:
        paid = self.outstanding_at_promise.amount - outstanding_now.amount
        if outstanding_now.amount <= 0 or paid >= self.amount.amount:
            return "kept"
        return "broken" if as_of >= self.broken_on(grace_days) else "open"


@dataclass(frozen=True)
class Instalment:
    seq: int
    due_date: dt.date
    amount: Money


@dataclass(frozen=True)
class PaymentPlan:
    id: str
    customer_id: str
    invoice_ids: tuple[str, ...]
    agreed_on: dt.date
    outstanding_at_start: Money
    instalments: tuple[Instalment, ...]
    note: str = ""
    active: bool = True

    @property
    def last_due(self) -> dt.date:
        return max(instalment.due_date for instalment in self.instalments)

    def instalment_outstanding(self, outstanding_now: Money) -> list[tuple[Instalment, Money]]:
        """Each instalment with what remains due on it: money received pays them in order."""
        paid = max(Decimal(0), self.outstanding_at_start.amount - outstanding_now.amount)
        result = []
        for instalment in sorted(self.instalments, key=lambda i: i.seq):
            covered = min(paid, instalment.amount.amount)
            paid -= covered
            result.append(
                (
                    instalment,
                    Money(amount=instalment.amount.amount - covered, currency=instalment.amount.currency),
                )
            )
        return result
