"""Settings of an Odoo source (``[sources.settings]`` of a source with ``connector = "odoo"``).

Example::

    [[sources]]
    name = "odoo-main"
    company = "acme"
    connector = "odoo"
    [sources.settings]
    url = "https://acme.odoo.com"
    database = "acme"
    login = "erp-recovery@acme.fr"
    password = "${ODOO_PASSWORD}"        # or "keyring:erp-recovery/odoo-main"; an API key works too
    protocol = "jsonrpcs"                # jsonrpc(s), xmlrpc(s), or json2(s) with an API key (Odoo 19+)
    company_id = 1                       # the Odoo company this source reads (default: the user's)
    [sources.settings.writeback]
    credit_limit = true
    trust = false
    [sources.settings.writeback.risk_flag]
    mode = "tag"                         # or "field" with field = "x_risk_class"
    tag_prefix = "Risk: "
    [sources.settings.writeback.dunning]
    activity_type = "To-Do"
    responsible_login = "credit.manager@acme.fr"
"""

from __future__ import annotations

from typing import Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from erp_recovery.config import Secret
from erp_recovery.sync.protocol import SourceSettings

Protocol = Literal["jsonrpc", "jsonrpcs", "xmlrpc", "xmlrpcs", "json2", "json2s"]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TagOrFieldTarget(_Section):
    """Where a class goes on the partner: a tag ``<tag_prefix><value>`` (created if missing; other
    tags with the prefix removed in the same write) or a partner field (char or selection)."""

    mode: Literal["tag", "field"] = "tag"
    tag_prefix: str = Field(default="Risk: ", min_length=1)
    #: The res.partner field holding the value when ``mode = "field"``.
    field: str | None = None

    @model_validator(mode="after")
    def _field_mode(self) -> TagOrFieldTarget:
        if self.mode == "field" and not self.field:
            raise ValueError('mode = "field" needs field (e.g. "x_risk_class")')
        return self


class RiskFlagTarget(TagOrFieldTarget):
    """Where the risk class goes: a partner tag (``Risk: C``) or a field."""


class DunningLevelTarget(TagOrFieldTarget):
    """Where the dunning level reached goes: a partner tag (``Dunning: Mise en demeure``) or a field."""

    tag_prefix: str = Field(default="Dunning: ", min_length=1)


class DunningTarget(_Section):
    """How a dunning step shows in Odoo: a scheduled activity and/or a chatter message."""

    activity: bool = True
    #: Name of the mail.activity.type to schedule (Odoo's default types: Email, Call, To-Do...).
    activity_type: str = "To-Do"
    #: Login of the user the activity is assigned to (default: the user erp-recovery logs in as).
    responsible_login: str | None = None
    #: Days from the apply date to the activity deadline when the step gives none.
    deadline_days: int = Field(default=0, ge=0, le=365)
    message: bool = True
    #: ``note`` = internal note (no e-mail to followers); ``comment`` = message sent to followers.
    message_kind: Literal["note", "comment"] = "note"


class WritebackTargets(_Section):
    """Which write-back targets are enabled for this Odoo source."""

    credit_limit: bool = True
    risk_flag: RiskFlagTarget | None = Field(default_factory=RiskFlagTarget)
    dunning: DunningTarget | None = Field(default_factory=DunningTarget)
    #: The dunning level reached per customer (write-back field ``dunning_level``), off unless set.
    dunning_level: DunningLevelTarget | None = None
    #: res.partner date or char field for the next dunning action date (``dunning_next_action``).
    dunning_next_action: str | None = None
    #: Odoo's ``res.partner.trust`` (good / normal / bad), off unless asked for.
    trust: bool = False


class OdooSettings(SourceSettings):
    url: str = Field(description="Base URL of the Odoo server, e.g. https://acme.odoo.com")
    database: str = Field(min_length=1)
    #: Login of the Odoo user; not used by json2 (the API key identifies the user).
    login: str | None = None
    #: Password or API key, as a reference: "${ENV_VAR}" or "keyring:service/username".
    password: Secret
    protocol: Protocol = "jsonrpc"
    timeout_seconds: float = Field(default=60.0, gt=0, le=3600)
    #: Retries of a call that failed transiently (connection error, 502/503/504, timeout).
    retries: int = Field(default=4, ge=0, le=20)
    retry_wait_seconds: float = Field(default=1.0, ge=0, le=60)
    retry_max_wait_seconds: float = Field(default=30.0, ge=0, le=600)
    #: Records per search_read call.
    page_size: int = Field(default=2000, ge=1, le=20000)
    #: Incremental reads start this many seconds before the last write_date seen, so a record
    #: written by a transaction that committed after our read is not missed.
    overlap_seconds: int = Field(default=600, ge=0, le=86400)
    #: Hours between full sweeps (a full re-read that also detects deleted records); 0 = every sync.
    full_sweep_hours: float = Field(default=24.0, ge=0)
    #: The Odoo company (res.company id) this source reads; default: the user's current company.
    company_id: int | None = Field(default=None, ge=1)
    #: Extra context for every call (e.g. {"lang": "fr_FR"}).
    context: dict[str, str | int | bool] = Field(default_factory=dict)
    writeback: WritebackTargets = Field(default_factory=WritebackTargets)

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        parts = urlsplit(value.strip())
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"must be an http(s) URL such as https://acme.odoo.com, got {value!r}")
        return value.strip().rstrip("/")

    @model_validator(mode="after")
    def _consistent(self) -> OdooSettings:
        secure = urlsplit(self.url).scheme == "https"
        if self.protocol.endswith("s") and not secure:
            raise ValueError(f"protocol {self.protocol!r} needs an https:// url")
        if not self.protocol.startswith("json2") and not self.login:
            raise ValueError(f"protocol {self.protocol!r} needs a login")
        return self

    @property
    def family(self) -> Literal["jsonrpc", "xmlrpc", "json2"]:
        family = self.protocol.removesuffix("s")
        assert family in ("jsonrpc", "xmlrpc", "json2")
        return family  # type: ignore[return-value]
