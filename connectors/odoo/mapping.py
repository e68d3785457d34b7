"""Odoo records → the canonical model.

Inputs are the dicts Odoo's ``search_read`` returns (many2one = ``[id, "name"]`` or ``False``,
x2many = list of ids, amounts already ``Decimal``), enriched by the connector with what needs
another model (bank accounts, tag names, payment term lines, the company currency) under keys
starting with ``_``. Field names follow Odoo 18 (``account/models/account_move.py``,
``account_payment.py``, ``account_partial_reconcile.py``, ``base/models/res_partner.py``); the
Odoo 16/17 names (``account.payment.ref``, payment ``state`` = draft/posted/cancel, term lines with
``days``/``end_month``) are handled where they differ.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from erp_recovery.errors import SkippableRecord
from erp_recovery.model.identifiers import validate_iban, validate_siren, validate_siret, validate_vat
from erp_recovery.model.money import Money, to_decimal
from erp_recovery.model.records import (
    Address,
    Allocation,
    Contact,
    Customer,
    Invoice,
    Payment,
    PaymentTerms,
)

log = logging.getLogger(__name__)

_NON_DIGITS = re.compile(r"\D")


def m2o_id(value: Any) -> int | None:
    """A many2one value (``[id, name]``, ``id`` or ``False``) → the id."""
    if isinstance(value, list | tuple):
        return int(value[0]) if value else None
    if isinstance(value, int) and not isinstance(value, bool) and value:
        return value
    return None


def m2o_name(value: Any) -> str | None:
    if isinstance(value, list | tuple) and len(value) > 1:
        return str(value[1])
    return None


def text(value: Any) -> str | None:
    """Odoo's empty values (``False``, ``""``) → None; text stripped."""
    if value is False or value is None:
        return None
    stripped = str(value).strip()
    return stripped or None


def day(value: Any) -> dt.date | None:
    value = text(value)
    return dt.date.fromisoformat(value[:10]) if value else None


def money(value: Any, currency: str) -> Money:
    """An Odoo amount (Decimal, int or str; ``False`` = 0) in ``currency``, to its minor unit."""
    amount = Decimal(0) if value is False or value is None else to_decimal(value)
    return Money.of(amount, currency).quantized()


def _odoo_ref(model: str, rid: Any) -> dict[str, str]:
    return {"model": model, "id": str(rid)}


# -- customers ---------------------------------------------------------------------------------


