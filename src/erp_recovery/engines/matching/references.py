"""Which of our invoices a bank line names: structured references and invoice numbers in the text.

Structured first (camt.053 ``RmtInf/Strd``): an ISO 11649 creditor reference (``RF..``, validated
with :mod:`stdnum.iso11649`; an invalid one is ignored, never guessed) compared with the payment
references we printed, or whose body is one of our invoice numbers; the invoice numbers of
``RfrdDocInf/Nb``; the end-to-end id, when it is one we issued (a payment reference or an invoice
number). Then the unstructured remittance (``RmtInf/Ustrd``, MT940 ``:86:``, OFX ``MEMO``): every
window of text is looked up under the keys of :mod:`.text`; a longer window wins over the shorter
windows inside it; a key shared by several of our documents is ambiguous and not used.

When nothing is read exactly, two narrower rules apply, only within a *scope* (the identified
payer's open items, and the open items of exactly the credited amount):

- one typo (one character replaced, added, dropped, or two swapped — OSA distance 1), accepted only
  when exactly one open item in the scope fits and no other document anywhere is that close;
- truncation: a remittance cut by the bank (at 35/70/105/140 characters) whose last word is the
  start of exactly one open item's number in the scope.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import NamedTuple

from rapidfuzz.distance import OSA
from stdnum import iso11649

from erp_recovery.engines.matching.ledger import OpenItem
from erp_recovery.engines.matching.model import EvidenceRule
from erp_recovery.engines.matching.settings import MatchSettings
from erp_recovery.engines.matching.text import (
    LEADING_LETTERS,
    Window,
    compact_reference,
    fold,
    invoice_keys,
    number_keys,
    remittance_windows,
    strip_invoice_prefix,
)
from erp_recovery.model.records import BankTransaction

_RF_IN_TEXT = re.compile(r"\bRF\d{2}(?: ?[A-Z0-9]{1,4}){1,6}")
_DIGITS = "0123456789"
_ALPHANUMERIC = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
_NOT_PROVIDED = {"NOTPROVIDED", "NOTPROVIDE", "NONREF", "NONE", ""}


class ReferenceHit(NamedTuple):
    """An item named by the bank line, by which rule, from which token, with what weight."""

    item: OpenItem
    rule: EvidenceRule
    token: str
    weight: Decimal
    detail: str


@dataclass(slots=True)
class Reading:
    """What a bank line's references say: items hit, ambiguous tokens, leftover number-like windows."""

    hits: list[ReferenceHit] = field(default_factory=list)
    ambiguous: list[tuple[str, tuple[OpenItem, ...]]] = field(default_factory=list)
    invalid_rf: list[str] = field(default_factory=list)
    #: References that look like one of our documents but name none we have (issued after the
    #: books we hold, or mistyped beyond repair): the payer indicated something we cannot see.
    unknown: list[str] = field(default_factory=list)
    leftovers: list[Window] = field(default_factory=list)
    truncated_text: bool = False
    text_length: int = 0

    def items(self) -> list[OpenItem]:
        seen: dict[str, OpenItem] = {}
        for hit in self.hits:
            seen.setdefault(hit.item.id, hit.item)
        return list(seen.values())


