"""The Odoo stand-in HTTP server: real HTTP on 127.0.0.1, Odoo's wire protocols.

Endpoints (Odoo 18 ``odoo/http.py``, ``odoo/service/``; Odoo 19 ``/json/2``):

- ``POST /jsonrpc`` — JSON-RPC 2.0 ``call`` with ``params = {service, method, args}``; services
  ``common`` (``version``, ``login``, ``authenticate``), ``db`` (``list``) and ``object``
  (``execute_kw``). Errors: HTTP 200 with an ``error`` object (see :mod:`.errors`); a method
  returning ``None`` gets a reply with neither ``result`` nor ``error``.
- ``POST /xmlrpc/2/common``, ``/xmlrpc/2/object``, ``/xmlrpc/2/db`` — XML-RPC, errors as faults;
  a ``None`` result cannot be marshalled (Odoo does not enable ``allow_none``) and becomes fault 1.
- ``POST /json/2/<model>/<method>`` (only when the stand-in plays Odoo 19 or later) — named
  parameters, ``Authorization: bearer <API key>``, ``X-Odoo-Database``; errors as 4xx/5xx with the
  error object as body. ``GET /web/version`` answers the version without authentication.

HTTP/1.1 keep-alive is on, so tests can check that the client reuses one connection
(:attr:`OdooStandin.connections`). :meth:`OdooStandin.fail_next` makes the next requests fail
the way a reverse proxy does (502/503/504 with an HTML page), to test retries.
"""

from __future__ import annotations

import json
import re
import socket
import threading
import xmlrpc.client
from collections import Counter
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from defusedxml.xmlrpc import DefusedExpatParser

from .errors import OdooServerError, access_denied
from .orm import RETURNS_NONE, CallLog, StandinDatabase
from .seed import recorded_database

_JSON2_PATH = re.compile(r"^/json/2/(?P<model>[\w.]+)/(?P<method>\w+)$")


@dataclass
class InjectedFailure:
    status: int
    body: str
    remaining: int
    path_prefix: str | None = None
    body_contains: bytes | None = None


def _version_payload(version: str) -> dict[str, Any]:
    major, minor = (int(part) for part in version.split(".")[:2])
    return {
        "server_version": version,
        "server_version_info": [major, minor, 0, "final", 0, ""],
        "server_serie": version,
        "protocol_version": 1,
    }


def _xmlrpc_loads(body: bytes) -> tuple[tuple[Any, ...], str | None]:
    unmarshaller = xmlrpc.client.Unmarshaller(use_datetime=False, use_builtin_types=True)
    parser = DefusedExpatParser(unmarshaller, forbid_dtd=True)
    parser.feed(body)
    parser.close()
    return unmarshaller.close(), unmarshaller.getmethodname()


class OdooStandin:
    """Runs the stand-in on 127.0.0.1 in a background thread (use as a context manager)."""

    def __init__(self, db: StandinDatabase | None = None, *, version: str = "18.0") -> None:
        self.db = db if db is not None else recorded_database()
        self.version = version
        self.connections = 0
        self.requests: Counter[str] = Counter()
        self._failures: list[InjectedFailure] = []
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        #: HTTP methods ``/web/version`` answers (Odoo 17/18 route it as JSON-RPC, POST only).
        self.web_version_methods = {"GET", "POST"}
        self._thread: threading.Thread | None = None

    # -- lifecycle ---------------------------------------------------------------------------------

    def start(self) -> OdooStandin:
        standin = self

        class Handler(_Handler):
            owner = standin

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="odoo-standin", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> OdooStandin:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        assert self._server is not None, "stand-in not started"
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def json2_enabled(self) -> bool:
        return int(self.version.split(".")[0]) >= 19

    # -- test controls -----------------------------------------------------------------------------

    def fail_next(
        self,
        count: int = 1,
        *,
        status: int = 502,
        path_prefix: str | None = None,
        body_contains: bytes | None = None,
    ) -> None:
        """Answer the next ``count`` requests like a failing proxy, optionally only requests to
        ``path_prefix`` or whose body contains ``body_contains`` (e.g. ``b'"message_post"'``)."""
        body = f"<html><head><title>{status}</title></head><body><h1>{status}</h1>nginx</body></html>"
        with self._lock:
            self._failures.append(InjectedFailure(status, body, count, path_prefix, body_contains))

    def object_calls(self, model: str | None = None, method: str | None = None) -> list[CallLog]:
        """ORM calls served so far (``execute_kw`` and ``/json/2``), optionally filtered."""
        return [
            call
            for call in self.db.calls
            if (model is None or call.model == model) and (method is None or call.method == method)
        ]

    def reset_counters(self) -> None:
        self.db.calls.clear()
        self.requests.clear()
        self.connections = 0

    def _take_failure(self, path: str, body: bytes) -> InjectedFailure | None:
        with self._lock:
            for failure in self._failures:
                if (
                    failure.remaining > 0
                    and (failure.path_prefix is None or path.startswith(failure.path_prefix))
                    and (failure.body_contains is None or failure.body_contains in body)
                ):
                    failure.remaining -= 1
                    return failure
            return None

    # -- dispatch ------------------------------------------------------------------------------------

    def dispatch(self, service: str, method: str, args: list[Any]) -> Any:
        db = self.db
        if service == "common":
            if method == "version":
                return _version_payload(self.version)
            if method in ("login", "authenticate"):
                database, login, password = args[0], args[1], args[2]
                self._check_database(database)
                db.calls.append(CallLog("common", None, method, None))
                return db.login(login, password)
            raise OdooServerError("builtins.AttributeError", f"The method 'common.{method}' does not exist")
        if service == "db":
            if method == "list":
                return [db.name]
            raise OdooServerError("builtins.AttributeError", f"The method 'db.{method}' does not exist")
        if service == "object":
            if method not in ("execute_kw", "execute"):
                raise OdooServerError(
                    "builtins.AttributeError", f"The method 'object.{method}' does not exist"
                )
            database, uid, password, model, model_method, *rest = args
            self._check_database(database)
            if method == "execute":
                call_args, call_kwargs = list(rest), {}
            else:
                call_args = list(rest[0]) if rest else []
                call_kwargs = dict(rest[1]) if len(rest) > 1 and rest[1] else {}
            return db.execute_kw(uid, password, model, model_method, call_args, call_kwargs)
        raise OdooServerError("builtins.Exception", f"No such service: {service}")

    def _check_database(self, database: str) -> None:
        if database != self.db.name:
            raise OdooServerError(
                "psycopg2.OperationalError",
                f'connection to server at "127.0.0.1", port 5432 failed: FATAL:  database "{database}" does not exist\n',
            )


