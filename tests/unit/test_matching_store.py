"""Matching in the store (SQLite and PostgreSQL): reruns change nothing, decisions survive and teach."""

from __future__ import annotations

import datetime as dt

from matching_builders import credit, customer, iban, invoice
from sqlalchemy import func, select

from erp_recovery.config import SourceConfig
from erp_recovery.engines.matching import MatchSettings, ProposalLine, effective_residuals, pending_by_invoice
from erp_recovery.model import Company, Money
from erp_recovery.store import matching as match_store
from erp_recovery.store import runs as run_store
from erp_recovery.store.records import mark_missing, upsert_records

CUSTOMERS = [customer("C1", "Dupont & Fils SARL"), customer("C2", "Martin Industries SAS")]
INVOICES = [
    invoice("I1", "FA-2024-00123", "C1", "1000.00"),
    invoice("I2", "FA-2024-00124", "C1", "250.00", issue="2024-01-20"),
    invoice("I3", "FA-2024-00200", "C2", "600.00"),
    invoice("I4", "FA-2024-00201", "C2", "600.00", issue="2024-01-16"),
]
TRANSACTIONS = [
    credit("T1", "1000.00", name="DUPONT ET FILS", remittance="FA-2024-00123", date="2024-03-01"),
    credit("T2", "600.00", name="MARTIN INDUSTRIES", remittance="V/CDE 4500012345", date="2024-03-02"),
    credit("T3", "250.00", name="SCI LES TILLEULS", payer_iban=iban(40), date="2024-03-03"),
    credit("T4", "-99.00", name="EDF", date="2024-03-03"),
]


def _company(store, transactions=TRANSACTIONS):
    with store.begin() as connection:
        company_id = run_store.ensure_company(connection, Company(code="acme", name="Acme"))
        books = run_store.ensure_source(
            connection, SourceConfig(name="books", company="acme", connector="csv"), company_id
        )
        bank = run_store.ensure_source(
            connection, SourceConfig(name="bank", company="acme", connector="csv"), company_id
        )
        upsert_records(
            connection, [*CUSTOMERS, *INVOICES], company_id=company_id, source_id=books, run_id=None
        )
        upsert_records(connection, transactions, company_id=company_id, source_id=bank, run_id=None)
    return company_id, bank


def _run(store, company_id):
    with store.begin() as connection:
        return match_store.run_matching(connection, company_id, "acme", MatchSettings())


def _by_ref(store, company_id):
    with store.connect() as connection:
        return {
            proposal.bank_ref: proposal for proposal in match_store.stored_proposals(connection, company_id)
        }


def test_a_rerun_changes_nothing(store):
    company_id, _ = _company(store)
    first = _run(store, company_id)
    assert first.saved.created == 4
    assert first.result.counts() == {"auto": 1, "suggested": 1, "unmatched": 2}
    stored = _by_ref(store, company_id)
    assert stored["BR-T1"].status == "auto"
    assert [proposal.model_dump() for proposal in stored.values()] == [
        proposal.model_dump() for proposal in first.result.proposals
    ]
    with store.connect() as connection:
        before = connection.execute(select(func.max(match_store.match_proposals.c.updated_at))).scalar()
    second = _run(store, company_id)
    assert second.saved.as_dict() == {"created": 0, "updated": 0, "unchanged": 4, "removed": 0}
    with store.connect() as connection:
        after = connection.execute(select(func.max(match_store.match_proposals.c.updated_at))).scalar()
    assert before == after


def test_an_accepted_suggestion_survives_reruns_and_counts_as_applied(store):
    company_id, _ = _company(store)
    _run(store, company_id)
    suggestion = _by_ref(store, company_id)["BR-T2"]
    assert suggestion.status == "suggested"  # two open items of 600 and a purchase-order reference
    with store.begin() as connection:
        match_store.record_decision(connection, company_id, suggestion, "accepted", decided_by="claire")
    for _ in range(2):
        _run(store, company_id)
        kept = _by_ref(store, company_id)["BR-T2"]
        assert kept.status == "accepted"
        assert kept.lines == suggestion.lines
    with store.connect() as connection:
        proposals = match_store.stored_proposals(connection, company_id)
        history = match_store.decision_history(connection, company_id)
    assert [row.decision for row in history] == ["accepted"]
    residuals = effective_residuals(INVOICES, proposals)
    assert residuals[suggestion.lines[0].invoice_id].amount == 0
    assert pending_by_invoice(proposals) == {}


