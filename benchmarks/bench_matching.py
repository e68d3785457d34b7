"""Cash-application benchmark: precision and recall by amount, per kind of remittance noise, and speed.

1. **End to end through the CLI.** A scenario (``benchmarks/scenario``: a French SME's FEC, Sage 100
   tiers and échéancier exports, camt.053 statements of the weeks after the books' closing date,
   and the ground truth) is generated into a temporary folder, then ``erp-recovery init``,
   ``sync`` (the FEC and Sage exports), ``import-bank`` (the camt.053 files), ``match`` (twice: the
   second run must change nothing) and ``match export --format csv`` run as a user would run them.
   The export is scored against the truth, by ``bank_ref`` and invoice number:

   - precision = euros allocated to the right invoice / euros allocated;
   - recall = euros allocated to the right invoice / euros the truth allocates;

   for the applied allocations (``auto``, what residuals, ageing and dunning use) and for all
   proposals (``auto`` + ``suggested``), overall and per kind of noise (a bank line counts in each
   of its kinds). The remaining misses are listed by cause.

2. **Scaling of the pure engine** (no files, no store): scenarios of growing size up to 50,000
   credits against 200,000 open items, matched with :func:`erp_recovery.engines.matching.match`;
   prints the time at each size (target: ≤ 30 s at full size on 2 cores, growing about linearly).

Usage::

    python benchmarks/bench_matching.py                    # both parts, seed 1, 500 customers
    python benchmarks/bench_matching.py --seeds 1 2 3 --customers 800 --no-scaling
    python benchmarks/bench_matching.py --canonical        # part 1 on canonical records (no CLI)
"""

from __future__ import annotations

import argparse
import csv
import gc
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from scenario import build_scenario, scenario_records, truth, write_scenario

from erp_recovery.engines.matching import MatchInput, MatchProposal, match

ZERO = Decimal(0)
APPLIED = ("auto", "accepted")
PROPOSED = ("auto", "accepted", "suggested")
#: Kinds whose bank lines must stay unmatched (the truth allocates nothing).
MUST_STAY_UNMATCHED = ("debit", "non_customer", "internal_transfer", "unknown_payer", "duplicate")


class Score:
    """Euros right / proposed / expected, at one level (applied or all proposals)."""

    def __init__(self) -> None:
        self.right = ZERO
        self.proposed = ZERO
        self.expected = ZERO
        self.lines = 0

    def add(self, right: Decimal, proposed: Decimal, expected: Decimal) -> None:
        self.right += right
        self.proposed += proposed
        self.expected += expected
        self.lines += 1

    @staticmethod
    def _ratio(numerator: Decimal, denominator: Decimal) -> str:
        return f"{100 * numerator / denominator:7.2f}" if denominator else "    n/a"

    @property
    def precision(self) -> str:
        return self._ratio(self.right, self.proposed)

    @property
    def recall(self) -> str:
        return self._ratio(self.right, self.expected)