class _Handler(BaseHTTPRequestHandler):
    owner: OdooStandin
    protocol_version = "HTTP/1.1"
    server_version = "Werkzeug/3.0.1"
    sys_version = "Python/3.11"

    def setup(self) -> None:
        super().setup()
        # Headers and body are two writes: without TCP_NODELAY, Nagle's algorithm and delayed ACKs
        # add ~40 ms to every keep-alive request.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with self.owner._lock:
            self.owner.connections += 1

    def log_message(self, format: str, *args: Any) -> None:
        return

    def _send(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def do_GET(self) -> None:
        self.owner.requests[self.path] += 1
        if (
            self.path == "/web/version"
            and self.owner.json2_enabled
            and "GET" in self.owner.web_version_methods
        ):
            payload = {
                "version": self.owner.version,
                "version_info": _version_payload(self.owner.version)["server_version_info"],
            }
            self._send(200, json.dumps(payload).encode(), "application/json; charset=utf-8")
            return
        self._send(404, b"<html><body>Not Found</body></html>", "text/html; charset=utf-8")

    def do_POST(self) -> None:
        body = self._body()
        path = self.path
        self.owner.requests[path] += 1
        failure = self.owner._take_failure(path, body)
        if failure is not None:
            self._send(failure.status, failure.body.encode(), "text/html")
            return
        if path == "/web/version" and "POST" in self.owner.web_version_methods:
            request_id = (json.loads(body or b"{}") or {}).get("id")
            reply = {"jsonrpc": "2.0", "id": request_id, "result": _version_payload(self.owner.version)}
            self._send(200, json.dumps(reply).encode(), "application/json; charset=utf-8")
        elif path == "/jsonrpc":
            self._jsonrpc(body)
        elif path.startswith("/xmlrpc/2/"):
            self._xmlrpc(path.removeprefix("/xmlrpc/2/"), body)
        elif self.owner.json2_enabled and _JSON2_PATH.match(path):
            self._json2(path, body)
        else:
            self._send(404, b"<html><body>Not Found</body></html>", "text/html; charset=utf-8")

    def _jsonrpc(self, body: bytes) -> None:
        try:
            request = json.loads(body)
        except ValueError:
            self._send(400, b"<html><body>Bad Request</body></html>", "text/html; charset=utf-8")
            return
        reply: dict[str, Any] = {"jsonrpc": "2.0", "id": request.get("id")}
        params = request.get("params") or {}
        try:
            result = self.owner.dispatch(
                params.get("service", ""), params.get("method", ""), list(params.get("args") or [])
            )
        except OdooServerError as exc:
            reply["error"] = exc.jsonrpc_error()
        else:
            if result is not RETURNS_NONE and result is not None:
                reply["result"] = result
        self._send(200, json.dumps(reply).encode(), "application/json; charset=utf-8")

    def _xmlrpc(self, service: str, body: bytes) -> None:
        try:
            params, method = _xmlrpc_loads(body)
            result = self.owner.dispatch(service, method or "", list(params))
            if result is RETURNS_NONE or result is None:
                raise OdooServerError(
                    "builtins.TypeError", "cannot marshal None unless allow_none is enabled"
                )
            payload = xmlrpc.client.dumps((result,), methodresponse=True, allow_none=False)
        except OdooServerError as exc:
            code, text = exc.xmlrpc_fault()
            payload = xmlrpc.client.dumps(xmlrpc.client.Fault(code, text), allow_none=False)
        self._send(200, payload.encode(), "text/xml; charset=utf-8")

    def _json2(self, path: str, body: bytes) -> None:
        match = _JSON2_PATH.match(path)
        assert match is not None
        db = self.owner.db
        try:
            authorization = self.headers.get("Authorization", "")
            scheme, _, key = authorization.partition(" ")
            user = db.user_for_api_key(key.strip()) if scheme.lower() == "bearer" else None
            if user is None:
                raise OdooServerError("werkzeug.exceptions.Unauthorized", "Invalid apikey")
            database = self.headers.get("X-Odoo-Database") or db.name
            self.owner._check_database(database)
            params = json.loads(body or b"{}")
            ids = params.pop("ids", None)
            args = [ids] if ids is not None else []
            result = db.execute_as(user, match["model"], match["method"], args, params)
            if result is RETURNS_NONE:
                result = None
            self._send(200, json.dumps(result).encode(), "application/json; charset=utf-8")
        except OdooServerError as exc:
            self._send(exc.json2_status(), json.dumps(exc.data()).encode(), "application/json; charset=utf-8")


__all__ = ["OdooStandin", "access_denied"]
