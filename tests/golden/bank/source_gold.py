"""Readers for the sample sources' own expected results (their gold files), in their own shapes.

- genkgo/camt (PHP) ``*.expected.json``: a serialised ``Message`` whose ``getEntries`` list gives
  each entry's amount in minor units (``getAmount.getAmount`` + currency), booking date (UTC
  date-time) and ``getAccountServicerReference``.
- WoLpH/mt940 ``*.expected.yml``: a PyYAML dump of ``mt940.models.Transactions`` with Python tags;
  read here with a safe loader that turns those tags into plain values (no code is executed).

Only the values we can compare are kept: count, signed amount, currency, dates, bank reference.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml

from erp_recovery.model.money import minor_units


@dataclass(frozen=True)
class GoldTransaction:
    amount: Decimal
    currency: str
    booking_date: dt.date | None
    value_date: dt.date | None
    bank_reference: str | None


def genkgo_entries(path: Path) -> list[GoldTransaction]:
    """Entries of a genkgo/camt gold file (amounts are integers in the currency's minor unit)."""
    message = json.loads(path.read_text())
    # Records already serialised elsewhere are "__RECURSIVITY__" markers: the top-level entries
    # are then all the dump keeps (for a multi-statement file, those of one statement only).
    raw_entries: list[dict[str, Any]] = [e for e in message.get("getEntries") or [] if isinstance(e, dict)]
    for record in message.get("getRecords") or []:
        if isinstance(record, dict):
            raw_entries.extend(e for e in record.get("getEntries") or [] if isinstance(e, dict))
    entries = []
    for entry in raw_entries:
        money = entry["getAmount"]
        currency = money["getCurrency"]["getCode"]
        amount = Decimal(money["getAmount"]).scaleb(-minor_units(currency))
        booking = (entry.get("getBookingDate") or {}).get("0")
        value = (entry.get("getValueDate") or {}).get("0")
        entries.append(
            GoldTransaction(
                amount=amount,
                currency=currency,
                booking_date=dt.date.fromisoformat(booking[:10]) if booking else None,
                value_date=dt.date.fromisoformat(value[:10]) if value else None,
                bank_reference=entry.get("getAccountServicerReference"),
            )
        )
    return entries


class _Mt940GoldLoader(yaml.SafeLoader):
    """Safe loader that maps the Python tags of mt940's YAML dumps to plain data."""


def _object(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> Any:
    # A generator constructor: the dump is self-referencing (``transactions: *id003``).
    data: dict[Any, Any] = {}
    yield data
    if isinstance(node, yaml.MappingNode):
        data.update(loader.construct_mapping(node, deep=True))


def _apply(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> Any:
    args = loader.construct_sequence(node, deep=True) if isinstance(node, yaml.SequenceNode) else []
    if suffix == "decimal.Decimal":
        return Decimal(args[0])
    if suffix == "mt940.models.Date":
        raw = args[0]
        return dt.date((raw[0] << 8) + raw[1], raw[2], raw[3])
    return None


_Mt940GoldLoader.add_multi_constructor("tag:yaml.org,2002:python/object/apply:", _apply)
_Mt940GoldLoader.add_multi_constructor("tag:yaml.org,2002:python/object:", _object)
_Mt940GoldLoader.add_multi_constructor("tag:yaml.org,2002:python/name:", lambda loader, suffix, node: suffix)


def wolph_transactions(path: Path) -> list[GoldTransaction]:
    """Transactions of a WoLpH/mt940 gold file, in file order."""
    document = yaml.load(path.read_text(encoding="utf-8"), Loader=_Mt940GoldLoader)
    result = []
    for transaction in document.get("transactions") or []:
        data = transaction["data"]
        amount = data["amount"]
        result.append(
            GoldTransaction(
                amount=amount["amount"],
                currency=amount["currency"],
                booking_date=data.get("entry_date") or data.get("date"),
                value_date=data.get("date"),
                bank_reference=data.get("bank_reference"),
            )
        )
    return result
