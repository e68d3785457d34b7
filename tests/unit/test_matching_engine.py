"""The engine as a whole: refusals, determinism, review decisions, memory, what the ERP already did."""

from __future__ import annotations

import datetime as dt
import random
from collections import defaultdict
from decimal import Decimal

from matching_builders import OUR_ACCOUNT, allocated, credit, customer, iban, invoice, only, rules, run

from erp_recovery.engines.matching import (
    MatchSettings,
    PayerMemory,
    ReviewDecision,
    memory_from_decision,
    merge_memory,
)
from erp_recovery.model import Allocation, Money, Payment

CUSTOMERS = [customer("C1", "Dupont & Fils SARL"), customer("C2", "Martin Industries SAS")]
INVOICES = [
    invoice("I1", "FA-2024-00123", "C1", "1000.00", issue="2024-01-10"),
    invoice("I2", "FA-2024-00124", "C1", "250.00", issue="2024-01-20"),
    invoice("I3", "FA-2024-00200", "C2", "1000.00", issue="2024-01-15"),
]
NOON = dt.datetime(2024, 3, 10, 12, 0, tzinfo=dt.UTC)


def test_debits_pending_lines_reversals_and_zero_amounts_stay_unmatched() -> None:
    transactions = [
        credit("D1", "-1000.00", name="DUPONT ET FILS", remittance="FA-2024-00123"),
        credit("P1", "1000.00", name="DUPONT ET FILS", remittance="FA-2024-00123", status="pending"),
        credit("R1", "1000.00", name="DUPONT ET FILS", remittance="FA-2024-00123", reversal=True),
        credit("Z1", "0.00", name="DUPONT ET FILS"),
    ]
    result = run(CUSTOMERS, INVOICES, transactions)
    assert {proposal.rule for proposal in result.proposals} == {"debit", "not_booked", "reversal", "no_fit"}
    assert all(proposal.status == "unmatched" and not proposal.lines for proposal in result.proposals)


def test_non_customer_credits_stay_unmatched_even_when_an_amount_coincides() -> None:
    transactions = [
        credit("T1", "1000.00", name="DGFIP", remittance="REMBOURSEMENT CREDIT TVA 2024"),
        credit("T2", "1000.00", name="BANQUE POPULAIRE", remittance="DEBLOCAGE PRET N 00012345678"),
        credit("T3", "1000.00", name="NOUS-MEMES", payer_iban=OUR_ACCOUNT),
        credit("T4", "250.00", name="URSSAF ILE DE FRANCE", remittance="REMBOURSEMENT TROP PERCU"),
    ]
    result = run(CUSTOMERS, INVOICES, transactions)
    assert only(result, "T1").rule == "non_customer"
    assert only(result, "T3").rule == "internal_transfer"
    assert only(result, "T4").rule == "non_customer"
    for proposal in result.proposals:
        assert proposal.status == "unmatched", proposal
        assert proposal.lines == ()


def test_an_unknown_payer_without_reference_stays_unmatched_with_a_hint() -> None:
    result = run(CUSTOMERS, INVOICES, [credit("T1", "250.00", name="M JEAN DURAND", remittance="VIREMENT")])
    proposal = only(result, "T1")
    assert proposal.status == "unmatched"
    assert proposal.rule == "unknown_payer"
    hint = [evidence for evidence in proposal.evidence if evidence.rule == "amount_exact"]
    assert hint and hint[0].invoice_ids == ("I2",)


def _mixed_transactions() -> list:
    return [
        credit("T1", "1000.00", name="DUPONT ET FILS", remittance="FA-2024-00123", date="2024-03-01"),
        credit("T2", "250.00", name="DUPONT ET FILS", date="2024-03-02"),
        credit("T3", "600.00", name="MARTIN INDUSTRIES", date="2024-03-03"),
        credit("T4", "-80.00", name="EDF", date="2024-03-03"),
        credit("T5", "77.00", name="INCONNU", date="2024-03-04"),
    ]


