"""Settings of the pipeline, the scheduler and the workers (``[pipeline]``, ``[schedule]``, ``[workers]``).

Example::

    [pipeline]
    stages = ["sync", "match", "assess", "dunning", "writeback_plan", "apply", "report"]
    writeback_providers = ["risk", "dunning"]   # default: every installed provider
    stage_retries = 3                 # retries of a transient failure (503, database restart...)
    retry_wait_seconds = 5            # first wait, doubled each time up to retry_max_wait_seconds
    report_dir = "reports/runs"       # one JSON summary per run (optional)
    dunning_send = false              # true: the pipeline sends dunning e-mails (SMTP configured)

    [schedule]
    default = "*/15 * * * *"          # every company, every 15 minutes
    companies = { acme = "0 7-19 * * 1-5" }
    health_file = "/run/erp-recovery/health.json"
    http = "127.0.0.1:9108"           # /healthz and /metrics
    concurrency = 2                   # companies run at once (never twice the same one)

    [workers]
    broker_url = "redis://127.0.0.1:6379/0"    # or "amqp://guest:guest@127.0.0.1:5672//"

A source's own ``schedule`` (``[[sources]] schedule = "*/5 * * * *"``) syncs that source and runs
the company's stages after it.
"""

from __future__ import annotations

from functools import cache
from importlib.metadata import EntryPoint, entry_points

from pydantic import BaseModel, ConfigDict, Field, field_validator

#: The pipeline's stages in the order they run; engines not installed are left out.
DEFAULT_STAGES = ("sync", "match", "assess", "dunning", "writeback_plan", "apply", "report")


STAGE_ENTRY_POINTS = "erp_recovery.pipeline_stages"


@cache
def plugin_stage_entry_points() -> tuple[EntryPoint, ...]:
    """Stages other packages register (scanned once per process: the scan is not free)."""
    return tuple(entry_points(group=STAGE_ENTRY_POINTS))


def plugin_stage_names() -> tuple[str, ...]:
    return tuple(entry.name for entry in plugin_stage_entry_points())


def check_cron(expression: str) -> str:
    """A five-field cron expression (``*/15 * * * *``), checked with croniter."""
    from croniter import croniter

    text = " ".join(expression.split())
    if len(text.split()) != 5 or not croniter.is_valid(text):
        raise ValueError(
            f"not a cron expression: {expression!r} (five fields: minute hour day-of-month month "
            "day-of-week, e.g. '*/15 * * * *')"
        )
    return text


class PipelineSettings(BaseModel):
    """The ``[pipeline]`` section."""

    model_config = ConfigDict(extra="forbid")

    stages: tuple[str, ...] = DEFAULT_STAGES
    #: Write-back proposal providers the plan stage asks (None: every installed one).
    writeback_providers: tuple[str, ...] | None = None
    stage_retries: int = Field(default=3, ge=0, le=20)
    retry_wait_seconds: float = Field(default=5.0, ge=0, le=3600)
    retry_max_wait_seconds: float = Field(default=120.0, ge=0, le=3600)
    #: How long a sync waits for another sync of the same source to finish.
    lock_wait_seconds: float = Field(default=60.0, ge=0, le=86400)
    report_dir: str | None = None
    #: Send dunning e-mails from the pipeline (else they wait in the outbox for 'dunning run').
    dunning_send: bool = False

    @field_validator("stages")
    @classmethod
    def _known_stages(cls, stages: tuple[str, ...]) -> tuple[str, ...]:
        known = (*DEFAULT_STAGES, *sorted(set(plugin_stage_names()) - set(DEFAULT_STAGES)))
        unknown = [name for name in stages if name not in known]
        if unknown:
            raise ValueError(f"unknown stage {unknown[0]!r}; stages: {', '.join(known)}")
        return stages


class ScheduleSettings(BaseModel):
    """The ``[schedule]`` section."""

    model_config = ConfigDict(extra="forbid")

    #: Cron expression for every company without its own entry (None: only those listed).
    default: str | None = None
    companies: dict[str, str] = Field(default_factory=dict)
    health_file: str | None = None
    #: host:port of the /healthz and /metrics endpoint (None: no HTTP server).
    http: str | None = None
    concurrency: int = Field(default=1, ge=1, le=64)
    #: The health check fails when the loop has not ticked for this long.
    health_max_age_seconds: float = Field(default=120.0, gt=0)
    #: On SIGTERM, how long to wait for running jobs to stop after their current batch.
    stop_timeout_seconds: float = Field(default=60.0, ge=0)

    @field_validator("default")
    @classmethod
    def _cron(cls, value: str | None) -> str | None:
        return check_cron(value) if value is not None else None

    @field_validator("companies")
    @classmethod
    def _crons(cls, value: dict[str, str]) -> dict[str, str]:
        return {company: check_cron(expression) for company, expression in value.items()}


class WorkerSettings(BaseModel):
    """The ``[workers]`` section (Celery worker mode)."""

    model_config = ConfigDict(extra="forbid")

    broker_url: str = "redis://127.0.0.1:6379/0"
    #: Prefix of the queues: <prefix>.control, <prefix>.sync, <prefix>.stages.
    queue_prefix: str = Field(default="erp-recovery", pattern=r"^[A-Za-z0-9_.-]+$")
    #: Redis only: seconds before a task taken by a worker that died is delivered again.
    visibility_timeout_seconds: int = Field(default=3600, ge=5)
    #: Retries of a task that failed transiently, with exponential back-off.
    max_retries: int = Field(default=5, ge=0, le=50)
    retry_backoff_seconds: float = Field(default=5.0, ge=0)
    retry_backoff_max_seconds: float = Field(default=300.0, ge=0)
    #: A run with no progress for this long is abandoned (its tasks were lost) and a new one starts.
    run_timeout_seconds: float = Field(default=3600.0, gt=0)
    #: How long a sync task waits for another sync of the same source before retrying later.
    lock_wait_seconds: float = Field(default=10.0, ge=0)
