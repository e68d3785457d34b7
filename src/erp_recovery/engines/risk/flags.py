"""Risk flags with their reasons: over limit, chronic late payer, deteriorating, insolvency
proceedings, prescription approaching. Each becomes a tag / risk code proposal in the write-back plan.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from dateutil.relativedelta import relativedelta

from erp_recovery.engines.legal import JurisdictionProfile, limitation_date
from erp_recovery.engines.risk.config import FlagRules
from erp_recovery.engines.risk.figures import ReceivablesFigures
from erp_recovery.engines.risk.portfolio import InvoiceHistory
from erp_recovery.engines.signals.models import CompanySignals

FlagCode = Literal[
    "over_limit",
    "chronic_late_payer",
    "deteriorating",
    "insolvency_proceedings",
    "prescription_approaching",
]
FLAG_CODES: tuple[FlagCode, ...] = (
    "over_limit",
    "chronic_late_payer",
    "deteriorating",
    "insolvency_proceedings",
    "prescription_approaching",
)


@dataclass(frozen=True)
class RiskFlag:
    code: FlagCode
    reason: str


def compute_flags(
    figures: ReceivablesFigures,
    histories: Sequence[InvoiceHistory],
    signals: CompanySignals | None,
    profile: JurisdictionProfile,
    as_of: dt.date,
    rules: FlagRules,
    *,
    consumer: bool = False,
) -> tuple[RiskFlag, ...]:
    flags: list[RiskFlag] = []
    if figures.credit_limit is not None and figures.open_amount > figures.credit_limit * (
        1 + rules.over_limit_tolerance
    ):
        flags.append(
            RiskFlag(
                "over_limit",
                f"exposure {figures.open_amount:.2f} {figures.currency} exceeds the credit limit "
                f"{figures.credit_limit:.2f} by {figures.open_amount - figures.credit_limit:.2f}",
            )
        )
    year = figures.lateness_for(12)
    if (
        year is not None
        and year.late_30_share is not None
        and year.invoices >= rules.chronic_min_invoices
        and year.late_30_share >= rules.chronic_late_share
    ):
        flags.append(
            RiskFlag(
                "chronic_late_payer",
                f"{(year.late_30_share * 100):.0f} % of {year.invoices} invoices due in the last 12 months paid or "
                f"still open more than {rules.late_days} days after their due date",
            )
        )
    recent = figures.lateness_for(3)
    if (
        recent is not None
        and year is not None
        and recent.weighted_days is not None
        and year.weighted_days is not None
        and recent.weighted_days - year.weighted_days >= rules.deteriorating_days
    ):
        flags.append(
            RiskFlag(
                "deteriorating",
                f"days late of the last 3 months ({recent.weighted_days}) exceed the 12-month figure "
                f"({year.weighted_days}) by {recent.weighted_days - year.weighted_days}",
            )
        )
    proceeding = signals.open_proceeding if signals is not None else None
    if proceeding is not None:
        flags.append(
            RiskFlag(
                "insolvency_proceedings",
                f"{proceeding.nature} published in BODACC on {proceeding.published_on.isoformat()}"
                + (f" ({proceeding.court})" if proceeding.court else "")
                + f": stop dunning and declare the claim by {proceeding.claim_deadline.isoformat()} (C. com. L622-24)",
            )
        )
    warning = as_of + relativedelta(months=rules.prescription_warning_months)
    expiring = [
        (limitation_date(profile, h.due_date, consumer=consumer), h)
        for h in histories
        if h.outstanding_on(as_of) > 0
    ]
    expiring = [(date, h) for date, h in expiring if date <= warning]
    if expiring:
        first_date, first = min(expiring, key=lambda item: item[0])
        flags.append(
            RiskFlag(
                "prescription_approaching",
                f"{len(expiring)} open invoice(s) become time-barred by {warning.isoformat()}; the first, "
                f"{first.invoice.number}, on {first_date.isoformat()} ({profile.limitation.source})",
            )
        )
    return tuple(flags)
