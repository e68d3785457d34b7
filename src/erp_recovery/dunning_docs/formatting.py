"""How amounts, dates, rates and identifiers are written in letters, per language.

French: ``1 234,56 €``, ``20/11/2026``, ``12,15 %``; English: ``€1,234.56``, ``20 November 2026``,
``12.15%``. Amounts are Decimal all the way and rounded half up to the cent for display only.
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from erp_recovery.model.money import Money, minor_units

NBSP = "\u00a0"
_SYMBOLS = {"EUR": "€", "GBP": "£", "USD": "$", "CHF": "CHF"}
_EN_MONTHS = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip


def _grouped(amount: Decimal, decimals: int, thousands: str, point: str) -> str:
    exponent = Decimal(1).scaleb(-decimals)
    text = format(abs(amount.quantize(exponent, rounding=ROUND_HALF_UP)), "f")
    whole, _, fraction = text.partition(".")
    groups: list[str] = []
    while len(whole) > 3:
        groups.insert(0, whole[-3:])
        whole = whole[:-3]
    groups.insert(0, whole)
    result = thousands.join(groups) + (point + fraction if fraction else "")
    return ("-" if amount < 0 else "") + result


def format_money(value: Money | Decimal | None, language: str, currency: str | None = None) -> str:
    if value is None:
        return ""
    if isinstance(value, Money):
        amount, code = value.amount, value.currency
    else:
        amount, code = value, currency or "EUR"
    decimals = minor_units(code)
    symbol = _SYMBOLS.get(code, code)
    if language == "fr":
        return f"{_grouped(amount, decimals, NBSP, ',')}{NBSP}{symbol}"
    text = _grouped(amount, decimals, ",", ".")
    if symbol in ("€", "£", "$"):
        return f"-{symbol}{text[1:]}" if text.startswith("-") else f"{symbol}{text}"
    return f"{text}{NBSP}{code}"


def format_date(value: dt.date | None, language: str) -> str:
    if value is None:
        return ""
    if language == "fr":
        return value.strftime("%d/%m/%Y")
    return f"{value.day} {_EN_MONTHS[value.month - 1]} {value.year}"


def format_rate(value: Decimal | None, language: str) -> str:
    if value is None:
        return ""
    text = format(value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP), "f")
    return f"{text.replace('.', ',')}{NBSP}%" if language == "fr" else f"{text}%"


def format_siren(value: str | None) -> str:
    if not value:
        return ""
    digits = value.replace(" ", "")
    if len(digits) == 9:
        return f"{digits[:3]} {digits[3:6]} {digits[6:]}"
    return value


def format_iban(value: str | None) -> str:
    if not value:
        return ""
    compact = value.replace(" ", "")
    return " ".join(compact[i : i + 4] for i in range(0, len(compact), 4))


def number_words(count: int, language: str) -> str:
    """Small counts in words for sentences ("deux factures")."""
    fr = ["zéro", "une", "deux", "trois", "quatre", "cinq", "six", "sept", "huit", "neuf", "dix"]
    en = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"]
    words = fr if language == "fr" else en
    return words[count] if 0 <= count < len(words) else str(count)


_CHANNEL_NAMES = {
    "fr": {
        "email": "courriel",
        "letter": "lettre simple",
        "registered_letter": "lettre recommandée avec accusé de réception",
        "phone": "appel téléphonique",
        "escalation": "dossier contentieux",
        "dossier": "dossier contentieux",
    },
    "en": {
        "email": "e-mail",
        "letter": "letter",
        "registered_letter": "registered letter with acknowledgment of receipt",
        "phone": "phone call",
        "escalation": "escalation dossier",
        "dossier": "escalation dossier",
    },
}


def channel_names(channels: Any, language: str) -> str:
    """Channels in words ("courriel, lettre recommandée avec accusé de réception")."""
    names = _CHANNEL_NAMES.get(language, _CHANNEL_NAMES["en"])
    items = [channels] if isinstance(channels, str) else list(channels)
    return ", ".join(names.get(str(channel), str(channel)) for channel in items)


def filters(language: str) -> dict[str, Any]:
    return {
        "money": lambda value, currency=None: format_money(value, language, currency),
        "date": lambda value: format_date(value, language),
        "rate": lambda value: format_rate(value, language),
        "siren": format_siren,
        "iban": format_iban,
        "words": lambda value: number_words(int(value), language),
        "channels": lambda value: channel_names(value, language),
    }