def test_running_twice_or_in_another_order_changes_nothing() -> None:
    first = run(CUSTOMERS, INVOICES, _mixed_transactions())
    second = run(CUSTOMERS, INVOICES, _mixed_transactions())
    assert first.proposals == second.proposals
    shuffled_transactions = _mixed_transactions()
    random.Random(4).shuffle(shuffled_transactions)
    shuffled_invoices = list(reversed(INVOICES))
    third = run(list(reversed(CUSTOMERS)), shuffled_invoices, shuffled_transactions)
    assert [p.model_dump() for p in first.proposals] == [p.model_dump() for p in third.proposals]


def test_an_accepted_suggestion_survives_a_rerun_and_its_euros_are_not_reused() -> None:
    transactions = [credit("T3", "600.00", name="MARTIN INDUSTRIES", date="2024-03-03")]
    suggestion = only(run(CUSTOMERS, INVOICES, transactions), "T3")
    assert suggestion.status == "suggested"
    decision = ReviewDecision(
        bank_transaction_id="T3",
        decision="accepted",
        lines=suggestion.lines,
        customer_id=suggestion.customer_id,
        decided_by="claire",
        decided_at=NOON,
    )
    later = [
        *transactions,
        credit("T9", "1000.00", name="MARTIN INDUSTRIES", remittance="FA-2024-00200", date="2024-03-09"),
    ]
    rerun = run(CUSTOMERS, INVOICES, later, decisions=[decision])
    kept = only(rerun, "T3")
    assert kept.status == "accepted"
    assert kept.lines == suggestion.lines
    # the accepted 600 are not available to T9 any more: only 400 remain on FA-2024-00200
    assert allocated(only(rerun, "T9")) == {"FA-2024-00200": "400.00"}
    assert only(rerun, "T9").unapplied == Money.of("600.00", "EUR")
    assert run(CUSTOMERS, INVOICES, later, decisions=[decision]).proposals == rerun.proposals


def test_a_rejected_proposal_is_not_proposed_again() -> None:
    transactions = [credit("T2", "250.00", name="DUPONT ET FILS", date="2024-03-02")]
    first = only(run(CUSTOMERS, INVOICES, transactions), "T2")
    assert first.status == "auto" and allocated(first) == {"FA-2024-00124": "250.00"}
    decision = ReviewDecision(
        bank_transaction_id="T2", decision="rejected", lines=first.lines, decided_by="claire", decided_at=NOON
    )
    again = only(run(CUSTOMERS, INVOICES, transactions, decisions=[decision]), "T2")
    assert "FA-2024-00124" not in allocated(again)
    assert again.status != "auto"


def test_accepting_teaches_the_iban_and_the_name() -> None:
    transaction = credit("T1", "250.00", name="SCI LES TILLEULS", payer_iban=iban(21), date="2024-03-02")
    proposal = only(run(CUSTOMERS, INVOICES, [transaction]), "T1")
    assert proposal.status == "unmatched"
    decision = ReviewDecision(
        bank_transaction_id="T1",
        decision="accepted",
        lines=(
            *[],
            *run(CUSTOMERS, INVOICES, [credit("X", "250.00", name="DUPONT ET FILS")]).proposals[0].lines,
        ),
        decided_by="claire",
        decided_at=NOON,
    )
    memory = memory_from_decision(decision, transaction)
    assert {(entry.kind, entry.customer_id) for entry in memory} == {("iban", "C1"), ("name", "C1")}
    invoices = [*INVOICES, invoice("I9", "FA-2024-00999", "C1", "250.00", issue="2024-02-20")]
    next_month = credit("T2", "250.00", name="SCI LES TILLEULS", payer_iban=iban(21), date="2024-04-02")
    result = run(CUSTOMERS, invoices, [transaction, next_month], decisions=[decision], memory=memory)
    assert only(result, "T1").status == "accepted"
    assert "iban_memory" in rules(only(result, "T2"))
    assert allocated(only(result, "T2")) == {"FA-2024-00999": "250.00"}


