"""Evidence from references: invoice numbers in the text, typos, truncation, RF, RfrdDocInf, end-to-end ids."""

from __future__ import annotations

import pytest
from matching_builders import allocated, credit, customer, invoice, only, rules, run

CUSTOMERS = [customer("C1", "Dupont & Fils SARL"), customer("C2", "Martin Industries SAS")]


def test_invoice_number_and_exact_amount_are_enough_even_from_an_unknown_payer() -> None:
    invoices = [invoice("I1", "FA-2024-00123", "C1", "1200.00")]
    result = run(
        CUSTOMERS, invoices, [credit("T1", "1200.00", name="SCI DES LILAS", remittance="FA-2024-00123")]
    )
    proposal = only(result, "T1")
    assert proposal.status == "auto"
    assert allocated(proposal) == {"FA-2024-00123": "1200.00"}
    number = next(evidence for evidence in proposal.evidence if evidence.rule == "invoice_number")
    assert number.tokens == ("FA-2024-00123",)
    assert number.invoice_ids == ("I1",)
    assert "amount_exact" in rules(proposal)


@pytest.mark.parametrize(
    "remittance",
    [
        "VIR SEPA DUPONT FACT FA 2024 00123",
        "reglement facture n° fa2024/00123",
        "/INV/FA202400123/",
        "PAIEMENT 2024-123",
        "F2024123 MERCI",
        "Facture FA.2024.00123 du 15/01/2024",
    ],
)
def test_invoice_numbers_are_read_in_every_usual_format(remittance: str) -> None:
    invoices = [
        invoice("I1", "FA-2024-00123", "C1", "1200.00"),
        invoice("I2", "FA-2024-00124", "C1", "50.00"),
    ]
    proposal = only(run(CUSTOMERS, invoices, [credit("T1", "1200.00", remittance=remittance)]), "T1")
    assert proposal.status == "auto", proposal.reason
    assert allocated(proposal) == {"FA-2024-00123": "1200.00"}


def test_several_invoice_numbers_in_one_remittance_settle_them_together() -> None:
    invoices = [
        invoice("I1", "FA-2024-00123", "C1", "1200.00"),
        invoice("I2", "FA-2024-00124", "C1", "300.00"),
        invoice("I3", "FA-2024-00125", "C1", "75.00"),
    ]
    transaction = credit("T1", "1500.00", name="DUPONT ET FILS", remittance="FA-2024-00123, FA-2024-00124")
    proposal = only(run(CUSTOMERS, invoices, [transaction]), "T1")
    assert proposal.status == "auto"
    assert allocated(proposal) == {"FA-2024-00123": "1200.00", "FA-2024-00124": "300.00"}


def test_valid_rf_creditor_reference_names_the_invoice_we_printed_it_on() -> None:
    invoices = [invoice("I1", "FA-2024-00123", "C1", "800.00", payment_reference="RF18 5390 0754 7034")]
    transaction = credit("T1", "800.00", structured_reference="RF18539007547034")
    proposal = only(run(CUSTOMERS, invoices, [transaction]), "T1")
    assert proposal.status == "auto"
    assert "rf_reference" in rules(proposal)
    assert allocated(proposal) == {"FA-2024-00123": "800.00"}


def test_rf_reference_found_in_free_text_with_spaces() -> None:
    invoices = [invoice("I1", "FA-2024-00123", "C1", "800.00", payment_reference="RF18539007547034")]
    transaction = credit("T1", "800.00", remittance="PAIEMENT RF18 5390 0754 7034 MERCI")
    proposal = only(run(CUSTOMERS, invoices, [transaction]), "T1")
    assert "rf_reference" in rules(proposal)
    assert proposal.status == "auto"


def test_invalid_rf_reference_is_ignored_not_guessed() -> None:
    invoices = [invoice("I1", "FA-2024-00123", "C1", "800.00", payment_reference="RF18539007547034")]
    transaction = credit("T1", "800.00", structured_reference="RF19539007547034")  # wrong check digits
    proposal = only(run(CUSTOMERS, invoices, [transaction]), "T1")
    assert "rf_reference" not in rules(proposal)
    assert proposal.status == "unmatched"
    assert proposal.lines == ()


def test_rfrddocinf_invoice_number_is_structured_evidence() -> None:
    invoices = [invoice("I1", "FA-2024-00123", "C1", "640.00")]
    transaction = credit("T1", "640.00", referred_documents=("FA-2024-00123",))
    proposal = only(run(CUSTOMERS, invoices, [transaction]), "T1")
    assert proposal.status == "auto"
    assert "referred_document" in rules(proposal)


