"""Benchmark: the dunning engine over a quarter, and the cost of letters.

Generates a French creditor with N business customers (a few consumers), each with open invoices
due over three months, and prints:

- the time to plan one day and to replay every day of the quarter in memory (history feeding
  history, as ``dunning run`` would), with the number of communications and tasks produced;
- the time to render a formal notice to HTML and to PDF (WeasyPrint), per letter.

Run: ``python benchmarks/bench_dunning.py [--customers 1000] [--invoices 5] [--letters 20] [--seed 3]``
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import time
from collections import Counter
from decimal import Decimal

from erp_recovery.dunning_docs.render import DocumentRenderer, html_to_pdf
from erp_recovery.engines.dunning import (
    DunningInput,
    customer_statement,
    load_policies,
    plan_dunning,
    simulate,
)
from erp_recovery.engines.legal import load_profile, load_rate_table
from erp_recovery.model import Address, Company, Customer, Invoice, Money

START = dt.date(2026, 9, 1)
END = dt.date(2026, 11, 30)


def world(customers: int, invoices: int, seed: int) -> DunningInput:
    rng = random.Random(seed)
    company = Company(
        code="bench", name="Bench SAS", siren="900000126", iban="FR7630006000011234567890189",
        address=Address(street="1 rue du Test", postal_code="69002", city="Lyon", country="FR"),
    )  # fmt: skip
    people, documents = [], []
    for index in range(customers):
        code = f"C{index:05d}"
        people.append(
            Customer(
                external_id=code, name=f"Client {index}", email=f"c{index}@example.org", is_consumer=rng.random() < 0.05,
                address=Address(street=f"{index} rue", postal_code="38000", city="Grenoble", country="FR"),
            )
        )  # fmt: skip
        for number in range(invoices):
            due = START + dt.timedelta(days=rng.randrange(0, 80))
            total = Decimal(rng.randrange(5_000, 900_000)) / 100
            documents.append(
                Invoice(
                    external_id=f"{code}-{number}", number=f"FA-{code}-{number}", customer_id=code,
                    issue_date=due - dt.timedelta(days=30), due_date=due, currency="EUR",
                    total=Money.of(total, "EUR"), residual=Money.of(total, "EUR"),
                )
            )  # fmt: skip
    return DunningInput(
        company=company, customers=people, invoices=documents, profile=load_profile("FR"),
        rates=load_rate_table(missing="carry_forward"), policies=load_policies(),
    )  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1000)
    parser.add_argument("--invoices", type=int, default=5)
    parser.add_argument("--letters", type=int, default=20)
    parser.add_argument("--seed", type=int, default=3)
    args = parser.parse_args()
    data = world(args.customers, args.invoices, args.seed)
    print(
        f"{args.customers} customers, {len(data.invoices)} open invoices due {START} .. {START + dt.timedelta(days=79)}"
    )

    started = time.perf_counter()
    plan = plan_dunning(data, dt.date(2026, 10, 15))
    one_day = time.perf_counter() - started
    print(f"plan of one day (2026-10-15): {one_day:.2f} s, {len(plan.communications)} communications")

    started = time.perf_counter()
    levels: Counter[str] = Counter()
    tasks: Counter[str] = Counter()
    days = 0
    for day_plan in simulate(data, START, END):
        days += 1
        levels.update(c.level.code for c in day_plan.communications)
        tasks.update(t.kind for t in day_plan.tasks)
    replay = time.perf_counter() - started
    print(
        f"replay of {days} days: {replay:.1f} s ({replay / days * 1000:.0f} ms a day); "
        f"{sum(levels.values())} communications {dict(levels)}; tasks {dict(tasks)}"
    )

    renderer = DocumentRenderer()
    sample = [c.external_id for c in data.customers[: args.letters]]
    statements = [customer_statement(data, code, dt.date(2026, 11, 20), "formal_notice") for code in sample]
    started = time.perf_counter()
    pages = [renderer.letter_html(s, data.company, channel="registered_letter")[0] for s in statements]
    html_time = (time.perf_counter() - started) / len(pages)
    started = time.perf_counter()
    sizes = [len(html_to_pdf(page)) for page in pages]
    pdf_time = (time.perf_counter() - started) / len(pages)
    print(
        f"formal notice: HTML {html_time * 1000:.1f} ms, PDF {pdf_time * 1000:.0f} ms per letter "
        f"({len(pages)} letters, {sum(sizes) // len(sizes) // 1024} KiB each on average)"
    )


if __name__ == "__main__":
    main()
