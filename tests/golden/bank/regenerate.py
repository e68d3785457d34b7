"""Write missing golden files of the bank readers; refuse to overwrite existing ones without a flag.

    python tests/golden/bank/regenerate.py              # write the missing ones
    python tests/golden/bank/regenerate.py --overwrite  # rewrite all (read the diff before committing!)
    python tests/golden/bank/regenerate.py --overwrite fixtures/camt053-batch.xml

A golden is read by a person before it is committed.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from goldens import dumps, fixture_cases, payload, shared_cases


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("cases", nargs="*", help="case names (default: all)")
    parser.add_argument("--overwrite", action="store_true", help="rewrite goldens that already exist")
    args = parser.parse_args(argv)
    cases = [*shared_cases(), *fixture_cases()]
    if args.cases:
        cases = [case for case in cases if case.name in args.cases]
        if not cases:
            print(f"no such case: {', '.join(args.cases)}", file=sys.stderr)
            return 2
    written = kept = 0
    for case in cases:
        if case.expected.exists() and not args.overwrite:
            kept += 1
            continue
        case.expected.parent.mkdir(parents=True, exist_ok=True)
        case.expected.write_text(dumps(payload(case.source)), encoding="utf-8")
        written += 1
        print(f"wrote {case.expected}")
    if kept:
        print(f"{kept} existing golden(s) kept (use --overwrite to rewrite them)")
    print(f"{written} golden(s) written")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
