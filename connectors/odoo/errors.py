"""Odoo's errors, turned into erp-recovery's exception tree with a message that says what to do.

Odoo reports a server-side exception as (Odoo 18 ``odoo/http.py``, ``odoo/service/model.py``):

- JSON-RPC: HTTP 200 with ``error.data = {name, message, arguments, debug, context}`` where
  ``name`` is the exception's qualified name (``odoo.exceptions.AccessError``,
  ``builtins.ValueError``, ``psycopg2.OperationalError``...);
- XML-RPC: a fault whose code is 3 (AccessDenied), 4 (AccessError), 2 (UserError,
  ValidationError, MissingError...) or 1 (any other exception, the traceback as text);
- JSON-2 (Odoo 19): a 4xx/5xx status with the same object as JSON-RPC's ``error.data``.

A wrong password is *not* an error for ``common.login``/``authenticate`` (they return ``false``);
the client reports it with :func:`wrong_credentials`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from erp_recovery.errors import (
    AccessDeniedError,
    AuthenticationError,
    ConfigError,
    ErpRecoveryError,
    MissingRecordError,
    RemoteError,
    TransientError,
)


class OdooUnreachable(TransientError):
    """The request never reached Odoo (connection refused, DNS, TLS): always safe to retry."""


@dataclass(frozen=True)
class CallSite:
    """What was being called, to name it in messages."""

    url: str
    database: str
    login: str | None
    model: str | None = None
    method: str | None = None

    @property
    def who(self) -> str:
        return f"Odoo user {self.login!r}" if self.login else "the Odoo API key's user"

    @property
    def what(self) -> str:
        return f"{self.model}.{self.method}" if self.model else str(self.method)


#: Roles to grant, by model prefix and operation (Odoo 16-19 group names).
_ROLE_HINTS: tuple[tuple[str, str, str], ...] = (
    ("account.", "read", "the Invoicing / Billing role (or Accounting / Read-only)"),
    ("account.", "write", "the Invoicing / Billing role"),
    ("res.partner.category", "write", "the Contacts / Contact Creation right"),
    ("res.partner", "write", "the Contacts / Contact Creation right (an internal user)"),
    ("res.partner", "read", "an internal user account (not a portal user)"),
    ("mail.", "write", "an internal user account (activities and chatter)"),
    ("res.company", "write", "no more than it has: erp-recovery never writes companies"),
)

_VERB_TO_OPERATION = {"access": "read", "read": "read", "modify": "write", "write": "write",
                      "create": "write", "delete": "write", "unlink": "write"}  # fmt: skip
_ACL_MESSAGE = re.compile(
    r"You are not allowed to (?P<verb>\w+) '(?P<label>[^']*)' \((?P<model>[\w.]+)\) records"
)
_RULE_MESSAGE = re.compile(
    r"doesn't have '(?P<verb>\w+)' access to:\s*\n- (?P<label>.*?) \((?P<model>[\w.]+)\)"
)
_GROUP_LINE = re.compile(r"^\s*-\s+(?P<group>.+?)\s*$", re.MULTILINE)
_UNKNOWN_MODEL = re.compile(r"Object (?P<model>[\w.]+) doesn't exist")
_MODULE_OF = {"account": "Invoicing (account)", "mail": "Discuss (mail)"}


def _role_hint(model: str, operation: str) -> str | None:
    for prefix, op, hint in _ROLE_HINTS:
        if model.startswith(prefix) and op == operation:
            return hint
    return None


def access_error(message: str, site: CallSite) -> AccessDeniedError:
    """An AccessError (model ACL or record rule) as an actionable AccessDeniedError."""
    match = _ACL_MESSAGE.search(message) or _RULE_MESSAGE.search(message)
    model = match["model"] if match else site.model or "?"
    operation = _VERB_TO_OPERATION.get(match["verb"] if match else "", "read")
    if (
        site.method in ("write", "create", "unlink", "message_post")
        and operation == "read"
        and _RULE_MESSAGE.search(message)
    ):
        operation = "write"
    groups = (
        [g["group"] for g in _GROUP_LINE.finditer(message.split("following groups:", 1)[1])]
        if ("following groups:" in message)
        else []
    )
    groups = [group for group in groups if "administrator" not in group.lower()]
    hint = _role_hint(model, operation)
    advice = f"give it {hint}" if hint else "grant it the missing access right"
    if groups:
        advice += f" (Odoo lists: {', '.join(groups)})"
    text = f"{site.who} lacks {operation} access to {model}: {advice}."
    if not match:
        text += f" Odoo said: {message.strip().splitlines()[0]}"
    return AccessDeniedError(text, model=model, operation=operation, odoo_error="AccessError", url=site.url)


def wrong_credentials(site: CallSite, secret_reference: str) -> AuthenticationError:
    return AuthenticationError(
        f"Odoo at {site.url} refused the login {site.login!r} on database {site.database!r}: "
        f"wrong login or password/API key (read from {secret_reference}).",
        url=site.url,
        database=site.database,
        login=site.login,
    )


def translate(
    name: str, message: str, site: CallSite, *, secret_reference: str = "the configuration"
) -> ErpRecoveryError:
    """An Odoo server exception (qualified ``name`` and ``message``) as an erp-recovery error."""
    short = name.rsplit(".", 1)[-1]
    first_line = message.strip().splitlines()[0] if message.strip() else short
    details = {"odoo_error": short, "model": site.model, "method": site.method, "url": site.url}
    if short == "AccessDenied" or name == "werkzeug.exceptions.Unauthorized":
        return AuthenticationError(
            f"Odoo at {site.url} refused the credentials of {site.who} on database {site.database!r} "
            f"({first_line}): check the password or API key (read from {secret_reference}).",
            **details,
        )
    if short == "AccessError":
        if message.startswith("Private methods"):
            return RemoteError(f"Odoo refused {site.what}: {first_line}", **details)
        return access_error(message, site)
    if short == "MissingError":
        return MissingRecordError(f"{site.what}: {first_line} — the record was deleted in Odoo.", **details)
    if short == "UserError" and (unknown := _UNKNOWN_MODEL.search(message)):
        module = _MODULE_OF.get(unknown["model"].split(".")[0], f"the module providing {unknown['model']}")
        return RemoteError(
            f"Odoo database {site.database!r} has no model {unknown['model']}: install {module} in Odoo.",
            **details,
        )
    if short in ("UserError", "ValidationError", "RedirectWarning"):
        return RemoteError(f"Odoo refused {site.what}: {message.strip()}", **details)
    if short == "OperationalError" and "does not exist" in message and "database" in message:
        return ConfigError(
            f"Odoo at {site.url} has no database {site.database!r} ({first_line})", key="database"
        )
    if short in ("OperationalError", "SerializationFailure", "LockNotAvailable", "InterfaceError"):
        return TransientError(
            f"Odoo's database was busy or unavailable during {site.what}: {first_line}", **details
        )
    if short == "ValueError" and message.startswith("Invalid field"):
        return RemoteError(
            f"{site.what}: {first_line} — this Odoo version or installation lacks a field erp-recovery "
            "asked for; please report it with the Odoo version.",
            **details,
        )
    if short == "AttributeError" and "does not exist" in message:
        return RemoteError(f"{first_line}: this Odoo version lacks a method erp-recovery needs.", **details)
    return RemoteError(f"Odoo failed on {site.what}: {short}: {first_line}", **details)


_FAULT_NAMES = {3: "odoo.exceptions.AccessDenied", 4: "odoo.exceptions.AccessError"}
_TRACEBACK_LAST_LINE = re.compile(r"^(?P<name>[\w.]+(?:Error|Exception|Warning|Denied)): (?P<message>.*)$")


def translate_fault(
    code: int, text: str, site: CallSite, *, secret_reference: str = "the configuration"
) -> ErpRecoveryError:
    """An XML-RPC fault from Odoo (``odoo/http.py`` ``xmlrpc_handle_exception_int``)."""
    if code in _FAULT_NAMES:
        return translate(_FAULT_NAMES[code], text, site, secret_reference=secret_reference)
    if code == 2:
        if text.startswith("Record does not exist or has been deleted"):
            return translate("odoo.exceptions.MissingError", text, site)
        return translate("odoo.exceptions.UserError", text, site)
    # Code 1: any other exception, with the traceback as text; its last line names it.
    lines = [line for line in text.strip().splitlines() if line.strip()]
    last = lines[-1] if lines else text
    match = _TRACEBACK_LAST_LINE.match(last.strip())
    if match:
        name = match["name"] if "." in match["name"] else f"builtins.{match['name']}"
        return translate(name, match["message"], site, secret_reference=secret_reference)
    return RemoteError(f"Odoo failed on {site.what}: {last}", odoo_error=f"fault {code}", url=site.url)
