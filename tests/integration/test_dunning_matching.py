"""A bank credit the matcher suggested for an invoice pauses its dunning; once applied (auto or
accepted) it reduces what is claimed. Read from the matcher's stored proposals, on SQLite and
PostgreSQL."""

from __future__ import annotations

import datetime as dt

from erp_recovery.config import parse_config
from erp_recovery.dunning_ops import service
from erp_recovery.engines.matching import MatchProposal, ProposalLine
from erp_recovery.model import BankTransaction, Customer, Invoice, Money
from erp_recovery.store import matching as match_store
from erp_recovery.store import runs as run_store
from erp_recovery.store.records import upsert_records

D = dt.date


def eur(value: str) -> Money:
    return Money.of(value, "EUR")


def _config(tmp_path):
    return parse_config(
        {
            "companies": [{"code": "acme", "name": "Atelier Démo SAS", "siren": "900000126"}],
            "sources": [{"name": "books", "company": "acme", "connector": "csv", "settings": {}}],
            "dunning": {"outbox_dir": str(tmp_path / "outbox")},
        }
    )


def _invoice(number: str, total: str) -> Invoice:
    return Invoice(
        external_id=number, number=number, customer_id="C1", issue_date=D(2026, 9, 1), due_date=D(2026, 10, 1),
        currency="EUR", total=eur(total), residual=eur(total),
    )  # fmt: skip


def _proposal(status: str, invoice: str, amount: str) -> MatchProposal:
    return MatchProposal(
        bank_transaction_id="TX1", bank_ref="TX1", booking_date=D(2026, 10, 5), amount=eur(amount), status=status,
        rule="amount_exact", customer_id="C1",
        lines=(ProposalLine(invoice_id=invoice, invoice_number=invoice, customer_id="C1", amount=eur(amount)),),
    )  # fmt: skip


def test_a_suggested_bank_payment_pauses_the_invoice_and_an_applied_one_reduces_the_claim(store, tmp_path):
    config = _config(tmp_path)
    with store.begin() as connection:
        ids = run_store.register_config(connection, config)
        company_id, source_id = ids.companies["acme"], ids.sources["books"]
        upsert_records(
            connection,
            [
                Customer(external_id="C1", name="Garage Lefèvre", email="compta@garage.example"),
                _invoice("FA-1", "1200.00"),
                _invoice("FA-2", "300.00"),
                BankTransaction(
                    external_id="TX1",
                    account="FR7630006000011234567890189",
                    booking_date=D(2026, 10, 5),
                    amount=eur("300.00"),
                    counterparty_name="GARAGE LEFEVRE",
                    remittance="virement",
                ),
            ],
            company_id=company_id,
            source_id=source_id,
            run_id=None,
        )
        match_store.save_proposals(connection, company_id, [_proposal("suggested", "FA-2", "300.00")], None)
    setup_ = service.setup(store, config, "acme")
    prepared = service.prepare(store, config, setup_, D(2026, 10, 7))
    [communication] = prepared.plan.communications
    assert [item.number for item in communication.items] == ["FA-1"]
    [held] = prepared.plan.held
    assert (held.number, held.kind) == ("FA-2", "pending_payment")
    assert "300.00 EUR from bank line(s) TX1" in held.explanation
    assert "the matcher's stored proposals" in prepared.notes[0]

    with store.begin() as connection:
        match_store.save_proposals(connection, company_id, [_proposal("accepted", "FA-1", "300.00")], None)
    prepared = service.prepare(store, config, setup_, D(2026, 10, 7))
    [communication] = prepared.plan.communications
    assert {item.number: item.outstanding for item in communication.items} == {
        "FA-1": eur("900.00"),
        "FA-2": eur("300.00"),
    }
    assert prepared.plan.held == []
