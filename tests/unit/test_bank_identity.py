"""Transaction identity: stable across re-reads, overlapping statements and file formats."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

from erp_recovery.connectors.bank import registry
from erp_recovery.connectors.bank.identity import IdentityAssigner, amount_key, normalise_account

FIXTURES = Path(__file__).resolve().parents[1] / "golden" / "bank" / "fixtures"


def _ids(name: str) -> list[str]:
    return [transaction.external_id for transaction in registry.read_file(FIXTURES / name).all_transactions()]


def test_same_bookings_in_camt_mt940_and_cfonb_get_the_same_ids() -> None:
    camt = registry.read_file(FIXTURES / "camt053-tricky.xml").all_transactions()
    march_first = [t.external_id for t in camt if t.booking_date == dt.date(2024, 3, 1)]
    # The camt batch is split into its two details: "<entry id>/1" and "/2".
    batch_entry = march_first[0].rsplit("/", 1)[0]
    assert march_first[:2] == [f"{batch_entry}/1", f"{batch_entry}/2"]
    unsplit = [batch_entry, *march_first[2:]]
    assert sorted(_ids("mt940-cp850.sta")) == sorted(unsplit)
    assert sorted(_ids("cfonb120-sepa.txt")) == sorted(unsplit)


def test_reading_twice_gives_the_same_ids() -> None:
    assert _ids("camt053-tricky.xml") == _ids("camt053-tricky.xml")


def test_equal_bookings_on_one_day_stay_distinct_and_overlap_agrees() -> None:
    day = dt.date(2024, 3, 1)
    whole_week = IdentityAssigner()
    week = [whole_week.entry_id("FR76X", day, Decimal("100.00"), "EUR") for _ in range(2)]
    same_day_again = IdentityAssigner()
    again = [same_day_again.entry_id("FR76X", day, Decimal("100.0"), "EUR") for _ in range(2)]
    assert week[0] != week[1]
    assert week == again  # "100.00" and "100.0" are one amount


def test_amount_key_and_account_normalisation() -> None:
    assert amount_key(Decimal("-12.500")) == "-12.5"
    assert amount_key(Decimal("100")) == "100"
    assert normalise_account("fr76 3000 6000 0112 3456 7890 189") == "FR7630006000011234567890189"
    # A German BLZ/Konto and the IBAN it stands for are one account.
    assert normalise_account("12345678/1020304050") == "DE20123456781020304050"
    assert normalise_account("1526.89.184EUR") == "1526.89.184"
