"""Every bank sample and fixture reads to its committed expected output (or expected error)."""

from __future__ import annotations

import difflib
import json

import pytest

from .goldens import SHARED_SAMPLES, Case, dumps, fixture_cases, payload, shared_cases

CASES = [*shared_cases(), *fixture_cases()]


def test_shared_samples_are_present() -> None:
    if not SHARED_SAMPLES.exists():
        pytest.skip(f"shared samples not found at {SHARED_SAMPLES}")
    assert len(shared_cases()) >= 60


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_golden(case: Case) -> None:
    if not case.expected.exists():
        pytest.fail(f"no golden for {case.name}: run python tests/golden/bank/regenerate.py and read it")
    expected = case.expected.read_text(encoding="utf-8")
    actual = dumps(payload(case.source))
    if actual != expected:
        diff = "".join(
            difflib.unified_diff(
                expected.splitlines(keepends=True), actual.splitlines(keepends=True), "expected", "actual"
            )
        )
        pytest.fail(f"{case.name} differs from its golden:\n{diff}")


NEGATIVES = [case for case in CASES if case.manifest and case.manifest["role"] == "negative"]


@pytest.mark.parametrize("case", NEGATIVES, ids=[case.name for case in NEGATIVES])
def test_negative_samples_are_refused_or_degrade(case: Case) -> None:
    """MANIFEST negatives are refused with an error, or read without any transaction invented."""
    result = json.loads(case.expected.read_text(encoding="utf-8"))
    if "error" not in result:
        # Graceful degradation (an empty balance): only what the file holds is read.
        assert all(
            statement["balance_check"]["status"] == "unavailable" for statement in result["statements"]
        )
