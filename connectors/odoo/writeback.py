"""Odoo write-back targets: what ``credit_limit``, ``risk_flag``, ``trust`` and ``dunning_step``
mean in Odoo, read and written in batches.

- ``credit_limit`` (customer → ``res.partner``): ``credit_limit`` in the company currency, with
  ``use_partner_credit_limit`` turned on where the version has it (Odoo 16+; it is computed as
  "the limit differs from the company default" and its inverse resets the limit when turned off).
  ``None`` = no partner limit.
- ``risk_flag`` (customer): a partner tag ``<tag_prefix><class>`` (``res.partner.category``,
  created if missing; other tags with the prefix are removed in the same write), or a configured
  partner field.
- ``dunning_level`` (customer, optional): the dunning level reached, as a partner tag
  ``<tag_prefix><level>`` (``Dunning: Mise en demeure``) or a configured field, like ``risk_flag``.
- ``dunning_next_action`` (customer, optional): the next dunning action date in a configured
  partner field.
- ``trust`` (customer, optional): Odoo's ``trust`` selection (good / normal / bad).
- ``dunning_step`` action (invoice → ``account.move``, or customer): a scheduled activity
  (``mail.activity``: type, summary, note, deadline, responsible user) and a chatter message
  (``message_post``, an internal note by default). Both carry the text
  ``erp-recovery activity <key>`` / ``erp-recovery message <key>``, by which a later apply finds
  them (the activity's text survives in the chatter once the activity is marked done) — so a step
  is done once, and a crash between the two halves is completed by the next apply. Odoo escapes a
  plain-text ``message_post`` body, so messages are sent as plain text.
"""

from __future__ import annotations

import datetime as dt
import html
import re
from collections import defaultdict
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any, TypeAlias

from erp_recovery.errors import ConfigError, RemoteError
from erp_recovery.model.money import Money
from erp_recovery.writeback.plan import ActionChange, FieldChange
from erp_recovery.writeback.target import Observed

from . import mapping
from .settings import TagOrFieldTarget

if TYPE_CHECKING:
    from .connector import OdooConnector

Change: TypeAlias = FieldChange | ActionChange

MODELS = {"customer": "res.partner", "invoice": "account.move"}
FIELDS = ("credit_limit", "risk_flag", "dunning_level", "dunning_next_action", "trust")
#: Fields written as a prefixed partner tag or a configured field.
CLASSIFICATIONS = ("risk_flag", "dunning_level")
ACTIONS = ("dunning_step",)
_MARKER = re.compile(r"erp-recovery (activity|message) ([A-Za-z0-9][A-Za-z0-9:._/-]*)")


def _ids(changes: Sequence[Change]) -> list[int]:
    ids = []
    for change in changes:
        try:
            ids.append(int(change.target.external_id))
        except ValueError:
            continue
    return sorted(set(ids))


def _record_id(change: Change) -> int | None:
    try:
        return int(change.target.external_id)
    except ValueError:
        return None


