"""The stand-in's data, built from the Odoo 18 recordings, plus generators for bigger data sets.

What comes from the recordings (``recordings/18.0``): the eight customers with their credit
fields and tags (``search_read.res.partner.customers``), the twenty posted customer invoices and
credit notes (``search_read.account.move.customer_posted``) and the two more the open receivable
lines name (INV/2026/00015 and the EUR invoice INV/2026/00017), the open receivable lines with
their residuals and matching numbers (``search_read.account.move.line.receivable_open``), the five
inbound payments and which invoices they settle (``search_read.account.payment.inbound``), partner
tags, payment terms, activity types and activities, the users the error recordings show (admin
uid 2, demo uid 6, portal "Joel Willis" uid 7) and the ``ir.model`` id of ``account.move`` (427).

What is derived, because the recordings only imply it: the receivable line of each move is the
last id of its ``line_ids`` (true of every recorded open line); reconciled receivable lines, the
payments' journal items and the partial reconciliations are rebuilt so that every recorded
residual, ``payment_state`` and matching number ("P1", "P4" = partial reconcile ids 1 and 4) holds;
payment term lines follow Odoo 18's ``account/data/account_payment_term_data.xml``. Nothing else is
invented: the recording of posted moves stops at 20 records, so Wood Corner's open invoice (its
``credit`` is 7300.0) is not known and not made up.
"""

from __future__ import annotations

import datetime as dt
import itertools
import random
from typing import Any

from .orm import (
    G_ACCESS_RIGHTS,
    G_ACCOUNT_READONLY,
    G_BILLING,
    G_CONTACT_CREATION,
    G_USER,
    StandinDatabase,
    User,
)
from .schema import recorded_result

RECEIVABLE_ACCOUNT = 7
INCOME_ACCOUNT = 21
OUTSTANDING_RECEIPTS_ACCOUNT = 45
SALES_JOURNAL = 1
BANK_JOURNAL = 6
USD = 1
EUR = 125
COMPANY = 1

ADMIN_UID = 2
DEMO_UID = 6
PORTAL_UID = 7
ADMIN_API_KEY = "0c9b3e1f5d7a4b2e8f6a1c3d5e7f9a0b2c4d6e8f"


def _id(value: Any) -> Any:
    """A many2one as recorded ([id, name]) -> the stored id."""
    return value[0] if isinstance(value, list) and value else value


def _put(db: StandinDatabase, model: str, rid: int, values: dict[str, Any]) -> None:
    record = dict(values)
    record.pop("id", None)
    db.records[model][rid] = record


