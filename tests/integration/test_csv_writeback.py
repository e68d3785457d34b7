"""Write-back to a CSV source: an import file in the export's layout, conflicts, idempotence."""

from __future__ import annotations

from pathlib import Path

from erp_recovery.config import load_config
from erp_recovery.model import Money
from erp_recovery.store import Store
from erp_recovery.sync.registry import create_connector
from erp_recovery.writeback import (
    ActionChange,
    Proposal,
    Reason,
    StoreAuditLog,
    TargetRef,
    WritebackPolicy,
    apply_plan,
    make_plan,
)

HEADER = (
    "code;name;parent_code;siren;vat;iban;email;phone;street;postal_code;city;country;terms_days;"
    "terms_method;credit_limit;risk_code;consumer;segment;language"
)


def _setup(tmp_path: Path) -> Path:
    exports = tmp_path / "exports"
    exports.mkdir()
    (exports / "customers.csv").write_text(
        HEADER
        + "\nC1;Alpha SARL;;;;;;;;;;FR;30;net;5000,00;;non;;fr\nC2;Beta SA;;;;;;;;;;FR;30;net;;R2;non;;fr\n",
        encoding="cp1252",
    )
    config = tmp_path / "erp-recovery.toml"
    config.write_text(
        f"""
[store]
url = "{tmp_path / "db.sqlite"}"
[[companies]]
code = "acme"
name = "ACME"
[[sources]]
name = "books"
company = "acme"
connector = "csv"
[sources.settings.streams.customers]
path = "exports/customers.csv"
mapping = "csv_customers"
[sources.settings.writeback]
output = "outbox/customers-import.csv"
actions_output = "outbox/steps.csv"
[sources.settings.writeback.columns]
credit_limit = "credit_limit"
risk_flag = "risk_code"
[writeback]
owned_fields = ["credit_limit", "risk_flag", "dunning_step"]
max_share = 1.0
""",
        encoding="utf-8",
    )
    return config


def _proposals() -> list:
    reason = Reason(rule="test")
    alpha = TargetRef(source="books", entity="customer", external_id="C1", label="Alpha SARL")
    beta = TargetRef(source="books", entity="customer", external_id="C2", label="Beta SA")
    return [
        Proposal(target=alpha, field="credit_limit", new=Money.of("3500", "EUR"), reason=reason),
        Proposal(target=beta, field="risk_flag", new="R2", reason=reason),  # already so: dropped
        Proposal(target=beta, field="credit_limit", new=Money.of("1000", "EUR"), reason=reason),
        ActionChange(
            target=alpha,
            action="dunning_step",
            idempotency_key="dunning:C1:level-1",
            params={"level": 1, "summary": "Reminder sent"},
            reason=reason,
        ),
    ]


def _apply(config, connector, plan):
    store = Store(config.store_url())
    store.upgrade()
    return apply_plan(
        plan,
        connector,
        checksum=plan.checksum,
        policy=config.section("writeback", WritebackPolicy),
        population={},
        audit=StoreAuditLog(store),
    )


def test_plan_apply_writes_complete_rows_in_the_export_layout_once(tmp_path):
    config = load_config(_setup(tmp_path))
    connector = create_connector(config.source("books"))
    draft = make_plan("books", connector, _proposals())
    assert [why for _, why in draft.dropped] == ["already has this value"]
    report = _apply(config, connector, draft.plan)
    assert report.counts()["applied"] == 3
    written = (tmp_path / "outbox" / "customers-import.csv").read_text(encoding="cp1252").splitlines()
    assert written[0] == HEADER
    assert written[1] == "C1;Alpha SARL;;;;;;;;;;FR;30;net;3500,00;;non;;fr"
    assert written[2] == "C2;Beta SA;;;;;;;;;;FR;30;net;1000,00;R2;non;;fr"
    steps = (tmp_path / "outbox" / "steps.csv").read_text(encoding="utf-8").splitlines()
    assert len(steps) == 2 and steps[1].startswith("dunning:C1:level-1;customer;C1")
    again = make_plan("books", create_connector(config.source("books")), _proposals())
    assert again.plan.changes == ()
    second = _apply(config, connector, draft.plan)
    assert second.counts()["applied"] == 0
    assert len((tmp_path / "outbox" / "steps.csv").read_text(encoding="utf-8").splitlines()) == 2


def test_a_value_changed_in_a_newer_export_is_a_conflict_and_kept(tmp_path):
    config = load_config(_setup(tmp_path))
    connector = create_connector(config.source("books"))
    draft = make_plan("books", connector, _proposals())
    export = tmp_path / "exports" / "customers.csv"
    export.write_text(export.read_text(encoding="cp1252").replace("5000,00", "7000,00"), encoding="cp1252")
    report = _apply(config, connector, draft.plan)
    assert report.counts()["conflict"] == 1
    written = (tmp_path / "outbox" / "customers-import.csv").read_text(encoding="cp1252")
    assert "C1;" not in written
