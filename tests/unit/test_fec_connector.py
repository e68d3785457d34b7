"""The fec / sage100 connectors through the real sync runner and store (SQLite, and PostgreSQL when
reachable): re-import idempotence, newer FEC of a fiscal year, fiscal years and SIRENs kept apart,
malformed files rejected with nothing stored, Sage 100 exports merged."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from erp_recovery.config import load_config
from erp_recovery.errors import ConfigError
from erp_recovery.model.records import Customer, Invoice
from erp_recovery.store import Store
from erp_recovery.store.records import load_records
from erp_recovery.store.schema import RECORD_TABLES
from erp_recovery.sync.runner import SyncRunner

GOLDEN = Path(__file__).parents[1] / "golden" / "fec"
HEADER = (
    "JournalCode\tJournalLib\tEcritureNum\tEcritureDate\tCompteNum\tCompteLib\tCompAuxNum\tCompAuxLib\t"
    "PieceRef\tPieceDate\tEcritureLib\tDebit\tCredit\tEcritureLet\tDateLet\tValidDate\tMontantdevise\tIdevise"
)


def row(
    journal: str, num: int, date: str, account: str, aux: str, piece: str, debit: str, credit: str, let: str
) -> str:
    label = "Banque" if journal == "BQ" else "Ventes"
    name = aux and f"Client {aux}"
    return "\t".join(
        (
            journal,
            label,
            str(num),
            date,
            account,
            "Compte",
            aux,
            name,
            piece,
            date,
            "Libellé",
            debit,
            credit,
            let,
            "",
            date,
            "",
            "",
        )
    )


def sale(num: int, date: str, aux: str, piece: str, amount: str, let: str = "") -> list[str]:
    return [
        row("VE", num, date, "411000", aux, piece, amount, "0,00", let),
        row("VE", num, date, "706000", "", piece, "0,00", amount, ""),
    ]


def payment(num: int, date: str, aux: str, piece: str, amount: str, let: str = "") -> list[str]:
    return [
        row("BQ", num, date, "512000", "", piece, amount, "0,00", ""),
        row("BQ", num, date, "411000", aux, piece, "0,00", amount, let),
    ]


def write_fec(folder: Path, name: str, rows: list[str]) -> Path:
    path = folder / name
    path.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    return path


def make_config(tmp_path: Path, store_url: str, settings: str, connector: str = "fec") -> Path:
    config = tmp_path / "erp-recovery.toml"
    config.write_text(
        f"""
