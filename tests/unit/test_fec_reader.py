"""FEC format and validation: amounts, dates, headers, encodings, and rejections with line numbers."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest
from erp_recovery.connectors.sage.fec_format import (
    HeaderError,
    parse_amount,
    parse_date,
    parse_file_name,
    parse_header,
)
from erp_recovery.connectors.sage.fec_reader import read_fec
from erp_recovery.connectors.sage.fec_rules import load_rules

from erp_recovery.errors import ParseError

HEADER = (
    "JournalCode\tJournalLib\tEcritureNum\tEcritureDate\tCompteNum\tCompteLib\tCompAuxNum\tCompAuxLib\t"
    "PieceRef\tPieceDate\tEcritureLib\tDebit\tCredit\tEcritureLet\tDateLet\tValidDate\tMontantdevise\tIdevise"
)


def line(
    num: int, account: str, debit: str, credit: str, *, date: str = "20240110", aux: str = "", let: str = ""
) -> str:
    return "\t".join(
        [
            "VE",
            "Ventes",
            str(num),
            date,
            account,
            "Compte",
            aux,
            aux and "Client",
            "F1",
            date,
            "Facture",
            debit,
            credit,
            let,
            "",
            date,
            "",
            "",
        ]
    )


def write(
    tmp_path: Path,
    rows: list[str],
    *,
    name: str = "552100554FEC20241231.txt",
    encoding: str = "utf-8",
    eol: str = "\n",
) -> Path:
    path = tmp_path / name
    path.write_bytes((eol.join([HEADER, *rows]) + eol).encode(encoding))
    return path


SALE = [
    line(1, "411000", "120,00", "0,00", aux="C1"),
    line(1, "706000", "0,00", "100,00"),
    line(1, "445710", "0,00", "20,00"),
]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("0000000069,60", "69.60"),
        (" 000000000001437,12", "1437.12"),
        ("-000000000001437,12", "-1437.12"),
        ("1437,12-", "-1437.12"),
        ("- 12,50", "-12.50"),
        ("12", "12"),
        ("0,5", "0.5"),
        ("", "0"),
    ],
)
def test_amounts(text: str, expected: str) -> None:
    assert parse_amount(text) == Decimal(expected)


@pytest.mark.parametrize("text", ["1.437,12", "1437.12", "12,50 EUR", "1 437,12", "-12,5-", "1_000,00"])
def test_bad_amounts(text: str) -> None:
    with pytest.raises(ValueError):
        parse_amount(text)


def test_dates() -> None:
    assert parse_date("20240229") == dt.date(2024, 2, 29)
    with pytest.raises(ValueError, match="does not exist"):
        parse_date("20230229")
    with pytest.raises(ValueError, match="AAAAMMJJ"):
        parse_date("29/02/2024")


def test_header_variants() -> None:
    header = parse_header(HEADER.lower().replace("montantdevise", "MontantDevise") + "\t\r\n")
    assert header.separator == "\t" and header.width == 18 and not header.signed_amount
    signed = parse_header(HEADER.replace("Debit\tCredit", "Montant\tSens").replace("\t", "|"))
    assert signed.separator == "|" and signed.signed_amount
    with pytest.raises(HeaderError, match="missing FEC column.*Credit"):
        parse_header(HEADER.replace("\tCredit", ""))


def test_file_name() -> None:
    named = parse_file_name("552100554FEC20241231.txt")
    assert named.siren == "552100554" and named.closing_date == dt.date(2024, 12, 31)
    assert parse_file_name("0000000001FEC20220831.txt").siren == "000000001"
    assert parse_file_name("grand-livre.txt").siren is None


@pytest.mark.parametrize(
    ("encoding", "eol"),
    [("utf-8", "\n"), ("utf-8-sig", "\r\n"), ("cp1252", "\r\r\n"), ("iso8859-15", "\r")],
)
def test_encodings_and_line_ends(tmp_path: Path, encoding: str, eol: str) -> None:
    rows = [r.replace("Client", "Société Générale") for r in SALE]
    ledger = read_fec(write(tmp_path, rows, encoding=encoding, eol=eol), load_rules())
    assert ledger.stats.lines == 3
    assert ledger.receivable_lines[0].aux_lib == "Société Générale"
    assert ledger.receivable_lines[0].amount == Decimal("120.00")


def test_bad_date_on_line_n(tmp_path: Path) -> None:
    rows = [
        *SALE,
        line(2, "411000", "10,00", "0,00", aux="C1", date="20241341"),
        line(2, "706000", "0,00", "10,00"),
    ]
    with pytest.raises(ParseError) as caught:
        read_fec(write(tmp_path, rows), load_rules())
    assert caught.value.line == 5
    assert caught.value.column == "EcritureDate"
    assert "nothing imported" in str(caught.value)


def test_unbalanced_entry(tmp_path: Path) -> None:
    rows = [*SALE, line(2, "411000", "10,00", "0,00", aux="C1"), line(2, "706000", "0,00", "9,99")]
    with pytest.raises(ParseError, match=r"entry VE 2 is unbalanced: debit − credit = 0.01") as caught:
        read_fec(write(tmp_path, rows), load_rules())
    assert caught.value.line == 5


def test_entry_split_in_two_places_still_balances(tmp_path: Path) -> None:
    rows = [
        SALE[0],
        line(2, "411000", "5,00", "0,00", aux="C2"),
        line(2, "706000", "0,00", "5,00"),
        *SALE[1:],
    ]
    ledger = read_fec(write(tmp_path, rows), load_rules())
    assert ledger.stats.entries == 2


def test_wrong_columns(tmp_path: Path) -> None:
    path = tmp_path / "552100554FEC20241231.txt"
    path.write_text("Journal;Date;Compte;Montant\nVE;20240101;411;10\n", encoding="utf-8")
    with pytest.raises(ParseError, match="invalid FEC header") as caught:
        read_fec(path, load_rules())
    assert caught.value.line == 1


def test_field_count(tmp_path: Path) -> None:
    rows = [SALE[0], SALE[1] + "\textra", SALE[2]]
    with pytest.raises(ParseError, match="19 fields, the header has 18") as caught:
        read_fec(write(tmp_path, rows), load_rules())
    assert caught.value.line == 3


def test_decimal_point_refused(tmp_path: Path) -> None:
    rows = [SALE[0].replace("120,00", "120.00"), *SALE[1:]]
    with pytest.raises(ParseError, match="decimal comma") as caught:
        read_fec(write(tmp_path, rows), load_rules())
    assert (caught.value.line, caught.value.column) == (2, "Debit")


def test_many_problems_listed_and_counted(tmp_path: Path) -> None:
    rows = [line(n, "411000", "x", "0,00") for n in range(1, 40)]
    with pytest.raises(ParseError, match=r"(39|78) problems.*and \d+ more") as caught:
        read_fec(write(tmp_path, rows), load_rules())
    assert len(caught.value.details["problems"]) == 20


def test_currency_code_that_is_not_iso_4217_is_refused_with_its_line(tmp_path: Path) -> None:
    """A malformed Idevise used to reach the canonical Money and fail the run with a bare
    pydantic error; it is a validation problem of its line like any other."""
    foreign = SALE[0].rsplit("\t", 2)[0] + "\t130,00\tusd"
    ledger = read_fec(write(tmp_path, [foreign, *SALE[1:]]), load_rules())
    assert ledger.receivable_lines[0].fx_currency == "USD"
    rows = [SALE[0].rsplit("\t", 2)[0] + "\t130,00\tUSDX", *SALE[1:]]
    with pytest.raises(ParseError, match="'USDX' is not an ISO 4217 currency code") as caught:
        read_fec(write(tmp_path, rows), load_rules())
    assert (caught.value.line, caught.value.column) == (2, "Idevise")
