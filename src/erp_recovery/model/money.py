"""Money: a ``Decimal`` amount with its ISO 4217 currency, never a float.

Amounts keep the precision they were read with (bank files carry up to 5 decimals); rounding to the
currency's minor unit happens only where a rule asks for it, with :meth:`Money.quantized`.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, field_validator, model_validator

from erp_recovery.errors import CurrencyMismatchError

#: ISO 4217 minor units that are not 2 (the default). Source: ISO 4217 list one (SIX, 2024).
_MINOR_UNITS: dict[str, int] = {
    "BHD": 3, "BIF": 0, "CLF": 4, "CLP": 0, "DJF": 0, "GNF": 0, "IQD": 3, "ISK": 0, "JOD": 3,
    "JPY": 0, "KMF": 0, "KRW": 0, "KWD": 3, "LYD": 3, "OMR": 3, "PYG": 0, "RWF": 0, "TND": 3,
    "UGX": 0, "UYI": 0, "UYW": 4, "VND": 0, "VUV": 0, "XAF": 0, "XOF": 0, "XPF": 0,
}  # fmt: skip


def minor_units(currency: str) -> int:
    """Number of decimals of the currency's minor unit (EUR 2, JPY 0, KWD 3)."""
    return _MINOR_UNITS.get(currency, 2)


def quantize_amount(amount: Decimal, currency: str, rounding: str = ROUND_HALF_UP) -> Decimal:
    """``amount`` rounded to the currency's minor unit (half up unless a rule says otherwise)."""
    return amount.quantize(Decimal(1).scaleb(-minor_units(currency)), rounding=rounding)


def _check_currency(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError(f"currency must be a 3-letter ISO 4217 code, got {value!r}")
    code = value.strip().upper()
    if len(code) != 3 or not code.isalpha() or not code.isascii():
        raise ValueError(f"currency must be a 3-letter ISO 4217 code, got {value!r}")
    return code


CurrencyCode = Annotated[str, BeforeValidator(_check_currency)]


def to_decimal(value: Any) -> Decimal:
    """Turn a str/int/Decimal into a Decimal; floats are refused because they are already inexact."""
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, bool | float):
        raise ValueError(f"amounts must be Decimal, str or int, never {type(value).__name__} ({value!r})")
    elif isinstance(value, int):
        result = Decimal(value)
    elif isinstance(value, str):
        try:
            result = Decimal(value.strip())
        except InvalidOperation:
            raise ValueError(f"not a decimal amount: {value!r}") from None
    else:
        raise ValueError(f"not a decimal amount: {value!r}")
    if not result.is_finite():
        raise ValueError(f"amount must be finite, got {value!r}")
    return result


class Money(BaseModel):
    """An amount in one currency. Signed; arithmetic refuses to mix currencies."""

    model_config = ConfigDict(frozen=True)

    amount: Decimal
    currency: CurrencyCode

    @field_validator("amount", mode="before")
    @classmethod
    def _amount(cls, value: Any) -> Decimal:
        return to_decimal(value)

    @model_validator(mode="before")
    @classmethod
    def _from_string(cls, value: Any) -> Any:
        # Accept "12.50 EUR" as a compact form (configuration files, CLI options).
        if isinstance(value, str):
            parts = value.split()
            if len(parts) != 2:
                raise ValueError(f"money must look like '12.50 EUR', got {value!r}")
            return {"amount": parts[0], "currency": parts[1]}
        return value

    @classmethod
    def of(cls, amount: Any, currency: str) -> Money:
        return cls(amount=amount, currency=currency)

    @classmethod
    def zero(cls, currency: str) -> Money:
        return cls(amount=Decimal(0), currency=currency)

    def _same(self, other: Money) -> None:
        if not isinstance(other, Money):
            raise TypeError(f"cannot combine Money with {type(other).__name__}")
        if other.currency != self.currency:
            raise CurrencyMismatchError(
                f"cannot combine {self} and {other} without an exchange rate",
                currencies=[self.currency, other.currency],
            )

    def __add__(self, other: Money) -> Money:
        self._same(other)
        return Money(amount=self.amount + other.amount, currency=self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same(other)
        return Money(amount=self.amount - other.amount, currency=self.currency)

    def __neg__(self) -> Money:
        return Money(amount=-self.amount, currency=self.currency)

    def __abs__(self) -> Money:
        return Money(amount=abs(self.amount), currency=self.currency)

    def __mul__(self, factor: Decimal | int) -> Money:
        if isinstance(factor, float):
            raise TypeError("multiply Money by a Decimal or an int, never a float")
        return Money(amount=self.amount * factor, currency=self.currency)

    __rmul__ = __mul__

    def __lt__(self, other: Money) -> bool:
        self._same(other)
        return self.amount < other.amount

    def __le__(self, other: Money) -> bool:
        self._same(other)
        return self.amount <= other.amount

    def __gt__(self, other: Money) -> bool:
        self._same(other)
        return self.amount > other.amount

    def __ge__(self, other: Money) -> bool:
        self._same(other)
        return self.amount >= other.amount

    def is_zero(self) -> bool:
        return self.amount == 0

    def quantized(self, rounding: str = ROUND_HALF_UP) -> Money:
        """Rounded to the currency's minor unit (half up unless a rule says otherwise)."""
        return Money(amount=quantize_amount(self.amount, self.currency, rounding), currency=self.currency)

    def __str__(self) -> str:
        return f"{self.amount} {self.currency}"


def sum_money(values: list[Money] | tuple[Money, ...], currency: str) -> Money:
    """Sum of amounts that must all be in ``currency`` (an empty sum is zero in that currency)."""
    total = Money.zero(currency)
    for value in values:
        total = total + value
    return total
