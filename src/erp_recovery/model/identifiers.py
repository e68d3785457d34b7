"""Identifier value types, validated at the edge and stored in compact form.

SIREN/SIRET and VAT numbers use python-stdnum (``compact`` then ``validate``: checksums included);
IBANs use schwifty (country length and ISO 7064 check digits); ISO 11649 creditor references (RF)
use ``stdnum.iso11649``. A bad value is rejected with the reason, never silently kept.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Annotated, Any

from pydantic import BeforeValidator
from schwifty import IBAN
from schwifty.exceptions import SchwiftyException
from stdnum import iso11649
from stdnum.eu import vat as eu_vat
from stdnum.exceptions import ValidationError as StdnumError
from stdnum.fr import siren as fr_siren
from stdnum.fr import siret as fr_siret
from stdnum.gb import vat as gb_vat


def _text(value: Any, what: str) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        raise ValueError(f"{what} must be text, got {type(value).__name__}")
    return value


def validate_siren(value: Any) -> str:
    try:
        return str(fr_siren.validate(_text(value, "SIREN")))
    except StdnumError as exc:
        raise ValueError(f"invalid SIREN {value!r}: {exc}") from None


def validate_siret(value: Any) -> str:
    try:
        return str(fr_siret.validate(_text(value, "SIRET")))
    except StdnumError as exc:
        raise ValueError(f"invalid SIRET {value!r}: {exc}") from None


def validate_vat(value: Any) -> str:
    """EU VAT number (any member state, XI and CH via stdnum's EU module), or a UK one (``GB``
    prefix, ``stdnum.gb.vat``: stdnum's EU module no longer lists GB since Brexit)."""
    text = _text(value, "VAT number")
    try:
        if text.strip().upper().startswith("GB"):
            return "GB" + str(gb_vat.validate(text))
        return str(eu_vat.validate(text))
    except StdnumError as exc:
        raise ValueError(f"invalid VAT number {value!r}: {exc}") from None


@lru_cache(maxsize=65536)
def _compact_iban(value: str) -> str:
    # Cached: bank statements repeat the same counterparty IBANs thousands of times, and a
    # schwifty check costs tens of microseconds. Invalid values raise and are not cached.
    return str(IBAN(value).compact)


def validate_iban(value: Any) -> str:
    try:
        return _compact_iban(_text(value, "IBAN"))
    except SchwiftyException as exc:
        raise ValueError(f"invalid IBAN {value!r}: {exc}") from None


def validate_rf_reference(value: Any) -> str:
    """ISO 11649 structured creditor reference (``RF18 5390 0754 7034`` → ``RF18539007547034``)."""
    try:
        return str(iso11649.validate(_text(value, "RF reference")))
    except StdnumError as exc:
        raise ValueError(f"invalid ISO 11649 creditor reference {value!r}: {exc}") from None


def is_valid_iban(value: str) -> bool:
    try:
        validate_iban(value)
    except ValueError:
        return False
    return True


def is_valid_rf_reference(value: str) -> bool:
    try:
        validate_rf_reference(value)
    except ValueError:
        return False
    return True


Siren = Annotated[str, BeforeValidator(validate_siren)]
Siret = Annotated[str, BeforeValidator(validate_siret)]
VatNumber = Annotated[str, BeforeValidator(validate_vat)]
Iban = Annotated[str, BeforeValidator(validate_iban)]
RfReference = Annotated[str, BeforeValidator(validate_rf_reference)]
