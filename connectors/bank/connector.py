"""Bank statement sources for the sync runner: a watched folder, and explicit files.

``bank-folder`` (configuration ``[[sources]] connector = "bank-folder"``) imports every new file of
``inbox``; ``bank-files`` imports the files it is given (``erp-recovery import-bank FILE...``).

For each file, in name order:

1. its SHA-256 is looked up in the cursor: a file already imported (under any name) is skipped
   (and, in a folder, moved to the archive);
2. it is read once completely to validate it — a file that cannot be read (wrong format,
   truncated, XML bomb, wrong encoding, strict balance mismatch) is rejected *before anything of
   it is stored*: it goes to the quarantine through the runner (counted as rejected, with the
   reason, file and line) and, in a folder, to ``rejected/`` with a ``<name>.reason.txt``;
3. it is read again and its transactions are yielded in batches; the last batch carries the
   cursor with the file's hash, so the runner commits "file done" together with its last
   records. A crash in between re-reads the whole file on the next run: ids are stable, so the
   upserts converge and nothing is duplicated or lost;
4. in a folder, the file is moved to ``archive/`` once the runner has committed it (the
   generator resumes only after the batch is stored).

Statement checks (balance mismatches, control totals) are reported as run notices.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import shutil
from abc import abstractmethod
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, ClassVar

from pydantic import Field

from erp_recovery.errors import ConfigError, ParseError, SkippableRecord
from erp_recovery.model.records import Record
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

from . import registry
from .identity import content_hash
from .model import InputFile, ReadOptions, StatementSummary

STATEMENTS = StreamSpec(
    name="statements",
    entities=("bank_transaction",),
    primary_key="external_id",
    cursor_field=None,
    is_sorted=False,
)


class BankFileSettings(SourceSettings):
    strict: bool = Field(default=False, description="A balance mismatch rejects the file.")
    batch_size: int = Field(default=2000, ge=1, le=100_000)
    max_bytes: int = Field(default=2 << 30, ge=1, description="Largest file (or ZIP member) accepted.")


class BankFolderSettings(BankFileSettings):
    inbox: str
    archive: str | None = Field(default=None, description="Default: <inbox>/archive")
    rejected: str | None = Field(default=None, description="Default: <inbox>/rejected")
    pattern: str = "*"


class BankFilesSettings(BankFileSettings):
    files: list[str] = Field(min_length=1)


class _BankFileConnector(Connector):
    """What both sources share: validate, then import, one file at a time."""

    settings: BankFileSettings

    def streams(self) -> Sequence[StreamSpec]:
        return [STATEMENTS]

    def _options(self) -> ReadOptions:
        return ReadOptions(strict=self.settings.strict, max_bytes=self.settings.max_bytes)

    @abstractmethod
    def _files(self) -> list[Path]:
        """The statement files this source imports now (the folder's new files, or the given ones)."""

    def _after_import(self, path: Path) -> None:
        """Called once the file's last batch is committed."""

    def _after_skip(self, path: Path) -> None:
        """Called for a file whose content was already imported."""

    def _after_reject(self, path: Path, reason: str) -> None:
        """Called for a file that cannot be read."""

    def read(self, stream: StreamSpec, cursor: Cursor | None) -> Iterator[Batch | Snapshot | Notice]:
        done: dict[str, str] = dict((cursor or {}).get("files", {}))
        options = self._options()
        for path in self._files():
            infile = InputFile.from_path(path)
            digest = content_hash(infile.opener)
            if digest in done:
                yield Notice(
                    f"{path.name}: already imported (same content as {done[digest]})",
                    level="info",
                    origin=Origin(file=path.name),
                )
                self._after_skip(path)
                continue
            try:
                summaries = [
                    event
                    for event in registry.read_input(infile, options)
                    if isinstance(event, StatementSummary)
                ]
            except ParseError as exc:
                yield Batch(
                    [
                        RawRecord(
                            {"file": path.name, "error": exc.message}, Origin(file=path.name, line=exc.line)
                        )
                    ]
                )
                self._after_reject(path, exc.message)
                continue
            for summary in summaries:
                yield from self._notices(summary)
            batch: list[RawRecord] = []
            for event in registry.read_input(infile, options):
                if isinstance(event, StatementSummary):
                    continue
                line = event.source_refs.get("line")
                batch.append(
                    RawRecord(
                        event,
                        Origin(file=path.name, line=int(line) if line else None, record_id=event.external_id),
                    )
                )
                if len(batch) >= self.settings.batch_size:
                    yield Batch(batch)
                    batch = []
            done[digest] = path.name
            yield Batch(batch, cursor={"files": dict(done)})
            self._after_import(path)

    def _notices(self, summary: StatementSummary) -> Iterator[Notice]:
        where = Origin(file=summary.source_file)
        label = f"{summary.source_file}: statement {summary.statement_id or summary.source_position}"
        if summary.balance_check.status == "mismatch":
            yield Notice(f"{label}: balances do not reconcile: {summary.balance_check.detail}", origin=where)
        for warning in summary.warnings:
            yield Notice(f"{label}: {warning}", origin=where)

    def to_canonical(self, stream: StreamSpec, raw: RawRecord) -> Record:
        if isinstance(raw.data, Record):
            return raw.data
        raise SkippableRecord(
            f"file rejected: {raw.data.get('error')}", file=raw.origin.file, line=raw.origin.line
        )


class BankFolderConnector(_BankFileConnector):
    """Imports every new statement file dropped in a folder (camt, MT940/942, OFX, CFONB 120, ZIP)."""

    name: ClassVar[str] = "bank-folder"
    settings_model: ClassVar[type[SourceSettings]] = BankFolderSettings
    description: ClassVar[str] = (
        "Bank statement files dropped in a folder (camt.05x, MT940/942, OFX, CFONB 120, ZIP)"
    )
    settings: BankFolderSettings

    def __init__(self, source: Any, settings: SourceSettings) -> None:
        super().__init__(source, settings)
        self.inbox = source.resolve_path(self.settings.inbox)
        self.archive = (
            source.resolve_path(self.settings.archive) if self.settings.archive else self.inbox / "archive"
        )
        self.rejected = (
            source.resolve_path(self.settings.rejected) if self.settings.rejected else self.inbox / "rejected"
        )

    def check(self) -> str:
        if not self.inbox.is_dir():
            raise ConfigError(f"inbox folder {self.inbox} does not exist", key="settings.inbox")
        return f"{len(self._files())} file(s) waiting in {self.inbox}"

    def _files(self) -> list[Path]:
        if not self.inbox.is_dir():
            raise ConfigError(f"inbox folder {self.inbox} does not exist", key="settings.inbox")
        return sorted(
            path
            for path in self.inbox.iterdir()
            if path.is_file()
            and not path.name.startswith(".")
            and fnmatch.fnmatch(path.name, self.settings.pattern)
        )

    @staticmethod
    def _move(path: Path, folder: Path) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / path.name
        if target.exists():
            stamp = dt.datetime.now().strftime("%Y%m%dT%H%M%S%f")
            target = folder / f"{path.stem}.{stamp}{path.suffix}"
        shutil.move(str(path), str(target))
        return target

    def _after_import(self, path: Path) -> None:
        self._move(path, self.archive)

    def _after_skip(self, path: Path) -> None:
        self._move(path, self.archive)

    def _after_reject(self, path: Path, reason: str) -> None:
        target = self._move(path, self.rejected)
        target.with_name(target.name + ".reason.txt").write_text(reason + "\n", encoding="utf-8")


class BankFilesConnector(_BankFileConnector):
    """Imports the given statement files (``erp-recovery import-bank``); files are not moved."""

    name: ClassVar[str] = "bank-files"
    settings_model: ClassVar[type[SourceSettings]] = BankFilesSettings
    description: ClassVar[str] = "Bank statement files given on the command line"
    settings: BankFilesSettings

    def _files(self) -> list[Path]:
        paths = [self.source.resolve_path(name) for name in self.settings.files]
        missing = [str(path) for path in paths if not path.is_file()]
        if missing:
            raise ConfigError(f"no such file: {', '.join(missing)}", key="settings.files")
        return paths
