"""Dunning cases and communications → write-back proposals (steps, level and next-action fields)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from types import SimpleNamespace

from dunning_builders import customer

from erp_recovery.dunning_ops.settings import DunningWriteback, DunningWritebackTarget
from erp_recovery.dunning_ops.writeback import proposals_for_source
from erp_recovery.writeback import ActionChange, Proposal

ROW = SimpleNamespace(
    id=12, customer_id="C1", day=dt.date(2026, 10, 5), level="formal_notice", level_index=3,
    level_label="Mise en demeure", level_kind="formal_notice", channels=["registered_letter", "email"],
    deadline=dt.date(2026, 10, 13), reference="C1-20261005", currency="EUR", total=Decimal("2116.48"),
    payload={"items": [{"number": "FA-1"}, {"number": "FA-2"}]},
)  # fmt: skip
CASE = SimpleNamespace(
    customer_id="C1", as_of=dt.date(2026, 10, 5), state="active", level="formal_notice", level_label="Mise en demeure",
    next_action_on=dt.date(2026, 10, 19), next_action="Injonction de payer for FA-1, FA-2",
)  # fmt: skip


def test_a_step_per_communication_with_the_next_action_as_deadline():
    [step] = proposals_for_source(
        [ROW], {"C1": CASE}, {"C1": customer("C1")}, "odoo-main", "acme", DunningWritebackTarget()
    )
    assert isinstance(step, ActionChange)
    assert step.action == "dunning_step" and step.idempotency_key == "dunning:acme:C1:2026-10-05"
    assert step.params == {
        "level": 4,
        "summary": "Dunning: Mise en demeure",
        "message": step.params["message"],
        "note": step.params["message"],
        "deadline": "2026-10-19",
    }
    assert step.params["message"] == (
        "Mise en demeure sent on 2026-10-05 by registered letter, e-mail for FA-1, FA-2 (€2,116.48 claimed, "
        "ref. C1-20261005); payment deadline 2026-10-13. Next: Injonction de payer for FA-1, FA-2 on 2026-10-19."
    )


def test_level_and_next_action_fields_per_source():
    settings = DunningWriteback(
        responsible="credit@acme.fr",
        sources={
            "sage-main": DunningWritebackTarget(
                steps=False, level_field="dunning_level", next_action_field="dunning_next_action"
            )
        },
    )
    proposals = proposals_for_source(
        [ROW], {"C1": CASE}, {"C1": customer("C1")}, "sage-main", "acme", settings.for_source("sage-main")
    )
    assert [(p.field, p.new) for p in proposals if isinstance(p, Proposal)] == [
        ("dunning_level", "Mise en demeure"),
        ("dunning_next_action", "2026-10-19"),
    ]
    assert not [p for p in proposals if isinstance(p, ActionChange)]
    odoo = proposals_for_source(
        [ROW], {"C1": CASE}, {"C1": customer("C1")}, "odoo-main", "acme", settings.for_source("odoo-main")
    )
    assert [p.params["user"] for p in odoo if isinstance(p, ActionChange)] == ["credit@acme.fr"]
    cleared = SimpleNamespace(**{**CASE.__dict__, "state": "clear", "next_action_on": None})
    fields = proposals_for_source(
        [], {"C1": cleared}, {"C1": customer("C1")}, "sage-main", "acme", settings.for_source("sage-main")
    )
    assert [(p.field, p.new) for p in fields if isinstance(p, Proposal)] == [
        ("dunning_level", None),
        ("dunning_next_action", None),
    ]


def test_customers_of_other_sources_are_left_out():
    assert proposals_for_source([ROW], {"C1": CASE}, {}, "odoo-main", "acme", DunningWritebackTarget()) == []