class OdooWriteback:
    """``read_current``/``write`` for one Odoo source (used through :class:`OdooConnector`)."""

    def __init__(self, connector: OdooConnector) -> None:
        self.connector = connector
        self.settings = connector.odoo.writeback
        #: (slot) -> (activity found, message found), from the last read_current.
        self._parts: dict[str, tuple[bool, bool]] = {}
        self._activity_type: int | None = None
        self._model_ids: dict[str, int] = {}
        self._users: dict[str, int] = {}

    @property
    def client(self) -> Any:
        return self.connector.client

    # -- checks ---------------------------------------------------------------------------------

    def _model(self, change: Change) -> str:
        model = MODELS.get(change.target.entity)
        if model is None:
            raise ConfigError(
                f"the Odoo connector writes back customers and invoices, not {change.target.entity} records"
            )
        return model

    def _check(self, change: Change) -> None:
        model = self._model(change)
        if isinstance(change, ActionChange):
            if change.action not in ACTIONS:
                raise ConfigError(
                    f"the Odoo connector has no action {change.action!r}; actions: {', '.join(ACTIONS)}"
                )
            if self.settings.dunning is None:
                raise ConfigError(
                    "dunning write-back is disabled for this source (sources.settings.writeback.dunning)"
                )
            return
        if change.field not in FIELDS:
            raise ConfigError(
                f"the Odoo connector cannot write {change.field!r}; fields: {', '.join(FIELDS)}"
            )
        if model != "res.partner":
            raise ConfigError(f"{change.field} is a customer field, not an {change.target.entity} field")
        enabled = {
            "credit_limit": self.settings.credit_limit,
            "risk_flag": self.settings.risk_flag is not None,
            "dunning_level": self.settings.dunning_level is not None,
            "dunning_next_action": self.settings.dunning_next_action is not None,
            "trust": self.settings.trust,
        }[change.field]
        if not enabled:
            raise ConfigError(
                f"write-back of {change.field} is disabled for this source (sources.settings.writeback.{change.field})"
            )

    # -- reading -----------------------------------------------------------------------------------

    def read_current(self, changes: Sequence[Change]) -> dict[str, Observed]:
        for change in changes:
            self._check(change)
        observed: dict[str, Observed] = {}
        fields = [c for c in changes if isinstance(c, FieldChange)]
        if fields:
            observed.update(self._read_fields(fields))
        by_model: dict[str, list[ActionChange]] = defaultdict(list)
        for change in changes:
            if isinstance(change, ActionChange):
                by_model[self._model(change)].append(change)
        for model, actions in by_model.items():
            observed.update(self._read_actions(model, actions))
        return observed

    def _partner_fields(self) -> list[str]:
        available = self.client.fields("res.partner")
        wanted = ["credit_limit", "use_partner_credit_limit", "category_id", "trust"]
        configured = {f"{name}.field": self._classification(name) for name in CLASSIFICATIONS}
        extra = {key: target.field for key, target in configured.items() if target and target.mode == "field"}
        if self.settings.dunning_next_action:
            extra["dunning_next_action"] = self.settings.dunning_next_action
        for key, field in extra.items():
            if field not in available:
                raise ConfigError(f"res.partner has no field {field!r} (writeback.{key})")
            wanted.append(str(field))
        return available.available(wanted)

    def _classification(self, field: str) -> TagOrFieldTarget | None:
        target: TagOrFieldTarget | None = getattr(self.settings, field)
        return target

    def _read_fields(self, changes: Sequence[FieldChange]) -> dict[str, Observed]:
        rows = {
            int(row["id"]): row
            for row in self.client.read("res.partner", _ids(changes), self._partner_fields())
        }
        tags = self._tag_names() if any(c.field in CLASSIFICATIONS for c in changes) else {}
        observed = {}
        for change in changes:
            row = rows.get(_record_id(change) or 0)
            if row is None:
                continue
            observed[change.slot] = Observed(
                value=self._value(change.field, row, tags), where=f"res.partner {row['id']}"
            )
        return observed

    def _value(self, field: str, row: Mapping[str, Any], tags: Mapping[int, str]) -> Any:
        if field == "credit_limit":
            currency = self.connector.company().currency
            if "use_partner_credit_limit" in row:
                return (
                    mapping.money(row.get("credit_limit"), currency)
                    if row.get("use_partner_credit_limit")
                    else None
                )
            return mapping.money(row.get("credit_limit"), currency) if row.get("credit_limit") else None
        if field == "trust":
            return mapping.text(row.get("trust"))
        if field == "dunning_next_action":
            return mapping.text(row.get(str(self.settings.dunning_next_action)))
        target = self._classification(field)
        assert target is not None
        if target.mode == "field":
            return mapping.text(row.get(str(target.field)))
        classes = sorted(
            tags[tag][len(target.tag_prefix) :].strip()
            for tag in row.get("category_id") or []
            if tag in tags and tags[tag].startswith(target.tag_prefix)
        )
        return ", ".join(classes) if classes else None

    def _tag_names(self) -> dict[int, str]:
        rows = self.client.search_read("res.partner.category", [], ["name"], context={"active_test": False})
        return {int(row["id"]): str(row["name"]) for row in rows}

    def _read_actions(self, model: str, actions: Sequence[ActionChange]) -> dict[str, Observed]:
        ids = _ids(actions)
        existing = {int(row["id"]) for row in self.client.read(model, ids, ["id"])}
        marked: dict[tuple[int, str], set[str]] = defaultdict(set)
        messages = self.client.search_read(
            "mail.message",
            [("model", "=", model), ("res_id", "in", ids), ("body", "ilike", "erp-recovery")],
            ["res_id", "body"],
        )
        activities = self.client.search_read(
            "mail.activity",
            [("res_model", "=", model), ("res_id", "in", ids), ("note", "ilike", "erp-recovery")],
            ["res_id", "note"],
            context={"active_test": False},  # Odoo 17+ archives done activities of "keep done" types
        )
        for row, text in [(m, m.get("body")) for m in messages] + [(a, a.get("note")) for a in activities]:
            for part, key in _MARKER.findall(html.unescape(str(text or ""))):
                marked[(int(row["res_id"]), key)].add(part)
        dunning = self.settings.dunning
        observed = {}
        for action in actions:
            rid = _record_id(action)
            if rid is None or rid not in existing:
                continue
            parts = marked.get((rid, action.idempotency_key), set())
            activity_done = "activity" in parts or not (dunning and dunning.activity)
            message_done = "message" in parts or not (dunning and dunning.message)
            self._parts[action.slot] = (activity_done, message_done)
            observed[action.slot] = Observed(done=activity_done and message_done, where=f"{model} {rid}")
        return observed

    # -- writing -----------------------------------------------------------------------------------

    def write(self, changes: Sequence[Change]) -> None:
        if not changes:
            return
        for change in changes:
            self._check(change)
        first = changes[0]
        if isinstance(first, ActionChange):
            self._write_dunning(self._model(first), [c for c in changes if isinstance(c, ActionChange)])
            return
        fields = [c for c in changes if isinstance(c, FieldChange)]
        if {(c.field, repr(c.new)) for c in fields} != {(first.field, repr(first.new))}:
            raise ValueError("write() takes changes of one field and one new value")
        ids = _ids(fields)
        values = self._values(first)
        self.client.write("res.partner", ids, values)

    def _values(self, change: FieldChange) -> dict[str, Any]:
        if change.field == "credit_limit":
            has_flag = "use_partner_credit_limit" in self.client.fields("res.partner")
            if change.new is None:
                return {"use_partner_credit_limit": False} if has_flag else {"credit_limit": Decimal(0)}
            if not isinstance(change.new, Money):
                raise RemoteError(f"a credit limit is an amount with its currency, got {change.new!r}")
            company = self.connector.company()
            if change.new.currency != company.currency:
                raise RemoteError(
                    f"credit limit in {change.new.currency}, but Odoo company {company.name} keeps credit limits "
                    f"in {company.currency}: convert it before planning"
                )
            values: dict[str, Any] = {"credit_limit": change.new.amount}
            if has_flag:
                values["use_partner_credit_limit"] = True
            return values
        if change.field == "trust":
            return {"trust": change.new if change.new is not None else "normal"}
        if change.field == "dunning_next_action":
            return {str(self.settings.dunning_next_action): change.new if change.new is not None else False}
        target = self._classification(change.field)
        assert target is not None
        if target.mode == "field":
            return {str(target.field): change.new if change.new is not None else False}
        tags = self._tag_names()
        prefixed = {tag_id for tag_id, name in tags.items() if name.startswith(target.tag_prefix)}
        commands: list[Any] = []
        keep: int | None = None
        if change.new is not None:
            wanted = f"{target.tag_prefix}{change.new}"
            keep = next((tag_id for tag_id, name in tags.items() if name == wanted), None)
            if keep is None:
                keep = self.client.create("res.partner.category", [{"name": wanted}])[0]
        commands += [(3, tag_id) for tag_id in sorted(prefixed) if tag_id != keep]
        if keep is not None:
            commands.append((4, keep))
        return {"category_id": commands}

    def _lookup_id(self, model: str, domain: list[Any], what: str) -> int:
        rows = self.client.search_read(model, domain, ["id"], limit=1, context={"active_test": False})
        if not rows:
            raise ConfigError(f"Odoo has no {what}")
        return int(rows[0]["id"])

    def _write_dunning(self, model: str, actions: Sequence[ActionChange]) -> None:
        dunning = self.settings.dunning
        assert dunning is not None
        missing_parts = {a.slot: self._parts.get(a.slot) for a in actions}
        if any(parts is None for parts in missing_parts.values()):
            self._read_actions(model, actions)
        activities = []
        if dunning.activity:
            if self._activity_type is None:
                self._activity_type = self._lookup_id(
                    "mail.activity.type", [("name", "=", dunning.activity_type)],
                    f"activity type {dunning.activity_type!r} (writeback.dunning.activity_type)",
                )  # fmt: skip
            if model not in self._model_ids:
                self._model_ids[model] = self._lookup_id(
                    "ir.model", [("model", "=", model)], f"model {model}"
                )
            today = dt.date.today()
            for action in actions:
                if self._parts.get(action.slot, (False, False))[0]:
                    continue
                params = action.params
                deadline = str(
                    params.get("deadline") or (today + dt.timedelta(days=dunning.deadline_days)).isoformat()
                )
                text = str(params.get("note") or params.get("message") or params.get("summary") or "")
                note = f"<p>{html.escape(text)}</p>" if text else ""
                activities.append(
                    {
                        "res_model_id": self._model_ids[model],
                        "res_id": _record_id(action),
                        "activity_type_id": self._activity_type,
                        "summary": str(
                            params.get("summary") or f"Dunning step {params.get('level', '')}".strip()
                        ),
                        "note": f"{note}<p>erp-recovery activity {action.idempotency_key}</p>",
                        "date_deadline": deadline,
                        "user_id": self._user(
                            str(params["user"]) if params.get("user") else dunning.responsible_login
                        ),
                    }
                )
        if activities:
            self.client.create("mail.activity", activities)
            for action in actions:
                done = self._parts.get(action.slot, (False, False))
                self._parts[action.slot] = (True, done[1])
        if dunning.message:
            subtype = "mail.mt_note" if dunning.message_kind == "note" else "mail.mt_comment"
            for action in actions:
                if self._parts.get(action.slot, (False, False))[1]:
                    continue
                params = action.params
                text = str(
                    params.get("message")
                    or params.get("summary")
                    or f"Dunning step {params.get('level', '')}"
                )
                self.client.call(
                    model,
                    "message_post",
                    [_record_id(action)],
                    idempotent=False,
                    body=f"{text}\n(erp-recovery message {action.idempotency_key})",
                    message_type="comment",
                    subtype_xmlid=subtype,
                )
                self._parts[action.slot] = (True, True)

    def _user(self, login: str | None) -> int:
        if not login:
            return self.client.uid()
        if login not in self._users:
            self._users[login] = self._lookup_id(
                "res.users", [("login", "=", login)], f"user with login {login!r}"
            )
        return self._users[login]
