"""Record drafts validated in batches: a model that refuses one record of a batch hands its drafts
to ``to_canonical`` one by one, so only the bad record is quarantined (with its line)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from erp_recovery.connectors.sage import fec_connector
from erp_recovery.connectors.sage.drafts import Draft, RecordDraft, build_draft, validated

from erp_recovery.config import load_config
from erp_recovery.errors import SkippableRecord
from erp_recovery.model.money import Money
from erp_recovery.model.records import Invoice, Payment
from erp_recovery.store import Store
from erp_recovery.store.records import load_records
from erp_recovery.sync.runner import SyncRunner

EUR = Money.of("10.00", "EUR")


def invoice(number: str, line: int) -> Draft:
    values = {
        "external_id": f"I{line}",
        "number": number,
        "customer_id": "C1",
        "issue_date": dt.date(2024, 1, 10),
        "currency": "EUR",
        "total": EUR,
        "residual": EUR,
    }
    return Invoice, values, line


def payment(line: int) -> Draft:
    return Payment, {"external_id": f"P{line}", "date": dt.date(2024, 1, 11), "amount": EUR}, line


def test_batches_validate_per_model_and_a_refusal_falls_back_to_drafts() -> None:
    raws = validated([invoice("F1", 2), payment(3), invoice("", 4), payment(5)], "books.txt")
    assert [type(raw.data).__name__ for raw in raws] == ["RecordDraft", "Payment", "RecordDraft", "Payment"]
    good, bad = raws[0], raws[2]
    assert isinstance(good.data, RecordDraft) and (good.origin.line, good.origin.record_id) == (2, "I2")
    assert isinstance(build_draft(good), Invoice)
    with pytest.raises(SkippableRecord, match="number: String should have at least 1 character") as caught:
        build_draft(bad)
    assert (caught.value.file, caught.value.line, caught.value.record_id) == ("books.txt", 4, "I4")
    assert build_draft(raws[1]) is raws[1].data


HEADER = (
    "JournalCode\tJournalLib\tEcritureNum\tEcritureDate\tCompteNum\tCompteLib\tCompAuxNum\tCompAuxLib\t"
    "PieceRef\tPieceDate\tEcritureLib\tDebit\tCredit\tEcritureLet\tDateLet\tValidDate\tMontantdevise\tIdevise"
)


def sale(num: int, piece: str) -> list[str]:
    common = f"VE\tVentes\t{num}\t20240110"
    return [
        f"{common}\t411000\tClients\tC1\tClient\t{piece}\t20240110\tx\t10,00\t0,00\t\t\t20240110\t\t",
        f"{common}\t706000\tVentes\t\t\t{piece}\t20240110\tx\t0,00\t10,00\t\t\t20240110\t\t",
    ]


def test_a_record_the_model_refuses_is_quarantined_and_the_rest_stored(
    tmp_path: Path, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No valid FEC derives a record the model refuses; one is injected into the derivation."""
    data = tmp_path / "fec"
    data.mkdir()
    rows = [*sale(1, "F1"), *sale(2, "F2"), *sale(3, "F3")]
    (data / "552100554FEC20241231.txt").write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    derive_drafts = fec_connector.record_drafts

    def corrupted(*args: Any, **kwargs: Any) -> Iterator[Draft]:
        for model, values, line in derive_drafts(*args, **kwargs):
            if values.get("number") == "F2":
                values = {**values, "due_date": dt.date(2023, 1, 1)}  # before its issue date
            yield model, values, line

    monkeypatch.setattr(fec_connector, "record_drafts", corrupted)
    config = tmp_path / "erp-recovery.toml"
    config.write_text(
        f'[store]\nurl = "{store.engine.url.render_as_string(hide_password=False)}"\n'
        '[[companies]]\ncode = "acme"\nname = "ACME"\n'
        '[[sources]]\nname = "books"\ncompany = "acme"\nconnector = "fec"\n[sources.settings]\npath = "fec"\n',
        encoding="utf-8",
    )
    report = SyncRunner(store, load_config(config)).sync("books")
    assert report.status == "succeeded", report.error
    assert report.total("rejected") == 1
    [reject] = report.rejects
    assert "line 4" in reject["origin"] and "due date 2023-01-01 is before issue date" in reject["reason"]
    with store.connect() as connection:
        stored = sorted(r.number for r in load_records(connection, "invoice") if isinstance(r, Invoice))
    assert stored == ["F1", "F3"]
