"""Sync: the connector protocol, the connector registry and the runner that stores what they read."""

from erp_recovery.sync.protocol import (
    Batch,
    Connector,
    Cursor,
    Notice,
    Origin,
    RawRecord,
    Snapshot,
    SourceSettings,
    StreamSpec,
)

__all__ = [
    "Batch",
    "Connector",
    "Cursor",
    "Notice",
    "Origin",
    "RawRecord",
    "Snapshot",
    "SourceSettings",
    "StreamSpec",
]
