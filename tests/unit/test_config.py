import os

import pytest

from erp_recovery.config import Secret, load_config, parse_config
from erp_recovery.errors import ConfigError
from erp_recovery.logs import mask

BASE = """
[[companies]]
code = "acme"
name = "ACME"

[[sources]]
name = "books"
company = "acme"
connector = "csv"
"""


def _write(tmp_path, text):
    path = tmp_path / "erp-recovery.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_valid_config_and_relative_store_path(tmp_path):
    config = load_config(_write(tmp_path, BASE))
    assert config.source("books").company == "acme"
    assert config.store_url() == f"sqlite:///{tmp_path / 'erp-recovery.sqlite'}"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[store]\nurl = 'x'\ncolour = 'blue'\n", "store.colour: unknown key; allowed: url"),
        ("[matchin]\nx = 1\n", "matchin: unknown section"),
        (BASE.replace('company = "acme"', 'company = "other"'), "unknown company 'other'; known: acme"),
        (BASE.replace('code = "acme"', 'code = "Bad Code"'), "companies.0.code"),
        (
            BASE + "\n[[companies]]\ncode = 'b'\nname = 'B'\njurisdiction = 'ES'\n",
            "allowed: 'FR', 'EU', 'UK' or 'DE'",
        ),
        ("not toml [", "not valid TOML"),
    ],
)
def test_bad_config_names_the_key(tmp_path, text, expected):
    with pytest.raises(ConfigError) as error:
        load_config(_write(tmp_path, text))
    assert expected in error.value.message
    assert error.value.exit_code == 2


def test_missing_config_file_says_how_to_fix(tmp_path):
    with pytest.raises(ConfigError, match="not found .*--config"):
        load_config(tmp_path / "nope.toml")


def test_secret_must_be_a_reference_and_is_masked(monkeypatch):
    with pytest.raises(ValueError, match="must not be written in the configuration file"):
        Secret._validate("hunter2")
    monkeypatch.setenv("ERP_TEST_PASSWORD", "s3cr3t-value")
    secret = Secret._validate("${ERP_TEST_PASSWORD}")
    assert "s3cr3t" not in repr(secret)
    assert secret.get() == "s3cr3t-value"
    assert mask("login failed for s3cr3t-value") == "login failed for ***"


def test_unset_secret_variable_is_a_config_error():
    os.environ.pop("ERP_TEST_UNSET", None)
    with pytest.raises(ConfigError, match="ERP_TEST_UNSET is not set"):
        Secret._validate("${ERP_TEST_UNSET}").get()


def test_section_validation_uses_the_full_key():
    from pydantic import BaseModel, ConfigDict

    class Matching(BaseModel):
        model_config = ConfigDict(extra="forbid")
        tolerance: int = 1

    config = parse_config({"matching": {"tolerance": "lots"}})
    with pytest.raises(ConfigError, match="matching.tolerance"):
        config.section("matching", Matching)
