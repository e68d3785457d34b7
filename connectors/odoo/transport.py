"""Wire transports to Odoo: JSON-RPC and XML-RPC through odoo-client-lib, JSON-2 directly.

odoo-client-lib 2.0 (``odoolib``) defines the connector interface,
``Connector.send(service, method, *args)``, but its own connectors open a new HTTP connection per
call, have no timeout setting and do not look at HTTP status codes (``odoolib/tools.py``
``json_rpc``, ``odoolib/rpc.py``), and its ``Service``/``Model`` proxies log their arguments —
the password among them — at DEBUG level. The connectors here subclass odoolib's and send over
one shared ``httpx.Client``: one keep-alive connection, the configured timeout, and proxy errors
(502/503/504) told apart from Odoo's own errors; the client calls ``send`` directly. odoolib's
JSON-2 connection (``odoolib/json2.py``) also posts without a shared client, introspects each
model over ``/doc-bearer`` and raises bare ``ValueError``; :class:`Json2Transport` speaks JSON-2 itself
(``POST /json/2/<model>/<method>``, named parameters, ``Authorization: bearer``).

Amounts never become floats on our side: JSON numbers are parsed as ``Decimal``
(``parse_float``), XML-RPC ``<double>`` too, and a ``Decimal`` we send is written as a JSON
number or an XML-RPC double with its exact digits. XML-RPC replies are parsed with defusedxml
(no DTD, no entities).
"""

from __future__ import annotations

import json
import logging
import random
import xmlrpc.client
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

import httpx
import odoolib
from defusedxml.xmlrpc import DefusedExpatParser

from erp_recovery import __version__
from erp_recovery.errors import ErpRecoveryError, RemoteError, TransientError

from .errors import CallSite, OdooUnreachable, translate, translate_fault

log = logging.getLogger(__name__)

USER_AGENT = f"erp-recovery/{__version__}"
_TRANSIENT_STATUS = {429, 502, 503, 504}


def encode_json(value: Any) -> str:
    """JSON text where a Decimal is a JSON number with exactly its digits (never via float)."""
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"cannot send the non-finite amount {value}")
        return format(value, "f")
    if isinstance(value, Mapping):
        return "{" + ",".join(f"{json.dumps(str(k))}:{encode_json(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ",".join(encode_json(item) for item in value) + "]"
    if isinstance(value, float):
        raise TypeError("floats are not sent to Odoo: use Decimal")
    return json.dumps(value, ensure_ascii=False)


class _Marshaller(xmlrpc.client.Marshaller):
    dispatch = dict(xmlrpc.client.Marshaller.dispatch)

    def dump_decimal(self, value: Decimal, write: Any) -> None:
        write("<value><double>")
        write(format(value, "f"))
        write("</double></value>\n")

    dispatch[Decimal] = dump_decimal  # type: ignore[index,assignment]

    def refuse_float(self, value: float, write: Any) -> None:
        raise TypeError("floats are not sent to Odoo: use Decimal")

    dispatch[float] = refuse_float  # type: ignore[assignment]


class _Unmarshaller(xmlrpc.client.Unmarshaller):
    dispatch = dict(xmlrpc.client.Unmarshaller.dispatch)

    def end_double(self, data: str) -> None:
        self.append(Decimal(data))
        self._value = False

    dispatch["double"] = end_double  # type: ignore[assignment]


def xmlrpc_request(method: str, params: Sequence[Any]) -> bytes:
    body = _Marshaller("utf-8", allow_none=False).dumps(list(params))
    return (
        f"<?xml version='1.0'?>\n<methodCall>\n<methodName>{method}</methodName>\n{body}</methodCall>\n"
    ).encode()


def xmlrpc_response(body: bytes) -> Any:
    """Parse an XML-RPC reply (raises ``xmlrpc.client.Fault`` for a fault)."""
    unmarshaller = _Unmarshaller(use_datetime=False, use_builtin_types=True)
    parser = DefusedExpatParser(unmarshaller, forbid_dtd=True)
    parser.feed(body)
    parser.close()
    return unmarshaller.close()[0]


