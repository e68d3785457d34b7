"""Our readings of the shared samples agree with the values their sources' own tests assert.

- camt: genkgo/camt gold files (amount, currency, booking and value dates, AcctSvcrRef per entry).
  Entries without any booking date get the statement's date from us (genkgo leaves none).
- MT940/MT942: WoLpH/mt940 gold files. Two documented divergences, where we follow the SWIFT
  spec: ``RC`` (reversal of a credit) is money out (WoLpH keeps it positive), and a bank
  reference after ``NONREF//`` is a bank reference (WoLpH cuts it into the 16-character customer
  reference).
- OFX: values asserted in ofxparse ``tests/test_parse.py``; CFONB 120: silarhi/cfonb-parser
  ``tests/Cfonb120ReaderTest.php`` (cited next to each value).
- Every accepted sample has the statement and transaction counts its MANIFEST.tsv row states.
"""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

import pytest
from erp_recovery.connectors.bank import registry

from .goldens import SHARED_SAMPLES, shared_cases
from .source_gold import GoldTransaction, genkgo_entries, wolph_transactions

pytestmark = pytest.mark.skipif(not SHARED_SAMPLES.exists(), reason=f"no shared samples at {SHARED_SAMPLES}")


def _sibling(sample: Path, suffix: str) -> Path:
    return sample.with_name(sample.name.rsplit(".", 1)[0] + suffix)


def _accepted(sample: Path):  # type: ignore[no-untyped-def]
    try:
        return registry.read_file(sample).all_transactions()
    except Exception:  # refused samples are covered by their golden error
        return None


def _camt_cases() -> list[Path]:
    return [
        case.source for case in shared_cases() if case.manifest and case.manifest["format"].startswith("camt")
    ]


def _mt_cases() -> list[Path]:
    return [
        case.source
        for case in shared_cases()
        if case.manifest and case.manifest["format"] in ("mt940", "mt942")
    ]


@pytest.mark.parametrize("sample", _camt_cases(), ids=lambda path: path.name)
def test_camt_matches_genkgo(sample: Path) -> None:
    gold_path = _sibling(sample, ".expected.json")
    transactions = _accepted(sample)
    if transactions is None or not gold_path.exists():
        pytest.skip("refused sample, or no genkgo gold file")
    gold = genkgo_entries(gold_path)
    # One transaction per entry in every genkgo sample (no batch there adds up to its entry). The
    # dump of a multi-statement file keeps the entries of one statement: each must be among ours.
    if sample.name.endswith("multi.statement.xml"):
        assert len(transactions) == 2 and len(gold) == 1
    else:
        assert len(transactions) == len(gold)
    for theirs in gold:
        matching = [
            ours
            for ours in transactions
            if ours.amount.amount == theirs.amount
            and ours.amount.currency == theirs.currency
            and (theirs.booking_date is None or ours.booking_date == theirs.booking_date)
            and ours.value_date == theirs.value_date
            and ours.bank_reference == theirs.bank_reference
        ]
        assert matching, f"no transaction of ours matches {theirs}"


def _wolph_sign(gold: GoldTransaction, reversal_of_credit: bool) -> Decimal:
    return -gold.amount if reversal_of_credit else gold.amount


@pytest.mark.parametrize("sample", _mt_cases(), ids=lambda path: path.name)
def test_mt940_matches_wolph(sample: Path) -> None:
    gold_path = _sibling(sample, ".expected.yml")
    transactions = _accepted(sample)
    if transactions is None or not gold_path.exists():
        pytest.skip("refused sample (MT940 fragment or statement without closing balance), or no gold")
    gold = wolph_transactions(gold_path)
    assert len(transactions) == len(gold)
    for ours, theirs in zip(transactions, gold, strict=True):
        reversal_of_credit = ours.reversal and ours.amount.amount < 0
        assert ours.amount.amount == _wolph_sign(theirs, reversal_of_credit)
        assert ours.amount.currency == theirs.currency
        assert ours.booking_date == theirs.booking_date
        assert ours.value_date == theirs.value_date
        if theirs.bank_reference:
            assert ours.bank_reference == theirs.bank_reference


