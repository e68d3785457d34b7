"""Field definitions of the stand-in's models.

Models with a recording (``recordings/18.0/fields_get.<model>.json``) use the recorded
``fields_get`` answer as is. The few models the connector touches without a recording are declared
here, field by field, after Odoo 18's sources (``addons/account/models/account_partial_reconcile.py``,
``account_payment_term.py``, ``addons/base/models/res_bank.py``, ``res_company.py``, ``ir_model.py``,
``addons/mail/models/mail_message.py``); they carry only the fields the connector and tests use.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

RECORDINGS = Path(__file__).parent / "recordings" / "18.0"

RECORDED_MODELS = (
    "res.partner",
    "res.partner.category",
    "account.move",
    "account.move.line",
    "account.payment",
    "account.bank.statement.line",
    "account.payment.term",
    "mail.activity",
    "mail.activity.type",
)


def _f(
    ftype: str, string: str, relation: str | None = None, readonly: bool = False, **extra: Any
) -> dict[str, Any]:
    spec: dict[str, Any] = {"type": ftype, "string": string, "readonly": readonly, "required": False}
    if relation:
        spec["relation"] = relation
    spec.update(extra)
    return spec


_LOG_ACCESS = {
    "id": _f("integer", "ID", readonly=True),
    "display_name": _f("char", "Display Name", readonly=True),
    "create_uid": _f("many2one", "Created by", "res.users", readonly=True),
    "create_date": _f("datetime", "Created on", readonly=True),
    "write_uid": _f("many2one", "Last Updated by", "res.users", readonly=True),
    "write_date": _f("datetime", "Last Updated on", readonly=True),
}

DECLARED_FIELDS: dict[str, dict[str, dict[str, Any]]] = {
    "account.partial.reconcile": {
        "debit_move_id": _f("many2one", "Debit Journal Item", "account.move.line"),
        "credit_move_id": _f("many2one", "Credit Journal Item", "account.move.line"),
        "full_reconcile_id": _f("many2one", "Full Reconcile", "account.full.reconcile"),
        "exchange_move_id": _f("many2one", "Exchange Move", "account.move"),
        "company_currency_id": _f("many2one", "Company Currency", "res.currency", readonly=True),
        "debit_currency_id": _f(
            "many2one", "Currency of the debit journal item", "res.currency", readonly=True
        ),
        "credit_currency_id": _f(
            "many2one", "Currency of the credit journal item", "res.currency", readonly=True
        ),
        "amount": _f("monetary", "Amount"),
        "debit_amount_currency": _f("monetary", "Debit amount in currency"),
        "credit_amount_currency": _f("monetary", "Credit amount in currency"),
        "company_id": _f("many2one", "Company", "res.company", readonly=True),
        "max_date": _f("date", "Max Date of Matched Lines", readonly=True),
        **_LOG_ACCESS,
    },
    "account.payment.term.line": {
        "value": _f("selection", "Type", selection=[["percent", "Percent"], ["fixed", "Fixed"]]),
        "value_amount": _f("float", "Due"),
        "delay_type": _f(
            "selection",
            "Delay Type",
            selection=[
                ["days_after", "Days after invoice date"],
                ["days_after_end_of_month", "Days after end of month"],
                ["days_after_end_of_next_month", "Days after end of next month"],
                ["days_end_of_month_on_the", "Days end of month on the"],
            ],
        ),
        "nb_days": _f("integer", "Days"),
        "days_next_month": _f("char", "Days on the next month"),
        "payment_id": _f("many2one", "Payment Terms", "account.payment.term"),
        **_LOG_ACCESS,
    },
    "res.partner.bank": {
        "acc_number": _f("char", "Account Number"),
        "sanitized_acc_number": _f("char", "Sanitized Account Number", readonly=True),
        "partner_id": _f("many2one", "Account Holder", "res.partner"),
        "bank_id": _f("many2one", "Bank", "res.bank"),
        "active": _f("boolean", "Active"),
        "company_id": _f("many2one", "Company", "res.company"),
        **_LOG_ACCESS,
    },
    "res.company": {
        "name": _f("char", "Company Name"),
        "currency_id": _f("many2one", "Currency", "res.currency"),
        "partner_id": _f("many2one", "Partner", "res.partner"),
        "country_id": _f("many2one", "Country", "res.country"),
        **_LOG_ACCESS,
    },
    "res.currency": {
        "name": _f("char", "Currency"),
        "decimal_places": _f("integer", "Decimal Places", readonly=True),
        "active": _f("boolean", "Active"),
        **_LOG_ACCESS,
    },
    "res.country": {
        "name": _f("char", "Country Name"),
        "code": _f("char", "Country Code"),
        **_LOG_ACCESS,
    },
    "res.users": {
        "name": _f("char", "Name"),
        "login": _f("char", "Login"),
        "partner_id": _f("many2one", "Related Partner", "res.partner"),
        "company_id": _f("many2one", "Company", "res.company"),
        "company_ids": _f("many2many", "Companies", "res.company"),
        "active": _f("boolean", "Active"),
        **_LOG_ACCESS,
    },
    "ir.model": {
        "name": _f("char", "Model Description"),
        "model": _f("char", "Model"),
        **_LOG_ACCESS,
    },
    "mail.message": {
        "model": _f("char", "Related Document Model"),
        "res_id": _f("integer", "Related Document ID"),
        "body": _f("html", "Contents"),
        "message_type": _f(
            "selection",
            "Type",
            selection=[["email", "Email"], ["comment", "Comment"], ["notification", "System notification"]],
        ),
        "subtype_id": _f("many2one", "Subtype", "mail.message.subtype"),
        "author_id": _f("many2one", "Author", "res.partner"),
        "date": _f("datetime", "Date"),
        **_LOG_ACCESS,
    },
    "account.account": {
        "name": _f("char", "Account Name"),
        "code": _f("char", "Code"),
        "account_type": _f(
            "selection",
            "Type",
            selection=[
                ["asset_receivable", "Receivable"],
                ["asset_cash", "Bank and Cash"],
                ["income", "Income"],
            ],
        ),
        **_LOG_ACCESS,
    },
    "account.journal": {
        "name": _f("char", "Journal Name"),
        "code": _f("char", "Short Code"),
        "type": _f(
            "selection", "Type", selection=[["sale", "Sales"], ["bank", "Bank"], ["general", "Miscellaneous"]]
        ),
        **_LOG_ACCESS,
    },
    "account.payment.method.line": {"name": _f("char", "Name"), **_LOG_ACCESS},
}


@dataclass
class ModelInfo:
    """What the stand-in knows of one model besides its records."""

    name: str
    description: str
    fields: dict[str, dict[str, Any]]
    order: str = "id"
    mail_thread: bool = False

    @property
    def has_active(self) -> bool:
        return "active" in self.fields


_DESCRIPTIONS = {
    "res.partner": "Contact",
    "res.partner.category": "Partner Tags",
    "res.partner.bank": "Bank Accounts",
    "res.company": "Companies",
    "res.currency": "Currency",
    "res.country": "Country",
    "res.users": "User",
    "account.move": "Journal Entry",
    "account.move.line": "Journal Item",
    "account.payment": "Payments",
    "account.bank.statement.line": "Bank Statement Line",
    "account.payment.term": "Payment Terms",
    "account.payment.term.line": "Payment Terms Line",
    "account.partial.reconcile": "Partial Reconcile",
    "account.account": "Account",
    "account.journal": "Journal",
    "account.payment.method.line": "Payment Methods",
    "mail.activity": "Activity",
    "mail.activity.type": "Activity Type",
    "mail.message": "Message",
    "ir.model": "Models",
}

# Default orders (``_order``) of Odoo 18 models, used when a search gives none.
_ORDERS = {
    "res.partner": "complete_name asc, id desc",
    "account.move": "date desc, name desc, id desc",
    "account.move.line": "date desc, move_name desc, id",
    "account.payment": "date desc, name desc",
    "mail.activity": "date_deadline asc, id asc",
    "mail.message": "id desc",
}

_MAIL_THREADS = {"res.partner", "account.move", "account.payment"}


def load_models() -> dict[str, ModelInfo]:
    models: dict[str, ModelInfo] = {}
    for name in RECORDED_MODELS:
        recording = json.loads((RECORDINGS / f"fields_get.{name}.json").read_text(encoding="utf-8"))
        fields = recording["response"]["body"]["result"]
        models[name] = ModelInfo(
            name=name,
            description=_DESCRIPTIONS.get(name, name),
            fields=fields,
            order=_ORDERS.get(name, "id"),
            mail_thread=name in _MAIL_THREADS,
        )
    for name, fields in DECLARED_FIELDS.items():
        models[name] = ModelInfo(
            name=name,
            description=_DESCRIPTIONS.get(name, name),
            fields=fields,
            order=_ORDERS.get(name, "id"),
            mail_thread=name in _MAIL_THREADS,
        )
    return models


def recording(name: str) -> dict[str, Any]:
    """One recording file (``request``/``response``) by its file name without ``.json``."""
    data: dict[str, Any] = json.loads((RECORDINGS / f"{name}.json").read_text(encoding="utf-8"))
    return data


def recorded_result(name: str) -> Any:
    return recording(name)["response"]["body"]["result"]
