"""Field mappings of Open Banking transaction APIs, as data (``mappings/openbanking_*.toml``).

A variant of the API (Berlin Group, GoCardless, STET, a bank's own dialect) is a new mapping file,
not new code: where the transaction list and the next link live, how the sign is given, and for
each canonical field the JSON paths to try in order.
"""

from __future__ import annotations

import datetime as dt
import tomllib
from decimal import Decimal, InvalidOperation
from importlib import resources
from pathlib import Path
from typing import Any

from erp_recovery.connectors.bank.builder import clean, counterparty_account_fields, structured_reference
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from erp_recovery.errors import MappingError, SkippableRecord

FIELD_NAMES = (
    "bank_reference",
    "entry_reference",
    "booking_date",
    "value_date",
    "amount",
    "currency",
    "end_to_end_id",
    "mandate_id",
    "debtor_name",
    "debtor_account",
    "debtor_bic",
    "creditor_name",
    "creditor_account",
    "creditor_bic",
    "remittance",
    "structured_reference",
    "transaction_code",
)


class ApiSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    path: str
    transactions: list[str]
    next_link: list[str]
    status: str | None = None
    booked_values: list[str] = Field(default_factory=list)


class SignSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    indicator: str = ""
    debit_values: list[str] = Field(default_factory=list)


class TransactionMapping(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = ""
    api: ApiSpec
    sign: SignSpec = Field(default_factory=SignSpec)
    fields: dict[str, list[str]]

    def model_post_init(self, _context: Any) -> None:
        unknown = sorted(set(self.fields) - set(FIELD_NAMES))
        if unknown:
            raise ValueError(f"unknown field(s) {', '.join(unknown)}; valid: {', '.join(FIELD_NAMES)}")
        for required in ("booking_date", "amount", "currency"):
            if not self.fields.get(required):
                raise ValueError(f"field {required!r} needs at least one path")

    # -- reading ----------------------------------------------------------------------------------

    def transactions_of(self, page: dict[str, Any]) -> list[dict[str, Any]]:
        items = _path(page, ".".join(self.api.transactions))
        if items is None:
            return []
        if not isinstance(items, list):
            raise MappingError(f"{'.'.join(self.api.transactions)} is not a list of transactions")
        if self.api.status:
            items = [item for item in items if _path(item, self.api.status) in self.api.booked_values]
        return [item for item in items if isinstance(item, dict)]

    def value(self, item: dict[str, Any], field: str) -> Any:
        for path in self.fields.get(field, []):
            found = _path(item, path)
            if found not in (None, "", [], {}):
                return found
        return None

    def text(self, item: dict[str, Any], field: str) -> str | None:
        found = self.value(item, field)
        if isinstance(found, list):
            parts = [_as_text(part) for part in found]
            return clean(" ".join(part for part in parts if part))
        return clean(_as_text(found))

    def canonical_fields(self, item: dict[str, Any], *, record_id: str) -> dict[str, Any]:
        """Canonical BankTransaction fields (without identity and account) of one API transaction."""
        amount_text = self.text(item, "amount")
        currency = self.text(item, "currency")
        booking = _date(self.text(item, "booking_date"))
        if amount_text is None or currency is None or booking is None:
            raise SkippableRecord("transaction without amount, currency or booking date", record_id=record_id)
        try:
            amount = Decimal(amount_text)
        except InvalidOperation:
            raise SkippableRecord(f"amount {amount_text!r} is not a number", record_id=record_id) from None
        if self.sign.indicator:
            indicator = _path(item, self.sign.indicator)
            amount = -abs(amount) if indicator in self.sign.debit_values else abs(amount)
        credit = amount > 0
        role = "debtor" if credit else "creditor"
        fields: dict[str, Any] = {
            "booking_date": booking,
            "value_date": _date(self.text(item, "value_date")),
            "amount": (amount, currency),
            "bank_reference": self.text(item, "bank_reference"),
            "entry_reference": self.text(item, "entry_reference"),
            "end_to_end_id": self.text(item, "end_to_end_id"),
            "mandate_id": self.text(item, "mandate_id"),
            "counterparty_name": self.text(item, f"{role}_name"),
            "counterparty_bic": self.text(item, f"{role}_bic"),
            "remittance": self.text(item, "remittance"),
            "structured_reference": structured_reference(self.text(item, "structured_reference")),
            "transaction_code": self.text(item, "transaction_code"),
        }
        if fields["end_to_end_id"] and fields["end_to_end_id"].upper() == "NOTPROVIDED":
            fields["end_to_end_id"] = None
        fields.update(counterparty_account_fields(self.text(item, f"{role}_account")))
        return fields


def _as_text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, dict):
        for key in ("reference", "code", "name", "unstructured"):
            if key in value:
                return _as_text(value[key])
        return None
    if isinstance(value, list):
        return " ".join(text for text in (_as_text(part) for part in value) if text)
    return str(value)


def _path(data: Any, path: str) -> Any:
    for key in path.split("."):
        if isinstance(data, list):
            data = [item.get(key) for item in data if isinstance(item, dict)]
            data = [item for item in data if item not in (None, "")]
            continue
        if not isinstance(data, dict):
            return None
        data = data.get(key)
    return data


def _date(text: str | None) -> dt.date | None:
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text[:10])
    except ValueError:
        return None


def load_mapping(name_or_path: str) -> TransactionMapping:
    """A shipped mapping by name (``openbanking_berlin_group``) or a TOML file path."""
    candidate = Path(name_or_path)
    if candidate.suffix == ".toml" and candidate.exists():
        text, where = candidate.read_text(encoding="utf-8"), str(candidate)
    else:
        resource = resources.files("erp_recovery.mappings").joinpath(f"{name_or_path}.toml")
        if not resource.is_file():
            raise MappingError(f"no Open Banking mapping named {name_or_path!r}", file=name_or_path)
        text, where = resource.read_text(encoding="utf-8"), f"mappings/{name_or_path}.toml"
    try:
        data = tomllib.loads(text)
        return TransactionMapping(name=where, **data)
    except (tomllib.TOMLDecodeError, ValidationError, ValueError) as exc:
        raise MappingError(f"invalid mapping: {exc}", file=where) from None