def allocations_by_ref(
    rows: Iterable[dict[str, str]], statuses: Sequence[str]
) -> dict[str, dict[str, Decimal]]:
    found: dict[str, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    for row in rows:
        if row["status"] in statuses and row["invoice_number"]:
            found[row["bank_ref"]][row["invoice_number"]] += Decimal(row["amount"])
    return found


def rows_from_proposals(proposals: Iterable[MatchProposal]) -> list[dict[str, str]]:
    return [
        {
            "bank_ref": proposal.bank_ref,
            "invoice_number": line.invoice_number,
            "amount": str(line.amount.amount),
            "status": proposal.status,
            "rule": proposal.rule,
            "flags": " ".join(proposal.flags),
        }
        for proposal in proposals
        for line in proposal.lines
    ]


def score(truth_rows: Sequence[dict], export_rows: Sequence[dict[str, str]]) -> dict[str, dict[str, Score]]:
    """Scores by kind (and ``ALL``) at the levels ``applied`` and ``proposed``."""
    levels = {
        "applied": allocations_by_ref(export_rows, APPLIED),
        "proposed": allocations_by_ref(export_rows, PROPOSED),
    }
    scores: dict[str, dict[str, Score]] = defaultdict(lambda: {"applied": Score(), "proposed": Score()})
    for row in truth_rows:
        expected = {item["invoice_number"]: Decimal(item["amount"]) for item in row["allocations"]}
        total = sum(expected.values(), ZERO)
        for level, found in levels.items():
            proposed = found.get(row["bank_ref"], {})
            right = sum(
                (min(amount, expected.get(number, ZERO)) for number, amount in proposed.items()), ZERO
            )
            for kind in [*row["kinds"], "ALL"]:
                scores[kind][level].add(right, sum(proposed.values(), ZERO), total)
    return scores


def print_scores(scores: dict[str, dict[str, Score]], title: str) -> None:
    print(f"\n{title}")
    print(f"{'kind of noise':24} {'lines':>6} | {'applied (auto)':^17} | {'auto + suggested':^17}")
    print(f"{'':24} {'':>6} | {'prec %':>8} {'recall %':>8} | {'prec %':>8} {'recall %':>8}")
    for kind in sorted(scores, key=lambda name: (name != "ALL", name)):
        applied, proposed = scores[kind]["applied"], scores[kind]["proposed"]
        print(
            f"{kind:24} {applied.lines:6} | {applied.precision:>8} {applied.recall:>8} | "
            f"{proposed.precision:>8} {proposed.recall:>8}"
        )


def explain_misses(
    truth_rows: Sequence[dict], export_rows: Sequence[dict[str, str]], limit: int = 12
) -> None:
    """Where the euros the truth expects but the applied allocations miss went, and wrong allocations."""
    by_ref: dict[str, list[dict[str, str]]] = defaultdict(list)
    for row in export_rows:
        by_ref[row["bank_ref"]].append(row)
    missed: Counter[str] = Counter()
    missed_lines: Counter[str] = Counter()
    wrong: list[str] = []
    expected_total = ZERO
    for row in truth_rows:
        expected = {item["invoice_number"]: Decimal(item["amount"]) for item in row["allocations"]}
        expected_total += sum(expected.values(), ZERO)
        rows = by_ref.get(row["bank_ref"], [])
        applied = defaultdict(Decimal)
        for line in rows:
            if line["status"] in APPLIED:
                applied[line["invoice_number"]] += Decimal(line["amount"])
        right = sum((min(amount, expected.get(number, ZERO)) for number, amount in applied.items()), ZERO)
        gap = sum(expected.values(), ZERO) - right
        if gap > 0:
            status = rows[0]["status"] if rows else "unmatched"
            flags = rows[0].get("flags", "") if rows else ""
            cause = f"{status:9} {rows[0]['rule'] if rows else '-':22} {flags}"
            missed[cause] += gap
            missed_lines[cause] += 1
        over = sum(applied.values(), ZERO) - right
        if over > 0:
            wrong.append(
                f"  {row['bank_ref']} {row['kinds']}: applied {dict((k, str(v)) for k, v in applied.items())}, "
                f"truth {dict((k, str(v)) for k, v in expected.items())}"
            )
    print("\nEuros the truth allocates that are not applied, by what the matcher did instead")
    print(f"{'share %':>8} {'lines':>5}  status    rule                   flags")
    for cause, amount in missed.most_common(limit):
        print(f"{100 * amount / expected_total:8.2f} {missed_lines[cause]:5}  {cause}")
    print(f"\nApplied allocations that disagree with the truth: {len(wrong)}")
    for line in wrong[:limit]:
        print(line)


def cli(config: Path, *args: str) -> tuple[float, str]:
    """Run ``erp-recovery --config CONFIG ARGS``; returns (seconds, stdout)."""
    started = time.perf_counter()
    done = subprocess.run(
        ["erp-recovery", "--config", str(config), *args],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "COLUMNS": "200"},
    )
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(
            f"erp-recovery {' '.join(args)} failed ({done.returncode}):\n{done.stderr}{done.stdout}"
        )
    return seconds, done.stdout


def end_to_end(
    seed: int, customers: int, weeks: int, folder: Path
) -> tuple[list[dict], list[dict[str, str]]]:
    scenario = build_scenario(seed, customers=customers, weeks=weeks)
    files = write_scenario(scenario, folder)
    credits = sum(1 for line in scenario.lines for detail in line.details if detail.cents > 0)
    print(
        f"\nscenario seed {seed}: {len(scenario.world.parties)} customers, "
        f"{len(scenario.books.documents)} documents in {files.fec.name}, {len(files.statements)} camt.053 files, "
        f"{sum(len(line.details) for line in scenario.lines)} bank lines of which {credits} credits"
    )
    timings = {}
    timings["init"], _ = cli(files.config, "init")
    timings["sync (FEC + Sage exports)"], _ = cli(files.config, "sync")
    timings["import-bank (camt.053)"], _ = cli(files.config, "import-bank", *map(str, files.statements))
    timings["match"], first = cli(files.config, "--json", "match")
    timings["match again"], second = cli(files.config, "--json", "match")
    export_file = folder / "matches.csv"
    timings["match export"], _ = cli(
        files.config, "match", "export", "--format", "csv", "-o", str(export_file)
    )
    for step, seconds in timings.items():
        print(f"  {step:28} {seconds:7.2f} s")
    first_counts, second_counts = json.loads(first)["counts"], json.loads(second)["counts"]
    print(f"  first run:  {first_counts}")
    print(f"  second run: {second_counts}  (must be all unchanged)")
    with export_file.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    truth_rows = json.loads(files.truth.read_text(encoding="utf-8"))["transactions"]
    return truth_rows, rows