def test_end_to_end_id_we_issued_names_the_invoice_and_notprovided_is_ignored() -> None:
    invoices = [
        invoice("I1", "FA-2024-00123", "C1", "640.00", payment_reference="E2E-7741-2024"),
        invoice("I2", "FA-2024-00200", "C2", "640.00"),
    ]
    issued = credit("T1", "640.00", end_to_end_id="E2E-7741-2024")
    not_provided = credit("T2", "640.00", end_to_end_id="NOTPROVIDED")
    result = run(CUSTOMERS, invoices, [issued, not_provided])
    assert only(result, "T1").status == "auto"
    assert "end_to_end_id" in rules(only(result, "T1"))
    assert only(result, "T2").status == "unmatched"


def test_one_typo_is_accepted_when_exactly_one_open_invoice_fits() -> None:
    invoices = [
        invoice("I1", "FA-2024-00123", "C1", "1200.00"),
        invoice("I2", "FA-2024-00456", "C1", "90.00"),
    ]
    transaction = credit("T1", "1200.00", name="DUPONT ET FILS", remittance="FACTURE FA-2024-00132")
    proposal = only(run(CUSTOMERS, invoices, [transaction]), "T1")
    assert proposal.status == "auto"
    assert "typo" in proposal.flags
    assert "invoice_number_typo" in rules(proposal)
    assert allocated(proposal) == {"FA-2024-00123": "1200.00"}


def test_a_typo_that_fits_two_invoices_is_refused() -> None:
    invoices = [
        invoice("I1", "FA-2024-00123", "C1", "100.00"),
        invoice("I2", "FA-2024-00125", "C1", "100.00"),
    ]
    transaction = credit("T1", "100.00", name="DUPONT ET FILS", remittance="FA-2024-00124")
    proposal = only(run(CUSTOMERS, invoices, [transaction]), "T1")
    assert "invoice_number_typo" not in rules(proposal)
    assert proposal.status != "auto"


def test_a_typo_also_one_away_from_an_already_paid_invoice_is_refused() -> None:
    invoices = [
        invoice("I1", "FA-2024-00123", "C1", "100.00"),
        invoice("I2", "FA-2024-00125", "C1", "100.00", residual="0"),
    ]
    transaction = credit("T1", "100.00", remittance="FA-2024-00124")
    proposal = only(run(CUSTOMERS, invoices, [transaction]), "T1")
    assert "invoice_number_typo" not in rules(proposal)
    assert proposal.status == "unmatched"


def test_a_remittance_cut_by_the_bank_matches_the_one_invoice_it_starts() -> None:
    invoices = [invoice("I1", "FA-2024-00123", "C1", "310.00"), invoice("I2", "FA-2024-00300", "C1", "50.00")]
    text = "VIREMENT DUPONT ET FILS REGLEMENT FACTURE FA-2024-001"
    text = ("X" * (35 - len(text) % 35)) + " " + text if len(text) % 35 else text
    text = text[-35 * (len(text) // 35) :]
    assert len(text) % 35 == 0 and text.endswith("FA-2024-001")
    transaction = credit("T1", "310.00", name="DUPONT ET FILS", remittance=text)
    proposal = only(run(CUSTOMERS, invoices, [transaction]), "T1")
    assert "invoice_number_truncated" in rules(proposal)
    assert proposal.status == "auto"
    assert allocated(proposal) == {"FA-2024-00123": "310.00"}


def test_a_short_unprefixed_number_with_the_amount_from_an_unknown_payer_is_only_suggested() -> None:
    invoices = [invoice("I1", "4471", "C1", "95.00")]
    proposal = only(run(CUSTOMERS, invoices, [credit("T1", "95.00", remittance="REGLEMENT 4471")]), "T1")
    assert proposal.status == "suggested"
    assert proposal.confidence < 0.85


def test_a_number_shared_by_two_series_is_ambiguous_and_not_used() -> None:
    invoices = [invoice("I1", "FA-2024-0007", "C1", "100.00"), invoice("I2", "FB-2024-0007", "C2", "100.00")]
    proposal = only(run(CUSTOMERS, invoices, [credit("T1", "100.00", remittance="PAIEMENT 2024-0007")]), "T1")
    assert "ambiguous_reference" in rules(proposal)
    assert proposal.status == "unmatched"


def test_a_customer_purchase_order_number_is_not_read_as_ours() -> None:
    invoices = [
        invoice("I1", "FA-2024-00123", "C2", "2400.00", customer_reference="PO-4500012345"),
        invoice("I2", "FA-2024-45000", "C1", "2400.00"),
    ]
    transaction = credit("T1", "2400.00", name="MARTIN INDUSTRIES", remittance="PO 4500012345")
    proposal = only(run(CUSTOMERS, invoices, [transaction]), "T1")
    assert allocated(proposal) == {"FA-2024-00123": "2400.00"}
    assert "invoice_number" not in rules(proposal)
