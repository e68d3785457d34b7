"""Amount rules: exact, bank charges, combinations, ties, partial, overpayment, credit notes, duplicates,
currencies, and never the same euro twice."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from matching_builders import allocated, credit, customer, invoice, only, rules, run

from erp_recovery.engines.matching import MatchSettings

CUSTOMERS = [customer("C1", "Dupont & Fils SARL"), customer("C2", "Martin Industries SAS")]


def test_bank_charges_within_tolerance_are_written_off_and_recorded() -> None:
    invoices = [invoice("I1", "FA-2024-00123", "C1", "1000.00")]
    transaction = credit("T1", "988.50", name="DUPONT ET FILS", remittance="FA-2024-00123")
    proposal = only(run(CUSTOMERS, invoices, [transaction]), "T1")
    assert proposal.status == "auto"
    assert allocated(proposal) == {"FA-2024-00123": "1000.00"}
    assert proposal.writeoff is not None and proposal.writeoff.amount == Decimal("11.50")
    assert "writeoff" in proposal.flags
    assert "amount_tolerance" in rules(proposal)


def test_tolerance_is_configurable_absolute_and_relative() -> None:
    invoices = [invoice("I1", "FA-2024-00123", "C1", "100.00")]
    transaction = credit("T1", "90.00", name="DUPONT ET FILS", remittance="FA-2024-00123")
    default = only(run(CUSTOMERS, invoices, [transaction]), "T1")
    assert default.writeoff is None  # 10 % is beyond the default 5 %
    assert "partial" in default.flags
    generous = MatchSettings(writeoff_max_relative="0.10")
    proposal = only(run(CUSTOMERS, invoices, [transaction], generous), "T1")
    assert proposal.writeoff is not None and proposal.writeoff.amount == Decimal("10.00")


def test_one_payment_for_several_invoices_without_reference_is_found_by_subset_sum() -> None:
    invoices = [
        invoice("I1", "FA-1", "C1", "118.20", issue="2024-01-05"),
        invoice("I2", "FA-2", "C1", "402.75", issue="2024-01-12"),
        invoice("I3", "FA-3", "C1", "96.00", issue="2024-01-20"),
        invoice("I4", "FA-4", "C1", "1210.10", issue="2024-02-02"),
    ]
    proposal = only(run(CUSTOMERS, invoices, [credit("T1", "1306.10", name="DUPONT ET FILS")]), "T1")
    assert proposal.status == "auto"
    assert allocated(proposal) == {"FA-3": "96.00", "FA-4": "1210.10"}
    assert "amount_subset" in rules(proposal)


def test_when_several_combinations_fit_the_oldest_is_suggested_not_applied() -> None:
    invoices = [
        invoice("I1", "FA-1", "C1", "100.00", issue="2024-01-05"),
        invoice("I2", "FA-2", "C1", "200.00", issue="2024-01-12"),
        invoice("I3", "FA-3", "C1", "300.00", issue="2024-02-20"),
    ]
    proposal = only(run(CUSTOMERS, invoices, [credit("T1", "300.00", name="DUPONT ET FILS")]), "T1")
    # FA-3 alone (exactly one single item) is preferred over FA-1 + FA-2
    assert allocated(proposal) == {"FA-3": "300.00"}
    tie = [
        invoice("I1", "FA-1", "C1", "100.00", issue="2024-01-05"),
        invoice("I2", "FA-2", "C1", "200.00", issue="2024-01-12"),
        invoice("I3", "FA-3", "C1", "150.00", issue="2024-02-20"),
        invoice("I4", "FA-4", "C1", "150.00", issue="2024-02-21"),
    ]
    proposal = only(run(CUSTOMERS, tie, [credit("T1", "350.00", name="DUPONT ET FILS")]), "T1")
    assert proposal.status == "suggested"
    assert "amount_tie" in proposal.flags
    # FA-2 + FA-3 and FA-2 + FA-4 both make 350.00: the one with the oldest items
    assert allocated(proposal) == {"FA-2": "200.00", "FA-3": "150.00"}


def test_identical_amounts_without_indication_are_imputed_to_the_debt_due_first() -> None:
    # Code civil art. 1342-10: without indication, a payment goes to the debts due, the oldest first
    invoices = [
        invoice("I1", "FA-7", "C1", "480.00", issue="2024-02-01", due="2024-03-01"),
        invoice("I2", "FA-5", "C1", "480.00", issue="2024-01-01", due="2024-03-31"),
        invoice("I3", "FA-9", "C1", "480.00", issue="2024-01-20", due="2024-02-20"),
    ]
    proposal = only(run(CUSTOMERS, invoices, [credit("T1", "480.00", name="DUPONT ET FILS")]), "T1")
    assert proposal.status == "auto"
    assert allocated(proposal) == {"FA-9": "480.00"}
    assert "imputed_oldest" in proposal.flags
    assert "amount_exact_oldest" in rules(proposal)


def test_identical_amounts_with_an_unreadable_reference_are_only_suggested() -> None:
    invoices = [
        invoice("I1", "FA-2024-00123", "C1", "100.00", issue="2024-01-05"),
        invoice("I2", "FA-2024-00125", "C1", "100.00", issue="2024-01-06"),
    ]
    transaction = credit("T1", "100.00", name="DUPONT ET FILS", remittance="FA-2024-00124")
    proposal = only(run(CUSTOMERS, invoices, [transaction]), "T1")
    assert proposal.status == "suggested"
    assert "amount_tie" in proposal.flags


def test_a_partial_payment_naming_its_invoice_is_applied_to_it() -> None:
    invoices = [invoice("I1", "FA-2024-00123", "C1", "3000.00")]
    transaction = credit("T1", "1000.00", name="DUPONT ET FILS", remittance="ACOMPTE 1/3 FA-2024-00123")
    proposal = only(run(CUSTOMERS, invoices, [transaction]), "T1")
    assert proposal.status == "auto"
    assert allocated(proposal) == {"FA-2024-00123": "1000.00"}
    assert "partial" in proposal.flags


def test_a_partial_payment_without_reference_is_suggested_oldest_first() -> None:
    invoices = [
        invoice("I1", "FA-1", "C1", "700.00", issue="2024-01-05"),
        invoice("I2", "FA-2", "C1", "900.00", issue="2024-02-05"),
    ]
    proposal = only(run(CUSTOMERS, invoices, [credit("T1", "1000.00", name="DUPONT ET FILS")]), "T1")
    assert proposal.status == "suggested"
    assert allocated(proposal) == {"FA-1": "700.00", "FA-2": "300.00"}
    assert "partial" in proposal.flags


def test_an_overpayment_is_flagged_and_the_excess_left_unapplied() -> None:
    invoices = [
        invoice("I1", "FA-2024-00123", "C1", "500.00"),
        invoice("I2", "FA-2024-00200", "C1", "900.00"),
    ]
    named = credit("T1", "650.00", name="DUPONT ET FILS", remittance="FA-2024-00123")
    proposal = only(run(CUSTOMERS, invoices, [named]), "T1")
    # the invoice named is paid for sure; the excess is flagged and never absorbed by another invoice
    assert proposal.status == "auto"
    assert "overpayment" in proposal.flags
    assert allocated(proposal) == {"FA-2024-00123": "500.00"}
    assert proposal.unapplied is not None and proposal.unapplied.amount == Decimal("150.00")
    unnamed = credit("T2", "1500.00", name="DUPONT ET FILS")
    guess = only(run(CUSTOMERS, invoices, [unnamed]), "T2")
    assert guess.status == "suggested"
    assert "overpayment" in guess.flags
    assert guess.unapplied is not None and guess.unapplied.amount == Decimal("100.00")


def test_money_for_invoices_not_yet_in_the_books_stays_unapplied() -> None:
    invoices = [invoice("I1", "FA-2024-00123", "C1", "500.00")]
    transaction = credit("T1", "800.00", name="DUPONT ET FILS", remittance="FA-2024-00123 + FA-2025-00007")
    proposal = only(run(CUSTOMERS, invoices, [transaction]), "T1")
    assert allocated(proposal) == {"FA-2024-00123": "500.00"}
    assert proposal.unapplied is not None and proposal.unapplied.amount == Decimal("300.00")
    assert "unknown_reference" in proposal.flags


def test_a_credit_note_is_netted_when_the_payment_deducts_it() -> None:
    invoices = [
        invoice("I1", "FA-2024-00123", "C1", "1200.00"),
        invoice("A1", "AV-2024-00009", "C1", "200.00", kind="credit_note"),
    ]
    transaction = credit("T1", "1000.00", name="DUPONT ET FILS", remittance="FA-2024-00123")
    proposal = only(run(CUSTOMERS, invoices, [transaction]), "T1")
    assert proposal.status == "auto"
    assert allocated(proposal) == {"FA-2024-00123": "1200.00", "AV-2024-00009": "200.00"}
    assert "credit_note_netted" in rules(proposal)
    assert proposal.allocated.amount == Decimal("1000.00")


def test_credit_notes_are_netted_in_combinations_without_reference() -> None:
    invoices = [
        invoice("I1", "FA-1", "C1", "640.00"),
        invoice("I2", "FA-2", "C1", "360.00"),
        invoice("A1", "AV-1", "C1", "150.00", kind="credit_note"),
    ]
    proposal = only(run(CUSTOMERS, invoices, [credit("T1", "850.00", name="DUPONT ET FILS")]), "T1")
    assert allocated(proposal) == {"FA-1": "640.00", "FA-2": "360.00", "AV-1": "150.00"}
    assert proposal.status == "auto"


def test_a_duplicate_payment_is_flagged_and_never_absorbed() -> None:
    invoices = [
        invoice("I1", "FA-2024-00123", "C1", "780.00"),
        invoice("I2", "FA-2024-00124", "C1", "780.00"),
    ]
    first = credit("T1", "780.00", name="DUPONT ET FILS", remittance="FA-2024-00123", date="2024-03-01")
    again = credit("T2", "780.00", name="DUPONT ET FILS", remittance="FA-2024-00123", date="2024-03-04")
    result = run(CUSTOMERS, invoices, [first, again])
    assert only(result, "T1").status == "auto"
    duplicate = only(result, "T2")
    assert duplicate.status == "unmatched"
    assert "duplicate_payment" in duplicate.flags
    assert duplicate.lines == ()


def test_a_duplicate_of_a_payment_without_reference_is_flagged() -> None:
    invoices = [invoice("I1", "FA-1", "C1", "615.30")]
    first = credit("T1", "615.30", name="DUPONT ET FILS", date="2024-03-01")
    again = credit("T2", "615.30", name="DUPONT ET FILS", date="2024-03-02")
    result = run(CUSTOMERS, invoices, [first, again])
    assert only(result, "T1").status == "auto"
    assert only(result, "T2").status == "unmatched"
    assert "duplicate_payment" in only(result, "T2").flags


def test_never_across_currencies_without_an_explicit_rate() -> None:
    invoices = [invoice("I1", "FA-2024-00123", "C1", "920.00")]
    transaction = credit("T1", "1000.00", currency="USD", name="DUPONT ET FILS", remittance="FA-2024-00123")
    refused = only(run(CUSTOMERS, invoices, [transaction]), "T1")
    assert refused.status == "unmatched"
    assert "cross_currency" in refused.flags
    assert refused.lines == ()
    with_rate = only(
        run(CUSTOMERS, invoices, [transaction], MatchSettings(exchange_rates={"USD/EUR": "0.92"})), "T1"
    )
    assert with_rate.status == "auto"
    assert allocated(with_rate) == {"FA-2024-00123": "920.00"}
    assert "exchange_rate" in rules(with_rate)


def test_payer_items_in_another_currency_are_refused_without_a_rate() -> None:
    invoices = [invoice("I1", "FA-1", "C1", "500.00", currency="GBP")]
    proposal = only(run(CUSTOMERS, invoices, [credit("T1", "500.00", name="DUPONT ET FILS")]), "T1")
    assert proposal.status == "unmatched"
    assert "cross_currency" in proposal.flags


def test_never_the_same_euro_twice() -> None:
    invoices = [invoice("I1", "FA-2024-00123", "C1", "1000.00"), invoice("I2", "FA-9", "C1", "600.00")]
    transactions = [
        credit("T1", "600.00", name="DUPONT ET FILS", remittance="FA-2024-00123", date="2024-03-01"),
        credit("T2", "600.00", name="DUPONT ET FILS", remittance="FA-2024-00123", date="2024-03-02"),
        credit("T3", "600.00", name="DUPONT ET FILS", date="2024-03-03"),
        credit("T4", "600.00", name="DUPONT ET FILS", date="2024-03-04"),
    ]
    result = run(CUSTOMERS, invoices, transactions)
    taken: dict[str, Decimal] = defaultdict(Decimal)
    for proposal in result.proposals:
        if proposal.status in ("auto", "suggested", "accepted"):
            for line in proposal.lines:
                taken[line.invoice_id] += line.amount.amount
    assert taken["I1"] <= Decimal("1000.00")
    assert taken["I2"] <= Decimal("600.00")
    assert only(result, "T2").unapplied is not None
