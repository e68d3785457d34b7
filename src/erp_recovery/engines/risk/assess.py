"""Assess a portfolio: figures, score, credit limit and flags per customer, company figures, proposals.

:func:`assess_portfolio` is pure: the same portfolio, date and configuration give the same
assessment. Its :meth:`PortfolioAssessment.proposals` are the decisions meant for the write-back
plan (credit limit, risk flags); nothing is written without ``apply``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

from erp_recovery.engines.legal import load_profile
from erp_recovery.engines.risk.config import RiskConfig
from erp_recovery.engines.risk.credit_limit import CreditLimitRecommendation, recommend_credit_limit
from erp_recovery.engines.risk.figures import DsoPoint, ReceivablesFigures, compute_figures, dso_trend
from erp_recovery.engines.risk.flags import RiskFlag, compute_flags
from erp_recovery.engines.risk.portfolio import Portfolio
from erp_recovery.engines.risk.score import RiskScore, ScoreInputs, score_customer
from erp_recovery.model.records import Customer

ProposalField = Literal["credit_limit", "risk_flags"]


@dataclass(frozen=True)
class RiskProposal:
    """A change the risk engine proposes on a customer record in the ERP."""

    customer_id: str
    field: ProposalField
    current: Any
    proposed: Any
    reason: str


@dataclass(frozen=True)
class CustomerAssessment:
    customer: Customer
    as_of: dt.date
    figures: ReceivablesFigures
    score: RiskScore
    credit_limit: CreditLimitRecommendation
    flags: tuple[RiskFlag, ...]

    @property
    def customer_id(self) -> str:
        return self.customer.external_id

    def explain(self) -> str:
        """The reasoning of the grade, the figures behind it, the limit and the flags, as text."""
        f = self.figures
        lines = [
            self.score.explain(f"{self.customer.name} ({self.customer_id}) on {self.as_of.isoformat()}: "),
            "figures:",
            f"  open {f.open_amount:.2f} {f.currency} in {f.open_items} invoice(s); overdue {f.overdue_amount:.2f}; "
            f"unallocated credits {f.unallocated_credits:.2f}",
            "  ageing: " + ", ".join(f"{b.label} {b.amount:.2f}" for b in f.ageing),
            f"  DSO countback {_opt(f.dso_countback)} days, simple {_opt(f.dso_simple)} days",
            "  days late (amount-weighted): "
            + ", ".join(f"{s.months} months {_opt(s.weighted_days)}" for s in f.lateness),
        ]
        if f.pending_count:
            lines.append(
                f"  pending bank payments (matched, not booked): {f.pending_bank_payments:.2f} in {f.pending_count} "
                f"credit(s); exposure after them {f.exposure_after_pending:.2f}"
            )
        current = self.credit_limit.current
        lines.append(
            f"credit limit: current {f'{current.amount:.2f}' if current else 'none'}, recommended "
            f"{self.credit_limit.recommended.amount:.2f} ({self.credit_limit.working})"
        )
        if self.flags:
            lines.append("flags:")
            lines.extend(f"  {flag.code}: {flag.reason}" for flag in self.flags)
        else:
            lines.append("flags: none")
        return "\n".join(lines)


def _opt(value: Decimal | None) -> str:
    return "-" if value is None else str(value)


@dataclass(frozen=True)
class PortfolioAssessment:
    as_of: dt.date
    currency: str
    company: ReceivablesFigures
    dso_trend: tuple[DsoPoint, ...]
    customers: tuple[CustomerAssessment, ...]

    def customer(self, key: str) -> CustomerAssessment | None:
        """By external id, or by name (case-insensitive) when no id matches."""
        for assessment in self.customers:
            if assessment.customer_id == key:
                return assessment
        lowered = key.casefold()
        for assessment in self.customers:
            if assessment.customer.name.casefold() == lowered:
                return assessment
        return None

    def proposals(self) -> list[RiskProposal]:
        """Credit-limit and risk-flag changes for the write-back plan, with their reasons."""
        proposals: list[RiskProposal] = []
        for assessment in self.customers:
            customer = assessment.customer
            limit = assessment.credit_limit
            if limit.should_propose:
                proposals.append(
                    RiskProposal(
                        customer_id=customer.external_id,
                        field="credit_limit",
                        current=limit.current,
                        proposed=limit.recommended,
                        reason=f"grade {assessment.score.grade} (score {assessment.score.score}): {limit.working}",
                    )
                )
            proposed_flags = tuple(sorted(flag.code for flag in assessment.flags))
            if proposed_flags != tuple(sorted(customer.risk_flags)):
                proposals.append(
                    RiskProposal(
                        customer_id=customer.external_id,
                        field="risk_flags",
                        current=tuple(sorted(customer.risk_flags)),
                        proposed=proposed_flags,
                        reason="; ".join(f"{flag.code}: {flag.reason}" for flag in assessment.flags)
                        or "no risk flag applies any more",
                    )
                )
        return proposals


def assess_portfolio(
    portfolio: Portfolio, as_of: dt.date, config: RiskConfig | None = None
) -> PortfolioAssessment:
    config = config or RiskConfig()
    profile = load_profile(portfolio.jurisdiction)
    currency = portfolio.currency
    assessments: list[CustomerAssessment] = []
    all_histories = []
    all_credit_notes = []
    for customer_id, customer in sorted(portfolio.customers.items()):
        histories = [h for h in portfolio.histories.get(customer_id, []) if h.invoice.issue_date <= as_of]
        credit_notes = portfolio.credit_notes.get(customer_id, [])
        all_histories.extend(histories)
        all_credit_notes.extend(credit_notes)
        limit = customer.credit_limit
        figures = compute_figures(
            histories,
            credit_notes,
            portfolio.pending_by_customer.get(customer_id, []),
            as_of,
            config,
            currency=currency,
            credit_limit=limit.amount if limit is not None and limit.currency == currency else None,
        )
        signals = portfolio.signals.get(customer_id)
        score = score_customer(
            figures,
            ScoreInputs(
                histories=histories,
                returned_payments=portfolio.returned_payments.get(customer_id, []),
                signals=signals,
                as_of=as_of,
            ),
            config,
        )
        recommendation = recommend_credit_limit(
            customer,
            histories,
            score.grade,
            as_of,
            config.credit_limit,
            currency=currency,
            insured_limit=portfolio.insured_limits.get(customer_id),
        )
        flags = compute_flags(
            figures, histories, signals, profile, as_of, config.flags, consumer=customer.is_consumer
        )
        assessments.append(CustomerAssessment(customer, as_of, figures, score, recommendation, flags))
    company = compute_figures(
        all_histories, all_credit_notes, list(portfolio.pending), as_of, config, currency=currency
    )
    return PortfolioAssessment(
        as_of=as_of,
        currency=currency,
        company=company,
        dso_trend=tuple(dso_trend(all_histories, as_of, config)),
        customers=tuple(assessments),
    )
