"""Recommended credit limit (plafond d'encours) from a configurable policy.

recommended = monthly sales × ((payment terms days + billing cycle days) / 30) × grade factor,
capped by the insured limit when one is known, rounded down to a multiple of ``rounding``. The
billing cycle (30 days by default) is there because a customer paying exactly on time still owes
the invoices of the current month on top of those within their terms: a prompt customer on 30
days typically carries about two months of sales. Monthly sales = invoiced amount
(incl. VAT) of the last ``sales_months`` months / ``sales_months`` (or / the months since the first
invoice when the relationship is younger). The working is kept as text so
the proposal in the write-back plan says why.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import ROUND_FLOOR, Decimal

from dateutil.relativedelta import relativedelta

from erp_recovery.engines.risk.config import CreditLimitPolicy, Grade
from erp_recovery.engines.risk.figures import sales_between
from erp_recovery.engines.risk.portfolio import InvoiceHistory
from erp_recovery.model.money import Money
from erp_recovery.model.records import Customer


@dataclass(frozen=True)
class CreditLimitRecommendation:
    customer_id: str
    current: Money | None
    recommended: Money
    working: str
    capped_by_insurance: bool
    #: Whether the difference with the current limit is worth a write-back proposal.
    should_propose: bool


def recommend_credit_limit(
    customer: Customer,
    histories: list[InvoiceHistory],
    grade: Grade,
    as_of: dt.date,
    policy: CreditLimitPolicy,
    *,
    currency: str,
    insured_limit: Money | None = None,
) -> CreditLimitRecommendation:
    start = as_of - relativedelta(months=policy.sales_months) + dt.timedelta(days=1)
    issued = [h.invoice.issue_date for h in histories if h.invoice.issue_date <= as_of]
    months = policy.sales_months
    if issued and min(issued) > start:
        # A younger relationship: average over the months it has lasted (at least one).
        span = relativedelta(as_of, min(issued))
        months = max(1, min(policy.sales_months, span.years * 12 + span.months + (1 if span.days else 0)))
    monthly_sales = sales_between(histories, start, as_of) / months
    terms = customer.payment_terms
    terms_days = policy.default_terms_days
    terms_text = f"{terms_days} days (default)"
    if terms is not None and terms.method != "on_receipt":
        extra = 15 if terms.method in ("days_then_end_of_month", "end_of_month_then_days") else 0
        terms_days = terms.days + extra
        terms_text = f"{terms.days} days{' end of month (+15)' if extra else ''}"
    terms_days = max(terms_days, policy.min_terms_days)
    factor = policy.grade_factors[grade]
    carried_days = terms_days + policy.billing_cycle_days
    raw = monthly_sales * Decimal(carried_days) / 30 * factor
    capped = False
    if insured_limit is not None and insured_limit.currency == currency and raw > insured_limit.amount:
        raw, capped = insured_limit.amount, True
    step = policy.rounding if policy.rounding > 0 else Decimal("0.01")
    rounded = (raw / step).to_integral_value(rounding=ROUND_FLOOR) * step
    recommended = Money(amount=max(Decimal(0), rounded), currency=currency)
    working = (
        f"monthly sales {monthly_sales:.2f} ({months} months) × terms {terms_text} → "
        f"({terms_days} + {policy.billing_cycle_days} billing cycle)/30 × grade {grade} factor {factor}"
        + (f", capped by the insured limit {insured_limit}" if capped else "")
        + f", rounded down to {step} = {recommended.amount} {currency}"
    )
    current = (
        customer.credit_limit
        if customer.credit_limit and customer.credit_limit.currency == currency
        else None
    )
    if current is None:
        should = recommended.amount > 0 or grade == "E"
    elif current.amount == 0:
        should = recommended.amount > 0
    else:
        should = abs(recommended.amount - current.amount) / current.amount >= policy.min_change_ratio
    return CreditLimitRecommendation(
        customer_id=customer.external_id,
        current=current,
        recommended=recommended,
        working=working,
        capped_by_insurance=capped,
        should_propose=should,
    )
