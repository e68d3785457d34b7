"""Named locks so that two runs of the same source (or stage) never overlap.

SQLite: an OS file lock beside the database file (``<db>.locks/<name>.lock``), released by the OS
when the process dies, even by SIGKILL. PostgreSQL: a session-level advisory lock held on a
dedicated connection, released by the server when that connection ends — so it works across
machines sharing one database (the worker mode).

If the PostgreSQL server restarts, it drops the lock while its holder carries on. Work that must
only be stored under the lock therefore goes through :meth:`HeldLock.transaction`, which runs on
the lock's own session: once that session is gone, the commit fails instead of writing unlocked.
"""

from __future__ import annotations

import hashlib
import re
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from filelock import FileLock, Timeout
from sqlalchemy import Connection, text

from erp_recovery.errors import LockBusyError
from erp_recovery.store.engine import Store


def _advisory_key(name: str) -> int:
    digest = hashlib.sha256(f"erp-recovery:{name}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def _lock_dir(store: Store) -> Path:
    path = store.sqlite_path
    if path is None:
        return Path(tempfile.gettempdir()) / "erp-recovery-locks"
    return path.parent / f"{path.name}.locks"


@dataclass
class HeldLock:
    """A lock being held; ``connection`` is the PostgreSQL session that holds it (None on SQLite)."""

    name: str
    connection: Connection | None = None

    @contextmanager
    def transaction(self, store: Store) -> Iterator[Connection]:
        """A transaction that commits only while the lock is held (see the module docstring)."""
        if self.connection is None:
            with store.begin() as connection:
                yield connection
            return
        with self.connection.begin():
            yield self.connection


@contextmanager
def named_lock(store: Store, name: str, *, wait: float = 0.0) -> Iterator[HeldLock]:
    """Hold the lock ``name`` (e.g. ``sync:odoo-main``) for the duration of the block.

    ``wait`` seconds are spent retrying before :class:`LockBusyError` is raised.
    """
    if store.dialect == "postgresql":
        key = _advisory_key(name)
        with store.connect() as connection:
            deadline = time.monotonic() + wait
            while not connection.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": key}).scalar():
                if time.monotonic() >= deadline:
                    raise LockBusyError(
                        f"{name} is already running (PostgreSQL advisory lock held by another process)"
                    )
                time.sleep(min(1.0, max(0.05, wait / 20)))
            connection.commit()
            try:
                yield HeldLock(name, connection)
            finally:
                try:
                    connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": key})
                    connection.commit()
                except Exception:  # the connection may be gone; the server released the lock then
                    connection.invalidate()
        return
    directory = _lock_dir(store)
    directory.mkdir(parents=True, exist_ok=True)
    safe_name = re.sub(r"[^A-Za-z0-9_.-]", "_", name)
    lock = FileLock(str(directory / f"{safe_name}.lock"))
    try:
        lock.acquire(timeout=wait)
    except Timeout:
        raise LockBusyError(f"{name} is already running (lock file {lock.lock_file} is held)") from None
    try:
        yield HeldLock(name)
    finally:
        lock.release()
