"""The mapping file format: how a tabular export becomes canonical records, as data.

A mapping is a TOML file an admin can edit without code::

    [mapping]
    name = "Sage 100 - export des tiers"
    entity = "customer"                 # customer | invoice | payment | bank_transaction | allocation | row

    [layout]
    format = "delimited"                # delimited | fixed
    separator = ";"                     # "\\t" for TAB, "auto" to guess among ; , TAB |
    encoding = "auto"                   # or utf-8, cp1252, iso-8859-15, cp850...
    header = true                       # the first (non-skipped) line holds column names
    skip_lines = 0
    decimal = ","
    thousands = [" ", "."]              # characters stripped from numbers
    date_formats = ["%d/%m/%Y", "%d%m%y"]

    [[filter]]                          # keep only rows whose column is in the list
    column = "Type"
    in = ["0"]

    [fields]
    external_id = { column = "Numéro" }
    name = { column = "Intitulé", required = true }
    credit_limit = { column = "Encours", type = "money", currency = "EUR" }
    blocked = { column = "Contrôle", type = "bool", values = { "2" = true, "0" = false, "1" = false } }
    "address.city" = { column = "Ville" }            # dotted names build nested values
    "payment_terms.days" = { position = 12, type = "int" }   # by 1-based position
    scope = { value = "2025" }                        # a constant
    number = { template = "{Journal}-{Pièce}" }       # several columns

Fixed-width layouts give ``start`` (1-based) and ``length`` instead of ``column``.

``entity = "row"`` is for exports that are not one canonical record per row (a Sage 100
échéancier, a balance âgée, a Sage 50 audit trail): the same layout, filters and field rules, but
each row becomes a plain dict of converted values (``mapped_rows``), with field names the
connector reading it documents (it checks them with :meth:`MappingSpec.require`); no field is
mandatory to the engine.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from erp_recovery.errors import ConfigError
from erp_recovery.model.records import RECORD_TYPES

#: The entity of mappings whose rows become plain dicts, not canonical records.
ROW_ENTITY = "row"

FieldType = Literal["str", "int", "decimal", "money", "date", "bool", "enum", "list"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class MappingInfo(_Strict):
    name: str
    entity: str
    description: str = ""
    version: int = 1

    @field_validator("entity")
    @classmethod
    def _entity(cls, value: str) -> str:
        if value != ROW_ENTITY and value not in RECORD_TYPES:
            allowed = ", ".join([*sorted(RECORD_TYPES), ROW_ENTITY])
            raise ValueError(f"unknown entity {value!r}; allowed: {allowed}")
        return value


class Layout(_Strict):
    format: Literal["delimited", "fixed"] = "delimited"
    separator: str = "auto"
    quote: str | None = '"'
    encoding: str = "auto"
    header: bool = True
    skip_lines: int = Field(default=0, ge=0)
    skip_blank: bool = True
    #: Stop at the first line starting with one of these (report footers, totals).
    stop_at: tuple[str, ...] = ()
    decimal: Literal[",", "."] = ","
    thousands: tuple[str, ...] = (" ", "\u00a0", "\u202f")
    date_formats: tuple[str, ...] = ("%d/%m/%Y", "%Y-%m-%d", "%Y%m%d", "%d%m%Y", "%d%m%y", "%d/%m/%y")
    #: Lines are records of fixed width; shorter lines are padded with spaces.
    record_length: int | None = None

    @field_validator("separator")
    @classmethod
    def _separator(cls, value: str) -> str:
        value = {"\\t": "\t", "TAB": "\t", "tab": "\t"}.get(value, value)
        if value != "auto" and len(value) != 1:
            raise ValueError(f"separator must be one character or 'auto', got {value!r}")
        return value


class FieldRule(_Strict):
    """How one canonical field is read. Exactly one of column / position / start / value / template."""

    column: str | None = None
    position: int | None = Field(default=None, ge=1)
    start: int | None = Field(default=None, ge=1)
    length: int | None = Field(default=None, ge=1)
    value: Any = None
    template: str | None = None
    type: FieldType = "str"
    required: bool = False
    default: Any = None
    #: Raw value → output value, applied before type conversion ("2" → true, "C" → "credit_note").
    values: dict[str, Any] | None = None
    #: With ``values``: a raw value not listed is an error (else it passes through unchanged).
    strict_values: bool = True
    formats: tuple[str, ...] | None = None
    currency: str | None = None
    currency_column: str | None = None
    #: For type "list": separator between items.
    split: str = ","
    #: Multiply a number by -1 (exports that show credits negative...).
    negate: bool = False
    #: Make a number its absolute value.
    absolute: bool = False
    strip: bool = True
    #: Keep only digits (SIREN written with spaces or dots...).
    digits_only: bool = False
    #: Take the first N characters after stripping (a SIREN from a SIRET: 9).
    first: int | None = Field(default=None, ge=1)

    @model_validator(mode="after")
    def _one_source(self) -> FieldRule:
        sources = [
            name
            for name in ("column", "position", "start", "value", "template")
            if getattr(self, name) is not None
        ]
        if len(sources) != 1:
            raise ValueError(
                "give exactly one of column, position, start (fixed width), value (constant) or template"
                + (f"; got {', '.join(sources)}" if sources else "")
            )
        if self.start is not None and self.length is None:
            raise ValueError("a fixed-width field needs start and length")
        if self.type == "money" and not (self.currency or self.currency_column):
            raise ValueError("a money field needs currency or currency_column")
        return self


class Filter(_Strict):
    column: str
    in_: tuple[str, ...] | None = Field(default=None, alias="in")
    not_in: tuple[str, ...] | None = None

    @model_validator(mode="after")
    def _one(self) -> Filter:
        if (self.in_ is None) == (self.not_in is None):
            raise ValueError("a filter needs exactly one of 'in' or 'not_in'")
        return self


class MappingSpec(_Strict):
    mapping: MappingInfo
    layout: Layout = Field(default_factory=Layout)
    filter: tuple[Filter, ...] = ()
    fields: dict[str, FieldRule]

    @property
    def is_row(self) -> bool:
        """Rows become plain dicts (``entity = "row"``), not canonical records."""
        return self.mapping.entity == ROW_ENTITY

    def require(self, *names: str, origin: str | None = None) -> None:
        """Check a row mapping defines the fields its reader needs (ConfigError naming them)."""
        missing = [name for name in names if name not in self.fields]
        if missing:
            listed = ", ".join(f"fields.{name}" for name in missing)
            raise ConfigError(
                f"mapping {self.mapping.name!r} must define {listed}; it defines "
                f"{', '.join(self.fields) or 'none'}",
                path=origin,
            )

    @model_validator(mode="after")
    def _fields(self) -> MappingSpec:
        if not self.is_row:
            self._check_record_fields()
        if self.layout.format == "fixed":
            for name, rule in self.fields.items():
                if rule.column is not None or rule.position is not None:
                    raise ValueError(
                        f"fields.{name}: a fixed-width layout reads start/length, not column/position"
                    )
        return self

    def _check_record_fields(self) -> None:
        if "external_id" not in self.fields:
            raise ValueError("fields.external_id is required (the record's identity in its source)")
        model = RECORD_TYPES[self.mapping.entity]
        for name in self.fields:
            top = name.split(".", 1)[0]
            if top not in model.model_fields:
                allowed = ", ".join(sorted(model.model_fields))
                raise ValueError(
                    f"fields.{name}: {self.mapping.entity} has no field {top!r}; fields: {allowed}"
                )
