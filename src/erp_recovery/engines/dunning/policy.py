"""Dunning policies as data: levels, channels, amounts, templates, and rules choosing a policy.

A policy file (TOML) holds named policies and the rules that pick one per customer; the shipped
file is ``data/policies.toml`` (French defaults, legal-rules.md §4) and ``[dunning] policies_file``
replaces it with the user's own. Format::

    format = "erp-recovery.dunning-policies/1"
    default = "fr_b2b"                     # policy of customers no rule matches

    [[rules]]                              # first matching rule wins; all given criteria must hold
    policy = "fr_consumer"
    consumer = true                        # B2C debtors
    [[rules]]
    policy = "fr_b2b_firm"
    grades = ["D", "E"]                    # latest saved risk grade
    # segments = ["retail"], customers = ["C012"] also work

    [policies.fr_b2b]
    label = "Relances entreprises (France)"
    language = "fr"                        # letters' language when the customer states none
    promise_grace_days = 2                 # a promise is broken this many days after its date
    pause_review_days = 30                 # review date of a pause or dispute given without an end
    group_ahead_days = 7                   # items due for today's level within 7 days join it
    [[policies.fr_b2b.levels]]
    code = "reminder"                      # unique in the policy; recorded in the history
    label = "Relance 1"
    kind = "reminder"                      # reminder | formal_notice | escalation
    offset_days = 5                        # calendar days from the due date (negative = before)
    until_days = -1                        # optional: skipped when already later than this
    channels = ["email"]                   # email | letter | registered_letter | phone | escalation
    template = "reminder"                  # <language>/<template>.html.j2 and .email.j2
    min_amount = "0"                       # in the company currency, on the grouped outstanding
    min_days_after_previous = 7            # spacing after the previous level of the same invoice
    deadline_days = 8                      # payment deadline stated in the letter (calendar days)
    escalation = "injonction_de_payer"     # escalation levels: or "collection_agency"
    enabled = true                         # optional levels can be switched off

Levels are ordered by ``offset_days``; an invoice goes through them one at a time and never gets
the same level twice.
"""

from __future__ import annotations

import tomllib
from decimal import Decimal
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from erp_recovery.errors import ConfigError

POLICY_FORMAT = "erp-recovery.dunning-policies/1"

Channel = Literal["email", "letter", "registered_letter", "phone", "escalation"]
#: Channels that produce a document sent to the customer (the others produce tasks or a dossier).
DOCUMENT_CHANNELS: frozenset[str] = frozenset({"email", "letter", "registered_letter"})
LevelKind = Literal["reminder", "formal_notice", "escalation"]
EscalationRoute = Literal["injonction_de_payer", "collection_agency"]


