"""The canonical receivables model: what every connector produces and every engine reads.

Records are pydantic models validated at the edge: money is :class:`Money` (Decimal + currency),
dates are :class:`datetime.date`, identifiers are compact and checked. A record is identified in
its source by ``external_id``; references to other records of the same source use their external
ids (``customer_id``, ``invoice_id``...), so records can arrive in any order (a payment before its
invoice) and the store resolves them.

What the ERP says and what erp-recovery decides are kept apart: ``Customer.credit_limit`` and
``Customer.risk_flags`` are *as read from the ERP*; the engines' own assessments, dunning cases and
write-back plans are separate models (``erp_recovery.engines``, ``erp_recovery.writeback``).
"""

from __future__ import annotations

import datetime as dt
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from erp_recovery.model.identifiers import Iban, Siren, Siret, VatNumber
from erp_recovery.model.money import CurrencyCode, Money

Jurisdiction = Literal["FR", "EU", "UK", "DE"]
EntityName = Literal["customer", "invoice", "payment", "bank_transaction", "allocation"]


class CanonicalModel(BaseModel):
    """Base of every canonical value object: strict about unknown fields, immutable once built."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class Record(CanonicalModel):
    """A record synced from a source. ``external_id`` is its identity in that source."""

    entity: ClassVar[EntityName]
    #: Fields that say where a record was read (file, line, position...), not what it says: they
    #: are stored but left out of the content hash, so the same record arriving from another
    #: file, export or format is unchanged.
    provenance_fields: ClassVar[frozenset[str]] = frozenset({"source_refs"})

    external_id: str = Field(min_length=1, max_length=255)
    #: Where this record comes from in the source (model and id, file and line...), for people.
    source_refs: dict[str, str] = Field(default_factory=dict)
    #: A partition of the source (a fiscal year of a FEC...): full re-imports mark only records
    #: of the same scope as deleted when they disappear.
    scope: str | None = None


class Address(CanonicalModel):
    street: str | None = None
    street2: str | None = None
    postal_code: str | None = None
    city: str | None = None
    country: str | None = None

    def lines(self) -> list[str]:
        city_line = " ".join(part for part in (self.postal_code, self.city) if part)
        return [line for line in (self.street, self.street2, city_line, self.country) if line]


class Contact(CanonicalModel):
    name: str | None = None
    email: str | None = None
    phone: str | None = None
    role: str | None = None  # "billing", "accounting", ...

    @field_validator("email")
    @classmethod
    def _email(cls, value: str | None) -> str | None:
        if value is not None and "@" not in value:
            raise ValueError(f"not an e-mail address: {value!r}")
        return value


class Company(CanonicalModel):
    """A legal entity whose receivables we protect (one per ERP company or FEC SIREN)."""

    code: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,62}$")
    name: str
    siren: Siren | None = None
    vat_number: VatNumber | None = None
    base_currency: CurrencyCode = "EUR"
    jurisdiction: Jurisdiction = "FR"
    country: str = "FR"
    address: Address | None = None
    iban: Iban | None = None
    bic: str | None = None
    email: str | None = None
    phone: str | None = None


class Source(CanonicalModel):
    """A configured origin of data for one company (an Odoo database, a FEC folder, a bank feed)."""

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_.-]{0,62}$")
    company: str
    connector: str


PaymentTermsMethod = Literal["net", "end_of_month_then_days", "days_then_end_of_month", "on_receipt"]


class PaymentTerms(CanonicalModel):
    """Agreed payment terms, as data the rules engine can compute a due date from.

    ``net`` = issue date + ``days``; ``days_then_end_of_month`` = end of month of (issue + days)
    (French "45 jours fin de mois", computation A); ``end_of_month_then_days`` = end of the issue
    month + days (computation B); ``on_receipt`` = due at issue.
    """

    code: str | None = None
    label: str | None = None
    days: int = Field(default=0, ge=0, le=3650)
    method: PaymentTermsMethod = "net"
    #: Whether the terms are expressly stipulated (required in France for "45 jours fin de mois").
    expressly_agreed: bool = True


CustomerState = Literal["active", "archived", "closed"]


class Customer(Record):
    """A customer (the commercial entity that owes us), with what the ERP knows of it."""

    entity: ClassVar[EntityName] = "customer"

    name: str = Field(min_length=1)
    #: Parent or paying company's external id, when the ERP links them (Odoo commercial partner).
    parent_id: str | None = None
    siren: Siren | None = None
    siret: Siret | None = None
    vat_number: VatNumber | None = None
    ibans: tuple[Iban, ...] = ()
    email: str | None = None
    phone: str | None = None
    contacts: tuple[Contact, ...] = ()
    address: Address | None = None
    language: str | None = None
    currency: CurrencyCode | None = None
    payment_terms: PaymentTerms | None = None
    #: Credit limit (plafond d'encours) as read from the ERP; None = no limit set.
    credit_limit: Money | None = None
    #: Risk flags / codes as read from the ERP (Odoo tags, Sage code risque...).
    risk_flags: tuple[str, ...] = ()
    risk_code: str | None = None
    blocked: bool = False
    #: A consumer (B2C) debtor: no €40 fee, legal interest from formal notice, 2-year prescription.
    is_consumer: bool = False
    #: Excluded from dunning by a person in the ERP (Sage "hors relance").
    dunning_excluded: bool = False
    segment: str | None = None
    tags: tuple[str, ...] = ()
    state: CustomerState = "active"
    created_on: dt.date | None = None


InvoiceKind = Literal["invoice", "credit_note"]
InvoiceStatus = Literal["draft", "open", "partial", "paid", "cancelled"]


class Invoice(Record):
    """A customer invoice or credit note (``kind``). Amounts are positive for both kinds.

    ``residual`` is what remains to be paid (invoice) or used (credit note), as the source states
    it or as derived from its allocations (FEC lettrage).
    """

    entity: ClassVar[EntityName] = "invoice"

    kind: InvoiceKind = "invoice"
    number: str = Field(min_length=1)
    customer_id: str = Field(min_length=1)
    issue_date: dt.date
    due_date: dt.date | None = None
    delivery_date: dt.date | None = None
    currency: CurrencyCode
    total: Money
    total_untaxed: Money | None = None
    residual: Money
    status: InvoiceStatus = "open"
    disputed: bool = False
    dispute_reason: str | None = None
    factored: bool = False
    #: Payment reference we printed on the invoice (structured RF reference or free text).
    payment_reference: str | None = None
    #: The customer's own reference (purchase order...).
    customer_reference: str | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Invoice:
        for name in ("total", "residual", "total_untaxed"):
            value: Money | None = getattr(self, name)
            if value is not None and value.currency != self.currency:
                raise ValueError(f"{name} is in {value.currency} but the invoice is in {self.currency}")
        if self.total.amount < 0:
            raise ValueError(
                "total must be positive (a credit note has kind='credit_note', not a negative total)"
            )
        if self.due_date is not None and self.due_date < self.issue_date:
            raise ValueError(f"due date {self.due_date} is before issue date {self.issue_date}")
        return self

    @property
    def is_open(self) -> bool:
        return self.status in ("open", "partial") and self.residual.amount != 0

    @property
    def signed_residual(self) -> Money:
        """Residual from the customer's debt point of view: credit notes count negative."""
        return self.residual if self.kind == "invoice" else -self.residual


