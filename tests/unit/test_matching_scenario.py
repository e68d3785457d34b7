"""The benchmark's scenario generator: deterministic, balanced books, statements that reconcile,
a truth consistent with the books."""

from __future__ import annotations

import json
import re
import sys
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))

from scenario import build_scenario, truth, write_scenario


def _amount(text: str) -> Decimal:
    return Decimal(text.replace(",", ".")) if text else Decimal(0)


def test_the_same_seed_gives_the_same_scenario_and_another_seed_another() -> None:
    first, again, other = (truth(build_scenario(seed, customers=40, weeks=2)) for seed in (4, 4, 5))
    assert first == again
    assert first["transactions"] != other["transactions"]


def test_files_are_consistent_with_the_truth(tmp_path: Path) -> None:
    scenario = build_scenario(2, customers=60, weeks=3)
    files = write_scenario(scenario, tmp_path)
    # every FEC entry balances, and open customer balances equal the residuals the truth starts from
    lines = files.fec.read_text(encoding="utf-8").splitlines()
    header = lines[0].split("\t")
    entries: dict[str, Decimal] = defaultdict(Decimal)
    for line in lines[1:]:
        row = dict(zip(header, line.split("\t"), strict=True))
        entries[row["EcritureNum"]] += _amount(row["Debit"]) - _amount(row["Credit"])
    assert entries and all(total == 0 for total in entries.values())
    # each weekly statement's closing balance is its opening plus its entries
    balance = re.compile(
        r"<Cd>(OPBD|CLBD)</Cd></CdOrPrtry></Tp><Amt Ccy=\"EUR\">([0-9.]+)</Amt><CdtDbtInd>(\w+)<"
    )
    entry = re.compile(r"<Ntry>.*?<Amt Ccy=\"EUR\">([0-9.]+)</Amt><CdtDbtInd>(CRDT|DBIT)<")
    for statement in files.statements:
        text = statement.read_text(encoding="utf-8")
        found = {
            kind: Decimal(value) * (1 if sign == "CRDT" else -1)
            for kind, value, sign in balance.findall(text)
        }
        moves = sum(
            (Decimal(value) * (1 if sign == "CRDT" else -1) for value, sign in entry.findall(text)),
            Decimal(0),
        )
        assert found["OPBD"] + moves == found["CLBD"]
        assert text.count("<Ntry>") == int(text.split("<TtlNtries><NbOfNtries>")[1].split("<")[0])
    data = json.loads(files.truth.read_text(encoding="utf-8"))
    open_numbers = {
        doc.number for doc in scenario.books.documents if scenario.books.open_cents[doc.number] > 0
    }
    for row in data["transactions"]:
        for allocation in row["allocations"]:
            assert allocation["invoice_number"] in open_numbers
        if set(row["kinds"]) & {"debit", "non_customer", "internal_transfer", "duplicate", "unknown_payer"}:
            assert row["allocations"] == []
    behaviours = {customer["behaviour"] for customer in data["customers"].values()}
    assert behaviours <= {
        "on_time", "late", "chronically_late", "partial", "grouped", "disputing", "deteriorating", "defaulting",
    }  # fmt: skip
    assert len(behaviours) >= 6
