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
from collections.abc import Iterable
from functools import lru_cache
from typing import NamedTuple

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
_DIGIT_RUN = re.compile(r"[0-9]+")
_SPACES = re.compile(r"\s+")
LEADING_LETTERS = re.compile(r"^[A-Z]+")
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
    if text.isascii():
        return text.upper()
    decomposed = unicodedata.normalize("NFKD", text.translate(_SPECIAL_FOLDS))
    return "".join(char for char in decomposed if not unicodedata.combining(char)).upper()


def compact_reference(text: str) -> str:
    """Letters and digits only, upper case, accents folded: ``fa-2024/00123`` → ``FA202400123``."""
    return _NON_ALNUM.sub("", fold(text))


#: One or two invoice prefixes followed by a digit ("FA2024", "FACTFA2024", "NO123").
_PREFIXES = re.compile(r"^(?:" + "|".join(INVOICE_PREFIXES) + r"){1,2}(?=[0-9])")


def strip_invoice_prefix(compact: str) -> tuple[str, bool]:
    """Remove invoice prefixes (at most two: ``FACTFA...``) and leading zeros from a compact key.

    Returns the core and whether a prefix was removed. A prefix is removed only when a digit
    follows, so ``FAURE12`` keeps its letters.
    """
    found = _PREFIXES.match(compact)
    core = compact[found.end() :] if found else compact
    if core[:1].isdigit():
        core = core.lstrip("0") or "0"
    return core, found is not None


class NumberKeys(NamedTuple):
    """The lookup keys of one of our invoice numbers, computed once (see the module docstring)."""

    keys: tuple[str, ...]
    letters: str
    core: str
    #: The digits after the leading letters, zeros stripped ("" if they are not all digits).
    digits: str


def number_keys(number: str) -> NumberKeys:
    """Keys, leading letters, core and digits of one of our invoice numbers."""
    compact = _NON_ALNUM.sub("", number.upper() if number.isascii() else fold(number))
    if not compact:
        return NumberKeys((), "", "", "")
    letters_found = LEADING_LETTERS.match(compact)
    letters = letters_found.group(0) if letters_found else ""
    # whatever letters start it (a series "FB" we do not know as a prefix), the digits that follow
    digits = compact[len(letters) :]
    if digits.isdigit():
        digits = digits.lstrip("0")
        core = digits or "0" if not letters or _PREFIXES.match(compact) else compact
    else:
        core, _ = strip_invoice_prefix(compact)
        digits = ""
    keys = {compact, core}
    if len(digits) >= 3:
        keys.add(digits)
    groups = _DIGIT_RUN.findall(number)
    if len(groups) >= 2:
        stripped = [group.lstrip("0") or "0" for group in groups]
        keys.add("|".join(stripped))
        keys.add("".join(stripped))
    return NumberKeys(tuple(keys), letters, core, digits)


def invoice_keys(number: str) -> set[str]:
    """Every key an invoice number is indexed under (see the module docstring)."""
    return set(number_keys(number).keys)


def leading_letters(number: str) -> str:
    """The letters an invoice number starts with (``FA`` of ``FA-2024-001``), empty if none."""
    found = LEADING_LETTERS.match(compact_reference(number))
    return found.group(0) if found else ""


class Window(NamedTuple):
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


def remittance_windows(text: str, number_prefixes: frozenset[str], *, max_runs: int = 4) -> list[Window]:
    """Windows of up to ``max_runs`` adjacent words joined by separators, that contain a digit.

    A window must start with a digit, an invoice prefix word or letters our own numbers start with
    (``number_prefixes``): "VIR SEPA 2024" is read from "2024", not from "VIR".
    """
    folded = fold(text)
    runs = [(match.start(), match.end(), match.group(0)) for match in _RUN.finditer(folded)]
    if not runs:
        return []
    folded_length = len(folded.rstrip())
    count = len(runs)
    # per word: its digit groups (zeros stripped); per gap: whether it may sit inside a number
    groups_of = [[group.lstrip("0") or "0" for group in _DIGIT_RUN.findall(word)] for _, _, word in runs]
    joined = [
        (lambda gap: len(gap) <= 3 and set(gap) <= _JOINERS)(folded[runs[index][1] : runs[index + 1][0]])
        for index in range(count - 1)
    ]
    windows: list[Window] = []
    for first in range(count):
        start_word = runs[first][2]
        if not start_word[0].isdigit():
            letters = LEADING_LETTERS.match(start_word)
            head = letters.group(0) if letters else ""
            known = head in _PREFIX_WORDS or head in number_prefixes or start_word in number_prefixes
            # a word like "FA2024" glued to its prefix still starts a window
            if not known and not any(start_word.startswith(prefix) for prefix in number_prefixes if prefix):
                continue
        compact = ""
        groups: list[str] = []
        seen_digit = False
        for last in range(first, min(first + max_runs, count)):
            word = runs[last][2]
            word_groups = groups_of[last]
            if last > first:
                if not joined[last - 1]:
                    break
                if seen_digit and not word_groups:
                    break  # letters after the number end it ("00123 ET FA...")
            compact += word
            if len(compact) > 24:
                break
            if word_groups:
                seen_digit = True
                groups.extend(word_groups)
            if not seen_digit:
                continue
            core, prefixed = strip_invoice_prefix(compact)
            if not prefixed and last > first and start_word in _PREFIX_WORDS:
                prefixed = True
            if len(core) < 3 and not prefixed:
                continue
            if len(groups) >= 2:
                keys: tuple[str, ...] = (
                    (compact, core, "|".join(groups)) if core != compact else (compact, "|".join(groups))
                )
            else:
                keys = (compact, core) if core != compact else (compact,)
            windows.append(
                Window(
                    folded[runs[first][0] : runs[last][1]],
                    compact,
                    core,
                    keys,
                    prefixed,
                    runs[last][1] >= folded_length,
                    runs[first][0],
                    runs[last][1],
                )
            )
    return windows


def name_tokens(name: str) -> list[str]:
    """Significant words of a company or person name (see the module docstring)."""
    return list(_name_tokens(name))


@lru_cache(maxsize=131072)
def _name_tokens(name: str) -> tuple[str, ...]:
    words = name_plain(name).split()
    significant = tuple(
        word for word in words if word not in LEGAL_FORMS and word not in TITLES and word not in STOP_WORDS
    )
    return significant or tuple(words)


def name_key(name: str) -> str:
    """Normalised name in its original word order (``DUPONT FILS``)."""
    return " ".join(name_tokens(name))


@lru_cache(maxsize=131072)
def name_plain(name: str) -> str:
    """Upper case, accents folded, words separated by one space, nothing dropped (for prefixes)."""
    folded = fold(name).replace("&", " ET ")
    folded = _DOTTED_ABBREVIATION.sub(lambda match: match.group(0).replace(".", ""), folded)
    return " ".join(word for word in _NON_ALNUM.split(folded) if word)


def compact_iban(value: str | None) -> str | None:
    """IBAN without spaces, upper case (None stays None)."""
    if not value:
        return None
    return _SPACES.sub("", value).upper()


def matches_any(text: str, patterns: Iterable[re.Pattern[str]]) -> str | None:
    """The first pattern found in ``text`` (its source), or None."""
    for pattern in patterns:
        if pattern.search(text):
            return pattern.pattern
    return None
