"""Helpers the Odoo tests share: a source configuration pointing at a running stand-in."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from erp_recovery.config import AppConfig, parse_config
from erp_recovery.store import Store

from .server import OdooStandin

#: Environment variable the test configurations read the Odoo password from.
PASSWORD_ENV = "ODOO_STANDIN_PASSWORD"
SOURCE = "odoo-main"


def source_settings(standin: OdooStandin, **overrides: Any) -> dict[str, Any]:
    settings: dict[str, Any] = {
        "url": standin.url,
        "database": standin.db.name,
        "login": "admin",
        "password": "${" + PASSWORD_ENV + "}",
        "protocol": "jsonrpc",
        "retry_wait_seconds": 0.0,
        "retry_max_wait_seconds": 0.0,
    }
    settings.update(overrides)
    return settings


def app_config(
    standin: OdooStandin, *, writeback_section: dict[str, Any] | None = None, **overrides: Any
) -> AppConfig:
    raw: dict[str, Any] = {
        "companies": [{"code": "acme", "name": "Acme", "base_currency": "USD"}],
        "sources": [
            {
                "name": SOURCE,
                "company": "acme",
                "connector": "odoo",
                "settings": source_settings(standin, **overrides),
            }
        ],
    }
    if writeback_section is not None:
        raw["writeback"] = writeback_section
    return parse_config(raw)


def sqlite_store(directory: Path) -> Store:
    store = Store(f"sqlite:///{directory / 'store.sqlite'}")
    store.upgrade()
    return store
