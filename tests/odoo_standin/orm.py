"""The stand-in's in-memory ORM: records, field semantics, access rules and the RPC-visible methods.

It reproduces what a real Odoo 18 server does for the calls erp-recovery makes, with the quirks the
recordings show (``recordings/18.0/INDEX.md``):

- ``read`` of a deleted id leaves it out, no error; ``write``/``unlink``/methods on it raise
  MissingError;
- writing a computed field without inverse (``res.partner.credit``) answers ``True`` and changes
  nothing; a bad selection value or a non-number in a float field raises ``builtins.ValueError``;
- every write and every recomputation of a stored field sets ``write_date`` to the *transaction
  start* time with one-second precision (``models.py`` ``_write_multi``), so many records share a
  ``write_date`` and a transaction that commits late can carry an older one;
- ``message_post`` escapes a plain-text body (``str`` is escaped, only ``Markup`` is kept);
- methods returning ``None`` give a JSON-RPC reply without ``result`` (handled by the server);
- model access (ACL) errors list the groups that would allow the operation.
"""

from __future__ import annotations

import datetime as dt
import html
import itertools
import threading
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from .domain import DomainEvaluator
from .errors import OdooServerError, access_denied, missing
from .schema import ModelInfo, load_models

DATETIME_FORMAT = "%Y-%m-%d %H:%M:%S"
RETURNS_NONE = object()  # marker: the method returned None (the JSON-RPC reply then has no "result")

# Groups, named as Odoo 18 shows them in access error messages.
G_USER = "User types/Internal User"
G_BILLING = "Invoicing/Invoicing"
G_ACCOUNT_READONLY = "Technical/Show Accounting Features - Readonly"
G_ACCESS_RIGHTS = "Administration/Access Rights"
G_CONTACT_CREATION = "Extra Rights/Contact Creation"

_ACCOUNTING_MODELS = (
    "account.move",
    "account.move.line",
    "account.payment",
    "account.partial.reconcile",
    "account.bank.statement.line",
    "account.payment.term",
    "account.payment.term.line",
    "account.account",
    "account.journal",
)

#: model -> operation -> groups that grant it (any of them). Models not listed: internal users.
ACL: dict[str, dict[str, tuple[str, ...]]] = {
    **{
        model: {
            "read": (G_BILLING, G_ACCOUNT_READONLY),
            "write": (G_BILLING,),
            "create": (G_BILLING,),
            "unlink": (G_BILLING,),
        }
        for model in _ACCOUNTING_MODELS
    },
    "res.company": {"read": (G_USER,), **dict.fromkeys(("write", "create", "unlink"), (G_ACCESS_RIGHTS,))},
    "res.partner.category": {
        "read": (G_USER,),
        **dict.fromkeys(("write", "create", "unlink"), (G_CONTACT_CREATION,)),
    },
}

_VERBS = {"read": "access", "write": "modify", "create": "create", "unlink": "delete"}

_REQUIRED_ON_CREATE = {
    "res.partner.category": ("name",),
    "mail.activity": ("res_model_id", "date_deadline"),
    "mail.message": ("model",),
}
_READ_METHODS = {"search", "search_read", "read", "search_count", "fields_get", "name_search", "context_get"}
_RESTRICTED_ON_POSTED_MOVE = {
    "invoice_line_ids", "line_ids", "partner_id", "invoice_date", "date", "journal_id", "currency_id",
    "amount_total", "move_type",
}  # fmt: skip


@dataclass
class User:
    uid: int
    login: str
    password: str
    name: str
    groups: frozenset[str]
    partner_id: int | None = None
    api_key: str | None = None
    portal: bool = False


@dataclass
class Clock:
    """The server's clock: it moves only when told; each transaction ticks 0.25 s.

    Like PostgreSQL under Odoo, timestamps are stored with microseconds and read back to the
    second: four transactions share each second, told apart only by their stored microseconds.
    """

    current: dt.datetime = field(default_factory=lambda: dt.datetime(2026, 11, 22, 10, 0, 0))

    def tick(self, seconds: float = 0.25) -> str:
        self.current += dt.timedelta(seconds=seconds)
        return self.stamp()

    def stamp(self) -> str:
        """The stored form, with microseconds (compared and sorted as PostgreSQL does)."""
        return self.current.strftime(DATETIME_FORMAT + ".%f")

    def now(self) -> str:
        return self.current.strftime(DATETIME_FORMAT)

    def today(self) -> str:
        return self.current.date().isoformat()


