"""Sage 100 Comptabilité exports that complete a FEC: tiers, échéancier, balance âgée.

Sage 100 has no fixed customer-ledger export: its "Import/Export paramétrable" and its reports
(échéancier, balance âgée) write whatever columns the user picked (``shared/domain/formats.md``
§7.1). Each is therefore read through an editable mapping of ``mappings/``:

- ``sage100_tiers.toml`` (entity ``customer``): encours autorisé (credit limit), code risque,
  contrôle de l'encours (2 = compte bloqué), hors rappel, conditions de règlement, SIRET/SIREN,
  address, e-mail. The customer's ``CT_Num`` is the FEC's ``CompAuxNum``, so records merge.
- ``sage100_echeancier.toml`` (rows ``customer_id``, ``number``, ``due_date``): due dates of
  invoices, which the FEC does not carry. Without it, due dates follow the customer's payment
  terms, else the invoice date + ``[due_dates] default_days`` of the FEC mapping.
- ``sage100_balance_agee.toml`` (rows ``customer_id``, ``balance``): a cross-check: each customer's
  balance derived from the FEC is compared with the report, differences become run notices.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from erp_recovery.engines.legal.due_dates import days_then_end_of_month, end_of_month_then_days
from erp_recovery.errors import ConfigError, MappingError
from erp_recovery.fingerprints import update_with_file
from erp_recovery.mapping import MappingSpec, load_mapping, mapped_records, mapped_rows
from erp_recovery.model.money import Money
from erp_recovery.model.records import Customer, PaymentTerms
from erp_recovery.sync.protocol import Notice, Origin

if TYPE_CHECKING:
    from erp_recovery.connectors.sage.fec_derive import CustomerFacts, Derivation, Document


def piece_key(customer_id: str, number: str) -> tuple[str, str]:
    """How an échéancier row finds its invoice: customer and number, spaces and case ignored
    (Sage pads piece numbers: ``FA  220004``)."""
    return customer_id.strip().casefold(), "".join(number.split()).casefold()


def due_from_terms(issue_date: dt.date, terms: PaymentTerms) -> dt.date:
    """Due date under agreed terms (French "45 jours fin de mois" both ways, see PaymentTerms)."""
    if terms.method == "on_receipt":
        return issue_date
    if terms.method == "days_then_end_of_month":
        return days_then_end_of_month(issue_date, terms.days)
    if terms.method == "end_of_month_then_days":
        return end_of_month_then_days(issue_date, terms.days)
    return issue_date + dt.timedelta(days=terms.days)


@dataclass
class AgedBalance:
    customer_id: str
    balance: Decimal
    line: int
    name: str | None = None


@dataclass
class Sage100Exports:
    """What the optional exports say, indexed for the FEC derivation."""

    customers: dict[str, Customer] = field(default_factory=dict)
    due_dates: dict[tuple[str, str], dt.date] = field(default_factory=dict)
    aged_balances: dict[str, AgedBalance] = field(default_factory=dict)
    notices: list[Notice] = field(default_factory=list)
    #: SHA-256 over the exports' contents: when it changes, FEC files are derived again.
    digest: str = ""
    aged_file: str | None = None

    def due_date_resolver(self, default_days: int) -> Callable[[Document], dt.date | None]:
        def resolve(doc: Document) -> dt.date | None:
            from_schedule = self.due_dates.get(piece_key(doc.customer_id, doc.number))
            if from_schedule is not None:
                return from_schedule
            customer = self.customers.get(doc.customer_id)
            if customer is not None and customer.payment_terms is not None:
                return due_from_terms(doc.issue_date, customer.payment_terms)
            return doc.issue_date + dt.timedelta(days=default_days)

        return resolve

    def customer_record(self, facts: CustomerFacts) -> Customer:
        known = self.customers.get(facts.external_id)
        if known is not None:
            return known
        refs = {"account": facts.account, **({"aux": facts.aux} if facts.aux else {})}
        return Customer(external_id=facts.external_id, name=facts.name, source_refs=refs)

    def cross_check(self, derivation: Derivation) -> Iterator[Notice]:
        """Notices for customers whose FEC balance differs from the balance âgée."""
        if not self.aged_balances:
            return
        differences = 0
        for customer_id, aged in self.aged_balances.items():
            facts = derivation.customers.get(customer_id)
            derived = facts.balance if facts is not None else Decimal(0)
            if derived != aged.balance:
                differences += 1
                yield Notice(
                    f"customer {customer_id}: balance âgée says {aged.balance}, the FEC gives {derived} "
                    f"(difference {derived - aged.balance})",
                    origin=Origin(file=self.aged_file, line=aged.line, record_id=customer_id),
                )
        missing = [
            cid
            for cid, facts in derivation.customers.items()
            if facts.balance and cid not in self.aged_balances
        ]
        for customer_id in missing:
            differences += 1
            yield Notice(
                f"customer {customer_id}: balance {derivation.customers[customer_id].balance} in the FEC, "
                "absent from the balance âgée",
                origin=Origin(file=self.aged_file, record_id=customer_id),
            )
        if not differences:
            yield Notice(
                f"balance âgée agrees with the FEC for all {len(self.aged_balances)} customer(s)",
                level="info",
                origin=Origin(file=self.aged_file),
            )


def _digest(paths: list[Path]) -> str:
    digest = hashlib.sha256()
    for path in paths:
        update_with_file(digest, path, with_name=True)
    return digest.hexdigest()


def _existing(path: Path | None, what: str) -> Path | None:
    if path is None:
        return None
    if not path.is_file():
        raise MappingError(f"the {what} export does not exist", file=str(path))
    return path


def load_exports(
    *,
    tiers: Path | None,
    tiers_mapping: str,
    echeancier: Path | None,
    echeancier_mapping: str,
    balance_agee: Path | None,
    balance_agee_mapping: str,
    base_dir: Path | None = None,
    currency: str = "EUR",
) -> Sage100Exports:
    """Read the configured exports (each optional). A mapping that does not fit its file raises
    :class:`~erp_recovery.errors.MappingError` naming the first offending line and column."""
    exports = Sage100Exports()
    used = [
        p
        for p in (
            _existing(tiers, "tiers"),
            _existing(echeancier, "échéancier"),
            _existing(balance_agee, "balance âgée"),
        )
        if p
    ]
    exports.digest = _digest(used) if used else ""
    if tiers is not None:
        spec = load_mapping(tiers_mapping, base_dir=base_dir)
        for _row, record in mapped_records(spec, tiers):
            if not isinstance(record, Customer):
                raise MappingError(f"mapping {tiers_mapping!r} must produce customers", file=str(tiers))
            exports.customers[record.external_id] = record
    if echeancier is not None:
        rows = load_row_mapping(echeancier_mapping, base_dir=base_dir)
        rows.require("customer_id", "number", "due_date", origin=echeancier_mapping)
        for _row, values in mapped_rows(rows, echeancier):
            key = piece_key(str(values["customer_id"]), str(values["number"]))
            due: dt.date = values["due_date"]
            # Several échéances for one invoice: the first one is when dunning may start.
            if key not in exports.due_dates or due < exports.due_dates[key]:
                exports.due_dates[key] = due
    if balance_agee is not None:
        rows = load_row_mapping(balance_agee_mapping, base_dir=base_dir)
        rows.require("customer_id", "balance", origin=balance_agee_mapping)
        exports.aged_file = str(balance_agee)
        for row, values in mapped_rows(rows, balance_agee):
            customer_id = str(values["customer_id"]).strip()
            balance = _decimal(values["balance"])
            exports.aged_balances[customer_id] = AgedBalance(
                customer_id, balance, row.line, values.get("name")
            )
    return exports


def load_row_mapping(name_or_path: str, *, base_dir: Path | None = None) -> MappingSpec:
    """A mapping whose rows are read as values (``entity = "row"``), refused otherwise."""
    spec = load_mapping(name_or_path, base_dir=base_dir)
    if not spec.is_row:
        raise ConfigError(
            f"mapping {spec.mapping.name!r} has entity {spec.mapping.entity!r}; this export is read "
            'with a mapping of entity "row"',
            path=str(name_or_path),
        )
    return spec


def _decimal(value: Any) -> Decimal:
    if isinstance(value, Money):  # a "money" typed field
        return value.amount
    return Decimal(value) if value is not None else Decimal(0)