def base_database(name: str = "erp_test") -> StandinDatabase:
    """Users, company, currencies, accounts, journals: what every stand-in database has."""
    db = StandinDatabase(name)
    stamp = "2026-11-22 09:58:33"
    everything = frozenset({G_USER, G_BILLING, G_ACCOUNT_READONLY, G_ACCESS_RIGHTS, G_CONTACT_CREATION})
    db.add_user(User(1, "__system__", "", "OdooBot", everything, partner_id=2))
    db.add_user(
        User(ADMIN_UID, "admin", "admin", "Mitchell Admin", everything, partner_id=3, api_key=ADMIN_API_KEY)
    )
    db.add_user(User(DEMO_UID, "demo", "demo", "Marc Demo", frozenset({G_USER}), partner_id=5))
    db.add_user(User(PORTAL_UID, "portal", "portal", "Joel Willis", frozenset(), partner_id=8, portal=True))
    for uid, user in db.users.items():
        _put(db, "res.users", uid, {"name": user.name, "login": user.login, "partner_id": user.partner_id,
                                    "company_id": COMPANY, "company_ids": [COMPANY], "active": True,
                                    "create_date": stamp, "write_date": stamp})  # fmt: skip
    _put(db, "res.currency", USD, {"name": "USD", "decimal_places": 2, "active": True})
    _put(db, "res.currency", EUR, {"name": "EUR", "decimal_places": 2, "active": True})
    _put(db, "res.country", 233, {"name": "United States", "code": "US"})
    _put(db, "res.country", 20, {"name": "Belgium", "code": "BE"})
    _put(db, "res.country", 75, {"name": "France", "code": "FR"})
    _put(
        db,
        "res.company",
        COMPANY,
        {"name": "YourCompany", "currency_id": USD, "partner_id": 1, "country_id": 233},
    )
    for pid, pname, company in ((1, "YourCompany", True), (2, "OdooBot", False), (3, "Mitchell Admin", False),
                                (5, "Marc Demo", False), (8, "Joel Willis", False)):  # fmt: skip
        _put(db, "res.partner", pid, {"name": pname, "is_company": company, "active": True, "customer_rank": 0,
                                      "type": "contact", "create_date": stamp, "write_date": stamp})  # fmt: skip
    _put(db, "account.account", RECEIVABLE_ACCOUNT,
         {"name": "Account Receivable", "code": "121000", "account_type": "asset_receivable"})  # fmt: skip
    _put(
        db,
        "account.account",
        INCOME_ACCOUNT,
        {"name": "Product Sales", "code": "400000", "account_type": "income"},
    )
    _put(db, "account.account", OUTSTANDING_RECEIPTS_ACCOUNT,
         {"name": "Outstanding Receipts", "code": "101402", "account_type": "asset_cash"})  # fmt: skip
    _put(db, "account.journal", SALES_JOURNAL, {"name": "Customer Invoices", "code": "INV", "type": "sale"})
    _put(db, "account.journal", BANK_JOURNAL, {"name": "Bank", "code": "BNK1", "type": "bank"})
    _put(db, "account.payment.method.line", 1, {"name": "Manual Payment (Bank)"})
    _put(db, "ir.model", 427, {"name": "Journal Entry", "model": "account.move"})
    _put(db, "ir.model", 85, {"name": "Contact", "model": "res.partner"})
    _put(db, "ir.model", 431, {"name": "Payments", "model": "account.payment"})
    _seed_payment_terms(db)
    for row in recorded_result("search_read.mail.activity.type"):
        _put(db, "mail.activity.type", row["id"], {**row, "create_date": stamp, "write_date": stamp})
    for row in recorded_result("search_read.res.partner.category"):
        _put(db, "res.partner.category", row["id"],
             {**row, "parent_id": _id(row["parent_id"]), "create_date": stamp, "write_date": stamp})  # fmt: skip
    db.sequences.pop("mail.message", None)
    db.records["mail.message"].clear()
    return db


def _seed_payment_terms(db: StandinDatabase) -> None:
    lines = {  # term id -> [(line id, value, value_amount, delay_type, nb_days, days_next_month)]
        1: [(1, "percent", 100.0, "days_after", 0, False)],
        2: [(2, "percent", 100.0, "days_after", 15, False)],
        3: [(3, "percent", 100.0, "days_after", 21, False)],
        4: [(4, "percent", 100.0, "days_after", 30, False)],
        5: [(5, "percent", 100.0, "days_after", 45, False)],
        6: [(6, "percent", 100.0, "days_after_end_of_next_month", 0, False)],
        7: [(7, "percent", 100.0, "days_after_end_of_next_month", 10, False)],
        8: [(8, "percent", 30.0, "days_after", 0, False), (9, "percent", 70.0, "days_after", 60, False)],
        9: [(10, "percent", 100.0, "days_after", 30, False)],
        10: [(11, "percent", 100.0, "days_end_of_month_on_the", 90, "10")],
        11: [(12, "percent", 30.0, "days_after", 0, False),
             (13, "percent", 70.0, "days_after_end_of_next_month", 0, False)],
    }  # fmt: skip
    for row in recorded_result("search_read.account.payment.term"):
        values = {k: v for k, v in row.items() if k != "line_ids"}
        _put(db, "account.payment.term", row["id"], values)
        for line_id, value, amount, delay_type, nb_days, next_month in lines[row["id"]]:
            _put(db, "account.payment.term.line", line_id, {
                "value": value, "value_amount": amount, "delay_type": delay_type, "nb_days": nb_days,
                "days_next_month": next_month, "payment_id": row["id"]})  # fmt: skip


