"""Stable identities: accounts, transactions and files.

Transaction identity (``BankTransaction.external_id``)
======================================================

The same booking must get the same id whether it arrives in a camt.053, an MT940, a CFONB 120 or
an OFX file, and whether it is imported once, twice, or inside two overlapping statements. Bank
references cannot give that: an OFX FITID has no counterpart in camt, MT940 bank references are
often absent, CFONB has none. So the id is a hash of what every format carries::

    bt1:<first 32 hex digits of sha256("account|booking date|amount|currency|occurrence")>

- ``account``: the normalised account (:func:`normalise_account`: compact IBAN; a German
  ``BLZ/Konto`` or a French CFONB ``banque+guichet+compte`` turned into its IBAN);
- ``booking date``: ISO date (camt ``BookgDt``, MT940 entry date else value date, OFX
  ``DTPOSTED``, CFONB date comptable), as written in the file (no time-zone shift);
- ``amount``: the signed amount, normalised (``-12.5`` for ``-12.50``, ``-12.500``);
- ``currency``: ISO 4217 code;
- ``occurrence``: 1 for the first booking of the file with that (account, date, amount,
  currency), 2 for the second, and so on, in file order. Two customers paying 100.00 EUR on
  the same day stay two transactions; a statement that covers whole days counts the same way in
  every file, so overlapping statements give the same ids.

A camt entry split into its ``TxDtls`` (a batch whose details add up to the entry) gives one
record per detail, with id ``<entry id>/<n>`` (``n`` = 1-based ``TxDtls`` index). The bank's own
references are kept in ``bank_reference`` (camt ``AcctSvcrRef``, MT940 ``//`` reference, OFX
``FITID``) and ``references``, for matching and for people.

Known limits, documented rather than hidden: a day split over two files (intraday camt.052 or
MT942 reports) that holds two bookings with the same amount can give their occurrence numbers in
a different order; two equal bookings can swap their details between formats (never duplicate).

File identity: :func:`content_hash` (sha256 of the bytes) recognises a file already imported,
whatever its name.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Callable
from decimal import Decimal
from functools import lru_cache
from typing import BinaryIO

from schwifty import IBAN
from schwifty.exceptions import SchwiftyException

from erp_recovery.fingerprints import stream_sha256
from erp_recovery.model.identifiers import is_valid_iban

IDENTITY_VERSION = "bt1"

_SPACES = re.compile(r"\s+")
#: ``BLZ/Konto`` (German bank code and account number, MT940 ``:25:``).
_GERMAN_ACCOUNT = re.compile(r"^(\d{8})/(\d{1,10})$")
#: Account followed by its currency (``1526.89.184EUR``, ``.../HUF``).
_CURRENCY_SUFFIX = re.compile(r"^(.*?\d)/?([A-Z]{3})$")


def amount_key(amount: Decimal) -> str:
    """``Decimal`` as a canonical string: no exponent, no trailing zeros (``-12.50`` → ``-12.5``)."""
    if amount == 0:
        return "0"
    text = format(amount.normalize(), "f")
    return text


@lru_cache(maxsize=65536)
def checked_iban(value: str) -> str | None:
    """Compact IBAN if ``value`` is a valid one (checksum and country length), else None."""
    compact = _SPACES.sub("", value).upper()
    if len(compact) < 15 or not compact[:2].isalpha() or not compact[2:4].isdigit():
        return None
    if not is_valid_iban(compact):
        return None
    return compact


def split_currency_suffix(account: str) -> tuple[str, str | None]:
    """``"1526.89.184EUR"`` → (``"1526.89.184"``, ``"EUR"``); IBANs are left alone."""
    compact = _SPACES.sub("", account).upper()
    if checked_iban(compact):
        return compact, None
    match = _CURRENCY_SUFFIX.match(compact)
    if match and not checked_iban(compact):
        return match.group(1), match.group(2)
    return compact, None


@lru_cache(maxsize=4096)
def normalise_account(account: str) -> str:
    """One spelling per account, so the same account read from two formats is one account.

    Compact upper-case IBAN when the text is a valid IBAN; ``BLZ/Konto`` becomes the German
    IBAN; anything else is kept compact (spaces removed, upper case, currency suffix removed).
    """
    compact, _currency = split_currency_suffix(account)
    iban = checked_iban(compact)
    if iban:
        return iban
    german = _GERMAN_ACCOUNT.match(compact)
    if german:
        try:
            return str(IBAN.generate("DE", bank_code=german.group(1), account_code=german.group(2)).compact)
        except SchwiftyException:
            return compact
    return compact


def french_rib_iban(bank_code: str, branch_code: str, account_number: str) -> str | None:
    """IBAN of a French RIB without its key (CFONB records carry bank, branch and account only)."""
    try:
        return str(
            IBAN.generate(
                "FR", bank_code=bank_code, branch_code=branch_code, account_code=account_number
            ).compact
        )
    except SchwiftyException:
        return None


class IdentityAssigner:
    """Gives each booking of one file its ``external_id`` (see the module documentation)."""

    def __init__(self) -> None:
        self._seen: dict[bytes, int] = {}

    def entry_id(self, account: str, booking_date: dt.date, amount: Decimal, currency: str) -> str:
        key = f"{account}|{booking_date.isoformat()}|{amount_key(amount)}|{currency}".encode()
        short = hashlib.blake2b(key, digest_size=16).digest()
        occurrence = self._seen.get(short, 0) + 1
        self._seen[short] = occurrence
        digest = hashlib.sha256(b"%s|%d" % (key, occurrence)).hexdigest()[:32]
        return f"{IDENTITY_VERSION}:{digest}"

    @staticmethod
    def detail_id(entry_id: str, index: int) -> str:
        """Id of the ``index``-th (1-based) detail of a split batch entry."""
        return f"{entry_id}/{index}"


def content_hash(opener: Callable[[], BinaryIO]) -> str:
    """sha256 of a file's bytes (hex), read in chunks."""
    return stream_sha256(opener)
