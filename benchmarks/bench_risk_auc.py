"""Benchmark: how well the risk score ranks the customers who later default or pay very late.

Generates receivables with known later behaviour (``risk_scenario.py``), assesses every customer
at the observation date with the default weights, and prints:

- ROC AUC of (100 - score) against the outcome of the next six months (target >= 0.85), with and
  without the external signals (BODACC proceedings);
- AUC by behaviour pair and the grade mix of the customers who went bad;
- how the recommended credit limits compare with the exposure those customers reached.

Run: ``python benchmarks/bench_risk_auc.py [--customers 400] [--seed 7]``
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections import Counter
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from risk_scenario import Scenario, generate

from erp_recovery.engines.risk import Portfolio, PortfolioAssessment, assess_portfolio


def roc_auc(labels: Sequence[int], risks: Sequence[float]) -> float:
    """Probability that a random positive is ranked riskier than a random negative (ties count half)."""
    positives = [r for label, r in zip(labels, risks, strict=True) if label]
    negatives = [r for label, r in zip(labels, risks, strict=True) if not label]
    if not positives or not negatives:
        raise ValueError("AUC needs both positive and negative examples")
    wins = 0.0
    for p in positives:
        for n in negatives:
            wins += 1.0 if p > n else 0.5 if p == n else 0.0
    return wins / (len(positives) * len(negatives))


def assess(scenario: Scenario, with_signals: bool) -> PortfolioAssessment:
    customers, invoices, allocations, transactions = scenario.visible_records()
    portfolio = Portfolio.build(
        currency="EUR",
        customers=customers,
        invoices=invoices,
        allocations=allocations,
        bank_transactions=transactions,
        signals=scenario.signals() if with_signals else None,
    )
    return assess_portfolio(portfolio, scenario.as_of)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=400)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    started = time.perf_counter()
    scenario = generate(seed=args.seed, customers=args.customers)
    generated = time.perf_counter() - started
    truth = {sim.customer.external_id: sim for sim in scenario.customers}
    labels_total = sum(sim.label for sim in scenario.customers)
    print(
        f"scenario: own generator benchmarks/risk_scenario.py, seed {args.seed}, {args.customers} customers, "
        f"as of {scenario.as_of}, {labels_total} went bad in the next 6 months ({generated:.1f} s to generate)"
    )

    for with_signals in (False, True):
        started = time.perf_counter()
        assessment = assess(scenario, with_signals)
        elapsed = time.perf_counter() - started
        labels = [truth[a.customer_id].label for a in assessment.customers]
        risks = [100.0 - a.score.score for a in assessment.customers]
        auc = roc_auc(labels, risks)
        tag = "with BODACC signals" if with_signals else "without external signals"
        print(f"\nROC AUC {tag}: {auc:.3f} (default weights; target >= 0.85) - assessed in {elapsed:.2f} s")
        grades_bad = Counter(a.score.grade for a in assessment.customers if truth[a.customer_id].label)
        grades_good = Counter(a.score.grade for a in assessment.customers if not truth[a.customer_id].label)
        print(
            "  grades of customers who went bad: " + " ".join(f"{g}:{grades_bad.get(g, 0)}" for g in "ABCDE")
        )
        print(
            "  grades of the others:            " + " ".join(f"{g}:{grades_good.get(g, 0)}" for g in "ABCDE")
        )
        if with_signals:
            _by_behaviour(assessment, truth)
            _limits(assessment, truth)


def _by_behaviour(assessment: PortfolioAssessment, truth: dict) -> None:
    print("  by behaviour: count, share gone bad, mean score")
    groups: dict[str, list] = {}
    for item in assessment.customers:
        groups.setdefault(truth[item.customer_id].behaviour, []).append(item)
    for behaviour, items in sorted(groups.items()):
        bad = sum(truth[i.customer_id].label for i in items)
        mean = statistics.mean(i.score.score for i in items)
        print(f"    {behaviour:<14} {len(items):>4}  {bad / len(items):>5.0%}  {mean:5.1f}")


def _limits(assessment: PortfolioAssessment, truth: dict) -> None:
    bad = [a for a in assessment.customers if truth[a.customer_id].label]
    good = [a for a in assessment.customers if not truth[a.customer_id].label]

    def over(items: list, limit_of) -> tuple[int, Decimal]:
        count, amount = 0, Decimal(0)
        for item in items:
            limit = limit_of(item)
            peak = truth[item.customer_id].peak_exposure_after
            if limit is not None and peak > limit:
                count += 1
                amount += peak - limit
        return count, amount

    def recommended(item):
        return item.credit_limit.recommended.amount

    def current(item):
        return item.credit_limit.current.amount if item.credit_limit.current else None

    print("\nRecommended credit limits vs the exposure reached in the next 6 months")
    for name, items in (("went bad", bad), ("others", good)):
        rec_count, rec_amount = over(items, recommended)
        cur_count, cur_amount = over(items, current)
        with_limit = [i for i in items if current(i) is not None]
        print(
            f"  {name:<9} {len(items):>4} customers: peak exposure above the recommended limit for {rec_count} "
            f"({rec_amount:,.0f} EUR above it); above the ERP limit for {cur_count} of {len(with_limit)} with one "
            f"({cur_amount:,.0f} EUR above it)"
        )
    ratio_bad = [
        recommended(i) / truth[i.customer_id].peak_exposure_after
        for i in bad
        if truth[i.customer_id].peak_exposure_after > 0
    ]
    ratio_good = [
        recommended(i) / truth[i.customer_id].peak_exposure_after
        for i in good
        if truth[i.customer_id].peak_exposure_after > 0
    ]
    unpaid = sum((truth[i.customer_id].unpaid_after for i in bad), Decimal(0))
    print(
        f"  median recommended limit / peak exposure: went bad {statistics.median(ratio_bad):.2f}, "
        f"others {statistics.median(ratio_good):.2f}"
    )
    capped = sum(
        (
            min(
                truth[i.customer_id].unpaid_after,
                max(Decimal(0), truth[i.customer_id].peak_exposure_after - recommended(i)),
            )
            for i in bad
        ),
        Decimal(0),
    )
    print(
        f"  unpaid > 90 days at the horizon by those who went bad: {unpaid:,.0f} EUR; of which above the "
        f"recommended limit (at most what enforcing it would have kept out): {capped:,.0f} EUR"
    )


def matching_world_measure(seed: int, customers: int) -> None:
    """Second measure on the matching issue's generator (``benchmarks/scenario``), when present.

    Its world simulates 12 months of invoices up to a cut-off plus 6 weeks of payments after it,
    each customer with a behaviour (on_time, late, chronically_late, partial, grouped, disputing,
    deteriorating, defaulting). We observe the books 4 months before the cut-off and label a
    customer 1 when, by the end of the simulation, it paid an invoice more than 60 days late or
    left one unpaid more than 60 days past due, or reached its default date.
    """
    try:
        from scenario.world import build_world
    except ImportError:
        print("\n(matching issue generator benchmarks/scenario not found: second measure skipped)")
        return
    import datetime as dt

    from dateutil.relativedelta import relativedelta

    from erp_recovery.model import Allocation, Customer, Invoice, Money, PaymentTerms

    world = build_world(seed, customers=customers)
    observed = world.cutoff - relativedelta(months=4)
    paid: dict[str, list[tuple[dt.date, int]]] = {}
    for event in world.payments:
        for document, cents in event.allocations:
            paid.setdefault(document.number, []).append((event.date, cents))

    def euros(cents: int) -> Money:
        return Money(amount=Decimal(cents) / 100, currency="EUR")

    records_customers = [
        Customer(
            external_id=p.code, name=p.name, parent_id=p.parent, payment_terms=PaymentTerms(days=p.terms_days)
        )
        for p in world.parties.values()
    ]
    invoices, allocations = [], []
    label: dict[str, int] = {code: 0 for code in world.parties}
    for document in world.documents:
        events = sorted(paid.get(document.number, []))
        running, fully_paid = 0, None
        for date, cents in events:
            running += cents
            if running >= document.total_cents and fully_paid is None:
                fully_paid = date
        if document.kind == "invoice" and document.due > observed:
            late = (fully_paid - document.due).days if fully_paid else (world.end - document.due).days
            if late > 60:
                label[document.customer] = 1
        if document.issue > observed:
            continue
        seen = [(date, cents) for date, cents in events if date <= observed]
        settled = sum(cents for _, cents in seen)
        residual = max(0, document.total_cents - settled)
        invoices.append(
            Invoice(
                external_id=document.number,
                kind=document.kind,
                number=document.number,
                customer_id=document.customer,
                issue_date=document.issue,
                due_date=max(document.due, document.issue),
                currency="EUR",
                total=euros(document.total_cents),
                residual=euros(residual),
                status="paid" if residual == 0 else ("partial" if settled else "open"),
                disputed=document.disputed,
            )
        )
        if document.kind == "invoice":
            allocations.extend(
                Allocation(
                    external_id=f"{document.number}-{index}",
                    invoice_id=document.number,
                    payment_id=f"P{document.number}-{index}",
                    amount=euros(cents),
                    date=date,
                )
                for index, (date, cents) in enumerate(seen)
                if cents > 0
            )
    for party in world.parties.values():
        if party.default_on is not None and party.default_on <= world.end:
            label[party.code] = 1
    portfolio = Portfolio.build(
        currency="EUR", customers=records_customers, invoices=invoices, allocations=allocations
    )
    assessment = assess_portfolio(portfolio, observed)
    active = [a for a in assessment.customers if a.figures.invoices_12m > 0]
    labels = [label[a.customer_id] for a in active]
    auc = roc_auc(labels, [100.0 - a.score.score for a in active])
    print(
        f"\nmatching issue generator (benchmarks/scenario, seed {seed}, {customers} customers), observed on "
        f"{observed} (cut-off {world.cutoff} - 4 months, outcome to {world.end}): {len(active)} customers with "
        f"invoices, {sum(labels)} went bad; ROC AUC {auc:.3f}"
    )
    groups: dict[str, list] = {}
    for item in active:
        groups.setdefault(world.parties[item.customer_id].behaviour, []).append(item)
    for behaviour, items in sorted(groups.items()):
        bad = sum(label[i.customer_id] for i in items)
        print(
            f"    {behaviour:<17} {len(items):>4}  {bad / len(items):>5.0%}  {statistics.mean(i.score.score for i in items):5.1f}"
        )


if __name__ == "__main__":
    main()
    matching_world_measure(seed=7, customers=400)