def recorded_database(name: str = "erp_test") -> StandinDatabase:
    """The database the recordings were taken from, as far as they show it."""
    db = base_database(name)
    _seed_partners(db)
    _seed_moves(db)
    _seed_payments(db)
    for row in recorded_result("search_read.mail.activity"):
        values = {**row, "activity_type_id": _id(row["activity_type_id"]), "user_id": _id(row["user_id"]),
                  "res_model_id": 427, "active": True, "create_date": "2026-11-22 09:59:13",
                  "write_date": "2026-11-22 09:59:13"}  # fmt: skip
        values.pop("res_model", None)
        values.pop("state", None)
        _put(db, "mail.activity", row["id"], values)
    # action_feedback in the recordings returns message id 185: the next message id.
    db.sequences["mail.message"] = itertools.count(185)
    return db


_PARTNER_COMPUTED = ("credit", "debit", "commercial_partner_id", "display_name")


def _seed_partners(db: StandinDatabase) -> None:
    for row in recorded_result("search_read.res.partner.customers"):
        values = {k: _id(v) for k, v in row.items() if k not in _PARTNER_COMPUTED}
        values["category_id"] = list(row["category_id"])
        values["type"] = "contact"
        _put(db, "res.partner", row["id"], values)


def _move_values(row: dict[str, Any]) -> dict[str, Any]:
    skip = {"line_ids", "commercial_partner_id"}
    values = {k: _id(v) for k, v in row.items() if k not in skip}
    values["posted_before"] = True
    values["statement_line_id"] = False
    return values


