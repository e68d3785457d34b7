"""Bank lines of the weeks after the cut-off, with realistic remittance noise and the ground truth.

Each payment of the simulated world dated after the cut-off becomes a camt.053 entry — SEPA credit
transfers one entry each, direct debits we collected one batch entry per day with one ``TxDtls``
per debtor — and gets the noise of real remittances, recorded as *kinds* on the truth line:

``clean`` (our number, as printed), ``format`` (our number written otherwise), ``typo`` (one
character wrong), ``missing_ref`` (no reference), ``po_number`` (the customer's purchase order
instead of our number), ``rfrddocinf`` / ``rf`` (structured remittance), ``direct_debit`` (our
end-to-end id), ``truncated_ref`` (text cut at 35/140 characters), ``name_variant`` /
``name_truncated`` (how the bank shows the payer), ``parent_payer`` (a group pays for its
subsidiary), ``bank_charges`` (received short), ``grouped`` (several invoices in one transfer),
``partial``, ``credit_note_netted``, ``duplicate`` (the same transfer twice: the copy matches
nothing), ``overpayment``, ``invoice_not_in_books`` (pays an invoice issued after the cut-off),
and lines that must stay unmatched: ``non_customer``, ``internal_transfer``, ``unknown_payer``,
``debit``.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field

from .names import fold_upper, person_name
from .world import Document, Party, PaymentEvent, World, rf_reference

_ALPHABET_DIGITS = "0123456789"


@dataclass
class TruthLine:
    """What a bank line really pays, in the books as they stand at the cut-off."""

    allocations: list[tuple[str, int]] = field(default_factory=list)
    writeoff_cents: int = 0
    unapplied_cents: int = 0
    kinds: list[str] = field(default_factory=list)
    payer: str | None = None


@dataclass
class BankDetail:
    """One ``TxDtls``: who, how much, which references."""

    cents: int
    party_name: str | None = None
    party_iban: str | None = None
    ustrd: str | None = None
    referred_documents: list[str] = field(default_factory=list)
    creditor_reference: str | None = None
    end_to_end: str | None = None
    truth: TruthLine = field(default_factory=TruthLine)


@dataclass
class BankLine:
    """One ``Ntry`` of the statement; a batch entry has several details."""

    booking: dt.date
    cents: int
    acct_svcr_ref: str
    family: tuple[str, str, str]
    details: list[BankDetail]
    additional: str | None = None

    @property
    def is_batch(self) -> bool:
        return len(self.details) > 1


def _typo(rng: random.Random, text: str) -> str:
    digits = [index for index, char in enumerate(text) if char.isdigit()]
    index = rng.choice(digits[-5:])
    roll = rng.random()
    if roll < 0.5:
        replacement = rng.choice([char for char in _ALPHABET_DIGITS if char != text[index]])
        return text[:index] + replacement + text[index + 1 :]
    if roll < 0.8 and index + 1 < len(text) and text[index + 1].isdigit() and text[index + 1] != text[index]:
        return text[:index] + text[index + 1] + text[index] + text[index + 2 :]
    return text[:index] + text[index + 1 :]


def _formatted(number: str, style: int) -> str:
    """Our number "FA-2024-00123" as a payer writes it."""
    prefix, year, sequence = number.split("-")
    if style == 0:
        return f"{prefix} {year} {sequence}"
    if style == 1:
        return f"{prefix.lower()}{year}-{sequence}"
    if style == 2:
        return f"{year}-{sequence}"
    if style == 3:
        return f"FACT {year}{sequence}"
    if style == 4:
        return f"F{year}{int(sequence)}"
    return f"N° {prefix}/{year}/{sequence}"


class StatementBuilder:
    """Builds the bank lines of the weeks after the cut-off from a world."""

    def __init__(self, world: World, seed: int):
        self.world = world
        self.rng = random.Random(seed * 7919 + 17)
        self.sequence = 0
        self.lines: list[BankLine] = []

    def reference(self, day: dt.date) -> str:
        self.sequence += 1
        return f"{day:%Y%m%d}{self.sequence:07d}"

    # -- customer payments -------------------------------------------------------------------------

    def _truth(self, event: PaymentEvent) -> TruthLine:
        truth = TruthLine(kinds=list(event.kinds), payer=event.payer)
        for doc, cents in event.allocations:
            if doc.issue <= self.world.cutoff:
                truth.allocations.append((doc.number, cents))
            elif "invoice_not_in_books" not in truth.kinds:
                truth.kinds.append("invoice_not_in_books")
        invoices = [doc for doc, _ in event.allocations if doc.kind == "invoice"]
        if len(invoices) > 1:
            truth.kinds.append("grouped")
        return truth

    def _remittance(self, event: PaymentEvent, payer: Party, detail: BankDetail) -> None:
        rng = self.rng
        truth = detail.truth
        invoices: list[Document] = [doc for doc, _ in event.allocations if doc.kind == "invoice"]
        numbers = [doc.number for doc in invoices]
        style = payer.reference_style
        if style in ("exact", "format") and rng.random() < 0.06:
            style = "none"
        if style == "rf" and len(numbers) != 1:
            style = "exact"
        if style == "rfrddocinf":
            detail.referred_documents = list(numbers)
            truth.kinds.append("rfrddocinf")
            return
        if style == "rf":
            detail.creditor_reference = rf_reference(numbers[0])
            truth.kinds.append("rf")
            return
        name = fold_upper(payer.name)[:20]
        if style == "none":
            detail.ustrd = (
                rng.choice(
                    (
                        "",
                        "VIREMENT " + name,
                        "REGLEMENT",
                        "PAIEMENT FOURNISSEUR",
                        "VIR SEPA " + name,
                        "ECHEANCE",
                    )
                )
                or None
            )
            truth.kinds.append("missing_ref")
            return
        if style == "po":
            orders = " ".join(doc.purchase_order or "" for doc in invoices)
            detail.ustrd = rng.choice(("CDE ", "COMMANDE ", "V/CDE ", "")) + orders
            truth.kinds.append("po_number")
            return
        written = [
            number if style == "exact" else _formatted(number, payer.format_style) for number in numbers
        ]
        if rng.random() < 0.05:
            index = rng.randrange(len(written))
            written[index] = _typo(rng, written[index])
            truth.kinds.append("typo")
        truth.kinds.append("clean" if style == "exact" else "format")
        template = rng.choice(
            (
                "{n}",
                "FACTURE {n}",
                "REGLEMENT FACT {n}",
                "VIR " + name + " REF {n}",
                "PAIEMENT FACTURES {n}",
                "/INV/{n}/",
            )
        )
        notes = [doc.number for doc, _ in event.allocations if doc.kind == "credit_note"]
        text = template.format(n=rng.choice((" ", ", ", " + ")).join(written))
        if notes and rng.random() < 0.5:
            text += " MOINS AVOIR " + " ".join(notes)
        limit = 35 if rng.random() < 0.05 else 140
        if len(text) > limit:
            text = text[:limit]
            truth.kinds.append("truncated_ref")
        detail.ustrd = text

    def customer_payment(self, event: PaymentEvent) -> None:
        rng = self.rng
        payer = self.world.parties[event.payer]
        detail = BankDetail(cents=event.cents, party_name=payer.bank_name, party_iban=payer.iban)
        detail.truth = self._truth(event)
        detail.truth.kinds.extend(payer.name_kinds)
        self._remittance(event, payer, detail)
        roll = rng.random()
        if roll < 0.04 and detail.cents > 5000:
            charge = rng.choice((150, 250, 390, 500, 750, 1200, 1500, 1860, 2500))
            charge = min(charge, detail.cents * 4 // 100)
            if charge > 0:
                detail.cents -= charge
                detail.truth.writeoff_cents = charge
                detail.truth.kinds.append("bank_charges")
        elif roll < 0.046:
            excess = (100_00 - detail.cents % 100_00) if detail.cents % 100_00 else 50_00
            detail.cents += excess
            detail.truth.unapplied_cents = excess
            detail.truth.kinds.append("overpayment")
        self._entry(event.date, [detail], ("PMNT", "RCDT", "ESCT"), f"VIR SEPA RECU /DE {payer.bank_name}")
        if rng.random() < 0.012:
            copy = BankDetail(
                cents=detail.cents,
                party_name=detail.party_name,
                party_iban=detail.party_iban,
                ustrd=detail.ustrd,
                referred_documents=list(detail.referred_documents),
                creditor_reference=detail.creditor_reference,
                truth=TruthLine(kinds=["duplicate"], payer=event.payer),
            )
            self._entry(
                event.date + dt.timedelta(days=rng.randint(1, 6)),
                [copy],
                ("PMNT", "RCDT", "ESCT"),
                f"VIR SEPA RECU /DE {payer.bank_name}",
            )

    def direct_debits(self, events: list[PaymentEvent]) -> None:
        by_day: dict[dt.date, list[PaymentEvent]] = {}
        for event in events:
            by_day.setdefault(event.date, []).append(event)
        for day, batch in sorted(by_day.items()):
            details = []
            for event in batch:
                payer = self.world.parties[event.payer]
                doc = event.allocations[0][0]
                truth = self._truth(event)
                truth.kinds.append("direct_debit")
                details.append(
                    BankDetail(
                        cents=event.cents,
                        party_name=payer.bank_name,
                        party_iban=payer.iban,
                        ustrd=f"PRLV SEPA {self.world.company_name[:20].upper()} FACTURE {doc.number}",
                        end_to_end=doc.number,
                        truth=truth,
                    )
                )
            self._entry(day, details, ("PMNT", "RDDT", "ESDD"), f"REMISE PRLV SEPA {len(details)} OPERATIONS")

    def _entry(
        self, day: dt.date, details: list[BankDetail], family: tuple[str, str, str], text: str | None
    ) -> None:
        while day.weekday() >= 5 or (day.month, day.day) in ((1, 1), (5, 1), (12, 25)):
            day += dt.timedelta(days=1)  # banks book on business days
        self.lines.append(
            BankLine(
                booking=day,
                cents=sum(detail.cents for detail in details),
                acct_svcr_ref=self.reference(day),
                family=family,
                details=details,
                additional=text,
            )
        )

    # -- everything else on the account ------------------------------------------------------------

    def other_lines(self) -> None:
        rng = self.rng
        world = self.world
        day = world.cutoff + dt.timedelta(days=1)
        suppliers = (
            "METRO FRANCE", "ORANGE BUSINESS", "EDF ENTREPRISES", "TOTALENERGIES", "LEROY MERLIN PRO",
            "WURTH FRANCE", "MANUTAN", "RESEAU PRO", "OFFICE DEPOT", "DHL EXPRESS",
        )  # fmt: skip
        while day <= world.end:
            if day.weekday() < 5:
                for _ in range(rng.randint(1, 4)):
                    cents = -rng.randint(5_000, 900_000)
                    self._other(
                        day,
                        cents,
                        rng.choice(suppliers),
                        f"FACTURE {rng.randint(10000, 99999)}",
                        "debit",
                        ("PMNT", "ICDT", "ESCT"),
                    )
                if rng.random() < 0.3:
                    self._other(
                        day,
                        -rng.randint(500, 6_000),
                        None,
                        "FRAIS TENUE DE COMPTE",
                        "debit",
                        ("ACMT", "MDOP", "CHRG"),
                    )
                if rng.random() < 0.35:
                    self._other(
                        day,
                        rng.randint(20_000, 350_000),
                        "CREDIT MUTUEL MONETIQUE",
                        f"REMISE CB {rng.randint(100000, 999999)} DU {day:%d%m}",
                        "non_customer",
                        ("PMNT", "CCRD", "POSD"),
                    )
                if rng.random() < 0.05:
                    self._other(
                        day,
                        rng.randint(5_000, 90_000),
                        person_name(rng),
                        rng.choice(("ACOMPTE DEVIS", "REGLEMENT", "VIREMENT", "COMMANDE INTERNET")),
                        "unknown_payer",
                        ("PMNT", "RCDT", "ESCT"),
                    )
            if day.day == 28:
                for _ in range(rng.randint(6, 14)):
                    self._other(
                        day,
                        -rng.randint(180_000, 420_000),
                        person_name(rng),
                        "SALAIRE",
                        "debit",
                        ("PMNT", "ICDT", "SALA"),
                    )
                self._other(
                    day,
                    -rng.randint(900_000, 2_500_000),
                    "URSSAF ILE DE FRANCE",
                    "COTISATIONS",
                    "debit",
                    ("PMNT", "IDDT", "ESDD"),
                )
            if day.day == 15:
                self._other(
                    day,
                    rng.randint(80_000, 1_200_000),
                    "DGFIP",
                    "REMBOURSEMENT CREDIT TVA",
                    "non_customer",
                    ("PMNT", "RCDT", "ESCT"),
                )
                self._other(
                    day,
                    500_000,
                    world.company_name.upper()[:35],
                    "VIR CPTE A CPTE EPARGNE",
                    "internal_transfer",
                    ("PMNT", "RCDT", "BOOK"),
                    iban=world.savings_iban,
                )
            if day.day == 20 and rng.random() < 0.6:
                self._other(
                    day,
                    rng.randint(1_000_000, 5_000_000),
                    "BPIFRANCE",
                    "DEBLOCAGE PRET N 0045871",
                    "non_customer",
                    ("LDAS", "CSLN", "DDWN"),
                )
            if day.day == 10 and rng.random() < 0.5:
                self._other(
                    day,
                    rng.randint(30_000, 400_000),
                    "AXA FRANCE IARD",
                    "INDEMNISATION SINISTRE 2024-0117",
                    "non_customer",
                    ("PMNT", "RCDT", "ESCT"),
                )
            day += dt.timedelta(days=1)

    def _other(
        self,
        day: dt.date,
        cents: int,
        name: str | None,
        text: str,
        kind: str,
        family: tuple[str, str, str],
        iban: str | None = None,
    ) -> None:
        detail = BankDetail(
            cents=cents, party_name=name, party_iban=iban, ustrd=text, truth=TruthLine(kinds=[kind])
        )
        self._entry(day, [detail], family, None)

    def build(self) -> list[BankLine]:
        world = self.world
        window = [event for event in world.payments if world.cutoff < event.date <= world.end]
        for event in window:
            if event.method == "transfer":
                self.customer_payment(event)
        self.direct_debits([event for event in window if event.method == "direct_debit"])
        self.other_lines()
        ordered = sorted(self.lines, key=lambda line: (line.booking, line.acct_svcr_ref))
        return ordered


def bank_lines(world: World, seed: int) -> list[BankLine]:
    return StatementBuilder(world, seed).build()
