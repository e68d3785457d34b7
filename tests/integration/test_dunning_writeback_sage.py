"""Dunning status in the Sage 100 customer import file: the level reached and the next action date
go to the #MPCT positions an administrator chose in a copy of the layout, through plan → apply."""

from __future__ import annotations

import datetime as dt
import os
import time
from importlib import resources

from erp_recovery.connectors.sage.format_sage import MPCT_FIXED_FIELDS, read_format_sage

from erp_recovery.config import load_config
from erp_recovery.dunning_ops import service
from erp_recovery.dunning_ops.writeback import dunning_proposals
from erp_recovery.model import Customer, Invoice, Money
from erp_recovery.store import Store
from erp_recovery.store import runs as run_store
from erp_recovery.store.records import upsert_records
from erp_recovery.sync.registry import create_connector
from erp_recovery.writeback import WritebackPolicy, apply_plan, make_plan

LEVEL, NEXT = 120, 121  # positions an administrator chose for this example


def _mpct(account: str, name: str) -> list[str]:
    fields = [""] * MPCT_FIXED_FIELDS
    fields[0], fields[1], fields[29], fields[32], fields[50], fields[52] = (
        account,
        name,
        "5000,00",
        "1",
        "0",
        "0",
    )
    return ["#MPCT", *fields, "4110000"]


def test_level_and_next_action_reach_the_mpct_import_file(tmp_path):
    export = tmp_path / "tiers.txt"
    export.write_bytes(
        (
            "\r\n".join(["#FLG 000", "#VER 31", "#DEV EUR", *_mpct("C1", "GARAGE LEFEVRE"), "#FIN"]) + "\r\n"
        ).encode("cp850")
    )
    old = time.time() - 60
    os.utime(export, (old, old))
    shipped = resources.files("erp_recovery.mappings").joinpath("sage100_mpct.toml").read_text("utf-8")
    layout = tmp_path / "my_mpct.toml"
    layout.write_text(
        shipped.replace("[values]", f"dunning_level = {LEVEL}\ndunning_next_action = {NEXT}\n\n[values]"),
        "utf-8",
    )
    (tmp_path / "fec").mkdir()
    (tmp_path / "erp-recovery.toml").write_text(
        f"""
[[companies]]
code = "acme"
name = "Atelier Démo SAS"
[[sources]]
name = "sage"
company = "acme"
connector = "sage100"
[sources.settings]
path = "fec"
mpct_export = "tiers.txt"
mpct_output = "tiers-import.txt"
mpct_layout = "{layout}"
[dunning]
outbox_dir = "{tmp_path / "outbox"}"
[dunning.writeback.sources.sage]
steps = false
level_field = "dunning_level"
next_action_field = "dunning_next_action"
[writeback]
owned_fields = ["dunning_level", "dunning_next_action"]
min_population = 0
max_share = 1.0
""",
        encoding="utf-8",
    )
    config = load_config(tmp_path / "erp-recovery.toml")
    store = Store(f"sqlite:///{tmp_path / 'store.sqlite'}")
    store.upgrade()
    with store.begin() as connection:
        ids = run_store.register_config(connection, config)
        upsert_records(
            connection,
            [
                Customer(external_id="C1", name="GARAGE LEFEVRE", email="compta@garage.example"),
                Invoice(
                    external_id="FA-1",
                    number="FA-1",
                    customer_id="C1",
                    issue_date=dt.date(2026, 9, 1),
                    due_date=dt.date(2026, 10, 1),
                    currency="EUR",
                    total=Money.of("800", "EUR"),
                    residual=Money.of("800", "EUR"),
                ),
            ],
            company_id=ids.companies["acme"],
            source_id=ids.sources["sage"],
            run_id=None,
        )
    setup_ = service.setup(store, config, "acme")
    service.run_day(store, config, setup_, dt.date(2026, 10, 7))
    proposals = dunning_proposals(store, config, "sage")
    assert [(p.field, p.new) for p in proposals] == [
        ("dunning_level", "Relance 1"),
        ("dunning_next_action", "2026-10-16"),
    ]
    connector = create_connector(config.source("sage"))
    draft = make_plan("sage", connector, proposals, created_by="dunning")
    result = apply_plan(
        draft.plan,
        connector,
        checksum=draft.plan.checksum,
        policy=config.section("writeback", WritebackPolicy),
        population={},
    )
    assert result.counts().get("applied") == 2, result.to_dict()
    written = read_format_sage(tmp_path / "tiers-import.txt").customers()["C1"]
    assert (written.fields[LEVEL - 1], written.fields[NEXT - 1]) == ("Relance 1", "2026-10-16")
    assert written.fields[29] == "5000,00"  # everything else re-emitted as exported
    again = make_plan("sage", connector, dunning_proposals(store, config, "sage"), created_by="dunning")
    assert again.plan.changes == ()
