"""Benchmark of the bank statement readers: time and peak memory, against existing parsers.

Generates a camt.053 with N entries and an MT940 with N transactions (default 200,000 each,
realistic entries: one TxDtls with end-to-end id, debtor name and IBAN from a pool of 5,000
customers, invoice number in the remittance), then reads each file in a fresh process (so peak
RSS is the reader's own) with:

- erp-recovery's readers, producing canonical BankTransaction records (ours);
- the best existing Python parser installed: ``pycamt`` for camt.053, ``mt-940`` for MT940
  (each stopped after --timeout seconds if it has not finished). pycamt's time grows with the
  square of the number of entries (about 66 s for 10,000, hours for 200,000), so it is run on
  subsets (--subsets) next to ours on the same files, and its time for the full file is
  extrapolated from those runs — printed as such.

Our camt reader parses large files in a helper process (``connectors/bank/pipeline.py``): the CPU
time and peak RSS of both processes are printed. The machine is shared, so every row also gives
the load average and a CPU reference (a 10M-iteration Python loop) measured just before it.

Targets (issue 5): 200,000 camt entries in <= 10 s with <= 300 MB peak RSS on a 2-core machine.

    python benchmarks/bench_bank_parsers.py                 # 200,000 of each
    python benchmarks/bench_bank_parsers.py --entries 20000 --repeat 3 --subsets 1000,2000
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from schwifty import IBAN

CAMT_HEAD = """<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08"><BkToCstmrStmt>
<GrpHdr><MsgId>BENCH-1</MsgId><CreDtTm>2024-02-01T06:00:00+01:00</CreDtTm></GrpHdr>
<Stmt><Id>BENCH-2024-01</Id><CreDtTm>2024-02-01T06:00:00+01:00</CreDtTm>
<Acct><Id><IBAN>FR7630006000011234567890189</IBAN></Id><Ccy>EUR</Ccy></Acct>
<Bal><Tp><CdOrPrtry><Cd>OPBD</Cd></CdOrPrtry></Tp><Amt Ccy="EUR">0.00</Amt><CdtDbtInd>CRDT</CdtDbtInd>
<Dt><Dt>2024-01-01</Dt></Dt></Bal>
<Bal><Tp><CdOrPrtry><Cd>CLBD</Cd></CdOrPrtry></Tp><Amt Ccy="EUR">{closing}</Amt><CdtDbtInd>CRDT</CdtDbtInd>
<Dt><Dt>2024-01-31</Dt></Dt></Bal>
"""
CAMT_ENTRY = (
    '<Ntry><NtryRef>{i}</NtryRef><Amt Ccy="EUR">{amount}</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts>'
    "<BookgDt><Dt>2024-01-{day:02d}</Dt></BookgDt><ValDt><Dt>2024-01-{day:02d}</Dt></ValDt>"
    "<AcctSvcrRef>ASR{i:010d}</AcctSvcrRef><BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>RCDT</Cd>"
    "<SubFmlyCd>ESCT</SubFmlyCd></Fmly></Domn></BkTxCd><NtryDtls><TxDtls><Refs>"
    '<EndToEndId>E2E{i:012d}</EndToEndId><TxId>TX{i}</TxId></Refs><Amt Ccy="EUR">{amount}</Amt>'
    "<CdtDbtInd>CRDT</CdtDbtInd><RltdPties><Dbtr><Pty><Nm>{name}</Nm></Pty></Dbtr><DbtrAcct><Id>"
    "<IBAN>{iban}</IBAN></Id></DbtrAcct></RltdPties><RmtInf><Ustrd>FACTURE FA-2024-{i:06d}</Ustrd>"
    "</RmtInf></TxDtls></NtryDtls><AddtlNtryInf>VIR SEPA RECU</AddtlNtryInf></Ntry>\n"
)


def customers(count: int = 5000) -> list[tuple[str, str]]:
    return [
        (
            f"CLIENT {number:05d} SARL",
            str(
                IBAN.generate(
                    "FR", bank_code="30004", branch_code="00001", account_code=f"{number:011d}"
                ).compact
            ),
        )
        for number in range(1, count + 1)
    ]


def write_camt(path: Path, entries: int, seed: int = 7) -> None:
    rng = random.Random(seed)
    pool = customers()
    amounts = [rng.randint(1000, 999_999) for _ in range(entries)]
    closing = sum(amounts)
    with path.open("w", encoding="utf-8") as handle:
        handle.write(CAMT_HEAD.format(closing=f"{closing // 100}.{closing % 100:02d}"))
        for index, cents in enumerate(amounts):
            name, iban = pool[rng.randrange(len(pool))]
            handle.write(
                CAMT_ENTRY.format(
                    i=index,
                    amount=f"{cents // 100}.{cents % 100:02d}",
                    day=1 + index % 28,
                    name=name,
                    iban=iban,
                )
            )
        handle.write("</Stmt></BkToCstmrStmt></Document>\n")


def write_mt940(path: Path, transactions: int, seed: int = 7) -> None:
    rng = random.Random(seed)
    pool = customers()
    amounts = [rng.randint(1000, 999_999) for _ in range(transactions)]
    closing = sum(amounts)
    lines = [":20:BENCH2024", ":25:FR7630006000011234567890189", ":28C:00001/001", ":60F:C240101EUR0,00"]
    with path.open("w", encoding="ascii") as handle:
        handle.write("\n".join(lines) + "\n")
        for index, cents in enumerate(amounts):
            name, iban = pool[rng.randrange(len(pool))]
            day = 1 + index % 28
            handle.write(
                f":61:2401{day:02d}01{day:02d}C{cents // 100},{cents % 100:02d}NTRFNONREF//ASR{index:010d}\n"
                f":86:/EREF/E2E{index:012d}/REMI/USTD//FACTURE FA-2024-{index:06d}/\n"
                f"/CNTP/{iban}/AGRIFRPPXXX/{name}//\n"
            )
        handle.write(f":62F:C240131EUR{closing // 100},{closing % 100:02d}\n-\n")


CHILD = r"""
import json, resource, sys, time
kind, path = sys.argv[1], sys.argv[2]
start = time.perf_counter()
count = 0
if kind == "ours":
    from pathlib import Path
    from erp_recovery.connectors.bank import registry
    from erp_recovery.model import BankTransaction
    for event in registry.extract(Path(path)):
        if isinstance(event, BankTransaction):
            count += 1