def _identifiers(row: Mapping[str, Any]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    refs: dict[str, str] = {}
    vat = text(row.get("vat"))
    if vat:
        try:
            found["vat_number"] = validate_vat(vat)
        except ValueError:
            refs["vat"] = vat  # not an EU VAT number (US tax id...): kept for people, not validated
    for raw in (text(row.get("company_registry")), text(row.get("siret"))):
        digits = _NON_DIGITS.sub("", raw or "")
        if len(digits) == 14 and "siret" not in found:
            try:
                found["siret"] = validate_siret(digits)
                found.setdefault("siren", digits[:9])
            except ValueError:
                refs["company_registry"] = raw or ""
        elif len(digits) == 9 and "siren" not in found:
            try:
                found["siren"] = validate_siren(digits)
            except ValueError:
                refs["company_registry"] = raw or ""
        elif raw:
            refs.setdefault("company_registry", raw)
    vat_number = found.get("vat_number")
    if vat_number and vat_number.startswith("FR") and "siren" not in found:
        try:
            found["siren"] = validate_siren(vat_number[-9:])
        except ValueError:
            pass
    found["_refs"] = refs
    return found


def payment_terms(term: Mapping[str, Any] | None) -> PaymentTerms | None:
    """Odoo payment terms → canonical terms, when they are one instalment the model can express.

    Odoo 17+ lines: ``value`` (percent/fixed), ``value_amount``, ``delay_type`` (days_after,
    days_after_end_of_month, days_after_end_of_next_month, days_end_of_month_on_the), ``nb_days``.
    Odoo 16 lines: ``days``, ``end_month``, ``days_after``, ``months``. Several instalments or
    "end of next month" have no canonical form: None (the invoices' own due dates still hold).
    """
    if not term:
        return None
    lines = term.get("lines") or []
    label = text(term.get("name"))
    code = str(term.get("id"))
    if len(lines) != 1:
        return None
    line = lines[0]
    if line.get("value") not in (None, False, "balance") and not (
        line.get("value") == "percent" and to_decimal(line.get("value_amount") or 0) == 100
    ):
        return None
    if "delay_type" in line:
        days = int(line.get("nb_days") or 0)
        delay_type = line.get("delay_type")
        if delay_type == "days_after":
            method = "net" if days else "on_receipt"
            return PaymentTerms(code=code, label=label, days=days, method=method)
        if delay_type == "days_after_end_of_month":
            return PaymentTerms(code=code, label=label, days=days, method="end_of_month_then_days")
        return None
    days = int(line.get("days") or 0)
    if int(line.get("months") or 0):
        return None
    if not line.get("end_month"):
        return PaymentTerms(code=code, label=label, days=days, method="net" if days else "on_receipt")
    after = int(line.get("days_after") or 0)
    if after == 0:
        return PaymentTerms(code=code, label=label, days=days, method="days_then_end_of_month")
    if days == 0:
        return PaymentTerms(code=code, label=label, days=after, method="end_of_month_then_days")
    return None


def customer(row: Mapping[str, Any]) -> Customer:
    """A commercial partner (with ``_contacts``, ``_banks``, ``_tags``, ``_term``, ``_currency``,
    ``_risk_prefix`` and ``_has_use_limit`` added by the connector) → Customer."""
    identifiers = _identifiers(row)
    refs = {**_odoo_ref("res.partner", row["id"]), **identifiers.pop("_refs")}
    contacts = []
    for child in row.get("_contacts") or []:
        email = text(child.get("email"))
        if email and "@" not in email:
            email = None
        if not (text(child.get("name")) or email):
            continue
        contacts.append(
            Contact(
                name=text(child.get("name")),
                email=email,
                phone=text(child.get("phone")) or text(child.get("mobile")),
                role="billing" if child.get("type") == "invoice" else text(child.get("function")),
            )
        )
    email = text(row.get("email"))
    if email and "@" not in email:
        refs["email"] = email
        email = None
    if not email:
        email = next((c.email for c in contacts if c.email and c.role == "billing"), None) or next(
            (c.email for c in contacts if c.email), None
        )
    ibans = []
    for account in row.get("_banks") or []:
        try:
            ibans.append(validate_iban(str(account)))
        except ValueError:
            continue  # a national account number, not an IBAN
    currency = str(row["_currency"])
    limit = row.get("credit_limit")
    if row.get("_has_use_limit"):
        credit_limit = money(limit, currency) if row.get("use_partner_credit_limit") else None
    else:
        credit_limit = money(limit, currency) if limit else None
    tags = tuple(str(tag) for tag in row.get("_tags") or ())
    prefix = row.get("_risk_prefix")
    risk_flags = tuple(tag[len(prefix) :].strip() for tag in tags if prefix and tag.startswith(prefix))
    risk_field = row.get("_risk_field")
    if risk_field and text(row.get(risk_field)):
        risk_flags = (str(text(row.get(risk_field))),)
    trust = text(row.get("trust"))
    flags = risk_flags + ((f"odoo_trust:{trust}",) if trust and trust != "normal" else ())
    country = text(row.get("country_code"))
    address = Address(
        street=text(row.get("street")),
        street2=text(row.get("street2")),
        postal_code=text(row.get("zip")),
        city=text(row.get("city")),
        country=country,
    )
    created = day(row.get("create_date"))
    return Customer(
        external_id=str(row["id"]),
        source_refs=refs,
        name=text(row.get("name")) or f"Odoo partner {row['id']}",
        email=email,
        phone=text(row.get("phone")) or text(row.get("mobile")),
        contacts=tuple(contacts),
        address=address if address.lines() else None,
        language=text(row.get("lang")),
        ibans=tuple(dict.fromkeys(ibans)),
        payment_terms=payment_terms(row.get("_term")),
        credit_limit=credit_limit,
        risk_flags=flags,
        risk_code=risk_flags[0] if risk_flags else None,
        tags=tags,
        state="active" if row.get("active", True) else "archived",
        created_on=created,
        **identifiers,
    )


# -- invoices ----------------------------------------------------------------------------------

_INVOICE_KINDS = {"out_invoice": "invoice", "out_refund": "credit_note"}


def invoice(row: Mapping[str, Any]) -> Invoice:
    kind = _INVOICE_KINDS.get(str(row.get("move_type")))
    if kind is None:
        raise SkippableRecord(f"not a customer invoice or credit note (move_type {row.get('move_type')!r})",
                              record_id=f"account.move {row['id']}")  # fmt: skip
    currency = m2o_name(row.get("currency_id"))
    customer_id = m2o_id(row.get("commercial_partner_id")) or m2o_id(row.get("partner_id"))
    if not currency or not customer_id:
        raise SkippableRecord("invoice without currency or partner", record_id=f"account.move {row['id']}")
    issue = day(row.get("invoice_date")) or day(row.get("date"))
    if issue is None:
        raise SkippableRecord("invoice without invoice_date nor date", record_id=f"account.move {row['id']}")
    total = money(row.get("amount_total"), currency)
    residual = money(row.get("amount_residual"), currency)
    state = row.get("state")
    if state == "cancel":
        status = "cancelled"
    elif state == "draft":
        status = "draft"
    elif residual.is_zero():
        status = "paid"
    elif residual.amount < total.amount:
        status = "partial"
    else:
        status = "open"
    refs = _odoo_ref("account.move", row["id"])
    partner = m2o_id(row.get("partner_id"))
    if partner and partner != customer_id:
        refs["partner_id"] = str(partner)
    if text(row.get("payment_state")):
        refs["payment_state"] = str(row["payment_state"])
    untaxed = row.get("amount_untaxed")
    return Invoice(
        external_id=str(row["id"]),
        source_refs=refs,
        kind=kind,
        number=text(row.get("name")) or f"account.move {row['id']}",
        customer_id=str(customer_id),
        issue_date=issue,
        due_date=day(row.get("invoice_date_due")) or row.get("_due_from_lines"),
        delivery_date=day(row.get("delivery_date")),
        currency=currency,
        total=total,
        total_untaxed=money(untaxed, currency) if untaxed not in (None, False) else None,
        residual=residual,
        status=status,
        payment_reference=text(row.get("payment_reference")),
        customer_reference=text(row.get("ref")),
    )


# -- payments ----------------------------------------------------------------------------------

_PAYMENT_STATES = {
    "draft": "draft",
    "posted": "posted",
    "in_process": "posted",
    "paid": "reconciled",
    "cancel": "cancelled",
    "canceled": "cancelled",
    "rejected": "cancelled",
}


def payment(row: Mapping[str, Any]) -> Payment:
    """An inbound ``account.payment`` (``_customer_id`` and ``_memo_field`` added by the connector)."""
    currency = m2o_name(row.get("currency_id"))
    if not currency:
        raise SkippableRecord("payment without currency", record_id=f"account.payment {row['id']}")
    status = _PAYMENT_STATES.get(str(row.get("state")), "posted")
    if status == "posted" and row.get("is_reconciled"):
        status = "reconciled"
    date = day(row.get("date"))
    if date is None:
        raise SkippableRecord("payment without date", record_id=f"account.payment {row['id']}")
    memo_field = row.get("_memo_field") or "memo"
    return Payment(
        external_id=str(row["id"]),
        source_refs=_odoo_ref("account.payment", row["id"]),
        customer_id=row.get("_customer_id"),
        date=date,
        amount=money(row.get("amount"), currency),
        method=m2o_name(row.get("payment_method_line_id")),
        reference=text(row.get("name")),
        memo=text(row.get(memo_field)) or text(row.get("payment_reference")),
        status=status,
        bank_account=m2o_name(row.get("journal_id")),
    )


STATEMENT_LINE_PREFIX = "st-"


def statement_receipt(row: Mapping[str, Any]) -> Payment:
    """A bank statement line reconciled directly with receivables (no account.payment)."""
    currency = m2o_name(row.get("currency_id"))
    date = day(row.get("date"))
    if not currency or date is None:
        raise SkippableRecord(
            "statement line without currency or date", record_id=f"account.bank.statement.line {row['id']}"
        )
    return Payment(
        external_id=f"{STATEMENT_LINE_PREFIX}{row['id']}",
        source_refs=_odoo_ref("account.bank.statement.line", row["id"]),
        customer_id=row.get("_customer_id"),
        date=date,
        amount=money(row.get("amount"), currency),
        method="bank statement",
        reference=text(row.get("name")) or text(row.get("move_name")),
        memo=text(row.get("payment_ref")),
        status="reconciled" if row.get("is_reconciled") else "posted",
        bank_account=m2o_name(row.get("journal_id")),
    )


# -- allocations --------------------------------------------------------------------------------


def allocation_scope(line_id: int) -> str:
    """Allocations are partitioned by the invoice's receivable line: re-reading a line's
    reconciliations tells which of its allocations still exist (an unreconciliation deletes Odoo's
    partial reconcile and recomputes the line, so the line is read again)."""
    return f"aml:{line_id}"


def allocation(row: Mapping[str, Any]) -> Allocation:
    """An ``account.partial.reconcile`` whose debit line is a customer invoice's receivable line.

    Added by the connector: ``_line_id`` (the invoice's receivable line), ``_invoice_id``,
    ``_currency``, ``_amount`` (the partial's amount in the invoice currency), ``_kind`` and
    ``_counterpart`` (payment id, credit note id...).
    """
    kind = row["_kind"]
    counterpart = row.get("_counterpart")
    return Allocation(
        external_id=str(row["id"]),
        source_refs=_odoo_ref("account.partial.reconcile", row["id"]),
        scope=allocation_scope(int(row["_line_id"])),
        invoice_id=str(row["_invoice_id"]),
        kind=kind,
        payment_id=counterpart if kind == "payment" else None,
        credit_note_id=counterpart if kind == "credit_note" else None,
        amount=money(row["_amount"], str(row["_currency"])),
        date=day(row.get("max_date")),
    )
