"""``openbanking`` source: booked transactions of PSD2 accounts, incremental by booking date.

Configuration::

    [[sources]]
    name = "bnp-psd2"
    company = "acme"
    connector = "openbanking"
    [sources.settings]
    base_url = "https://psd2.example-bank.com"
    token_env = "BNP_PSD2_TOKEN"          # the bearer token is read from this variable
    mapping = "openbanking_berlin_group"  # or openbanking_gocardless, openbanking_stet, a .toml path
    overlap_days = 7
    [[sources.settings.accounts]]
    id = "3dc3d5b3-7023-4848-9853-f5400a64e80f"
    iban = "FR7630006000011234567890189"

Each run asks, per account, for the transactions booked since the last booking date seen minus
``overlap_days`` (late bookings and corrections land in the window); identities are the same
content hash as bank files (:mod:`erp_recovery.connectors.bank.identity`) over whole days, so the
overlap re-reads the same ids and changes nothing. The cursor (last booking date per account) is
committed with the account's last batch.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator, Sequence
from typing import Any, ClassVar

from erp_recovery.connectors.bank.builder import build_transaction
from erp_recovery.connectors.bank.identity import IdentityAssigner, normalise_account
from pydantic import BaseModel, ConfigDict, Field

from erp_recovery.errors import ConfigError, SkippableRecord
from erp_recovery.model import BankTransaction, Money
from erp_recovery.sync.protocol import (
    Batch,
    Connector,
    Cursor,
    Notice,
    Origin,
    RawRecord,
    Snapshot,
    SourceSettings,
    StreamSpec,
)

from .client import BerlinGroupClient
from .mapping import TransactionMapping, load_mapping

TRANSACTIONS = StreamSpec(
    name="transactions",
    entities=("bank_transaction",),
    primary_key="transactionId",
    cursor_field="bookingDate",
    is_sorted=False,
)


class AccountSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(min_length=1)
    #: The account's IBAN (or number) as stored on its transactions; default: the API id.
    iban: str | None = None


class OpenBankingSettings(SourceSettings):
    base_url: str
    token_env: str = "ERP_RECOVERY_OPENBANKING_TOKEN"
    consent_id_env: str | None = None
    mapping: str = "openbanking_berlin_group"
    accounts: list[AccountSettings] = Field(min_length=1)
    overlap_days: int = Field(default=7, ge=0, le=90)
    initial_days: int = Field(default=90, ge=1, le=3650)
    connect_timeout: float = 5.0
    read_timeout: float = 30.0
    attempts: int = Field(default=5, ge=1, le=10)
    batch_size: int = Field(default=1000, ge=1)


class OpenBankingConnector(Connector):
    """Berlin Group NextGenPSD2 (and GoCardless/STET variants by mapping) account transactions."""

    name: ClassVar[str] = "openbanking"
    settings_model: ClassVar[type[SourceSettings]] = OpenBankingSettings
    description: ClassVar[str] = "PSD2 account-information API (Berlin Group; GoCardless/STET by mapping)"
    settings: OpenBankingSettings

    def __init__(self, source: Any, settings: SourceSettings, *, today: dt.date | None = None) -> None:
        super().__init__(source, settings)
        self.mapping: TransactionMapping = load_mapping(self.settings.mapping)
        self.today = today or dt.date.today()
        self._client: BerlinGroupClient | None = None

    def client(self) -> BerlinGroupClient:
        if self._client is None:
            token = os.environ.get(self.settings.token_env)
            if not token:
                raise ConfigError(
                    f"set the bearer token in the environment variable {self.settings.token_env}",
                    key="settings.token_env",
                )
            consent = os.environ.get(self.settings.consent_id_env) if self.settings.consent_id_env else None
            self._client = BerlinGroupClient(
                self.settings.base_url,
                token,
                path=self.mapping.api.path,
                consent_id=consent,
                timeout=(self.settings.connect_timeout, self.settings.read_timeout),
                attempts=self.settings.attempts,
            )
        return self._client

    def streams(self) -> Sequence[StreamSpec]:
        return [TRANSACTIONS]

    def read(self, stream: StreamSpec, cursor: Cursor | None) -> Iterator[Batch | Snapshot | Notice]:
        state: dict[str, str] = dict((cursor or {}).get("accounts", {}))
        for account in self.settings.accounts:
            last = state.get(account.id)
            if last:
                date_from = dt.date.fromisoformat(last) - dt.timedelta(days=self.settings.overlap_days)
            else:
                date_from = self.today - dt.timedelta(days=self.settings.initial_days)
            account_name = normalise_account(account.iban or account.id)
            identity = IdentityAssigner()
            latest = dt.date.fromisoformat(last) if last else None
            batch: list[RawRecord] = []
            for page in self.client().pages(
                account.id, date_from=date_from, next_link=tuple(self.mapping.api.next_link)
            ):
                for item in self.mapping.transactions_of(page):
                    raw = self._raw(item, account_name, identity)
                    batch.append(raw)
                    if isinstance(raw.data, BankTransaction):
                        booking = raw.data.booking_date
                        latest = booking if latest is None or booking > latest else latest
                    if len(batch) >= self.settings.batch_size:
                        yield Batch(batch)
                        batch = []
            if latest is not None:
                state[account.id] = latest.isoformat()
            yield Batch(batch, cursor={"accounts": dict(state)})

    def _raw(self, item: dict[str, Any], account: str, identity: IdentityAssigner) -> RawRecord:
        record_id = str(
            item.get("transactionId") or item.get("resourceId") or item.get("entryReference") or ""
        )
        origin = Origin(record_id=record_id or None)
        try:
            fields = self.mapping.canonical_fields(item, record_id=record_id)
        except SkippableRecord as exc:
            return RawRecord({"error": exc.reason, **{k: str(v) for k, v in item.items()}}, origin)
        amount, currency = fields.pop("amount")
        fields.update(
            {
                "external_id": identity.entry_id(account, fields["booking_date"], amount, currency),
                "account": account,
                "amount": Money(amount=amount, currency=currency),
                "status": "booked",
                "references": {"transactionId": record_id} if record_id else {},
                "source_refs": {"api": self.settings.base_url},
                "source_position": record_id or None,
            }
        )
        return RawRecord(build_transaction(fields, file=self.settings.base_url), origin)

    def to_canonical(self, stream: StreamSpec, raw: RawRecord) -> Any:
        if isinstance(raw.data, dict):
            raise SkippableRecord(str(raw.data.get("error")), record_id=raw.origin.record_id)
        return raw.data

    def check(self) -> str:
        account = self.settings.accounts[0]
        pages = self.client().pages(
            account.id,
            date_from=self.today - dt.timedelta(days=1),
            next_link=tuple(self.mapping.api.next_link),
        )
        first = next(iter(pages), {})
        return f"account {account.id}: {len(self.mapping.transactions_of(first))} transaction(s) booked since yesterday"

    def close(self) -> None:
        if self._client is not None:
            self._client.session.close()