class HttpSession:
    """One ``httpx.Client`` per source: keep-alive, timeout, and transport errors translated."""

    def __init__(self, base_url: str, timeout: float, site: CallSite) -> None:
        self.base_url = base_url
        self.site = site
        self.client = httpx.Client(
            base_url=base_url,
            timeout=httpx.Timeout(timeout, connect=min(timeout, 30.0)),
            headers={"User-Agent": USER_AGENT},
            follow_redirects=False,
        )

    def post(self, path: str, content: bytes, headers: Mapping[str, str], what: str) -> httpx.Response:
        try:
            response = self.client.post(path, content=content, headers=dict(headers))
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            raise OdooUnreachable(
                f"cannot reach Odoo at {self.base_url} ({what}): {exc}", url=self.base_url
            ) from None
        except httpx.TimeoutException as exc:
            raise TransientError(
                f"Odoo at {self.base_url} did not answer {what} in time ({type(exc).__name__})",
                url=self.base_url,
            ) from None
        except httpx.TransportError as exc:
            raise TransientError(
                f"connection to Odoo at {self.base_url} failed during {what}: {exc}"
            ) from None
        if response.status_code in _TRANSIENT_STATUS:
            raise TransientError(
                f"Odoo at {self.base_url} answered HTTP {response.status_code} to {what} "
                "(server or proxy temporarily unavailable)",
                status=response.status_code,
                url=self.base_url,
            )
        return response

    def get(self, path: str, what: str) -> httpx.Response:
        try:
            response = self.client.get(path)
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            raise OdooUnreachable(f"cannot reach Odoo at {self.base_url} ({what}): {exc}") from None
        except httpx.TransportError as exc:
            raise TransientError(
                f"connection to Odoo at {self.base_url} failed during {what}: {exc}"
            ) from None
        if response.status_code in _TRANSIENT_STATUS:
            raise TransientError(f"Odoo at {self.base_url} answered HTTP {response.status_code} to {what}")
        return response

    def close(self) -> None:
        self.client.close()


def _not_odoo(response: httpx.Response, endpoint: str, base_url: str) -> ErpRecoveryError:
    if response.status_code == 404:
        from erp_recovery.errors import ConfigError

        return ConfigError(f"{base_url} has no Odoo {endpoint} endpoint (HTTP 404): check the url", key="url")
    snippet = response.text[:200].replace("\n", " ")
    return RemoteError(
        f"Odoo at {base_url} answered {endpoint} with HTTP {response.status_code} and no {endpoint} reply: {snippet}",
        status=response.status_code,
    )


def _call_site(session: HttpSession, service_name: str, method: str, args: tuple[Any, ...]) -> CallSite:
    """Where a call goes, for errors: ``object.execute_kw`` names its model and method."""
    model, model_method = (args[3], args[4]) if service_name == "object" and len(args) > 4 else (None, method)
    return CallSite(session.site.url, session.site.database, session.site.login, model, model_method)


class JsonRpcConnector(odoolib.JsonRPCConnector):
    """``odoolib`` connector for ``/jsonrpc`` over a shared :class:`HttpSession`."""

    PROTOCOL = "jsonrpc"

    def __init__(self, session: HttpSession, secret_reference: str) -> None:
        self.session = session
        self.url = f"{session.base_url}/jsonrpc"
        self.secret_reference = secret_reference

    def send(self, service_name: str, method: str, *args: Any) -> Any:
        site = _call_site(self.session, service_name, method, args)
        payload = {
            "jsonrpc": "2.0",
            "method": "call",
            "params": {"service": service_name, "method": method, "args": list(args)},
            "id": random.randint(0, 1_000_000_000),
        }
        response = self.session.post(
            "/jsonrpc", encode_json(payload).encode(), {"Content-Type": "application/json"}, site.what
        )
        try:
            reply = response.json(parse_float=Decimal)
        except ValueError:
            raise _not_odoo(response, "JSON-RPC", self.session.base_url) from None
        if not isinstance(reply, dict) or (response.status_code != 200 and "error" not in reply):
            raise _not_odoo(response, "JSON-RPC", self.session.base_url)
        error = reply.get("error")
        if error:
            data = error.get("data") or {}
            raise translate(
                str(data.get("name") or error.get("message") or "Error"),
                str(data.get("message") or error.get("message") or ""),
                site,
                secret_reference=self.secret_reference,
            )
        # A method returning None gives a reply without "result" (recording
        # call.res.partner.action_unarchive.none_result).
        return reply.get("result")


