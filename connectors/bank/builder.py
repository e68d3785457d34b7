"""Turning fields read from a bank file into a canonical :class:`BankTransaction`.

Shared by every reader so the same rules apply to every format:

- blank texts become ``None`` and inner runs of spaces collapse (fixed-width formats pad);
- a counterparty account that is a valid IBAN goes to ``counterparty_iban``, anything else
  (BBAN, ``Othr/Id``, a test IBAN with a wrong checksum) to ``counterparty_account``;
- a structured reference that is a valid ISO 11649 RF reference is stored compact (``RF18…``);
- a validation error of the model becomes a :class:`ParseError` naming the file and position.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import ValidationError
from stdnum import iso11649

from erp_recovery.errors import ParseError
from erp_recovery.model import BankTransaction

from .identity import checked_iban

_RUNS_OF_SPACES = re.compile(r"[ \t\r\n]+")


def clean(text: str | None) -> str | None:
    """Collapse whitespace; ``None`` for blank text."""
    if not text:
        return None
    stripped = text.strip()
    # isprintable() is False for tabs and line breaks (and for rarer spaces the pattern leaves as
    # they are): one C-level test instead of four substring searches on the usual clean text.
    if "  " in stripped or not stripped.isprintable():
        stripped = _RUNS_OF_SPACES.sub(" ", stripped)
    return stripped or None


def join_texts(*parts: str | None, separator: str = " ") -> str | None:
    return clean(separator.join(part for part in parts if part))


def structured_reference(value: str | None) -> str | None:
    """A creditor reference; RF references (ISO 11649) are validated and stored compact."""
    text = clean(value)
    if text is None:
        return None
    compact = iso11649.compact(text)
    if compact.startswith("RF") and iso11649.is_valid(compact):
        return str(compact)
    return text


def counterparty_account_fields(account: str | None) -> dict[str, str]:
    """``counterparty_iban`` for a valid IBAN, else ``counterparty_account``."""
    text = clean(account)
    if text is None:
        return {}
    iban = checked_iban(text)
    if iban:
        return {"counterparty_iban": iban}
    return {"counterparty_account": text}


def build_transaction(fields: dict[str, Any], *, file: str, line: int | None = None) -> BankTransaction:
    """Validate ``fields`` into a :class:`BankTransaction` (``None`` values are dropped)."""
    # None and empty tuples are dropped (the field keeps its default); the test never compares a
    # value (a pydantic ``Money`` compares in Python).
    values = {
        key: value
        for key, value in fields.items()
        if value is not None and (value or value.__class__ is not tuple)
    }
    try:
        return BankTransaction.model_validate(values)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise ParseError(
            f"transaction cannot be read: {where}: {first['msg'].removeprefix('Value error, ')}",
            file=file,
            line=line,
            element=fields.get("source_position"),
        ) from None
