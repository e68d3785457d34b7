from datetime import date
from decimal import Decimal

import pytest

from erp_recovery.errors import ConfigError, MappingError
from erp_recovery.mapping import TabularReader, load_mapping, parse_mapping, parse_number, shipped_mappings
from erp_recovery.model import Customer, Invoice, Money

TIERS = """
[mapping]
name = "Tiers"
entity = "customer"

[layout]
separator = ";"
decimal = ","

[[filter]]
column = "Type"
in = ["0"]

[fields]
external_id = { column = "Numéro", required = true }
name = { column = "Intitulé", required = true }
siren = { column = "Siret", digits_only = true, first = 9 }
credit_limit = { column = "Encours", type = "money", currency = "EUR" }
blocked = { column = "Contrôle", type = "bool", values = { "2" = true, "0" = false, "1" = false } }
"address.city" = { column = "Ville" }
"payment_terms.days" = { position = 7, type = "int" }
"""


def _file(tmp_path, text, encoding="utf-8"):
    path = tmp_path / "tiers.csv"
    path.write_bytes(text.encode(encoding))
    return path


def test_mapping_reads_renamed_columns_types_filters_and_nested_fields(tmp_path):
    spec = parse_mapping(TIERS)
    path = _file(
        tmp_path,
        "Numéro;Intitulé;Type;Siret;Encours;Contrôle;Jours;Ville\n"
        "CL001;Boulangerie Martin;0;732 829 320 00074;12 500,50;2;30;Lyon\n"
        "FO001;Fournisseur;1;;;0;;Paris\n"
        "\n"
        "CL002;Garage;0;;;0;45;Annecy\n",
        encoding="cp1252",
    )
    records = [record for _, record in TabularReader(spec, path).records()]
    assert [r.external_id for r in records] == ["CL001", "CL002"]
    first = records[0]
    assert isinstance(first, Customer)
    assert first.siren == "732829320"
    assert first.credit_limit == Money.of("12500.50", "EUR")
    assert first.blocked is True
    assert first.address is not None and first.address.city == "Lyon"
    assert first.payment_terms is not None and first.payment_terms.days == 30
    assert first.source_refs == {"file": "tiers.csv", "line": "2"}


def test_missing_column_fails_on_the_header_line(tmp_path):
    spec = parse_mapping(TIERS)
    path = _file(tmp_path, "Numéro;Nom;Type\nCL001;X;0\n")
    with pytest.raises(MappingError) as error:
        list(TabularReader(spec, path).records())
    assert error.value.line == 1
    assert error.value.column == "Intitulé"
    assert "columns found: Numéro, Nom, Type" in error.value.message


def test_bad_value_names_line_and_column(tmp_path):
    spec = parse_mapping(TIERS)
    path = _file(
        tmp_path,
        "Numéro;Intitulé;Type;Siret;Encours;Contrôle;Jours;Ville\nCL1;A;0;;;0;30;X\nCL2;B;0;;12,5,0;0;30;Y\n",
    )
    with pytest.raises(MappingError) as error:
        list(TabularReader(spec, path).records())
    assert (error.value.line, error.value.column) == (3, "Encours")
    assert "not a number" in error.value.message


def test_unlisted_value_in_a_value_map_is_refused_with_the_known_values(tmp_path):
    spec = parse_mapping(TIERS)
    path = _file(tmp_path, "Numéro;Intitulé;Type;Siret;Encours;Contrôle;Jours;Ville\nCL1;A;0;;;7;30;X\n")
    with pytest.raises(MappingError, match="unexpected value '7'; the mapping knows '2', '0', '1'"):
        list(TabularReader(spec, path).records())


def test_invalid_mapping_file_is_a_config_error_naming_the_key():
    with pytest.raises(ConfigError, match="fields.colour: customer has no field 'colour'"):
        parse_mapping(TIERS + 'colour = { column = "X" }\n')
    with pytest.raises(ConfigError, match="exactly one of column"):
        parse_mapping(
            TIERS.replace('name = { column = "Intitulé", required = true }', "name = { required = true }")
        )


def test_fixed_width_layout(tmp_path):
    spec = parse_mapping(
        """
[mapping]
name = "fixed"
entity = "invoice"
[layout]
format = "fixed"
decimal = ","
date_formats = ["%d%m%y"]
[fields]
external_id = { start = 1, length = 8 }
number = { start = 1, length = 8 }
customer_id = { start = 9, length = 6 }
issue_date = { start = 15, length = 6, type = "date" }
currency = { value = "EUR" }
total = { start = 21, length = 10, type = "money", currency = "EUR" }
residual = { start = 21, length = 10, type = "money", currency = "EUR" }
"""
    )
    path = tmp_path / "f.txt"
    path.write_text("FA000001CL0001150326    120,00\n", encoding="ascii")
    [(row, record)] = list(TabularReader(spec, path).records())
    assert isinstance(record, Invoice)
    assert record.issue_date == date(2026, 3, 15)
    assert record.total.amount == Decimal("120.00")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1 234,56", "1234.56"),
        ("-12,5", "-12.5"),
        ("12,50-", "-12.50"),
        ("(3,00)", "-3.00"),
        ("1234.5", "1234.5"),
        ("0000000069,60", "69.60"),
    ],
)
def test_parse_number_variants(text, expected):
    assert parse_number(text, ",", (" ",)) == Decimal(expected)


def test_shipped_mappings_all_load():
    names = shipped_mappings()
    assert {"csv_customers", "csv_invoices", "csv_payments", "csv_allocations"} <= set(names)
    for name in names:
        assert load_mapping(name).mapping.name
