"""One retry policy for the HTTP APIs we call (Open Banking, BODACC, company register).

Transient failures (network errors, timeouts, 5xx, 429) are retried with bounded exponential
back-off (tenacity); a ``429`` or ``503`` that says ``Retry-After`` (seconds or an HTTP date) is
waited as asked, capped. Anything else is not retried.
"""

from __future__ import annotations

import datetime as dt
import email.utils
from collections.abc import Callable
from typing import Any, TypeVar

from tenacity import RetryCallState, retry, retry_if_exception_type, stop_after_attempt, wait_exponential

from erp_recovery.errors import TransientError

#: Longest wait honoured for a Retry-After header (seconds).
MAX_RETRY_AFTER = 120.0

F = TypeVar("F", bound=Callable[..., Any])


class RetryLater(TransientError):
    """The server asked us to wait ``retry_after`` seconds (429, or 503 with Retry-After)."""

    def __init__(self, message: str, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = retry_after


def retry_after_seconds(value: str | None, default: float = 1.0) -> float:
    """Seconds a ``Retry-After`` header asks for (delta-seconds or HTTP date), within 0..MAX."""
    if not value:
        return default
    try:
        return min(max(float(value), 0.0), MAX_RETRY_AFTER)
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return default
    seconds = (when - dt.datetime.now(dt.UTC)).total_seconds()
    return min(max(seconds, 0.0), MAX_RETRY_AFTER)


class _Wait:
    """Exponential back-off, or at least what the server asked for."""

    def __init__(self, base: float, cap: float) -> None:
        self._exponential = wait_exponential(multiplier=base, max=cap)

    def __call__(self, state: RetryCallState) -> float:
        delay = float(self._exponential(state))
        outcome = state.outcome
        exc = outcome.exception() if outcome is not None else None
        if isinstance(exc, RetryLater):
            return max(delay, exc.retry_after) if exc.retry_after else delay
        return delay


def retrying(
    *, attempts: int, backoff: float, max_backoff: float = 60.0, sleep: Callable[[float], None] | None = None
) -> Callable[[F], F]:
    """Decorator: retry on :class:`TransientError`, ``attempts`` calls at most, then re-raise."""
    options: dict[str, Any] = {}
    if sleep is not None:
        options["sleep"] = sleep
    decorator: Callable[[F], F] = retry(
        retry=retry_if_exception_type(TransientError),
        stop=stop_after_attempt(attempts),
        wait=_Wait(backoff, max_backoff),
        reraise=True,
        **options,
    )
    return decorator