@dataclass
class CallLog:
    service: str
    model: str | None
    method: str
    uid: int | None


class StandinDatabase:
    """One Odoo database held in memory. Thread-safe: every public call takes the lock."""

    def __init__(self, name: str = "erp_test") -> None:
        self.name = name
        self.models: dict[str, ModelInfo] = load_models()
        self.records: dict[str, dict[int, dict[str, Any]]] = defaultdict(dict)
        self.sequences: dict[str, itertools.count[int]] = {}
        self.users: dict[int, User] = {}
        self.clock = Clock()
        self.lock = threading.RLock()
        self.calls: list[CallLog] = []
        self._evaluator = DomainEvaluator(self)
        self._inverse_cache: dict[tuple[str, str], dict[int, list[int]]] = {}
        self._computed: dict[tuple[str, str], Callable[[int], Any]] = self._computed_fields()
        #: Called with (uid, model, method, args, kwargs) before each object call (tests use it to
        #: play a person editing Odoo while erp-recovery works).
        self.before_call: Callable[[int, str, str, list[Any], dict[str, Any]], None] | None = None

    # -- metadata ---------------------------------------------------------------------------------

    def model(self, name: str) -> ModelInfo:
        info = self.models.get(name)
        if info is None:
            raise OdooServerError("odoo.exceptions.UserError", f"Object {name} doesn't exist")
        return info

    def field(self, model: str, name: str) -> dict[str, Any] | None:
        info = self.models.get(model)
        return None if info is None else info.fields.get(name)

    def next_id(self, model: str, start: int = 1) -> int:
        counter = self.sequences.get(model)
        if counter is None:
            existing = max(self.records[model], default=start - 1)
            counter = itertools.count(max(existing + 1, start))
            self.sequences[model] = counter
        return next(counter)

    # -- raw values (stored or computed) ---------------------------------------------------------

    def raw_value(self, model: str, rid: int, name: str) -> Any:
        compute = self._computed.get((model, name))
        if compute is not None:
            return compute(rid)
        record = self.records[model].get(rid)
        if record is None:
            return False
        if name == "id":
            return rid
        if name in record:
            return record[name]
        ftype = (self.field(model, name) or {}).get("type")
        if ftype in ("one2many", "many2many"):
            return []
        if ftype in ("integer", "many2one_reference"):
            return 0
        if ftype in ("float", "monetary"):
            return 0.0
        return False

    def display_name(self, model: str, rid: int) -> str:
        record = self.records[model].get(rid, {})
        if model == "res.partner":
            name = record.get("name") or ""
            parent = record.get("parent_id")
            if parent and not record.get("is_company"):
                return f"{self.display_name('res.partner', parent)}, {name}"
            return str(name)
        if model == "account.move":
            name = record.get("name") or "/"
            if record.get("state") == "draft" and name == "/":
                return "Draft Invoice"
            return f"{name} ({record['ref']})" if record.get("ref") else str(name)
        if model == "account.account":
            return f"{record.get('code')} {record.get('name')}"
        if model == "res.partner.category":
            parent = record.get("parent_id")
            prefix = f"{self.display_name(model, parent)} / " if parent else ""
            return f"{prefix}{record.get('name')}"
        if model == "account.move.line":
            return str(self.records["account.move"].get(record.get("move_id"), {}).get("name", ""))
        if model == "mail.activity":
            return str(record.get("summary") or "")
        return str(record.get("name") or record.get("model") or f"{model},{rid}")

    def _children(self, model: str, inverse: str) -> dict[int, list[int]]:
        key = (model, inverse)
        index = self._inverse_cache.get(key)
        if index is None:
            index = defaultdict(list)
            for rid, record in self.records[model].items():
                parent = record.get(inverse)
                if parent:
                    index[parent].append(rid)
            self._inverse_cache[key] = index
        return index

    def _invalidate(self, model: str) -> None:
        for key in [key for key in self._inverse_cache if key[0] == model]:
            del self._inverse_cache[key]

    def _commercial_partner(self, rid: int) -> int:
        seen = set()
        current = rid
        while current and current not in seen:
            seen.add(current)
            record = self.records["res.partner"].get(current, {})
            parent = record.get("parent_id")
            if record.get("is_company") or not parent:
                return current
            current = parent
        return rid

    def _partner_balance(self, rid: int) -> float:
        total = 0.0
        lines = self.records["account.move.line"]
        moves = self.records["account.move"]
        accounts = self.records["account.account"]
        for line in lines.values():
            if not line.get("partner_id") or self._commercial_partner(line["partner_id"]) != rid:
                continue
            if accounts.get(line.get("account_id"), {}).get("account_type") != "asset_receivable":
                continue
            if moves.get(line.get("move_id"), {}).get("state") != "posted":
                continue
            total += line.get("amount_residual", 0.0)
        return round(total, 2)

    def _activity_state(self, rid: int) -> str:
        deadline = self.records["mail.activity"][rid].get("date_deadline")
        today = self.clock.today()
        if deadline < today:
            return "overdue"
        return "today" if deadline == today else "planned"

    def _computed_fields(self) -> dict[tuple[str, str], Callable[[int], Any]]:
        rec = self.records

        def related(model: str, via: str, target_model: str, target_field: str) -> Callable[[int], Any]:
            def compute(rid: int) -> Any:
                other = rec[model].get(rid, {}).get(via)
                return rec[target_model].get(other, {}).get(target_field, False) if other else False

            return compute

        def children(model: str, inverse: str) -> Callable[[int], Any]:
            return lambda rid: sorted(self._children(model, inverse).get(rid, []))

        return {
            ("res.partner", "commercial_partner_id"): self._commercial_partner,
            ("res.partner", "child_ids"): children("res.partner", "parent_id"),
            ("res.partner", "bank_ids"): children("res.partner.bank", "partner_id"),
            ("res.partner", "credit"): lambda rid: max(self._partner_balance(rid), 0.0),
            ("res.partner", "debit"): lambda rid: 0.0,
            ("res.partner", "display_name"): lambda rid: self.display_name("res.partner", rid),
            ("res.partner", "complete_name"): lambda rid: self.display_name("res.partner", rid),
            ("res.partner", "country_code"): related("res.partner", "country_id", "res.country", "code"),
            ("res.partner", "invoice_ids"): children("account.move", "partner_id"),
            ("res.partner.category", "partner_ids"): lambda rid: sorted(
                pid for pid, p in rec["res.partner"].items() if rid in p.get("category_id", [])
            ),
            ("res.partner.category", "display_name"): lambda rid: self.display_name(
                "res.partner.category", rid
            ),
            ("account.move", "line_ids"): children("account.move.line", "move_id"),
            ("account.move", "commercial_partner_id"): lambda rid: (
                self._commercial_partner(rec["account.move"][rid]["partner_id"])
                if rec["account.move"].get(rid, {}).get("partner_id")
                else False
            ),
            ("account.move", "display_name"): lambda rid: self.display_name("account.move", rid),
            ("account.move.line", "account_type"): related(
                "account.move.line", "account_id", "account.account", "account_type"
            ),
            ("account.move.line", "parent_state"): related(
                "account.move.line", "move_id", "account.move", "state"
            ),
            ("account.move.line", "move_type"): related(
                "account.move.line", "move_id", "account.move", "move_type"
            ),
            ("account.move.line", "move_name"): related(
                "account.move.line", "move_id", "account.move", "name"
            ),
            ("account.move.line", "matched_debit_ids"): children(
                "account.partial.reconcile", "credit_move_id"
            ),
            ("account.move.line", "matched_credit_ids"): children(
                "account.partial.reconcile", "debit_move_id"
            ),
            ("account.move.line", "statement_line_id"): related(
                "account.move.line", "move_id", "account.move", "statement_line_id"
            ),
            ("account.payment.term", "line_ids"): children("account.payment.term.line", "payment_id"),
            ("mail.activity", "res_model"): related("mail.activity", "res_model_id", "ir.model", "model"),
            ("mail.activity", "state"): self._activity_state,
        }

    # -- users and access ------------------------------------------------------------------------

    def add_user(self, user: User) -> None:
        self.users[user.uid] = user

    def check_credentials(self, uid: Any, password: Any) -> User:
        user = self.users.get(uid) if isinstance(uid, int) else None
        if user is None or password not in (user.password, user.api_key):
            raise access_denied()
        return user

    def login(self, login: str, password: str) -> int | bool:
        for user in self.users.values():
            if user.login == login and password in (user.password, user.api_key):
                return user.uid
        return False

    def user_for_api_key(self, api_key: str) -> User | None:
        return next((u for u in self.users.values() if u.api_key and u.api_key == api_key), None)

    def _check_access(self, user: User, model: str, operation: str, ids: Sequence[int] = ()) -> None:
        if user.portal:
            if model == "res.partner":
                if any(rid != user.partner_id for rid in ids) or operation != "read":
                    raise OdooServerError(
                        "odoo.exceptions.AccessError",
                        "Uh-oh! Looks like you have stumbled upon some top-secret records.\n\n"
                        f"Sorry, {user.name} (id={user.uid}) doesn't have 'read' access to:\n"
                        f"- {self.model(model).description} ({model})\n\n"
                        "If you really, really need access, perhaps you can win over your friendly "
                        "administrator with a batch of freshly baked cookies.",
                    )
                return
            self._acl_error(model, operation, ACL.get(model, {}).get(operation, (G_USER,)))
        allowed = ACL.get(model, {}).get(operation, (G_USER,))
        if not set(allowed) & user.groups:
            self._acl_error(model, operation, allowed)

    def _acl_error(self, model: str, operation: str, groups: Iterable[str]) -> None:
        listed = "".join(f"\n\t- {group}" for group in groups)
        raise OdooServerError(
            "odoo.exceptions.AccessError",
            f"You are not allowed to {_VERBS[operation]} '{self.model(model).description}' ({model}) records."
            f"\n\nThis operation is allowed for the following groups:{listed}"
            "\n\nContact your administrator to request access if necessary.",
        )

    # -- the RPC entry point ---------------------------------------------------------------------

    def execute_kw(
        self, uid: Any, password: Any, model: str, method: str, args: list[Any], kwargs: dict[str, Any]
    ) -> Any:
        with self.lock:
            user = self.check_credentials(uid, password)
            return self.execute_as(user, model, method, list(args or []), dict(kwargs or {}))

    def execute_as(self, user: User, model: str, method: str, args: list[Any], kwargs: dict[str, Any]) -> Any:
        with self.lock:
            self.calls.append(CallLog("object", model, method, user.uid))
            if self.before_call is not None:
                hook, self.before_call = self.before_call, None
                try:
                    hook(user.uid, model, method, args, kwargs)
                finally:
                    if self.before_call is None:
                        self.before_call = hook
            info = self.model(model)
            if method.startswith("_"):
                raise OdooServerError(
                    "odoo.exceptions.AccessError",
                    f"Private methods (such as '{model}.{method}') cannot be called remotely.",
                )
            handler = getattr(self, f"_rpc_{method}", None)
            if handler is None:
                raise OdooServerError(
                    "builtins.AttributeError", f"The method '{model}.{method}' does not exist"
                )
            context = kwargs.pop("context", None) or {}
            operation = (
                "read"
                if method in _READ_METHODS
                else "create"
                if method == "create"
                else ("unlink" if method == "unlink" else "write")
            )
            ids = (
                args[0]
                if args and isinstance(args[0], list) and all(isinstance(i, int) for i in args[0])
                else []
            )
            if method != "fields_get":
                self._check_access(
                    user,
                    model,
                    operation,
                    ids if method not in ("search", "search_read", "search_count", "create") else (),
                )
            return handler(user, info, args, kwargs, context)

    # -- ORM methods -------------------------------------------------------------------------------

    @staticmethod
    def _take(
        args: list[Any], kwargs: dict[str, Any], names: Sequence[str], defaults: dict[str, Any]
    ) -> list[Any]:
        values = []
        for index, name in enumerate(names):
            if index < len(args):
                values.append(args[index])
            else:
                values.append(kwargs.get(name, defaults.get(name)))
        return values

    def search(
        self,
        model: str,
        domain: Sequence[Any],
        offset: int = 0,
        limit: int | None = None,
        order: str | None = None,
        context: dict[str, Any] | None = None,
    ) -> list[int]:
        info = self.model(model)
        context = context or {}
        domain = list(domain or [])
        if (
            info.has_active
            and context.get("active_test", True)
            and not any(isinstance(leaf, list | tuple) and leaf and leaf[0] == "active" for leaf in domain)
        ):
            domain = [("active", "=", True), *domain]
        ids = self._evaluator.filter(model, list(self.records[model]), domain)
        ids = self._sorted(model, ids, order or info.order)
        if offset:
            ids = ids[offset:]
        if limit:
            ids = ids[:limit]
        return ids

    def _sorted(self, model: str, ids: list[int], order: str) -> list[int]:
        result = list(ids)
        terms = [term.strip().split() for term in order.split(",") if term.strip()]
        for term in reversed(terms):
            name = term[0]
            descending = len(term) > 1 and term[1].lower() == "desc"
            spec = self.field(model, name)
            if spec is None:
                raise OdooServerError("builtins.ValueError", f"Invalid field {name!r} on model {model!r}")

            def key(rid: int, name: str = name, spec: dict[str, Any] = spec) -> tuple[int, Any]:
                value = rid if name == "id" else self.raw_value(model, rid, name)
                if spec["type"] == "many2one" and value:
                    value = self.display_name(spec["relation"], value)
                if value is False or value is None:
                    return (1, "")
                return (0, value)

            present = [rid for rid in result if key(rid)[0] == 0]
            absent = [rid for rid in result if key(rid)[0] == 1]
            present.sort(key=lambda rid: key(rid)[1], reverse=descending)
            # PostgreSQL: NULLS LAST when ascending, NULLS FIRST when descending.
            result = absent + present if descending else present + absent
        return result

    def read(
        self, model: str, ids: Sequence[int], fields: Sequence[str] | None = None
    ) -> list[dict[str, Any]]:
        info = self.model(model)
        names = (
            list(fields)
            if fields
            else [name for name in info.fields if info.fields[name]["type"] != "binary"]
        )
        for name in names:
            if name not in info.fields:
                raise OdooServerError("builtins.ValueError", f"Invalid field {name!r} on model {model!r}")
        result = []
        for rid in ids:
            if rid not in self.records[model]:
                continue  # Odoo quirk: deleted ids are left out, no error
            row: dict[str, Any] = {"id": rid}
            for name in names:
                if name == "id":
                    continue
                row[name] = self._output(model, rid, name, info.fields[name])
            result.append(row)
        return result

    def _output(self, model: str, rid: int, name: str, spec: dict[str, Any]) -> Any:
        value = self.raw_value(model, rid, name)
        ftype = spec["type"]
        if ftype == "many2one":
            return [value, self.display_name(spec["relation"], value)] if value else False
        if ftype == "datetime":
            return value[:19] if value else False  # Odoo reads datetimes to the second
        if ftype in ("one2many", "many2many"):
            return list(value or [])
        if ftype in ("float", "monetary"):
            return float(value or 0.0)
        if ftype == "integer":
            return int(value or 0)
        if ftype == "boolean":
            return bool(value)
        return value if value is not None else False

    def _coerce(self, model: str, name: str, spec: dict[str, Any], value: Any, current: Any) -> Any:
        ftype = spec["type"]
        if ftype in ("float", "monetary"):
            if value is False or value is None:
                return 0.0
            try:
                return float(value)
            except (TypeError, ValueError):
                raise OdooServerError(
                    "builtins.ValueError", f"could not convert string to float: {value!r}"
                ) from None
        if ftype == "integer":
            return int(value or 0)
        if ftype == "boolean":
            return bool(value)
        if ftype == "selection":
            if value is False or value is None:
                return False
            options = [option[0] for option in spec.get("selection", [])]
            if options and value not in options:
                raise OdooServerError("builtins.ValueError", f"Wrong value for {model}.{name}: {value!r}")
            return value
        if ftype == "many2one":
            if isinstance(value, list | tuple):
                value = value[0] if value else False
            return int(value) if value else False
        if ftype in ("one2many", "many2many"):
            return self._x2many_commands(spec, list(current or []), value)
        if ftype in ("char", "text", "html", "date", "datetime"):
            return value if value not in (None,) else False
        return value

    def _x2many_commands(self, spec: dict[str, Any], current: list[int], commands: Any) -> list[int]:
        result = list(current)
        if commands and all(isinstance(item, int) for item in commands):
            return list(commands)
        for command in commands or []:
            code = command[0]
            if code == 0:
                result.append(self.create(spec["relation"], [command[2]])[0])
            elif code == 1:
                self.write(spec["relation"], [command[1]], command[2])
            elif code in (2, 3):
                result = [i for i in result if i != command[1]]
            elif code == 4:
                if command[1] not in result:
                    result.append(command[1])
            elif code == 5:
                result = []
            elif code == 6:
                result = list(command[2])
        return result

    def write(
        self,
        model: str,
        ids: Sequence[int],
        vals: dict[str, Any],
        uid: int = 2,
        write_date: str | None = None,
        force: bool = False,
    ) -> bool:
        """Write like Odoo's ``write``.

        ``write_date`` lets a test play a transaction that started earlier and commits late;
        ``force`` lets a test set a stored field the UI shows read-only (``state``, residuals), as
        Odoo's own business methods do.
        """
        with self.lock:
            info = self.model(model)
            missing_ids = [rid for rid in ids if rid not in self.records[model]]
            if missing_ids:
                raise missing(model, missing_ids, uid)
            for name in vals:
                if name not in info.fields:
                    raise OdooServerError("builtins.ValueError", f"Invalid field {name!r} on model {model!r}")
            if model == "account.move":
                for rid in ids:
                    if self.records[model][rid].get("state") == "posted":
                        restricted = sorted(set(vals) & _RESTRICTED_ON_POSTED_MOVE)
                        if restricted:
                            raise OdooServerError(
                                "odoo.exceptions.UserError",
                                "You cannot modify the following readonly fields on a posted move: "
                                + ", ".join(restricted),
                            )
            if model == "res.partner" and "parent_id" in vals:
                for rid in ids:
                    parent = vals["parent_id"]
                    seen = {rid}
                    while parent:
                        if parent in seen:
                            raise OdooServerError(
                                "odoo.exceptions.ValidationError",
                                "You cannot create recursive Partner hierarchies.",
                            )
                        seen.add(parent)
                        parent = self.records["res.partner"].get(parent, {}).get("parent_id")
            stamp = write_date or self.clock.tick()
            for rid in ids:
                record = self.records[model][rid]
                changed = False
                for name, value in vals.items():
                    spec = info.fields[name]
                    if (model, name) in self._computed or (spec.get("readonly") and not force):
                        continue  # Odoo quirk: a computed field without inverse is silently ignored
                    record[name] = self._coerce(model, name, spec, value, record.get(name))
                    changed = True
                if model == "res.partner":
                    self._credit_limit_semantics(record, vals)
                if changed:
                    record["write_date"] = stamp
                    record["write_uid"] = uid
            self._invalidate(model)
            return True

    @staticmethod
    def _credit_limit_semantics(record: dict[str, Any], vals: dict[str, Any]) -> None:
        # account/models/partner.py: use_partner_credit_limit is computed as
        # "credit_limit differs from the company default (0.0)", its inverse resets the limit.
        if "use_partner_credit_limit" in vals and not vals["use_partner_credit_limit"]:
            record["credit_limit"] = 0.0
        record["use_partner_credit_limit"] = record.get("credit_limit", 0.0) != 0.0

    def create(self, model: str, vals_list: list[dict[str, Any]], uid: int = 2) -> list[int]:
        with self.lock:
            info = self.model(model)
            created = []
            stamp = self.clock.tick()
            for vals in vals_list:
                for name in vals:
                    if name not in info.fields:
                        raise OdooServerError(
                            "builtins.ValueError", f"Invalid field {name!r} on model {model!r}"
                        )
                for name in _REQUIRED_ON_CREATE.get(model, ()):
                    if not vals.get(name):
                        spec = info.fields[name]
                        raise OdooServerError(
                            "odoo.exceptions.ValidationError",
                            "The operation cannot be completed:\n- Create/update: a mandatory field is not set.\n"
                            "- Delete: another model requires the record being deleted. If possible, archive it "
                            f"instead.\n\nModel: {info.description} ({model})\nField: {spec.get('string', name)} ({name})",
                        )
                rid = self.next_id(model)
                record: dict[str, Any] = {
                    "create_date": stamp,
                    "write_date": stamp,
                    "create_uid": uid,
                    "write_uid": uid,
                }
                if info.has_active:
                    record["active"] = True
                if model == "mail.activity":
                    record.setdefault("user_id", uid)
                for name, value in vals.items():
                    spec = info.fields[name]
                    if (model, name) in self._computed:
                        continue
                    record[name] = self._coerce(model, name, spec, value, [])
                self.records[model][rid] = record
                created.append(rid)
            self._invalidate(model)
            return created

    def unlink(self, model: str, ids: Sequence[int], uid: int = 2) -> bool:
        with self.lock:
            missing_ids = [rid for rid in ids if rid not in self.records[model]]
            if missing_ids:
                raise missing(model, missing_ids, uid)
            if model == "account.move" and any(
                self.records[model][rid].get("state") == "posted" for rid in ids
            ):
                raise OdooServerError(
                    "odoo.exceptions.UserError",
                    "You can't delete a posted journal item. Don’t play games with your accounting records; "
                    "reset the journal entry to draft before deleting it.",
                )
            for rid in ids:
                del self.records[model][rid]
            self._invalidate(model)
            return True

    def post_message(
        self, model: str, rid: int, body: str, uid: int = 2, message_type: str = "comment"
    ) -> int:
        with self.lock:
            author = self.users[uid].partner_id if uid in self.users else False
            return self.create(
                "mail.message",
                [
                    {
                        "model": model,
                        "res_id": rid,
                        "body": body,
                        "message_type": message_type,
                        "author_id": author or False,
                        "date": self.clock.now(),
                    }
                ],
                uid=uid,
            )[0]

    # -- RPC method handlers: (user, model info, args, kwargs, context) -> result -------------------

    def _rpc_search(
        self, user: User, info: ModelInfo, args: list[Any], kwargs: dict[str, Any], context: dict[str, Any]
    ) -> Any:
        domain, offset, limit, order = self._take(
            args, kwargs, ("domain", "offset", "limit", "order"), {"offset": 0}
        )
        return self.search(info.name, domain or [], offset or 0, limit or None, order or None, context)

    def _rpc_search_count(
        self, user: User, info: ModelInfo, args: list[Any], kwargs: dict[str, Any], context: dict[str, Any]
    ) -> Any:
        (domain,) = self._take(args, kwargs, ("domain",), {})
        return len(self.search(info.name, domain or [], context=context))

    def _rpc_search_read(
        self, user: User, info: ModelInfo, args: list[Any], kwargs: dict[str, Any], context: dict[str, Any]
    ) -> Any:
        domain, fields, offset, limit, order = self._take(
            args, kwargs, ("domain", "fields", "offset", "limit", "order"), {"offset": 0}
        )
        ids = self.search(info.name, domain or [], offset or 0, limit or None, order or None, context)
        return self.read(info.name, ids, fields or None)

    def _rpc_read(
        self, user: User, info: ModelInfo, args: list[Any], kwargs: dict[str, Any], context: dict[str, Any]
    ) -> Any:
        ids, fields = self._take(args, kwargs, ("ids", "fields"), {})
        if isinstance(ids, int):
            ids = [ids]
        return self.read(info.name, ids or [], fields or None)

    def _rpc_write(
        self, user: User, info: ModelInfo, args: list[Any], kwargs: dict[str, Any], context: dict[str, Any]
    ) -> Any:
        ids, vals = self._take(args, kwargs, ("ids", "vals"), {})
        if isinstance(ids, int):
            ids = [ids]
        return self.write(info.name, ids, vals or {}, uid=user.uid)

    def _rpc_create(
        self, user: User, info: ModelInfo, args: list[Any], kwargs: dict[str, Any], context: dict[str, Any]
    ) -> Any:
        (vals,) = self._take(args, kwargs, ("vals_list",), {})
        if isinstance(vals, dict):
            return self.create(info.name, [vals], uid=user.uid)[0]
        return self.create(info.name, list(vals or []), uid=user.uid)

    def _rpc_unlink(
        self, user: User, info: ModelInfo, args: list[Any], kwargs: dict[str, Any], context: dict[str, Any]
    ) -> Any:
        (ids,) = self._take(args, kwargs, ("ids",), {})
        return self.unlink(info.name, ids or [], uid=user.uid)

    def _rpc_fields_get(
        self, user: User, info: ModelInfo, args: list[Any], kwargs: dict[str, Any], context: dict[str, Any]
    ) -> Any:
        allfields, attributes = self._take(args, kwargs, ("allfields", "attributes"), {})
        names = allfields or list(info.fields)
        result = {}
        for name in names:
            spec = info.fields.get(name)
            if spec is None:
                continue
            result[name] = {key: value for key, value in spec.items() if not attributes or key in attributes}
        return result

    def _rpc_message_post(
        self, user: User, info: ModelInfo, args: list[Any], kwargs: dict[str, Any], context: dict[str, Any]
    ) -> Any:
        if not info.mail_thread:
            raise OdooServerError(
                "builtins.AttributeError", f"The method '{info.name}.message_post' does not exist"
            )
        ids = args[0] if args else kwargs.get("ids", [])
        if isinstance(ids, int):
            ids = [ids]
        if len(ids) != 1:
            raise OdooServerError(
                "builtins.ValueError", f"Expected singleton: {info.name}({', '.join(map(str, ids))},)"
            )
        if ids[0] not in self.records[info.name]:
            raise missing(info.name, ids, user.uid)
        body = kwargs.get("body", args[1] if len(args) > 1 else "")
        # mail.thread.message_post: a str body is escaped, only Markup is kept as HTML.
        escaped = html.escape(str(body or ""), quote=False)
        return self.post_message(
            info.name, ids[0], escaped, uid=user.uid, message_type=kwargs.get("message_type", "notification")
        )

    def _rpc_action_feedback(
        self, user: User, info: ModelInfo, args: list[Any], kwargs: dict[str, Any], context: dict[str, Any]
    ) -> Any:
        if info.name != "mail.activity":
            raise OdooServerError(
                "builtins.AttributeError", f"The method '{info.name}.action_feedback' does not exist"
            )
        ids = args[0]
        missing_ids = [rid for rid in ids if rid not in self.records["mail.activity"]]
        if missing_ids:
            raise missing(info.name, missing_ids, user.uid)
        feedback = kwargs.get("feedback") or ""
        message_id = False
        for rid in ids:
            activity = self.records["mail.activity"][rid]
            model = self.raw_value("mail.activity", rid, "res_model")
            body = (
                f"{activity.get('summary') or ''} done {activity.get('note') or ''} {html.escape(feedback)}"
            )
            message_id = self.post_message(
                model, activity["res_id"], body, uid=user.uid, message_type="notification"
            )
            del self.records["mail.activity"][rid]
        self._invalidate("mail.activity")
        return message_id

    def _rpc_action_archive(
        self, user: User, info: ModelInfo, args: list[Any], kwargs: dict[str, Any], context: dict[str, Any]
    ) -> Any:
        self.write(info.name, args[0], {"active": False}, uid=user.uid)
        return RETURNS_NONE

    def _rpc_action_unarchive(
        self, user: User, info: ModelInfo, args: list[Any], kwargs: dict[str, Any], context: dict[str, Any]
    ) -> Any:
        missing_ids = [rid for rid in args[0] if rid not in self.records[info.name]]
        if missing_ids:
            raise missing(info.name, missing_ids, user.uid)
        inactive = [rid for rid in args[0] if not self.records[info.name][rid].get("active", True)]
        if inactive:
            self.write(info.name, inactive, {"active": True}, uid=user.uid)
        return RETURNS_NONE

    def _rpc_context_get(
        self, user: User, info: ModelInfo, args: list[Any], kwargs: dict[str, Any], context: dict[str, Any]
    ) -> Any:
        return {"lang": "en_US", "tz": "Europe/Brussels", "uid": user.uid}
