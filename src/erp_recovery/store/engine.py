"""Opening the store: SQLite by default (one file, created on first use), PostgreSQL in production.

``Store`` owns the SQLAlchemy engine, applies Alembic migrations and turns connection failures into
one-line :class:`~erp_recovery.errors.StoreUnavailableError` messages that never show a password.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, OperationalError, SQLAlchemyError

from erp_recovery.errors import ConfigError, StoreUnavailableError

log = logging.getLogger(__name__)

DEFAULT_SQLITE_FILE = "erp-recovery.sqlite"


def normalise_url(url_or_path: str) -> str:
    """Accept a SQLAlchemy URL or a plain file path (→ SQLite); PostgreSQL goes through psycopg 3."""
    if "://" not in url_or_path:
        return f"sqlite:///{Path(url_or_path).expanduser()}"
    if url_or_path.startswith(("postgresql://", "postgres://")):
        return "postgresql+psycopg://" + url_or_path.split("://", 1)[1]
    return url_or_path


def safe_url(url: str) -> str:
    """The URL with its password hidden, for messages and logs."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<invalid database URL>"


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


class Store:
    """A database holding the canonical model, runs and engine results."""

    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = normalise_url(url)
        try:
            parsed = make_url(self.url)
        except ArgumentError:
            raise ConfigError(f"not a database URL or path: {url!r}", key="store.url") from None
        self.dialect = parsed.get_backend_name()
        if self.dialect not in ("sqlite", "postgresql"):
            raise ConfigError(
                f"unsupported database {self.dialect!r}; use SQLite (a file path) or postgresql+psycopg://",
                key="store.url",
            )
        kwargs: dict[str, Any] = {"echo": echo, "future": True}
        if self.dialect == "sqlite":
            database = parsed.database or ""
            if database and database != ":memory:":
                parent = Path(database).expanduser().resolve().parent
                if not parent.exists():
                    raise StoreUnavailableError(
                        f"cannot create the SQLite database {database}: folder {parent} does not exist"
                    )
            kwargs["connect_args"] = {"timeout": 30}
        else:
            kwargs["pool_pre_ping"] = True
            kwargs["connect_args"] = {"connect_timeout": 10}
        self.engine: Engine = create_engine(self.url, **kwargs)
        if self.dialect == "sqlite":
            event.listen(self.engine, "connect", _sqlite_pragmas)

    @property
    def sqlite_path(self) -> Path | None:
        if self.dialect != "sqlite":
            return None
        database = make_url(self.url).database
        return Path(database).expanduser().resolve() if database and database != ":memory:" else None

    def describe(self) -> str:
        return safe_url(self.url)

    @contextmanager
    def connect(self) -> Iterator[Connection]:
        """A connection, with connection failures reported as one actionable line."""
        try:
            connection = self.engine.connect()
        except OperationalError as exc:
            reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
            raise StoreUnavailableError(
                f"cannot open the database {self.describe()}: {reason} "
                "(check store.url / --db and that the server is running)"
            ) from None
        try:
            yield connection
        finally:
            connection.close()

    @contextmanager
    def begin(self) -> Iterator[Connection]:
        """A connection inside a transaction, committed on success and rolled back on error."""
        with self.connect() as connection, connection.begin():
            yield connection

    # -- migrations ----------------------------------------------------------------------------

    def _alembic_config(self, connection: Connection) -> AlembicConfig:
        config = AlembicConfig()
        config.set_main_option("script_location", "erp_recovery.store:migrations")
        config.attributes["connection"] = connection
        return config

    def upgrade(self, revision: str = "head") -> tuple[str | None, str | None]:
        """Apply migrations up to ``revision``; returns (revision before, revision after)."""
        with self.connect() as connection:
            before = MigrationContext.configure(connection).get_current_revision()
            command.upgrade(self._alembic_config(connection), revision)
            connection.commit()
            after = MigrationContext.configure(connection).get_current_revision()
        if before != after:
            log.info("database %s migrated from %s to %s", self.describe(), before, after)
        return before, after

    def current_revision(self) -> str | None:
        with self.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()

    def head_revision(self) -> str | None:
        with self.connect() as connection:
            script = ScriptDirectory.from_config(self._alembic_config(connection))
            return script.get_current_head()

    def require_current(self) -> None:
        """Fail with an actionable message when the schema is missing or behind the code."""
        try:
            current, head = self.current_revision(), self.head_revision()
        except SQLAlchemyError as exc:
            raise StoreUnavailableError(f"cannot read the database {self.describe()}: {exc}") from None
        if current is None:
            raise StoreUnavailableError(
                f"the database {self.describe()} is not initialised: run 'erp-recovery init' "
                "(or 'erp-recovery db upgrade')"
            )
        if current != head:
            raise StoreUnavailableError(
                f"the database {self.describe()} is at schema {current}, this version needs {head}: "
                "run 'erp-recovery db upgrade'"
            )

    def ping(self) -> None:
        with self.connect() as connection:
            connection.execute(text("SELECT 1"))

    def dispose(self) -> None:
        self.engine.dispose()
