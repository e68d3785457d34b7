"""Escalation dossiers: an injonction de payer request's data (JSON + PDF), or the hand-over file
for a collection agency (CSV + PDFs).

What a request for an injonction de payer needs (CPC 1405-1425; legal-rules.md FR-D2): the
creditor's and the debtor's identities (name, SIREN, address — the court is the one of the
debtor's domicile), the principal, the interest and fees with their computation, the invoices,
and the proof of the formal notice (its date, reference, the hash and path of the letter, whether
the registered letter was posted). The JSON (``erp-recovery.escalation/1``) holds all of it for a
lawyer or an online filing; the PDF is the same for people.

The agency hand-over (``handover.csv``, one line per invoice, ``;``-separated UTF-8) carries the
same figures with the formal notice's date and reference, next to the dossier PDF and copies of
the letters already sent; the agency's own letters must then follow CPCE R124-4 (legal-rules.md §5).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import shutil
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.engine import Connection

from erp_recovery.dunning_docs.context import creditor, debtor
from erp_recovery.dunning_docs.render import html_to_pdf
from erp_recovery.engines.dunning import PlannedCommunication
from erp_recovery.model.records import Address
from erp_recovery.store.dunning import dunning_actions, dunning_communications, dunning_steps

if TYPE_CHECKING:
    from erp_recovery.dunning_ops.service import DunningSetup

DOSSIER_FORMAT = "erp-recovery.escalation/1"
#: Claims up to this amount (interest included) may go through the simplified small-claims
#: procedure by a commissaire de justice (CPCE L125-1; legal-rules.md FR-D4).
SMALL_CLAIM_LIMIT = Decimal(5000)

CSV_COLUMNS = (
    "creditor_siren", "creditor_name", "debtor_id", "debtor_name", "debtor_siren", "debtor_address",
    "debtor_email", "debtor_phone", "invoice_number", "issue_date", "due_date", "currency", "total",
    "outstanding", "interest", "fixed_fee", "formal_notice_date", "formal_notice_reference",
)  # fmt: skip


@dataclass(frozen=True)
class WrittenDossier:
    route: str
    folder: Path
    pdf: Path
    files: tuple[Path, ...]


def _text(value: Decimal | None) -> str | None:
    return None if value is None else format(value, "f")


def _address(address: Address | None) -> dict[str, Any] | None:
    return address.model_dump(mode="json", exclude_none=True) if address else None


def _sent(
    connection: Connection, company_id: int, customer_id: str, item_keys: list[str]
) -> list[dict[str, Any]]:
    """Earlier communications about these items, with the proof of each delivery."""
    covered: dict[int, list[str]] = {}
    for row in connection.execute(
        select(dunning_steps.c.communication_id, dunning_steps.c.item_key).where(
            dunning_steps.c.company_id == company_id, dunning_steps.c.item_key.in_(item_keys)
        )
    ):
        covered.setdefault(row.communication_id, []).append(row.item_key)
    ids = set(covered)
    if not ids:
        return []
    actions: dict[int, list[Any]] = {}
    for row in connection.execute(
        select(dunning_actions).where(
            dunning_actions.c.company_id == company_id, dunning_actions.c.customer_id == customer_id
        )
    ):
        if row.communication_id is not None:
            actions.setdefault(row.communication_id, []).append(row)
    tasks = {
        row.action_key: row
        for row in connection.execute(
            select(dunning_actions).where(
                dunning_actions.c.company_id == company_id,
                dunning_actions.c.customer_id == customer_id,
                dunning_actions.c.channel == "task",
            )
        )
    }
    result = []
    for row in connection.execute(
        select(dunning_communications)
        .where(dunning_communications.c.id.in_(list(ids)))
        .order_by(dunning_communications.c.day)
    ):
        posted = tasks.get(f"post:{customer_id}:{row.level}:{row.day.isoformat()}")
        result.append(
            {
                "date": row.day.isoformat(),
                "items": sorted(covered[row.id]),
                "level": row.level,
                "label": row.level_label,
                "kind": row.level_kind,
                "channels": list(row.channels),
                "reference": row.reference,
                "deadline": row.deadline.isoformat() if row.deadline else None,
                "document_sha256": row.document_hash,
                "document_path": row.document_path,
                "deliveries": [
                    {
                        "channel": action.channel,
                        "recipient": action.recipient,
                        "status": action.status,
                        "content_sha256": action.content_hash,
                        "document_path": action.document_path,
                        "delivered_at": action.delivered_at.isoformat() if action.delivered_at else None,
                    }
                    for action in actions.get(row.id, [])
                ],
                "posted": None
                if posted is None
                else {"status": posted.status, "note": (posted.details or {}).get("note")},
            }
        )
    return result


def sent_history(
    connection: Connection, setup_: DunningSetup, communication: PlannedCommunication
) -> list[dict[str, Any]]:
    """What was sent about the items of ``communication``, from the store (for :func:`dossier_data`)."""
    return _sent(
        connection, setup_.company_id, communication.customer_id, [item.key for item in communication.items]
    )


def dossier_data(
    setup_: DunningSetup,
    communication: PlannedCommunication,
    as_of: dt.date,
    sent: list[dict[str, Any]],
    *,
    route: str | None = None,
) -> dict[str, Any]:
    """The dossier of ``communication``: its items, charges, and ``sent`` (the communications
    about them, oldest first: date, level, label, kind, channels, reference, deadline, hashes)."""
    customer = communication.customer
    route = route or communication.level.escalation or "injonction_de_payer"
    notices = [entry for entry in sent if entry["kind"] == "formal_notice"]
    totals = communication.totals()
    consumer = customer.is_consumer
    # Commercial debts between traders go to the commercial court, others to the judicial court
    # (legal-rules.md FR-D2); in both cases the court of the debtor's domicile.
    court = "tribunal judiciaire" if consumer or not customer.siren else "tribunal de commerce"
    notes = [
        "Requête en injonction de payer: to the court of the debtor's domicile (ordre public), filed online "
        "for commercial courts or at the greffe with the list of pieces; the order must be served within "
        "6 months and the debtor has 1 month to oppose it (CPC 1405-1425).",
        "No prior amicable-resolution attempt is required for an injonction de payer (CPC 750-1).",
    ]
    if any(t.total <= SMALL_CLAIM_LIMIT for t in totals if t.currency == "EUR"):
        notes.append(
            "The claim is at most 5,000 EUR interest included: the simplified small-claims procedure by a "
            "commissaire de justice (CPCE L125-1) is an alternative."
        )
    if not notices:
        notes.append("No formal notice is recorded for these invoices: send one before going to court.")
    items = []
    for item in communication.items:
        charges = item.charges
        notice = next((entry for entry in reversed(notices) if item.key in entry.get("items", ())), None)
        items.append(
            {
                "key": item.key,
                "formal_notice_date": notice["date"] if notice else None,
                "formal_notice_reference": notice["reference"] if notice else None,
                "number": item.number,
                "issue_date": item.issue_date.isoformat(),
                "due_date": item.due_date.isoformat(),
                "currency": item.outstanding.currency,
                "total": _text(item.total.amount),
                "outstanding": _text(item.outstanding.amount),
                "days_late": item.days_late,
                "interest": _text(charges.interest.amount) if charges else None,
                "fixed_fee": _text(charges.fixed_fee.amount) if charges and charges.fixed_fee else None,
                "interest_rule": charges.interest_rule if charges else None,
                "interest_source": charges.interest_source if charges else None,
                "fee_source": charges.fee_source if charges else None,
                "periods": [
                    {
                        "from": period.start.isoformat(),
                        "to": period.end.isoformat(),
                        "days": period.days,
                        "outstanding": _text(period.outstanding.amount),
                        "annual_rate": _text(period.annual_rate),
                        "reference": period.reference_label,
                        "interest": _text(period.amount_rounded.amount),
                    }
                    for period in (charges.periods if charges else ())
                ],
                "working": charges.working() if charges else None,
            }
        )
    creditor_party = creditor(setup_.company)
    return {
        "format": DOSSIER_FORMAT,
        "route": route,
        "prepared_on": as_of.isoformat(),
        "creditor": {
            "name": creditor_party.name,
            "siren": creditor_party.siren,
            "vat_number": creditor_party.vat_number,
            "address": _address(setup_.company.address),
            "iban": creditor_party.iban,
            "bic": creditor_party.bic,
            "email": creditor_party.email,
            "phone": creditor_party.phone,
        },
        "debtor": {
            "id": customer.external_id,
            "name": customer.name,
            "siren": customer.siren,
            "siret": customer.siret,
            "vat_number": customer.vat_number,
            "address": _address(customer.address),
            "email": customer.email,
            "phone": customer.phone,
            "consumer": consumer,
        },
        "court": {
            "kind": court,
            "where": "the debtor's domicile",
            "city": customer.address.city if customer.address else None,
        },
        "claim": [
            {
                "currency": t.currency,
                "principal": _text(t.principal),
                "interest": _text(t.interest),
                "fixed_fees": _text(t.fees),
                "credits": _text(t.credits),
                "total": _text(t.total),
            }
            for t in totals
        ],
        "invoices": items,
        "credit_notes": [
            {
                "number": c.number,
                "issue_date": c.issue_date.isoformat(),
                "currency": c.currency,
                "amount": _text(c.residual.amount),
            }
            for c in communication.credits
        ],
        "formal_notice": notices[-1] if notices else None,
        "communications": sent,
        "pieces": [
            "the invoices listed (copies from the ERP)",
            "the general terms of sale or the contract stating the payment terms and late-payment penalties",
            *(f"{entry['label']} of {entry['date']} (ref. {entry['reference']})" for entry in sent),
            *(["the acknowledgment of receipt of the registered letter"] if notices else []),
        ],
        "notes": notes,
    }


def dossier_context(
    data: dict[str, Any], setup_: DunningSetup, communication: PlannedCommunication
) -> dict[str, Any]:
    """What ``dossier.html.j2`` receives: the JSON data plus the letter-style values."""
    return {
        "lang": communication.language,
        "data": data,
        "creditor": creditor(setup_.company),
        "debtor": debtor(communication.customer),
        "date": communication.send_on,
        "items": communication.items,
        "totals": communication.totals(),
        "credits": communication.credits,
        "route": data["route"],
        "consumer": communication.customer.is_consumer,
    }


def _csv(data: dict[str, Any]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    debtor_data = data["debtor"]
    address = debtor_data.get("address") or {}
    address_text = ", ".join(
        part
        for part in (
            address.get("street"),
            address.get("street2"),
            address.get("postal_code"),
            address.get("city"),
            address.get("country"),
        )
        if part
    )
    for item in data["invoices"]:
        writer.writerow(
            [
                data["creditor"]["siren"] or "", data["creditor"]["name"], debtor_data["id"], debtor_data["name"],
                debtor_data.get("siren") or "", address_text, debtor_data.get("email") or "", debtor_data.get("phone") or "",
                item["number"], item["issue_date"], item["due_date"], item["currency"], item["total"], item["outstanding"],
                item["interest"] or "", item["fixed_fee"] or "", item["formal_notice_date"] or "",
                item["formal_notice_reference"] or "",
            ]
        )  # fmt: skip
    return buffer.getvalue()


def write_dossier(
    setup_: DunningSetup, communication: PlannedCommunication, data: dict[str, Any], folder: Path
) -> WrittenDossier:
    """Write the dossier files of ``data`` into ``folder`` (JSON + PDF; agency: + CSV and letters)."""
    folder.mkdir(parents=True, exist_ok=True)
    html = setup_.renderer.dossier_html(dossier_context(data, setup_, communication), communication.language)
    pdf_path = folder / "dossier.pdf"
    pdf_path.write_bytes(html_to_pdf(html))
    json_path = folder / "dossier.json"
    json_path.write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    files = [json_path, pdf_path]
    if data["route"] == "collection_agency":
        csv_path = folder / "handover.csv"
        csv_path.write_text(_csv(data), encoding="utf-8")
        files.append(csv_path)
        for entry in data["communications"]:
            source = Path(entry["document_path"]) if entry.get("document_path") else None
            if source is not None and source.is_file():
                target = folder / f"{entry['date']}-{source.name}"
                shutil.copyfile(source, target)
                files.append(target)
    return WrittenDossier(route=data["route"], folder=folder, pdf=pdf_path, files=tuple(files))


def write_escalation(
    connection: Connection, setup_: DunningSetup, communication: PlannedCommunication, as_of: dt.date
) -> WrittenDossier:
    """The dossier of an escalation communication, in ``<outbox>/<company>/escalations/``."""
    data = dossier_data(setup_, communication, as_of, sent_history(connection, setup_, communication))
    folder = (
        setup_.outbox
        / setup_.company.code
        / "escalations"
        / f"{communication.customer.external_id.replace('/', '_')}-{as_of.isoformat()}"
    )
    return write_dossier(setup_, communication, data, folder)
