"""Business days for sending dunning messages: weekends and public holidays per country.

Holidays come from the ``holidays`` package (``holidays.country_holidays``), for every country a
message concerns (the creditor's and the debtor's): a reminder is not sent on 11 November in
France, nor on a German customer's public holiday. Countries are ISO 3166-1 alpha-2 codes; ``UK``
is read as ``GB``. A country the package does not know is reported once and only its weekends
count.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable
from functools import lru_cache

import holidays

log = logging.getLogger(__name__)

ONE_DAY = dt.timedelta(days=1)
_ALIASES = {"UK": "GB", "EL": "GR"}


def _normalise(country: str) -> str:
    code = country.strip().upper()
    return _ALIASES.get(code, code)


@lru_cache(maxsize=64)
def _holidays(country: str, year: int) -> dict[dt.date, str]:
    """Public holidays of ``country`` in ``year`` with their names (cached)."""
    try:
        calendar = holidays.country_holidays(country, years=year)
    except NotImplementedError:
        log.warning("no public holiday calendar for country %s: only weekends are skipped", country)
        return {}
    return {day: str(name) for day, name in calendar.items()}


class BusinessCalendar:
    """Working days common to a set of countries (Monday-Friday, minus each one's holidays)."""

    def __init__(self, countries: Iterable[str]) -> None:
        self.countries = tuple(sorted({_normalise(c) for c in countries if c and c.strip()}))

    def holiday_name(self, day: dt.date) -> str | None:
        for country in self.countries:
            name = _holidays(country, day.year).get(day)
            if name is not None:
                return f"{name} ({country})" if name else f"public holiday ({country})"
        return None

    def is_business_day(self, day: dt.date) -> bool:
        return day.weekday() < 5 and self.holiday_name(day) is None

    def why_not(self, day: dt.date) -> str | None:
        """Why ``day`` is not a business day (``None`` when it is one)."""
        if day.weekday() >= 5:
            return day.strftime("%A")
        return self.holiday_name(day)

    def on_or_after(self, day: dt.date) -> dt.date:
        """``day`` when it is a business day, else the next one."""
        while not self.is_business_day(day):
            day += ONE_DAY
        return day

    def next_after(self, day: dt.date) -> dt.date:
        return self.on_or_after(day + ONE_DAY)

    def deadline(self, start: dt.date, days: int) -> dt.date:
        """``start`` + ``days`` calendar days, moved to the next business day when it falls on a
        weekend or holiday (as procedural deadlines are, CPC art. 642)."""
        return self.on_or_after(start + dt.timedelta(days=days))
