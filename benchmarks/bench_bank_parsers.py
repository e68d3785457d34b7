"""Benchmark of the bank statement readers: time and peak memory, against existing parsers.

Generates a camt.053 with N entries and an MT940 with N transactions (default 200,000 each,
realistic entries: one TxDtls with end-to-end id, debtor name and IBAN from a pool of 5,000
customers, invoice number in the remittance), then reads each file in a fresh process (so peak
RSS is the reader's own) with:

- erp-recovery's readers, producing canonical BankTransaction records (ours);
- the best existing Python parser installed: ``pycamt`` for camt.053, ``mt-940`` for MT940
  (each stopped after --timeout seconds if it has not finished).

Targets (issue 5): 200,000 camt entries in <= 10 s with <= 300 MB peak RSS on a 2-core machine.

    python benchmarks/bench_bank_parsers.py                 # 200,000 of each
    python benchmarks/bench_bank_parsers.py --entries 20000 --timeout 120
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

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
print(json.dumps({"seconds": seconds, "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "count": count}))
"""


def measure(kind: str, path: Path, timeout: float) -> dict[str, object]:
    try:
        done = subprocess.run(
            [sys.executable, "-c", CHILD, kind, str(path)], capture_output=True, text=True, timeout=timeout
        )
    except subprocess.TimeoutExpired:
        return {"error": f"did not finish in {timeout:.0f} s"}
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["?"])[-1]
        return {"error": last[:120]}
    return json.loads(done.stdout.strip().splitlines()[-1])


def cpu_reference() -> float:
    """Seconds for 10 million Python additions: tells how fast this machine is."""
    start = time.perf_counter()
    total = 0
    for number in range(10_000_000):
        total += number
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--entries", type=int, default=200_000)
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds allowed to each other parser")
    parser.add_argument("--keep", type=Path, help="folder to keep the generated files in")
    args = parser.parse_args()
    folder = args.keep or Path(tempfile.mkdtemp(prefix="bench-bank-"))
    folder.mkdir(parents=True, exist_ok=True)
    camt, mt940_path = folder / f"camt053-{args.entries}.xml", folder / f"mt940-{args.entries}.sta"
    write_camt(camt, args.entries)
    write_mt940(mt940_path, args.entries)
    print(f"machine: 10M-iteration Python loop in {cpu_reference():.2f} s")
    print(
        f"files: {camt} ({camt.stat().st_size / 1e6:.0f} MB), {mt940_path} ({mt940_path.stat().st_size / 1e6:.0f} MB)"
    )
    rows = []
    for label, path, other in (("camt.053", camt, "pycamt"), ("MT940", mt940_path, "mt-940")):
        ours = measure("ours", path, timeout=3600)
        theirs = measure(other, path, timeout=args.timeout)
        rows.append((label, "erp-recovery", ours))
        rows.append((label, other, theirs))
        if "seconds" in ours and "seconds" in theirs:
            ratio = f"{float(theirs['seconds']) / float(ours['seconds']):.1f}x"  # type: ignore[arg-type]
        elif "seconds" in ours:
            ratio = f"> {args.timeout / float(ours['seconds']):.1f}x"  # type: ignore[arg-type]
        else:
            ratio = "n/a"
        rows.append((label, "ratio (other / ours)", {"ratio": ratio}))
    print(f"{'file':10} {'parser':22} {'seconds':>9} {'peak RSS MB':>12} {'records':>9}")
    for label, name, result in rows:
        if "ratio" in result:
            print(f"{label:10} {name:22} {result['ratio']:>9}")
        elif "error" in result:
            print(f"{label:10} {name:22} {result['error']}")
        else:
            print(
                f"{label:10} {name:22} {float(result['seconds']):9.2f} {float(result['rss_mb']):12.0f} "  # type: ignore[arg-type]
                f"{result['count']:>9}"
            )
    print("targets: camt.053 200,000 entries <= 10 s and <= 300 MB peak RSS (2 cores)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
