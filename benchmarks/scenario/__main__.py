"""``python benchmarks/scenario --out DIR [--seed N] [--customers N] [--months N] [--weeks N]``."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from scenario import build_scenario, write_scenario


def main() -> None:
    parser = argparse.ArgumentParser(description="Generate a receivables scenario with its ground truth.")
    parser.add_argument("--out", type=Path, required=True, help="folder to write into")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--customers", type=int, default=500)
    parser.add_argument("--months", type=int, default=12)
    parser.add_argument("--weeks", type=int, default=6)
    options = parser.parse_args()
    started = time.perf_counter()
    scenario = build_scenario(
        options.seed, customers=options.customers, months=options.months, weeks=options.weeks
    )
    files = write_scenario(scenario, options.out)
    credits = sum(1 for line in scenario.lines for detail in line.details if detail.cents > 0)
    print(
        f"{len(scenario.world.parties)} customers, {len(scenario.books.documents)} documents in the FEC "
        f"({files.fec.name}), {len(files.statements)} camt.053 files with {credits} credits, "
        f"truth in {files.truth} ({time.perf_counter() - started:.1f} s)"
    )


if __name__ == "__main__":
    main()
