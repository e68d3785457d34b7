"""Run a risk assessment of a configured company: load, fetch signals (when enabled), assess, save.

The glue between the configuration, the store and the pure risk engine, shared by the ``assess``
and ``report`` commands and the demo.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field

from erp_recovery.config import AppConfig
from erp_recovery.engines.risk import PortfolioAssessment, RiskConfig, assess_portfolio
from erp_recovery.engines.signals.clients import SignalsService, SignalsSettings
from erp_recovery.engines.signals.models import CompanySignals
from erp_recovery.errors import ConfigError
from erp_recovery.model.records import Company
from erp_recovery.reports.data import load_portfolio
from erp_recovery.store import Store
from erp_recovery.store import runs as run_store
from erp_recovery.store.risk import save_assessment

logger = logging.getLogger(__name__)


@dataclass
class AssessmentRun:
    company: Company
    assessment: PortfolioAssessment
    saved_rows: int = 0
    warnings: list[str] = field(default_factory=list)


def resolve_company(config: AppConfig, code: str | None) -> Company:
    if code is not None:
        return config.company(code)
    if len(config.companies) == 1:
        return config.companies[0]
    known = ", ".join(c.code for c in config.companies) or "none"
    raise ConfigError(
        f"several companies are configured ({known}): choose one with --company", key="--company"
    )


def run_assessment(
    store: Store,
    config: AppConfig,
    *,
    company_code: str | None,
    as_of: dt.date,
    use_signals: bool | None = None,
    save: bool = True,
) -> AssessmentRun:
    company = resolve_company(config, company_code)
    risk_config = config.section("risk", RiskConfig)
    signal_settings = config.section("signals", SignalsSettings)
    warnings: list[str] = []
    signals: dict[str, CompanySignals] = {}
    portfolio = load_portfolio(store, company)
    if use_signals if use_signals is not None else signal_settings.enabled:
        service = SignalsService(signal_settings, base_dir=config.base_dir)
        sirens = {
            cid: customer.siren
            for cid, customer in portfolio.customers.items()
            if customer.siren and not customer.is_consumer
        }
        signals, problems = service.signals_for_customers(sirens)
        warnings.extend(f"signals: {problem}" for problem in problems)
        portfolio.signals = signals
    assessment = assess_portfolio(portfolio, as_of, risk_config)
    saved = 0
    if save:
        with store.begin() as connection:
            company_id = run_store.company_id(connection, company.code)
            if company_id is not None:
                saved = save_assessment(connection, company_id, assessment)
    return AssessmentRun(company=company, assessment=assessment, saved_rows=saved, warnings=warnings)
