"""Row mappings (``entity = "row"``): the shared engine reads exports that are not one canonical
record per row into plain dicts of converted values, with the same errors as record mappings."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from erp_recovery.errors import ConfigError, MappingError
from erp_recovery.mapping import load_mapping, mapped_records, mapped_rows, parse_mapping
from erp_recovery.model.money import Money

SCHEDULE = """
[mapping]
name = "schedule"
entity = "row"

[layout]
separator = ";"
decimal = ","
stop_at = ["Total"]

[[filter]]
column = "Sens"
in = ["D"]

[fields]
customer_id = { column = "Compte", required = true }
number = { column = "Pièce", required = true }
due_date = { column = "Échéance", type = "date", required = true }
amount = { column = "Montant", type = "money", currency = "EUR" }
rate = { column = "Taux", type = "decimal" }
"terms.days" = { column = "Jours", type = "int", default = 30 }
"""


def write(tmp_path: Path, text: str, encoding: str = "utf-8") -> Path:
    path = tmp_path / "schedule.csv"
    path.write_bytes(text.encode(encoding))
    return path


def test_rows_become_dicts_of_converted_values(tmp_path: Path) -> None:
    spec = parse_mapping(SCHEDULE)
    assert spec.is_row
    path = write(
        tmp_path,
        "Compte;Pièce;Échéance;Montant;Taux;Jours;Sens\n"
        "C1;FA 1;28/02/2024;1 200,50;0,5;45;D\n"
        "C2;AV 1;01/03/2024;10,00;;;C\n"
        "\n"
        "C3;FA 2;15/03/2024;;;;D\n"
        "Total;;;1 210,50;;;\n",
        encoding="cp1252",
    )
    rows = [(row.line, values) for row, values in mapped_rows(spec, path)]
    assert rows == [
        (
            2,
            {
                "customer_id": "C1",
                "number": "FA 1",
                "due_date": date(2024, 2, 28),
                "amount": Money.of("1200.50", "EUR"),
                "rate": Decimal("0.5"),
                "terms": {"days": 45},
            },
        ),
        (
            5,
            {
                "customer_id": "C3",
                "number": "FA 2",
                "due_date": date(2024, 3, 15),
                "amount": None,
                "rate": None,
                "terms": {"days": 30},
            },
        ),
    ]


def test_row_mapping_errors_name_line_and_column(tmp_path: Path) -> None:
    spec = parse_mapping(SCHEDULE)
    path = write(
        tmp_path, "Compte;Pièce;Échéance;Montant;Taux;Jours;Sens\nC1;F1;28/02/2024;1;;;D\nC1;F2;;2;;;D\n"
    )
    with pytest.raises(MappingError) as error:
        list(mapped_rows(spec, path))
    assert (error.value.line, error.value.column) == (3, "Échéance")
    assert "fields.due_date is required but empty" in error.value.message
    missing = write(tmp_path, "Compte;Pièce;Date;Montant;Taux;Jours;Sens\nC1;F1;28/02/2024;1;;;D\n")
    with pytest.raises(MappingError) as error:
        list(mapped_rows(spec, missing))
    assert (error.value.line, error.value.column) == (1, "Échéance")


def test_row_mapping_needs_no_external_id_and_takes_any_field_name() -> None:
    spec = parse_mapping('[mapping]\nname = "r"\nentity = "row"\n[fields]\nanything = { column = "A" }\n')
    assert list(spec.fields) == ["anything"]
    with pytest.raises(ConfigError, match="must define fields.customer_id, fields.balance"):
        spec.require("anything", "customer_id", "balance")


def test_row_mapping_is_not_read_as_records_and_unknown_entities_are_refused(tmp_path: Path) -> None:
    spec = parse_mapping(SCHEDULE)
    with pytest.raises(ConfigError, match="entity 'row'"):
        mapped_records(spec, write(tmp_path, "Compte\n"))
    with pytest.raises(ConfigError, match="allowed: allocation, .*, payment, row"):
        parse_mapping('[mapping]\nname = "r"\nentity = "rows"\n[fields]\nx = { column = "A" }\n')


def test_record_mappings_keep_their_checks() -> None:
    with pytest.raises(ConfigError, match="fields.external_id is required"):
        parse_mapping('[mapping]\nname = "c"\nentity = "customer"\n[fields]\nname = { column = "A" }\n')


@pytest.mark.parametrize("name", ["sage100_echeancier", "sage100_balance_agee"])
def test_shipped_row_mappings_load(name: str) -> None:
    assert load_mapping(name).is_row
