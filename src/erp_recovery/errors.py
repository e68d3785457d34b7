"""One exception tree for erp-recovery, branched by what the caller should do next.

- :class:`ConfigError` — the configuration is wrong: fix the named key (CLI exit code 2).
- :class:`ParseError` — an input file cannot be read: fix or replace the file (names file and line).
- :class:`MappingError` — a mapping file does not fit its data or is itself invalid.
- :class:`SkippableRecord` — one record is bad; quarantine it and carry on with the batch.
- :class:`TransientError` — worth retrying (network blips, 502/503/504, lock timeouts).
- :class:`FatalError` — stop this run; retrying will not help until someone acts.
- :class:`ConflictError` — the target changed since we planned; never overwrite.
- :class:`UnsafePlanError` — a write-back plan goes beyond its safety limits (needs ``--force``).

Every error carries structured attributes (``file``, ``line``, ``key``...) besides its message, so
callers can report them as JSON, and the message itself says what to do.
"""

from __future__ import annotations

from typing import Any


class ErpRecoveryError(Exception):
    """Root of every error raised on purpose by erp-recovery."""

    #: CLI exit code: 1 = problem in the data or a run, 2 = usage or configuration.
    exit_code: int = 1

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details = {key: value for key, value in details.items() if value is not None}

    def to_dict(self) -> dict[str, Any]:
        return {"error": type(self).__name__, "message": self.message, **self.details}


class ConfigError(ErpRecoveryError):
    """The configuration (file, environment, CLI options) is invalid or incomplete."""

    exit_code = 2

    def __init__(self, message: str, *, key: str | None = None, path: str | None = None) -> None:
        where = f"{path}: " if path else ""
        prefix = f"{key}: " if key else ""
        super().__init__(f"{where}{prefix}{message}", key=key, path=path)
        self.key = key
        self.path = path


class StoreUnavailableError(ConfigError):
    """The database cannot be reached or opened; the message says which URL (without password)."""


class LockBusyError(ErpRecoveryError):
    """Another run holds the lock of this source; wait for it or stop it."""


class ParseError(ErpRecoveryError):
    """An input file cannot be parsed. Always names the file, and the line or element when known."""

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        line: int | None = None,
        column: str | int | None = None,
        element: str | None = None,
    ) -> None:
        location = file or "<input>"
        if line is not None:
            location += f", line {line}"
        if column is not None:
            location += f", column {column}"
        if element is not None:
            location += f", element {element}"
        super().__init__(f"{location}: {message}", file=file, line=line, column=column, element=element)
        self.file = file
        self.line = line
        self.column = column
        self.element = element
        self.reason = message


class MappingError(ParseError):
    """A declarative mapping is invalid, or does not fit the data it is applied to."""


class SkippableRecord(ErpRecoveryError):
    """One record cannot be turned into the canonical model; it goes to quarantine, the batch goes on."""

    def __init__(
        self,
        reason: str,
        *,
        file: str | None = None,
        line: int | None = None,
        record_id: str | None = None,
    ) -> None:
        where = ", ".join(
            part
            for part in (
                file,
                f"line {line}" if line is not None else None,
                f"record {record_id}" if record_id else None,
            )
            if part
        )
        super().__init__(f"{where}: {reason}" if where else reason, file=file, line=line, record_id=record_id)
        self.reason = reason
        self.file = file
        self.line = line
        self.record_id = record_id


class TransientError(ErpRecoveryError):
    """A failure that may go away by itself: retry with back-off, a bounded number of times."""


class FatalError(ErpRecoveryError):
    """Stop the current run: someone must act (credentials, access rights, a broken server)."""


class AuthenticationError(FatalError):
    """Credentials were refused."""


class AccessDeniedError(FatalError):
    """The account works but lacks a right; the message names the right to grant."""


class RemoteError(FatalError):
    """The remote system refused a call for a business reason (validation, user error...)."""


class MissingRecordError(RemoteError):
    """The remote record does not exist (any more)."""


class ConflictError(ErpRecoveryError):
    """The target value changed since it was read at planning time; it is reported, never overwritten."""


class UnsafePlanError(ErpRecoveryError):
    """A write-back plan exceeds a safety limit; re-run with ``--force`` once you have read it."""

    exit_code = 2


class CurrencyMismatchError(ErpRecoveryError, ValueError):
    """Two amounts in different currencies were combined without an explicit rate."""
