"""Benchmark: the pipeline of N generated companies spread over 1, 2 and 4 Celery workers.

Each company has CSV exports of its books (customers, invoices, as an ERP export) with write-back
to an import file, and a bank folder with a camt.053 statement whose credits pay some invoices.
For each worker count the store is a fresh PostgreSQL database, the bank inboxes are refilled,
``N`` ``erp_recovery.start_run`` tasks are sent (what ``erp-recovery beat`` sends) and the clock
stops when every run has ended. Printed: wall time, companies per minute, speed-up against one
worker, and the mean duration of each stage.

Usage (PostgreSQL on 127.0.0.1:5432 and Redis on 6379, as on CI)::

    python benchmarks/bench_pipeline_workers.py                     # 200 companies, 1/2/4 workers
    python benchmarks/bench_pipeline_workers.py --companies 50 --workers 1,2
    python benchmarks/bench_pipeline_workers.py --broker amqp://guest:guest@127.0.0.1:5672//
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

AS_OF = dt.date(2026, 6, 30)
STAGES = ("sync", "match", "assess", "writeback_plan", "apply", "report")

CUSTOMERS_HEADER = (
    "code;name;parent_code;siren;vat;iban;email;phone;street;postal_code;city;country;terms_days;"
    "terms_method;credit_limit;risk_code;consumer;segment;language"
)
INVOICES_HEADER = (
    "number;type;customer_code;issue_date;due_date;currency;total;residual;status;disputed;"
    "payment_reference;customer_reference"
)
CAMT_NS = "urn:iso:std:iso:20022:tech:xsd:camt.053.001.08"


def _company_files(folder: Path, index: int, invoices: int, customers: int) -> None:
    """Books (customers.csv, invoices.csv) and a camt.053 statement paying a fifth of the open invoices."""
    folder.mkdir(parents=True, exist_ok=True)
    rows = [CUSTOMERS_HEADER]
    for n in range(customers):
        rows.append(
            f"C{n:03d};Client {index}-{n} SARL;;;;;compta{n}@client{index}.example;;1 rue du Port;69002;Lyon;FR;30;"
            f"net;{4000 + 1000 * ((n + index) % 8)},00;;non;retail;fr"
        )
    (folder / "customers.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    rows = [INVOICES_HEADER]
    paid: list[tuple[str, int, int]] = []
    for n in range(1, invoices + 1):
        customer = (n * 7 + index) % customers
        month = 1 + n % 5
        total = 200 + (n * 53 + index) % 4800
        is_open = customer < customers // 3 or month >= 4
        number = f"F{index:03d}-{n:05d}"
        rows.append(
            f"{number};FA;C{customer:03d};2026-{month:02d}-{1 + n % 27:02d};2026-{month + 1:02d}-{1 + n % 27:02d};"
            f"EUR;{total},00;{total if is_open else 0},00;{'open' if is_open else 'paid'};non;{number};"
        )
        if is_open and n % 5 == 0:
            paid.append((number, customer, total))
    (folder / "invoices.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    entries = []
    for k, (number, customer, total) in enumerate(paid, start=1):
        entries.append(
            f'<Ntry><NtryRef>{k}</NtryRef><Amt Ccy="EUR">{total}.00</Amt><CdtDbtInd>CRDT</CdtDbtInd>'
            f"<Sts><Cd>BOOK</Cd></Sts><BookgDt><Dt>2026-06-{1 + k % 28:02d}</Dt></BookgDt>"
            f"<ValDt><Dt>2026-06-{1 + k % 28:02d}</Dt></ValDt><AcctSvcrRef>B{index:03d}-{k:05d}</AcctSvcrRef>"
            "<BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>RCDT</Cd><SubFmlyCd>ESCT</SubFmlyCd></Fmly></Domn></BkTxCd>"
            f"<NtryDtls><TxDtls><Refs><EndToEndId>E2E-{index}-{k}</EndToEndId></Refs>"
            f'<Amt Ccy="EUR">{total}.00</Amt><RltdPties><Dbtr><Pty><Nm>Client {index}-{customer} SARL</Nm></Pty>'
            f"</Dbtr></RltdPties><RmtInf><Ustrd>Facture {number}</Ustrd></RmtInf></TxDtls></NtryDtls></Ntry>"
        )
    closing = sum(total for _, _, total in paid)
    statement = (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<Document xmlns="{CAMT_NS}"><BkToCstmrStmt>'
        f"<GrpHdr><MsgId>BENCH{index:04d}</MsgId><CreDtTm>2026-06-30T06:00:00</CreDtTm></GrpHdr>"
        f"<Stmt><Id>BENCH-{index:04d}-06</Id><CreDtTm>2026-06-30T06:00:00</CreDtTm>"
        f"<Acct><Id><IBAN>FR7630006000011234567890189</IBAN></Id><Ccy>EUR</Ccy></Acct>"
        '<Bal><Tp><CdOrPrtry><Cd>OPBD</Cd></CdOrPrtry></Tp><Amt Ccy="EUR">0.00</Amt><CdtDbtInd>CRDT</CdtDbtInd>'
        "<Dt><Dt>2026-06-01</Dt></Dt></Bal>"
        f'<Bal><Tp><CdOrPrtry><Cd>CLBD</Cd></CdOrPrtry></Tp><Amt Ccy="EUR">{closing}.00</Amt>'
        "<CdtDbtInd>CRDT</CdtDbtInd><Dt><Dt>2026-06-30</Dt></Dt></Bal>"
        f"{''.join(entries)}</Stmt></BkToCstmrStmt></Document>\n"
    )
    (folder / "statement.template.xml").write_text(statement, encoding="utf-8")


def _company_toml(code: str, folder: Path) -> str:
    return f"""
