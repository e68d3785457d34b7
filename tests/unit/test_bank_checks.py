"""Encoding detection, strict balance checks and clear errors for bad bank files."""

from __future__ import annotations

from pathlib import Path

import pytest
from erp_recovery.connectors.bank import registry
from erp_recovery.connectors.bank.model import ReadOptions

from erp_recovery.errors import ParseError
from erp_recovery.textfiles import choose_single_byte, decode_bytes

FRENCH = "VIR SEPA RECU /DE SARL CHÂTEAU DE LA FORÊT /MOTIF Règlement facture n° 12 échéance été"
HUNGARIAN = "Csoportos átutalás jóváírása Díj, jutalék Bankon belüli"


@pytest.mark.parametrize(
    ("text", "encoding"),
    [(FRENCH, "cp850"), (FRENCH + " 10 €", "cp1252"), (HUNGARIAN, "cp850"), (FRENCH, "latin-1")],
)
def test_single_byte_code_pages_are_told_apart(text: str, encoding: str) -> None:
    data = text.encode(encoding)
    chosen = choose_single_byte(data)
    assert data.decode(chosen) == text


def test_utf8_wins_when_valid() -> None:
    assert decode_bytes(FRENCH.encode("utf-8")) == (FRENCH, "utf-8")


def _mt940(closing: str) -> str:
    return "\n".join(
        [
            ":20:TEST",
            ":25:FR7630006000011234567890189",
            ":28C:1/1",
            ":60F:C240301EUR100,00",
            ":61:240301C50,00NTRFNONREF",
            ":86:PAIEMENT FACTURE 42",
            f":62F:C240301EUR{closing}",
            "-",
        ]
    )


def test_balance_mismatch_is_reported_and_strict_mode_refuses(tmp_path: Path) -> None:
    path = tmp_path / "mismatch.sta"
    path.write_text(_mt940("140,00"))
    (statement,) = registry.read_file(path).statements
    assert statement.balance_check.status == "mismatch"
    assert str(statement.balance_check.difference) == "-10.00"
    with pytest.raises(ParseError, match=r"balances do not reconcile.*difference -10.00 EUR"):
        registry.read_file(path, ReadOptions(strict=True))
    path.write_text(_mt940("150,00"))
    assert registry.read_file(path, ReadOptions(strict=True)).statements[0].balance_check.status == "ok"


def test_unknown_file_and_missing_file_errors_name_the_file(tmp_path: Path) -> None:
    pdf = tmp_path / "releve.pdf"
    pdf.write_bytes(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    with pytest.raises(ParseError, match=r"releve\.pdf, line 1: not a bank statement file"):
        registry.read_file(pdf)
    with pytest.raises(ParseError, match="no such file"):
        list(registry.extract(tmp_path / "missing.xml"))


def test_file_size_limit() -> None:
    fixtures = Path(__file__).resolve().parents[1] / "golden" / "bank" / "fixtures"
    with pytest.raises(ParseError, match="larger than"):
        registry.read_file(fixtures / "camt053-tricky.xml", ReadOptions(max_bytes=1000))
