"""Sage 100 write-back: the #MPCT import file re-emits complete records from the latest export and
changes only the fields erp-recovery owns; read_current sees what was written."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from erp_recovery.connectors.sage.format_sage import MPCT_FIXED_FIELDS, read_format_sage

from erp_recovery.config import load_config
from erp_recovery.errors import MissingRecordError, ParseError
from erp_recovery.model.money import Money
from erp_recovery.sync.registry import create_connector
from erp_recovery.writeback.plan import FieldChange, Reason, TargetRef


def mpct(account: str, name: str, limit: str, risk: str, control: str) -> list[str]:
    fields = [f"champ {i}" for i in range(1, MPCT_FIXED_FIELDS + 1)]
    fields[0], fields[1], fields[29], fields[32], fields[50], fields[52] = (
        account,
        name,
        limit,
        risk,
        control,
        "0",
    )
    fields[6] = ""  # empty fields are empty lines, kept as they are
    return ["#MPCT", *fields, "4110000", "#MBQT", *[f"banque {i}" for i in range(21)]]


EXPORT = [
    "#FLG 000",
    "#VER 31",
    "#DEV EUR",
    *mpct("C1", "CLIENT UN", "1000,00", "1", "0"),
    *mpct("C2", "DEUX", "0,00", "3", "1"),
    "#FIN",
]


@pytest.fixture
def connector(tmp_path: Path):  # type: ignore[no-untyped-def]
    (tmp_path / "export.txt").write_bytes(("\r\n".join(EXPORT) + "\r\n").encode("cp850"))
    old = time.time() - 60
    os.utime(tmp_path / "export.txt", (old, old))
    (tmp_path / "erp-recovery.toml").write_text(
        """
[[companies]]
code = "acme"
name = "ACME"
[[sources]]
name = "sage"
company = "acme"
connector = "sage100"
[sources.settings]
path = "fec"
mpct_export = "export.txt"
mpct_output = "import.txt"
""",
        encoding="utf-8",
    )
    return create_connector(load_config(tmp_path / "erp-recovery.toml").source("sage"))


def change(account: str, field: str, new: object, base: object = None) -> FieldChange:
    target = TargetRef(source="sage", entity="customer", external_id=account)
    return FieldChange(target=target, field=field, base=base, new=new, reason=Reason(rule="risk.limit"))  # type: ignore[arg-type]


def test_read_current(connector) -> None:  # type: ignore[no-untyped-def]
    changes = [
        change("C1", "credit_limit", None),
        change("C2", "blocked", True),
        change("C9", "risk_code", "2"),
    ]
    observed = connector.read_current(changes)
    assert observed[changes[0].slot].value == Money.of("1000.00", "EUR")
    assert observed[changes[1].slot].value is False
    assert changes[2].slot not in observed  # unknown customer: left out, a conflict for the mechanism


def test_write_changes_only_owned_fields(connector, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    connector.write([change("C1", "credit_limit", Money.of("2500", "EUR")), change("C1", "blocked", True)])
    connector.write([change("C1", "risk_code", "4")])
    out = tmp_path / "import.txt"
    raw = out.read_bytes()
    assert raw.endswith(b"#FIN\r\n") and b"\r\n\r\n" in raw  # CRLF, empty field lines kept
    written = read_format_sage(out).customers()
    assert list(written) == ["C1"]  # only customers with a change are imported
    original = read_format_sage(tmp_path / "export.txt").customers()["C1"]
    changed = written["C1"]
    differences = {
        i + 1: (a, b) for i, (a, b) in enumerate(zip(original.fields, changed.fields, strict=True)) if a != b
    }
    assert differences == {30: ("1000,00", "2500,00"), 33: ("1", "4"), 51: ("0", "2")}
    assert changed.children[0].fields == original.children[0].fields  # bank block re-emitted
    observed = connector.read_current([change("C1", "credit_limit", None)])
    assert next(iter(observed.values())).value == Money.of("2500.00", "EUR")


def test_unknown_customer_and_truncated_export(connector, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(MissingRecordError):
        connector.write([change("C9", "risk_code", "2")])
    (tmp_path / "export.txt").write_bytes(("\r\n".join(EXPORT[:-1])).encode("cp850"))
    with pytest.raises(ParseError, match="no #FIN"):
        connector.read_current([change("C1", "risk_code", "2")])
