"""The ``:86:`` field of MT940/MT942 (information to account owner): one parser per bank dialect.

SWIFT leaves ``:86:`` free (6 × 65 characters); banks fill it in their own structure. A dialect is
a function ``(lines) -> Details | None`` that returns ``None`` when the text is not in its
structure; :func:`parse_details` tries :data:`DIALECTS` in order and falls back to free text.
Adding a bank's dialect means adding a function to that list.

- ``german`` — ZKA/DFÜ "Verwendungszweck" structure used by German and Austrian banks:
  ``GVC?00Buchungstext?10Primanota?20..?29 Verwendungszweck?30 BLZ/BIC?31 Konto/IBAN?32..?33
  Name?34 Textschlüssel?60..?63 Verwendungszweck``; SEPA keywords inside the purpose lines:
  ``EREF+`` end-to-end id, ``MREF+`` mandate, ``CRED+`` creditor id, ``SVWZ+`` remittance,
  ``ABWA+``/``ABWE+`` ultimate parties, ``KREF+`` customer reference. The Polish ZBP variant with
  ``~NN`` fields (``~20..~25`` purpose, ``~30`` bank, ``~31`` account, ``~32..~33`` name, ``~38``
  IBAN) is read by the same parser.
- ``swift_structured`` — ``/CODE/value`` structure (ABN AMRO, ING, Rabobank, ASN, Bunq...):
  ``/EREF/``, ``/REMI/`` (``USTD//text`` or ``STRD/CUR/ref``), ``/CNTP/IBAN/BIC/NAME/CITY/``,
  ``/MARF/`` mandate, ``/CSID/`` creditor id, ``/ORDP//NAME/…``, ``/BENM//NAME/…``,
  ``/RTRN/`` return reason, ``/IBAN/ /BIC/ /NAME/``.
- free text (anything else): the text itself is the remittance.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from .builder import clean

#: SWIFT lines are at most 65 characters; a full line was cut by the bank, not by the writer.
SWIFT_LINE = 65


@dataclass
class Details:
    """What a ``:86:`` field says, in canonical terms."""

    dialect: str
    remittance: str | None = None
    counterparty_name: str | None = None
    counterparty_account: str | None = None
    counterparty_bic: str | None = None
    end_to_end_id: str | None = None
    mandate_id: str | None = None
    structured_reference: str | None = None
    return_reason: str | None = None
    transaction_code: str | None = None
    references: dict[str, str] = field(default_factory=dict)


def join_wrapped(lines: Sequence[str], first_line_prefix: int = 4) -> str:
    """Join lines of free text: a full 65-character line continues its word, others get a space."""
    parts: list[str] = []
    for index, line in enumerate(lines):
        if index:
            previous = lines[index - 1]
            width = len(previous) + (first_line_prefix if index == 1 else 0)
            parts.append("" if width >= SWIFT_LINE else " ")
        parts.append(line)
    return "".join(parts)


# -- German ZKA / Polish ZBP ---------------------------------------------------------------------

_GERMAN = re.compile(r"^(?P<code>\d{3})?(?P<sep>[?~>])(?P<first>\d{2})")
_SEPA_KEYWORDS = re.compile(r"(EREF|KREF|MREF|CRED|DEBT|SVWZ|ABWA|ABWE|IBAN|BIC|COAM|OAMT|PURP)\+")


def german(lines: Sequence[str]) -> Details | None:
    text = "".join(lines)
    head = _GERMAN.match(text)
    if head is None:
        return None
    separator = head.group("sep")
    fields: dict[str, list[str]] = {}
    body = text[len(head.group("code") or "") :]
    for chunk in body.split(separator)[1:]:
        if len(chunk) < 2 or not chunk[:2].isdigit():
            # A separator character inside a value: glue it back to the previous field.
            if fields:
                last = next(reversed(fields))
                fields[last][-1] += separator + chunk
            continue
        fields.setdefault(chunk[:2], []).append(chunk[2:])

    def joined(*codes: str) -> str:
        return "".join("".join(fields.get(code, [])) for code in codes)

    details = Details(dialect={"~": "zbp", ">": "triodos"}.get(separator, "german"))
    if head.group("code"):
        details.transaction_code = head.group("code")
        details.references["GVC"] = head.group("code")
    posting_text = clean(joined("00"))
    if posting_text:
        details.references["posting_text"] = posting_text
    prima_nota = clean(joined("10"))
    if prima_nota:
        details.references["prima_nota"] = prima_nota
    purpose_codes = [f"{number:02d}" for number in range(20, 30)] + ["60", "61", "62", "63"]
    if separator == "~":
        purpose_codes = [f"{number:02d}" for number in range(20, 26)]
    purpose = joined(*purpose_codes[:10])
    continued = joined(*purpose_codes[10:])
    if continued:
        purpose = f"{purpose} {continued}"
    details.counterparty_name = clean(joined("32", "33"))
    bank = clean(joined("30"))
    account = clean(joined("38")) if separator == "~" else None
    account = account or clean(joined("31"))
    details.counterparty_account = account
    if bank and not bank.isdigit():
        details.counterparty_bic = bank
    elif bank:
        details.references["bank_code"] = bank
    keywords = list(_SEPA_KEYWORDS.finditer(purpose))
    if not keywords:
        details.remittance = clean(purpose)
        return details
    before = clean(purpose[: keywords[0].start()])
    values: dict[str, str] = {}
    for index, match in enumerate(keywords):
        end = keywords[index + 1].start() if index + 1 < len(keywords) else len(purpose)
        value = clean(purpose[match.end() : end])
        if value:
            values[match.group(1)] = value
    details.remittance = clean(" ".join(part for part in (before, values.get("SVWZ")) if part))
    end_to_end = values.get("EREF")
    if end_to_end and end_to_end.upper() != "NOTPROVIDED":
        details.end_to_end_id = end_to_end
    details.mandate_id = values.get("MREF")
    for keyword, name in (("CRED", "creditor_id"), ("KREF", "customer_reference"), ("DEBT", "debtor_id")):
        if keyword in values:
            details.references[name] = values[keyword]
    if "ABWA" in values:
        details.references["ultimate_debtor"] = values["ABWA"]
    if "ABWE" in values:
        details.references["ultimate_creditor"] = values["ABWE"]
    if "IBAN" in values and not details.counterparty_account:
        details.counterparty_account = values["IBAN"]
    if "BIC" in values and not details.counterparty_bic:
        details.counterparty_bic = values["BIC"]
    return details


# -- SWIFT /CODE/ structure -----------------------------------------------------------------------

_SWIFT_CODES = (
    "EREF|REMI|CNTP|MARF|CSID|ORDP|BENM|RTRN|IREF|PREF|BUSP|PURP|ULTC|ULTD|ULTB|TRTP|ISDT|ACCW|"
    "SVCL|COAM|OAMT|CHGS|EXCH|IBAN|BIC|NAME|ADDR"
)
_SWIFT_FIELD = re.compile(rf"/({_SWIFT_CODES})/")


def swift_structured(lines: Sequence[str]) -> Details | None:
    text = "".join(lines).strip()
    if not text.startswith("/"):
        return None
    matches = list(_SWIFT_FIELD.finditer(text))
    if not matches or matches[0].start() != 0:
        return None
    values: dict[str, str] = {}
    order: list[str] = []
    for index, match in enumerate(matches):
        end = matches[index + 1].start() if index + 1 < len(matches) else len(text)
        code = match.group(1)
        value = text[match.end() : end].strip("/ ")
        order.append(code)
        if code not in values or not values[code]:
            values[code] = value
    details = Details(dialect="swift")
    remittance = values.get("REMI", "")
    if remittance.startswith("USTD//"):
        remittance = remittance[6:]
    elif remittance.startswith("STRD/"):
        parts = remittance.split("/")
        if len(parts) >= 3:
            details.structured_reference = clean(parts[-1])
            details.references["REMI.STRD"] = remittance
            remittance = ""
    details.remittance = clean(remittance)
    end_to_end = clean(values.get("EREF"))
    if end_to_end and end_to_end.upper() != "NOTPROVIDED":
        details.end_to_end_id = end_to_end
    details.mandate_id = clean(values.get("MARF"))
    details.return_reason = clean(values.get("RTRN"))
    if values.get("CNTP"):
        counterparty: list[str | None] = [clean(part) for part in values["CNTP"].split("/")]
        counterparty += [None] * (4 - len(counterparty))
        details.counterparty_account, details.counterparty_bic, details.counterparty_name = counterparty[:3]
        if counterparty[3]:
            details.references["counterparty_city"] = str(counterparty[3])
    details.counterparty_name = details.counterparty_name or clean(values.get("NAME"))
    details.counterparty_account = details.counterparty_account or clean(values.get("IBAN"))
    details.counterparty_bic = details.counterparty_bic or clean(values.get("BIC"))
    for code, name in (
        ("CSID", "creditor_id"),
        ("IREF", "instruction_id"),
        ("PREF", "payment_reference"),
        ("TRTP", "transaction_type"),
        ("PURP", "purpose"),
        ("ULTD", "ultimate_debtor"),
        ("ULTC", "ultimate_creditor"),
        ("ISDT", "settlement_date"),
    ):
        reference = clean(values.get(code))
        if reference:
            details.references[name] = reference
    return details


def free_text(lines: Sequence[str]) -> Details:
    return Details(dialect="text", remittance=clean(join_wrapped(lines)))


#: Dialects tried in order; the first that recognises the text wins.
DIALECTS: list[Callable[[Sequence[str]], Details | None]] = [german, swift_structured]


def parse_details(lines: Sequence[str]) -> Details:
    """Canonical details of a ``:86:`` field given as its raw lines (first line without the tag)."""
    for dialect in DIALECTS:
        details = dialect(lines)
        if details is not None:
            return details
    return free_text(lines)
