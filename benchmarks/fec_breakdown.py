"""Where the CPU time of a FEC sync goes: per-phase process time, measured by wrapping the
functions the sync calls (reader, derivation, drafts, pydantic validation, the store's
serialisation and SQL, snapshots, commits); what is left is the runner's loop, batch bookkeeping
and the wrappers themselves. Used by ``bench_fec_import.py --breakdown`` on a second, separate sync
(the wrappers cost about a microsecond per call, so the timed run stays unwrapped).
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from erp_recovery.connectors.sage import fec_connector

from erp_recovery.store import records as store_records
from erp_recovery.sync import runner as sync_runner

clock = time.process_time


class PhaseClock:
    """Accumulates process time per label; nested phases are subtracted from their parent."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = defaultdict(float)
        self.calls: dict[str, int] = defaultdict(int)
        self._stack: list[list[float]] = []

    def _timed(self, label: str, function: Callable[..., Any]) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            self._stack.append([0.0])
            start = clock()
            try:
                return function(*args, **kwargs)
            finally:
                spent = clock() - start
                inner = self._stack.pop()[0]
                self.seconds[label] += spent - inner
                self.calls[label] += 1
                if self._stack:
                    self._stack[-1][0] += spent

        return timed

    def _timed_generator(
        self, label: str, function: Callable[..., Iterator[Any]]
    ) -> Callable[..., Iterator[Any]]:
        def timed(*args: Any, **kwargs: Any) -> Iterator[Any]:
            iterator = function(*args, **kwargs)
            step = self._timed(label, lambda: next(iterator, _END))
            while True:
                item = step()
                if item is _END:
                    return
                yield item

        return timed

    @contextmanager
    def wrapped(self, store: Any) -> Iterator[PhaseClock]:
        """Wrap the sync's functions for the duration of the block."""
        patches: list[tuple[Any, str, Any]] = [
            (fec_connector, "read_fec", self._timed("read + validate FEC", fec_connector.read_fec)),
            (fec_connector, "derive", self._timed("derive documents + lettrage", fec_connector.derive)),
            (
                fec_connector,
                "record_drafts",
                self._timed_generator("record drafts (values, Money)", fec_connector.record_drafts),
            ),
            (
                fec_connector,
                "validated",
                self._timed("canonical records (pydantic, per batch)", fec_connector.validated),
            ),
            (
                fec_connector.FecConnector,
                "to_canonical",
                self._timed("to_canonical (validated records pass)", fec_connector.FecConnector.to_canonical),
            ),
            (
                store_records,
                "serialise",
                self._timed("store: content hash + JSON payload", store_records.serialise),
            ),
            (
                sync_runner,
                "upsert_records",
                self._timed("store: upsert SQL + column conversions", sync_runner.upsert_records),
            ),
            (
                sync_runner,
                "mark_missing",
                self._timed("store: snapshots (mark missing)", sync_runner.mark_missing),
            ),
            (
                store.engine.dialect,
                "do_commit",
                self._timed("store: commits", store.engine.dialect.do_commit),
            ),
        ]
        originals = [(owner, name, getattr(owner, name)) for owner, name, _ in patches]
        for owner, name, replacement in patches:
            setattr(owner, name, replacement)
        try:
            yield self
        finally:
            for owner, name, original in originals:
                setattr(owner, name, original)

    def report(self, total: float) -> list[str]:
        lines = []
        for label, seconds in sorted(self.seconds.items(), key=lambda item: -item[1]):
            lines.append(
                f"  {label:42s} {seconds:7.2f} s  {seconds / total:6.1%}  ({self.calls[label]:,} calls)"
            )
        rest = total - sum(self.seconds.values())
        lines.append(f"  {'runner, batches, gc, other':42s} {rest:7.2f} s  {rest / total:6.1%}")
        return lines


_END = object()
