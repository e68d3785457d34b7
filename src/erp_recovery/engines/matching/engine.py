"""The matching engine: bank credits in, one proposal per bank transaction out.

:func:`match` is pure: the same input always gives the same proposals, whatever the order of the
input (everything is sorted by date and id first), so running it twice changes nothing.

A run goes:

1. Classify every bank transaction: a debit, a pending/information line, a reversal, a line the ERP
   already reconciled, an internal transfer (from one of our accounts), or a line a person already
   decided on (accepted decisions are applied first and frozen) — none of these is matched.
2. A credit the ERP already booked as a payment (same payer, same amount, within a few days) is
   recognised and left alone: its invoices are settled in the ERP.
3. Read each remaining credit: references (:mod:`.references`) and payer (:mod:`.payers`). A credit
   whose payer is unknown and whose name or text says "tax refund", "loan", etc. is a non-customer
   credit and stays unmatched.
4. Pass 1, in booking order: credits that name our invoices; only unambiguous results (``auto``) are
   applied. Pass 2: credits without references whose payer is identified, by amount (exact, bank
   charges, combination of open items); ``auto`` only. Pass 3: everything left, in booking order,
   gets its best proposal (suggested or unmatched) on what the first passes left open.

Each allocation takes from the run's ledger (:mod:`.ledger`): no euro is allocated twice, and a
later credit naming an invoice that an earlier one already paid is flagged as a duplicate payment.
"""

from __future__ import annotations

import datetime as dt
import gc
import logging
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from rapidfuzz.distance import OSA

from erp_recovery.engines.matching.amounts import Combination, find_combinations
from erp_recovery.engines.matching.bank_refs import bank_refs
from erp_recovery.engines.matching.ledger import (
    OpenItem,
    Settlement,
    allocate_oldest_first,
    build_items,
    take,
)
from erp_recovery.engines.matching.model import (
    Evidence,
    EvidenceRule,
    Flag,
    MatchProposal,
    MatchStatus,
    PayerMemory,
    ProposalLine,
    ReviewDecision,
)
from erp_recovery.engines.matching.payers import NameTie, PayerIdentity, PayerIndex
from erp_recovery.engines.matching.references import Reading, ReferenceHit, ReferenceIndex
from erp_recovery.engines.matching.settings import MatchSettings
from erp_recovery.engines.matching.text import Window, compact_iban, fold, name_plain
from erp_recovery.model.money import Money, quantize_amount
from erp_recovery.model.records import Allocation, BankTransaction, Customer, Invoice, Payment

logger = logging.getLogger(__name__)

#: Flags that keep a proposal out of ``auto`` whatever its confidence.
BLOCKING_FLAGS: frozenset[str] = frozenset(
    {
        "overpayment",
        "payer_conflict",
        "name_tie",
        "amount_tie",
        "rejected_before",
        "duplicate_payment",
        "cross_currency",
        "unknown_reference",
    }
)
_CAP = Decimal("0.99")
_ZERO = Decimal(0)


@dataclass(frozen=True)
class MatchInput:
    """Everything the matcher reads, for one company."""

    customers: Sequence[Customer]
    invoices: Sequence[Invoice]
    bank_transactions: Sequence[BankTransaction]
    #: Settlements booked in the ERP (bank lines it reconciled teach IBANs and are not matched again).
    allocations: Sequence[Allocation] = ()
    #: Payments booked in the ERP (a credit the ERP already booked is not matched again).
    payments: Sequence[Payment] = ()
    decisions: Sequence[ReviewDecision] = ()
    memory: Sequence[PayerMemory] = ()


@dataclass(frozen=True)
class MatchResult:
    """One proposal per bank transaction, in booking order."""

    proposals: tuple[MatchProposal, ...]

    def counts(self) -> dict[str, int]:
        return dict(Counter(proposal.status for proposal in self.proposals))

    def by_transaction(self) -> dict[str, MatchProposal]:
        return {proposal.bank_transaction_id: proposal for proposal in self.proposals}


@dataclass(slots=True)
class _Outcome:
    status: MatchStatus
    rule: str
    reason: str
    lines: list[tuple[OpenItem, Decimal]] = field(default_factory=list)
    customer_id: str | None = None
    writeoff: Decimal | None = None
    unapplied: Decimal | None = None
    currency: str | None = None
    flags: list[Flag] = field(default_factory=list)
    evidence: list[Evidence] = field(default_factory=list)
    confidence: Decimal = _ZERO
    #: Flags that, in this outcome, inform without blocking auto (an overpayment on named invoices).
    informational: set[str] = field(default_factory=set)


@dataclass(slots=True)
class _Credit:
    transaction: BankTransaction
    bank_ref: str
    amount: Decimal
    currency: str
    reading: Reading
    identity: PayerIdentity | None
    tie: NameTie | None
    rejected: frozenset[str]
    rejected_evidence: Evidence | None
    outcome: _Outcome | None = None
    #: An earlier credit with the same payer, amount and text a few days before (possible duplicate).
    repeat_of: BankTransaction | None = None

    @property
    def id(self) -> str:
        return self.transaction.external_id


def _rank(outcome: _Outcome) -> tuple[int, Decimal]:
    """Which of two outcomes for one credit is better: status first, then confidence."""
    return (
        {"auto": 3, "suggested": 2, "accepted": 4}.get(outcome.status, 0 if not outcome.flags else 1),
        outcome.confidence,
    )


def _money(amount: Decimal, currency: str) -> Money:
    return Money(amount=amount, currency=currency)


def _evidence(**values: Any) -> Evidence:
    return Evidence(**values)


def _quantize(amount: Decimal, currency: str) -> Decimal:
    return quantize_amount(amount, currency)


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector while the run builds its many small objects.

    A run over 200,000 open items allocates millions of objects that all live until its end; the
    collector would walk the whole heap again and again for nothing. Memory is unaffected (the
    objects are alive anyway); the collector is restored on the way out.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def match(data: MatchInput, settings: MatchSettings | None = None) -> MatchResult:
    """Match bank credits to open items. Pure and deterministic (see the module docstring)."""
    with _collector_paused():
        run = _Run(data, settings or MatchSettings())
        proposals = run.execute()
    result = MatchResult(tuple(proposals))
    logger.info("matching: %s transactions, %s", len(proposals), result.counts())
    return result