[[companies]]
code = "{code}"
name = "Company {code}"
base_currency = "EUR"
jurisdiction = "FR"

[[sources]]
name = "{code}-books"
company = "{code}"
connector = "csv"
[sources.settings.streams.customers]
path = "{folder / "customers.csv"}"
mapping = "csv_customers"
snapshot = true
[sources.settings.streams.invoices]
path = "{folder / "invoices.csv"}"
mapping = "csv_invoices"
snapshot = true
[sources.settings.writeback]
stream = "customers"
output = "{folder / "outbox" / "customers-import.csv"}"
actions_output = "{folder / "outbox" / "dunning-steps.csv"}"
[sources.settings.writeback.columns]
credit_limit = "credit_limit"
risk_flag = "risk_code"

[[sources]]
name = "{code}-bank"
company = "{code}"
connector = "bank-folder"
[sources.settings]
inbox = "{folder / "bank"}"
"""


def _config(store_url: str, broker: str, companies: str) -> str:
    stages = ", ".join(f'"{stage}"' for stage in STAGES)
    return f"""
[store]
url = "{store_url}"
{companies}
[writeback]
owned_fields = ["credit_limit", "risk_flag", "dunning_step"]
max_share = 1.0

[pipeline]
stages = [{stages}]

[approvals]
auto = ["credit_limit", "risk_flag", "dunning_step"]
[approvals.credit_limit]
max_auto_cut = 0.2
first_limit = "auto"