def test_ofx_matches_ofxparse_tests() -> None:
    medium = registry.read_file(SHARED_SAMPLES / "ofx" / "ofxparse__bank_medium.ofx")
    # testEverything: 3 transactions, balance 382.34, first payee and amount.
    assert len(medium.all_transactions()) == 3
    assert medium.statements[0].closing_balance is not None
    assert medium.statements[0].closing_balance.amount == Decimal("382.34")
    first = medium.all_transactions()[0]
    assert first.counterparty_name == "MCDONALD'S #112" and first.amount.amount == Decimal("-6.60")
    # testMultipleAccounts: accounts 9100 and 9200 with routing number 123.
    accounts = registry.read_file(SHARED_SAMPLES / "ofx" / "ofxparse__multiple_accounts2.ofx").statements
    assert [statement.account for statement in accounts] == ["123/9100", "123/9200"]
    # TestSuncorpBankStatement: one transaction, payee, memo and amount.
    (suncorp,) = registry.read_file(SHARED_SAMPLES / "ofx" / "ofxparse__suncorp.ofx").all_transactions()
    assert suncorp.counterparty_name == "EFTPOS WDL HANDYWAY ALDI STORE"
    assert suncorp.remittance == "EFTPOS WDL HANDYWAY ALDI STORE GEELONG WEST VICAU"
    assert suncorp.amount.amount == Decimal("-16.85")
    # testTextStartsWithTag: the credit-card account number.
    assert (
        registry.read_file(SHARED_SAMPLES / "ofx" / "ofxparse__anzcc.ofx").statements[0].account
        == "1234123412341234"
    )


def test_cfonb120_matches_silarhi_tests() -> None:
    for name in ("silarhi__complex-test.txt", "silarhi__non-strict-test.txt"):
        result = registry.read_file(SHARED_SAMPLES / "cfonb120" / name)
        # testComplexTest: 8 statements, their balances and operations.
        assert len(result.statements) == 8
        openings = [
            str(statement.opening_balance.amount)
            for statement in result.statements
            if statement.opening_balance
        ]
        assert openings == [
            "16695.65",
            "16672.86",
            "11652.75",
            "11652.75",
            "11535.00",
            "11535.00",
            "11484.75",
            "584353.02",
        ]
        closings = [str(s.closing_balance.amount) for s in result.statements if s.closing_balance]
        assert closings[:7] == [
            "16672.86",
            "11652.75",
            "11652.75",
            "11535.00",
            "11535.00",
            "11484.75",
            "11484.75",
        ]
        amounts = [str(t.amount.amount) for t in result.all_transactions()]
        assert amounts == ["-22.79", "-20.11", "-5000.00", "-117.75", "-50.25"]
        fourth = result.all_transactions()[3]
        assert str(fourth.booking_date) == "2020-04-10" and str(fourth.value_date) == "2020-04-01"
        assert fourth.remittance == "FACTURE SGT20022040001692 DONT TVA 11 39EUR"
    simple = registry.read_file(SHARED_SAMPLES / "cfonb120" / "silarhi__simple-test.txt")
    assert simple.statements[0].opening_balance is not None
    assert str(simple.statements[0].opening_balance.amount) == "16695.65"
    assert str(simple.statements[0].opening_date) == "2020-04-03"


def _manifest_counts(row: dict[str, str]) -> tuple[int | None, int | None]:
    contents = row["contents"]
    patterns = {
        "camt": (r"(\d+) stmt/ntfctn", r"(\d+) Ntry"),
        "mt94": (r"(\d+) statement\(s\)", r"(\d+) :61: tx"),
        "ofx": (r"(\d+) bank/cc stmt\(s\)", r"(\d+) STMTTRN"),
        "cfon": (r"(\d+) x 01", r"(\d+) x 04"),
    }
    statements_pattern, entries_pattern = patterns[row["format"][:4] if row["format"] != "ofx" else "ofx"]
    statements = re.search(statements_pattern, contents)
    entries = re.search(entries_pattern, contents)
    return (int(statements.group(1)) if statements else None, int(entries.group(1)) if entries else None)


@pytest.mark.parametrize("case", [c for c in shared_cases() if c.manifest], ids=lambda case: case.name)
def test_counts_match_manifest(case) -> None:  # type: ignore[no-untyped-def]
    try:
        result = registry.read_file(case.source)
    except Exception:
        pytest.skip("refused sample")
    statements, entries = _manifest_counts(case.manifest)
    if statements is not None:
        assert len(result.statements) == statements
    if entries is not None:
        assert sum(statement.entry_count for statement in result.statements) == entries