def _seed_moves(db: StandinDatabase) -> None:
    open_lines = {row["id"]: row for row in recorded_result("search_read.account.move.line.receivable_open")}
    moves = recorded_result("search_read.account.move.customer_posted")
    for row in moves:
        _put(db, "account.move", row["id"], _move_values(row))
        *other_lines, receivable_id = row["line_ids"]
        sign = 1 if row["move_type"] == "out_invoice" else -1
        total_company = abs(row["amount_total_signed"])
        residual_company = abs(row["amount_residual_signed"])
        recorded_line = open_lines.get(receivable_id)
        _put(db, "account.move.line", receivable_id, {
            "move_id": row["id"], "partner_id": _id(row["partner_id"]), "account_id": RECEIVABLE_ACCOUNT,
            "name": row["payment_reference"] or row["name"], "date": row["date"],
            "date_maturity": row["invoice_date_due"], "journal_id": SALES_JOURNAL, "company_id": COMPANY,
            "debit": total_company if sign > 0 else 0.0, "credit": total_company if sign < 0 else 0.0,
            "balance": sign * total_company, "amount_currency": sign * row["amount_total"],
            "currency_id": _id(row["currency_id"]), "amount_residual": sign * residual_company,
            "amount_residual_currency": sign * row["amount_residual"],
            "matching_number": recorded_line["matching_number"] if recorded_line else False,
            "reconciled": row["amount_residual"] == 0, "display_type": "payment_term",
            "create_date": row["create_date"], "write_date": row["write_date"],
        })  # fmt: skip
        share = round(total_company / len(other_lines), 2) if other_lines else 0.0
        for index, line_id in enumerate(other_lines):
            amount = share if index < len(other_lines) - 1 else round(total_company - share * index, 2)
            _put(db, "account.move.line", line_id, {
                "move_id": row["id"], "partner_id": _id(row["partner_id"]), "account_id": INCOME_ACCOUNT,
                "name": "Product", "date": row["date"], "journal_id": SALES_JOURNAL, "company_id": COMPANY,
                "debit": amount if sign < 0 else 0.0, "credit": amount if sign > 0 else 0.0,
                "balance": -sign * amount, "amount_currency": -sign * amount, "currency_id": _id(row["currency_id"]),
                "display_type": "product", "create_date": row["create_date"], "write_date": row["write_date"],
            })  # fmt: skip
    # Moves that only the open receivable lines show (the posted-moves recording stops at 20).
    known = {row["id"] for row in moves}
    for line in open_lines.values():
        move_id = _id(line["move_id"])
        if move_id in known or line["move_name"].startswith("PBNK"):
            continue
        known.add(move_id)
        display = line["move_id"][1]
        ref = display.split("(", 1)[1].rstrip(")") if "(" in display else False
        currency = _id(line["currency_id"])
        total = abs(line["amount_currency"])
        _put(db, "account.move", move_id, {
            "name": line["move_name"], "ref": ref, "move_type": "out_invoice", "state": "posted",
            "partner_id": _id(line["partner_id"]), "company_id": COMPANY, "journal_id": SALES_JOURNAL,
            "currency_id": currency, "date": line["date"], "invoice_date": line["date"],
            "invoice_date_due": line["date_maturity"], "invoice_payment_term_id": 4,
            "payment_reference": line["move_name"], "invoice_origin": False, "amount_untaxed": total,
            "amount_tax": 0.0, "amount_total": total, "amount_residual": abs(line["amount_residual_currency"]),
            "amount_total_signed": line["balance"], "amount_residual_signed": line["amount_residual"],
            "amount_total_in_currency_signed": line["amount_currency"], "payment_state": "not_paid",
            "reversed_entry_id": False, "invoice_user_id": False, "posted_before": True,
            "statement_line_id": False, "create_date": line["write_date"], "write_date": line["write_date"],
        })  # fmt: skip
        _put(db, "account.move.line", line["id"], {
            **{k: _id(v) for k, v in line.items() if k not in ("id", "move_name")},
            "journal_id": SALES_JOURNAL, "company_id": COMPANY, "name": line["move_name"],
            "display_type": "payment_term", "create_date": line["write_date"],
        })  # fmt: skip


