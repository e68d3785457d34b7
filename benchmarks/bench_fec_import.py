"""Benchmark: a generated 1,000,000-line FEC ingested into the SQLite store through the sync runner.

Prints the wall-clock and CPU time of the whole sync (validation of every line, derivation,
canonical records, upserts), the peak resident memory of this process, the time of the FEC read
and validation alone, and the ratio to DuckDB's ``read_csv`` loading the same file into a table in
the same run (DuckDB is the ``bench`` extra: ``pip install -e '.[bench]'``).

Targets (issue 4): ≤ 20 s and ≤ 500 MB peak RSS on a 2-core machine. The load average is printed
before and after: on a shared machine, wall time above CPU time is mostly waiting for a core.
``--breakdown`` then syncs the file again into a fresh store with every phase timed (process
time per phase, see ``fec_breakdown.py``).

    python benchmarks/bench_fec_import.py                 # 1,000,000 lines, realistic mix
    python benchmarks/bench_fec_import.py --breakdown --keep /tmp/fec-bench
    python benchmarks/bench_fec_import.py --lines 200000 --mix sales --keep /tmp/fec-bench
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from erp_recovery.connectors.sage.fec_reader import read_fec
from erp_recovery.connectors.sage.fec_rules import load_rules
from fec_breakdown import PhaseClock
from fec_generator import MIXES, generate_fec

from erp_recovery.config import parse_config
from erp_recovery.store import Store
from erp_recovery.sync.runner import SyncRunner


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def duckdb_load_seconds(path: Path) -> float | None:
    try:
        import duckdb
    except ImportError:
        return None
    connection = duckdb.connect()
    start = time.perf_counter()
    connection.execute(
        "CREATE TABLE fec AS SELECT * FROM read_csv(?, delim = '\t', header = true, all_varchar = true)",
        [str(path)],
    )
    elapsed = time.perf_counter() - start
    rows = connection.execute("SELECT count(*) FROM fec").fetchone()
    connection.close()
    print(f"duckdb read_csv         {elapsed:8.2f} s   ({rows[0] if rows else '?'} rows)")
    return elapsed


def load() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def make_runner(folder: Path, data: Path, name: str, batch_size: int) -> tuple[Store, SyncRunner]:
    database = folder / name
    database.unlink(missing_ok=True)
    store = Store(f"sqlite:///{database}")
    store.upgrade()
    config = parse_config(
        {
            "store": {"url": f"sqlite:///{database}"},
            "companies": [{"code": "bench", "name": "Bench"}],
            "sources": [
                {
                    "name": "books",
                    "company": "bench",
                    "connector": "fec",
                    "settings": {"path": str(data), "batch_size": batch_size},
                }
            ],
        },
        path=folder / "erp-recovery.toml",
    )
    return store, SyncRunner(store, config)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--mix", choices=sorted(MIXES), default="realistic")
    parser.add_argument("--keep", type=Path, help="folder to write the FEC and store into (kept)")
    parser.add_argument("--batch-size", type=int, default=5000, help="records per stored batch")
    parser.add_argument("--breakdown", action="store_true", help="then time each phase on a second sync")
    args = parser.parse_args()
    print(f"load average before     {load()}  ({os.cpu_count()} CPUs)")

    folder = args.keep or Path(tempfile.mkdtemp(prefix="fec-bench-"))
    folder.mkdir(parents=True, exist_ok=True)
    data = folder / "fec"
    data.mkdir(exist_ok=True)
    fec = data / "552100554FEC20231231.txt"
    start = time.perf_counter()
    counts = generate_fec(fec, args.lines, mix=args.mix)
    print(
        f"generated {counts['lines']:,} lines ({fec.stat().st_size / 1e6:.0f} MB, mix {args.mix}: "
        f"{counts['receivable_lines']:,} on customer accounts, {counts['invoices']:,} invoices, "
        f"{counts['payments']:,} payments) in {time.perf_counter() - start:.1f} s"
    )

    store, runner = make_runner(folder, data, "store.sqlite", args.batch_size)
    wall, cpu = time.perf_counter(), time.process_time()
    report = runner.sync("books")
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    if report.status != "succeeded":
        raise SystemExit(f"sync failed: {report.error}")
    rss = peak_rss_mb()
    print(
        f"sync into SQLite        {wall:8.2f} s   (CPU {cpu:.2f} s; {report.total('created'):,} records created)"
    )
    print(f"peak RSS                {rss:8.0f} MB")

    again = time.perf_counter()
    second = runner.sync("books")
    print(
        f"re-sync, same file      {time.perf_counter() - again:8.2f} s   ({second.total('created')} created)"
    )

    parse = time.perf_counter()
    ledger = read_fec(fec, load_rules())
    parse = time.perf_counter() - parse
    print(
        f"FEC read + validation   {parse:8.2f} s   ({ledger.stats.lines:,} lines, {ledger.stats.entries:,} entries)"
    )
    del ledger

    duck = duckdb_load_seconds(fec)
    if duck:
        print(
            f"ratio sync / duckdb     {wall / duck:8.1f} x   (read+validation / duckdb {parse / duck:.1f} x)"
        )
    verdict = "met" if wall <= 20 and rss <= 500 else "NOT met"
    print(f"targets ≤ 20 s and ≤ 500 MB: {verdict}")
    print(f"load average after      {load()}")
    store.dispose()

    if args.breakdown:
        store, runner = make_runner(folder, data, "breakdown.sqlite", args.batch_size)
        phases = PhaseClock()
        with phases.wrapped(store):
            wall, cpu = time.perf_counter(), time.process_time()
            report = runner.sync("books")
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        print(f"breakdown (second sync, timed per phase): wall {wall:.2f} s, CPU {cpu:.2f} s, load {load()}")
        for line in phases.report(cpu):
            print(line)
        store.dispose()


if __name__ == "__main__":
    main()