class CreditNote(Invoice):
    """An avoir: an :class:`Invoice` of kind ``credit_note``."""

    kind: InvoiceKind = "credit_note"

    @field_validator("kind")
    @classmethod
    def _credit_note(cls, value: str) -> str:
        if value != "credit_note":
            raise ValueError("a CreditNote has kind 'credit_note'")
        return value


PaymentStatus = Literal["draft", "posted", "reconciled", "cancelled"]


class Payment(Record):
    """A customer payment as booked in the ERP (received money, positive amount)."""

    entity: ClassVar[EntityName] = "payment"

    customer_id: str | None = None
    date: dt.date
    amount: Money
    method: str | None = None
    reference: str | None = None
    memo: str | None = None
    status: PaymentStatus = "posted"
    #: The bank account it was received on (IBAN or journal name), when known.
    bank_account: str | None = None


BankTransactionStatus = Literal["booked", "pending", "info"]


class BankTransaction(Record):
    """One movement on a bank account, from a statement or an Open Banking API.

    ``amount`` is signed from the account holder's view: money in (a customer paying us) > 0.
    ``external_id`` is the stable identity (bank reference, FITID, else a documented hash), the
    same whichever file format carried it.
    """

    entity: ClassVar[EntityName] = "bank_transaction"
    #: The same booking read from another statement file or format (camt and MT940 of one account,
    #: overlapping statements) is the same transaction.
    provenance_fields: ClassVar[frozenset[str]] = frozenset(
        {"source_refs", "source_file", "source_position", "statement_id"}
    )

    account: str = Field(min_length=1)  # IBAN when there is one, else the bank's account id
    booking_date: dt.date
    value_date: dt.date | None = None
    amount: Money
    status: BankTransactionStatus = "booked"
    counterparty_name: str | None = None
    counterparty_iban: Iban | None = None
    #: Counterparty account when it is not an IBAN (BBAN, "Othr/Id"...).
    counterparty_account: str | None = None
    counterparty_bic: str | None = None
    remittance: str | None = None
    #: Structured creditor reference (ISO 11649 RF..., or other Strd/CdtrRefInf/Ref).
    structured_reference: str | None = None
    #: Invoice numbers given in structured remittance (camt RfrdDocInf/Nb).
    referred_documents: tuple[str, ...] = ()
    end_to_end_id: str | None = None
    bank_reference: str | None = None
    entry_reference: str | None = None
    mandate_id: str | None = None
    #: Other references by name (InstrId, TxId, UETR, PmtInfId, ChqNb...).
    references: dict[str, str] = Field(default_factory=dict)
    transaction_code: str | None = None
    reversal: bool = False
    return_reason: str | None = None
    original_amount: Money | None = None
    statement_id: str | None = None
    source_file: str | None = None
    #: Position in the source (``Stmt[1]/Ntry[3]/TxDtls[2]``, ``line 42``, ``page 2 #5``).
    source_position: str | None = None

    @property
    def is_credit(self) -> bool:
        return self.amount.amount > 0