elif kind == "pycamt":
    from pycamt.parser import Camt053Parser
    count = len(Camt053Parser.from_file(path).get_transactions())
elif kind == "mt-940":
    import mt940
    count = len(mt940.parse(path))
seconds = time.perf_counter() - start
own = resource.getrusage(resource.RUSAGE_SELF)
helper = resource.getrusage(resource.RUSAGE_CHILDREN)
print(json.dumps({"seconds": seconds, "count": count,
                  "rss_mb": own.ru_maxrss / 1024, "helper_rss_mb": helper.ru_maxrss / 1024,
                  "cpu": own.ru_utime + own.ru_stime, "helper_cpu": helper.ru_utime + helper.ru_stime}))
"""


def cpu_reference() -> float:
    """Seconds for 10 million Python additions: how fast this (shared) machine is right now."""
    start = time.perf_counter()
    total = 0
    for number in range(10_000_000):
        total += number
    return time.perf_counter() - start


def measure(kind: str, path: Path, timeout: float) -> dict[str, Any]:
    """One run of a parser in a fresh process, with the machine's state just before it."""
    conditions = {"load": os.getloadavg()[0], "cpu_ref": cpu_reference()}
    try:
        done = subprocess.run(
            [sys.executable, "-c", CHILD, kind, str(path)], capture_output=True, text=True, timeout=timeout
        )
    except subprocess.TimeoutExpired:
        return {**conditions, "error": f"did not finish in {timeout:.0f} s"}
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["?"])[-1]
        return {**conditions, "error": last[:120]}
    return {**conditions, **json.loads(done.stdout.strip().splitlines()[-1])}


def row(label: str, parser: str, run: str, result: dict[str, Any]) -> str:
    where = f"load {result['load']:4.2f}  cpu-ref {result['cpu_ref']:.2f} s"
    if "error" in result:
        return f"{label:9} {parser:34} {run:>7}  {result['error']}   ({where})"
    rss = result["rss_mb"] + result["helper_rss_mb"]
    memory = f"{rss:6.0f}" + (
        f" ({result['rss_mb']:.0f}+{result['helper_rss_mb']:.0f})" if result["helper_rss_mb"] else ""
    )
    cpu = f"{result['cpu']:.1f}" + (f"+{result['helper_cpu']:.1f}" if result["helper_cpu"] else "")
    return (
        f"{label:9} {parser:34} {run:>7} {result['seconds']:8.2f} {cpu:>10} {memory:>16} "
        f"{result['count']:>8}  ({where})"
    )


def best(results: list[dict[str, Any]]) -> float | None:
    times = [float(result["seconds"]) for result in results if "seconds" in result]
    return min(times) if times else None


def quadratic_fit(points: list[tuple[int, float]], target: int) -> float:
    """Least-squares ``t = a n + b n^2`` through the measured points, evaluated at ``target``."""
    s_11 = sum(n * n for n, _ in points)
    s_12 = sum(n**3 for n, _ in points)
    s_22 = sum(n**4 for n, _ in points)
    r_1 = sum(n * t for n, t in points)
    r_2 = sum(n * n * t for n, t in points)
    det = s_11 * s_22 - s_12 * s_12
    a = (r_1 * s_22 - r_2 * s_12) / det
    b = (s_11 * r_2 - s_12 * r_1) / det
    return a * target + b * target * target