[store]
url = "{store_url}"
[[companies]]
code = "acme"
name = "ACME"
[[sources]]
name = "books"
company = "acme"
connector = "{connector}"
[sources.settings]
{settings}
""",
        encoding="utf-8",
    )
    return config


def runner_for(config_path: Path, store: Store) -> SyncRunner:
    return SyncRunner(store, load_config(config_path))


def invoices(store: Store, *, include_deleted: bool = False) -> dict[str, Invoice]:
    with store.connect() as connection:
        records = load_records(connection, "invoice", include_deleted=include_deleted)
    return {record.external_id: record for record in records if isinstance(record, Invoice)}


def states(store: Store) -> dict[str, str]:
    table = RECORD_TABLES["invoice"]
    with store.connect() as connection:
        return {row.external_id: row.upstream_state for row in connection.execute(table.select())}


YEAR_2024 = [
    *sale(1, "20240110", "C1", "F1", "100,00", "AA"),
    *sale(2, "20240120", "C1", "F2", "50,00"),
    *payment(3, "20240210", "C1", "V1", "100,00", "AA"),
]


def test_import_twice_changes_nothing_and_newer_fec_updates(tmp_path: Path, store: Store) -> None:
    data = tmp_path / "fec"
    data.mkdir()
    write_fec(data, "552100554FEC20241231.txt", YEAR_2024)
    runner = runner_for(make_config(tmp_path, str(store.engine.url), 'path = "fec"'), store)

    first = runner.sync("books")
    assert first.status == "succeeded", first.error
    assert first.total("created") == 1 + 2 + 1 + 1  # customer, 2 invoices, payment, allocation
    before = invoices(store)
    assert {inv.number: (str(inv.residual.amount), inv.status) for inv in before.values()} == {
        "F1": ("0.00", "paid"),
        "F2": ("50.00", "open"),
    }
    # No échéancier, no terms: invoice date + [due_dates] default_days (30).
    assert {(inv.due_date - inv.issue_date).days for inv in before.values() if inv.due_date} == {30}

    again = runner.sync("books")
    assert again.status == "succeeded"
    assert again.total("created") == again.total("updated") == again.total("deleted") == 0

    # A newer export of the same fiscal year: F2 is paid, F3 is new, F1 was removed (re-keyed).
    newer = [
        *sale(2, "20240120", "C1", "F2", "50,00", "AB"),
        *payment(3, "20240210", "C1", "V1", "100,00"),
        *sale(4, "20240301", "C1", "F3", "70,00"),
        *payment(5, "20240305", "C1", "V2", "50,00", "AB"),
    ]
    write_fec(data, "552100554FEC20241231.txt", newer)
    third = runner.sync("books")
    assert third.status == "succeeded", third.error
    after = invoices(store)
    assert {inv.number: (str(inv.residual.amount), inv.status) for inv in after.values()} == {
        "F2": ("0.00", "paid"),
        "F3": ("70.00", "open"),
    }
    assert states(store)[next(k for k, v in before.items() if v.number == "F1")] == "deleted"
    assert third.total("deleted") >= 2  # F1 and its allocation


def test_fiscal_years_are_kept_apart(tmp_path: Path, store: Store) -> None:
    data = tmp_path / "fec"
    data.mkdir()
    write_fec(data, "552100554FEC20231231.txt", sale(1, "20230510", "C1", "E1", "10,00"))
    write_fec(data, "552100554FEC20241231.txt", YEAR_2024)
    runner = runner_for(make_config(tmp_path, str(store.engine.url), 'path = "fec"'), store)
    assert runner.sync("books").status == "succeeded"
    scopes = {inv.number: inv.scope for inv in invoices(store).values()}
    assert scopes == {
        "E1": "552100554:2023-12-31",
        "F1": "552100554:2024-12-31",
        "F2": "552100554:2024-12-31",
    }
    # A newer 2024 file without F2 marks only 2024 records as gone.
    write_fec(data, "552100554FEC20241231.txt", YEAR_2024[:2] + YEAR_2024[4:])
    assert runner.sync("books").status == "succeeded"
    assert sorted(inv.number for inv in invoices(store).values()) == ["E1", "F1"]


def test_several_sirens_need_a_choice(tmp_path: Path, store: Store) -> None:
    data = tmp_path / "fec"
    data.mkdir()
    write_fec(data, "552100554FEC20241231.txt", YEAR_2024)
    write_fec(data, "732829320FEC20241231.txt", sale(1, "20240110", "C9", "G1", "10,00"))
    with pytest.raises(ConfigError, match="several companies"):
        runner_for(make_config(tmp_path, str(store.engine.url), 'path = "fec"'), store).sync("books")
    config = make_config(tmp_path, str(store.engine.url), 'path = "fec"\nsiren = "732829320"')
    report = runner_for(config, store).sync("books")
    assert report.status == "succeeded"
    assert [inv.number for inv in invoices(store).values()] == ["G1"]


def test_malformed_fec_stores_nothing(tmp_path: Path, store: Store) -> None:
    data = tmp_path / "fec"
    data.mkdir()
    rows = [*YEAR_2024, *sale(9, "20241301", "C1", "BAD", "5,00")]
    write_fec(data, "552100554FEC20241231.txt", rows)
    report = runner_for(make_config(tmp_path, str(store.engine.url), 'path = "fec"'), store).sync("books")
    assert report.status == "failed"
    assert "line 8" in (report.error or "") and "EcritureDate" in (report.error or "")
    assert invoices(store, include_deleted=True) == {}


def test_sample_folder_imports(tmp_path: Path, store: Store) -> None:
    data = tmp_path / "fec"
    data.mkdir()
    shutil.copy(GOLDEN / "552100554FEC20241231_partial_lettrage.txt", data / "552100554FEC20241231.txt")
    report = runner_for(make_config(tmp_path, str(store.engine.url), 'path = "fec/*FEC*.txt"'), store).sync(
        "books"
    )
    assert report.status == "succeeded"
    assert {inv.number: str(inv.residual.amount) for inv in invoices(store).values()} == {
        "F001": "200.00",
        "F002": "0.00",
    }


TIERS = (
    "N° compte tiers;Intitulé;Type;N° Siret;N° identifiant;E-mail;Téléphone;Adresse;Complément;Code postal;Ville;Pays;"
    "Encours autorisé;Code risque;Contrôle de l'encours;Hors rappel/relevé;Mise en sommeil;Nb jours;Condition\n"
    "C1;CLIENT UN SAS;0;55210055400013;;compta@client1.fr;;1 rue de la Paix;;75002;Paris;France;"
    "5000,00;2;2;0;0;45;2\n"
    "C7;CLIENT SEPT;0;;;;;;;;;;0,00;1;0;1;0;30;0\n"
    "F9;FOURNISSEUR;1;;;;;;;;;;;;;;;;\n"
)


def test_sage100_exports_enrich_customers_and_due_dates(tmp_path: Path, store: Store) -> None:
    data = tmp_path / "fec"
    data.mkdir()
    write_fec(data, "552100554FEC20241231.txt", YEAR_2024)
    (tmp_path / "tiers.csv").write_bytes(TIERS.encode("cp1252"))
    (tmp_path / "echeancier.csv").write_text(
        "N° compte tiers;N° facture;Échéance;Montant\nC1;F 1;15/03/2024;100,00\nC1;F1;28/02/2024;100,00\n",
        encoding="utf-8",
    )
    (tmp_path / "balance.csv").write_text(
        "N° compte tiers;Intitulé;Solde\nC1;CLIENT UN SAS;40,00\nTotal;;40,00\n", encoding="utf-8"
    )
    settings = (
        'path = "fec"\ntiers = "tiers.csv"\necheancier = "echeancier.csv"\nbalance_agee = "balance.csv"'
    )
    report = runner_for(make_config(tmp_path, str(store.engine.url), settings, "sage100"), store).sync(
        "books"
    )
    assert report.status == "succeeded", report.error
    with store.connect() as connection:
        customers = {
            c.external_id: c for c in load_records(connection, "customer") if isinstance(c, Customer)
        }
    assert sorted(customers) == ["C1", "C7"]
    first = customers["C1"]
    assert first.credit_limit is not None and str(first.credit_limit.amount) == "5000.00"
    assert (first.risk_code, first.blocked, first.siren, first.email) == (
        "2",
        True,
        "552100554",
        "compta@client1.fr",
    )
    assert first.payment_terms is not None and first.payment_terms.method == "days_then_end_of_month"
    assert customers["C7"].dunning_excluded is True
    due = {inv.number: inv.due_date.isoformat() if inv.due_date else None for inv in invoices(store).values()}
    # F1 from the échéancier (earliest échéance); F2 from the terms: 20/01 + 45 days, end of month.
    assert due == {"F1": "2024-02-28", "F2": "2024-03-31"}
    notices = [n["message"] for n in report.notices]
    assert any(
        "balance âgée says 40,00".replace(",", ".") in n and "the FEC gives 50.00" in n for n in notices
    ), notices


def test_mapping_that_does_not_fit_names_line_and_column(tmp_path: Path, store: Store) -> None:
    data = tmp_path / "fec"
    data.mkdir()
    write_fec(data, "552100554FEC20241231.txt", YEAR_2024)
    (tmp_path / "echeancier.csv").write_text(
        "N° compte tiers;N° facture;Échéance;Montant\nC1;F1;28/02/2024;1\nC1;F2;31/02/2024;2\n",
        encoding="utf-8",
    )
    config = make_config(tmp_path, str(store.engine.url), 'path = "fec"\necheancier = "echeancier.csv"')
    report = runner_for(config, store).sync("books")
    assert report.status == "failed"
    assert "echeancier.csv, line 3, column Échéance" in (report.error or "")
    assert invoices(store, include_deleted=True) == {}
