"""Run a sync that stops in the middle of its third batch (for the SIGKILL test).

Usage: python slow_sync.py CONFIG MARKER — syncs every source of CONFIG; when the third batch is
half mapped it creates MARKER and sleeps, waiting to be killed.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from erp_recovery.connectors.csv import CsvConnector

from erp_recovery.config import load_config
from erp_recovery.store import Store
from erp_recovery.sync.registry import create_connector
from erp_recovery.sync.runner import SyncRunner


class StallingConnector(CsvConnector):
    """The real CSV connector, except that it stalls inside the third batch."""

    mapped = 0

    def to_canonical(self, stream, raw):  # type: ignore[no-untyped-def]
        StallingConnector.mapped += 1
        if StallingConnector.mapped == 1250:  # batches hold 500 records: this is mid-batch 3
            Path(sys.argv[2]).touch()
            time.sleep(600)
        return super().to_canonical(stream, raw)


def factory(source):  # type: ignore[no-untyped-def]
    connector = create_connector(source)
    return StallingConnector(connector.source, connector.settings)


if __name__ == "__main__":
    config = load_config(sys.argv[1])
    store = Store(config.store_url())
    SyncRunner(store, config, connector_factory=factory).sync(config.sources[0].name)
