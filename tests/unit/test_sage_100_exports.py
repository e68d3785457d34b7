"""Sage 100 exports read through their mappings alone (no FEC, no store): the tiers export
(customers), the échéancier (due dates) and the balance âgée (cross-check). Edge cases, and
mappings that do not fit their file: the error names the first offending line and column."""

from __future__ import annotations

import datetime as dt
import shutil
from decimal import Decimal
from pathlib import Path

import pytest
from erp_recovery.connectors.sage.fec_derive import CustomerFacts, Derivation, Document
from erp_recovery.connectors.sage.sage100_exports import (
    Sage100Exports,
    due_from_terms,
    load_exports,
    piece_key,
)

from erp_recovery.errors import ConfigError, MappingError
from erp_recovery.model.money import Money
from erp_recovery.model.records import PaymentTerms

FIXTURES = Path(__file__).parents[1] / "golden" / "sage" / "sage100"
TIERS_HEADER = (
    "N° compte tiers;Intitulé;Type;N° Siret;N° identifiant;E-mail;Téléphone;Adresse;Complément;Code postal;Ville;"
    "Pays;Encours autorisé;Code risque;Contrôle de l'encours;Hors rappel/relevé;Mise en sommeil;Nb jours;Condition"
)


def tiers_line(
    account: str, *, siret: str = "", limit: str = "1 000,00", control: str = "0", days: str = "30"
) -> str:
    return f"{account};Client {account};0;{siret};;;;;;;;;{limit};1;{control};0;0;{days};0"


def load(
    tmp_path: Path,
    *,
    tiers: str | None = None,
    echeancier: str | None = None,
    balance: str | None = None,
    echeancier_mapping: str = "sage100_echeancier",
    balance_mapping: str = "sage100_balance_agee",
    encoding: str = "cp1252",
) -> Sage100Exports:
    paths: dict[str, Path | None] = {}
    for name, text in (("tiers", tiers), ("echeancier", echeancier), ("balance", balance)):
        if text is None:
            paths[name] = None
            continue
        path = tmp_path / f"{name}.csv"
        path.write_bytes(text.encode(encoding))
        paths[name] = path
    return load_exports(
        tiers=paths["tiers"],
        tiers_mapping="sage100_tiers",
        echeancier=paths["echeancier"],
        echeancier_mapping=echeancier_mapping,
        balance_agee=paths["balance"],
        balance_agee_mapping=balance_mapping,
        base_dir=tmp_path,
    )


# -- tiers --------------------------------------------------------------------------------------------


def test_tiers_fixture_customers(tmp_path: Path) -> None:
    shutil.copy(FIXTURES / "tiers.csv", tmp_path / "tiers.csv")
    exports = load_exports(
        tiers=tmp_path / "tiers.csv",
        tiers_mapping="sage100_tiers",
        echeancier=None,
        echeancier_mapping="sage100_echeancier",
        balance_agee=None,
        balance_agee_mapping="sage100_balance_agee",
    )
    dupont = exports.customers["CDUPONT"]
    assert (dupont.siren, dupont.siret, dupont.blocked, dupont.risk_code) == (
        "552100554",
        "55210055400013",
        True,
        "2",
    )
    assert dupont.credit_limit == Money.of("15000.00", "EUR")
    assert dupont.payment_terms == PaymentTerms(days=45, method="days_then_end_of_month")
    leblanc = exports.customers["CLEBLANC"]
    assert leblanc.credit_limit is None  # 0,00 = no limit set in Sage
    assert (leblanc.blocked, leblanc.dunning_excluded, leblanc.state) == (False, True, "active")
    assert exports.customers["CANCIEN"].state == "archived"
    assert "FMARTIN" not in exports.customers  # a supplier (Type 1)
    assert len(exports.digest) == 64


def test_tiers_header_that_does_not_fit(tmp_path: Path) -> None:
    header = TIERS_HEADER.replace("Encours autorisé", "Plafond")
    with pytest.raises(MappingError) as error:
        load(tmp_path, tiers=f"{header}\n{tiers_line('C1')}\n")
    assert (error.value.line, error.value.column) == (1, "Encours autorisé")
    assert "columns found: N° compte tiers, Intitulé" in error.value.message
    assert "tiers.csv" in str(error.value)


