"""The sync runner: reads a connector's streams into the store, incrementally and crash-safely.

For each stream the runner hands the connector the cursor stored by the last successful batch and
then, for every batch it yields, in **one transaction**: maps the raw records (rejects go to the
quarantine with their origin), upserts the canonical records, stores the batch's cursor and adds
the counts to the run. A crash — even SIGKILL — between two batches therefore loses nothing, and
rerunning resumes after the last committed batch; a crash inside a batch rolls the whole batch back.
Upserts compare content hashes, so re-reading a batch converges to the same store.

Two runs of the same source never overlap: the runner holds the ``sync:<source>`` lock
(:mod:`erp_recovery.store.locks`) for the whole run and marks runs left ``running`` by a dead
process as ``interrupted``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from erp_recovery.config import AppConfig, SourceConfig
from erp_recovery.errors import ConfigError, ErpRecoveryError, ParseError, SkippableRecord
from erp_recovery.model.records import Record
from erp_recovery.store import runs as run_store
from erp_recovery.store.engine import Store
from erp_recovery.store.locks import HeldLock, named_lock
from erp_recovery.store.records import mark_missing, upsert_records
from erp_recovery.sync.protocol import Batch, Connector, Notice, RawRecord, Snapshot, StreamSpec
from erp_recovery.sync.registry import create_connector

log = logging.getLogger(__name__)

#: Called after each stored batch: (source name, stream name, records read so far in the stream).
ProgressCallback = Callable[[str, str, int], None]

#: Rejected records listed in a run report (all of them are in the quarantine table).
REPORTED_REJECTS = 20


@dataclass
class StreamReport:
    name: str
    read: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    deleted: int = 0

    def counts(self) -> dict[str, int]:
        return {k: getattr(self, k) for k in run_store.RUN_COUNTERS}


@dataclass
class RunReport:
    """What one sync run of one source did."""

    source: str
    company: str
    run_id: int | None = None
    status: str = "running"
    streams: list[StreamReport] = field(default_factory=list)
    rejects: list[dict[str, Any]] = field(default_factory=list)
    notices: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None
    #: The error that failed the run, for callers deciding whether to retry (not serialised).
    failure: ErpRecoveryError | None = field(default=None, repr=False, compare=False)

    def total(self, counter: str) -> int:
        return sum(getattr(stream, counter) for stream in self.streams)

    def counts(self) -> dict[str, int]:
        return {counter: self.total(counter) for counter in run_store.RUN_COUNTERS}

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "company": self.company,
            "run_id": self.run_id,
            "status": self.status,
            **self.counts(),
            "streams": {stream.name: stream.counts() for stream in self.streams},
            "rejects": self.rejects,
            "notices": self.notices,
            "error": self.error,
        }


def _reject_reason(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        error = exc.errors()[0]
        location = ".".join(str(part) for part in error["loc"]) or exc.title
        more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
        return f"{location}: {error['msg'].removeprefix('Value error, ')}{more}"
    if isinstance(exc, SkippableRecord):
        return exc.reason
    return str(exc)


def _raw_for_quarantine(raw: RawRecord) -> Any:
    if isinstance(raw.data, Record):
        return raw.data.model_dump(mode="json", exclude_none=True)
    return {
        str(key): (value if isinstance(value, str | int | bool | None) else str(value))
        for key, value in raw.data.items()
    }


class SyncRunner:
    """Runs the sync of configured sources into a store."""

    def __init__(
        self,
        store: Store,
        config: AppConfig,
        *,
        progress: ProgressCallback | None = None,
        connector_factory: Callable[[SourceConfig], Connector] = create_connector,
        lock_wait: float = 0.0,
    ) -> None:
        self.store = store
        self.config = config
        self.progress = progress
        self.connector_factory = connector_factory
        self.lock_wait = lock_wait
        #: The source's lock while a sync runs: batches are stored through it (see store.locks).
        self._lock = HeldLock("none")

    def sync(
        self, source_name: str, *, streams: Sequence[str] | None = None, full: bool = False
    ) -> RunReport:
        """Sync one source. ``full`` forgets the stored cursors first (a full re-read)."""
        source = self.config.source(source_name)
        connector = self.connector_factory(source)
        report = RunReport(source=source.name, company=source.company)
        try:
            with named_lock(self.store, f"sync:{source.name}", wait=self.lock_wait) as lock:
                self._lock = lock
                self._run(connector, source, report, streams=streams, full=full)
        except ConfigError:
            raise
        except ErpRecoveryError as exc:
            # The run is recorded as failed (when it got as far as starting); the next run resumes.
            report.status = "failed"
            report.error = report.error or exc.message
            report.failure = exc
            log.error("sync of %s failed: %s", source.name, report.error)
        finally:
            connector.close()
        return report

    def _run(
        self,
        connector: Connector,
        source: SourceConfig,
        report: RunReport,
        *,
        streams: Sequence[str] | None,
        full: bool,
    ) -> None:
        with self.store.begin() as connection:
            # Only this source and its company: registering every configured company at each sync
            # would cost O(companies) queries per sync for a firm running hundreds of them.
            company_id = run_store.ensure_company(connection, self.config.company(source.company))
            source_id = run_store.ensure_source(connection, source, company_id)
            interrupted = run_store.interrupt_stale_runs(connection, source_id)
            if interrupted:
                log.warning("source %s: %d earlier run(s) had been interrupted", source.name, interrupted)
            specs = list(connector.streams())
            if streams:
                unknown = sorted(set(streams) - {spec.name for spec in specs})
                if unknown:
                    raise ErpRecoveryError(
                        f"source {source.name} has no stream {', '.join(unknown)}; "
                        f"streams: {', '.join(spec.name for spec in specs)}"
                    )
                specs = [spec for spec in specs if spec.name in streams]
            if full:
                run_store.reset_cursors(connection, source_id, [spec.name for spec in specs])
            cursors = run_store.get_cursors(connection, source_id)
            report.run_id = run_store.start_run(connection, source_id, cursors)
        run_id = report.run_id
        assert run_id is not None
        try:
            for spec in specs:
                stream_report = StreamReport(spec.name)
                report.streams.append(stream_report)
                self._sync_stream(
                    connector,
                    spec,
                    cursors.get(spec.name),
                    report,
                    stream_report,
                    company_id=company_id,
                    source_id=source_id,
                    run_id=run_id,
                )
        except ErpRecoveryError as exc:
            report.status = "failed"
            report.error = exc.message
            self._finish(source_id, run_id, report)
            raise
        except Exception as exc:
            report.status = "failed"
            report.error = f"{type(exc).__name__}: {exc}"
            self._finish(source_id, run_id, report)
            raise
        report.status = "succeeded"
        self._finish(source_id, run_id, report)

    def _finish(self, source_id: int, run_id: int, report: RunReport) -> None:
        with self.store.begin() as connection:
            cursors = run_store.get_cursors(connection, source_id)
            run_store.finish_run(
                connection,
                run_id,
                status=report.status,
                cursor_after=cursors,
                details={
                    "streams": {stream.name: stream.counts() for stream in report.streams},
                    "notices": report.notices,
                },
                error=report.error,
            )

    def _sync_stream(
        self,
        connector: Connector,
        spec: StreamSpec,
        cursor: Any,
        report: RunReport,
        stream_report: StreamReport,
        *,
        company_id: int,
        source_id: int,
        run_id: int,
    ) -> None:
        for item in connector.read(spec, cursor):
            if isinstance(item, Notice):
                notice = {"stream": spec.name, "level": item.level, "message": item.message}
                if item.origin is not None:
                    notice["origin"] = item.origin.describe()
                report.notices.append(notice)
                log.warning("%s/%s: %s", report.source, spec.name, item.message)
                continue
            if isinstance(item, Snapshot):
                with self._lock.transaction(self.store) as connection:
                    deleted = mark_missing(
                        connection,
                        item.entity,
                        company_id=company_id,
                        source_id=source_id,
                        present=item.present,
                        scope=item.scope,
                        run_id=run_id,
                    )
                    run_store.add_run_counts(connection, run_id, {"deleted": deleted})
                stream_report.deleted += deleted
                continue
            if not isinstance(item, Batch):
                raise TypeError(f"connector {connector.name} yielded {type(item).__name__}, not a Batch")
            self._store_batch(
                connector,
                spec,
                item,
                report,
                stream_report,
                company_id=company_id,
                source_id=source_id,
                run_id=run_id,
            )
            if self.progress is not None:
                self.progress(report.source, spec.name, stream_report.read)

    def _store_batch(
        self,
        connector: Connector,
        spec: StreamSpec,
        batch: Batch,
        report: RunReport,
        stream_report: StreamReport,
        *,
        company_id: int,
        source_id: int,
        run_id: int,
    ) -> None:
        records: list[Record] = []
        rejects: list[tuple[RawRecord, str]] = []
        for raw in batch.records:
            try:
                records.append(connector.to_canonical(spec, raw))
            except (SkippableRecord, ValidationError) as exc:
                rejects.append((raw, _reject_reason(exc)))
            except ParseError as exc:
                # A record-level parse problem (bad date in one row...) is quarantined too.
                rejects.append((raw, exc.reason))
        with self._lock.transaction(self.store) as connection:
            counts = upsert_records(
                connection, records, company_id=company_id, source_id=source_id, run_id=run_id
            )
            for raw, reason in rejects:
                run_store.quarantine_record(
                    connection,
                    source_id=source_id,
                    run_id=run_id,
                    stream=spec.name,
                    reason=reason,
                    raw=_raw_for_quarantine(raw),
                    file=raw.origin.file,
                    line=raw.origin.line,
                    record_id=raw.origin.record_id,
                )
            if batch.cursor is not None:
                run_store.set_cursor(connection, source_id, spec.name, batch.cursor, run_id)
            batch_counts = {
                "read": len(batch.records),
                "created": counts.created,
                "updated": counts.updated,
                "unchanged": counts.unchanged,
                "rejected": len(rejects),
            }
            run_store.add_run_counts(connection, run_id, batch_counts)
        for name, value in batch_counts.items():
            setattr(stream_report, name, getattr(stream_report, name) + value)
        for raw, reason in rejects:
            if len(report.rejects) < REPORTED_REJECTS:
                report.rejects.append(
                    {"stream": spec.name, "origin": raw.origin.describe(), "reason": reason}
                )


def sync_sources(
    store: Store,
    config: AppConfig,
    names: Sequence[str] | None = None,
    *,
    full: bool = False,
    progress: ProgressCallback | None = None,
) -> list[RunReport]:
    """Sync the named sources (all enabled ones by default); a failing source doesn't stop the others."""
    runner = SyncRunner(store, config, progress=progress)
    selected = [config.source(name) for name in names] if names else config.sources_of()
    return [runner.sync(source.name, full=full) for source in selected]