def _seed_payments(db: StandinDatabase) -> None:
    open_lines = {row["id"]: row for row in recorded_result("search_read.account.move.line.receivable_open")}
    payment_line_ids = iter(range(300, 10**6))
    for partial_id, row in enumerate(recorded_result("search_read.account.payment.inbound"), start=1):
        move_id = _id(row["move_id"])
        values = {k: _id(v) for k, v in row.items() if k not in ("reconciled_invoice_ids",)}
        values["reconciled_invoice_ids"] = list(row["reconciled_invoice_ids"])
        _put(db, "account.payment", row["id"], values)
        stamp = row["write_date"]
        _put(db, "account.move", move_id, {
            "name": row["name"], "ref": row["memo"], "move_type": "entry", "state": "posted",
            "partner_id": _id(row["partner_id"]), "company_id": COMPANY, "journal_id": BANK_JOURNAL,
            "currency_id": _id(row["currency_id"]), "date": row["date"], "origin_payment_id": row["id"],
            "statement_line_id": False, "posted_before": True, "create_date": stamp, "write_date": stamp,
        })  # fmt: skip
        recorded_credit = next(
            (line for line in open_lines.values() if _id(line["move_id"]) == move_id), None
        )
        credit_line_id = recorded_credit["id"] if recorded_credit else next(payment_line_ids)
        invoice_ids = row["reconciled_invoice_ids"]
        amount = row["amount"]
        _put(db, "account.move.line", credit_line_id, {
            "move_id": move_id, "partner_id": _id(row["partner_id"]), "account_id": RECEIVABLE_ACCOUNT,
            "name": row["memo"], "date": row["date"], "date_maturity": row["date"], "journal_id": BANK_JOURNAL,
            "company_id": COMPANY, "debit": 0.0, "credit": amount, "balance": -amount, "amount_currency": -amount,
            "currency_id": _id(row["currency_id"]), "amount_residual": 0.0 if invoice_ids else -amount,
            "amount_residual_currency": 0.0 if invoice_ids else -amount, "reconciled": bool(invoice_ids),
            "payment_id": row["id"], "matching_number": f"P{partial_id}" if invoice_ids else False,
            "create_date": stamp, "write_date": stamp,
        })  # fmt: skip
        _put(db, "account.move.line", next(payment_line_ids), {
            "move_id": move_id, "partner_id": _id(row["partner_id"]), "account_id": OUTSTANDING_RECEIPTS_ACCOUNT,
            "name": row["memo"], "date": row["date"], "journal_id": BANK_JOURNAL, "company_id": COMPANY,
            "debit": amount, "credit": 0.0, "balance": amount, "amount_currency": amount,
            "currency_id": _id(row["currency_id"]), "payment_id": row["id"], "create_date": stamp, "write_date": stamp,
        })  # fmt: skip
        for invoice_id in invoice_ids:
            invoice_line = db.records["account.move"][invoice_id]
            debit_line_id = max(
                rid for rid, line in db.records["account.move.line"].items()
                if line["move_id"] == invoice_id and line["account_id"] == RECEIVABLE_ACCOUNT
            )  # fmt: skip
            _put(db, "account.partial.reconcile", partial_id, {
                "debit_move_id": debit_line_id, "credit_move_id": credit_line_id, "amount": amount,
                "debit_amount_currency": amount, "credit_amount_currency": amount,
                "debit_currency_id": invoice_line["currency_id"], "credit_currency_id": _id(row["currency_id"]),
                "company_currency_id": USD, "company_id": COMPANY, "max_date": row["date"],
                "create_date": stamp, "write_date": stamp,
            })  # fmt: skip
            db.records["account.move.line"][debit_line_id]["matching_number"] = f"P{partial_id}"


# -- helpers the tests use to play accounting events -----------------------------------------------


def add_customer(db: StandinDatabase, name: str, **values: Any) -> int:
    with db.lock:
        return db.create("res.partner", [{"name": name, "is_company": True, "customer_rank": 1, **values}])[0]


def add_invoice(
    db: StandinDatabase,
    partner_id: int,
    amount: float,
    invoice_date: str,
    due_date: str,
    *,
    number: str | None = None,
    currency_id: int = USD,
    move_type: str = "out_invoice",
    ref: str | bool = False,
    stamp: str | None = None,
) -> int:
    """A posted customer invoice (or credit note) with one income line and one receivable line."""
    with db.lock:
        stamp = stamp or db.clock.tick()
        move_id = db.next_id("account.move")
        sign = 1 if move_type == "out_invoice" else -1
        prefix = "INV" if move_type == "out_invoice" else "RINV"
        name = number or f"{prefix}/{invoice_date[:4]}/{move_id:05d}"
        db.records["account.move"][move_id] = {
            "name": name, "ref": ref, "move_type": move_type, "state": "posted", "partner_id": partner_id,
            "company_id": COMPANY, "journal_id": SALES_JOURNAL, "currency_id": currency_id, "date": invoice_date,
            "invoice_date": invoice_date, "invoice_date_due": due_date, "invoice_payment_term_id": False,
            "payment_reference": name, "invoice_origin": False, "amount_untaxed": amount, "amount_tax": 0.0,
            "amount_total": amount, "amount_residual": amount, "amount_total_signed": sign * amount,
            "amount_residual_signed": sign * amount, "amount_total_in_currency_signed": sign * amount,
            "payment_state": "not_paid", "reversed_entry_id": False, "invoice_user_id": False,
            "posted_before": True, "statement_line_id": False, "create_date": stamp, "write_date": stamp,
        }  # fmt: skip
        for account, debit in ((INCOME_ACCOUNT, sign < 0), (RECEIVABLE_ACCOUNT, sign > 0)):
            line_id = db.next_id("account.move.line", start=1000)
            db.records["account.move.line"][line_id] = {
                "move_id": move_id, "partner_id": partner_id, "account_id": account, "name": name,
                "date": invoice_date, "date_maturity": due_date, "journal_id": SALES_JOURNAL, "company_id": COMPANY,
                "debit": amount if debit else 0.0, "credit": 0.0 if debit else amount,
                "balance": amount if debit else -amount, "amount_currency": amount if debit else -amount,
                "currency_id": currency_id,
                "amount_residual": (amount if debit else -amount) if account == RECEIVABLE_ACCOUNT else 0.0,
                "amount_residual_currency": (amount if debit else -amount) if account == RECEIVABLE_ACCOUNT else 0.0,
                "reconciled": False, "display_type": "payment_term" if account == RECEIVABLE_ACCOUNT else "product",
                "create_date": stamp, "write_date": stamp,
            }  # fmt: skip
        db._invalidate("account.move.line")
        db._invalidate("account.move")
        return move_id


