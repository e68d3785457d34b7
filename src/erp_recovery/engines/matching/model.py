"""What the matcher produces and remembers: proposals with evidence, review decisions, payer memory.

A :class:`MatchProposal` says, for one bank transaction, which open items it pays (``lines``), how
sure the matcher is (``confidence``), why (``evidence``: the rule, the tokens read in the remittance,
the amounts compared) and what happens to it (``status``):

- ``auto`` — unambiguous; applied to open-item residuals, ageing and dunning straight away;
- ``suggested`` — plausible but not certain; waits for a person (``erp-recovery match review``);
  the invoices it names count as *pending* (not dunned) until the person decides;
- ``accepted`` — a person accepted it; frozen, re-running the matcher never changes it;
- ``unmatched`` — nothing is allocated (a debit, a non-customer credit, an unknown payer, a
  duplicate payment...); ``reason`` and ``flags`` say why.

These are the matcher's own decisions, distinct from :class:`~erp_recovery.model.Allocation`, which
records settlements booked in the ERP.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Literal

from pydantic import Field, model_validator

from erp_recovery.model.money import Money
from erp_recovery.model.records import CanonicalModel, InvoiceKind

MatchStatus = Literal["auto", "suggested", "accepted", "unmatched"]
#: Statuses whose allocations are applied to residuals (the others are pending or nothing).
APPLIED_STATUSES: frozenset[str] = frozenset({"auto", "accepted"})

EvidenceRule = Literal[
    # references read in the remittance or the structured fields
    "rf_reference",
    "referred_document",
    "end_to_end_id",
    "invoice_number",
    "invoice_number_typo",
    "invoice_number_truncated",
    "payment_reference",
    "ambiguous_reference",
    "unknown_reference",
    # who paid
    "iban_erp",
    "iban_memory",
    "iban_learned",
    "name_memory",
    "name_learned",
    "name_fuzzy",
    "parent_company",
    "payer_conflict",
    "name_tie",
    # amounts
    "amount_exact",
    "amount_exact_oldest",
    "amount_tolerance",
    "amount_subset",
    "amount_subset_oldest",
    "credit_note_netted",
    "amount_partial",
    "overpayment",
    "exchange_rate",
    # refusals and classifications
    "cross_currency",
    "duplicate_payment",
    "non_customer",
    "internal_transfer",
    "debit",
    "not_booked",
    "reversal",
    "erp_booked",
    "erp_reconciled",
    "rejected_before",
    "review_decision",
    "unknown_payer",
    "no_fit",
]

Flag = Literal[
    "partial",
    "overpayment",
    "duplicate_payment",
    "cross_currency",
    "writeoff",
    "payer_conflict",
    "name_tie",
    "ambiguous_reference",
    "unknown_reference",
    "amount_tie",
    "imputed_oldest",
    "rejected_before",
    "non_customer",
    "internal_transfer",
    "typo",
    "truncated",
    "parent_company",
]


class Evidence(CanonicalModel):
    """One fact that made (or refused) a proposal: the rule, what it read, what it compared."""

    rule: EvidenceRule
    #: A sentence for people ("invoice number FA-2024-00123 read in the remittance as 'FA 2024 123'").
    detail: str
    #: The words of the bank line the rule used (remittance tokens, payer name, IBAN).
    tokens: tuple[str, ...] = ()
    #: The open items the rule points at.
    invoice_ids: tuple[str, ...] = ()
    #: The amounts the rule compared (credit amount, residuals, write-off...).
    amounts: tuple[Money, ...] = ()
    #: What this evidence adds to the proposal's confidence (can be negative for a conflict).
    weight: Decimal = Decimal(0)


class ProposalLine(CanonicalModel):
    """One open item settled (in part) by the bank transaction."""

    invoice_id: str
    invoice_number: str
    customer_id: str
    kind: InvoiceKind = "invoice"
    #: Positive; for a credit note it is the part of the credit note used (netted against invoices).
    amount: Money

    @model_validator(mode="after")
    def _positive(self) -> ProposalLine:
        if self.amount.amount <= 0:
            raise ValueError("a proposal line amount is positive")
        return self

    @property
    def signed_amount(self) -> Money:
        """What this line contributes to the payment: invoices +, credit notes -."""
        return self.amount if self.kind == "invoice" else -self.amount


class MatchProposal(CanonicalModel):
    """The matcher's answer for one bank transaction."""

    bank_transaction_id: str
    #: The bank's reference of the entry (camt AcctSvcrRef[/TxDtls index], MT940 bank ref, OFX FITID).
    bank_ref: str
    booking_date: dt.date
    amount: Money
    status: MatchStatus
    #: 0 to 1 (two decimals): the sum of the evidence weights, capped at 0.99.
    confidence: Decimal = Field(default=Decimal(0), ge=0, le=1)
    #: The rule that decided (the strongest evidence), e.g. ``invoice_number``.
    rule: str
    customer_id: str | None = None
    lines: tuple[ProposalLine, ...] = ()
    #: Bank charges or small differences written off (credit short of the items it settles).
    writeoff: Money | None = None
    #: Money received beyond the items settled (overpayment), left on account, never absorbed.
    unapplied: Money | None = None
    flags: tuple[Flag, ...] = ()
    evidence: tuple[Evidence, ...] = ()
    #: One sentence summing it up (why unmatched, why only suggested...).
    reason: str = ""

    @property
    def allocated(self) -> Money:
        """Net amount applied to open items (invoices minus credit notes used), in their currency."""
        currency = self.lines[0].amount.currency if self.lines else self.amount.currency
        return Money(
            amount=sum((line.signed_amount.amount for line in self.lines), Decimal(0)), currency=currency
        )

    @property
    def is_applied(self) -> bool:
        return self.status in APPLIED_STATUSES


DecisionKind = Literal["accepted", "rejected"]


class ReviewDecision(CanonicalModel):
    """A person's decision on a proposal. Kept forever; the matcher never overrides it.

    ``accepted`` freezes ``lines`` (and ``writeoff``) for the bank transaction; ``rejected`` forbids
    the matcher to propose those invoices again for that transaction (it may propose others, as
    suggestions only).
    """

    bank_transaction_id: str
    decision: DecisionKind
    lines: tuple[ProposalLine, ...] = ()
    writeoff: Money | None = None
    customer_id: str | None = None
    decided_by: str = "unknown"
    decided_at: dt.datetime
    note: str | None = None

    @property
    def invoice_ids(self) -> tuple[str, ...]:
        return tuple(line.invoice_id for line in self.lines)


MemoryKind = Literal["iban", "name"]
MemoryOrigin = Literal["erp", "erp_allocation", "decision"]


class PayerMemory(CanonicalModel):
    """What we learned about who pays: this IBAN / this payer name is (or is not) this customer."""

    kind: MemoryKind
    #: Compact IBAN, or the payer name as the bank writes it, normalised by :func:`~.text.name_plain`
    #: (legal form kept: "DUPONT SARL" and "DUPONT SAS" are different payers).
    key: str
    customer_id: str
    origin: MemoryOrigin = "decision"
    #: How many decisions confirmed it.
    confirmations: int = 1
    #: A person rejected a match that relied on it: never use this pair again.
    blocked: bool = False
