"""Dunning policies as data: the shipped French file, rules, and errors naming the bad key."""

from __future__ import annotations

from datetime import date as D

import pytest

from erp_recovery.engines.dunning import (
    BusinessCalendar,
    load_policies,
    parse_policies,
    shipped_policies_text,
)
from erp_recovery.errors import ConfigError


def test_the_french_default_policy_follows_the_escalation_table():
    policies = load_policies()
    assert policies.default == "fr_b2b"
    b2b = policies.policies["fr_b2b"]
    steps = [(lv.code, lv.offset_days, lv.channels, lv.deadline_days, lv.optional) for lv in b2b.levels]
    assert steps == [
        ("courtesy", -5, ("email",), None, True),
        ("reminder", 5, ("email",), None, False),
        ("second_reminder", 15, ("email", "phone"), None, False),
        ("formal_notice", 30, ("registered_letter", "email"), 8, False),
        ("escalation", 45, ("escalation",), None, False),
    ]
    assert b2b.level("escalation").escalation == "injonction_de_payer"
    assert b2b.level("courtesy").until_days == -1
    consumer = policies.policies["fr_consumer"]
    assert consumer.level("formal_notice").deadline_days == 15
    assert policies.policies["fr_b2b_firm"].level("escalation").escalation == "collection_agency"


@pytest.mark.parametrize(
    ("consumer", "segment", "grade", "expected"),
    [
        (True, None, None, "fr_consumer"),
        (False, None, "D", "fr_b2b_firm"),
        (False, "retail", "B", "fr_b2b"),
        (False, None, None, "fr_b2b"),
    ],
)
def test_rules_choose_a_policy(consumer, segment, grade, expected):
    policy, _why = load_policies().choose(customer_id="C1", consumer=consumer, segment=segment, grade=grade)
    assert policy.code == expected


def test_segment_and_customer_rules():
    text = shipped_policies_text().replace(
        '[[rules]]\npolicy = "fr_consumer"',
        '[[rules]]\npolicy = "fr_b2b_firm"\nsegments = ["construction"]\n\n[[rules]]\npolicy = "fr_consumer"',
        1,
    )
    policies = parse_policies(text, "test.toml")
    policy, why = policies.choose(customer_id="C9", consumer=False, segment="construction", grade="A")
    assert (policy.code, why) == ("fr_b2b_firm", "rule 1 (segment construction)")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            ('channels = ["email"]\ntemplate = "reminder"', 'channels = ["fax"]\ntemplate = "reminder"'),
            "policies.fr_b2b.levels.1.channels.0: invalid value 'fax'; "
            "allowed: 'email', 'letter', 'registered_letter', 'phone' or 'escalation'",
        ),
        (('default = "fr_b2b"', 'default = "nope"'), "default policy 'nope' is not defined"),
        (
            ('escalation = "injonction_de_payer"\nmin_amount = "300"', 'min_amount = "300"'),
            "an escalation level names its route",
        ),
        (
            ("deadline_days = 8        # C. civ. 1344", "colour = 8        # C. civ. 1344"),
            "levels.3.colour: unknown key",
        ),
        (("offset_days = 15", "offset_days = 50"), "levels must be listed in increasing offset_days"),
        (
            ('code = "reminder"\nlabel = "Relance 1"', 'code = "courtesy"\nlabel = "Relance 1"'),
            "level codes must be unique; repeated: courtesy",
        ),
    ],
)
def test_bad_policy_files_say_what_is_wrong(change, message):
    old, new = change
    text = shipped_policies_text()
    assert old in text
    with pytest.raises(ConfigError) as error:
        parse_policies(text.replace(old, new, 1), "my-policies.toml")
    assert "my-policies.toml" in error.value.message
    assert message in error.value.message


def test_a_missing_policy_file_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="dunning policy file not found"):
        load_policies(tmp_path / "absent.toml")


def test_a_user_policy_file_replaces_the_shipped_one(tmp_path):
    path = tmp_path / "policies.toml"
    path.write_text(
        shipped_policies_text().replace("enabled = true           # set to false", "enabled = false  # off"),
        "utf-8",
    )
    policies = load_policies(path)
    assert not policies.policies["fr_b2b"].level("courtesy").enabled
    assert next(lv.code for lv in policies.policies["fr_b2b"].active_levels) == "reminder"


def test_business_calendar():
    calendar = BusinessCalendar(["FR"])
    assert not calendar.is_business_day(D(2026, 11, 11))  # Armistice
    assert calendar.why_not(D(2026, 11, 14)) == "Saturday"
    assert calendar.on_or_after(D(2026, 12, 25)) == D(2026, 12, 28)
    assert calendar.deadline(D(2026, 11, 3), 8) == D(2026, 11, 12)  # 11 Nov -> 12 Nov
    german = BusinessCalendar(["FR", "DE"])
    assert german.why_not(D(2026, 10, 3)) == "Saturday"
    assert "DE" in (german.why_not(D(2025, 10, 3)) or "")  # Tag der Deutschen Einheit, a Friday
    assert BusinessCalendar(["UK"]).countries == ("GB",)
    assert BusinessCalendar(["GB"]).why_not(D(2026, 12, 28)) is not None  # Boxing Day (substitute)