def receivable_line(db: StandinDatabase, move_id: int) -> int:
    return max(
        rid for rid, line in db.records["account.move.line"].items()
        if line["move_id"] == move_id and line["account_id"] == RECEIVABLE_ACCOUNT
    )  # fmt: skip


def add_payment(db: StandinDatabase, partner_id: int, amount: float, date: str, memo: str) -> int:
    """A posted inbound customer payment with its journal entry (receivable line left open)."""
    with db.lock:
        stamp = db.clock.tick()
        payment_id = db.next_id("account.payment")
        move_id = db.next_id("account.move")
        name = f"PBNK1/{date[:4]}/{payment_id:05d}"
        db.records["account.payment"][payment_id] = {
            "name": name, "state": "in_process", "payment_type": "inbound", "partner_type": "customer",
            "partner_id": partner_id, "amount": amount, "currency_id": USD, "date": date, "memo": memo,
            "payment_reference": False, "journal_id": BANK_JOURNAL, "payment_method_line_id": 1,
            "company_id": COMPANY, "move_id": move_id, "is_reconciled": False, "is_matched": False,
            "reconciled_invoice_ids": [], "create_date": stamp, "write_date": stamp,
        }  # fmt: skip
        db.records["account.move"][move_id] = {
            "name": name, "ref": memo, "move_type": "entry", "state": "posted", "partner_id": partner_id,
            "company_id": COMPANY, "journal_id": BANK_JOURNAL, "currency_id": USD, "date": date,
            "origin_payment_id": payment_id, "statement_line_id": False, "posted_before": True,
            "create_date": stamp, "write_date": stamp,
        }  # fmt: skip
        for account, debit in ((RECEIVABLE_ACCOUNT, False), (OUTSTANDING_RECEIPTS_ACCOUNT, True)):
            line_id = db.next_id("account.move.line", start=1000)
            db.records["account.move.line"][line_id] = {
                "move_id": move_id, "partner_id": partner_id, "account_id": account, "name": memo, "date": date,
                "date_maturity": date, "journal_id": BANK_JOURNAL, "company_id": COMPANY,
                "debit": amount if debit else 0.0, "credit": 0.0 if debit else amount,
                "balance": amount if debit else -amount, "amount_currency": amount if debit else -amount,
                "currency_id": USD, "payment_id": payment_id,
                "amount_residual": -amount if account == RECEIVABLE_ACCOUNT else 0.0,
                "amount_residual_currency": -amount if account == RECEIVABLE_ACCOUNT else 0.0,
                "reconciled": False, "create_date": stamp, "write_date": stamp,
            }  # fmt: skip
        db._invalidate("account.move.line")
        return payment_id


