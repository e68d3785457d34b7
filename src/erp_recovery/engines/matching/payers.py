"""Who paid: a bank credit's payer identified by IBAN memory or by name, with parent companies.

Order of evidence: the counterparty IBAN (known from the ERP's customer bank accounts, from bank
lines the ERP reconciled, from review decisions, or learned earlier in the same run), then a payer
name remembered from review decisions, then a fuzzy comparison of the counterparty name with
customer names (:func:`~.text.name_tokens` removes legal forms, accents, titles and small words;
word order does not count; a name cut by the bank is accepted as a prefix). Two different customers
scoring alike is a *tie*: refused, never guessed.

A payer identified as a parent company (``Customer.parent_id`` of others points at it) may pay for
all its subsidiaries: the identity's ``customers`` then holds the whole group below it.
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from rapidfuzz import fuzz, process

from erp_recovery.engines.matching.model import EvidenceRule, PayerMemory
from erp_recovery.engines.matching.settings import MatchSettings
from erp_recovery.engines.matching.text import compact_iban, name_plain, name_tokens
from erp_recovery.model.records import Customer

#: A name token shared by more customers than this is too common to find candidates with.
_COMMON_TOKEN = 400
#: Up to this many candidates, every customer sharing a word is compared; beyond, two words.
_FEW_CANDIDATES = 60


@dataclass(slots=True)
class CustomerName:
    id: str
    name: str
    key: str
    sorted_key: str
    plain: str
    parent_id: str | None
    children: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class PayerIdentity:
    """The customer a credit comes from, how we know, and which customers it may pay for."""

    customer_id: str
    #: The customer and, for a parent company, every subsidiary below it.
    customers: frozenset[str]
    rule: EvidenceRule
    weight: Decimal
    detail: str
    tokens: tuple[str, ...] = ()
    score: float | None = None
    #: Other evidence pointing at the same customer: (rule, detail, tokens).
    support: tuple[tuple[EvidenceRule, str, tuple[str, ...]], ...] = ()


@dataclass(frozen=True, slots=True)
class NameTie:
    """Several different customers fit the payer name equally well: refused."""

    candidates: tuple[str, ...]
    score: float
    detail: str


class PayerIndex:
    """Customers by IBAN and by name, with the IBAN/name memory and the parent links."""

    def __init__(self, customers: Iterable[Customer], memory: Sequence[PayerMemory], settings: MatchSettings):
        self.settings = settings
        self.names: dict[str, CustomerName] = {}
        for customer in sorted(customers, key=lambda record: record.external_id):
            tokens = name_tokens(customer.name)
            self.names[customer.external_id] = CustomerName(
                id=customer.external_id,
                name=customer.name,
                key=" ".join(tokens),
                sorted_key=" ".join(sorted(tokens)),
                plain=name_plain(customer.name),
                parent_id=customer.parent_id,
            )
        for info in self.names.values():
            if info.parent_id and info.parent_id in self.names and info.parent_id != info.id:
                self.names[info.parent_id].children.append(info.id)
        #: iban -> customer -> origin
        self.ibans: dict[str, dict[str, str]] = defaultdict(dict)
        self.blocked: set[tuple[str, str, str]] = set()
        self.remembered_names: dict[str, dict[str, int]] = defaultdict(dict)
        self.learned_ibans: dict[str, set[str]] = defaultdict(set)
        self.learned_names: dict[str, set[str]] = defaultdict(set)
        for customer in customers:
            for iban in customer.ibans:
                self.ibans[iban][customer.external_id] = "erp"
        for entry in memory:
            if entry.customer_id not in self.names:
                continue
            if entry.blocked:
                self.blocked.add((entry.kind, entry.key, entry.customer_id))
            elif entry.kind == "iban":
                self.ibans[entry.key].setdefault(entry.customer_id, entry.origin)
            else:
                self.remembered_names[entry.key][entry.customer_id] = entry.confirmations
        for kind, key, customer_id in self.blocked:
            if kind == "iban":
                self.ibans.get(key, {}).pop(customer_id, None)
            else:
                self.remembered_names.get(key, {}).pop(customer_id, None)
        self._token_index: dict[str, list[str]] = defaultdict(list)
        for info in self.names.values():
            for token in set(info.key.split()):
                if len(token) >= 2:
                    self._token_index[token].append(info.id)
        self._vocabulary = sorted(self._token_index)
        self._by_key: dict[str, list[str]] = defaultdict(list)
        self._by_sorted_key: dict[str, list[str]] = defaultdict(list)
        for info in self.names.values():
            self._by_key[info.key].append(info.id)
            self._by_sorted_key[info.sorted_key].append(info.id)
        self._plains = sorted((info.plain, info.id) for info in self.names.values())
        self._keys = sorted((info.key, info.id) for info in self.names.values())
        self._name_cache: dict[str, PayerIdentity | NameTie | None] = {}

    # -- groups ------------------------------------------------------------------------------------

    def group(self, customer_id: str) -> frozenset[str]:
        """The customer and every subsidiary below it (a parent pays for its subsidiaries)."""
        members = {customer_id}
        pending = [customer_id]
        while pending:
            current = pending.pop()
            info = self.names.get(current)
            for child in info.children if info else ():
                if child not in members:
                    members.add(child)
                    pending.append(child)
        return frozenset(members)

    def root(self, customer_id: str) -> str:
        """The topmost parent of a customer (itself when it has none)."""
        seen = {customer_id}
        current = customer_id
        while True:
            info = self.names.get(current)
            if not info or not info.parent_id or info.parent_id not in self.names or info.parent_id in seen:
                return current
            current = info.parent_id
            seen.add(current)

    def same_group(self, customer_ids: Iterable[str]) -> bool:
        return len({self.root(customer_id) for customer_id in customer_ids}) <= 1

    def display(self, customer_id: str) -> str:
        info = self.names.get(customer_id)
        return f"{info.name} ({customer_id})" if info else customer_id

    # -- learning during a run ---------------------------------------------------------------------

    def learn(self, iban: str | None, payer_name: str | None, customer_id: str) -> None:
        """Remember, for the rest of the run, that this IBAN / payer name paid this customer."""
        iban_key = compact_iban(iban)
        if iban_key and ("iban", iban_key, customer_id) not in self.blocked:
            self.learned_ibans[iban_key].add(customer_id)
        if payer_name:
            key = name_plain(payer_name)
            if key and ("name", key, customer_id) not in self.blocked:
                self.learned_names[key].add(customer_id)

    # -- identification ----------------------------------------------------------------------------

    def identify(self, iban: str | None, payer_name: str | None) -> PayerIdentity | NameTie | None:
        """The payer of a credit, a refused tie, or None when nothing identifies it.

        The IBAN and the name are both read. When they point at the same customer (or group), the
        identity is the stronger of the two plus ``payer_agreement``; when they disagree, an IBAN
        known from the ERP or a decision wins, else the stronger evidence.
        """
        iban_key = compact_iban(iban)
        by_iban: PayerIdentity | None = None
        known = False
        if iban_key:
            entries = self.ibans.get(iban_key)
            if entries:
                by_iban = self._from_customers(
                    sorted(entries),
                    "iban_erp" if "erp" in entries.values() else "iban_memory",
                    self.settings.weights.iban_known,
                    f"IBAN {iban_key} is known for",
                    (iban_key,),
                )
                known = by_iban is not None
            learned = self.learned_ibans.get(iban_key)
            if by_iban is None and learned:
                by_iban = self._from_customers(
                    sorted(learned),
                    "iban_learned",
                    self.settings.weights.iban_learned,
                    f"IBAN {iban_key} paid earlier in this run for",
                    (iban_key,),
                )
        by_name = self._identify_name(payer_name) if payer_name else None
        if by_iban is None:
            return by_name
        if isinstance(by_name, NameTie):
            # the IBAN breaks the tie when exactly one of the namesakes is in its group
            root = self.root(by_iban.customer_id)
            fitting = [candidate for candidate in by_name.candidates if self.root(candidate) == root]
            if len(fitting) != 1:
                return by_iban
            by_name = PayerIdentity(
                customer_id=fitting[0],
                customers=self.group(fitting[0]),
                rule="name_fuzzy",
                weight=self.settings.weights.name_fair,
                detail=f"payer name fits {self.display(fitting[0])} among namesakes",
                tokens=by_iban.tokens,
                score=by_name.score,
            )
        if by_name is None:
            return by_iban
        if self.root(by_iban.customer_id) == self.root(by_name.customer_id):
            main, other = (by_iban, by_name) if by_iban.weight >= by_name.weight else (by_name, by_iban)
            # the wider of the two groups (a parent's name with a subsidiary's learned IBAN...)
            primary = by_name.customer_id if by_iban.customer_id in by_name.customers else by_iban.customer_id
            return PayerIdentity(
                customer_id=primary,
                customers=by_iban.customers | by_name.customers,
                rule=main.rule,
                weight=main.weight + self.settings.weights.payer_agreement,
                detail=main.detail,
                tokens=main.tokens,
                score=by_name.score,
                support=((other.rule, other.detail, other.tokens),),
            )
        if known:
            return by_iban
        return by_name if by_name.weight >= by_iban.weight else by_iban

    def _identify_name(self, payer_name: str) -> PayerIdentity | NameTie | None:
        # memory is keyed by the exact spelling (legal form kept), fuzzy results by the name's words
        plain = name_plain(payer_name)
        key = plain
        remembered = self.remembered_names.get(key)
        if remembered:
            identity = self._from_customers(
                sorted(remembered),
                "name_memory",
                self.settings.weights.name_memory,
                f"payer name {payer_name!r} was confirmed by a person for",
                (payer_name,),
            )
            if identity:
                return identity
        learned_name = self.learned_names.get(key)
        if learned_name:
            identity = self._from_customers(
                sorted(learned_name),
                "name_learned",
                self.settings.weights.iban_learned,
                f"payer name {payer_name!r} paid earlier in this run for",
                (payer_name,),
            )
            if identity:
                return identity
        if plain not in self._name_cache:
            self._name_cache[plain] = self._by_name(payer_name)
        return self._name_cache[plain]

    def _from_customers(
        self,
        customer_ids: list[str],
        rule: EvidenceRule,
        weight: Decimal,
        detail: str,
        tokens: tuple[str, ...],
    ) -> PayerIdentity | None:
        customer_ids = [customer_id for customer_id in customer_ids if customer_id in self.names]
        if not customer_ids:
            return None
        if len(customer_ids) == 1:
            primary = customer_ids[0]
        elif self.same_group(customer_ids):
            primary = self.root(customer_ids[0])
        else:
            return None  # an IBAN shared by unrelated customers (a payment platform...) proves nothing
        return PayerIdentity(
            customer_id=primary,
            customers=self.group(primary) | frozenset(customer_ids),
            rule=rule,
            weight=weight,
            detail=f"{detail} {self.display(primary)}",
            tokens=tokens,
        )

    def _candidates(self, tokens: list[str]) -> set[str]:
        """Customers worth a fuzzy comparison with the payer name (it is costly).

        Customers sharing the payer's rarer words; when those are many (a big customer base), only
        the ones sharing at least two of its words. Plus, for a last word the bank may have cut,
        the customers having a word that starts with it.
        """
        buckets = sorted(
            (bucket for bucket in (self._token_index.get(token) for token in set(tokens)) if bucket), key=len
        )
        usable = [bucket for bucket in buckets if len(bucket) <= _COMMON_TOKEN]
        found: set[str] = set()
        if sum(len(bucket) for bucket in usable) <= _FEW_CANDIDATES or len(usable) < 2:
            for bucket in usable:
                if found and len(found) + len(bucket) > _COMMON_TOKEN:
                    break
                found.update(bucket)
        else:
            shared: dict[str, int] = defaultdict(int)
            for bucket in usable:
                for customer_id in bucket:
                    shared[customer_id] += 1
            found = {customer_id for customer_id, count in shared.items() if count >= 2}
            if not found:
                found = set(usable[0])
        if tokens and len(tokens[-1]) >= 3:
            # the bank may have cut the last word: every customer word starting with it
            last = tokens[-1]
            start = bisect.bisect_left(self._vocabulary, last)
            for word in self._vocabulary[start : start + 20]:
                if not word.startswith(last):
                    break
                bucket = self._token_index[word]
                if len(bucket) <= _COMMON_TOKEN // 4:
                    found.update(bucket)
        return found

    @staticmethod
    def _starting_with(ordered: list[tuple[str, str]], prefix: str) -> list[str]:
        """Ids whose text starts with ``prefix`` in a list of (text, id) sorted by text (at most 50)."""
        found: list[str] = []
        index = bisect.bisect_left(ordered, (prefix, ""))
        while index < len(ordered) and len(found) < 50:
            text, customer_id = ordered[index]
            if not text.startswith(prefix):
                break
            found.append(customer_id)
            index += 1
        return found

    def _scores(self, key: str, sorted_key: str, plain: str, tokens: list[str]) -> list[tuple[float, str]]:
        """(score, customer id) of every customer close enough to the payer name, best first.

        Exact (same words, any order) = 100; the payer name cut by the bank, as a prefix of the
        customer's full name = 97, of its normalised name = 96; only when none of these fits, a
        fuzzy token-sort ratio among customers sharing a rare word with the payer.
        """
        scores: dict[str, float] = {}
        for customer_id in (*self._by_key.get(key, ()), *self._by_sorted_key.get(sorted_key, ())):
            scores[customer_id] = 100.0
        minimum = self.settings.name_min_prefix
        if len(plain) >= minimum:
            for customer_id in self._starting_with(self._plains, plain):
                scores.setdefault(customer_id, 97.0)
        if len(key) >= minimum:
            for customer_id in self._starting_with(self._keys, key):
                scores.setdefault(customer_id, 96.0)
        if not scores:
            candidates = {
                customer_id: self.names[customer_id].key for customer_id in self._candidates(tokens)
            }
            cutoff = self.settings.name_threshold - self.settings.name_margin
            for _, score, customer_id in process.extract(
                key, candidates, scorer=fuzz.token_sort_ratio, score_cutoff=cutoff, limit=8
            ):
                scores[customer_id] = float(score)
        return sorted(
            ((score, customer_id) for customer_id, score in scores.items()),
            key=lambda pair: (-pair[0], pair[1]),
        )

    def _by_name(self, payer_name: str) -> PayerIdentity | NameTie | None:
        tokens = name_tokens(payer_name)
        if not tokens:
            return None
        key = " ".join(tokens)
        sorted_key = " ".join(sorted(tokens))
        plain = name_plain(payer_name)
        scored = self._scores(key, sorted_key, plain, tokens)
        if not scored or scored[0][0] < self.settings.name_threshold:
            return None
        best_score, best_id = scored[0]
        rivals = [
            customer_id
            for score, customer_id in scored[1:]
            if score > best_score - self.settings.name_margin and not self.same_group((best_id, customer_id))
        ]
        if rivals:
            exact = [
                customer_id
                for score, customer_id in scored
                if self.names[customer_id].plain == plain and score + self.settings.name_margin > best_score
            ]
            if len(exact) == 1:
                rivals = [customer_id for customer_id in (best_id, *rivals) if customer_id != exact[0]]
                best_id = exact[0]
                return PayerIdentity(
                    customer_id=best_id,
                    customers=self.group(best_id),
                    rule="name_fuzzy",
                    # every word, legal form included, tells this customer from its namesakes
                    weight=self.settings.weights.name_strong,
                    detail=(
                        f"payer name {payer_name!r} is written exactly as customer {self.display(best_id)}, "
                        f"legal form included (namesakes: {', '.join(self.display(c) for c in rivals[:3])})"
                    ),
                    tokens=(payer_name,),
                    score=best_score,
                )
            return NameTie(
                candidates=(best_id, *rivals[:4]),
                score=best_score,
                detail=(
                    f"payer name {payer_name!r} fits several customers equally "
                    f"({', '.join(self.display(c) for c in (best_id, *rivals[:4]))}): refused"
                ),
            )
        strong = best_score >= self.settings.name_strong_score
        return PayerIdentity(
            customer_id=best_id,
            customers=self.group(best_id),
            rule="name_fuzzy",
            weight=self.settings.weights.name_strong if strong else self.settings.weights.name_fair,
            detail=f"payer name {payer_name!r} matches customer {self.display(best_id)} (score {best_score:.0f})",
            tokens=(payer_name,),
            score=best_score,
        )