class ReferenceIndex:
    """Our invoices and credit notes by number keys and by payment reference."""

    def __init__(self, items: Sequence[OpenItem], settings: MatchSettings):
        self.settings = settings
        self.by_key: dict[str, list[OpenItem]] = defaultdict(list)
        self.by_payment_reference: dict[str, list[OpenItem]] = defaultdict(list)
        prefixes: set[str] = set()
        #: documents by core and by digits (what a one-typo search compares)
        self.by_core: dict[str, list[OpenItem]] = defaultdict(list)
        for item in items:
            keys, letters, core, digits = number_keys(item.number)
            item.keys = keys
            item.core = core
            for key in keys:
                self.by_key[key].append(item)
            self.by_core[core].append(item)
            if digits and digits != core:
                self.by_core[digits].append(item)
            if item.payment_reference:
                compact = compact_reference(item.payment_reference)
                if compact:
                    self.by_payment_reference[compact].append(item)
            if letters:
                prefixes.add(letters)
        self.number_prefixes = frozenset(prefixes)
        #: windows by remittance text (statements repeat texts: "VIREMENT", "REGLEMENT"...)
        self._windows: dict[str, list[Window]] = {}
        #: (length, first two characters) of our numbers' digit cores: what "one of ours" looks like
        self.shapes = frozenset((len(item.core), item.core[:2]) for item in items if item.core[:1].isdigit())

    def looks_like_ours(self, text: str) -> bool:
        """Whether a token has the shape of our invoice numbers (digit core of the same length and start)."""
        core, _ = strip_invoice_prefix(compact_reference(text))
        core = LEADING_LETTERS.sub("", core).lstrip("0")
        return len(core) >= 6 and core.isdigit() and (len(core), core[:2]) in self.shapes

    # -- exact reading -----------------------------------------------------------------------------

    def _lookup_number(self, text: str) -> list[OpenItem]:
        """Items whose number has the same compact form, else the same core, else the same groups."""
        compact = compact_reference(text)
        if not compact:
            return []
        exact = [item for item in self.by_key.get(compact, ()) if compact_reference(item.number) == compact]
        if exact:
            return exact
        for key in sorted(invoice_keys(text), key=lambda candidate: (candidate != compact, "|" in candidate)):
            if key in self.by_key:
                return list(self.by_key[key])
        return []

    @staticmethod
    def _prefer_invoices(items: Sequence[OpenItem]) -> list[OpenItem]:
        unique = list({item.id: item for item in items}.values())
        if len(unique) > 1:
            invoices = [item for item in unique if item.is_invoice]
            if len(invoices) == 1:
                return invoices
        return unique

    def read(self, transaction: BankTransaction) -> Reading:
        reading = Reading()
        weights = self.settings.weights
        structured_weight = weights.structured_reference

        def add(
            items: Sequence[OpenItem], rule: EvidenceRule, token: str, weight: Decimal, detail: str
        ) -> None:
            chosen = self._prefer_invoices(items)
            if len(chosen) == 1:
                reading.hits.append(
                    ReferenceHit(chosen[0], rule, token, weight, detail.format(chosen[0].number))
                )
            elif chosen:
                reading.ambiguous.append((token, tuple(chosen)))
            elif rule in ("rf_reference", "referred_document") or self.looks_like_ours(token):
                reading.unknown.append(token)

        # ISO 11649 creditor references: the structured field, then any RF... in the text
        rf_candidates: list[str] = []
        if transaction.structured_reference:
            rf_candidates.append(transaction.structured_reference)
        for match in _RF_IN_TEXT.finditer(fold(transaction.remittance or "")):
            rf_candidates.append(match.group(0))
        for candidate in rf_candidates:
            compact = compact_reference(candidate)
            if compact.startswith("RF") and compact[2:4].isdigit():
                valid = next(
                    (compact[:end] for end in range(len(compact), 4, -1) if iso11649.is_valid(compact[:end])),
                    None,
                )
                if valid is None:
                    reading.invalid_rf.append(candidate)
                    continue
                items = self.by_payment_reference.get(valid) or self._lookup_number(valid[4:])
                add(
                    items,
                    "rf_reference",
                    valid,
                    structured_weight,
                    "valid ISO 11649 reference " + valid + " is {0}",
                )
            elif candidate == transaction.structured_reference:
                items = self.by_payment_reference.get(compact) or self._lookup_number(compact)
                add(
                    items,
                    "payment_reference",
                    candidate,
                    structured_weight,
                    f"structured reference {candidate!r} is {{0}}",
                )
        for document in transaction.referred_documents:
            add(
                self._lookup_number(document),
                "referred_document",
                document,
                structured_weight,
                f"invoice number {document!r} given in the structured remittance (RfrdDocInf) is {{0}}",
            )
        end_to_end = transaction.end_to_end_id
        if end_to_end and compact_reference(end_to_end) not in _NOT_PROVIDED:
            compact = compact_reference(end_to_end)
            items = self.by_payment_reference.get(compact) or self._lookup_number(end_to_end)
            add(
                items,
                "end_to_end_id",
                end_to_end,
                structured_weight,
                f"end-to-end id {end_to_end!r} we issued for {{0}}",
            )

        # invoice numbers in the free text: longest windows first, no overlap
        text = transaction.remittance or ""
        stripped = text.rstrip()
        reading.text_length = len(stripped)
        reading.truncated_text = len(stripped) in self.settings.truncation_lengths
        found: list[tuple[Window, list[OpenItem]]] = []
        leftovers: list[Window] = []
        windows = self._windows.get(text)
        if windows is None:
            windows = self._windows[text] = remittance_windows(text, self.number_prefixes)
        for window in windows:
            items = []
            for key in window.keys:
                bucket = self.by_key.get(key)
                if bucket:
                    items = bucket
                    break
            if items:
                found.append((window, items))
            else:
                leftovers.append(window)
        taken: list[tuple[int, int]] = []
        already = {hit.item.id for hit in reading.hits}
        for window, items in sorted(found, key=lambda pair: (-(pair[0].end - pair[0].start), pair[0].start)):
            if any(window.start < end and start < window.end for start, end in taken):
                continue
            taken.append((window.start, window.end))
            chosen = self._prefer_invoices(items)
            if len(chosen) != 1:
                reading.ambiguous.append((window.text, tuple(chosen)))
                continue
            if chosen[0].id in already:
                continue
            already.add(chosen[0].id)
            strong = window.prefixed or len(window.core) >= self.settings.short_reference_length
            reading.hits.append(
                ReferenceHit(
                    chosen[0],
                    "invoice_number",
                    window.text,
                    weights.invoice_number if strong else weights.invoice_number_short,
                    f"invoice number {chosen[0].number} read in the remittance as {window.text!r}",
                )
            )
        reading.leftovers = [
            window
            for window in leftovers
            if not any(window.start < end and start < window.end for start, end in taken)
            and sum(char.isdigit() for char in window.core) >= 3
        ]
        for window in reading.leftovers:
            # "FACTURE 2025-0042" or a number shaped like ours that we do not have
            announced = window.prefixed and sum(char.isdigit() for char in window.core) >= 4
            shaped = window.core.isdigit() and (len(window.core), window.core[:2]) in self.shapes
            if (announced or shaped) and window.text not in reading.unknown:
                reading.unknown.append(window.text)
        return reading

    # -- narrower rules, within a scope ------------------------------------------------------------

    def typo(self, reading: Reading, scope: Iterable[OpenItem]) -> ReferenceHit | None:
        """One typo in a number-like window, accepted only when exactly one open item fits."""
        minimum = self.settings.typo_min_length
        windows = [window for window in reading.leftovers if len(window.core) >= minimum]
        if not windows:
            return None
        scope_items = [item for item in scope if item.is_open]
        fits: dict[str, tuple[OpenItem, Window]] = {}
        for window in windows:
            core = window.core
            size = len(core)
            for item in scope_items:
                if abs(len(item.core) - size) <= 1 and OSA.distance(core, item.core, score_cutoff=1) <= 1:
                    fits.setdefault(item.id, (item, window))
        if len(fits) != 1:
            return None
        item, window = next(iter(fits.values()))
        others = {other.id for other in self._within_one(window.core)} - {item.id}
        if others:
            return None
        return ReferenceHit(
            item,
            "invoice_number_typo",
            window.text,
            self.settings.weights.invoice_number_typo,
            f"{window.text!r} is one typo away from invoice {item.number}, the only document that close",
        )

    def _within_one(self, core: str) -> list[OpenItem]:
        """Every document (open or not) whose core or digits are at OSA distance 1 from ``core``."""
        variants: set[str] = set()
        for index in range(len(core)):
            alphabet = _DIGITS if core[index].isdigit() else _ALPHANUMERIC
            variants.add(core[:index] + core[index + 1 :])
            for char in alphabet:
                variants.add(core[:index] + char + core[index + 1 :])
            if index + 1 < len(core):
                variants.add(core[:index] + core[index + 1] + core[index] + core[index + 2 :])
        for index in range(len(core) + 1):
            neighbour = core[index - 1] if index else core[0]
            alphabet = _DIGITS if neighbour.isdigit() else _ALPHANUMERIC
            for char in alphabet:
                variants.add(core[:index] + char + core[index:])
        variants.discard(core)
        found: dict[str, OpenItem] = {}
        for variant in variants:
            for item in self.by_core.get(variant.lstrip("0") or "0", ()):
                found[item.id] = item
        return list(found.values())

    def truncated(self, reading: Reading, scope: Iterable[OpenItem]) -> ReferenceHit | None:
        """The last word of a remittance cut by the bank, when it starts exactly one open item's number."""
        if not reading.truncated_text:
            return None
        ends = [window for window in reading.leftovers if window.at_end]
        if not ends:
            return None
        window = max(ends, key=lambda candidate: candidate.end - candidate.start)
        if len(window.compact) < self.settings.truncated_min_length:
            return None
        fits = {}
        for item in scope:
            if not item.is_open:
                continue
            compact = compact_reference(item.number)
            core, _ = strip_invoice_prefix(compact)
            if (compact.startswith(window.compact) and len(compact) > len(window.compact)) or (
                core.startswith(window.core) and len(core) > len(window.core)
            ):
                fits[item.id] = item
        if len(fits) != 1:
            return None
        item = next(iter(fits.values()))
        return ReferenceHit(
            item,
            "invoice_number_truncated",
            window.text,
            self.settings.weights.invoice_number_truncated,
            f"remittance cut at {reading.text_length} characters ends with {window.text!r}, "
            f"the start of invoice {item.number} only",
        )