@pytest.mark.parametrize(
    ("bad", "column", "message"),
    [
        (tiers_line("C2", limit="12,5,0"), "Encours autorisé", "not a number"),
        (
            tiers_line("C2", control="7"),
            "Contrôle de l'encours",
            "unexpected value '7'; the mapping knows '0', '1', '2'",
        ),
        (tiers_line("C2", days="trente"), "Nb jours", "not a whole number"),
        (tiers_line("C2", siret="55210055400014"), "N° Siret", "invalid SIRET"),
        (tiers_line("C2").replace("C2;Client C2", ";Client C2"), "N° compte tiers", "required but empty"),
    ],
)
def test_tiers_first_bad_value_names_line_and_column(
    tmp_path: Path, bad: str, column: str, message: str
) -> None:
    text = f"{TIERS_HEADER}\n{tiers_line('C1')}\n\n{bad}\n{tiers_line('C3', limit='x')}\n"
    with pytest.raises(MappingError) as error:
        load(tmp_path, tiers=text)
    assert (error.value.line, error.value.column) == (4, column)  # line 3 is blank, line 5 is bad too
    assert message in error.value.message


def test_tiers_in_utf8_with_bom(tmp_path: Path) -> None:
    text = "\ufeff" + f"{TIERS_HEADER}\n{tiers_line('CÉLINE')}\n"
    exports = load(tmp_path, tiers=text, encoding="utf-8")
    assert list(exports.customers) == ["CÉLINE"]


# -- échéancier --------------------------------------------------------------------------------------


def test_echeancier_fixture_due_dates(tmp_path: Path) -> None:
    shutil.copy(FIXTURES / "echeancier.csv", tmp_path / "echeancier.csv")
    exports = load_exports(
        tiers=None,
        tiers_mapping="sage100_tiers",
        echeancier=tmp_path / "echeancier.csv",
        echeancier_mapping="sage100_echeancier",
        balance_agee=None,
        balance_agee_mapping="sage100_balance_agee",
    )
    assert exports.due_dates == {
        ("cdupont", "fa240001"): dt.date(2024, 2, 28),  # two échéances: the first one
        ("cleblanc", "fa240002"): dt.date(2024, 3, 31),
        ("cancien", "fa230099"): dt.date(2023, 12, 31),
    }
    assert piece_key(" CDUPONT ", "FA  240001") == ("cdupont", "fa240001")


def test_echeancier_bad_date_names_line_and_column(tmp_path: Path) -> None:
    text = "N° compte tiers;N° facture;Échéance;Montant\nC1;F1;28/02/2024;1,00\nC1;F2;31/02/2024;2,00\nC1;F3;x;3\n"
    with pytest.raises(MappingError) as error:
        load(tmp_path, echeancier=text)
    assert (error.value.line, error.value.column) == (3, "Échéance")
    assert "not a date in the expected formats" in error.value.message


def test_echeancier_mapping_copy_missing_a_field_or_of_the_wrong_kind(tmp_path: Path) -> None:
    (tmp_path / "mine.toml").write_text(
        '[mapping]\nname = "mine"\nentity = "row"\n[fields]\ncustomer_id = { column = "Compte" }\n'
        'number = { column = "Pièce" }\n',
        encoding="utf-8",
    )
    text = "Compte;Pièce\nC1;F1\n"
    with pytest.raises(ConfigError, match="must define fields.due_date"):
        load(tmp_path, echeancier=text, echeancier_mapping="mine.toml")
    with pytest.raises(
        ConfigError, match="has entity 'customer'; this export is read with a mapping of entity \"row\""
    ):
        load(tmp_path, echeancier=text, echeancier_mapping="sage100_tiers")


# -- balance âgée ------------------------------------------------------------------------------------


def _derivation(balances: dict[str, str]) -> Derivation:
    customers = {
        cid: CustomerFacts(cid, cid, "411000", cid, balance=Decimal(b)) for cid, b in balances.items()
    }
    return Derivation(
        scope="552100554:2024-03-31", currency="EUR", customers=customers, documents=[], allocations=[]
    )