class XmlRpcConnector(odoolib.XmlRPCConnector):
    """``odoolib`` connector for ``/xmlrpc/2/<service>`` over a shared :class:`HttpSession`."""

    PROTOCOL = "xmlrpc"

    def __init__(self, session: HttpSession, secret_reference: str) -> None:
        self.session = session
        self.url = f"{session.base_url}/xmlrpc/2"
        self.secret_reference = secret_reference

    def send(self, service_name: str, method: str, *args: Any) -> Any:
        site = _call_site(self.session, service_name, method, args)
        response = self.session.post(
            f"/xmlrpc/2/{service_name}", xmlrpc_request(method, args), {"Content-Type": "text/xml"}, site.what
        )
        if response.status_code != 200:
            raise _not_odoo(response, "XML-RPC", self.session.base_url)
        try:
            return xmlrpc_response(response.content)
        except xmlrpc.client.Fault as fault:
            raise translate_fault(
                fault.faultCode, str(fault.faultString), site, secret_reference=self.secret_reference
            ) from None
        except Exception:  # expat or defusedxml errors: the body is not an XML-RPC reply
            raise _not_odoo(response, "XML-RPC", self.session.base_url) from None


class Json2Transport:
    """Odoo 19's JSON-2 API: ``POST /json/2/<model>/<method>`` with named parameters."""

    def __init__(self, session: HttpSession, api_key: str, secret_reference: str) -> None:
        self.session = session
        self.secret_reference = secret_reference
        self.headers = {
            "Authorization": f"bearer {api_key}",
            "Content-Type": "application/json; charset=utf-8",
            "X-Odoo-Database": session.site.database,
        }

    def version(self) -> dict[str, Any]:
        """``/web/version``: a plain GET where the server allows it, else its JSON-RPC form."""
        response = self.session.get("/web/version", "version")
        if response.status_code == 200:
            try:
                payload = response.json()
            except ValueError:
                payload = None
            if isinstance(payload, dict) and ("version_info" in payload or "server_version_info" in payload):
                return payload
        body = encode_json({"jsonrpc": "2.0", "method": "call", "params": {}, "id": 1}).encode()
        response = self.session.post("/web/version", body, {"Content-Type": "application/json"}, "version")
        try:
            reply = response.json()
        except ValueError:
            raise _not_odoo(response, "/web/version", self.session.base_url) from None
        if (
            response.status_code != 200
            or not isinstance(reply, dict)
            or not isinstance(reply.get("result"), dict)
        ):
            raise _not_odoo(response, "/web/version", self.session.base_url)
        result: dict[str, Any] = reply["result"]
        return result

    def call(self, model: str, method: str, ids: Sequence[int] | None, params: Mapping[str, Any]) -> Any:
        site = CallSite(self.session.site.url, self.session.site.database, None, model, method)
        body: dict[str, Any] = dict(params)
        if ids is not None:
            body["ids"] = list(ids)
        response = self.session.post(
            f"/json/2/{model}/{method}", encode_json(body).encode(), self.headers, site.what
        )
        try:
            payload = response.json(parse_float=Decimal)
        except ValueError:
            raise _not_odoo(response, "JSON-2", self.session.base_url) from None
        if response.status_code == 200:
            return payload
        if isinstance(payload, dict) and "name" in payload:
            raise translate(
                str(payload["name"]),
                str(payload.get("message", "")),
                site,
                secret_reference=self.secret_reference,
            )
        raise _not_odoo(response, "JSON-2", self.session.base_url)
