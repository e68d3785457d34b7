"""Limitation (prescription) of a debt under a jurisdiction profile.

FR: 5 years between merchants (C. com. L110-4), 2 years from a professional to a consumer
(C. conso L218-2); UK: 6 years (Limitation Act 1980 s.5); DE: 3 years from the end of the year the
claim arose (BGB §195, §199). Counted here from the due date; interruptions (acknowledgment,
partial payment, court claim) are the caller's to apply by passing the later starting date.
"""

from __future__ import annotations

import datetime as dt

from erp_recovery.engines.legal.profiles import JurisdictionProfile


def _add_years(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def limitation_date(profile: JurisdictionProfile, due_date: dt.date, *, consumer: bool = False) -> dt.date:
    """Last day on which the claim can still be brought, counted from ``due_date``."""
    rule = profile.limitation
    years = rule.consumer_years if consumer else rule.b2b_years
    if rule.from_year_end:
        return dt.date(due_date.year + years, 12, 31)
    return _add_years(due_date, years)
