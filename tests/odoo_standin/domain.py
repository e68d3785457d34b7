"""Evaluation of Odoo search domains over the stand-in's in-memory records.

Follows the semantics of Odoo 18 ``odoo/osv/expression.py`` for what the connector and the tests
use: prefix operators ``&``, ``|``, ``!`` (implicit ``&`` between terms), leaves
``(path, operator, value)`` with dotted paths through many2one and x2many fields (x2many paths
match when *any* related record matches), the operators ``= != < <= > >= in not in like ilike
not like not ilike =like =ilike any not any child_of``, ``False`` as "not set", and the
constant leaves ``(1, '=', 1)`` / ``(0, '=', 1)``. An unknown field raises the same
``ValueError`` text as Odoo ("Invalid field res.partner.x in leaf ('x', '=', 1)").
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

from .errors import OdooServerError

TRUE_LEAF = (1, "=", 1)
FALSE_LEAF = (0, "=", 1)
OPERATORS = {
    "=", "!=", "<", "<=", ">", ">=", "in", "not in", "like", "ilike", "not like", "not ilike",
    "=like", "=ilike", "any", "not any", "child_of", "=?",
}  # fmt: skip

#: (model, field) -> field description (type, relation) and record access, provided by the database.
FieldLookup = Callable[[str, str], dict[str, Any] | None]
ValueLookup = Callable[[str, int, str], Any]


def _leaf_repr(leaf: Sequence[Any]) -> str:
    return "(" + ", ".join(repr(part) for part in leaf) + ")"


def _like_regex(pattern: str, wrap: bool, case_insensitive: bool) -> re.Pattern[str]:
    body = "".join(".*" if ch == "%" else "." if ch == "_" else re.escape(ch) for ch in pattern)
    if wrap:
        body = f".*{body}.*"
    return re.compile(f"^{body}$", re.DOTALL | (re.IGNORECASE if case_insensitive else 0))


class DomainEvaluator:
    """Evaluates a domain on records of one model of a stand-in database."""

    def __init__(self, db: Any) -> None:
        self.db = db

    def filter(self, model: str, ids: Sequence[int], domain: Sequence[Any]) -> list[int]:
        tree = self._parse(model, list(domain))
        return [rid for rid in ids if self._eval(model, rid, tree)]

    # -- parsing: prefix notation to a tree ------------------------------------------------------

    def _parse(self, model: str, domain: list[Any]) -> Any:
        if not domain:
            return ("const", True)
        items = list(domain)
        position = 0

        def parse_one() -> Any:
            nonlocal position
            if position >= len(items):
                raise OdooServerError("builtins.ValueError", f"Invalid domain: {domain!r}")
            item = items[position]
            position += 1
            if item == "&" or item == "|":
                left = parse_one()
                right = parse_one()
                return (item, left, right)
            if item == "!":
                return ("!", parse_one())
            return self._leaf(model, item)

        terms = []
        while position < len(items):
            terms.append(parse_one())
        tree = terms[0]
        for term in terms[1:]:
            tree = ("&", tree, term)
        return tree

    def _leaf(self, model: str, leaf: Any) -> Any:
        if not isinstance(leaf, list | tuple) or len(leaf) != 3:
            raise OdooServerError("builtins.ValueError", f"Invalid leaf {leaf!r}")
        path, operator, value = leaf
        if (path, operator, value) in (TRUE_LEAF, FALSE_LEAF):
            return ("const", path == 1)
        operator = str(operator).lower()
        if operator not in OPERATORS:
            raise OdooServerError("builtins.ValueError", f"Invalid leaf {_leaf_repr(leaf)}")
        if not isinstance(path, str):
            raise OdooServerError("builtins.ValueError", f"Invalid leaf {_leaf_repr(leaf)}")
        # Validate the path now, so an unknown field fails even on an empty table.
        current = model
        parts = path.split(".")
        for index, name in enumerate(parts):
            field = self.db.field(current, name)
            if field is None:
                raise OdooServerError(
                    "builtins.ValueError", f"Invalid field {current}.{name} in leaf {_leaf_repr(leaf)}"
                )
            if index < len(parts) - 1:
                if not field.get("relation"):
                    raise OdooServerError(
                        "builtins.ValueError", f"Invalid field {current}.{name} in leaf {_leaf_repr(leaf)}"
                    )
                current = field["relation"]
        if operator in ("any", "not any"):
            relation = self.db.field(current, parts[-1]).get("relation")
            value = self._parse(relation, list(value))
        return ("leaf", parts, operator, value)

    # -- evaluation ------------------------------------------------------------------------------

    def _eval(self, model: str, rid: int, node: Any) -> bool:
        kind = node[0]
        if kind == "const":
            return bool(node[1])
        if kind == "&":
            return self._eval(model, rid, node[1]) and self._eval(model, rid, node[2])
        if kind == "|":
            return self._eval(model, rid, node[1]) or self._eval(model, rid, node[2])
        if kind == "!":
            return not self._eval(model, rid, node[1])
        _, parts, operator, value = node
        return self._match_path(model, [rid], parts, operator, value)

    def _match_path(self, model: str, ids: list[int], parts: list[str], operator: str, value: Any) -> bool:
        name = parts[0]
        field = self.db.field(model, name)
        if len(parts) > 1:
            relation = field["relation"]
            related: list[int] = []
            for rid in ids:
                raw = self.db.raw_value(model, rid, name)
                if field["type"] == "many2one":
                    if raw:
                        related.append(raw)
                else:
                    related.extend(raw or [])
            if not related:
                # Odoo: a path through an empty relation matches only "not set" style tests.
                return (operator in ("=", "in") and value in (False, [False])) or operator in (
                    "!=",
                    "not in",
                    "not like",
                    "not ilike",
                    "not any",
                )
            return self._match_path(relation, related, parts[1:], operator, value)
        return any(self._match_value(model, rid, name, field, operator, value) for rid in ids)

    def _match_value(
        self, model: str, rid: int, name: str, field: dict[str, Any], operator: str, value: Any
    ) -> bool:
        raw = self.db.raw_value(model, rid, name)
        ftype = field["type"]
        if operator in ("any", "not any"):
            relation = field["relation"]
            related = (
                [raw] if ftype == "many2one" and raw else ([] if ftype == "many2one" else list(raw or []))
            )
            found = any(self._eval(relation, other, value) for other in related)
            return found if operator == "any" else not found
        if operator == "child_of":
            wanted = set(value if isinstance(value, list) else [value])
            current = rid if ftype != "many2one" else raw
            while current:
                if current in wanted:
                    return True
                current = self.db.raw_value(
                    model if ftype != "many2one" else field["relation"], current, "parent_id"
                )
            return False
        if ftype in ("one2many", "many2many"):
            ids = set(raw or [])
            values = value if isinstance(value, list | tuple) else [value]
            if operator in ("=", "in"):
                if values in ([False], []) or value is False:
                    return not ids
                return bool(ids & set(values))
            if operator in ("!=", "not in"):
                if value is False:
                    return bool(ids)
                return not (ids & set(values))
            names = [self.db.display_name(field["relation"], other) for other in ids]
            return any(self._compare(n, operator, value) for n in names)
        if ftype == "many2one" and isinstance(value, str) and operator in (
            "like", "ilike", "not like", "not ilike", "=like", "=ilike", "=", "!="
        ):  # fmt: skip
            label = self.db.display_name(field["relation"], raw) if raw else False
            return self._compare(label, operator, value)
        return self._compare(raw, operator, value)

    @staticmethod
    def _compare(actual: Any, operator: str, value: Any) -> bool:
        if operator == "=?":
            return True if value is None or value is False else actual == value
        if operator == "=":
            if value is False or value is None:
                return actual is False or actual is None or actual == ""
            return bool(actual == value)
        if operator == "!=":
            if value is False or value is None:
                return not (actual is False or actual is None or actual == "")
            return bool(actual != value)
        if operator in ("in", "not in"):
            values = list(value) if isinstance(value, list | tuple) else [value]
            inside = actual in values or (actual in (False, None) and False in values)
            return inside if operator == "in" else not inside
        if operator in ("<", "<=", ">", ">="):
            if actual is False or actual is None or value is False or value is None:
                return False
            if operator == "<":
                return bool(actual < value)
            if operator == "<=":
                return bool(actual <= value)
            if operator == ">":
                return bool(actual > value)
            return bool(actual >= value)
        # like family
        if actual is False or actual is None:
            return operator.startswith("not")
        text = str(actual)
        wrap = not operator.startswith("=")
        insensitive = "ilike" in operator
        matched = bool(_like_regex(str(value), wrap, insensitive).match(text))
        return not matched if operator.startswith("not") else matched
