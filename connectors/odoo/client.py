"""The Odoo client erp-recovery uses: one connection, retries for transient failures only,
version and field detection, and call counting.

Every ORM call goes through :meth:`OdooClient.call` with named parameters (``domain=``,
``fields=``...), which maps onto ``execute_kw(model, method, [ids], {params})`` for JSON-RPC and
XML-RPC and onto ``/json/2/<model>/<method>`` for JSON-2 — the three protocols take the same
parameter names. Retries (tenacity, exponential back-off with jitter) happen only for
:class:`~erp_recovery.errors.TransientError`; a call that is not idempotent (``create``,
``message_post``) is retried only when the request provably never reached Odoo
(:class:`~connectors.odoo.errors.OdooUnreachable`), since a 502 from a proxy may hide a call that
Odoo did perform. Everything else (access rights, validation, missing records) fails at once with
an actionable message.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from tenacity import RetryCallState, Retrying, retry_if_exception, stop_after_attempt, wait_exponential_jitter

from erp_recovery.errors import ConfigError, TransientError

from .errors import CallSite, OdooUnreachable, wrong_credentials
from .settings import OdooSettings
from .transport import HttpSession, Json2Transport, JsonRpcConnector, XmlRpcConnector

log = logging.getLogger(__name__)

#: Odoo versions the connector is written and tested for.
SUPPORTED_MAJOR_VERSIONS = (16, 17, 18, 19)
#: Attributes asked of fields_get (enough to detect fields and selections, small answers).
FIELD_ATTRIBUTES = ["type", "relation", "selection", "readonly", "string"]


@dataclass(frozen=True)
class OdooVersion:
    """The server's version, from ``common.version`` (``/web/version`` for JSON-2)."""

    major: int
    minor: int
    label: str

    @classmethod
    def from_payload(cls, payload: Mapping[str, Any]) -> OdooVersion:
        info = payload.get("server_version_info") or payload.get("version_info") or []
        label = str(payload.get("server_version") or payload.get("version") or "")
        if len(info) >= 2 and isinstance(info[0], int):
            return cls(int(info[0]), int(info[1]) if isinstance(info[1], int) else 0, label)
        digits = label.split("saas~")[-1].split(".")
        try:
            return cls(int(digits[0]), int(digits[1]) if len(digits) > 1 else 0, label)
        except ValueError:
            raise ConfigError(f"cannot read the Odoo version from {dict(payload)!r}", key="url") from None

    @property
    def supported(self) -> bool:
        return self.major in SUPPORTED_MAJOR_VERSIONS


class ModelFields:
    """Fields of one model, as ``fields_get`` reports them (cached per run by the client)."""

    def __init__(self, model: str, fields: Mapping[str, Mapping[str, Any]]) -> None:
        self.model = model
        self.fields = dict(fields)

    def __contains__(self, name: object) -> bool:
        return name in self.fields

    def available(self, wanted: Sequence[str]) -> list[str]:
        """The wanted fields this server has, in the order asked."""
        return [name for name in wanted if name in self.fields]

    def first(self, *candidates: str) -> str | None:
        """The first candidate field this server has (``memo`` in 18+, ``ref`` before...)."""
        return next((name for name in candidates if name in self.fields), None)

    def selection(self, name: str) -> list[str]:
        return [str(option[0]) for option in self.fields.get(name, {}).get("selection") or []]


