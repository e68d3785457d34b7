"""Finding connectors through the ``erp_recovery.connectors`` entry-point group.

A third-party package adds a connector by declaring, in its own pyproject.toml::

    [project.entry-points."erp_recovery.connectors"]
    mysystem = "my_package.connector:MySystemConnector"

and ``connector = "mysystem"`` then works in ``[[sources]]``, without touching erp-recovery.
"""

from __future__ import annotations

from importlib.metadata import EntryPoint, entry_points

from pydantic import ValidationError

from erp_recovery.config import SourceConfig, config_error_from_validation
from erp_recovery.errors import ConfigError
from erp_recovery.sync.protocol import Connector

ENTRY_POINT_GROUP = "erp_recovery.connectors"


def available_connectors() -> dict[str, EntryPoint]:
    return {entry.name: entry for entry in entry_points(group=ENTRY_POINT_GROUP)}


def connector_class(name: str) -> type[Connector]:
    entries = available_connectors()
    if name not in entries:
        known = ", ".join(sorted(entries)) or "none installed"
        raise ConfigError(f"unknown connector {name!r}; installed connectors: {known}", key="connector")
    try:
        cls = entries[name].load()
    except Exception as exc:  # a broken plug-in must not take the CLI down with a traceback
        raise ConfigError(f"connector {name!r} cannot be loaded ({entries[name].value}): {exc}") from exc
    if not (isinstance(cls, type) and issubclass(cls, Connector)):
        raise ConfigError(f"entry point {name!r} ({entries[name].value}) is not a Connector subclass")
    return cls


def create_connector(source: SourceConfig) -> Connector:
    """Instantiate the connector of a configured source, validating its settings."""
    cls = connector_class(source.connector)
    try:
        settings = cls.settings_model.model_validate(source.settings)
    except ValidationError as exc:
        error = config_error_from_validation(
            exc, prefix=f"sources[{source.name}].settings", model=cls.settings_model
        )
        raise error from None
    return cls(source, settings)
