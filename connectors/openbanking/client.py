"""HTTP client for the account-information "transactions" endpoint of PSD2 APIs.

Berlin Group NextGenPSD2 (implementation guidelines v1.3.x, section "Read Transaction List"):
``GET {base}/v1/accounts/{account-id}/transactions?bookingStatus=booked&dateFrom=YYYY-MM-DD``
with ``Authorization: Bearer <token>`` (and ``Consent-ID`` when the bank needs it); the answer
pages through ``_links.next.href``. The same client serves GoCardless- and STET-style APIs: the
path template and where the next link lives come from the mapping file.

Behaviour: every call has a connect and read timeout; ``429 Too Many Requests`` waits the
``Retry-After`` the bank asks for (seconds or HTTP date, capped); ``5xx`` and network errors are
retried with bounded exponential back-off (tenacity); ``401`` is an authentication error, ``403``
missing consent or rights, other ``4xx`` a remote error — none of those is retried. The bearer
token never appears in errors or logs.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
import uuid
from collections.abc import Iterator, Mapping
from typing import Any
from urllib.parse import urljoin

import requests

from erp_recovery.errors import AccessDeniedError, AuthenticationError, RemoteError, TransientError
from erp_recovery.http_retry import RetryLater, retry_after_seconds, retrying

log = logging.getLogger(__name__)


class BerlinGroupClient:
    """Reads transaction pages; see the module documentation for the protocol."""

    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        path: str = "/v1/accounts/{account_id}/transactions",
        consent_id: str | None = None,
        timeout: tuple[float, float] = (5.0, 30.0),
        attempts: int = 5,
        backoff: float = 0.5,
        max_backoff: float = 30.0,
        session: requests.Session | None = None,
        sleep: Any = time.sleep,
    ) -> None:
        self.base_url = base_url.rstrip("/") + "/"
        self.path = path
        self.timeout = timeout
        self.session = session or requests.Session()
        self.headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
        if consent_id:
            self.headers["Consent-ID"] = consent_id
        self._get = retrying(attempts=attempts, backoff=backoff, max_backoff=max_backoff, sleep=sleep)(
            self._get_once
        )

    def _get_once(self, url: str, params: Mapping[str, str] | None) -> dict[str, Any]:
        headers = {**self.headers, "X-Request-ID": str(uuid.uuid4())}
        try:
            response = self.session.get(url, params=params, headers=headers, timeout=self.timeout)
        except (requests.ConnectionError, requests.Timeout) as exc:
            raise TransientError(f"GET {url}: {type(exc).__name__}") from None
        status = response.status_code
        if status == 429:
            wait = retry_after_seconds(response.headers.get("Retry-After"))
            log.info("GET %s: 429, retrying in %.1f s", url, wait)
            raise RetryLater(f"GET {url}: 429 Too Many Requests", wait)
        if status >= 500:
            raise TransientError(f"GET {url}: server error {status}")
        if status == 401:
            raise AuthenticationError(f"GET {url}: 401, the access token was refused (renew it)")
        if status == 403:
            raise AccessDeniedError(
                f"GET {url}: 403, no consent or right to read this account's transactions"
            )
        if status >= 400:
            raise RemoteError(f"GET {url}: {status} {response.text[:200]}")
        try:
            data = response.json()
        except ValueError:
            raise RemoteError(f"GET {url}: the answer is not JSON") from None
        if not isinstance(data, dict):
            raise RemoteError(f"GET {url}: expected a JSON object")
        return data

    def pages(
        self,
        account_id: str,
        *,
        date_from: dt.date,
        date_to: dt.date | None = None,
        booking_status: str = "booked",
        next_link: tuple[str, ...] = ("transactions", "_links", "next", "href"),
        max_pages: int = 10_000,
    ) -> Iterator[dict[str, Any]]:
        """JSON pages of an account's transactions from ``date_from``, following the next links."""
        url: str | None = urljoin(self.base_url, self.path.format(account_id=account_id).lstrip("/"))
        params: dict[str, str] | None = {"bookingStatus": booking_status, "dateFrom": date_from.isoformat()}
        if date_to is not None and params is not None:
            params["dateTo"] = date_to.isoformat()
        for _page in range(max_pages):
            if url is None:
                return
            page = self._get(url, params)
            yield page
            link = _dig(page, next_link)
            if isinstance(link, dict):
                link = link.get("href")
            url = urljoin(self.base_url, link) if isinstance(link, str) and link else None
            params = None  # the next link carries its own query
        raise RemoteError(f"more than {max_pages} pages of transactions: stopping (pagination loop?)")


def _dig(data: Any, path: tuple[str, ...]) -> Any:
    for key in path:
        if not isinstance(data, dict):
            return None
        data = data.get(key)
    return data