def test_a_rejection_is_kept_and_the_invoices_are_not_proposed_again(store):
    company_id, _ = _company(store)
    _run(store, company_id)
    suggestion = _by_ref(store, company_id)["BR-T2"]
    rejected_invoice = suggestion.lines[0].invoice_id
    with store.begin() as connection:
        match_store.record_decision(
            connection, company_id, suggestion, "rejected", decided_by="claire", note="no"
        )
    _run(store, company_id)
    again = _by_ref(store, company_id)["BR-T2"]
    assert rejected_invoice not in {line.invoice_id for line in again.lines}
    assert again.status != "auto"


def test_accepting_teaches_the_iban_for_the_next_statement(store):
    company_id, bank = _company(store)
    _run(store, company_id)
    unknown = _by_ref(store, company_id)["BR-T3"]
    assert unknown.status == "unmatched"  # unknown payer, no reference
    by_hand = ProposalLine(
        invoice_id="I2", invoice_number="FA-2024-00124", customer_id="C1", amount=Money.of("250.00", "EUR")
    )
    with store.begin() as connection:
        match_store.record_decision(
            connection,
            company_id,
            unknown.model_copy(update={"lines": (by_hand,), "customer_id": "C1"}),
            "accepted",
            decided_by="claire",
            transaction=TRANSACTIONS[2],
        )
        memory = match_store.load_memory(connection, company_id)
        books = run_store.ensure_source(
            connection, SourceConfig(name="books", company="acme", connector="csv"), company_id
        )
        later_invoice = invoice("I5", "FA-2024-00300", "C1", "80.00", issue="2024-03-10")
        later_credit = credit("T5", "80.00", name="SCI LES TILLEULS", payer_iban=iban(40), date="2024-04-03")
        upsert_records(connection, [later_invoice], company_id=company_id, source_id=books, run_id=None)
        upsert_records(connection, [later_credit], company_id=company_id, source_id=bank, run_id=None)
    assert {(entry.kind, entry.customer_id) for entry in memory} == {("iban", "C1"), ("name", "C1")}
    result = _run(store, company_id).result.by_transaction()
    assert result["T3"].status == "accepted"
    assert "iban_memory" in [evidence.rule for evidence in result["T5"].evidence]
    assert [line.invoice_number for line in result["T5"].lines] == ["FA-2024-00300"]


def test_proposals_of_deleted_bank_lines_are_removed(store):
    company_id, bank = _company(store)
    _run(store, company_id)
    with store.begin() as connection:
        mark_missing(
            connection,
            "bank_transaction",
            company_id=company_id,
            source_id=bank,
            present={"T1", "T2", "T3"},
            scope=None,
            run_id=None,
        )
    run = _run(store, company_id)
    assert run.saved.removed == 1
    assert "BR-T4" not in _by_ref(store, company_id)


def test_load_input_reads_only_what_the_matcher_uses(store):
    company_id, _ = _company(store)
    old_paid = invoice("I0", "FA-2021-00001", "C1", "10.00", issue="2021-01-05", residual="0")
    with store.begin() as connection:
        books = run_store.ensure_source(
            connection, SourceConfig(name="books", company="acme", connector="csv"), company_id
        )
        upsert_records(connection, [old_paid], company_id=company_id, source_id=books, run_id=None)
        data = match_store.load_input(connection, company_id, MatchSettings(closed_items_days=400))
    assert {record.external_id for record in data.invoices} == {"I1", "I2", "I3", "I4"}
    assert len(data.bank_transactions) == 4
    assert dt.date(2024, 3, 1) == min(tx.booking_date for tx in data.bank_transactions)