def reconcile(db: StandinDatabase, debit_line_id: int, credit_line_id: int, amount: float) -> int:
    """Reconcile two receivable lines for ``amount`` (company currency = line currency here).

    Like Odoo: a partial reconcile is created and every stored field it changes is recomputed,
    which stamps the lines, the moves and the payments with the transaction's ``write_date``.
    """
    with db.lock:
        stamp = db.clock.tick()
        lines = db.records["account.move.line"]
        debit, credit = lines[debit_line_id], lines[credit_line_id]
        partial_id = db.next_id("account.partial.reconcile")
        db.records["account.partial.reconcile"][partial_id] = {
            "debit_move_id": debit_line_id, "credit_move_id": credit_line_id, "amount": amount,
            "debit_amount_currency": amount, "credit_amount_currency": amount,
            "debit_currency_id": debit["currency_id"], "credit_currency_id": credit["currency_id"],
            "company_currency_id": USD, "company_id": COMPANY, "max_date": max(debit["date"], credit["date"]),
            "create_date": stamp, "write_date": stamp,
        }  # fmt: skip
        db._invalidate("account.partial.reconcile")
        _apply_residual(db, debit_line_id, -amount, stamp)
        _apply_residual(db, credit_line_id, amount, stamp)
        return partial_id


def unreconcile(db: StandinDatabase, partial_id: int) -> None:
    with db.lock:
        stamp = db.clock.tick()
        partial = db.records["account.partial.reconcile"].pop(partial_id)
        db._invalidate("account.partial.reconcile")
        _apply_residual(db, partial["debit_move_id"], partial["amount"], stamp)
        _apply_residual(db, partial["credit_move_id"], -partial["amount"], stamp)


def _apply_residual(db: StandinDatabase, line_id: int, delta: float, stamp: str) -> None:
    line = db.records["account.move.line"][line_id]
    line["amount_residual"] = round(line["amount_residual"] + delta, 2)
    line["amount_residual_currency"] = round(line["amount_residual_currency"] + delta, 2)
    line["reconciled"] = line["amount_residual"] == 0
    line["write_date"] = stamp
    move = db.records["account.move"][line["move_id"]]
    move["write_date"] = stamp
    if move.get("move_type") in ("out_invoice", "out_refund"):
        residual = abs(sum(
            other["amount_residual_currency"] for other in db.records["account.move.line"].values()
            if other["move_id"] == line["move_id"] and other["account_id"] == RECEIVABLE_ACCOUNT
        ))  # fmt: skip
        move["amount_residual"] = round(residual, 2)
        sign = 1 if move["move_type"] == "out_invoice" else -1
        move["amount_residual_signed"] = round(sign * residual, 2)
        move["payment_state"] = (
            "paid" if residual == 0 else "partial" if residual < move["amount_total"] else "not_paid"
        )
    if line.get("payment_id"):
        payment = db.records["account.payment"][line["payment_id"]]
        payment["is_reconciled"] = line["reconciled"]
        payment["write_date"] = stamp


def generate_invoices(db: StandinDatabase, count: int, *, customers: int = 200, seed: int = 7) -> list[int]:
    """``count`` posted invoices spread over ``customers`` generated customers (for call-count tests)."""
    rng = random.Random(seed)
    partner_ids = [add_customer(db, f"Generated Customer {index:04d}") for index in range(customers)]
    start = dt.date(2026, 1, 1)
    ids = []
    for index in range(count):
        issued = start + dt.timedelta(days=rng.randrange(300))
        due = issued + dt.timedelta(days=rng.choice((0, 30, 45, 60)))
        cents = rng.randrange(10_000, 5_000_000)
        ids.append(
            add_invoice(
                db, rng.choice(partner_ids), cents / 100, issued.isoformat(), due.isoformat(),
                number=f"GEN/{issued.year}/{index + 1:06d}",
            )
        )  # fmt: skip
    return ids
