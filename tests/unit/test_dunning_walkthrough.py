"""A customer walked through every level of the French default policy over simulated days.

Three invoices of one customer (due 1, 3 and 4 September 2026): a payment arrives mid-way for
one of them (its dunning stops), a dispute pauses another for six weeks, and a promise to pay on
the first is broken (it goes straight to the formal notice). The expected dates follow from the
policy file (D-5, D+5, D+15 with 7 days of spacing, D+30, D+45 after the 8-day deadline), the
grouping rules and the French calendar (weekends, 11 November).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter

from dunning_builders import D, customer, data, eur, invoice, paid, walk

from erp_recovery.engines.dunning import DunningInput, Pause, PromiseToPay

A = invoice("FA-A", "C1", D(2026, 9, 1), "1200.00")
B = invoice("FA-B", "C1", D(2026, 9, 3), "800.00")
C = invoice("FA-C", "C1", D(2026, 9, 4), "500.00")

DISPUTE = Pause(
    id="1", customer_id="C1", kind="dispute", start=D(2026, 9, 2), until=D(2026, 10, 15), invoice_id="FA-C",
    reason="delivery incomplete",
)  # fmt: skip
PROMISE = PromiseToPay(
    id="7", customer_id="C1", promised_on=D(2026, 9, 23), amount=eur("1200.00"), invoice_ids=("FA-A",),
    made_on=D(2026, 9, 18), outstanding_at_promise=eur("1200.00"), note="by phone",
)  # fmt: skip
PAYMENT_DAY = D(2026, 9, 21)


def scenario() -> DunningInput:
    return data([customer("C1")], [A, B, C], pauses=[DISPUTE], promises=[PROMISE])


def payment_arrives(day: dt.date, base: DunningInput) -> DunningInput:
    if day < PAYMENT_DAY:
        return base
    return DunningInput(**{**base.__dict__, "invoices": [A, paid(B), C]})


def test_every_level_with_a_payment_a_dispute_and_a_broken_promise():
    plans = walk(scenario(), D(2026, 8, 20), D(2026, 11, 20), changes=payment_arrives)
    communications = [
        (c.send_on, c.level.code, tuple(i.number for i in c.items), c.channels)
        for plan in plans
        for c in plan.communications
    ]
    assert communications == [
        # D-5 of FA-A; FA-B and FA-C reach their courtesy reminder within 7 days: one e-mail.
        (D(2026, 8, 27), "courtesy", ("FA-A", "FA-B", "FA-C"), ("email",)),
        # FA-A's D+5 is Sunday 6 September: Monday. FA-C is disputed since 2 September.
        (D(2026, 9, 7), "reminder", ("FA-A", "FA-B"), ("email",)),
        (D(2026, 9, 16), "second_reminder", ("FA-A", "FA-B"), ("email", "phone")),
        # FA-B was paid on 21 September. The promise on FA-A (pay by 23 September, 2 days of
        # grace) broke on Saturday 26: formal notice on Monday 28, before its D+30 (1 October).
        (D(2026, 9, 28), "formal_notice", ("FA-A",), ("registered_letter", "email")),
        # D+45 of FA-A; the dispute on FA-C ended on 15 October, its reminder waits one day
        # (one communication per customer per day), then Monday.
        (D(2026, 10, 16), "escalation", ("FA-A",), ("escalation",)),
        (D(2026, 10, 19), "reminder", ("FA-C",), ("email",)),
        (D(2026, 10, 26), "second_reminder", ("FA-C",), ("email", "phone")),
        (D(2026, 11, 2), "formal_notice", ("FA-C",), ("registered_letter", "email")),
        # Deadline 10 November + 1 = 11 November, a public holiday: 12 November.
        (D(2026, 11, 12), "escalation", ("FA-C",), ("escalation",)),
    ]


def test_deadlines_tasks_and_holds_along_the_way():
    plans = {
        plan.as_of: plan
        for plan in walk(scenario(), D(2026, 8, 20), D(2026, 11, 20), changes=payment_arrives)
    }
    notice = plans[D(2026, 9, 28)].communications[0]
    assert notice.deadline == D(2026, 10, 6)
    assert any("promise to pay 1200.00 EUR by 2026-09-23 broken" in reason for reason in notice.reasons)
    assert plans[D(2026, 11, 2)].communications[0].deadline == D(2026, 11, 10)
    tasks = [(plan.as_of, task.kind) for plan in plans.values() for task in plan.tasks]
    assert tasks == [
        (D(2026, 9, 16), "phone_call"),
        (D(2026, 9, 28), "post_letter"),
        (D(2026, 10, 16), "escalation"),
        (D(2026, 10, 26), "phone_call"),
        (D(2026, 11, 2), "post_letter"),
        (D(2026, 11, 12), "escalation"),
    ]
    # The promise is reported broken once, on the first day after its grace period.
    updates = [(plan.as_of, u.status) for plan in plans.values() for u in plan.promise_updates]
    assert updates == [(D(2026, 9, 26), "broken")]
    held = {(h.number, h.kind, h.until) for h in plans[D(2026, 9, 20)].held}
    assert held == {("FA-C", "dispute", D(2026, 10, 15)), ("FA-A", "promise", D(2026, 9, 25))}
    # Saturday 26 September: FA-A is due but waits for Monday.
    waiting = {w.number: (w.next_level, w.next_on) for w in plans[D(2026, 9, 26)].waiting}
    assert waiting["FA-A"] == ("formal_notice", D(2026, 9, 28))
    # FA-C's reminder, due the same day as FA-A's escalation, is deferred with the reason.
    deferred = next(w for w in plans[D(2026, 10, 16)].waiting if w.number == "FA-C")
    assert deferred.next_on == D(2026, 10, 19) and "one communication per customer per day" in deferred.why


def test_the_payment_stops_the_paid_invoice():
    plans = walk(scenario(), D(2026, 8, 20), D(2026, 11, 20), changes=payment_arrives)
    dunned_b = [
        plan.as_of for plan in plans for c in plan.communications if "FA-B" in [i.number for i in c.items]
    ]
    assert max(dunned_b) < PAYMENT_DAY
    # Without the payment FA-B would have joined the formal notice of 28 September.
    unpaid = walk(scenario(), D(2026, 8, 20), D(2026, 9, 28))
    assert [i.number for i in unpaid[-1].communications[0].items] == ["FA-A", "FA-B"]


def test_an_invoice_never_gets_a_level_twice_and_a_customer_one_message_a_day():
    plans = walk(scenario(), D(2026, 8, 20), D(2026, 11, 20), changes=payment_arrives)
    levels = Counter(
        (item.number, c.level.code) for plan in plans for c in plan.communications for item in c.items
    )
    assert max(levels.values()) == 1
    days = Counter((c.customer_id, c.send_on) for plan in plans for c in plan.communications)
    assert max(days.values()) == 1
    assert all(c.send_on.weekday() < 5 for plan in plans for c in plan.communications)


def test_the_case_standing_follows_the_customer():
    plans = {
        plan.as_of: plan
        for plan in walk(scenario(), D(2026, 8, 20), D(2026, 11, 20), changes=payment_arrives)
    }
    after_reminder = plans[D(2026, 9, 7)].standing("C1")
    assert after_reminder is not None
    assert (after_reminder.level, after_reminder.last_sent_on) == ("reminder", D(2026, 9, 7))
    assert after_reminder.next_action_on == D(2026, 9, 16)
    assert after_reminder.next_action == "Relance 2 et appel for FA-A"
    assert after_reminder.state == "active" and "dispute" in after_reminder.note
    end = plans[D(2026, 11, 20)].standing("C1")
    assert end is not None and (end.level, end.next_action_on) == ("escalation", None)
    assert end.open_amount == eur("1700.00").amount
