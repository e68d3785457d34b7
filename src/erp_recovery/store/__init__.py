"""The store: tables, migrations and the repository functions the rest of erp-recovery calls."""

from erp_recovery.store.engine import Store, normalise_url, safe_url

__all__ = ["Store", "normalise_url", "safe_url"]