HEADER = (
    f"{'file':9} {'parser':34} {'run':>7} {'seconds':>8} {'cpu s':>10} {'peak RSS MB':>16} {'records':>8}"
)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--entries", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=2, help="runs of each of our readers (best is kept)")
    parser.add_argument(
        "--subsets",
        default="2500,5000",
        help="entry counts pycamt is run on (it is quadratic: the full file is extrapolated)",
    )
    parser.add_argument(
        "--timeout", type=float, default=600.0, help="seconds allowed to each other parser's run"
    )
    parser.add_argument("--keep", type=Path, help="folder to keep the generated files in")
    args = parser.parse_args()
    folder = args.keep or Path(tempfile.mkdtemp(prefix="bench-bank-"))
    folder.mkdir(parents=True, exist_ok=True)
    camt, mt940_path = folder / f"camt053-{args.entries}.xml", folder / f"mt940-{args.entries}.sta"
    write_camt(camt, args.entries)
    write_mt940(mt940_path, args.entries)
    subsets = [int(value) for value in args.subsets.split(",") if value]
    subset_files = {count: folder / f"camt053-{count}.xml" for count in subsets}
    for count, path in subset_files.items():
        write_camt(path, count)
    print(f"machine: {os.cpu_count()} CPUs; each row gives the load average and the time of a 10M-iteration")
    print("Python loop (cpu-ref, ~0.35 s on this machine when it is quiet) measured just before the run.")
    print(
        f"files: {camt} ({camt.stat().st_size / 1e6:.0f} MB), {mt940_path} ({mt940_path.stat().st_size / 1e6:.0f} MB)"
    )
    print("cpu s = reader process (+ its parsing helper); peak RSS = reader + helper (each one's peak)")
    print(HEADER)
    ours = [measure("ours", camt, timeout=3600) for _ in range(args.repeat)]
    for index, result in enumerate(ours, start=1):
        print(row("camt.053", "erp-recovery", f"#{index}", result), flush=True)
    points: list[tuple[int, float]] = []
    ours_subset: dict[int, float] = {}
    for count, path in subset_files.items():
        theirs = measure("pycamt", path, timeout=args.timeout)
        mine = measure("ours", path, timeout=args.timeout)
        print(row("camt.053", f"pycamt on {count:,} entries", "subset", theirs), flush=True)
        print(row("camt.053", f"erp-recovery on {count:,} entries", "subset", mine), flush=True)
        if "seconds" in theirs and "seconds" in mine:
            points.append((count, float(theirs["seconds"])))
            ours_subset[count] = float(mine["seconds"])
    mt_ours = [measure("ours", mt940_path, timeout=3600) for _ in range(args.repeat)]
    mt_theirs = [measure("mt-940", mt940_path, timeout=args.timeout) for _ in range(args.repeat)]
    for index, result in enumerate(mt_ours, start=1):
        print(row("MT940", "erp-recovery", f"#{index}", result), flush=True)
    for index, result in enumerate(mt_theirs, start=1):
        print(row("MT940", "mt-940", f"#{index}", result), flush=True)

    print()
    camt_best = best(ours)
    if camt_best is not None:
        peak = max(
            float(result["rss_mb"]) + float(result["helper_rss_mb"]) for result in ours if "seconds" in result
        )
        print(f"camt.053, {args.entries:,} entries: best {camt_best:.2f} s, peak RSS {peak:.0f} MB")
    for count, seconds in points:
        print(
            f"ratio pycamt / erp-recovery, measured on the same {count:,}-entry file: "
            f"{seconds / ours_subset[count]:.1f}x"
        )
    if len(points) >= 2 and camt_best is not None:
        estimate = quadratic_fit(points, args.entries)
        print(
            f"ratio pycamt / erp-recovery at {args.entries:,} entries: ~{estimate / camt_best:,.0f}x "
            f"(pycamt EXTRAPOLATED from its runs on {', '.join(f'{n:,}' for n, _ in points)} entries with "
            f"t = a*n + b*n^2: ~{estimate:,.0f} s; it is not run on the full file)"
        )
    mt_best, mt_other = best(mt_ours), best(mt_theirs)
    if mt_best is not None and mt_other is not None:
        print(
            f"MT940, {args.entries:,} transactions: best {mt_best:.2f} s; ratio mt-940 / erp-recovery: {mt_other / mt_best:.2f}x"
        )
    print(
        "targets (issue 5): camt.053 200,000 entries <= 10 s and <= 300 MB peak RSS on a 2-core machine; "
        "compare cpu-ref with ~0.35 s to judge how busy the machine was"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
