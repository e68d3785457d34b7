"""The books at the cut-off: FEC (LPF art. A47 A-1), Sage 100 tiers and échéancier exports.

FEC layout (see ``formats.md`` §6): 18 columns, TAB separated, header line, decimal comma, dates
AAAAMMJJ, file named ``<SIREN>FEC<closing date>.txt``. Sales journal ``VE``: customer account
``411000`` with the customer's auxiliary account ``CompAuxNum`` (debit for an invoice, credit for a
credit note), revenue ``706000`` and output VAT ``445710``. Bank journal ``BQ``: ``512000`` against
the customer accounts. Lettrage (``EcritureLet``/``DateLet``) links each payment to the documents it
settles; documents paid only in part carry the same letter (partial lettrage).
"""

from __future__ import annotations

import csv
import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from .world import Document, PaymentEvent, World

FEC_COLUMNS = (
    "JournalCode", "JournalLib", "EcritureNum", "EcritureDate", "CompteNum", "CompteLib", "CompAuxNum",
    "CompAuxLib", "PieceRef", "PieceDate", "EcritureLib", "Debit", "Credit", "EcritureLet", "DateLet",
    "ValidDate", "Montantdevise", "Idevise",
)  # fmt: skip


@dataclass
class Books:
    """Residuals at the cut-off and the payments booked before it."""

    open_cents: dict[str, int]
    booked: list[PaymentEvent]
    documents: list[Document]


def books_at_cutoff(world: World) -> Books:
    documents = [doc for doc in world.documents if doc.issue <= world.cutoff]
    paid: dict[str, int] = defaultdict(int)
    booked = [event for event in world.payments if event.date <= world.cutoff]
    for event in booked:
        for doc, cents in event.allocations:
            paid[doc.number] += cents
    open_cents = {doc.number: doc.total_cents - paid[doc.number] for doc in documents}
    return Books(open_cents=open_cents, booked=booked, documents=documents)


def _amount(cents: int) -> str:
    return f"{cents // 100},{cents % 100:02d}" if cents else "0,00"


def _letters() -> object:
    index = 0
    while True:
        index += 1
        value, letters = index, ""
        while value:
            value, rest = divmod(value - 1, 26)
            letters = chr(65 + rest) + letters
        yield letters.rjust(4, "A")


