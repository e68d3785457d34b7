"""The dunning engine's rules one by one: grouping, spacing, holds and stops, tasks, policies."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import pytest
from dunning_builders import D, company, customer, data, eur, invoice, sent, walk

from erp_recovery.engines.dunning import (
    DunningHistory,
    Instalment,
    Pause,
    PaymentPlan,
    SentStep,
    customer_statement,
    plan_dunning,
)
from erp_recovery.errors import ConfigError
from erp_recovery.model import Address, Allocation


def history(*steps: tuple[str, str, str, dt.date, dt.date | None]) -> DunningHistory:
    index = {"courtesy": 0, "reminder": 1, "second_reminder": 2, "formal_notice": 3, "escalation": 4}
    return DunningHistory(
        steps=tuple(
            SentStep(
                customer_id=c,
                item_key=item,
                level=level,
                level_index=index[level],
                sent_on=day,
                deadline=deadline,
            )
            for c, item, level, day, deadline in steps
        )
    )


def test_items_at_the_same_level_are_grouped_in_one_communication():
    source = data(
        [customer("C1")],
        [invoice("F1", "C1", D(2026, 10, 1), 100), invoice("F2", "C1", D(2026, 10, 2), 200)],
    )
    plan = plan_dunning(source, D(2026, 10, 7))
    assert [(c.level.code, [i.number for i in c.items]) for c in plan.communications] == [
        ("reminder", ["F1", "F2"])
    ]
    assert plan.communications[0].reasons[0].startswith("F1 (6 days late)")


def test_a_customer_gets_one_communication_a_day_the_highest_level_first():
    source = data(
        [customer("C1")],
        [invoice("OLD", "C1", D(2026, 9, 1), 500), invoice("NEW", "C1", D(2026, 10, 1), 300)],
        history=history(
            ("C1", "OLD", "reminder", D(2026, 9, 7), None),
            ("C1", "OLD", "second_reminder", D(2026, 9, 16), None),
        ),
    )
    plan = plan_dunning(source, D(2026, 10, 7))  # OLD due for its formal notice, NEW for its reminder
    assert [(c.level.code, [i.number for i in c.items]) for c in plan.communications] == [
        ("formal_notice", ["OLD"])
    ]
    waiting = {w.number: (w.next_level, w.next_on) for w in plan.waiting}
    assert waiting["NEW"] == ("reminder", D(2026, 10, 8))


def test_nothing_is_sent_twice_the_same_day():
    source = data([customer("C1")], [invoice("F1", "C1", D(2026, 10, 1), 100)])
    first = plan_dunning(source, D(2026, 10, 7))
    assert len(first.communications) == 1
    again = replace(source, history=history(("C1", "F1", "reminder", D(2026, 10, 7), None)))
    second = plan_dunning(again, D(2026, 10, 7))
    assert second.communications == []
    assert second.waiting[0].next_level == "second_reminder"


def test_a_level_is_never_repeated_and_the_policy_ends():
    source = data(
        [customer("C1")],
        [invoice("F1", "C1", D(2026, 1, 5), 1000)],
        history=history(
            ("C1", "F1", "reminder", D(2026, 1, 12), None),
            ("C1", "F1", "second_reminder", D(2026, 1, 20), None),
            ("C1", "F1", "formal_notice", D(2026, 2, 4), D(2026, 2, 12)),
            ("C1", "F1", "escalation", D(2026, 2, 19), None),
        ),
    )
    plan = plan_dunning(source, D(2026, 6, 1))
    assert plan.communications == []
    assert plan.waiting[0].next_level is None
    assert "every level of policy fr_b2b done" in plan.waiting[0].why


def test_a_late_first_reminder_does_not_jump_to_the_formal_notice():
    source = data([customer("C1")], [invoice("F1", "C1", D(2026, 8, 3), 1000)])
    plans = walk(source, D(2026, 10, 1), D(2026, 11, 10))
    assert [(day, level) for day, _, level, _ in sent(plans)] == [
        (D(2026, 10, 1), "reminder"),
        (D(2026, 10, 8), "second_reminder"),  # 7 days after the previous level
        (D(2026, 10, 15), "formal_notice"),
        (D(2026, 10, 26), "escalation"),  # deadline 23 October (Friday) + 1 = Saturday -> Monday
    ]


def test_weekends_and_french_holidays_move_the_sending_day():
    source = data([customer("C1")], [invoice("F1", "C1", D(2026, 11, 6), 100)])
    plan = plan_dunning(source, D(2026, 11, 11))  # D+5 on Armistice Day
    assert plan.communications == []
    assert plan.waiting[0].next_on == D(2026, 11, 12)
    assert "Armistice" in plan.waiting[0].why or "not a business day" in plan.waiting[0].why


def test_the_debtors_country_holidays_count_too():
    german = customer(
        "C1", address=Address(street="Hauptstr. 1", postal_code="10115", city="Berlin", country="DE")
    )
    source = data([german], [invoice("F1", "C1", D(2026, 9, 28), 100)])
    plan = plan_dunning(source, D(2026, 10, 3))  # Saturday anyway; the next Monday is fine
    assert plan.waiting[0].next_on == D(2026, 10, 5)
    source = data([german], [invoice("F1", "C1", D(2026, 12, 21), 100)])
    plan = plan_dunning(source, D(2026, 12, 28))  # D+7 on Monday 28; nothing special in DE or FR
    assert len(plan.communications) == 1
    plan = plan_dunning(data([german], [invoice("F1", "C1", D(2026, 12, 21), 100)]), D(2026, 12, 26))
    assert plan.communications == [] and plan.waiting[0].next_on == D(2026, 12, 28)


def test_minimum_amount_of_a_level_holds_small_debts_back():
    source = data(
        [customer("C1")],
        [invoice("F1", "C1", D(2026, 9, 1), "60.00")],
        history=history(
            ("C1", "F1", "reminder", D(2026, 9, 7), None),
            ("C1", "F1", "second_reminder", D(2026, 9, 16), None),
        ),
    )
    plan = plan_dunning(source, D(2026, 10, 5))
    assert plan.communications == []
    assert "needs at least 100" in plan.waiting[0].why


def test_no_email_address_means_a_letter_and_phone_levels_become_tasks():
    silent = customer("C1", email=None)
    source = data(
        [silent],
        [invoice("F1", "C1", D(2026, 9, 1), 100)],
        history=history(("C1", "F1", "reminder", D(2026, 9, 7), None)),
    )
    plan = plan_dunning(source, D(2026, 9, 16))
    communication = plan.communications[0]
    assert communication.channels == ("letter", "phone")
    assert communication.notes == ("no e-mail address for this customer: sent as a letter",)
    assert sorted(task.kind for task in plan.tasks) == ["phone_call", "post_letter"]
    call = next(task for task in plan.tasks if task.kind == "phone_call")
    assert "+33 4 76 00 00 00" in call.title and call.invoice_ids == ("F1",)


def test_pending_bank_payment_factored_and_erp_disputes_are_held():
    source = data(
        [customer("C1")],
        [
            invoice("PENDING", "C1", D(2026, 9, 1), 100),
            invoice("FACTORED", "C1", D(2026, 9, 1), 100, factored=True),
            invoice("DISPUTED", "C1", D(2026, 9, 1), 100, disputed=True, dispute_reason="wrong quantity"),
            invoice("DUE", "C1", D(2026, 9, 1), 100),
        ],
        pending_payments={"PENDING"},
    )
    plan = plan_dunning(source, D(2026, 9, 7))
    assert [i.number for i in plan.communications[0].items] == ["DUE"]
    held = {h.number: (h.kind, h.until_text) for h in plan.held}
    assert held == {
        "PENDING": ("pending_payment", "until the payment is confirmed or rejected in match review"),
        "FACTORED": ("factored", "as long as it is factored"),
        "DISPUTED": ("dispute", "until the dispute is closed in the ERP"),
    }


def test_excluded_customers_are_stopped():
    source = data([customer("C1", dunning_excluded=True)], [invoice("F1", "C1", D(2026, 9, 1), 100)])
    plan = plan_dunning(source, D(2026, 9, 7))
    assert plan.communications == [] and plan.held[0].kind == "excluded"
    assert plan.standings[0].state == "stopped"
    paused = data(
        [customer("C1")],
        [invoice("F1", "C1", D(2026, 9, 1), 100)],
        pauses=[Pause(id="3", customer_id="C1", kind="excluded", start=D(2026, 9, 1), reason="key account")],
    )
    plan = plan_dunning(paused, D(2026, 9, 7))
    assert (
        plan.held[0].until_text == "until a person resumes it" and "key account" in plan.held[0].explanation
    )


def test_insolvency_stops_everything_and_asks_to_declare_the_claim():
    source = data(
        [customer("C1")],
        [invoice("F1", "C1", D(2026, 9, 1), 100), invoice("F2", "C1", D(2026, 9, 20), 300)],
        pauses=[
            Pause(
                id="bodacc:A1", customer_id="C1", kind="insolvency", start=D(2026, 10, 2),
                published_on=D(2026, 10, 2), reason="redressement judiciaire", origin="bodacc",
            )
        ],
    )  # fmt: skip
    plan = plan_dunning(source, D(2026, 10, 5))
    assert plan.communications == []
    assert {h.kind for h in plan.held} == {"insolvency"}
    [task] = plan.tasks
    assert task.kind == "declare_claim" and task.due_on == D(2026, 12, 2)
    assert task.title == "Declare the claim on Garage C1 to the mandataire before 2026-12-02"
    # Created once: the next day's plan does not repeat it.
    again = replace(source, history=DunningHistory(task_keys=frozenset({task.key})))
    assert plan_dunning(again, D(2026, 10, 6)).tasks == []


def test_prescription_alert_six_months_ahead_counted_from_the_last_payment():
    old = invoice("F1", "C1", D(2021, 6, 1), 1000, residual=600)
    partial = Allocation(
        external_id="a1", invoice_id="F1", payment_id="p1", amount=eur(400), date=D(2022, 3, 1)
    )
    source = data([customer("C1")], [old], allocations=[partial])
    plan = plan_dunning(source, D(2026, 9, 7))
    prescription = [t for t in plan.tasks if t.kind == "prescription"]
    assert prescription and "time-barred after 2027-03-01" in prescription[0].title
    assert "partial payment of 2022-03-01" in prescription[0].detail
    early = [t for t in plan_dunning(source, D(2026, 8, 31)).tasks if t.kind == "prescription"]
    assert early == []
    barred = plan_dunning(source, D(2027, 3, 2))
    assert [h.kind for h in barred.held] == ["time_barred"] and barred.communications == []


def test_consumers_get_their_policy_without_the_40_euro_fee():
    person = customer("P1", is_consumer=True, siren=None)
    source = data([person], [invoice("F1", "P1", D(2026, 9, 1), 300)])
    plan = plan_dunning(source, D(2026, 9, 8))
    communication = plan.communications[0]
    assert communication.policy == "fr_consumer" and communication.level.code == "reminder"
    item = communication.items[0]
    assert item.fixed_fee is None and item.interest is not None and item.interest.amount == 0


def test_risk_grade_rule_chooses_the_firm_policy():
    source = data([customer("C1")], [invoice("F1", "C1", D(2026, 9, 1), 300)], grades={"C1": "E"})
    plan = plan_dunning(source, D(2026, 9, 4))
    assert plan.communications[0].policy == "fr_b2b_firm"
    assert plan.communications[0].policy_reason == "rule 2 (grade D/E)"
    assert plan.communications[0].channels == ("email", "phone")


def test_open_credit_notes_covering_the_debt_hold_it():
    credit = invoice("AV1", "C1", D(2026, 9, 1), 500, kind="credit_note")
    source = data([customer("C1")], [invoice("F1", "C1", D(2026, 9, 1), 300), credit])
    plan = plan_dunning(source, D(2026, 9, 7))
    assert plan.communications == [] and plan.held[0].kind == "covered_by_credit"
    smaller = data(
        [customer("C1")],
        [
            invoice("F1", "C1", D(2026, 9, 1), 300),
            invoice("AV1", "C1", D(2026, 9, 1), 100, kind="credit_note"),
        ],
    )
    [communication] = plan_dunning(smaller, D(2026, 9, 7)).communications
    assert [c.number for c in communication.credits] == ["AV1"]
    assert communication.totals()[0].credits == eur(100).amount


def test_payment_plan_instalments_are_dunned_one_by_one():
    f1 = invoice("F1", "C1", D(2026, 8, 1), "1000.00")
    plan_ = PaymentPlan(
        id="ECH-1", customer_id="C1", invoice_ids=("F1", "F2"), agreed_on=D(2026, 9, 1),
        outstanding_at_start=eur("1500.00"),
        instalments=(
            Instalment(seq=1, due_date=D(2026, 9, 15), amount=eur("500.00")),
            Instalment(seq=2, due_date=D(2026, 10, 15), amount=eur("500.00")),
            Instalment(seq=3, due_date=D(2026, 11, 16), amount=eur("500.00")),
        ),
    )  # fmt: skip
    # The first instalment is paid (F2 settled), the second is not.
    source = data(
        [customer("C1")],
        [f1, invoice("F2", "C1", D(2026, 8, 15), "500.00", residual=0)],
        payment_plans=[plan_],
    )
    plans = walk(source, D(2026, 9, 1), D(2026, 10, 31))
    assert sent(plans) == [
        (D(2026, 10, 12), "C1", "courtesy", ("ECH-1 2/3",)),
        (D(2026, 10, 20), "C1", "reminder", ("ECH-1 2/3",)),
        (D(2026, 10, 30), "C1", "second_reminder", ("ECH-1 2/3",)),
    ]
    assert {(h.number, h.kind, h.until) for h in plans[-1].held} == {("F1", "payment_plan", D(2026, 11, 16))}
    reminder = next(c for p in plans for c in p.communications if c.level.code == "reminder")
    [item] = reminder.items
    assert (item.kind, item.key, item.outstanding, item.due_date) == (
        "instalment",
        "plan:ECH-1:2",
        eur("500.00"),
        D(2026, 10, 15),
    )
    assert item.charges is None
    # Part of the second instalment paid: only the rest is claimed.
    partly = replace(
        source,
        invoices=[invoice("F1", "C1", D(2026, 8, 1), "1000.00", residual="800.00"), source.invoices[1]],
    )
    [communication] = plan_dunning(partly, D(2026, 10, 20)).communications
    assert communication.items[0].outstanding == eur("300.00")


def test_customer_statement_for_previews_and_dossiers():
    source = data(
        [customer("C1")], [invoice("F1", "C1", D(2026, 9, 1), 100), invoice("F2", "C1", D(2026, 9, 9), 50)]
    )
    statement = customer_statement(source, "C1", D(2026, 10, 1), "formal_notice")
    assert statement.level.code == "formal_notice" and statement.deadline == D(2026, 10, 9)
    assert [i.number for i in statement.items] == ["F1", "F2"]
    with pytest.raises(ConfigError, match="has no level 'final'"):
        customer_statement(source, "C1", D(2026, 10, 1), "final")
    with pytest.raises(ConfigError, match="no open invoice"):
        customer_statement(data([customer("C1")], []), "C1", D(2026, 10, 1))


def test_company_outside_france_gets_four_months_to_declare():
    foreign = company(country="BE")
    source = data(
        [customer("C1")],
        [invoice("F1", "C1", D(2026, 9, 1), 100)],
        company=foreign,
        pauses=[
            Pause(
                id="9", customer_id="C1", kind="insolvency", start=D(2026, 10, 1), published_on=D(2026, 10, 1)
            )
        ],
    )
    [task] = plan_dunning(source, D(2026, 10, 2)).tasks
    assert task.due_on == D(2027, 2, 1)