class _Data(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Level(_Data):
    """One step of a policy."""

    code: str = Field(pattern=r"^[a-z][a-z0-9_]{0,39}$")
    label: str = Field(min_length=1)
    kind: LevelKind = "reminder"
    offset_days: int = Field(ge=-90, le=3650)
    #: The level is skipped for an item already later than this many days from its due date
    #: (a courtesy reminder before the due date makes no sense once it has passed).
    until_days: int | None = None
    channels: tuple[Channel, ...] = Field(min_length=1)
    template: str = Field(pattern=r"^[a-z][a-z0-9_]{0,39}$")
    min_amount: Decimal = Decimal(0)
    min_days_after_previous: int = Field(default=0, ge=0, le=365)
    deadline_days: int | None = Field(default=None, ge=1, le=90)
    escalation: EscalationRoute | None = None
    optional: bool = False
    enabled: bool = True

    @model_validator(mode="after")
    def _consistent(self) -> Level:
        if self.until_days is not None and self.until_days < self.offset_days:
            raise ValueError(f"until_days {self.until_days} is before offset_days {self.offset_days}")
        if len(set(self.channels)) != len(self.channels):
            raise ValueError("a channel is listed twice")
        if ("escalation" in self.channels) != (self.kind == "escalation"):
            raise ValueError('the "escalation" channel goes with kind = "escalation", and only with it')
        if self.kind == "escalation" and self.escalation is None:
            raise ValueError(
                'an escalation level names its route: "injonction_de_payer" or "collection_agency"'
            )
        if self.kind == "formal_notice" and self.deadline_days is None:
            raise ValueError("a formal notice states a deadline: set deadline_days")
        if self.min_amount < 0:
            raise ValueError("min_amount cannot be negative")
        return self

    @property
    def documents(self) -> tuple[Channel, ...]:
        return tuple(channel for channel in self.channels if channel in DOCUMENT_CHANNELS)


class Policy(_Data):
    code: str = ""
    label: str = Field(min_length=1)
    language: Literal["fr", "en"] = "fr"
    promise_grace_days: int = Field(default=2, ge=0, le=60)
    #: Default review date of a dispute or a pause recorded without an end (days from its start).
    pause_review_days: int = Field(default=30, ge=1, le=365)
    #: An item whose next level is the one a customer gets today, and would be due for it within
    #: this many days, joins today's communication (fewer letters; never before its due date for
    #: levels after it, never before its spacing or previous deadline allow).
    group_ahead_days: int = Field(default=0, ge=0, le=30)
    levels: tuple[Level, ...] = Field(min_length=1)

    @field_validator("levels")
    @classmethod
    def _ordered(cls, levels: tuple[Level, ...]) -> tuple[Level, ...]:
        codes = [level.code for level in levels]
        duplicates = sorted({code for code in codes if codes.count(code) > 1})
        if duplicates:
            raise ValueError(f"level codes must be unique; repeated: {', '.join(duplicates)}")
        ordered = tuple(sorted(levels, key=lambda level: level.offset_days))
        if [level.code for level in ordered] != codes:
            raise ValueError("levels must be listed in increasing offset_days")
        return levels

    @property
    def active_levels(self) -> tuple[Level, ...]:
        return tuple(level for level in self.levels if level.enabled)

    def index_of(self, code: str) -> int | None:
        for index, level in enumerate(self.levels):
            if level.code == code:
                return index
        return None

    def level(self, code: str) -> Level:
        index = self.index_of(code)
        if index is None:
            raise ConfigError(
                f"policy {self.code!r} has no level {code!r}; levels: {', '.join(lv.code for lv in self.levels)}"
            )
        return self.levels[index]


class PolicyRule(_Data):
    """Chooses ``policy`` for customers matching every criterion given (none given = everyone)."""

    policy: str
    consumer: bool | None = None
    grades: tuple[str, ...] = ()
    segments: tuple[str, ...] = ()
    customers: tuple[str, ...] = ()

    def matches(self, *, customer_id: str, consumer: bool, segment: str | None, grade: str | None) -> bool:
        if self.consumer is not None and self.consumer != consumer:
            return False
        if self.grades and grade not in self.grades:
            return False
        if self.segments and segment not in self.segments:
            return False
        return not (self.customers and customer_id not in self.customers)

    def describe(self) -> str:
        parts = []
        if self.consumer is not None:
            parts.append("consumer" if self.consumer else "business")
        if self.grades:
            parts.append("grade " + "/".join(self.grades))
        if self.segments:
            parts.append("segment " + "/".join(self.segments))
        if self.customers:
            parts.append("customer " + "/".join(self.customers))
        return " and ".join(parts) or "everyone"


class PolicySet(_Data):
    format: Literal["erp-recovery.dunning-policies/1"] = "erp-recovery.dunning-policies/1"
    default: str
    rules: tuple[PolicyRule, ...] = ()
    policies: dict[str, Policy]
    origin: str = Field(default="", exclude=True)

    @model_validator(mode="before")
    @classmethod
    def _name_policies(cls, data: object) -> object:
        if isinstance(data, dict) and isinstance(data.get("policies"), dict):
            data = dict(data)
            data["policies"] = {
                code: ({**body, "code": code} if isinstance(body, dict) else body)
                for code, body in data["policies"].items()
            }
        return data

    @model_validator(mode="after")
    def _known(self) -> PolicySet:
        known = ", ".join(sorted(self.policies))
        if self.default not in self.policies:
            raise ValueError(f"default policy {self.default!r} is not defined; defined: {known}")
        for index, rule in enumerate(self.rules, start=1):
            if rule.policy not in self.policies:
                raise ValueError(f"rule {index} names unknown policy {rule.policy!r}; defined: {known}")
        return self

    def choose(
        self, *, customer_id: str, consumer: bool, segment: str | None, grade: str | None
    ) -> tuple[Policy, str]:
        """The policy of a customer and why (which rule matched)."""
        for index, rule in enumerate(self.rules, start=1):
            if rule.matches(customer_id=customer_id, consumer=consumer, segment=segment, grade=grade):
                return self.policies[rule.policy], f"rule {index} ({rule.describe()})"
        return self.policies[self.default], "default policy"


def parse_policies(text: str, origin: str) -> PolicySet:
    try:
        document = tomllib.loads(text, parse_float=Decimal)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"invalid TOML: {exc}", path=origin) from None
    try:
        policies = PolicySet.model_validate(document)
    except ValidationError as exc:
        error = exc.errors()[0]
        where = ".".join(str(part) for part in error["loc"])
        message = str(error["msg"]).removeprefix("Value error, ")
        if error["type"] == "literal_error":
            message = f"invalid value {error.get('input')!r}; allowed: {error['ctx']['expected']}"
        elif error["type"] == "extra_forbidden":
            message = "unknown key"
        raise ConfigError(f"{where}: {message}" if where else message, path=origin) from None
    return policies.model_copy(update={"origin": origin})


@lru_cache(maxsize=1)
def _shipped() -> PolicySet:
    resource = resources.files("erp_recovery.engines.dunning").joinpath("data", "policies.toml")
    return parse_policies(resource.read_text(encoding="utf-8"), "dunning/data/policies.toml (shipped)")


def shipped_policies_text() -> str:
    """The shipped policy file, to copy and edit."""
    return (
        resources.files("erp_recovery.engines.dunning").joinpath("data", "policies.toml").read_text("utf-8")
    )


def load_policies(path: Path | str | None = None) -> PolicySet:
    """The shipped French policies, or the user's file when ``path`` is given."""
    if path is None:
        return _shipped()
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError("dunning policy file not found", path=str(file)) from None
    except UnicodeDecodeError:
        raise ConfigError("dunning policy file is not UTF-8 text", path=str(file)) from None
    return parse_policies(text, str(file))
