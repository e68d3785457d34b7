"""Evidence about the payer: IBAN memory, fuzzy names (and refused ties), parent companies."""

from __future__ import annotations

import pytest
from matching_builders import allocated, credit, customer, iban, invoice, only, rules, run

from erp_recovery.engines.matching import PayerMemory


def test_iban_known_in_the_erp_identifies_the_customer() -> None:
    customers = [customer("C1", "Dupont SARL", ibans=(iban(1),)), customer("C2", "Martin SAS")]
    invoices = [invoice("I1", "FA-1", "C1", "430.00"), invoice("I2", "FA-2", "C2", "430.00")]
    proposal = only(run(customers, invoices, [credit("T1", "430.00", name="M. X", payer_iban=iban(1))]), "T1")
    assert proposal.status == "auto"
    assert "iban_erp" in rules(proposal)
    assert allocated(proposal) == {"FA-1": "430.00"}


def test_iban_remembered_from_a_decision_identifies_the_customer() -> None:
    customers = [customer("C1", "Dupont SARL"), customer("C2", "Martin SAS")]
    invoices = [invoice("I1", "FA-1", "C1", "430.00"), invoice("I2", "FA-2", "C2", "430.00")]
    memory = [PayerMemory(kind="iban", key=iban(7), customer_id="C2")]
    proposal = only(
        run(customers, invoices, [credit("T1", "430.00", payer_iban=iban(7))], memory=memory), "T1"
    )
    assert proposal.status == "auto"
    assert "iban_memory" in rules(proposal)
    assert allocated(proposal) == {"FA-2": "430.00"}


def test_blocked_memory_is_never_used() -> None:
    customers = [customer("C1", "Dupont SARL")]
    invoices = [invoice("I1", "FA-1", "C1", "430.00")]
    memory = [
        PayerMemory(kind="iban", key=iban(7), customer_id="C1"),
        PayerMemory(kind="iban", key=iban(7), customer_id="C1", blocked=True),
    ]
    proposal = only(
        run(customers, invoices, [credit("T1", "430.00", payer_iban=iban(7))], memory=memory), "T1"
    )
    assert proposal.status == "unmatched"


def test_an_iban_shared_by_unrelated_customers_proves_nothing() -> None:
    customers = [
        customer("C1", "Dupont SARL", ibans=(iban(3),)),
        customer("C2", "Martin SAS", ibans=(iban(3),)),
    ]
    invoices = [invoice("I1", "FA-1", "C1", "430.00")]
    proposal = only(run(customers, invoices, [credit("T1", "430.00", payer_iban=iban(3))]), "T1")
    assert proposal.status == "unmatched"


@pytest.mark.parametrize(
    "payer",
    [
        "BOULANGERIE LEFEVRE",  # upper case, no accent, no legal form
        "Lefèvre Boulangerie SARL",  # word order, another legal form
        "STE BOULANGERIE LEFEVRE",  # bank abbreviation
        "SARL BOULANGERIE LEFEV",  # cut by the bank
        "BOULANGERIE LEFEBVRE",  # one letter off
    ],
)
def test_payer_names_are_matched_despite_legal_forms_accents_order_case_and_truncation(payer: str) -> None:
    customers = [customer("C1", "Boulangerie Lefèvre SAS"), customer("C2", "Pâtisserie Moreau")]
    invoices = [invoice("I1", "FA-1", "C1", "212.40"), invoice("I2", "FA-2", "C2", "212.40")]
    proposal = only(run(customers, invoices, [credit("T1", "212.40", name=payer)]), "T1")
    assert allocated(proposal) == {"FA-1": "212.40"}, proposal.reason
    assert "name_fuzzy" in rules(proposal)


def test_a_name_fitting_two_customers_is_a_tie_and_refused() -> None:
    customers = [customer("C1", "Transports Martin SARL"), customer("C2", "Transports Martin SAS")]
    invoices = [invoice("I1", "FA-1", "C1", "500.00"), invoice("I2", "FA-2", "C2", "500.00")]
    proposal = only(run(customers, invoices, [credit("T1", "500.00", name="TRANSPORTS MARTIN")]), "T1")
    assert proposal.status == "unmatched"
    assert "name_tie" in proposal.flags
    assert proposal.lines == ()


def test_a_tie_is_only_suggested_when_a_single_tied_customer_has_that_amount() -> None:
    customers = [customer("C1", "Transports Martin SARL"), customer("C2", "Transports Martin SAS")]
    invoices = [invoice("I1", "FA-1", "C1", "500.00"), invoice("I2", "FA-2", "C2", "720.00")]
    proposal = only(run(customers, invoices, [credit("T1", "500.00", name="TRANSPORTS MARTIN")]), "T1")
    assert proposal.status == "suggested"
    assert "name_tie" in proposal.flags
    assert allocated(proposal) == {"FA-1": "500.00"}


def test_a_parent_company_pays_for_its_subsidiary_when_the_erp_links_them() -> None:
    customers = [
        customer("P", "Groupe Hexagone SA"),
        customer("S1", "Hexagone Lyon SAS", parent_id="P"),
        customer("S2", "Hexagone Nantes SAS", parent_id="P"),
        customer("X", "Unrelated SARL"),
    ]
    invoices = [
        invoice("I1", "FA-10", "S1", "1000.00"),
        invoice("I2", "FA-11", "S2", "250.00"),
        invoice("I3", "FA-12", "X", "1250.00"),
    ]
    proposal = only(run(customers, invoices, [credit("T1", "1250.00", name="GROUPE HEXAGONE")]), "T1")
    assert proposal.status == "auto"
    assert allocated(proposal) == {"FA-10": "1000.00", "FA-11": "250.00"}
    assert "parent_company" in rules(proposal)


def test_a_payer_who_is_another_customer_makes_a_reference_only_a_suggestion() -> None:
    customers = [customer("C1", "Dupont SARL"), customer("C2", "Martin Industries SAS")]
    invoices = [invoice("I1", "FA-2024-00123", "C1", "900.00")]
    transaction = credit("T1", "900.00", name="MARTIN INDUSTRIES", remittance="FA-2024-00123")
    proposal = only(run(customers, invoices, [transaction]), "T1")
    assert proposal.status == "suggested"
    assert "payer_conflict" in proposal.flags


def test_an_iban_seen_paying_by_reference_identifies_the_next_credit_of_the_run() -> None:
    customers = [customer("C1", "Dupont SARL"), customer("C2", "Martin SAS")]
    invoices = [
        invoice("I1", "FA-2024-00123", "C1", "100.00"),
        invoice("I2", "FA-2024-00124", "C1", "333.00"),
        invoice("I3", "FA-2024-00900", "C2", "333.00"),
    ]
    first = credit(
        "T1", "100.00", name="M OU MME D", payer_iban=iban(9), remittance="FA-2024-00123", date="2024-03-01"
    )
    second = credit("T2", "333.00", name="M OU MME D", payer_iban=iban(9), date="2024-03-08")
    proposal = only(run(customers, invoices, [first, second]), "T2")
    assert "iban_learned" in rules(proposal)
    assert allocated(proposal) == {"FA-2024-00124": "333.00"}