class _Run:
    def __init__(self, data: MatchInput, settings: MatchSettings):
        self.data = data
        self.settings = settings
        self.weights = settings.weights
        #: Pass 3: proposals are suggestions at most.
        self.suggest_only = False
        first_day = min((tx.booking_date for tx in data.bank_transactions), default=None)
        closed_since = first_day - dt.timedelta(days=settings.closed_items_days) if first_day else None
        self.items = build_items(data.invoices, closed_since)
        self.items_by_id = {item.id: item for item in self.items}
        self.references = ReferenceIndex(self.items, settings)
        self.payers = PayerIndex(data.customers, data.memory, settings)
        self.open_by_customer: dict[str, list[OpenItem]] = defaultdict(list)
        self.by_amount: dict[tuple[str, Decimal], list[OpenItem]] = defaultdict(list)
        for item in sorted(self.items, key=lambda entry: entry.age_key):
            if item.remaining > 0:
                self.open_by_customer[item.customer_id].append(item)
                self.by_amount[(item.currency, item.remaining)].append(item)
        self.closed_by_customer: dict[str, list[OpenItem]] = defaultdict(list)
        for item in self.items:
            if item.remaining == 0 and item.is_invoice:
                self.closed_by_customer[item.customer_id].append(item)
        self.non_customer = [re.compile(pattern) for pattern in settings.non_customer_patterns]
        self.transactions = sorted(data.bank_transactions, key=lambda tx: (tx.booking_date, tx.external_id))
        self.refs = bank_refs(self.transactions)
        self.own_accounts = {compact_iban(account) for account in settings.own_accounts} | {
            compact_iban(tx.account) for tx in self.transactions
        }
        self.decisions: dict[str, ReviewDecision] = {}
        for decision in sorted(data.decisions, key=lambda entry: entry.decided_at):
            self.decisions[decision.bank_transaction_id] = decision
        self.rejections: dict[str, list[ReviewDecision]] = defaultdict(list)
        for decision in data.decisions:
            if decision.decision == "rejected":
                self.rejections[decision.bank_transaction_id].append(decision)
        self.erp_reconciled: dict[str, list[str]] = defaultdict(list)
        transactions_by_id = {tx.external_id: tx for tx in self.transactions}
        for allocation in sorted(data.allocations, key=lambda entry: entry.external_id):
            if allocation.bank_transaction_id:
                self.erp_reconciled[allocation.bank_transaction_id].append(allocation.invoice_id)
                tx = transactions_by_id.get(allocation.bank_transaction_id)
                settled = self.items_by_id.get(allocation.invoice_id)
                if tx is not None and settled is not None and tx.counterparty_iban:
                    self.payers.ibans[compact_iban(tx.counterparty_iban) or ""].setdefault(
                        settled.customer_id, "erp_allocation"
                    )

    # -- driver ------------------------------------------------------------------------------------

    def execute(self) -> list[MatchProposal]:
        proposals: dict[str, MatchProposal] = {}
        credits: list[_Credit] = []
        for tx in self.transactions:
            decision = self.decisions.get(tx.external_id)
            if decision is not None and decision.decision == "accepted":
                continue
            early = self._classify(tx)
            if early is not None:
                proposals[tx.external_id] = self._proposal(tx, early)
        for tx in self.transactions:
            decision = self.decisions.get(tx.external_id)
            if decision is not None and decision.decision == "accepted":
                proposals[tx.external_id] = self._apply_decision(tx, decision)
        candidates = [tx for tx in self.transactions if tx.external_id not in proposals]
        booked = self._erp_booked(candidates)
        for tx in candidates:
            if tx.external_id in booked:
                proposals[tx.external_id] = self._proposal(tx, booked[tx.external_id])
                continue
            credit = self._read(tx)
            refused = self._non_customer(credit)
            if refused is not None:
                proposals[tx.external_id] = self._proposal(tx, refused)
                continue
            credits.append(credit)

        self._mark_repeats(credits)
        #: Payers who name our invoices on some of their credits (then a credit naming none is odd).
        self.referencing_payers = {
            self._payer_key(credit.transaction)
            for credit in credits
            if credit.reading.hits or credit.reading.unknown
        } - {""}
        # passes 1 and 2 decide only what is unambiguous (auto); run twice, since what pass 2 learns
        # (IBANs, names) can make a pass-1 credit unambiguous
        for _ in range(2):
            decided = 0
            # pass 1: credits naming our invoices
            for credit in credits:
                if credit.outcome is None:
                    outcome = self._by_references(credit)
                    if outcome is not None and outcome.status == "auto":
                        self._commit(credit, outcome)
                        decided += 1
            # pass 2: identified payers without usable references, by amount
            for credit in credits:
                if credit.outcome is not None:
                    continue
                self._refresh_identity(credit)
                if self._references_usable(credit):
                    continue
                outcome = self._by_payer(credit)
                if outcome is not None and outcome.status == "auto":
                    self._commit(credit, outcome)
                    decided += 1
            if not decided:
                break
        # pass 3: everything left gets its best proposal, in booking order, as a suggestion at most
        # (what earlier suggestions took never makes a later credit unambiguous)
        self.suggest_only = True
        for credit in credits:
            if credit.outcome is not None:
                continue
            self._refresh_identity(credit)
            outcome = self._by_references(credit)
            if (
                outcome is None
                or (outcome.status == "unmatched" and not outcome.flags)
                or "payer_conflict" in outcome.flags
            ):
                by_payer = self._by_payer(credit)
                if by_payer is not None and (outcome is None or _rank(by_payer) > _rank(outcome)):
                    outcome = by_payer
            if outcome is None:
                outcome = self._unknown(credit)
            self._commit(credit, outcome)
        for credit in credits:
            assert credit.outcome is not None
            proposals[credit.id] = self._proposal(credit.transaction, credit.outcome, credit)
        return [proposals[tx.external_id] for tx in self.transactions]

    # -- classification ----------------------------------------------------------------------------

    def _classify(self, tx: BankTransaction) -> _Outcome | None:
        def refuse(rule: EvidenceRule, reason: str, flags: Iterable[Flag] = ()) -> _Outcome:
            return _Outcome(
                status="unmatched",
                rule=rule,
                reason=reason,
                flags=list(flags),
                evidence=[_evidence(rule=rule, detail=reason, amounts=(tx.amount,))],
            )

        if tx.status != "booked":
            return refuse("not_booked", f"{tx.status} bank line: only booked credits are matched")
        if tx.amount.amount < 0:
            return refuse("debit", "a debit (money out) is not a customer payment")
        if tx.amount.amount == 0:
            return refuse("no_fit", "a zero amount settles nothing")
        if tx.reversal:
            return refuse("reversal", "a reversal (returned or cancelled debit) is not a customer payment")
        if tx.external_id in self.erp_reconciled:
            invoices = self.erp_reconciled[tx.external_id]
            outcome = refuse("erp_reconciled", f"already reconciled in the ERP with {', '.join(invoices)}")
            outcome.evidence[0] = _evidence(
                rule="erp_reconciled",
                detail=outcome.reason,
                invoice_ids=tuple(invoices),
                amounts=(tx.amount,),
            )
            return outcome
        iban = compact_iban(tx.counterparty_iban)
        if iban and iban in self.own_accounts:
            return refuse(
                "internal_transfer",
                f"transfer from our own account {iban}, not a customer payment",
                ("internal_transfer",),
            )
        return None

    def _erp_booked(self, candidates: Sequence[BankTransaction]) -> dict[str, _Outcome]:
        """Credits the ERP already booked as payments (same payer, amount, within a few days)."""
        if not self.data.payments or not candidates:
            return {}
        window = dt.timedelta(days=self.settings.erp_payment_window_days)
        # an ERP payment dated before the first bank line we hold has its bank line elsewhere
        first_day = min(tx.booking_date for tx in candidates)
        by_amount: dict[tuple[str, Decimal], list[Payment]] = defaultdict(list)
        for payment in sorted(self.data.payments, key=lambda entry: (entry.date, entry.external_id)):
            if payment.status != "cancelled" and payment.date >= first_day and payment.customer_id:
                by_amount[(payment.amount.currency, payment.amount.amount)].append(payment)
        used: set[str] = set()
        found: dict[str, _Outcome] = {}
        for tx in candidates:
            payments = by_amount.get((tx.amount.currency, tx.amount.amount))
            if not payments:
                continue
            identity = self.payers.identify(tx.counterparty_iban, tx.counterparty_name)
            if not isinstance(identity, PayerIdentity):
                continue
            for payment in payments:
                if payment.external_id in used or abs(payment.date - tx.booking_date) > window:
                    continue
                if payment.customer_id not in identity.customers:
                    continue
                used.add(payment.external_id)
                reason = f"already booked in the ERP as payment {payment.external_id} of {payment.date}"
                found[tx.external_id] = _Outcome(
                    status="unmatched",
                    rule="erp_booked",
                    reason=reason,
                    customer_id=payment.customer_id,
                    evidence=[
                        _evidence(rule="erp_booked", detail=reason, amounts=(tx.amount, payment.amount))
                    ],
                )
                break
        return found

    def _read(self, tx: BankTransaction) -> _Credit:
        identity = self.payers.identify(tx.counterparty_iban, tx.counterparty_name)
        rejected: set[str] = set()
        rejected_evidence = None
        for decision in self.rejections.get(tx.external_id, ()):
            rejected.update(decision.invoice_ids)
        if rejected:
            rejected_evidence = _evidence(
                rule="rejected_before",
                detail=f"a person rejected {', '.join(sorted(rejected))} for this bank line",
                invoice_ids=tuple(sorted(rejected)),
            )
        return _Credit(
            transaction=tx,
            bank_ref=self.refs.get(tx.external_id, tx.external_id),
            amount=tx.amount.amount,
            currency=tx.amount.currency,
            reading=self.references.read(tx),
            identity=identity if isinstance(identity, PayerIdentity) else None,
            tie=identity if isinstance(identity, NameTie) else None,
            rejected=frozenset(rejected),
            rejected_evidence=rejected_evidence,
        )

    def _refresh_identity(self, credit: _Credit) -> None:
        """Identify the payer again: IBANs and names learned earlier in the run may now say more."""
        tx = credit.transaction
        identity = self.payers.identify(tx.counterparty_iban, tx.counterparty_name)
        if isinstance(identity, PayerIdentity):
            credit.identity = identity
            credit.tie = None

    def _non_customer(self, credit: _Credit) -> _Outcome | None:
        if credit.identity is not None or credit.reading.hits:
            return None
        tx = credit.transaction
        for text, what in ((tx.counterparty_name or "", "payer"), (tx.remittance or "", "remittance")):
            plain = name_plain(text) if what == "payer" else " ".join(fold(text).split())
            for pattern in self.non_customer:
                if pattern.search(plain):
                    reason = f"non-customer credit: the {what} {text.strip()!r} matches {pattern.pattern!r}"
                    return _Outcome(
                        status="unmatched",
                        rule="non_customer",
                        reason=reason,
                        flags=["non_customer"],
                        evidence=[_evidence(rule="non_customer", detail=reason, tokens=(text.strip(),))],
                    )
        return None

    # -- helpers -----------------------------------------------------------------------------------

    def _received_in(self, credit: _Credit, currency: str) -> Decimal | None:
        """The credit's amount in ``currency`` (explicit rate only), or None."""
        if currency == credit.currency:
            return credit.amount
        rate = self.settings.rate(credit.currency, currency)
        if rate is None:
            return None
        return _quantize(credit.amount * rate, currency)

    def _rate_evidence(self, credit: _Credit, currency: str, received: Decimal) -> Evidence:
        rate = self.settings.rate(credit.currency, currency)
        return _evidence(
            rule="exchange_rate",
            detail=f"{credit.amount} {credit.currency} converted at the configured rate {rate} = {received} {currency}",
            amounts=(_money(credit.amount, credit.currency), _money(received, currency)),
        )

    def _open_items(self, customers: Iterable[str], credit: _Credit) -> list[OpenItem]:
        """Open items of these customers, oldest first (each customer's list is kept in that order)."""
        rejected = credit.rejected
        lists = [self.open_by_customer.get(customer_id, ()) for customer_id in customers]
        found = [item for items in lists for item in items if item.remaining > 0 and item.id not in rejected]
        if sum(1 for items in lists if items) > 1:
            found.sort(key=lambda item: item.age_key)
        return found

    def _references_usable(self, credit: _Credit) -> bool:
        """Whether the credit names an open item that the payer (if known) may pay."""
        return any(
            hit.item.remaining > 0 and self._consistent(credit, hit.item) for hit in credit.reading.hits
        )

    def _explained_tokens(
        self, credit: _Credit, items: Sequence[OpenItem], customers: Iterable[str] = ()
    ) -> tuple[str, ...]:
        """Leftover words of the remittance that are a mistyped number (or, at the end of a text the
        bank cut, the start of a number) of these items, and of no other document of the payer."""
        minimum = self.settings.typo_min_length

        def close(window: Window, item: OpenItem) -> bool:
            core = window.core
            if not item.core or len(core) < minimum:
                return False
            if credit.reading.truncated_text and window.at_end and item.core.startswith(core):
                return True
            return abs(len(item.core) - len(core)) <= 1 and OSA.distance(core, item.core, score_cutoff=1) <= 1

        others = [
            other
            for customer_id in customers
            for other in (
                *self.open_by_customer.get(customer_id, ()),
                *self.closed_by_customer.get(customer_id, ()),
            )
            if other not in items
        ]
        explained = []
        for window in credit.reading.leftovers:
            if any(close(window, item) for item in items) and not any(
                close(window, other) for other in others
            ):
                explained.append(window.text)
        return tuple(explained)

    def _charges_weight(self, writeoff: Decimal) -> Decimal:
        """Weight of "one item, less bank charges" when the payer names nothing.

        Banks charge round amounts (2.50, 15.00, 25.00 EUR...), while the gap between a credit and
        an unrelated open item is any number of cents: a round shortfall is far likelier to be
        charges (a multiple of 0.50 happens by chance once in fifty).
        """
        if writeoff % Decimal("0.50") == 0:
            return self.weights.amount_tolerance_round
        if writeoff % Decimal("0.10") == 0:
            return self.weights.amount_tolerance_round - Decimal("0.05")
        return self.weights.amount_tolerance_unique

    def _imputation_unsafe(self, credit: _Credit, items: Sequence[OpenItem]) -> bool:
        """Whether imputing to the item due first (C. civ. 1342-10) is doubtful for this credit.

        The law applies "à défaut d'indication": not when the bank line carries a reference of any
        kind (a purchase order, a number we cannot read, a structured reference...), nor when this
        payer names its invoices on its other credits; and the first item is only the one the payer
        "had most interest to pay" when it is not disputed nor left behind long before the others.
        """
        tx = credit.transaction
        if credit.reading.ambiguous or credit.reading.unknown or credit.reading.invalid_rf:
            return True
        if tx.structured_reference or tx.referred_documents:
            return True
        if any(sum(char.isdigit() for char in window.core) >= 5 for window in credit.reading.leftovers):
            return True
        if self._payer_key(tx) in self.referencing_payers:
            return True
        first, second = items[0], items[1]
        if first.disputed or (second.due_date - first.due_date).days > self.settings.imputation_gap_days:
            return True
        # the payer already paid a younger invoice and left this one open: it was skipped on purpose
        # (disputed, awaiting a credit note...), it is not the debt "he had most interest to pay"
        customers = {item.customer_id for item in items}
        for customer_id in customers:
            for other in (
                *self.open_by_customer.get(customer_id, ()),
                *self.closed_by_customer.get(customer_id, ()),
            ):
                if (
                    other.remaining == 0
                    and other.is_invoice
                    and other.due_date > first.due_date
                    and other.issue_date <= credit.transaction.booking_date
                ):
                    return True
        return False

    def _hints_at(self, credit: _Credit, items: Sequence[OpenItem]) -> bool:
        """Whether the remittance holds a number that looks like (one typo from) one of ``items``."""
        if credit.reading.ambiguous:
            return True
        for window in credit.reading.leftovers:
            for item in items:
                if (
                    item.core
                    and abs(len(item.core) - len(window.core)) <= 1
                    and OSA.distance(window.core, item.core, score_cutoff=1) <= 1
                ):
                    return True
        return False

    @staticmethod
    def _payer_key(tx: BankTransaction) -> str:
        return compact_iban(tx.counterparty_iban) or name_plain(tx.counterparty_name or "")

    def _mark_repeats(self, credits: Sequence[_Credit]) -> None:
        """Flag credits repeating an earlier one (same payer, amount and text within a few days)."""
        window = dt.timedelta(days=self.settings.repeat_window_days)
        last_seen: dict[tuple[str, str, Decimal, str], BankTransaction] = {}
        for credit in credits:
            tx = credit.transaction
            payer = compact_iban(tx.counterparty_iban) or name_plain(tx.counterparty_name or "")
            if not payer:
                continue
            text = " ".join(fold(tx.remittance or "").split())
            key = (payer, credit.currency, credit.amount, text)
            earlier = last_seen.get(key)
            if earlier is not None and tx.booking_date - earlier.booking_date <= window:
                credit.repeat_of = earlier
            last_seen[key] = tx

    def _consistent(self, credit: _Credit, item: OpenItem) -> bool:
        identity = credit.identity
        if identity is None:
            return True
        if item.customer_id in identity.customers:
            return True
        return self.payers.root(item.customer_id) == self.payers.root(identity.customer_id)

    def _payer_evidence(
        self, credit: _Credit, items: Sequence[OpenItem]
    ) -> tuple[Decimal, list[Evidence], list[Flag]]:
        identity = credit.identity
        if identity is None:
            evidence: list[Evidence] = []
            if credit.tie is not None:
                evidence.append(
                    _evidence(
                        rule="name_tie",
                        detail=credit.tie.detail,
                        tokens=(credit.transaction.counterparty_name or "",),
                    )
                )
            return _ZERO, evidence, []
        support = self.weights.payer_agreement if identity.support else _ZERO
        evidence = [
            _evidence(
                rule=identity.rule,
                detail=identity.detail,
                tokens=identity.tokens,
                weight=identity.weight - support,
            )
        ]
        for rule, detail, tokens in identity.support:
            evidence.append(_evidence(rule=rule, detail=detail + " (agrees)", tokens=tokens, weight=support))
        flags: list[Flag] = []
        others = sorted({item.customer_id for item in items if item.customer_id != identity.customer_id})
        if others:
            flags.append("parent_company")
            evidence.append(
                _evidence(
                    rule="parent_company",
                    detail=(
                        f"{self.payers.display(identity.customer_id)} pays for its subsidiaries "
                        f"{', '.join(self.payers.display(other) for other in others)}"
                    ),
                )
            )
        return identity.weight, evidence, flags

    def _finish(self, outcome: _Outcome, credit: _Credit, score: Decimal) -> _Outcome:
        """Confidence and status from the evidence weights and the flags."""
        if credit.rejected_evidence is not None:
            outcome.flags.append("rejected_before")
            outcome.evidence.append(credit.rejected_evidence)
        used = [token for evidence in outcome.evidence for token in evidence.tokens]
        unknown = [
            token
            for token in credit.reading.unknown
            if not any(token in other or other in token for other in used if other)
        ]
        if unknown and outcome.lines:
            outcome.flags.append("unknown_reference")
            outcome.evidence.append(
                _evidence(
                    rule="unknown_reference",
                    detail=(
                        f"the bank line also names {', '.join(repr(token) for token in unknown[:3])}, which looks like "
                        "one of our invoice numbers but is none we know: review"
                    ),
                    tokens=tuple(unknown[:3]),
                )
            )
        if credit.repeat_of is not None and outcome.lines:
            earlier = credit.repeat_of
            outcome.flags.append("duplicate_payment")
            outcome.evidence.append(
                _evidence(
                    rule="duplicate_payment",
                    detail=(
                        f"same payer, amount and text as bank line {earlier.external_id} of "
                        f"{earlier.booking_date}: possibly the same payment twice"
                    ),
                )
            )
        outcome.flags = list(dict.fromkeys(outcome.flags))
        confidence = max(_ZERO, min(_CAP, score)).quantize(Decimal("0.01"))
        outcome.confidence = confidence
        blocked = [
            flag for flag in outcome.flags if flag in BLOCKING_FLAGS and flag not in outcome.informational
        ]
        if (
            confidence >= self.settings.auto_threshold
            and not blocked
            and outcome.lines
            and not self.suggest_only
        ):
            outcome.status = "auto"
        elif confidence >= self.settings.suggest_threshold and outcome.lines:
            outcome.status = "suggested"
            if blocked and confidence >= self.settings.auto_threshold:
                outcome.reason += f" — left for review ({', '.join(blocked)})"
        else:
            outcome.status = "unmatched"
            if outcome.lines:
                outcome.reason = f"evidence too weak (confidence {confidence}): {outcome.reason}"
            outcome.lines = []
            outcome.writeoff = None
            outcome.unapplied = None
        return outcome

    # -- pass 1 / 3: references --------------------------------------------------------------------

    def _scope(self, credit: _Credit) -> list[OpenItem]:
        scope: dict[str, OpenItem] = {}
        if credit.identity is not None:
            for item in self._open_items(credit.identity.customers, credit):
                scope[item.id] = item
        for item in self.by_amount.get((credit.currency, credit.amount), ()):
            if item.remaining == credit.amount and item.id not in credit.rejected:
                scope[item.id] = item
        return sorted(scope.values(), key=lambda item: item.age_key)

    def _hits(self, credit: _Credit) -> list[ReferenceHit]:
        hits = list(credit.reading.hits)
        if not hits and credit.reading.leftovers:
            scope = self._scope(credit)
            if scope:
                extra = self.references.typo(credit.reading, scope) or self.references.truncated(
                    credit.reading, scope
                )
                if extra is not None:
                    hits.append(extra)
        return hits

    def _by_references(self, credit: _Credit) -> _Outcome | None:
        hits = self._hits(credit)
        if not hits:
            return None
        evidence: list[Evidence] = []
        flags: list[Flag] = []
        for token, documents in credit.reading.ambiguous:
            evidence.append(
                _evidence(
                    rule="ambiguous_reference",
                    detail=f"{token!r} fits several documents ({', '.join(item.number for item in documents[:4])}): not used",
                    tokens=(token,),
                    invoice_ids=tuple(item.id for item in documents[:8]),
                )
            )
        # currency: same currency first, else a currency we have an explicit rate for
        currencies = sorted(
            {hit.item.currency for hit in hits}, key=lambda code: (code != credit.currency, code)
        )
        target = None
        for code in currencies:
            if self._received_in(credit, code) is not None:
                target = code
                break
        if target is None:
            reason = (
                f"the remittance names {', '.join(hit.item.number for hit in hits)} in "
                f"{', '.join(currencies)} but the credit is in {credit.currency} and no exchange rate is configured"
            )
            return _Outcome(
                status="unmatched",
                rule="cross_currency",
                reason=reason,
                flags=["cross_currency"],
                evidence=[
                    *evidence,
                    _evidence(
                        rule="cross_currency", detail=reason, invoice_ids=tuple(hit.item.id for hit in hits)
                    ),
                ],
            )
        received = self._received_in(credit, target)
        assert received is not None
        if target != credit.currency:
            evidence.append(self._rate_evidence(credit, target, received))
        usable = [hit for hit in hits if hit.item.currency == target and hit.item.id not in credit.rejected]
        skipped = [hit for hit in hits if hit.item.currency != target]
        if skipped:
            flags.append("cross_currency")
            evidence.append(
                _evidence(
                    rule="cross_currency",
                    detail=f"{', '.join(hit.item.number for hit in skipped)} not in {target}: left aside",
                    invoice_ids=tuple(hit.item.id for hit in skipped),
                )
            )
        open_hits = [hit for hit in usable if hit.item.remaining > 0]
        if credit.identity is not None and open_hits:
            consistent = [hit for hit in open_hits if self._consistent(credit, hit.item)]
            if consistent and len(consistent) < len(open_hits):
                dropped = [hit for hit in open_hits if hit not in consistent]
                evidence.append(
                    _evidence(
                        rule="payer_conflict",
                        detail=(
                            f"{', '.join(hit.item.number for hit in dropped)} belong to another customer than the "
                            "payer: left aside"
                        ),
                        invoice_ids=tuple(hit.item.id for hit in dropped),
                    )
                )
                open_hits = consistent
        if not open_hits:
            settled = [hit for hit in usable if hit.item.remaining == 0]
            return (
                self._duplicate_by_reference(credit, settled, received, target, evidence) if settled else None
            )

        items = [hit.item for hit in open_hits]
        ref_weight = max(hit.weight for hit in open_hits)
        for hit in open_hits:
            evidence.append(
                _evidence(
                    rule=hit.rule,
                    detail=hit.detail,
                    tokens=(hit.token,),
                    invoice_ids=(hit.item.id,),
                    weight=hit.weight,
                )
            )
            if hit.rule == "invoice_number_typo":
                flags.append("typo")
            elif hit.rule == "invoice_number_truncated":
                flags.append("truncated")
        payer_weight, payer_evidence, payer_flags = self._payer_evidence(credit, items)
        conflict = credit.identity is not None and not all(self._consistent(credit, item) for item in items)
        if conflict:
            assert credit.identity is not None
            payer_weight = self.weights.payer_conflict
            payer_evidence = [
                _evidence(
                    rule="payer_conflict",
                    detail=(
                        f"the payer looks like {self.payers.display(credit.identity.customer_id)} but "
                        f"{', '.join(item.number for item in items)} belong to "
                        f"{', '.join(sorted({self.payers.display(item.customer_id) for item in items}))}"
                    ),
                    weight=self.weights.payer_conflict,
                )
            ]
            payer_flags = ["payer_conflict"]
        evidence.extend(payer_evidence)
        flags.extend(payer_flags)

        invoices = [item for item in items if item.is_invoice]
        notes = [item for item in items if not item.is_invoice]
        total = sum((item.remaining for item in invoices), _ZERO) - sum(
            (item.remaining for item in notes), _ZERO
        )
        if total <= 0:
            return None
        outcome = _Outcome(status="unmatched", rule=open_hits[0].rule, reason="", currency=target)
        outcome.customer_id = credit.identity.customer_id if credit.identity else items[0].customer_id
        amount_weight: Decimal
        if received == total:
            outcome.lines = [(item, item.remaining) for item in items]
            amount_weight = self.weights.amount_exact_referenced
            evidence.append(
                self._amount_evidence("amount_exact", credit, received, target, items, total, amount_weight)
            )
            outcome.reason = f"pays {', '.join(item.number for item in items)} exactly"
        elif self.settings.writeoff_allowed(total, received):
            outcome.lines = [(item, item.remaining) for item in items]
            outcome.writeoff = total - received
            flags.append("writeoff")
            amount_weight = self.weights.amount_tolerance_referenced
            evidence.append(
                self._amount_evidence(
                    "amount_tolerance", credit, received, target, items, total, amount_weight
                )
            )
            outcome.reason = (
                f"pays {', '.join(item.number for item in items)} less {outcome.writeoff} of bank charges"
            )
        elif received < total:
            amount_weight, reason = self._referenced_short(
                credit, received, target, items, outcome, evidence, flags
            )
            outcome.reason = reason
        else:
            amount_weight, reason = self._referenced_over(
                credit, received, target, items, outcome, evidence, flags
            )
            outcome.reason = reason
        outcome.flags = flags
        outcome.evidence = evidence
        return self._finish(outcome, credit, ref_weight + payer_weight + amount_weight)

    def _amount_evidence(
        self,
        rule: EvidenceRule,
        credit: _Credit,
        received: Decimal,
        currency: str,
        items: Sequence[OpenItem],
        settled: Decimal,
        weight: Decimal,
        detail: str | None = None,
    ) -> Evidence:
        numbers = ", ".join(item.number for item in items)
        if detail is None:
            if rule in ("amount_exact", "amount_exact_oldest", "amount_subset", "amount_subset_oldest"):
                detail = f"credit of {received} {currency} equals what remains on {numbers} ({settled})"
            elif rule == "amount_tolerance":
                detail = (
                    f"credit of {received} {currency} is {settled - received} short of {numbers} ({settled}): "
                    "bank charges written off"
                )
            else:
                detail = f"credit of {received} {currency} against {settled} remaining on {numbers}"
        return _evidence(
            rule=rule,
            detail=detail,
            invoice_ids=tuple(item.id for item in items),
            amounts=(_money(received, currency), _money(settled, currency)),
            weight=weight,
        )

    def _search(
        self,
        invoices: Sequence[OpenItem],
        notes: Sequence[OpenItem],
        received: Decimal,
        currency: str,
        *,
        exact_only: bool = False,
    ):
        return find_combinations(
            invoices,
            notes,
            received,
            currency,
            writeoff_allowed=self.settings.writeoff_allowed,
            max_writeoff=self.settings.writeoff_max_absolute,
            max_items=self.settings.subset_max_items,
            max_size=self.settings.subset_max_size,
            node_budget=self.settings.subset_node_budget,
            max_credit_notes=self.settings.subset_max_credit_notes,
            exact_only=exact_only,
        )

    @staticmethod
    def _take_combination(outcome: _Outcome, combination: Combination, flags: list[Flag]) -> None:
        outcome.lines = [
            (item, item.remaining) for item in sorted(combination.items, key=lambda item: item.age_key)
        ]
        if combination.writeoff > 0:
            outcome.writeoff = combination.writeoff
            flags.append("writeoff")

    def _referenced_short(
        self,
        credit: _Credit,
        received: Decimal,
        currency: str,
        items: list[OpenItem],
        outcome: _Outcome,
        evidence: list[Evidence],
        flags: list[Flag],
    ) -> tuple[Decimal, str]:
        """Less received than the referenced items: netted credit notes, a subset, or a partial payment."""
        customers = {item.customer_id for item in items}
        group: set[str] = set()
        for customer_id in customers:
            group |= self.payers.group(customer_id)
        other_notes = [
            item for item in self._open_items(group, credit) if not item.is_invoice and item not in items
        ]
        invoices = [item for item in items if item.is_invoice]
        notes = [item for item in items if not item.is_invoice]
        if other_notes:
            search = self._search(invoices, notes + other_notes, received, currency)
            full = [
                combination
                for combination in search.combinations
                if all(invoice in combination.items for invoice in invoices)
            ]
            if full:
                combination = full[0]
                self._take_combination(outcome, combination, flags)
                used = [item for item in combination.items if not item.is_invoice]
                evidence.append(
                    self._amount_evidence(
                        "credit_note_netted",
                        credit,
                        received,
                        currency,
                        combination.items,
                        combination.net,
                        self.weights.amount_subset_referenced,
                        f"credit of {received} {currency} = {', '.join(item.number for item in invoices)} less credit "
                        f"notes {', '.join(item.number for item in used)}"
                        + (f" less {combination.writeoff} of bank charges" if combination.writeoff else ""),
                    )
                )
                if len(full) > 1:
                    flags.append("amount_tie")
                return self.weights.amount_subset_referenced, "pays the invoices net of credit notes"
        if len(items) >= 2:
            search = self._search(invoices, notes, received, currency)
            best = search.best
            if best is not None:
                self._take_combination(outcome, best, flags)
                rule: EvidenceRule = "amount_subset" if search.unique else "amount_subset_oldest"
                if not search.unique:
                    flags.append("amount_tie")
                evidence.append(
                    self._amount_evidence(
                        rule,
                        credit,
                        received,
                        currency,
                        best.items,
                        best.net,
                        self.weights.amount_subset_referenced,
                    )
                )
                return (
                    self.weights.amount_subset_referenced,
                    f"pays {', '.join(item.number for item in best.items)} among the invoices it names",
                )
        plan = allocate_oldest_first(items, received)
        outcome.lines = [(item, amount) for item, amount in plan]
        flags.append("partial")
        remaining = sum((item.signed_remaining for item in items), _ZERO)
        evidence.append(
            self._amount_evidence(
                "amount_partial",
                credit,
                received,
                currency,
                items,
                remaining,
                self.weights.amount_partial_referenced,
                f"partial payment: {received} {currency} of {remaining} remaining on "
                f"{', '.join(item.number for item in items)} (oldest first)",
            )
        )
        return (
            self.weights.amount_partial_referenced,
            f"partial payment of {', '.join(item.number for item in items)}",
        )

    def _referenced_over(
        self,
        credit: _Credit,
        received: Decimal,
        currency: str,
        items: list[OpenItem],
        outcome: _Outcome,
        evidence: list[Evidence],
        flags: list[Flag],
    ) -> tuple[Decimal, str]:
        """More received than the referenced items: other open items of the payer, else an overpayment."""
        total = sum((item.signed_remaining for item in items), _ZERO)
        excess = received - total
        customers = (
            credit.identity.customers if credit.identity else frozenset(item.customer_id for item in items)
        )
        others = [item for item in self._open_items(customers, credit) if item not in items]
        if others:
            search = self._search(
                [item for item in others if item.is_invoice],
                [item for item in others if not item.is_invoice],
                excess,
                currency,
                exact_only=True,
            )
            best = search.best
            if best is not None:
                outcome.lines = [(item, item.remaining) for item in items] + [
                    (item, item.remaining) for item in sorted(best.items, key=lambda item: item.age_key)
                ]
                # exactly one combination of the payer's other open items makes up the difference:
                # names forgotten, or lost where the bank cut the text
                weight = self.weights.amount_subset_referenced if search.unique else self.weights.overpayment
                if not search.unique:
                    flags.append("amount_tie")
                explained = self._explained_tokens(credit, best.items, customers)
                evidence.append(
                    _evidence(
                        rule="amount_subset" if search.unique else "amount_subset_oldest",
                        detail=(
                            f"credit of {received} {currency} also pays "
                            f"{', '.join(item.number for item in best.items)}, which the remittance does not name"
                            + (" in full" if explained else "")
                            + (
                                ""
                                if search.unique
                                else " (other combinations fit too: the oldest is proposed)"
                            )
                        ),
                        tokens=explained,
                        invoice_ids=tuple(item.id for item in [*items, *best.items]),
                        amounts=(_money(received, currency), _money(excess, currency)),
                        weight=weight,
                    )
                )
                return weight, "pays the invoices named and others of the same customer"
        outcome.lines = [(item, item.remaining) for item in items]
        outcome.unapplied = excess
        unknown = list(credit.reading.unknown)
        if unknown:
            # the remittance also names documents we do not have (issued after the books we hold):
            # the invoices it names and we have are paid; the rest waits, unapplied, for its invoice
            flags.append("unknown_reference")
            outcome.informational.add("unknown_reference")
            evidence.append(
                _evidence(
                    rule="unknown_reference",
                    detail=(
                        f"credit of {received} {currency} pays {', '.join(item.number for item in items)} ({total}); "
                        f"the remittance also names {', '.join(repr(token) for token in unknown[:3])}, not in the "
                        f"books: {excess} left unapplied until it is"
                    ),
                    tokens=tuple(unknown),
                    invoice_ids=tuple(item.id for item in items),
                    amounts=(_money(received, currency), _money(total, currency), _money(excess, currency)),
                    weight=self.weights.amount_subset_referenced,
                )
            )
            return (
                self.weights.amount_subset_referenced,
                f"pays the invoices named; {excess} {currency} unapplied",
            )
        flags.append("overpayment")
        # the invoices are named: paying them is certain; the excess is flagged and left unapplied
        outcome.informational.add("overpayment")
        evidence.append(
            _evidence(
                rule="overpayment",
                detail=f"credit of {received} {currency} exceeds {total} remaining on "
                f"{', '.join(item.number for item in items)} by {excess}: left on account, to review",
                invoice_ids=tuple(item.id for item in items),
                amounts=(_money(received, currency), _money(total, currency), _money(excess, currency)),
                weight=self.weights.overpayment,
            )
        )
        return self.weights.overpayment, f"overpayment of {excess} {currency}"

    def _duplicate_by_reference(
        self,
        credit: _Credit,
        settled: list[ReferenceHit],
        received: Decimal,
        currency: str,
        evidence: list[Evidence],
    ) -> _Outcome | None:
        items = [hit.item for hit in settled]
        paid = sum((item.total if item.is_invoice else -item.total for item in items), _ZERO)
        last_payments = sum((item.settlements[-1].amount for item in items if item.settlements), _ZERO)
        if (
            received != paid
            and not self.settings.writeoff_allowed(paid, received)
            and received != last_payments
        ):
            return None
        earlier = [
            f"{item.number} by bank line {item.settlements[-1].bank_transaction_id} of {item.settlements[-1].booking_date}"
            if item.settlements
            else f"{item.number} (already settled in the ERP)"
            for item in items
        ]
        reason = (
            f"duplicate payment: {', '.join(earlier)} already paid; "
            f"this credit of {received} {currency} is to refund or clarify"
        )
        evidence.extend(
            _evidence(rule=hit.rule, detail=hit.detail, tokens=(hit.token,), invoice_ids=(hit.item.id,))
            for hit in settled
        )
        evidence.append(
            _evidence(
                rule="duplicate_payment",
                detail=reason,
                invoice_ids=tuple(item.id for item in items),
                amounts=(_money(received, currency), _money(paid, currency)),
            )
        )
        return _Outcome(
            status="unmatched",
            rule="duplicate_payment",
            reason=reason,
            customer_id=items[0].customer_id,
            flags=["duplicate_payment"],
            evidence=evidence,
        )

    # -- pass 2 / 3: payer and amount ----------------------------------------------------------------

    def _by_payer(self, credit: _Credit) -> _Outcome | None:
        if credit.identity is None:
            if credit.tie is not None:
                return self._by_tie(credit)
            return None
        identity = credit.identity
        items = self._open_items(identity.customers, credit)
        by_currency: dict[str, list[OpenItem]] = defaultdict(list)
        for item in items:
            by_currency[item.currency].append(item)
        currency = credit.currency if credit.currency in by_currency else None
        if currency is None:
            for code in sorted(by_currency):
                if self._received_in(credit, code) is not None:
                    currency = code
                    break
        if currency is None:
            if by_currency:
                reason = (
                    f"{self.payers.display(identity.customer_id)} has open items only in "
                    f"{', '.join(sorted(by_currency))}; the credit is in {credit.currency} and no exchange rate is configured"
                )
                return _Outcome(
                    status="unmatched",
                    rule="cross_currency",
                    reason=reason,
                    customer_id=identity.customer_id,
                    flags=["cross_currency"],
                    evidence=[_evidence(rule="cross_currency", detail=reason)],
                )
            duplicate = self._duplicate_by_amount(credit, credit.amount, credit.currency)
            return duplicate or self._no_open_items(credit)
        received = self._received_in(credit, currency)
        assert received is not None
        items = by_currency[currency]
        invoices = [item for item in items if item.is_invoice]
        notes = [item for item in items if not item.is_invoice]
        evidence: list[Evidence] = []
        if currency != credit.currency:
            evidence.append(self._rate_evidence(credit, currency, received))
        outcome = _Outcome(
            status="unmatched",
            rule=identity.rule,
            reason="",
            customer_id=identity.customer_id,
            currency=currency,
        )
        flags: list[Flag] = []
        amount_weight = _ZERO
        singles = [item for item in invoices if item.remaining == received]
        chosen: list[OpenItem] = []
        if singles:
            chosen = [singles[0]]
            outcome.lines = [(singles[0], received)]
            if len(singles) == 1:
                amount_weight = self.weights.amount_exact_unique
                evidence.append(
                    self._amount_evidence(
                        "amount_exact",
                        credit,
                        received,
                        currency,
                        chosen,
                        received,
                        amount_weight,
                        f"credit of {received} {currency} equals the residual of {singles[0].number}, "
                        "the only open item of the payer with that amount",
                    )
                )
            elif self._hints_at(credit, singles) or self._imputation_unsafe(credit, singles):
                amount_weight = self.weights.amount_tie_oldest
                flags.append("amount_tie")
                evidence.append(
                    self._amount_evidence(
                        "amount_exact_oldest",
                        credit,
                        received,
                        currency,
                        chosen,
                        received,
                        amount_weight,
                        f"{len(singles)} open items of the payer are of {received} {currency} "
                        f"({', '.join(item.number for item in singles[:5])}) and the law's imputation to the one "
                        f"due first may not apply here: {singles[0].number} is proposed for review",
                    )
                )
            else:
                # identical amounts, no indication from the payer: the payment goes to the debt due
                # first, and among equal ones to the oldest (Code civil art. 1342-10, imputation)
                amount_weight = self.weights.amount_exact_imputed
                flags.append("imputed_oldest")
                evidence.append(
                    self._amount_evidence(
                        "amount_exact_oldest",
                        credit,
                        received,
                        currency,
                        chosen,
                        received,
                        amount_weight,
                        f"{len(singles)} open items of the payer are of {received} {currency} "
                        f"({', '.join(item.number for item in singles[:5])}) and the payer names none: imputed "
                        f"to the one due first, {singles[0].number} (Code civil art. 1342-10)",
                    )
                )
            outcome.reason = f"pays {singles[0].number}"
        else:
            search = self._search(invoices, notes, received, currency)
            best = search.best
            whole = sum((item.signed_remaining for item in items), _ZERO)
            if best is not None:
                self._take_combination(outcome, best, flags)
                chosen = list(best.items)
                netted = best.has_credit_notes
                if search.unique and best.writeoff and len(best.items) > 1:
                    # several items short of the credit by "bank charges": among many open items some
                    # combination often lands that close by chance, so a person checks it
                    amount_weight = self.weights.amount_tie_oldest
                    flags.append("amount_tie")
                    rule: EvidenceRule = "amount_subset_oldest"
                elif search.unique:
                    amount_weight = (
                        self._charges_weight(best.writeoff)
                        if best.writeoff
                        else self.weights.amount_subset_unique
                    )
                    rule = (
                        "amount_tolerance"
                        if best.writeoff and len(best.items) == 1
                        else (
                            "credit_note_netted"
                            if netted
                            else ("amount_subset" if len(best.items) > 1 else "amount_exact")
                        )
                    )
                else:
                    amount_weight = self.weights.amount_tie_oldest
                    flags.append("amount_tie")
                    rule = "amount_subset_oldest"
                evidence.append(
                    self._amount_evidence(
                        rule, credit, received, currency, best.items, best.net, amount_weight
                    )
                )
                if not search.unique:
                    evidence[-1] = evidence[-1].model_copy(
                        update={
                            "detail": evidence[-1].detail
                            + f"; {len(search.combinations)}{'+' if search.exhausted else ''} "
                            "combinations fit, the one with the oldest items is proposed"
                        }
                    )
                outcome.reason = f"pays {', '.join(item.number for item in best.items)}" + (
                    f" less {best.writeoff} of bank charges" if best.writeoff else ""
                )
            elif whole > 0 and received == whole:
                outcome.lines = [(item, item.remaining) for item in items]
                chosen = items
                amount_weight = self.weights.amount_subset_unique
                evidence.append(
                    self._amount_evidence(
                        "amount_subset",
                        credit,
                        received,
                        currency,
                        items,
                        whole,
                        amount_weight,
                        f"credit of {received} {currency} equals the payer's whole open balance",
                    )
                )
                outcome.reason = "pays the whole open balance"
            else:
                duplicate = self._duplicate_by_amount(credit, received, currency)
                if duplicate is not None:
                    return duplicate
                if whole <= 0:
                    return self._no_open_items(credit)
                if received < whole:
                    plan = allocate_oldest_first(items, received)
                    outcome.lines = plan
                    chosen = [item for item, _ in plan]
                    flags.append("partial")
                    amount_weight = self.weights.amount_partial_oldest
                    evidence.append(
                        self._amount_evidence(
                            "amount_partial",
                            credit,
                            received,
                            currency,
                            chosen,
                            whole,
                            amount_weight,
                            f"no combination of the payer's open items makes {received} {currency}: "
                            f"partial payment of {whole} open, oldest first",
                        )
                    )
                    outcome.reason = "partial payment, oldest items first"
                else:
                    outcome.lines = [(item, item.remaining) for item in items]
                    chosen = items
                    outcome.unapplied = received - whole
                    flags.append("overpayment")
                    amount_weight = self.weights.overpayment
                    evidence.append(
                        _evidence(
                            rule="overpayment",
                            detail=f"credit of {received} {currency} exceeds the payer's whole open balance "
                            f"({whole}) by {received - whole}: left on account, to review",
                            invoice_ids=tuple(item.id for item in items),
                            amounts=(_money(received, currency), _money(whole, currency)),
                            weight=amount_weight,
                        )
                    )
                    outcome.reason = f"overpayment of {received - whole} {currency}"
        explained = self._explained_tokens(credit, chosen, identity.customers)
        if explained and outcome.lines:
            # the remittance names these items, mistyped or cut: it confirms the amount's choice
            amount_weight += self.weights.reference_confirms
            flags.append("typo")
            evidence.append(
                _evidence(
                    rule="invoice_number_typo",
                    detail=(
                        f"{', '.join(repr(token) for token in explained)} in the remittance is a mistyped or cut "
                        f"form of {', '.join(item.number for item in chosen)}"
                    ),
                    tokens=explained,
                    invoice_ids=tuple(item.id for item in chosen),
                    weight=self.weights.reference_confirms,
                )
            )
        payer_weight, payer_evidence, payer_flags = self._payer_evidence(credit, chosen)
        outcome.evidence = payer_evidence + evidence
        outcome.flags = flags + payer_flags
        return self._finish(outcome, credit, payer_weight + amount_weight)

    def _by_tie(self, credit: _Credit) -> _Outcome | None:
        """A payer name fitting several customers: a suggestion only if one of them has that exact amount."""
        assert credit.tie is not None
        fits = [
            item
            for customer_id in credit.tie.candidates
            for item in self._open_items(self.payers.group(customer_id), credit)
            if item.is_invoice and item.currency == credit.currency and item.remaining == credit.amount
        ]
        evidence = [
            _evidence(
                rule="name_tie",
                detail=credit.tie.detail,
                tokens=(credit.transaction.counterparty_name or "",),
            )
        ]
        if len({item.customer_id for item in fits}) != 1:
            reason = credit.tie.detail
            return _Outcome(
                status="unmatched", rule="name_tie", reason=reason, flags=["name_tie"], evidence=evidence
            )
        fits.sort(key=lambda item: item.age_key)
        item = fits[0]
        outcome = _Outcome(
            status="unmatched",
            rule="name_tie",
            reason=f"pays {item.number}? the payer name fits several customers, only one has an open item of this amount",
            lines=[(item, credit.amount)],
            customer_id=item.customer_id,
            currency=credit.currency,
            flags=["name_tie", "amount_tie"] if len(fits) > 1 else ["name_tie"],
            evidence=[
                *evidence,
                self._amount_evidence(
                    "amount_exact",
                    credit,
                    credit.amount,
                    credit.currency,
                    [item],
                    item.remaining,
                    self.weights.amount_exact_unique,
                ),
            ],
        )
        return self._finish(outcome, credit, self.weights.name_fair + self.weights.amount_exact_unique)

    def _duplicate_by_amount(self, credit: _Credit, received: Decimal, currency: str) -> _Outcome | None:
        """No open item fits, but the payer recently paid this amount for an item now settled."""
        assert credit.identity is not None
        window = dt.timedelta(days=self.settings.duplicate_window_days)
        booking = credit.transaction.booking_date
        for customer_id in sorted(credit.identity.customers):
            for item in [
                *self.open_by_customer.get(customer_id, ()),
                *self.closed_by_customer.get(customer_id, ()),
            ]:
                if item.remaining != 0 or item.currency != currency:
                    continue
                earlier = [
                    settlement
                    for settlement in item.settlements
                    if settlement.bank_transaction_id != credit.id
                    and settlement.amount == received
                    and abs(booking - settlement.booking_date) <= window
                ]
                erp_paid = (
                    not item.settlements
                    and item.residual == 0
                    and item.total == received
                    and booking - item.issue_date <= dt.timedelta(days=90)
                )
                if not earlier and not erp_paid:
                    continue
                what = (
                    f"bank line {earlier[0].bank_transaction_id} of {earlier[0].booking_date}"
                    if earlier
                    else "a payment booked in the ERP"
                )
                reason = (
                    f"possible duplicate payment: no open item of {self.payers.display(customer_id)} makes "
                    f"{received} {currency}, and {item.number} of that amount was already paid by {what}"
                )
                _, payer_evidence, _ = self._payer_evidence(credit, [])
                return _Outcome(
                    status="unmatched",
                    rule="duplicate_payment",
                    reason=reason,
                    customer_id=customer_id,
                    flags=["duplicate_payment"],
                    evidence=[
                        *payer_evidence,
                        _evidence(
                            rule="duplicate_payment",
                            detail=reason,
                            invoice_ids=(item.id,),
                            amounts=(_money(received, currency),),
                        ),
                    ],
                )
        return None

    def _no_open_items(self, credit: _Credit) -> _Outcome:
        assert credit.identity is not None
        reason = f"{self.payers.display(credit.identity.customer_id)} has no open item this credit could pay"
        _, payer_evidence, _ = self._payer_evidence(credit, [])
        return _Outcome(
            status="unmatched",
            rule="no_fit",
            reason=reason,
            customer_id=credit.identity.customer_id,
            evidence=[*payer_evidence, _evidence(rule="no_fit", detail=reason)],
        )

    def _unknown(self, credit: _Credit) -> _Outcome:
        tx = credit.transaction
        if credit.reading.hits:
            reason = "the invoices named are not open and the payer is not identified"
        else:
            payer = tx.counterparty_name or tx.counterparty_iban or "(no name)"
            reason = f"unknown payer {payer} and no reference to our invoices"
        evidence = [
            _evidence(
                rule="unknown_payer", detail=reason, tokens=tuple(filter(None, (tx.counterparty_name,)))
            )
        ]
        same_amount = [
            item
            for item in self.by_amount.get((credit.currency, credit.amount), ())
            if item.remaining == credit.amount
        ]
        if len(same_amount) == 1:
            evidence.append(
                _evidence(
                    rule="amount_exact",
                    detail=f"hint: {same_amount[0].number} of {self.payers.display(same_amount[0].customer_id)} is the only "
                    "open item of this amount (not proposed: the payer is unknown)",
                    invoice_ids=(same_amount[0].id,),
                )
            )
        for token, items in credit.reading.ambiguous:
            evidence.append(
                _evidence(
                    rule="ambiguous_reference",
                    detail=f"{token!r} fits several documents ({', '.join(item.number for item in items[:4])}): not used",
                    tokens=(token,),
                    invoice_ids=tuple(item.id for item in items[:8]),
                )
            )
        return _Outcome(status="unmatched", rule="unknown_payer", reason=reason, evidence=evidence)

    # -- commit and output -------------------------------------------------------------------------

    def _commit(self, credit: _Credit, outcome: _Outcome) -> None:
        credit.outcome = outcome
        if not outcome.lines or outcome.status == "unmatched":
            return
        tx = credit.transaction
        payer_key = compact_iban(tx.counterparty_iban) or name_plain(tx.counterparty_name or "")
        taken: list[tuple[OpenItem, Decimal]] = []
        for item, amount in outcome.lines:
            got = take(item, amount, Settlement(credit.id, amount, tx.booking_date, payer_key))
            if got > 0:
                taken.append((item, got))
        outcome.lines = taken
        if outcome.status == "auto":
            customers = {item.customer_id for item, _ in taken}
            identity = credit.identity
            if identity is not None and customers <= identity.customers:
                learned: str | None = identity.customer_id  # the payer (a parent paying for its subsidiaries)
            else:
                learned = next(iter(customers)) if len(customers) == 1 else None
            if learned and (
                credit.identity is None or credit.identity.rule not in ("iban_erp", "iban_memory")
            ):
                self.payers.learn(tx.counterparty_iban, tx.counterparty_name, learned)

    def _apply_decision(self, tx: BankTransaction, decision: ReviewDecision) -> MatchProposal:
        payer_key = compact_iban(tx.counterparty_iban) or name_plain(tx.counterparty_name or "")
        for line in decision.lines:
            item = self.items_by_id.get(line.invoice_id)
            if item is not None:
                take(
                    item,
                    line.amount.amount,
                    Settlement(tx.external_id, line.amount.amount, tx.booking_date, payer_key),
                )
        reason = f"accepted by {decision.decided_by} on {decision.decided_at:%Y-%m-%d}"
        return MatchProposal(
            bank_transaction_id=tx.external_id,
            bank_ref=self.refs.get(tx.external_id, tx.external_id),
            booking_date=tx.booking_date,
            amount=tx.amount,
            status="accepted",
            confidence=Decimal(1),
            rule="review_decision",
            customer_id=decision.customer_id,
            lines=decision.lines,
            writeoff=decision.writeoff,
            evidence=(
                _evidence(
                    rule="review_decision",
                    detail=reason + (f": {decision.note}" if decision.note else ""),
                    invoice_ids=decision.invoice_ids,
                ),
            ),
            reason=reason,
        )

    def _proposal(
        self, tx: BankTransaction, outcome: _Outcome, credit: _Credit | None = None
    ) -> MatchProposal:
        currency = outcome.currency or tx.amount.currency
        lines = tuple(
            ProposalLine.model_construct(
                invoice_id=item.id,
                invoice_number=item.number,
                customer_id=item.customer_id,
                kind="invoice" if item.is_invoice else "credit_note",
                amount=_money(amount, item.currency),
            )
            for item, amount in outcome.lines
        )
        return MatchProposal.model_construct(
            bank_transaction_id=tx.external_id,
            bank_ref=credit.bank_ref if credit else self.refs.get(tx.external_id, tx.external_id),
            booking_date=tx.booking_date,
            amount=tx.amount,
            status=outcome.status,
            confidence=outcome.confidence,
            rule=outcome.rule,
            customer_id=outcome.customer_id,
            lines=lines,
            writeoff=_money(outcome.writeoff, currency) if outcome.writeoff else None,
            unapplied=_money(outcome.unapplied, currency) if outcome.unapplied else None,
            flags=tuple(outcome.flags),
            evidence=tuple(outcome.evidence),
            reason=outcome.reason,
        )
