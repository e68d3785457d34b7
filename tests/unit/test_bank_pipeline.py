"""camt and MT940/MT942 files parsed in a helper process (:mod:`connectors.bank.pipeline`) read
exactly as in one process: same transactions, summaries and errors, in the same order; the helper
is always reaped."""

from __future__ import annotations

import multiprocessing
import os
import signal
from pathlib import Path
from typing import Any

import pytest
from erp_recovery.connectors.bank import camt, mt940, pipeline, registry
from erp_recovery.connectors.bank.model import InputFile, ReadOptions

from erp_recovery.errors import FatalError, ParseError

pytestmark = pytest.mark.skipif(not pipeline.available(), reason="no fork or a single CPU here")

FIXTURES = Path(__file__).resolve().parents[1] / "golden" / "bank" / "fixtures"
SHARED_SAMPLES = Path(__file__).resolve().parents[1] / "samples"
IN_PROCESS = ReadOptions(pipeline_min_bytes=1 << 62)
PIPELINED = ReadOptions(pipeline_min_bytes=0)


def _files() -> list[Path]:
    candidates = (
        sorted(FIXTURES.glob("camt*.xml"))
        + sorted(SHARED_SAMPLES.glob("camt05*/*.xml"))
        + sorted(FIXTURES.glob("mt94*"))
        + sorted(path for path in SHARED_SAMPLES.glob("mt94*/*") if not path.name.endswith((".yml", ".json")))
    )
    return [path for path in candidates if registry.identify(path) in ("camt", "mt940")]


def _read(path: Path, options: ReadOptions) -> list[Any]:
    reader = camt if registry.identify(path) == "camt" else mt940
    out: list[Any] = []
    try:
        for event in reader.read(InputFile.from_path(path), options):
            out.append((type(event).__name__, event.model_dump_json()))
    except ParseError as exc:
        out.append((type(exc).__name__, str(exc), exc.file, exc.line, exc.element))
    return out


@pytest.mark.parametrize("path", _files(), ids=lambda path: path.name)
def test_pipelined_reading_is_the_same_as_in_process(path: Path) -> None:
    expected = _read(path, IN_PROCESS)
    assert expected
    assert _read(path, PIPELINED) == expected
    assert not multiprocessing.active_children()


def test_an_error_comes_after_the_records_read_before_it(tmp_path: Path) -> None:
    source = (FIXTURES / "camt053-tricky.xml").read_text(encoding="utf-8")
    cut = source.index("</Stmt>") + len("</Stmt>") + 200
    truncated = tmp_path / "cut.xml"
    truncated.write_text(source[:cut], encoding="utf-8")
    events = _read(truncated, PIPELINED)
    assert events == _read(truncated, IN_PROCESS)
    assert [kind for kind, *_ in events[:-1]].count("StatementSummary") == 1
    assert events[-1][0] == "ParseError" and events[-1][2] == "cut.xml" and events[-1][3] is not None


def test_the_helper_process_is_reaped_when_the_reader_stops_early(tmp_path: Path) -> None:
    entry = (
        '<Ntry><Amt Ccy="EUR">1.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts>'
        "<BookgDt><Dt>2024-01-02</Dt></BookgDt></Ntry>\n"
    )
    document = tmp_path / "many.xml"
    document.write_text(
        '<?xml version="1.0"?><Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08">'
        "<BkToCstmrStmt><GrpHdr><MsgId>M</MsgId></GrpHdr><Stmt><Id>S</Id>"
        "<Acct><Id><IBAN>FR7630006000011234567890189</IBAN></Id></Acct>\n"
        + entry * 20_000
        + "</Stmt></BkToCstmrStmt></Document>",
        encoding="utf-8",
    )
    events = camt.read(InputFile.from_path(document), PIPELINED)
    first = next(events)
    assert first.amount.amount == 1  # type: ignore[union-attr]
    assert multiprocessing.active_children()
    events.close()  # type: ignore[attr-defined]
    assert not multiprocessing.active_children()


def _counting(stop: int, failure: BaseException | None = None) -> Any:
    def produce() -> Any:
        for number in range(stop):
            yield ("n", number)
        if failure is not None:
            raise failure

    return produce


def test_an_unexpected_error_of_the_helper_is_raised_after_its_items() -> None:
    seen: list[int] = []
    with pytest.raises(KeyError, match="boom"):
        for item in pipeline.run(_counting(1000, KeyError("boom")), file="f.xml"):
            seen.append(item[1])
    assert seen == list(range(1000))
    with pytest.raises(ParseError) as caught:
        list(pipeline.run(_counting(3, ParseError("bad amount", file="f.xml", line=7)), file="f.xml"))
    assert (caught.value.reason, caught.value.file, caught.value.line) == ("bad amount", "f.xml", 7)
    assert not multiprocessing.active_children()


def test_a_helper_that_dies_is_a_fatal_error() -> None:
    def produce() -> Any:
        yield ("n", 1)
        os._exit(3)

    with pytest.raises(FatalError, match="exit code 3"):
        list(pipeline.run(produce, file="f.xml"))
    assert not multiprocessing.active_children()


def test_the_helper_runs_none_of_the_parents_signal_handlers(tmp_path: Path) -> None:
    marker = tmp_path / "handled"

    def handler(signum: int, _frame: Any) -> None:
        marker.write_text(f"{os.getpid()}\n", encoding="utf-8")

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        items = pipeline.run(_counting(10_000_000), file="f.xml")
        assert next(items) == ("n", 0)
        items.close()  # type: ignore[attr-defined]
    finally:
        signal.signal(signal.SIGTERM, previous)
    assert not marker.exists()
    assert not multiprocessing.active_children()


def test_leaf_texts_survive_the_trip_between_processes_packed() -> None:
    """Texts are joined with NUL and their paths sent once per layout: empty texts, line breaks
    and repeated paths come back as they were read."""
    packer = camt._LeavesPacker()
    keys: dict[int, tuple[str, ...]] = {}
    first = {"Amt": "12.50", "Amt@Ccy": "EUR", "AddtlNtryInf": "VIR\n  SEPA", "NtryRef": ""}
    multi = {"RmtInf/Ustrd": ["FACTURE 1", "FACTURE 2"]}
    second = {"Amt": "3.00", "Amt@Ccy": "CHF", "AddtlNtryInf": "", "NtryRef": "N2"}
    announced = []
    for values, repeated in ((first, multi), (second, {}), ({}, {})):
        packed = packer.pack(values, repeated)
        if packer.new_keys:
            number, paths = packer.new_keys
            keys[number] = paths
            announced.append(paths)
        assert camt._unpack(keys, packed) == (values, repeated)
    assert announced == [tuple(first), ()]
