"""The pipeline: per company, sync every source → match → assess → dunning → write-back plan →
apply what the approval policy allows → report; on one machine (``erp-recovery run``,
``erp-recovery schedule``) or spread over Celery workers (``erp-recovery worker`` / ``beat``).

- :mod:`.stage` — the Stage protocol engines implement (name, depends_on, run → StageReport);
- :mod:`.stages` — the stages wired to the engines, and how an engine adds its own;
- :mod:`.runner` — runs a company's stages in order, records them, keeps failures local;
- :mod:`.approvals` — which write-back changes apply by themselves and which wait for a person;
- :mod:`.schedule` — the foreground scheduler (cron expressions, SIGTERM, health, metrics);
- :mod:`.tasks` — the Celery app and tasks (optional extra ``workers``);
- :mod:`.store` — runs, stage runs and approvals in the store;
- :mod:`.observability` — run ids in logs, Prometheus metrics, health endpoint.
"""

from erp_recovery.pipeline.runner import PipelineReport, PipelineRunner, StageOutcome, run_companies
from erp_recovery.pipeline.stage import CancelToken, RunCancelled, Stage, StageContext, StageReport

__all__ = [
    "CancelToken",
    "PipelineReport",
    "PipelineRunner",
    "RunCancelled",
    "Stage",
    "StageContext",
    "StageOutcome",
    "StageReport",
    "run_companies",
]
