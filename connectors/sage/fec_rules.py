"""Which FEC journals and accounts mean what: the ledger rules of ``mappings/fec.toml``.

A FEC says nothing about which journal is the sales journal or which account is a customer
account; French charts of accounts (PCG) make sensible defaults possible: customers on ``411``,
banks on ``512``/``514``/``517``, cash on ``53``, cheques to cash on ``511``, revenue on ``70``
(and output VAT on ``44571``). An entry that touches a revenue account is a sale, one that touches
a bank account is a payment, unless journal codes are listed explicitly. An admin copies
``mappings/fec.toml``, edits it, and points the source's ``mapping`` setting at the copy.
"""

from __future__ import annotations

import tomllib
import unicodedata
from importlib.resources import files
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from erp_recovery.errors import MappingError

#: The mapping shipped with erp-recovery (``mappings/fec.toml``).
DEFAULT_MAPPING = "fec"

CustomerKey = Literal["aux_or_account", "aux", "account"]


def _fold(text: str) -> str:
    """Case- and accent-insensitive form (``À Nouveaux`` → ``a nouveaux``)."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(char for char in decomposed if not unicodedata.combining(char)).casefold().strip()


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class LayoutRules(_Section):
    #: ``auto`` (BOM, then UTF-8, CP1252, ISO 8859-15) or a Python codec name.
    encoding: str = "auto"


class LedgerRules(_Section):
    #: Currency of the ledger (``Debit``/``Credit``); ``Idevise`` names foreign currencies.
    currency: str = "EUR"
    #: Account prefixes of customer (receivable) accounts.
    receivable_accounts: tuple[str, ...] = ("411",)
    #: Account prefixes of bank and cash accounts: an entry touching one is a payment.
    bank_accounts: tuple[str, ...] = ("512", "514", "517", "53", "511")
    #: Account prefixes of revenue (and output VAT): an entry touching one is a sale.
    revenue_accounts: tuple[str, ...] = ("70", "44571")
    #: Customer identity: the auxiliary account (CompAuxNum), the account (CompteNum, for ledgers
    #: with one 411xxx account per customer), or the auxiliary account when there is one.
    customer_key: CustomerKey = "aux_or_account"

    @field_validator("currency")
    @classmethod
    def _currency(cls, value: str) -> str:
        code = value.strip().upper()
        if len(code) != 3 or not code.isalpha():
            raise ValueError(f"currency must be an ISO 4217 code, got {value!r}")
        return code


class JournalRules(_Section):
    """Journal codes (compared without case or padding). Empty lists = recognise by accounts."""

    sales: tuple[str, ...] = ()
    bank: tuple[str, ...] = ()
    #: Opening-balance (à-nouveaux) journals.
    opening: tuple[str, ...] = ("AN", "ANO", "RAN", "AD", "ANX", "NOU")
    #: A journal whose label contains one of these words is an opening journal too.
    opening_labels: tuple[str, ...] = ("a nouveau", "a-nouveau", "report a nouveau")
    #: Journals whose lines are ignored for receivables (their entries are still validated).
    ignored: tuple[str, ...] = ()


class DueDateRules(_Section):
    #: Days after the invoice date when neither an échéancier nor the customer's terms say more
    #: (French default when nothing was agreed: 30 days, Code de commerce L441-10).
    default_days: int = Field(default=30, ge=0, le=3650)


LineRole = Literal["opening", "sales", "bank", "other", "ignored"]


class FecRules(_Section):
    """The whole ``fec.toml`` mapping file."""

    layout: LayoutRules = LayoutRules()
    ledger: LedgerRules = LedgerRules()
    journals: JournalRules = JournalRules()
    due_dates: DueDateRules = DueDateRules()

    def journal_role(self, code: str, label: str) -> LineRole | None:
        """The role a journal has by configuration alone (None = decide by the entry's accounts)."""
        folded = _fold(code)
        if folded in {_fold(c) for c in self.journals.ignored}:
            return "ignored"
        if folded in {_fold(c) for c in self.journals.opening}:
            return "opening"
        if any(word in _fold(label) for word in map(_fold, self.journals.opening_labels)):
            return "opening"
        if folded in {_fold(c) for c in self.journals.sales}:
            return "sales"
        if folded in {_fold(c) for c in self.journals.bank}:
            return "bank"
        return None


def mapping_path(name_or_path: str | Path) -> Path:
    """A shipped mapping by name (``fec``, ``sage100_tiers``) or a mapping file by path."""
    text = str(name_or_path)
    if "/" not in text and "\\" not in text and not text.endswith(".toml"):
        return Path(str(files("erp_recovery.mappings").joinpath(f"{text}.toml")))
    return Path(text).expanduser()


def load_rules(path: str | Path | None = None) -> FecRules:
    """Load a ``fec.toml`` mapping: a shipped one by name, or a file (the defaults when None)."""
    file = mapping_path(path or DEFAULT_MAPPING)
    try:
        data = tomllib.loads(file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise MappingError("mapping file not found", file=str(file)) from None
    except tomllib.TOMLDecodeError as exc:
        raise MappingError(f"not valid TOML: {exc}", file=str(file)) from None
    data.pop("description", None)
    try:
        return FecRules.model_validate(data)
    except ValidationError as exc:
        error = exc.errors()[0]
        key = ".".join(str(part) for part in error["loc"])
        raise MappingError(f"{key}: {error['msg']}", file=str(file)) from None
