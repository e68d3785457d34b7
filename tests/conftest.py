"""Shared fixtures: stores on SQLite and PostgreSQL, configurations, a CLI runner.

PostgreSQL tests get a database of their own (created and dropped around each test) on the server
named by ``ERP_RECOVERY_TEST_PG`` (default ``postgresql+psycopg://postgres@127.0.0.1:5432/postgres``);
when no server answers they are skipped with the reason.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from erp_recovery.store import Store

PG_SERVER = os.environ.get("ERP_RECOVERY_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")

_pg_problem: str | None = None


def _pg_admin_engine():  # type: ignore[no-untyped-def]
    return create_engine(
        PG_SERVER, isolation_level="AUTOCOMMIT", pool_pre_ping=True, connect_args={"connect_timeout": 3}
    )


def postgres_available() -> str | None:
    """None when the test server answers, else why not (cached)."""
    global _pg_problem
    if _pg_problem is None:
        try:
            engine = _pg_admin_engine()
            with engine.connect() as connection:
                connection.execute(text("SELECT 1"))
            engine.dispose()
            _pg_problem = ""
        except Exception as exc:  # any failure means: skip with the reason
            _pg_problem = f"PostgreSQL not reachable at {make_url(PG_SERVER).render_as_string(hide_password=True)}: {exc}"
    return _pg_problem or None


@pytest.fixture
def pg_url() -> Iterator[str]:
    """URL of a fresh, empty PostgreSQL database, dropped after the test."""
    problem = postgres_available()
    if problem:
        pytest.skip(problem)
    name = f"erp_recovery_test_{uuid.uuid4().hex[:12]}"
    admin = _pg_admin_engine()
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(PG_SERVER).set(database=name).render_as_string(hide_password=False)
    try:
        yield url
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The same test on an SQLite file and on a fresh PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.sqlite'}"
    return str(request.getfixturevalue("pg_url"))


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    """A migrated store on each backend."""
    instance = Store(store_url)
    instance.upgrade()
    yield instance
    instance.dispose()


@pytest.fixture
def cli_runner() -> CliRunner:
    return CliRunner()
