"""Polite HTTP for the public signal APIs: timeouts, bounded retries, a rate limit, a TTL cache.

- Every request has a connect/read timeout.
- Connection errors, timeouts, 429 and 5xx are retried ``retries`` times with exponential back-off
  (a 429's ``Retry-After`` is honoured); after that a :class:`~erp_recovery.errors.TransientError`
  says to try again later. Other 4xx answers are a :class:`~erp_recovery.errors.RemoteError`.
- A minimum interval between requests per host keeps under the published quotas (API Recherche
  d'entreprises: 7 calls/s; BODACC Opendatasoft: per-portal quota, 429 beyond).
- Answers are cached as JSON files for ``cache_ttl_hours``, so a daily run does not ask twice.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests

from erp_recovery import __version__
from erp_recovery.errors import RemoteError, TransientError
from erp_recovery.http_retry import RetryLater, retry_after_seconds, retrying

logger = logging.getLogger(__name__)

RETRYABLE_STATUS = frozenset({429, 500, 502, 503, 504})


class RateLimiter:
    """At most one request every ``1 / per_second`` seconds (per instance; one per host)."""

    def __init__(
        self,
        per_second: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if per_second <= 0:
            raise ValueError("per_second must be positive")
        self.interval = 1.0 / per_second
        self._clock = clock
        self._sleep = sleep
        self._next = 0.0
        self._lock = threading.Lock()

    def wait(self) -> None:
        with self._lock:
            now = self._clock()
            if now < self._next:
                self._sleep(self._next - now)
                now = self._next
            self._next = now + self.interval


class TtlCache:
    """JSON answers on disk, keyed by URL and parameters, valid for ``ttl_seconds``."""

    def __init__(
        self, directory: Path, ttl_seconds: float, *, clock: Callable[[], float] = time.time
    ) -> None:
        self.directory = directory
        self.ttl_seconds = ttl_seconds
        self._clock = clock

    @staticmethod
    def key(url: str, params: Mapping[str, Any]) -> str:
        canonical = json.dumps(
            {"url": url, "params": dict(sorted(params.items()))}, sort_keys=True, default=str
        )
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()

    def _path(self, key: str) -> Path:
        return self.directory / f"{key}.json"

    def get(self, key: str) -> Any | None:
        path = self._path(key)
        try:
            entry = json.loads(path.read_text(encoding="utf-8"))
        except (FileNotFoundError, json.JSONDecodeError, OSError):
            return None
        if self._clock() - float(entry.get("stored_at", 0)) > self.ttl_seconds:
            return None
        return entry.get("body")

    def put(self, key: str, body: Any) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        payload = json.dumps({"stored_at": self._clock(), "body": body}, ensure_ascii=False)
        handle, temporary = tempfile.mkstemp(dir=self.directory, suffix=".tmp")
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(payload)
        os.replace(temporary, self._path(key))

    def forget(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)


class JsonClient:
    """GET JSON with timeout, retries, rate limit and cache. One per API."""

    def __init__(
        self,
        *,
        name: str,
        session: requests.Session | None = None,
        timeout: float = 10.0,
        retries: int = 3,
        backoff: float = 0.5,
        per_second: float = 5.0,
        cache: TtlCache | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.name = name
        self.session = session or requests.Session()
        self.session.headers.setdefault("User-Agent", f"erp-recovery/{__version__} (+risk signals)")
        self.session.headers.setdefault("Accept", "application/json")
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self.limiter = RateLimiter(per_second, sleep=sleep)
        self.cache = cache
        self._sleep = sleep
        #: Requests actually sent (cache hits excluded), for reports and tests.
        self.requests_sent = 0

    def get(self, url: str, params: Mapping[str, Any]) -> Any:
        key = TtlCache.key(url, params)
        if self.cache is not None:
            cached = self.cache.get(key)
            if cached is not None:
                logger.debug("%s: cache hit for %s", self.name, url)
                return cached
        body = self._fetch(url, params)
        if self.cache is not None:
            self.cache.put(key, body)
        return body

    def _fetch(self, url: str, params: Mapping[str, Any]) -> Any:
        host = urlsplit(url).netloc
        attempts = self.retries + 1
        fetch = retrying(attempts=attempts, backoff=self.backoff, sleep=self._sleep)(self._fetch_once)
        try:
            return fetch(url, params, host)
        except TransientError as exc:
            raise TransientError(
                f"{self.name} ({host}) unavailable after {attempts} attempts ({exc.message}); try again later",
                attempts=attempts,
            ) from None

    def _fetch_once(self, url: str, params: Mapping[str, Any], host: str) -> Any:
        self.limiter.wait()
        try:
            self.requests_sent += 1
            response = self.session.get(url, params=dict(params), timeout=self.timeout)
        except (requests.ConnectionError, requests.Timeout) as exc:
            logger.info("%s: %s, will retry", self.name, type(exc).__name__)
            raise TransientError(type(exc).__name__) from None
        if response.status_code == 200:
            try:
                return response.json()
            except ValueError:
                raise RemoteError(
                    f"{self.name} ({host}) answered 200 with a body that is not JSON", status=200
                ) from None
        if response.status_code not in RETRYABLE_STATUS:
            raise RemoteError(
                f"{self.name} ({host}) refused the request: HTTP {response.status_code} {response.text[:200]!r}",
                status=response.status_code,
            )
        logger.info("%s: HTTP %s, will retry", self.name, response.status_code)
        raise RetryLater(
            f"HTTP {response.status_code}",
            retry_after_seconds(response.headers.get("Retry-After"), default=0.0),
        )
