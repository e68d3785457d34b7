"""Balance checks: opening balance + booked movements = closing balance, per statement.

Several real and public statements do not reconcile (wrong sample balances, balances in another
currency, pages without an opening balance), so a mismatch is a finding reported with the
statement and the difference, not a crash — unless the caller asked for ``strict`` reading.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from erp_recovery.errors import ParseError
from erp_recovery.model import Money

from .model import BalanceCheck


@dataclass
class MovementTotal:
    """Running sum of a statement's booked entries, in the account currency.

    Entries in another currency than the first one seen are counted apart: their presence makes
    the check ``unavailable`` (it cannot be computed without a rate) rather than wrong.
    """

    currency: str | None = None
    total: Decimal = Decimal(0)
    entries: int = 0
    other_currencies: set[str] = field(default_factory=set)

    def add(self, amount: Decimal, currency: str) -> None:
        self.entries += 1
        if self.currency is None:
            self.currency = currency
        if currency != self.currency:
            self.other_currencies.add(currency)
            return
        self.total += amount

    def money(self, fallback_currency: str | None) -> Money | None:
        currency = self.currency or fallback_currency
        if currency is None:
            return None
        return Money(amount=self.total, currency=currency)


def check_balances(
    opening: Money | None,
    closing: Money | None,
    movements: MovementTotal,
    *,
    what_is_missing: str | None = None,
) -> BalanceCheck:
    """Compare ``closing`` with ``opening + movements``."""
    if opening is None or closing is None:
        missing = what_is_missing or ("no opening balance" if opening is None else "no closing balance")
        return BalanceCheck(status="unavailable", detail=missing)
    if opening.currency != closing.currency:
        return BalanceCheck(
            status="unavailable",
            detail=f"opening balance in {opening.currency} but closing balance in {closing.currency}",
        )
    if movements.entries and movements.currency != opening.currency:
        return BalanceCheck(
            status="unavailable",
            detail=f"entries in {movements.currency} but balances in {opening.currency}",
        )
    if movements.other_currencies:
        others = ", ".join(sorted(movements.other_currencies))
        return BalanceCheck(status="unavailable", detail=f"entries in several currencies ({others})")
    expected = Money(amount=opening.amount + movements.total, currency=opening.currency)
    difference = closing.amount - expected.amount
    if difference == 0:
        return BalanceCheck(status="ok", expected_closing=expected, difference=Decimal(0))
    return BalanceCheck(
        status="mismatch",
        expected_closing=expected,
        difference=difference,
        detail=(
            f"opening {opening} + movements {movements.total} {opening.currency} = {expected}, "
            f"but the closing balance is {closing} (difference {difference} {opening.currency})"
        ),
    )


def enforce(check: BalanceCheck, *, strict: bool, file: str, statement: str, line: int | None = None) -> None:
    """In strict mode a mismatch is an error naming the statement and the difference."""
    if strict and check.status == "mismatch":
        raise ParseError(
            f"statement {statement}: balances do not reconcile: {check.detail}", file=file, line=line
        )
