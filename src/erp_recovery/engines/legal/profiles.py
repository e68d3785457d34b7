"""Jurisdiction profiles (FR, EU, UK, DE) loaded from ``data/profiles/<code>.toml``.

A profile holds what differs between jurisdictions as data: default and maximum payment terms,
the interest rule for business and consumer debtors (reference series, how the rate is fixed,
margin, when interest starts), the fixed recovery fee, and limitation periods. Every rule names
its source, which the printed working repeats.
"""

from __future__ import annotations

import tomllib
from decimal import Decimal
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from erp_recovery.errors import ConfigError
from erp_recovery.model.records import Jurisdiction

#: How the annual rate of a day is found.
#: - ``half_year_start``: reference rate in force on 1 January (H1) / 1 July (H2), applied to the days
#:   of that half-year (France L441-10 II, Directive 2011/7/EU art. 2(7)).
#: - ``half_year``: the published value of the half-year (Basiszinssatz §247 BGB, taux légal).
#: - ``fixed_at_start``: the reference of the half-year in which interest starts, kept for the
#:   whole debt (UK Late Payment Act, SI 2002/1675).
Fixing = Literal["half_year_start", "half_year", "fixed_at_start"]
InterestStart = Literal["day_after_due", "formal_notice"]
TermsAnchor = Literal["delivery", "invoice", "later_of_delivery_and_invoice"]
JURISDICTIONS: tuple[Jurisdiction, ...] = ("FR", "EU", "UK", "DE")


class _Data(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TermsRule(_Data):
    default_days: int = Field(ge=0)
    default_anchor: TermsAnchor
    max_days: int = Field(ge=0)
    max_days_source: str
    #: "N jours fin de mois" allowed beyond ``max_days`` when expressly agreed (France: 45).
    end_of_month_days: int | None = None
    end_of_month_source: str | None = None


class InterestRule(_Data):
    kind: Literal["statutory", "none"] = "statutory"
    reference: str | None = None
    fixing: Fixing = "half_year_start"
    margin: Decimal = Decimal(0)
    starts: InterestStart = "day_after_due"
    day_count: int = 365
    source: str
    contractual_floor_series: str | None = None
    contractual_floor_factor: Decimal | None = None

    @model_validator(mode="after")
    def _reference(self) -> InterestRule:
        if self.kind == "statutory" and not self.reference:
            raise ValueError("a statutory interest rule needs a reference series")
        return self


class FeeTier(_Data):
    #: The tier applies to debts strictly below this amount; the last tier has none.
    below: Decimal | None = None
    amount: Decimal


class FeeRule(_Data):
    kind: Literal["flat", "tiered", "none"]
    amounts: tuple[FeeTier, ...] = ()
    source: str

    @model_validator(mode="after")
    def _amounts(self) -> FeeRule:
        if self.kind != "none" and not self.amounts:
            raise ValueError(f"a {self.kind} fee needs amounts")
        if self.kind == "tiered" and self.amounts[-1].below is not None:
            raise ValueError("the last fee tier must have no 'below' bound")
        return self


class LimitationRule(_Data):
    b2b_years: int
    consumer_years: int
    from_year_end: bool = False
    source: str


class JurisdictionProfile(_Data):
    code: Jurisdiction
    name: str
    currency: str
    terms: TermsRule
    interest: dict[Literal["b2b", "consumer"], InterestRule]
    fees: dict[Literal["b2b", "consumer"], FeeRule]
    limitation: LimitationRule

    def interest_rule(self, consumer: bool) -> InterestRule:
        return self.interest["consumer" if consumer else "b2b"]

    def fee_rule(self, consumer: bool) -> FeeRule:
        return self.fees["consumer" if consumer else "b2b"]


def _parse(text: str, origin: str) -> JurisdictionProfile:
    try:
        document = tomllib.loads(text, parse_float=Decimal)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"invalid TOML: {exc}", path=origin) from None
    try:
        return JurisdictionProfile.model_validate(document)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors())
        raise ConfigError(f"invalid jurisdiction profile: {problems}", path=origin) from None


@lru_cache(maxsize=8)
def _shipped(code: str) -> JurisdictionProfile:
    resource = resources.files("erp_recovery.engines.legal").joinpath(
        "data", "profiles", f"{code.lower()}.toml"
    )
    return _parse(resource.read_text(encoding="utf-8"), f"profiles/{code.lower()}.toml (shipped)")


def load_profile(code: str, path: Path | str | None = None) -> JurisdictionProfile:
    """The shipped profile for ``code`` (FR, EU, UK, DE), or the one in ``path`` when given."""
    if path is not None:
        file = Path(path)
        try:
            return _parse(file.read_text(encoding="utf-8"), str(file))
        except FileNotFoundError:
            raise ConfigError("jurisdiction profile not found", path=str(file)) from None
    normalised = code.strip().upper()
    if normalised not in JURISDICTIONS:
        raise ConfigError(
            f"unknown jurisdiction {code!r}; valid: {', '.join(JURISDICTIONS)}", key="company.jurisdiction"
        )
    return _shipped(normalised)
