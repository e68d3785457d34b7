"""Odoo's error payloads, exactly as the recordings show them.

JSON-RPC (``/jsonrpc``): HTTP 200 and ``{"error": {"code": 200, "message": "Odoo Server Error",
"data": {"name", "debug", "message", "arguments", "context"}}}`` (recordings ``error.*.json``).
XML-RPC (``/xmlrpc/2/*``): a ``<fault>`` whose ``faultCode`` is 2 for UserError, ValidationError
and MissingError, 3 for AccessDenied, 4 for AccessError and 1 (with the traceback as
``faultString``) for anything else (recordings ``xmlrpc.error.*.json``; Odoo 18
``odoo/http.py`` ``xmlrpc_handle_exception_int``). The recording of the code-1 case
(``xmlrpc.error.write.unknown_field.json``) lost its XML envelope to the recorder's traceback
scrubber; the stand-in sends the well-formed fault a real server sends.
JSON-2 (``/json/2``, Odoo 19): a 4xx/5xx status and the ``data`` object as body.
"""

from __future__ import annotations

from typing import Any

#: The line the recorder put in place of server stack frames; kept so payloads match byte for byte.
SCRUBBED_FRAMES = "Traceback (most recent call last):\n  [server frames removed from this recording]\n"

_XMLRPC_FAULT_CODES = {
    "odoo.exceptions.UserError": 2,
    "odoo.exceptions.ValidationError": 2,
    "odoo.exceptions.MissingError": 2,
    "odoo.exceptions.RedirectWarning": 2,
    "odoo.exceptions.AccessDenied": 3,
    "odoo.exceptions.AccessError": 4,
}

_JSON2_STATUS = {
    "odoo.exceptions.AccessDenied": 401,
    "werkzeug.exceptions.Unauthorized": 401,
    "odoo.exceptions.AccessError": 403,
    "odoo.exceptions.MissingError": 404,
    "odoo.exceptions.UserError": 422,
    "odoo.exceptions.ValidationError": 422,
}


class OdooServerError(Exception):
    """An exception raised inside the stand-in's ORM, named as Odoo names it."""

    def __init__(self, name: str, message: str) -> None:
        super().__init__(message)
        self.name = name
        self.message = message

    @property
    def traceback_line(self) -> str:
        short = self.name.removeprefix("builtins.")
        return f"{short}: {self.message}"

    def debug(self) -> str:
        last_line = self.traceback_line.splitlines()[-1]
        return f"{SCRUBBED_FRAMES}{last_line}\n"

    def data(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "debug": self.debug(),
            "message": self.message,
            "arguments": [self.message],
            "context": {},
        }

    def jsonrpc_error(self) -> dict[str, Any]:
        return {"code": 200, "message": "Odoo Server Error", "data": self.data()}

    def xmlrpc_fault(self) -> tuple[int, str]:
        code = _XMLRPC_FAULT_CODES.get(self.name)
        if code is None:
            return 1, f"{SCRUBBED_FRAMES}{self.traceback_line}\n"
        return code, self.message

    def json2_status(self) -> int:
        return _JSON2_STATUS.get(self.name, 500)


def access_denied() -> OdooServerError:
    return OdooServerError("odoo.exceptions.AccessDenied", "Access Denied")


def missing(model: str, ids: list[int], uid: int) -> OdooServerError:
    listed = ", ".join(str(i) for i in ids) + ","
    return OdooServerError(
        "odoo.exceptions.MissingError",
        f"Record does not exist or has been deleted.\n(Record: {model}({listed}), User: {uid})",
    )
