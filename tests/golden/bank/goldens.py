"""Golden cases of the bank readers: every bank sample of ``tests/samples`` (listed by its
MANIFEST.tsv, read in place) and our own fixtures in ``fixtures/``.

A case's expected output is canonical JSON (Decimals as strings, dates ISO, no nulls): the
statements with their balance check and their transactions, or the error the file must be
refused with. Expected files of shared samples live in ``shared/<format dir>/<name>.expected.json``;
fixtures have ``<case>.<ext>.expected.json`` beside them.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from erp_recovery.connectors.bank import registry
from erp_recovery.connectors.bank.model import InputFile, StatementSummary

from erp_recovery.errors import ParseError
from erp_recovery.model import canonical_json

HERE = Path(__file__).resolve().parent
FIXTURES = HERE / "fixtures"
SHARED_EXPECTED = HERE / "shared"
REPOSITORY = HERE.parents[2]
#: The public samples, copied with their MANIFEST and licences into ``tests/samples`` (see NOTICE.md).
SHARED_SAMPLES = REPOSITORY / "tests" / "samples"
#: MANIFEST formats read by the bank readers (CFONB 240 is refused with a clear error).
BANK_FORMATS = ("camt052", "camt053", "camt054", "mt940", "mt942", "ofx", "cfonb120", "cfonb240")


@dataclass(frozen=True)
class Case:
    name: str
    source: Path
    expected: Path
    manifest: dict[str, str] | None = None


def manifest_rows() -> list[dict[str, str]]:
    path = SHARED_SAMPLES / "MANIFEST.tsv"
    if not path.exists():
        return []
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t"))
    return [row for row in rows if row["format"] in BANK_FORMATS and row["role"] in ("sample", "negative")]


def shared_cases() -> list[Case]:
    return [
        Case(
            name=row["file"],
            source=SHARED_SAMPLES / row["file"],
            expected=SHARED_EXPECTED / f"{row['file']}.expected.json",
            manifest=row,
        )
        for row in manifest_rows()
    ]


def fixture_cases() -> list[Case]:
    return [
        Case(name=f"fixtures/{path.name}", source=path, expected=path.with_name(path.name + ".expected.json"))
        for path in sorted(FIXTURES.iterdir())
        if path.is_file() and not path.name.endswith((".expected.json", ".md"))
    ]


def payload(source: Path) -> dict[str, Any]:
    """What the readers make of ``source``, as canonical JSON."""
    infile = InputFile.from_path(source)
    try:
        events = list(registry.read_input(infile))
    except ParseError as exc:
        error: dict[str, Any] = {"type": type(exc).__name__, "reason": exc.reason}
        if exc.file and exc.file != infile.name:
            error["file"] = exc.file
        if exc.line is not None:
            error["line"] = exc.line
        if exc.element is not None:
            error["element"] = exc.element
        return {"error": error}
    statements: list[dict[str, Any]] = []
    pending: list[dict[str, Any]] = []
    for event in events:
        if isinstance(event, StatementSummary):
            statement = event.model_dump(mode="json", exclude_none=True)
            statement["transactions"] = pending
            statements.append(statement)
            pending = []
        else:
            pending.append(canonical_json(event))
    return {"format": registry.identify_input(infile), "statements": statements}


def dumps(data: dict[str, Any]) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False, sort_keys=True) + "\n"
