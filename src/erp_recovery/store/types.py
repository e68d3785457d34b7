"""Column types that keep money exact on every backend.

SQLAlchemy's ``Numeric`` is exact on PostgreSQL but SQLite stores it as a binary float, which would
turn 0.1 + 0.2 into 0.30000000000000004 in the embedded default. :class:`ExactDecimal` stores the
canonical decimal string on SQLite and ``NUMERIC(24, 6)`` on PostgreSQL; both read back ``Decimal``.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, Numeric, String
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator, TypeEngine


class ExactDecimal(TypeDecorator[Decimal]):
    """A Decimal column: NUMERIC(24, 6) on PostgreSQL, decimal text on SQLite (never a float)."""

    impl = Numeric
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(String(40))
        return dialect.type_descriptor(Numeric(24, 6, asdecimal=True))

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        if isinstance(value, float):
            raise TypeError("refusing to store a float amount; use Decimal")
        value = Decimal(value)
        if dialect.name == "sqlite":
            return format(value, "f")
        return value

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        return Decimal(value) if not isinstance(value, Decimal) else value


#: JSON on SQLite, JSONB on PostgreSQL.
JsonDocument = JSON().with_variant(JSONB(), "postgresql")
