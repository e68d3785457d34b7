"""The stage protocol: what an engine implements to take part in the pipeline.

A stage is a small object with a ``name``, the names of the stages it ``depends_on`` and a
``run(context)`` returning a :class:`StageReport`::

    class AssessStage:
        name = "assess"
        depends_on = ("sync", "match")

        def run(self, context: StageContext) -> StageReport:
            run = run_assessment(context.store, context.config, company_code=context.company.code,
                                 as_of=context.as_of)
            return StageReport(counts={"customers": len(run.assessment.customers)})

Rules every stage follows:

- **idempotent**: running it twice for the same company and date leaves the store (and the ERP)
  as running it once — a resumed run or a redelivered task may run it again;
- **resumable**: what it commits it commits in its own transactions, so a crash leaves nothing
  half-written that the next attempt cannot finish;
- it raises :class:`~erp_recovery.errors.TransientError` (or returns ``retryable=True``) for what
  may pass by itself, any other :class:`~erp_recovery.errors.ErpRecoveryError` for what needs a
  person; the runner records the failure and skips the stages that depend on it, for this
  company only.

``depends_on`` names stages or groups: ``"sync"`` means every ``sync:<source>`` stage of the
run. A name that is not in the run (an engine not installed) is ignored. A stage with
``final = True`` (the report) runs after all the others, whatever their outcome.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any, ClassVar, Literal, Protocol, runtime_checkable

from erp_recovery.config import AppConfig
from erp_recovery.errors import ErpRecoveryError
from erp_recovery.model.records import Company
from erp_recovery.store import Store

StageStatus = Literal["succeeded", "failed", "skipped"]


class RunCancelled(ErpRecoveryError):
    """The run was asked to stop (SIGTERM): it stopped cleanly after the last committed batch."""


class CancelToken:
    """Set by a signal handler; stages and the sync progress callback check it between batches."""

    def __init__(self) -> None:
        self._event = threading.Event()
        self.reason = "stop requested"

    def cancel(self, reason: str = "stop requested") -> None:
        self.reason = reason
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def check(self) -> None:
        if self._event.is_set():
            raise RunCancelled(f"{self.reason}: stopped after the last committed batch; the next run resumes")

    def wait(self, seconds: float) -> bool:
        """Sleep up to ``seconds``; True when cancelled meanwhile."""
        return self._event.wait(seconds)


@dataclass
class StageReport:
    """What one stage did: JSON-ready counts and details, or why it failed."""

    status: StageStatus = "succeeded"
    counts: dict[str, int] = field(default_factory=dict)
    details: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    #: The failure may pass by itself (network, 503, database restart, lock held): retry later.
    retryable: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {"status": self.status, "counts": self.counts, "details": self.details, "error": self.error}


@dataclass
class StageContext:
    """What a stage gets: the store, the configuration, the company, the date and earlier results."""

    store: Store
    config: AppConfig
    company: Company
    as_of: date
    run_id: int
    run_key: str
    #: Sources this run syncs (every enabled source of the company unless the run names some).
    sources: tuple[str, ...]
    trigger: str = "cli"
    #: Reports of the stages of this run that finished before this one (by stage name).
    results: Mapping[str, StageReport] = field(default_factory=dict)
    cancel: CancelToken = field(default_factory=CancelToken)


@runtime_checkable
class Stage(Protocol):
    """One step of a company's pipeline (see the module docstring)."""

    @property
    def name(self) -> str: ...

    @property
    def depends_on(self) -> tuple[str, ...]: ...

    def run(self, context: StageContext) -> StageReport: ...


class BaseStage:
    """Convenience base: class attributes for name, dependencies and ``final``."""

    name: ClassVar[str] = ""
    depends_on: ClassVar[tuple[str, ...]] = ()
    final: ClassVar[bool] = False


def is_final(stage: Stage) -> bool:
    return bool(getattr(stage, "final", False))


def dependency_matches(dependency: str, stage_name: str) -> bool:
    """``"sync"`` matches ``sync`` and every ``sync:<source>``; other names match themselves."""
    return stage_name == dependency or stage_name.startswith(dependency + ":")