def canonical(seed: int, customers: int, weeks: int) -> tuple[list[dict], list[dict[str, str]]]:
    scenario = build_scenario(seed, customers=customers, weeks=weeks)
    records = scenario_records(scenario)
    started = time.perf_counter()
    result = match(
        MatchInput(
            customers=records["customers"],
            invoices=records["invoices"],
            bank_transactions=records["bank_transactions"],
            payments=records["payments"],
        )
    )
    print(
        f"\nscenario seed {seed} (canonical records, no CLI): matched in {time.perf_counter() - started:.2f} s"
    )
    return truth(scenario)["transactions"], rows_from_proposals(result.proposals)  # type: ignore[return-value]


def scaling(sizes: Sequence[float], full_customers: int, seed: int) -> None:
    """Pure-engine time for scenarios of growing size (``sizes`` are fractions of the full one)."""
    print("\nScaling of the pure engine (match() on canonical records, no store)")
    print(
        f"{'customers':>9} {'documents':>9} {'open items':>10} {'credits':>8} {'seconds':>8} {'µs/credit':>9}"
    )
    for fraction in sizes:
        customers = max(100, int(full_customers * fraction))
        scenario = build_scenario(seed, customers=customers, months=4, weeks=2.5)  # type: ignore[arg-type]
        records = scenario_records(scenario)
        del scenario
        gc.collect()
        data = MatchInput(
            customers=records["customers"],
            invoices=records["invoices"],
            bank_transactions=records["bank_transactions"],
            payments=records["payments"],
        )
        open_items = sum(1 for invoice in records["invoices"] if invoice.is_open)
        credits = sum(1 for tx in records["bank_transactions"] if tx.amount.amount > 0)
        started = time.perf_counter()
        match(data)
        seconds = time.perf_counter() - started
        print(
            f"{customers:9} {len(records['invoices']):9} {open_items:10} {credits:8} {seconds:8.2f} "
            f"{1e6 * seconds / max(credits, 1):9.0f}"
        )
        del data, records
        gc.collect()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[1])
    parser.add_argument("--customers", type=int, default=500)
    parser.add_argument("--weeks", type=int, default=6)
    parser.add_argument(
        "--canonical", action="store_true", help="Score on canonical records, without the CLI."
    )
    parser.add_argument("--keep", type=Path, help="Keep the scenario folders under this directory.")
    parser.add_argument("--no-scaling", action="store_true")
    parser.add_argument("--scaling-only", action="store_true")
    parser.add_argument(
        "--scaling-customers", type=int, default=57_000, help="Full size (≈50k credits, 200k open)."
    )
    parser.add_argument("--scaling-sizes", type=float, nargs="+", default=[0.125, 0.25, 0.5, 1.0])
    options = parser.parse_args()

    if not options.scaling_only:
        all_truth: list[dict] = []
        all_rows: list[dict[str, str]] = []
        for seed in options.seeds:
            if options.canonical:
                truth_rows, rows = canonical(seed, options.customers, options.weeks)
            else:
                base = options.keep or Path(tempfile.mkdtemp(prefix="bench-matching-"))
                truth_rows, rows = end_to_end(seed, options.customers, options.weeks, base / f"seed{seed}")
            print_scores(score(truth_rows, rows), f"seed {seed}: precision and recall by amount")
            # keep refs apart between seeds
            all_truth += [{**row, "bank_ref": f"{seed}:{row['bank_ref']}"} for row in truth_rows]
            all_rows += [{**row, "bank_ref": f"{seed}:{row['bank_ref']}"} for row in rows]
        if len(options.seeds) > 1:
            print_scores(
                score(all_truth, all_rows), f"all seeds {options.seeds}: precision and recall by amount"
            )
        explain_misses(all_truth, all_rows)
    if not options.no_scaling:
        scaling(options.scaling_sizes, options.scaling_customers, seed=3)


if __name__ == "__main__":
    main()