AllocationKind = Literal["payment", "bank_transaction", "credit_note", "writeoff"]


class Allocation(Record):
    """A settlement booked in the source: a payment (or credit note, bank line) ↔ an invoice, amount.

    These are the ERP's own reconciliations (Odoo partial reconciles, FEC lettrage). The matcher's
    proposals are a different model with a status and evidence (``erp_recovery.engines.matching``).
    """

    entity: ClassVar[EntityName] = "allocation"

    invoice_id: str
    kind: AllocationKind = "payment"
    payment_id: str | None = None
    credit_note_id: str | None = None
    bank_transaction_id: str | None = None
    amount: Money
    date: dt.date | None = None

    @model_validator(mode="after")
    def _counterpart(self) -> Allocation:
        counterpart = {
            "payment": self.payment_id,
            "credit_note": self.credit_note_id,
            "bank_transaction": self.bank_transaction_id,
            "writeoff": "-",
        }[self.kind]
        if not counterpart:
            raise ValueError(f"an allocation of kind {self.kind!r} needs {self.kind}_id")
        if self.amount.amount <= 0:
            raise ValueError("an allocation amount is positive")
        return self


CanonicalRecord = Customer | Invoice | Payment | BankTransaction | Allocation

#: Canonical record classes by entity name (the store has one table per entity).
RECORD_TYPES: dict[str, type[Record]] = {
    "customer": Customer,
    "invoice": Invoice,
    "payment": Payment,
    "bank_transaction": BankTransaction,
    "allocation": Allocation,
}


def record_type(entity: str) -> type[Record]:
    try:
        return RECORD_TYPES[entity]
    except KeyError:
        raise ValueError(f"unknown entity {entity!r}; valid: {', '.join(sorted(RECORD_TYPES))}") from None


def canonical_json(record: BaseModel) -> dict[str, Any]:
    """JSON-ready dict of a record: Decimals as strings, dates ISO, no None values."""
    return record.model_dump(mode="json", exclude_none=True)


__all__ = [
    "Address",
    "Allocation",
    "BankTransaction",
    "CanonicalRecord",
    "Company",
    "Contact",
    "CreditNote",
    "Customer",
    "Invoice",
    "Payment",
    "PaymentTerms",
    "Record",
    "Source",
    "canonical_json",
    "record_type",
]
