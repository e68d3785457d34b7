"""Text normalisation for matching: invoice numbers read in remittance text, and payer names.

Invoice numbers are written by payers in many ways: ``FA-2024-00123``, ``fa 2024 123``,
``Facture n° FA202400123``, ``2024/00123``, ``202400123``. Each of our numbers is indexed under a
few *keys* and each stretch of remittance text (a *window* of up to four adjacent words joined by
separators) is turned into the same keys, so both meet on equal keys:

- ``compact``: upper case, accents folded, only letters and digits (``FA202400123``);
- ``core``: the compact form without an invoice prefix (``FACTURE``, ``FACT``, ``FA``, ``INV``,
  ``N``...) and without leading zeros (``202400123``); numbers are also indexed under the digits
  that follow *any* leading letters, so two series ``FA-2024-0007`` and ``FB-2024-0007`` share
  ``20240007`` and a remittance saying only ``2024-0007`` is ambiguous, not guessed;
- ``grouped``: the digit groups without their leading zeros, ``|``-separated (``2024|123``), for
  numbers written with separators;
- ``joined``: the same groups glued (``2024123``), for numbers whose inner zeros were dropped
  (a remittance's ``F2024123`` meets it through its core).

Payer names go through :func:`name_tokens`: accents folded, upper case, ``&`` read as ``ET``,
legal forms (SAS, SARL, GmbH...), titles (M., MME) and small words (DE, LA, ET...) dropped, so
"Ets Dupont & Fils S.A.R.L." and "DUPONT ET FILS" compare equal.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

#: Words and abbreviations that announce an invoice number ("Facture n° ...", "INV ...").
INVOICE_PREFIXES: tuple[str, ...] = tuple(
    sorted(
        {
            "FACTURES",
            "FACTURE",
            "FACTS",
            "FACT",
            "FCT",
            "FAC",
            "FA",
            "FV",
            "F",
            "INVOICES",
            "INVOICE",
            "INV",
            "AVOIR",
            "AV",
            "NUMERO",
            "NUM",
            "NO",
            "NR",
            "N",
            "REF",
        },
        key=lambda prefix: (-len(prefix), prefix),
    )
)
_PREFIX_WORDS = frozenset(INVOICE_PREFIXES) | {"NDEG", "NO", "N"}

#: Separators allowed *inside* an invoice number written in a remittance (not "," or ";").
_JOINERS = frozenset(" -/_.:")
_RUN = re.compile(r"[A-Z0-9]+")
_DOTTED_ABBREVIATION = re.compile(r"\b(?:[A-Z]\.){2,}[A-Z]?\.?")
_NON_ALNUM = re.compile(r"[^A-Z0-9]+")
_SPECIAL_FOLDS = str.maketrans({"Œ": "OE", "œ": "oe", "Æ": "AE", "æ": "ae", "ß": "ss", "ø": "o", "Ø": "O"})

LEGAL_FORMS = frozenset(
    {
        "SA", "SAS", "SASU", "SARL", "SARLU", "EURL", "SNC", "SCS", "SCA", "SCI", "SCP", "SCOP", "SCM",
        "SELARL", "SELAS", "SELAFA", "SELCA", "SEL", "GIE", "GAEC", "EARL", "EI", "EIRL", "SEM", "SPL",
        "STE", "STES", "SOCIETE", "ETS", "ETABLISSEMENT", "ETABLISSEMENTS", "CIE", "COMPAGNIE",
        "GMBH", "AG", "KG", "UG", "OHG", "LTD", "LIMITED", "PLC", "LLC", "LLP", "INC", "CORP",
        "BV", "NV", "SPA", "SRL", "SL", "SPRL", "BVBA", "SCRL", "AB", "AS", "OY",
    }
)  # fmt: skip
TITLES = frozenset({"M", "MR", "MME", "MLLE", "MM", "MMES", "MONSIEUR", "MADAME", "MADEMOISELLE", "DR", "ME"})
STOP_WORDS = frozenset(
    {"LE", "LA", "LES", "L", "DE", "DU", "DES", "D", "ET", "AND", "THE", "AU", "AUX", "EN", "OF"}
)


def fold(text: str) -> str:
    """Upper case without accents (NFKD, combining marks dropped; Œ → OE, ß → SS)."""
    decomposed = unicodedata.normalize("NFKD", text.translate(_SPECIAL_FOLDS))
    return "".join(char for char in decomposed if not unicodedata.combining(char)).upper()


def compact_reference(text: str) -> str:
    """Letters and digits only, upper case, accents folded: ``fa-2024/00123`` → ``FA202400123``."""
    return _NON_ALNUM.sub("", fold(text))


def strip_invoice_prefix(compact: str) -> tuple[str, bool]:
    """Remove invoice prefixes (at most two: ``FACTFA...``) and leading zeros from a compact key.

    Returns the core and whether a prefix was removed. A prefix is removed only when a digit or
    another prefix follows, so ``FAURE12`` keeps its letters.
    """
    core = compact
    prefixed = False
    for _ in range(2):
        for prefix in INVOICE_PREFIXES:
            if core.startswith(prefix) and len(core) > len(prefix):
                rest = core[len(prefix) :]
                if rest[0].isdigit() or any(
                    rest.startswith(other) for other in INVOICE_PREFIXES if other != "N"
                ):
                    core = rest
                    prefixed = True
                    break
        else:
            break
    if core[:1].isdigit():
        core = core.lstrip("0") or "0"
    return core, prefixed


def _digit_groups(text: str) -> list[str]:
    return [group.lstrip("0") or "0" for group in re.findall(r"[0-9]+", fold(text))]


def invoice_keys(number: str) -> set[str]:
    """Every key an invoice number is indexed under (see the module docstring)."""
    compact = compact_reference(number)
    if not compact:
        return set()
    keys = {compact}
    core, _ = strip_invoice_prefix(compact)
    keys.add(core)
    # whatever letters start it (a series "FB" we do not know as a prefix), the digits that follow
    digits = re.sub(r"^[A-Z]+", "", compact)
    if digits[:1].isdigit() and len(digits.lstrip("0")) >= 3:
        keys.add(digits.lstrip("0"))
    groups = _digit_groups(number)
    if len(groups) >= 2:
        keys.add("|".join(groups))
        keys.add("".join(groups))
    return keys


def leading_letters(number: str) -> str:
    """The letters an invoice number starts with (``FA`` of ``FA-2024-001``), empty if none."""
    match = re.match(r"[A-Z]+", compact_reference(number))
    return match.group(0) if match else ""


@dataclass(frozen=True, slots=True)
class Window:
    """A stretch of remittance text that may hold an invoice number, with its lookup keys."""

    text: str
    compact: str
    core: str
    keys: tuple[str, ...]
    prefixed: bool
    #: Ends where the text ends (a candidate for truncation).
    at_end: bool
    #: Character span in the folded text (longer windows win over the windows inside them).
    start: int
    end: int


def remittance_windows(text: str, number_prefixes: frozenset[str], *, max_runs: int = 4) -> Iterator[Window]:
    """Windows of up to ``max_runs`` adjacent words joined by separators, that contain a digit.

    A window must start with a digit, an invoice prefix word or letters our own numbers start with
    (``number_prefixes``): "VIR SEPA 2024" is read from "2024", not from "VIR".
    """
    folded = fold(text)
    runs = [(match.start(), match.end(), match.group(0)) for match in _RUN.finditer(folded)]
    folded_length = len(folded.rstrip())
    for first in range(len(runs)):
        start_word = runs[first][2]
        if not start_word[0].isdigit():
            letters = re.match(r"[A-Z]+", start_word)
            head = letters.group(0) if letters else ""
            known = head in _PREFIX_WORDS or head in number_prefixes or start_word in number_prefixes
            # a word like "FA2024" glued to its prefix still starts a window
            if not known and not any(start_word.startswith(prefix) for prefix in number_prefixes if prefix):
                continue
        compact = ""
        words: list[str] = []
        seen_digit = False
        for last in range(first, min(first + max_runs, len(runs))):
            word = runs[last][2]
            if last > first:
                gap = folded[runs[last - 1][1] : runs[last][0]]
                if len(gap) > 3 or not set(gap) <= _JOINERS:
                    break
                if seen_digit and not any(char.isdigit() for char in word):
                    break  # letters after the number end it ("00123 ET FA...")
            words.append(word)
            compact += word
            if len(compact) > 24:
                break
            if any(char.isdigit() for char in word):
                seen_digit = True
            if not seen_digit:
                continue
            raw = folded[runs[first][0] : runs[last][1]]
            core, prefixed = strip_invoice_prefix(compact)
            if not prefixed and words[0] in _PREFIX_WORDS and len(words) > 1:
                prefixed = True
            if len(core) < 3 and not prefixed:
                continue
            keys = [compact, core]
            groups = [group.lstrip("0") or "0" for group in re.findall(r"[0-9]+", raw)]
            if len(groups) >= 2:
                keys.append("|".join(groups))
            yield Window(
                text=raw,
                compact=compact,
                core=core,
                keys=tuple(dict.fromkeys(keys)),
                prefixed=prefixed,
                at_end=runs[last][1] >= folded_length,
                start=runs[first][0],
                end=runs[last][1],
            )


def name_tokens(name: str) -> list[str]:
    """Significant words of a company or person name (see the module docstring)."""
    folded = fold(name).replace("&", " ET ")
    folded = _DOTTED_ABBREVIATION.sub(lambda match: match.group(0).replace(".", ""), folded)
    words = [word for word in _NON_ALNUM.split(folded) if word]
    significant = [
        word for word in words if word not in LEGAL_FORMS and word not in TITLES and word not in STOP_WORDS
    ]
    return significant or words


def name_key(name: str) -> str:
    """Normalised name in its original word order (``DUPONT FILS``)."""
    return " ".join(name_tokens(name))


def name_plain(name: str) -> str:
    """Upper case, accents folded, words separated by one space, nothing dropped (for prefixes)."""
    folded = fold(name).replace("&", " ET ")
    folded = _DOTTED_ABBREVIATION.sub(lambda match: match.group(0).replace(".", ""), folded)
    return " ".join(word for word in _NON_ALNUM.split(folded) if word)


def compact_iban(value: str | None) -> str | None:
    """IBAN without spaces, upper case (None stays None)."""
    if not value:
        return None
    return re.sub(r"\s+", "", value).upper()


def matches_any(text: str, patterns: Iterable[re.Pattern[str]]) -> str | None:
    """The first pattern found in ``text`` (its source), or None."""
    for pattern in patterns:
        if pattern.search(text):
            return pattern.pattern
    return None
