"""Odoo's recorded error payloads become the right erp-recovery errors, with messages that say what to do."""

from __future__ import annotations

import json
import xmlrpc.client

import pytest
from erp_recovery.connectors.odoo.errors import CallSite, translate, translate_fault
from odoo_standin.schema import RECORDINGS

from erp_recovery.errors import (
    AccessDeniedError,
    AuthenticationError,
    ConfigError,
    ErpRecoveryError,
    FatalError,
    MissingRecordError,
    RemoteError,
    TransientError,
)

SITE = CallSite("https://odoo.example.com", "erp_test", "bot@example.com", "res.partner", "write")

JSONRPC_EXPECTED: dict[str, type[ErpRecoveryError]] = {
    "error.access.model_acl_demo_user": AccessDeniedError,
    "error.access.model_acl_portal_user": AccessDeniedError,
    "error.access.record_rule_portal_user": AccessDeniedError,
    "error.authenticate.unknown_db": ConfigError,
    "error.execute_kw.wrong_password": AuthenticationError,
    "error.missing_record.method": MissingRecordError,
    "error.missing_record.unlink": MissingRecordError,
    "error.missing_record.write": MissingRecordError,
    "error.private_method": RemoteError,
    "error.read.unknown_field": RemoteError,
    "error.search.unknown_field_in_domain": RemoteError,
    "error.unknown_method": RemoteError,
    "error.unknown_model": RemoteError,
    "error.user_error.unlink_posted_invoice": RemoteError,
    "error.user_error.write_posted_invoice_lines": RemoteError,
    "error.validation.recursive_partner": RemoteError,
    "error.write.invalid_float": RemoteError,
    "error.write.invalid_selection": RemoteError,
    "error.write.unknown_field": RemoteError,
}

XMLRPC_EXPECTED: dict[str, type[ErpRecoveryError]] = {
    "xmlrpc.error.access": AccessDeniedError,
    "xmlrpc.error.missing_record": MissingRecordError,
    "xmlrpc.error.unknown_model": RemoteError,
    "xmlrpc.error.user_error": RemoteError,
    "xmlrpc.error.validation": RemoteError,
    "xmlrpc.error.wrong_password": AuthenticationError,
}


def _recording(name: str) -> dict:  # type: ignore[type-arg]
    return json.loads((RECORDINGS / f"{name}.json").read_text(encoding="utf-8"))


def test_every_recorded_error_is_covered() -> None:
    recorded = {path.stem for path in RECORDINGS.glob("error.*.json") if "wrong_password" not in path.stem}
    recorded |= {"error.execute_kw.wrong_password"}
    recorded -= {
        "error.authenticate.wrong_password",
        "error.login.wrong_password",
    }  # result false, not errors
    assert recorded == set(JSONRPC_EXPECTED)


@pytest.mark.parametrize("name", sorted(JSONRPC_EXPECTED))
def test_jsonrpc_error_payloads(name: str) -> None:
    data = _recording(name)["response"]["body"]["error"]["data"]
    error = translate(data["name"], data["message"], SITE, secret_reference="${ODOO_PASSWORD}")
    assert type(error) is JSONRPC_EXPECTED[name]
    assert error.message and "Traceback" not in error.message


@pytest.mark.parametrize("name", sorted(XMLRPC_EXPECTED))
def test_xmlrpc_faults(name: str) -> None:
    body = _recording(name)["response"]["body"]
    with pytest.raises(xmlrpc.client.Fault) as fault:
        xmlrpc.client.loads(body)
    error = translate_fault(fault.value.faultCode, fault.value.faultString, SITE)
    assert type(error) is XMLRPC_EXPECTED[name]


def test_access_error_names_the_model_the_operation_and_the_role() -> None:
    data = _recording("error.access.model_acl_portal_user")["response"]["body"]["error"]["data"]
    site = CallSite("https://odoo.example.com", "erp_test", "portal", "account.payment", "search_read")
    error = translate(data["name"], data["message"], site)
    assert isinstance(error, AccessDeniedError)
    assert error.message.startswith(
        "Odoo user 'portal' lacks read access to account.payment: give it the Invoicing"
    )
    assert "Invoicing/Invoicing" in error.message  # the groups Odoo listed
    assert error.details["model"] == "account.payment"


def test_record_rule_on_a_write_is_reported_as_missing_write_access() -> None:
    data = _recording("error.access.record_rule_portal_user")["response"]["body"]["error"]["data"]
    error = translate(data["name"], data["message"], SITE)
    assert "lacks write access to res.partner" in error.message


def test_wrong_password_message_names_login_database_and_secret_reference() -> None:
    data = _recording("error.execute_kw.wrong_password")["response"]["body"]["error"]["data"]
    error = translate(data["name"], data["message"], SITE, secret_reference="${ODOO_PASSWORD}")
    assert "'erp_test'" in error.message and "${ODOO_PASSWORD}" in error.message


def test_unknown_database_is_a_configuration_error_on_the_database_key() -> None:
    data = _recording("error.authenticate.unknown_db")["response"]["body"]["error"]["data"]
    error = translate(data["name"], data["message"], SITE)
    assert isinstance(error, ConfigError) and error.key == "database"


def test_unknown_model_says_which_app_to_install() -> None:
    site = CallSite("https://odoo.example.com", "erp_test", "bot", "account.move", "search_read")
    error = translate("odoo.exceptions.UserError", "Object account.move doesn't exist", site)
    assert "install Invoicing (account)" in error.message


def test_database_serialisation_failure_is_transient() -> None:
    error = translate("psycopg2.errors.SerializationFailure", "could not serialize access", SITE)
    assert isinstance(error, TransientError)


def test_xmlrpc_fault_one_reads_the_exception_from_the_traceback() -> None:
    text = (
        "Traceback (most recent call last):\n  File x\nValueError: Invalid field 'x' on model 'res.partner'\n"
    )
    error = translate_fault(1, text, SITE)
    assert isinstance(error, RemoteError) and "Invalid field 'x'" in error.message
    assert isinstance(translate_fault(1, "something odd", SITE), FatalError)
