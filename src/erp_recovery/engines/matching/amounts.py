"""Amount rules: which combination of a payer's open items a credit pays (bounded subset-sum).

The search is bounded three ways (the ``subset_*`` settings): only the oldest open items that could
take part are considered, a combination has at most ``subset_max_size`` items, and the search stops
after ``subset_node_budget`` steps (then nothing is "unique"). Credit notes are netted by trying
every small subset of the payer's open credit notes. When several combinations fit, the one with the
oldest items wins ("oldest first on ties") and the result says it was a tie.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from itertools import combinations

from erp_recovery.engines.matching.ledger import OpenItem
from erp_recovery.model.money import minor_units


@dataclass(frozen=True, slots=True)
class Combination:
    """Items whose net remaining (invoices - credit notes) settles a credit, and the write-off."""

    items: tuple[OpenItem, ...]
    net: Decimal
    writeoff: Decimal

    @property
    def has_credit_notes(self) -> bool:
        return any(not item.is_invoice for item in self.items)

    def age(self) -> tuple[tuple[object, ...], ...]:
        return tuple(sorted(item.age_key for item in self.items))


@dataclass(frozen=True, slots=True)
class SubsetSearch:
    """All combinations found (best first), and whether the bounded search was cut short."""

    combinations: tuple[Combination, ...]
    exhausted: bool

    @property
    def best(self) -> Combination | None:
        return self.combinations[0] if self.combinations else None

    @property
    def unique(self) -> bool:
        return len(self.combinations) == 1 and not self.exhausted


class _BudgetExceeded(Exception):
    pass


def _to_units(amount: Decimal, scale: int) -> int | None:
    scaled = amount * scale
    return int(scaled) if scaled == scaled.to_integral_value() else None


def _subsets_of_values(
    values: Sequence[int], low: int, high: int, max_size: int, budget: list[int], limit: int
) -> list[tuple[int, ...]]:
    """Index tuples of ``values`` (positive, sorted descending) whose sum is in [low, high]."""
    count = len(values)
    suffix = [0] * (count + 1)
    for index in range(count - 1, -1, -1):
        suffix[index] = suffix[index + 1] + values[index]
    found: list[tuple[int, ...]] = []
    chosen: list[int] = []

    def walk(start: int, total: int) -> None:
        if low <= total <= high and chosen:
            found.append(tuple(chosen))
            if len(found) >= limit or low == high:
                return
        if len(chosen) >= max_size:
            return
        for index in range(start, count):
            budget[0] -= 1
            if budget[0] < 0:
                raise _BudgetExceeded
            value = values[index]
            if total + value > high:
                continue
            if total + suffix[index] < low:
                break
            chosen.append(index)
            walk(index + 1, total + value)
            chosen.pop()
            if len(found) >= limit:
                return

    walk(0, 0)
    return found


def find_combinations(
    invoices: Sequence[OpenItem],
    credit_notes: Sequence[OpenItem],
    received: Decimal,
    currency: str,
    *,
    writeoff_allowed: Callable[[Decimal, Decimal], bool],
    max_writeoff: Decimal,
    max_items: int,
    max_size: int,
    node_budget: int,
    max_credit_notes: int,
    exact_only: bool = False,
    limit: int = 16,
) -> SubsetSearch:
    """Combinations of ``invoices`` (net of some ``credit_notes``) that a credit of ``received`` pays.

    Exact combinations are looked for first; only when none exists (and ``exact_only`` is false),
    combinations short of at most the allowed write-off (bank charges) are returned, smallest
    write-off first. Within each, combinations with the oldest items come first.
    """
    scale = 10 ** minor_units(currency)
    target = _to_units(received, scale)
    if target is None or target <= 0:
        return SubsetSearch((), False)
    notes = sorted((note for note in credit_notes if note.remaining > 0), key=lambda item: item.age_key)
    notes = notes[:max_credit_notes]
    slack_units = _to_units(max_writeoff.quantize(Decimal(1) / scale), scale) or 0
    ceiling = received + sum((note.remaining for note in notes), Decimal(0)) + max_writeoff
    candidates = sorted(
        (item for item in invoices if 0 < item.remaining <= ceiling), key=lambda item: item.age_key
    )[:max_items]
    units: list[tuple[int, OpenItem]] = []
    for item in candidates:
        value = _to_units(item.remaining, scale)
        if value is not None:
            units.append((value, item))
    units.sort(key=lambda pair: (-pair[0], pair[1].age_key))
    values = [value for value, _ in units]
    budget = [node_budget]
    exact: list[Combination] = []
    short: list[Combination] = []
    exhausted = False
    note_sets = [subset for size in range(len(notes) + 1) for subset in combinations(notes, size)]
    try:
        for note_set in note_sets:
            netted = sum((_to_units(note.remaining, scale) or 0 for note in note_set), 0)
            low = target + netted
            high = low if exact_only else low + slack_units
            for indexes in _subsets_of_values(values, low, high, max_size, budget, limit):
                chosen = tuple(units[index][1] for index in indexes) + tuple(note_set)
                gross = sum((units[index][0] for index in indexes), 0)
                net = Decimal(gross - netted).scaleb(-minor_units(currency))
                if gross == low:
                    exact.append(Combination(chosen, net, Decimal(0)))
                elif writeoff_allowed(net, received):
                    short.append(Combination(chosen, net, net - received))
    except _BudgetExceeded:
        exhausted = True
    if exact:
        ordered = sorted(exact, key=lambda combination: (combination.age(), len(combination.items)))
        return SubsetSearch(tuple(ordered), exhausted)
    ordered = sorted(short, key=lambda combination: (combination.writeoff, combination.age()))
    return SubsetSearch(tuple(ordered), exhausted)
