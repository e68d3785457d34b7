"""Due dates from payment terms, and the check of a term against the legal maximum.

France, C. com. L441-10 I (shared/domain/legal-rules.md FR-T1..FR-T3):

- nothing agreed: 30 days after receipt of the goods / performance of the service (FR-T1);
- an agreed term may not exceed 60 days from the invoice date (FR-T2);
- "45 jours fin de mois" is allowed when expressly stipulated, with two accepted computations
  (FR-T3, CEPC Q&A "sur la computation des délais"): **A** = end of the month in which invoice
  date + 45 days falls; **B** = end of the invoice month + 45 days. The method is a contract-level
  parameter (:class:`~erp_recovery.model.PaymentTerms` ``method``).

EU / UK / DE profiles: nothing agreed → 30 days from the later of delivery and invoice; more than 60
days only when expressly agreed and not grossly unfair (flagged for review).
"""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass, field

from erp_recovery.engines.legal.profiles import JurisdictionProfile
from erp_recovery.model.records import PaymentTerms


def end_of_month(day: dt.date) -> dt.date:
    return dt.date(day.year, day.month, calendar.monthrange(day.year, day.month)[1])


def end_of_month_then_days(issue_date: dt.date, days: int) -> dt.date:
    """Computation B: end of the invoice month, then ``days`` days (15/01 + 45 FDM → 17/03)."""
    return end_of_month(issue_date) + dt.timedelta(days=days)


def days_then_end_of_month(issue_date: dt.date, days: int) -> dt.date:
    """Computation A: invoice date + ``days``, then end of that month (15/01 + 45 FDM → 31/03)."""
    return end_of_month(issue_date + dt.timedelta(days=days))


@dataclass(frozen=True)
class DueDate:
    """A computed due date, how it was obtained, and whether the term exceeds the legal maximum."""

    date: dt.date
    rule: str
    term_days: int
    beyond_legal_max: bool = False
    reasons: tuple[str, ...] = field(default_factory=tuple)


def compute_due_date(
    profile: JurisdictionProfile,
    issue_date: dt.date,
    terms: PaymentTerms | None = None,
    *,
    delivery_date: dt.date | None = None,
) -> DueDate:
    """Due date of an invoice issued on ``issue_date`` under ``terms`` (None = nothing agreed)."""
    if terms is None:
        return _default_due_date(profile, issue_date, delivery_date)
    if terms.method == "on_receipt":
        due, rule = issue_date, "payable on receipt"
    elif terms.method == "net":
        due, rule = issue_date + dt.timedelta(days=terms.days), f"{terms.days} days net from the invoice date"
    elif terms.method == "days_then_end_of_month":
        due = days_then_end_of_month(issue_date, terms.days)
        rule = f"{terms.days} days end of month, computation A (invoice date + {terms.days} days, then end of month)"
    else:
        due = end_of_month_then_days(issue_date, terms.days)
        rule = (
            f"{terms.days} days end of month, computation B (end of invoice month, then + {terms.days} days)"
        )
    term_days = (due - issue_date).days
    beyond, reasons = check_term(profile, issue_date, due, terms)
    return DueDate(date=due, rule=rule, term_days=term_days, beyond_legal_max=beyond, reasons=reasons)


def _default_due_date(
    profile: JurisdictionProfile, issue_date: dt.date, delivery_date: dt.date | None
) -> DueDate:
    rule = profile.terms
    reasons: list[str] = []
    if rule.default_anchor == "delivery":
        anchor = delivery_date or issue_date
        anchor_text = "receipt of the goods / performance"
        if delivery_date is None:
            reasons.append("delivery date unknown: the invoice date stands in for it")
    elif rule.default_anchor == "invoice":
        anchor, anchor_text = issue_date, "the invoice date"
    else:
        anchor = max(issue_date, delivery_date or issue_date)
        anchor_text = "the later of delivery and invoice"
    due = anchor + dt.timedelta(days=rule.default_days)
    text = f"nothing agreed: {rule.default_days} days after {anchor_text} ({profile.code} default)"
    return DueDate(date=due, rule=text, term_days=(due - issue_date).days, reasons=tuple(reasons))


def check_term(
    profile: JurisdictionProfile, issue_date: dt.date, due_date: dt.date, terms: PaymentTerms | None
) -> tuple[bool, tuple[str, ...]]:
    """Whether ``due_date`` is beyond the legal maximum of ``profile``, with the reasons.

    France: beyond issue + 60 days is allowed only for an expressly stipulated "45 jours fin de
    mois" (either computation). Elsewhere: beyond 60 days needs express agreement and must not be
    grossly unfair, which a person must review, so it is flagged.
    """
    rule = profile.terms
    limit = issue_date + dt.timedelta(days=rule.max_days)
    if due_date <= limit:
        return False, ()
    days = (due_date - issue_date).days
    end_of_month_terms = terms is not None and terms.method in (
        "days_then_end_of_month",
        "end_of_month_then_days",
    )
    if rule.end_of_month_days is not None and end_of_month_terms and terms is not None:
        if terms.days <= rule.end_of_month_days and terms.expressly_agreed:
            return False, ()
        if terms.days <= rule.end_of_month_days:
            return True, (
                f"{days} days exceeds {rule.max_days} days from the invoice date; {rule.end_of_month_days} days "
                f"end of month is allowed only if expressly stipulated ({rule.end_of_month_source})",
            )
        return True, (
            f"{terms.days} days end of month ({days} days) exceeds both {rule.max_days} days and "
            f"{rule.end_of_month_days} days end of month ({rule.max_days_source}; {rule.end_of_month_source})",
        )
    if profile.code == "FR":
        return True, (
            f"{days} days exceeds the legal maximum of {rule.max_days} days from the invoice date "
            f"({rule.max_days_source})",
        )
    return True, (
        f"{days} days exceeds {rule.max_days} days: valid only if expressly agreed and not grossly unfair "
        f"({rule.max_days_source})",
    )
