"""Benchmark: syncing an Odoo database with N generated invoices, and applying a write-back plan.

Runs the Odoo stand-in (``tests/odoo_standin``, real HTTP on 127.0.0.1) loaded with the recorded
Odoo 18 data plus ``--invoices`` generated posted invoices, and prints for each step the RPC
requests the server received, the ORM calls by model and method, and the wall-clock time:

1. first sync of every stream (full read);
2. a second sync with nothing changed;
3. a sync after one invoice was paid (reconciled);
4. a plan of ``--limits`` credit-limit changes (half of them to the same value) applied, then
   applied again.

Targets (issue 3): a no-change sync costs at most one search per model; 10,000 invoices cost at
most 20 RPC calls. The stand-in's own domain evaluation dominates the time; a real Odoo is faster
per page and slower per round trip.

    python benchmarks/bench_odoo_sync.py                       # 10,000 invoices
    python benchmarks/bench_odoo_sync.py --invoices 50000 --protocol xmlrpc
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from odoo_standin import OdooStandin, recorded_database
from odoo_standin.helpers import PASSWORD_ENV, SOURCE, app_config, sqlite_store
from odoo_standin.seed import add_payment, generate_invoices, receivable_line, reconcile

from erp_recovery.model.money import Money
from erp_recovery.sync.registry import create_connector
from erp_recovery.sync.runner import SyncRunner
from erp_recovery.writeback import Proposal, Reason, TargetRef, WritebackPolicy, apply_plan, make_plan


def step(standin: OdooStandin, title: str, started: float) -> None:
    elapsed = time.perf_counter() - started
    calls = Counter(f"{call.model or 'common'}.{call.method}" for call in standin.db.calls)
    searches = Counter(
        call.model for call in standin.db.calls if call.method in ("search", "search_read", "search_count")
    )
    print(f"{title}: {sum(standin.requests.values())} HTTP requests, {elapsed:.2f} s")
    print(f"    searches per model: {dict(sorted(searches.items()))}")
    print(f"    ORM calls: {dict(sorted(calls.items()))}")
    standin.reset_counters()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--invoices", type=int, default=10_000)
    parser.add_argument("--limits", type=int, default=100)
    parser.add_argument("--protocol", choices=("jsonrpc", "xmlrpc"), default="jsonrpc")
    args = parser.parse_args()
    os.environ[PASSWORD_ENV] = "admin"

    db = recorded_database()
    generate_invoices(db, args.invoices)
    with OdooStandin(db) as standin, tempfile.TemporaryDirectory() as folder:
        store = sqlite_store(Path(folder))
        config = app_config(standin, protocol=args.protocol)
        runner = SyncRunner(store, config)
        standin.reset_counters()

        started = time.perf_counter()
        report = runner.sync(SOURCE)
        step(standin, f"first sync ({report.total('read')} records)", started)

        started = time.perf_counter()
        report = runner.sync(SOURCE)
        step(standin, f"second sync, nothing changed ({report.total('read')} records read)", started)

        invoice_id = next(iter(sorted(db.records["account.move"])))
        payment = add_payment(db, 10, 100.0, "2026-11-23", "bench")
        reconcile(
            db,
            receivable_line(db, invoice_id),
            receivable_line(db, db.records["account.payment"][payment]["move_id"]),
            100.0,
        )
        standin.reset_counters()
        started = time.perf_counter()
        report = runner.sync(SOURCE)
        step(standin, f"sync after one payment ({ {s.name: s.read for s in report.streams} })", started)

        customers = sorted(pid for pid, p in db.records["res.partner"].items() if p.get("customer_rank"))[
            : args.limits
        ]
        proposals = [
            Proposal(
                target=TargetRef(source=SOURCE, entity="customer", external_id=str(pid)),
                field="credit_limit",
                new=Money.of(5000 if index % 2 else 7000 + index, "USD"),
                reason=Reason(rule="bench"),
            )
            for index, pid in enumerate(customers)
        ]
        connector = create_connector(config.source(SOURCE))
        started = time.perf_counter()
        plan = make_plan(SOURCE, connector, proposals).plan
        step(standin, f"plan of {len(plan.changes)} credit limits", started)
        policy = WritebackPolicy(owned_fields=("credit_limit",), max_share=1.0)
        for attempt in ("apply", "apply again"):
            started = time.perf_counter()
            result = apply_plan(plan, connector, checksum=plan.checksum, policy=policy, population={})
            step(standin, f"{attempt}: {result.counts()}", started)
        connector.close()


if __name__ == "__main__":
    main()
