"""The ``[dunning]`` and ``[smtp]`` sections of ``erp-recovery.toml``::

[dunning]
policies_file = "dunning-policies.toml"   # default: the shipped French policies
templates_dir = "letters"                 # your templates; missing files come from the package
outbox_dir = "dunning-outbox"             # PDFs: letters to post, e-mail copies, dossiers
max_attempts = 3                          # e-mail attempts in total (over runs) before giving up
attempts_per_run = 2                      # attempts within one run (transient failures)
retry_wait_seconds = 2
use_matching = true                       # pause invoices with a pending bank payment
signals = false                           # BODACC: stop dunning on collective proceedings
[dunning.writeback]                       # what ``erp-recovery plan SOURCE --from dunning`` proposes
steps = true                              # a dunning_step action per communication (Odoo:
                                          # activity with deadline + chatter message)
responsible = "credit.manager@acme.fr"    # Odoo login the activities are assigned to
level_field = ""                          # write-back field for the level reached (e.g. a Sage
next_action_field = ""                    # #MPCT position you added), and the next action date
since_days = 30                           # steps of the last N days before the latest run
[dunning.writeback.sources.sage-main]     # per-source override
steps = false
level_field = "dunning_level"
next_action_field = "dunning_next_action"

[smtp]
host = "smtp.example.com"
port = 587                                # default: 587 starttls, 465 ssl, 25 none
security = "starttls"                     # starttls | ssl | none
username = "relances@acme.fr"
password = "${SMTP_PASSWORD}"             # or "keyring:erp-recovery/smtp"; never literal
from_address = "relances@acme.fr"
from_name = "ACME — service recouvrement"
reply_to = "compta@acme.fr"
bcc = "archive@acme.fr"                   # optional archive copy
timeout_seconds = 30
ca_file = ""                              # CA bundle for a relay with a private certificate
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from erp_recovery.config import Secret


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DunningWritebackTarget(_Section):
    steps: bool = True
    responsible: str | None = None
    level_field: str | None = None
    next_action_field: str | None = None
    since_days: int = Field(default=30, ge=1, le=3650)

    @field_validator("level_field", "next_action_field", "responsible")
    @classmethod
    def _blank(cls, value: str | None) -> str | None:
        return value or None


class DunningWriteback(DunningWritebackTarget):
    sources: dict[str, DunningWritebackTarget] = Field(default_factory=dict)

    def for_source(self, name: str) -> DunningWritebackTarget:
        if name in self.sources:
            return self.sources[name]
        return DunningWritebackTarget(
            steps=self.steps,
            responsible=self.responsible,
            level_field=self.level_field,
            next_action_field=self.next_action_field,
            since_days=self.since_days,
        )


class DunningSettings(_Section):
    policies_file: str | None = None
    templates_dir: str | None = None
    outbox_dir: str = "dunning-outbox"
    max_attempts: int = Field(default=3, ge=1, le=20)
    attempts_per_run: int = Field(default=2, ge=1, le=10)
    retry_wait_seconds: float = Field(default=2.0, ge=0, le=300)
    use_matching: bool = True
    signals: bool = False
    writeback: DunningWriteback = Field(default_factory=DunningWriteback)

    @field_validator("policies_file", "templates_dir")
    @classmethod
    def _blank(cls, value: str | None) -> str | None:
        return value or None

    def path(self, value: str | None, base_dir: Path) -> Path | None:
        if not value:
            return None
        path = Path(value).expanduser()
        return path if path.is_absolute() else (base_dir / path).resolve()


SmtpSecurity = Literal["starttls", "ssl", "none"]
_DEFAULT_PORTS = {"starttls": 587, "ssl": 465, "none": 25}


class SmtpSettings(_Section):
    host: str | None = None
    port: int | None = Field(default=None, ge=1, le=65535)
    security: SmtpSecurity = "starttls"
    username: str | None = None
    password: Secret | None = None
    from_address: str | None = None
    from_name: str | None = None
    reply_to: str | None = None
    bcc: str | None = None
    timeout_seconds: float = Field(default=30.0, gt=0, le=600)
    ca_file: str | None = None
    #: Name announced in EHLO (default: the machine's name).
    local_hostname: str | None = None

    @field_validator("from_address", "reply_to", "bcc")
    @classmethod
    def _address(cls, value: str | None) -> str | None:
        if value and "@" not in value:
            raise ValueError(f"not an e-mail address: {value!r}")
        return value or None

    @field_validator("host", "username", "ca_file", "from_name", "local_hostname")
    @classmethod
    def _blank(cls, value: str | None) -> str | None:
        return value or None

    @property
    def configured(self) -> bool:
        return bool(self.host and self.from_address)

    @property
    def effective_port(self) -> int:
        return self.port or _DEFAULT_PORTS[self.security]
