"""Start a real ``erp-recovery worker`` for the fault tests, optionally with a slower CSV connector.

Usage: python pipeline_worker.py CONFIG NODE_NAME CONCURRENCY

Environment:
- ``PIPELINE_TEST_STALL_MARKER``: when this file does not exist yet, the first sync that maps its
  1250th record (mid third batch: batches hold 500) creates it and stalls, waiting to be killed;
- ``PIPELINE_TEST_SLOW_BATCH``: seconds to sleep every 500 mapped records (a long sync).

Everything else is the real worker: the real CLI, Celery, the broker, the store.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from erp_recovery.cli.main import main
from erp_recovery.sync import registry

_create = registry.create_connector


def _slow_connector(source):  # type: ignore[no-untyped-def]
    connector = _create(source)
    marker = os.environ.get("PIPELINE_TEST_STALL_MARKER")
    pause = float(os.environ.get("PIPELINE_TEST_SLOW_BATCH") or 0)
    original = connector.to_canonical
    mapped = 0

    def to_canonical(stream, raw):  # type: ignore[no-untyped-def]
        nonlocal mapped
        mapped += 1
        if marker and mapped == 1250 and not Path(marker).exists():
            Path(marker).touch()
            time.sleep(600)
        if pause and mapped % 500 == 0:
            time.sleep(pause)
        return original(stream, raw)

    connector.to_canonical = to_canonical
    return connector


if __name__ == "__main__":
    config, node, concurrency = sys.argv[1:4]
    registry.create_connector = _slow_connector
    sys.exit(
        main(["-v", "--config", config, "worker", "--concurrency", concurrency, "--hostname", f"{node}@%h"])
    )
