"""The demo company: bundled data and the stages ``erp-recovery demo`` runs on it.

The data in ``data/`` describes "Atelier Démo SAS", a French SME with a dozen customers of
different payment behaviours (on time, late, chronic, disputing, partial, over limit, a consumer,
a parent paying for its subsidiary), as of :data:`DEMO_AS_OF`. Every engine adds its stage to
:data:`STAGES`, so the demo keeps showing everything the tool does.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from importlib import resources
from pathlib import Path
from typing import Any

from erp_recovery.config import AppConfig, parse_config
from erp_recovery.store import Store

#: The demo data's "today": due dates, ageing and dunning are computed at this date.
DEMO_AS_OF = date(2026, 11, 20)
DEMO_COMPANY = "demo"


def data_dir() -> Path:
    """Folder of the bundled demo files (inside the installed package)."""
    return Path(str(resources.files("erp_recovery.demo").joinpath("data")))


def demo_config_text(database: Path) -> str:
    data = data_dir()
    return f"""\
# Configuration of the erp-recovery demo company (written by 'erp-recovery demo').
# Try: erp-recovery --config {database.with_suffix(".toml").name} status

[store]
url = "{database.name}"

[[companies]]
code = "{DEMO_COMPANY}"
name = "Atelier Démo SAS"
siren = "900000126"
base_currency = "EUR"
jurisdiction = "FR"
iban = "FR7630006000011234567890189"
bic = "AGRIFRPP"
email = "recouvrement@atelier-demo.example"
address = {{ street = "12 quai des Célestins", postal_code = "69002", city = "Lyon", country = "FR" }}

[[sources]]
name = "demo-books"
company = "{DEMO_COMPANY}"
connector = "csv"
[sources.settings.streams.customers]
path = "{data / "customers.csv"}"
mapping = "csv_customers"
snapshot = true
[sources.settings.streams.invoices]
path = "{data / "invoices.csv"}"
mapping = "csv_invoices"
snapshot = true
[sources.settings.streams.payments]
path = "{data / "payments.csv"}"
mapping = "csv_payments"
snapshot = true
[sources.settings.streams.allocations]
path = "{data / "allocations.csv"}"
mapping = "csv_allocations"
snapshot = true
# Write-back: an import file in the customers export's layout, and a log of dunning steps.
[sources.settings.writeback]
stream = "customers"
output = "{database.stem}-outbox/customers-import.csv"
actions_output = "{database.stem}-outbox/dunning-steps.csv"
[sources.settings.writeback.columns]
credit_limit = "credit_limit"
risk_flag = "risk_code"

[[sources]]
name = "demo-bank"
company = "{DEMO_COMPANY}"
connector = "bank-files"
[sources.settings]
files = ["{data / "bank-statement.camt053.xml"}"]

[writeback]
owned_fields = ["credit_limit", "risk_flag", "dunning_step"]
# The demo has a dozen customers; a real ledger keeps the default safety share (0.2).
max_share = 1.0
"""


def demo_config(database: Path) -> tuple[AppConfig, str]:
    import tomllib

    text = demo_config_text(database)
    return parse_config(tomllib.loads(text), path=database.with_suffix(".toml").resolve()), text


@dataclass
class StageContext:
    """What a demo stage gets: the store, the configuration, the demo date, and a line printer."""

    store: Store
    config: AppConfig
    as_of: date
    company: str
    echo: Callable[[str], None]


#: A stage returns a JSON-ready summary of what it did (shown in the demo's output).
Stage = Callable[[StageContext], dict[str, Any]]


def _sync_stage(context: StageContext) -> dict[str, Any]:
    from erp_recovery.sync.runner import sync_sources

    reports = sync_sources(context.store, context.config)
    for report in reports:
        if report.status != "succeeded":
            raise RuntimeError(f"demo sync of {report.source} failed: {report.error}")
    return {report.source: report.counts() for report in reports}


def _receivables_stage(context: StageContext) -> dict[str, Any]:
    from erp_recovery.demo.summary import receivables_summary

    return receivables_summary(context.store, context.company, context.as_of)


def _match_stage(context: StageContext) -> dict[str, Any]:
    from erp_recovery.store.matching import demo_stage

    return demo_stage(context)


def _risk_stage(context: StageContext) -> dict[str, Any]:
    from erp_recovery.reports.demo_stage import risk_stage

    return risk_stage(context)


def _dunning_stage(context: StageContext) -> dict[str, Any]:
    from erp_recovery.dunning_ops.demo_stage import dunning_stage

    return dunning_stage(context)


def _writeback_stage(context: StageContext) -> dict[str, Any]:
    from erp_recovery.demo.writeback_stage import plan_and_apply

    return plan_and_apply(context, source="demo-books")


#: (name, stage) in the order the demo runs them. Later engines insert theirs after "sync".
STAGES: list[tuple[str, Stage]] = [
    ("sync", _sync_stage),
    ("receivables", _receivables_stage),
    ("match", _match_stage),
    ("risk", _risk_stage),
    ("dunning", _dunning_stage),
    ("writeback", _writeback_stage),
]
