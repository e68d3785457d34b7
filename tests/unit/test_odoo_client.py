"""The Odoo client against the stand-in: protocols, login, error translation, retries, connection reuse."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from decimal import Decimal

import pytest
from erp_recovery.connectors.odoo.client import OdooClient, OdooVersion
from erp_recovery.connectors.odoo.errors import OdooUnreachable
from erp_recovery.connectors.odoo.settings import OdooSettings
from odoo_standin import OdooStandin
from odoo_standin.helpers import PASSWORD_ENV, source_settings
from odoo_standin.seed import ADMIN_API_KEY

from erp_recovery.errors import (
    AccessDeniedError,
    AuthenticationError,
    ConfigError,
    MissingRecordError,
    RemoteError,
    TransientError,
)


@pytest.fixture(scope="module")
def standin() -> Iterator[OdooStandin]:
    with OdooStandin() as server:
        yield server


@pytest.fixture(autouse=True)
def _password(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(PASSWORD_ENV, "admin")


def client_for(standin: OdooStandin, **overrides: object) -> OdooClient:
    return OdooClient(OdooSettings.model_validate(source_settings(standin, **overrides)))


@pytest.mark.parametrize("protocol", ["jsonrpc", "xmlrpc"])
def test_version_login_and_search_read(standin: OdooStandin, protocol: str) -> None:
    client = client_for(standin, protocol=protocol)
    assert client.version() == OdooVersion(18, 0, "18.0")
    assert client.uid() == 2
    rows = client.search_read(
        "res.partner", [("customer_rank", ">", 0)], ["name", "credit_limit"], order="id asc"
    )
    assert [row["name"] for row in rows][:2] == ["Wood Corner", "Deco Addict"]
    assert rows[1]["credit_limit"] == Decimal("30000.0")  # never a float
    assert all(isinstance(row["credit_limit"], Decimal) for row in rows)
    client.close()


def test_a_wrong_password_is_reported_as_such_without_retry(
    standin: OdooStandin, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(PASSWORD_ENV, "wrong-password")
    client = client_for(standin, retries=3)
    standin.reset_counters()
    with pytest.raises(AuthenticationError) as error:
        client.search("res.partner", [])
    assert "refused the login 'admin' on database 'erp_test'" in error.value.message
    assert "${" + PASSWORD_ENV + "}" in error.value.message and "wrong-password" not in error.value.message
    assert [call.method for call in standin.db.calls] == ["login"]


@pytest.mark.parametrize("protocol", ["jsonrpc", "xmlrpc"])
def test_access_error_is_clear_and_not_retried(
    standin: OdooStandin, monkeypatch: pytest.MonkeyPatch, protocol: str
) -> None:
    monkeypatch.setenv(PASSWORD_ENV, "demo")
    client = client_for(standin, login="demo", protocol=protocol, retries=3)
    client.uid()
    standin.reset_counters()
    with pytest.raises(AccessDeniedError) as error:
        client.search_read("account.move", [], ["name"])
    assert error.value.message.startswith(
        "Odoo user 'demo' lacks read access to account.move: give it the Invoicing"
    )
    assert len(standin.object_calls("account.move")) == 1


@pytest.mark.parametrize("protocol", ["jsonrpc", "xmlrpc"])
def test_odoo_errors_are_translated(standin: OdooStandin, protocol: str) -> None:
    client = client_for(standin, protocol=protocol)
    with pytest.raises(MissingRecordError):
        client.write("res.partner", [4242], {"name": "gone"})
    with pytest.raises(RemoteError, match="Wrong value for res.partner.trust"):
        client.write("res.partner", [10], {"trust": "bogus"})
    with pytest.raises(RemoteError, match="has no model no.such.model"):
        client.search("no.such.model", [])
    with pytest.raises(RemoteError, match="You cannot create recursive Partner hierarchies"):
        client.write("res.partner", [10], {"parent_id": 10})
    with pytest.raises(RemoteError, match="lacks a field"):
        client.read("res.partner", [10], ["no_such_field"])


def test_unknown_database_is_a_configuration_error(standin: OdooStandin) -> None:
    client = client_for(standin, database="no_such_db")
    with pytest.raises(ConfigError) as error:
        client.uid()
    assert error.value.key == "database"


def test_a_method_returning_none(standin: OdooStandin) -> None:
    assert client_for(standin).call("res.partner", "action_unarchive", [10]) is None
    with pytest.raises(RemoteError, match="cannot marshal None"):  # Odoo's XML-RPC cannot send None
        client_for(standin, protocol="xmlrpc").call("res.partner", "action_unarchive", [10])


@pytest.mark.parametrize("status", [502, 503, 504])
def test_proxy_errors_are_retried_then_succeed(standin: OdooStandin, status: int) -> None:
    client = client_for(standin, retries=3)
    client.uid()
    standin.reset_counters()
    standin.fail_next(2, status=status)
    assert client.search("res.partner", [("id", "=", 10)]) == [10]
    assert standin.requests["/jsonrpc"] == 3  # two failed attempts, one success
    assert client.attempts >= 3


def test_retries_are_bounded(standin: OdooStandin) -> None:
    client = client_for(standin, retries=2)
    client.uid()
    standin.reset_counters()
    standin.fail_next(10, status=503)
    with pytest.raises(TransientError, match="HTTP 503"):
        client.search("res.partner", [])
    assert standin.requests["/jsonrpc"] == 3
    standin.fail_next(0)
    standin._failures.clear()


def test_a_create_is_not_retried_after_a_gateway_error(standin: OdooStandin) -> None:
    """A 502 may hide a create that Odoo did: retrying could create twice."""
    client = client_for(standin, retries=3)
    client.uid()
    standin.reset_counters()
    standin.fail_next(1, status=502)
    with pytest.raises(TransientError):
        client.create("res.partner.category", [{"name": "never twice"}])
    assert standin.requests["/jsonrpc"] == 1


def test_an_unreachable_server_is_retried_and_reported() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    settings = OdooSettings(
        url=f"http://127.0.0.1:{port}", database="x", login="admin", password="${" + PASSWORD_ENV + "}",
        retries=2, retry_wait_seconds=0, retry_max_wait_seconds=0,
    )  # fmt: skip
    client = OdooClient(settings)
    with pytest.raises(OdooUnreachable, match="cannot reach Odoo"):
        client.version()
    assert client.attempts == 3


def test_a_page_that_is_not_json_rpc(standin: OdooStandin) -> None:
    client = client_for(standin, retries=0)
    client.uid()
    standin.fail_next(1, status=200)  # a captive portal or proxy page answering 200
    with pytest.raises(RemoteError, match="no JSON-RPC reply"):
        client.search("res.partner", [])


def test_a_wrong_url_path_is_a_configuration_error(standin: OdooStandin) -> None:
    client = client_for(standin, url=f"{standin.url}/odoo")
    with pytest.raises(ConfigError, match="has no Odoo JSON-RPC endpoint"):
        client.version()


def test_one_http_connection_is_reused(standin: OdooStandin) -> None:
    standin.reset_counters()
    client = client_for(standin)
    for _ in range(5):
        client.search("res.partner", [])
    client.fields("res.partner")
    client.fields("res.partner")
    assert standin.connections == 1
    assert client.calls[("res.partner", "fields_get")] == 1  # cached per client (per run)
    client.close()


def test_decimals_are_sent_with_their_exact_digits(standin: OdooStandin) -> None:
    for protocol in ("jsonrpc", "xmlrpc"):
        client = client_for(standin, protocol=protocol)
        client.write("res.partner", [11], {"credit_limit": Decimal("12345.67")})
        assert standin.db.records["res.partner"][11]["credit_limit"] == 12345.67
        assert client.read("res.partner", [11], ["credit_limit"])[0]["credit_limit"] == Decimal("12345.67")
    with pytest.raises(TypeError, match="floats are not sent"):
        client.write("res.partner", [11], {"credit_limit": 1.5})


def test_json2_with_an_api_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(PASSWORD_ENV, ADMIN_API_KEY)
    with OdooStandin(version="19.0") as standin:
        client = client_for(standin, protocol="json2", login=None)
        assert client.version().major == 19
        assert client.uid() == 2
        rows = client.search_read("res.partner", [("id", "=", 10)], ["name", "credit_limit"])
        assert rows == [{"id": 10, "name": "Deco Addict", "credit_limit": Decimal("30000.0")}]
        with pytest.raises(MissingRecordError):
            client.write("res.partner", [4242], {"name": "x"})
        standin.web_version_methods = {"POST"}  # /web/version as a JSON-RPC route only
        assert client_for(standin, protocol="json2", login=None).version().major == 19
        monkeypatch.setenv(PASSWORD_ENV, "not-a-key")
        with pytest.raises(AuthenticationError, match="Invalid apikey"):
            client_for(standin, protocol="json2", login=None).search("res.partner", [])


def test_settings_refuse_inconsistent_protocols(standin: OdooStandin) -> None:
    with pytest.raises(ValueError, match="needs an https"):
        OdooSettings.model_validate(source_settings(standin, protocol="jsonrpcs"))
    with pytest.raises(ValueError, match="needs a login"):
        OdooSettings.model_validate(source_settings(standin, login=None))
    with pytest.raises(ValueError, match="secrets must not be written"):
        OdooSettings.model_validate(source_settings(standin, password="admin"))


def test_the_password_never_reaches_the_logs(
    standin: OdooStandin, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv(PASSWORD_ENV, ADMIN_API_KEY)  # Odoo accepts an API key as password
    caplog.set_level("DEBUG")
    for protocol in ("jsonrpc", "xmlrpc"):
        client = client_for(standin, protocol=protocol, retries=1)
        client.search("res.partner", [])
        standin.fail_next(1, status=502)
        client.search("res.partner", [])
        with pytest.raises(RemoteError):
            client.write("res.partner", [10], {"trust": "bogus"})
    assert caplog.records and ADMIN_API_KEY not in caplog.text