class OdooClient:
    """A logged-in connection to one Odoo database."""

    def __init__(self, settings: OdooSettings, *, source_name: str = "odoo") -> None:
        self.settings = settings
        self.source_name = source_name
        self.secret_reference = settings.password.reference
        self.site = CallSite(settings.url, settings.database, settings.login)
        self.session = HttpSession(settings.url, settings.timeout_seconds, self.site)
        #: Calls made, by (model or service, method); retries are counted in ``attempts``.
        self.calls: Counter[tuple[str, str]] = Counter()
        self.attempts = 0
        self._version: OdooVersion | None = None
        self._fields: dict[str, ModelFields] = {}
        self._uid: int | None = None
        self._json2: Json2Transport | None = None
        self._connection: Any = None
        self._secret: str | None = None

    # -- connection --------------------------------------------------------------------------------

    def _password(self) -> str:
        if self._secret is None:
            self._secret = self.settings.password.get()
        return self._secret

    def _rpc_connector(self) -> JsonRpcConnector | XmlRpcConnector:
        """The odoo-client-lib connector of the source's protocol.

        Calls go straight to its ``send(service, method, *args)``: odoolib's ``Service`` and
        ``Model`` proxies log their arguments at DEBUG level, and those arguments include the
        password.
        """
        if self._connection is None:
            self._connection = (
                JsonRpcConnector(self.session, self.secret_reference)
                if self.settings.family == "jsonrpc"
                else XmlRpcConnector(self.session, self.secret_reference)
            )
        return self._connection

    def _json2_transport(self) -> Json2Transport:
        if self._json2 is None:
            self._json2 = Json2Transport(self.session, self._password(), self.secret_reference)
        return self._json2

    def version(self) -> OdooVersion:
        if self._version is None:
            if self.settings.family == "json2":
                payload = self._retrying(lambda: self._json2_transport().version(), "version", True)
            else:
                connector = self._rpc_connector()
                payload = self._retrying(lambda: connector.send("common", "version"), "version", True)
            self.calls[("common", "version")] += 1
            self._version = OdooVersion.from_payload(payload)
            if not self._version.supported:
                log.warning(
                    "Odoo %s is not a version erp-recovery is tested with (%s)",
                    self._version.label,
                    ", ".join(map(str, SUPPORTED_MAJOR_VERSIONS)),
                )
        return self._version

    def uid(self) -> int:
        """Log in (JSON-RPC/XML-RPC) or identify the API key's user (JSON-2); cached."""
        if self._uid is None:
            if self.settings.family == "json2":
                context = self.call("res.users", "context_get")
                self._uid = int(context.get("uid") or 0) or None
                if self._uid is None:
                    raise ConfigError("Odoo's context_get did not say which user the API key belongs to")
            else:
                connector = self._rpc_connector()
                settings = self.settings

                def login() -> int:
                    # common.login answers false, not an error, for a wrong password.
                    uid = connector.send(
                        "common", "login", settings.database, settings.login, self._password()
                    )
                    if not uid:
                        raise wrong_credentials(self.site, self.secret_reference)
                    return int(uid)

                self._uid = self._retrying(login, "login", True)
                self.calls[("common", "login")] += 1
        return self._uid

    # -- calls -------------------------------------------------------------------------------------

    def _retrying(self, func: Any, what: str, idempotent: bool) -> Any:
        settings = self.settings

        def retryable(exc: BaseException) -> bool:
            return isinstance(exc, OdooUnreachable) or (idempotent and isinstance(exc, TransientError))

        def before_sleep(state: RetryCallState) -> None:
            exc = state.outcome.exception() if state.outcome else None
            log.warning("%s: %s; retry %d of %d", what, exc, state.attempt_number, settings.retries)

        def attempt() -> Any:
            self.attempts += 1
            return func()

        retrying = Retrying(
            stop=stop_after_attempt(settings.retries + 1),
            wait=wait_exponential_jitter(
                multiplier=settings.retry_wait_seconds,
                max=settings.retry_max_wait_seconds,
                jitter=settings.retry_wait_seconds,
            ),
            retry=retry_if_exception(retryable),
            before_sleep=before_sleep,
            reraise=True,
        )
        return retrying(attempt)

    def context(self, extra: Mapping[str, Any] | None = None) -> dict[str, Any]:
        context: dict[str, Any] = dict(self.settings.context)
        if self.settings.company_id:
            context["allowed_company_ids"] = [self.settings.company_id]
        context.update(extra or {})
        return context

    def call(
        self,
        model: str,
        method: str,
        ids: Sequence[int] | None = None,
        *,
        idempotent: bool = True,
        context: Mapping[str, Any] | None = None,
        **params: Any,
    ) -> Any:
        """Call ``model.method`` on ``ids`` (None for model-level methods) with named parameters."""
        full_params = {name: value for name, value in params.items() if value is not None}
        full_params["context"] = self.context(context)
        what = f"{model}.{method}"
        if self.settings.family == "json2":
            transport = self._json2_transport()
            result = self._retrying(lambda: transport.call(model, method, ids, full_params), what, idempotent)
        else:
            uid = self.uid()
            connector = self._rpc_connector()
            args = [list(ids)] if ids is not None else []
            result = self._retrying(
                lambda: connector.send(
                    "object",
                    "execute_kw",
                    self.settings.database,
                    uid,
                    self._password(),
                    model,
                    method,
                    args,
                    full_params,
                ),
                what,
                idempotent,
            )
        self.calls[(model, method)] += 1
        return result

    def fields(self, model: str) -> ModelFields:
        """``fields_get`` of ``model``, asked once per client (i.e. per sync run)."""
        if model not in self._fields:
            result = self.call(model, "fields_get", attributes=FIELD_ATTRIBUTES)
            self._fields[model] = ModelFields(model, result or {})
        return self._fields[model]

    def search_read(
        self,
        model: str,
        domain: Sequence[Any],
        fields: Sequence[str],
        *,
        limit: int | None = None,
        order: str | None = None,
        context: Mapping[str, Any] | None = None,
    ) -> list[dict[str, Any]]:
        result = self.call(
            model,
            "search_read",
            domain=list(domain),
            fields=list(fields),
            limit=limit,
            order=order,
            context=context,
        )
        return list(result or [])

    def search(
        self, model: str, domain: Sequence[Any], *, context: Mapping[str, Any] | None = None
    ) -> list[int]:
        return [int(rid) for rid in self.call(model, "search", domain=list(domain), context=context) or []]

    def read(self, model: str, ids: Sequence[int], fields: Sequence[str]) -> list[dict[str, Any]]:
        if not ids:
            return []
        return list(self.call(model, "read", list(ids), fields=list(fields)) or [])

    def write(self, model: str, ids: Sequence[int], values: Mapping[str, Any]) -> None:
        """``write`` sets absolute values: repeating it is harmless, so it is retried."""
        self.call(model, "write", list(ids), vals=dict(values))

    def create(self, model: str, values: Sequence[Mapping[str, Any]]) -> list[int]:
        """``create`` is not idempotent: retried only when Odoo was provably not reached."""
        result = self.call(model, "create", vals_list=[dict(v) for v in values], idempotent=False)
        return [int(rid) for rid in (result if isinstance(result, list) else [result])]

    def close(self) -> None:
        self.session.close()
