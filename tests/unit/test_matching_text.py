"""Normalisation of invoice numbers read in remittance text, and of payer names."""

from __future__ import annotations

import pytest

from erp_recovery.engines.matching.text import (
    compact_reference,
    invoice_keys,
    name_key,
    name_plain,
    remittance_windows,
    strip_invoice_prefix,
)


def keys_read(text: str, prefixes: frozenset[str] = frozenset({"FA"})) -> set[str]:
    return {key for window in remittance_windows(text, prefixes) for key in window.keys}


@pytest.mark.parametrize(
    "written",
    [
        "FA-2024-00123",
        "fa 2024 00123",
        "FA2024/00123",
        "Facture n° FA202400123",
        "FACT 2024-00123",
        "INV 202400123",
        "2024-123",
        "F2024123",
        "Règlement facture FA.2024.00123",
    ],
)
def test_every_way_of_writing_an_invoice_number_meets_one_of_its_keys(written: str) -> None:
    assert invoice_keys("FA-2024-00123") & keys_read(written)


def test_other_numbers_do_not_meet_its_keys() -> None:
    assert not invoice_keys("FA-2024-00123") & keys_read("FA-2024-00124 PO 7781 du 12/03/2024")


def test_prefixes_and_leading_zeros_are_removed_only_before_digits() -> None:
    assert strip_invoice_prefix("FACTFA000123") == ("123", True)
    assert strip_invoice_prefix("FAURE12") == ("FAURE12", False)
    assert compact_reference("fa-2024/00123 ") == "FA202400123"


def test_words_after_a_number_end_its_window() -> None:
    windows = [
        window.text for window in remittance_windows("FA 2024 00123 ET FA 2024 00124", frozenset({"FA"}))
    ]
    assert "FA 2024 00123" in windows
    assert not any(text.endswith(" ET") for text in windows)


def test_a_window_at_the_end_of_the_text_is_marked_for_truncation() -> None:
    windows = list(remittance_windows("PAIEMENT FA-2024-001", frozenset({"FA"})))
    assert next(window.text for window in windows if window.at_end).startswith("FA")


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("Ets Dupont & Fils S.A.R.L.", "DUPONT ET FILS"),
        ("Société Générale d'Équipement SAS", "SOCIETE GENERALE D EQUIPEMENT"),
        ("Martin Jean", "JEAN MARTIN"),
        ("Boulangerie Lefèvre SARL", "BOULANGERIE LEFEVRE"),
    ],
)
def test_names_compare_without_legal_forms_accents_case_or_small_words(one: str, other: str) -> None:
    assert sorted(name_key(one).split()) == sorted(name_key(other).split())


def test_plain_name_keeps_every_word_for_prefix_comparison() -> None:
    assert name_plain("Ets Dupont & Fils S.A.R.L.") == "ETS DUPONT ET FILS SARL"