def test_rejecting_a_match_made_from_memory_blocks_that_memory() -> None:
    memory = [PayerMemory(kind="iban", key=iban(22), customer_id="C1")]
    transaction = credit("T1", "250.00", payer_iban=iban(22))
    proposal = only(run(CUSTOMERS, INVOICES, [transaction], memory=memory), "T1")
    assert "iban_memory" in rules(proposal)
    decision = ReviewDecision(
        bank_transaction_id="T1",
        decision="rejected",
        lines=proposal.lines,
        decided_by="claire",
        decided_at=NOON,
    )
    blocked = memory_from_decision(decision, transaction, proposal)
    merged = merge_memory(memory, blocked)
    assert merged == [PayerMemory(kind="iban", key=iban(22), customer_id="C1", blocked=True)]
    again = only(run(CUSTOMERS, INVOICES, [transaction], memory=merged, decisions=[decision]), "T1")
    assert again.status == "unmatched"


def test_a_bank_line_the_erp_reconciled_is_left_alone_and_teaches_its_iban() -> None:
    reconciled = credit("T1", "1000.00", name="X", payer_iban=iban(30), date="2024-03-01")
    allocation = Allocation(
        external_id="A1",
        invoice_id="I1",
        kind="bank_transaction",
        bank_transaction_id="T1",
        amount=Money.of("1000", "EUR"),
    )
    later = credit("T2", "250.00", name="X", payer_iban=iban(30), date="2024-03-05")
    result = run(CUSTOMERS, INVOICES, [reconciled, later], allocations=[allocation])
    assert only(result, "T1").rule == "erp_reconciled"
    assert only(result, "T1").lines == ()
    assert "iban_memory" in rules(only(result, "T2"))


def test_a_credit_the_erp_already_booked_as_a_payment_is_not_matched_again() -> None:
    invoices = [invoice("I1", "FA-2024-00123", "C1", "1000.00", residual="0")]
    payment = Payment(
        external_id="P1", customer_id="C1", date=dt.date(2024, 3, 2), amount=Money.of("1000.00", "EUR")
    )
    transaction = credit(
        "T1", "1000.00", name="DUPONT ET FILS", remittance="FA-2024-00123", date="2024-03-01"
    )
    proposal = only(run(CUSTOMERS, invoices, [transaction], payments=[payment]), "T1")
    assert proposal.rule == "erp_booked"
    assert "duplicate_payment" not in proposal.flags


def test_on_a_random_portfolio_no_invoice_is_ever_over_allocated() -> None:
    rng = random.Random(11)
    customers = [
        customer(f"C{n}", f"Client {name} SARL") for n, name in enumerate(["Alpha", "Beta", "Gamma", "Delta"])
    ]
    invoices = []
    for n in range(60):
        amount = Decimal(rng.randrange(5000, 200000)) / 100
        invoices.append(
            invoice(
                f"I{n}",
                f"FA-2024-{n:05d}",
                f"C{n % 4}",
                str(amount),
                issue=f"2024-0{1 + n % 3}-{1 + n % 27:02d}",
            )
        )
    transactions = []
    for n in range(120):
        target = rng.choice(invoices)
        amount = (
            target.total.amount
            if rng.random() < 0.7
            else (target.total.amount * Decimal("0.5")).quantize(Decimal("0.01"))
        )
        transactions.append(
            credit(
                f"T{n}",
                str(amount),
                name=f"CLIENT {['ALPHA', 'BETA', 'GAMMA', 'DELTA'][int(target.customer_id[1:])]}",
                remittance=target.number if rng.random() < 0.5 else None,
                date=f"2024-04-{1 + n % 28:02d}",
            )
        )
    result = run(customers, invoices, transactions, MatchSettings())
    taken: dict[str, Decimal] = defaultdict(Decimal)
    for proposal in result.proposals:
        if proposal.status != "unmatched":
            total = sum((line.signed_amount.amount for line in proposal.lines), Decimal(0))
            writeoff = proposal.writeoff.amount if proposal.writeoff else Decimal(0)
            unapplied = proposal.unapplied.amount if proposal.unapplied else Decimal(0)
            assert total - writeoff + unapplied == proposal.amount.amount, proposal
        for line in proposal.lines:
            taken[line.invoice_id] += line.amount.amount
    residuals = {item.external_id: item.residual.amount for item in invoices}
    assert all(amount <= residuals[invoice_id] for invoice_id, amount in taken.items())
