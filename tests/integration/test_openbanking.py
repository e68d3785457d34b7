"""Open Banking client and connector: `responses` for the HTTP edge cases, and a real HTTP server
on 127.0.0.1 (http.server in a thread) for a whole sync through the runner."""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections.abc import Iterator
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
import responses
from erp_recovery.connectors.openbanking.client import BerlinGroupClient
from erp_recovery.connectors.openbanking.mapping import load_mapping

from erp_recovery.config import load_config
from erp_recovery.errors import AuthenticationError, TransientError
from erp_recovery.store import Store
from erp_recovery.sync.runner import SyncRunner

BASE = "https://psd2.bank.test"
ACCOUNT = "acc-1"


def _transaction(number: int, amount: str, day: str, **extra: Any) -> dict[str, Any]:
    return {
        "transactionId": f"T{number}",
        "bookingDate": day,
        "valueDate": day,
        "transactionAmount": {"amount": amount, "currency": "EUR"},
        **extra,
    }


PAGE_1 = {
    "account": {"iban": "FR7630006000011234567890189"},
    "transactions": {
        "booked": [
            _transaction(
                1,
                "250.00",
                "2024-03-01",
                debtorName="BOULANGERIE MARTIN SARL",
                debtorAccount={"iban": "DE89370400440532013000"},
                endToEndId="E2E-FA-2024-0101",
                remittanceInformationUnstructured="FACTURE FA-2024-0101",
            ),
            _transaction(
                2,
                "545.00",
                "2024-03-01",
                debtorName="ATELIER LEROY",
                remittanceInformationUnstructuredArray=["REGLEMENT", "FA-2024-0150"],
                remittanceInformationStructured={"reference": "RF18 5390 0754 7034", "referenceType": "SCOR"},
            ),
        ],
        "_links": {"next": {"href": f"/v1/accounts/{ACCOUNT}/transactions?page=2"}},
    },
}
PAGE_2 = {
    "transactions": {
        "booked": [
            _transaction(
                3, "-20.00", "2024-03-04", creditorName="BANQUE", remittanceInformationStructured="FRAIS"
            )
        ],
        "_links": {},
    }
}


def _client(**options: Any) -> BerlinGroupClient:
    return BerlinGroupClient(BASE, "secret-token", sleep=lambda _seconds: None, **options)


@responses.activate
def test_pagination_rate_limit_and_server_errors_are_handled() -> None:
    url = f"{BASE}/v1/accounts/{ACCOUNT}/transactions"
    responses.get(url, status=429, headers={"Retry-After": "2"})
    responses.get(url, status=503)
    responses.get(url, json=PAGE_1)
    responses.get(f"{url}?page=2", json=PAGE_2)
    pages = list(_client().pages(ACCOUNT, date_from=dt.date(2024, 3, 1)))
    assert [len(page["transactions"]["booked"]) for page in pages] == [2, 1]
    first = responses.calls[0].request
    assert first.headers["Authorization"] == "Bearer secret-token"
    assert parse_qs(urlparse(first.url).query) == {"bookingStatus": ["booked"], "dateFrom": ["2024-03-01"]}


@responses.activate
def test_errors_are_bounded_and_never_show_the_token() -> None:
    url = f"{BASE}/v1/accounts/{ACCOUNT}/transactions"
    for _ in range(3):
        responses.get(url, status=502)
    with pytest.raises(TransientError, match="server error 502") as caught:
        list(_client(attempts=3).pages(ACCOUNT, date_from=dt.date(2024, 3, 1)))
    assert "secret-token" not in str(caught.value)
    assert len(responses.calls) == 3
    responses.reset()
    responses.get(url, status=401)
    with pytest.raises(AuthenticationError):
        list(_client().pages(ACCOUNT, date_from=dt.date(2024, 3, 1)))
    assert len(responses.calls) == 1


def test_mapping_variants_are_data() -> None:
    stet = load_mapping("openbanking_stet")
    item = {
        "resourceId": "R1",
        "transactionAmount": {"amount": "12.50", "currency": "EUR"},
        "creditDebitIndicator": "DBIT",
        "status": "BOOK",
        "bookingDate": "2024-03-01",
        "relatedParties": {"creditor": {"name": "EDF"}},
        "remittanceInformation": {"unstructured": ["ECHEANCE MARS"]},
    }
    fields = stet.canonical_fields(item, record_id="R1")
    assert fields["amount"][0] == Decimal("-12.50") and fields["counterparty_name"] == "EDF"
    assert fields["remittance"] == "ECHEANCE MARS"
    assert stet.transactions_of({"transactions": [item, {**item, "status": "PDNG"}]}) == [item]
    berlin = load_mapping("openbanking_berlin_group")
    mapped = berlin.canonical_fields(PAGE_1["transactions"]["booked"][1], record_id="T2")
    assert mapped["structured_reference"] == "RF18539007547034"
    assert mapped["remittance"] == "REGLEMENT FA-2024-0150"


class _Bank(BaseHTTPRequestHandler):
    """A small Berlin Group server: two pages, one 429 on the first call of each sync."""

    calls: list[str] = []
    throttled: set[str] = set()

    def do_GET(self) -> None:
        type(self).calls.append(self.path)
        if self.headers.get("Authorization") != "Bearer local-token":
            self._send(401, {"error": "unauthorized"})
            return
        query = parse_qs(urlparse(self.path).query)
        if "dateFrom" in query and query["dateFrom"][0] not in type(self).throttled:
            type(self).throttled.add(query["dateFrom"][0])
            self._send(429, {}, retry_after="0")
            return
        self._send(200, PAGE_2 if query.get("page") == ["2"] else PAGE_1)

    def _send(self, status: int, body: dict[str, Any], retry_after: str | None = None) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        if retry_after is not None:
            self.send_header("Retry-After", retry_after)
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: Any) -> None:
        return


@pytest.fixture
def bank_server() -> Iterator[str]:
    _Bank.calls, _Bank.throttled = [], set()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Bank)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_sync_against_a_real_http_server(
    tmp_path: Path, store_url: str, store: Store, bank_server: str, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("LOCAL_BANK_TOKEN", "local-token")
    config_path = tmp_path / "erp-recovery.toml"
    config_path.write_text(
        f"""
[store]
url = "{store_url}"
[[companies]]
code = "acme"
name = "ACME"
[[sources]]
name = "psd2"
company = "acme"
connector = "openbanking"
[sources.settings]
base_url = "{bank_server}"
token_env = "LOCAL_BANK_TOKEN"
attempts = 3
[[sources.settings.accounts]]
id = "{ACCOUNT}"
iban = "FR7630006000011234567890189"
""",
        encoding="utf-8",
    )
    config = load_config(config_path)
    first = SyncRunner(store, config).sync("psd2")
    assert first.status == "succeeded", first.error
    assert first.total("created") == 3
    # Incremental: from the last booking date minus the overlap; the overlap changes nothing.
    second = SyncRunner(store, config).sync("psd2")
    assert second.status == "succeeded", second.error
    assert second.total("created") == 0 and second.total("updated") == 0
    date_froms = [parse_qs(urlparse(path).query).get("dateFrom") for path in _Bank.calls]
    assert ["2024-02-26"] in date_froms  # 2024-03-04 minus 7 days