[workers]
broker_url = "{broker}"
queue_prefix = "bench{uuid.uuid4().hex[:8]}"
"""


def _refill_inboxes(data: Path) -> None:
    for folder in sorted(data.iterdir()):
        shutil.rmtree(folder / "bank", ignore_errors=True)
        shutil.rmtree(folder / "outbox", ignore_errors=True)
        (folder / "bank").mkdir()
        shutil.copy(folder / "statement.template.xml", folder / "bank" / "statement-2026-06.xml")


def _wait_ready(logs: list[Path], timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if all("ready." in log.read_text(errors="replace") for log in logs):
            return
        time.sleep(0.3)
    raise SystemExit(
        "workers did not start: " + " | ".join(log.read_text(errors="replace")[-800:] for log in logs)
    )


def run_round(
    workers: int, *, data: Path, codes: list[str], server: str, broker: str, work: Path
) -> dict[str, object]:
    from erp_recovery.config import load_config
    from erp_recovery.pipeline.tasks import START_RUN, celery_app_for, queue_names
    from erp_recovery.store import Store
    from erp_recovery.store import runs as run_store

    database = f"erp_recovery_bench_{workers}_{uuid.uuid4().hex[:8]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{database}"'))
    url = make_url(server).set(database=database).render_as_string(hide_password=False)
    processes: list[subprocess.Popen[bytes]] = []
    try:
        _refill_inboxes(data)
        config_path = work / f"bench-{workers}.toml"
        config_path.write_text(
            _config(url, broker, "".join(_company_toml(code, data / code) for code in codes)),
            encoding="utf-8",
        )
        config = load_config(config_path)
        store = Store(url)
        store.upgrade()
        with store.begin() as connection:
            run_store.register_config(connection, config)
        logs = []
        for n in range(workers):
            log = work / f"worker-{workers}-{n}.log"
            logs.append(log)
            command = [sys.executable, "-m", "erp_recovery.cli", "--config", str(config_path), "-v", "worker"]
            command += ["--concurrency", "1", "--hostname", f"bench{n}@%h"]
            processes.append(subprocess.Popen(command, stdout=log.open("wb"), stderr=subprocess.STDOUT))
        _wait_ready(logs)
        app = celery_app_for(config, store)
        control = queue_names(config)[0]
        started = time.perf_counter()
        for code in codes:
            app.send_task(START_RUN, kwargs={"company": code, "as_of": AS_OF.isoformat(), "trigger": "beat"},
                          queue=control)  # fmt: skip
        engine = create_engine(url)
        with engine.connect() as connection:
            while True:
                done = connection.execute(
                    text("SELECT count(*) FROM pipeline_runs WHERE status != 'running'")
                ).scalar_one()
                connection.commit()
                if done >= len(codes):
                    break
                if time.perf_counter() - started > 3600:
                    raise SystemExit(
                        f"{workers} worker(s): only {done} of {len(codes)} runs ended within an hour"
                    )
                time.sleep(0.25)
            elapsed = time.perf_counter() - started
            statuses = dict(
                connection.execute(text("SELECT status, count(*) FROM pipeline_runs GROUP BY status")).all()
            )
            errors = [
                f"{stage}: {error}"
                for stage, error in connection.execute(
                    text("SELECT stage, error FROM pipeline_stage_runs WHERE status = 'failed' LIMIT 5")
                )
            ]
            stage_means = {
                stage: (float(mean or 0), int(count))
                for stage, mean, count in connection.execute(
                    text(
                        "SELECT split_part(stage, ':', 1) AS stage, avg(duration_seconds), count(*) "
                        "FROM pipeline_stage_runs GROUP BY 1 ORDER BY min(position)"
                    )
                )
            }
            records = connection.execute(
                text("SELECT (SELECT count(*) FROM invoices), (SELECT count(*) FROM bank_transactions)")
            ).one()
        engine.dispose()
        store.dispose()
        return {
            "workers": workers,
            "seconds": elapsed,
            "per_minute": len(codes) / elapsed * 60,
            "statuses": statuses,
            "errors": errors,
            "stages": stage_means,
            "invoices": records[0],
            "bank_lines": records[1],
        }
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
        admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--companies", type=int, default=200)
    parser.add_argument("--workers", default="1,2,4", help="Worker counts to measure (comma-separated).")
    parser.add_argument("--invoices", type=int, default=150, help="Invoices per company.")
    parser.add_argument("--customers", type=int, default=20, help="Customers per company.")
    parser.add_argument(
        "--broker", default=os.environ.get("ERP_RECOVERY_BENCH_BROKER", "redis://127.0.0.1:6379/12")
    )
    parser.add_argument(
        "--pg",
        default=os.environ.get(
            "ERP_RECOVERY_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
        ),
    )
    args = parser.parse_args()
    counts = [int(part) for part in args.workers.split(",")]
    if args.broker.startswith("redis"):
        import redis

        redis.Redis.from_url(args.broker).flushdb()
    work = Path(tempfile.mkdtemp(prefix="erp-recovery-bench-"))
    data = work / "companies"
    codes = [f"co{index:03d}" for index in range(args.companies)]
    started = time.perf_counter()
    for index, code in enumerate(codes):
        _company_files(data / code, index, args.invoices, args.customers)
    print(
        f"{args.companies} companies x ({args.customers} customers, {args.invoices} invoices, CSV write-back; "
        f"bank folder with one camt.053) generated in {time.perf_counter() - started:.1f}s; broker {args.broker}; "
        f"{os.cpu_count()} CPU(s)"
    )
    print(f"stages: {', '.join(STAGES)} (each worker: 1 prefork process)\n")
    results = []
    for workers in counts:
        result = run_round(workers, data=data, codes=codes, server=args.pg, broker=args.broker, work=work)
        results.append(result)
        stages = "  ".join(f"{name} {mean:.2f}s" for name, (mean, _) in result["stages"].items())  # type: ignore[attr-defined]
        print(
            f"{workers} worker(s): {result['seconds']:.1f}s, {result['per_minute']:.1f} companies/min, "
            f"runs {result['statuses']}, {result['invoices']} invoices, {result['bank_lines']} bank lines\n"
            f"    mean stage durations: {stages}"
        )
        for error in result["errors"]:  # type: ignore[attr-defined]
            print(f"    failed: {error}")
    base = results[0]
    print("\nworkers  seconds  companies/min  speed-up  efficiency")
    for result in results:
        speedup = base["seconds"] / result["seconds"] * base["workers"]  # type: ignore[operator]
        efficiency = speedup / result["workers"]  # type: ignore[operator]
        print(
            f"{result['workers']:>7}  {result['seconds']:>7.1f}  {result['per_minute']:>13.1f}  "
            f"{speedup:>7.2f}x  {efficiency:>9.0%}"
        )
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