def test_balance_agee_cross_check(tmp_path: Path) -> None:
    shutil.copy(FIXTURES / "balance_agee.csv", tmp_path / "balance.csv")
    exports = load_exports(
        tiers=None,
        tiers_mapping="sage100_tiers",
        echeancier=None,
        echeancier_mapping="sage100_echeancier",
        balance_agee=tmp_path / "balance.csv",
        balance_agee_mapping="sage100_balance_agee",
    )
    # The footer ("Total", then a print date) is not read; trailing and leading minus signs are.
    assert {cid: str(aged.balance) for cid, aged in exports.aged_balances.items()} == {
        "CDUPONT": "1800.00",
        "CLEBLANC": "-250.00",
        "CANCIEN": "-50.00",
    }
    agree = list(exports.cross_check(_derivation({"CDUPONT": "1800", "CLEBLANC": "-250", "CANCIEN": "-50"})))
    assert [(n.level, n.message) for n in agree] == [
        ("info", "balance âgée agrees with the FEC for all 3 customer(s)")
    ]
    differ = list(exports.cross_check(_derivation({"CDUPONT": "1750", "CLEBLANC": "-250", "CNEW": "10"})))
    messages = [n.message for n in differ]
    assert messages == [
        "customer CDUPONT: balance âgée says 1800.00, the FEC gives 1750 (difference -50.00)",
        "customer CANCIEN: balance âgée says -50.00, the FEC gives 0 (difference 50.00)",
        "customer CNEW: balance 10 in the FEC, absent from the balance âgée",
    ]
    assert differ[0].origin is not None and differ[0].origin.line == 2


def test_balance_agee_bad_amount(tmp_path: Path) -> None:
    text = "N° compte tiers;Intitulé;Solde\nC1;A;10,00\nC2;B;1.000,00,5\nTotal;;0\n"
    with pytest.raises(MappingError) as error:
        load(tmp_path, balance=text)
    assert (error.value.line, error.value.column) == (3, "Solde")


# -- due dates -----------------------------------------------------------------------------------------


def _invoice(customer: str, number: str, issued: dt.date) -> Document:
    return Document(
        external_id=number,
        kind="invoice",
        role="sales",
        customer_id=customer,
        number=number,
        journal="VE",
        journal_lib="Ventes",
        date=issued,
        issue_date=issued,
        label="",
        currency="EUR",
    )


def test_due_dates_schedule_then_terms_then_default(tmp_path: Path) -> None:
    text = f"{TIERS_HEADER}\nC1;Client;0;;;;;;;;;;;;0;0;0;45;2\nC2;Client;0;;;;;;;;;;;;0;0;0;;\n"
    exports = load(
        tmp_path, tiers=text, echeancier="N° compte tiers;N° facture;Échéance;Montant\nC1;FA 1;10/03/2024;5\n"
    )
    resolve = exports.due_date_resolver(default_days=30)
    issued = dt.date(2024, 1, 20)
    assert resolve(_invoice("C1", "FA1", issued)) == dt.date(2024, 3, 10)  # from the échéancier
    assert resolve(_invoice("C1", "FA2", issued)) == dt.date(2024, 3, 31)  # 45 days, then end of month
    assert resolve(_invoice("C2", "FA3", issued)) == dt.date(2024, 2, 19)  # default 30 days
    assert resolve(_invoice("C9", "FA4", issued)) == dt.date(2024, 2, 19)  # unknown customer


@pytest.mark.parametrize(
    ("method", "days", "expected"),
    [
        ("net", 30, dt.date(2024, 2, 19)),
        ("days_then_end_of_month", 45, dt.date(2024, 3, 31)),
        ("end_of_month_then_days", 45, dt.date(2024, 3, 16)),
        ("on_receipt", 30, dt.date(2024, 1, 20)),
    ],
)
def test_due_from_terms(method: str, days: int, expected: dt.date) -> None:
    terms = PaymentTerms(days=days, method=method)  # type: ignore[arg-type]
    assert due_from_terms(dt.date(2024, 1, 20), terms) == expected