def write_fec(world: World, books: Books, folder: Path) -> Path:
    """The FEC of the fiscal year ending at the cut-off; returns its path."""
    parties = world.parties
    # lettrage: documents and the payments that touch them form groups (union-find)
    parent: dict[str, str] = {}

    def find(key: str) -> str:
        while parent.setdefault(key, key) != key:
            parent[key] = parent[parent[key]]
            key = parent[key]
        return key

    for position, event in enumerate(books.booked):
        for doc, _ in event.allocations:
            parent[find(f"P{position}")] = find(doc.number)
    letter_of_group: dict[str, str] = {}
    letter_date: dict[str, dt.date] = {}
    # one sequence for the whole file: a group may span a parent's subsidiaries
    letters = _letters()
    for position, event in enumerate(books.booked):
        group = find(f"P{position}")
        if group not in letter_of_group:
            letter_of_group[group] = next(letters)  # type: ignore[call-overload]
        letter_date[group] = max(letter_date.get(group, event.date), event.date)

    entries: list[tuple[dt.date, int, str, list[list[str]]]] = []
    for doc in books.documents:
        party = parties[doc.customer]
        group = find(doc.number) if doc.number in parent else None
        letter = letter_of_group.get(group, "") if group else ""
        date_let = f"{letter_date[group]:%Y%m%d}" if letter and group else ""
        vat = doc.total_cents - doc.untaxed_cents
        label = f"{'Facture' if doc.kind == 'invoice' else 'Avoir'} {doc.number} {party.name}"[:60]
        day = f"{doc.issue:%Y%m%d}"
        if doc.kind == "invoice":
            lines = [
                ["411000", "Clients", party.code, party.name, _amount(doc.total_cents), "", letter, date_let],
                ["706000", "Prestations de services", "", "", "", _amount(doc.untaxed_cents), "", ""],
                ["445710", "TVA collectée", "", "", "", _amount(vat), "", ""],
            ]
        else:
            lines = [
                ["411000", "Clients", party.code, party.name, "", _amount(doc.total_cents), letter, date_let],
                ["706000", "Prestations de services", "", "", _amount(doc.untaxed_cents), "", "", ""],
                ["445710", "TVA collectée", "", "", _amount(vat), "", "", ""],
            ]
        rows = [
            [
                "VE",
                "Ventes",
                "",
                day,
                account,
                label_account,
                aux,
                aux_label,
                doc.number,
                day,
                label,
                debit,
                credit,
                let,
                dlet,
                day,
                "",
                "",
            ]
            for account, label_account, aux, aux_label, debit, credit, let, dlet in lines
        ]
        entries.append((doc.issue, 0, doc.number, rows))
    for position, event in enumerate(books.booked):
        group = find(f"P{position}")
        letter = letter_of_group[group]
        date_let = f"{letter_date[group]:%Y%m%d}"
        day = f"{event.date:%Y%m%d}"
        piece = f"RG{position + 1:06d}"
        per_customer: dict[str, int] = defaultdict(int)
        for doc, cents in event.allocations:
            per_customer[doc.customer] += cents if doc.kind == "invoice" else -cents
        payer = parties[event.payer]
        label = f"{'Prlv' if event.method == 'direct_debit' else 'Vir'} {payer.name}"[:60]
        total = sum(per_customer.values())
        rows = [
            [
                "BQ",
                "Banque",
                "",
                day,
                "512000",
                "Banque",
                "",
                "",
                piece,
                day,
                label,
                _amount(total),
                "",
                "",
                "",
                day,
                "",
                "",
            ]
        ]
        for customer, cents in sorted(per_customer.items()):
            party = parties[customer]
            rows.append(
                [
                    "BQ",
                    "Banque",
                    "",
                    day,
                    "411000",
                    "Clients",
                    party.code,
                    party.name,
                    piece,
                    day,
                    label,
                    "",
                    _amount(cents),
                    letter,
                    date_let,
                    day,
                    "",
                    "",
                ]
            )
        entries.append((event.date, 1, piece, rows))
    entries.sort(key=lambda entry: (entry[0], entry[1], entry[2]))
    numbers = {"VE": 0, "BQ": 0}
    path = folder / f"{world.siren}FEC{world.cutoff:%Y%m%d}.txt"
    with path.open("w", encoding="utf-8", newline="") as handle:
        handle.write("\t".join(FEC_COLUMNS) + "\r\n")
        for _, _, _, rows in entries:
            journal = rows[0][0]
            numbers[journal] += 1
            for row in rows:
                row[2] = f"{journal}{numbers[journal]:06d}"
                handle.write("\t".join(row) + "\r\n")
    return path


#: Columns of the Sage 100 tiers export the scenario writes (Sage's own labels), with the payer.
TIERS_COLUMNS = (
    "N° compte tiers", "Intitulé", "Type", "Tiers payeur", "N° Siret", "N° identifiant", "E-mail", "Téléphone",
    "Adresse", "Complément", "Code postal", "Ville", "Pays", "Encours autorisé", "Code risque",
    "Contrôle de l'encours", "Hors rappel/relevé", "Mise en sommeil", "Nb jours", "Condition",
)  # fmt: skip


def write_tiers(world: World, folder: Path) -> Path:
    """Sage 100 customer list (``;``, Windows-1252), with ``Tiers payeur`` for subsidiaries."""
    path = folder / "tiers.csv"
    with path.open("w", encoding="cp1252", newline="") as handle:
        writer = csv.writer(handle, delimiter=";")
        writer.writerow(TIERS_COLUMNS)
        for party in world.parties.values():
            values = {
                "N° compte tiers": party.code,
                "Intitulé": party.name,
                "Type": "0",
                "Tiers payeur": party.parent or "",
                "Pays": "France",
                "Encours autorisé": "0,00",
                "Contrôle de l'encours": "0",
                "Hors rappel/relevé": "0",
                "Mise en sommeil": "0",
                "Nb jours": str(party.terms_days),
                "Condition": "0",
            }
            writer.writerow([values.get(column, "") for column in TIERS_COLUMNS])
    return path


def write_echeancier(world: World, books: Books, folder: Path) -> Path:
    """Sage 100 échéancier: the due date of every open document at the cut-off."""
    path = folder / "echeancier.csv"
    with path.open("w", encoding="cp1252", newline="") as handle:
        writer = csv.writer(handle, delimiter=";")
        writer.writerow(("N° compte tiers", "N° facture", "Échéance", "Montant"))
        for doc in books.documents:
            if doc.kind == "invoice" and books.open_cents[doc.number] > 0:
                writer.writerow(
                    (doc.customer, doc.number, f"{doc.due:%d/%m/%Y}", _amount(books.open_cents[doc.number]))
                )
    return path
