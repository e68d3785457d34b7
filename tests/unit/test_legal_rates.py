"""The rate table as data: shipped file, override file, refusals that name what to add."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from erp_recovery.engines.legal import HalfYear, load_profile, load_rate_table
from erp_recovery.errors import ConfigError


def test_shipped_table_matches_legal_rules_table():
    # shared/domain/legal-rules.md §3 rate table, 2023 H1 .. 2026 H1.
    rates = load_rate_table()
    mro = rates.get("ecb_mro")
    expected_mro = {"2023-H1": "2.50", "2023-H2": "4.00", "2024-H1": "4.50", "2024-H2": "4.25",
                    "2025-H1": "3.15", "2025-H2": "2.15", "2026-H1": "2.15"}  # fmt: skip
    for period, value in expected_mro.items():
        assert mro.in_force_on(HalfYear.parse(period).start).rate == Decimal(value), period
    basiszins = rates.get("de_basiszins")
    for period, value in {"2023-H1": "1.62", "2024-H1": "3.62", "2025-H2": "1.27", "2026-H1": "1.27"}.items():
        assert basiszins.for_half_year(HalfYear.parse(period)).rate == Decimal(value)
    # Basiszins = MRO - 0.88 since 2023 (legal-rules.md §3 note on §247)
    for period in ("2023-H1", "2023-H2", "2024-H1", "2024-H2", "2025-H1", "2025-H2", "2026-H1"):
        half = HalfYear.parse(period)
        assert basiszins.for_half_year(half).rate == mro.in_force_on(half.start).rate - Decimal("0.88"), (
            period
        )
    legal = rates.get("fr_taux_legal_particuliers")
    assert legal.for_half_year(HalfYear.parse("2026-H1")).rate == Decimal("6.67")


def test_rates_are_decimal_never_float():
    rates = load_rate_table()
    for series in rates.series.values():
        for entry in series.entries:
            assert isinstance(entry.rate, Decimal)


def test_override_file_adds_and_replaces(tmp_path):
    override = tmp_path / "my-rates.toml"
    override.write_text(
        """
[series.de_basiszins]
kind = "half_year"
values = [
  { period = "2026-H2", rate = 1.52, source = "site override" },
  { period = "2026-H1", rate = "1.27", source = "checked again" },
]
""",
        encoding="utf-8",
    )
    rates = load_rate_table(override)
    series = rates.get("de_basiszins")
    assert series.for_half_year(HalfYear(2026, 2)).rate == Decimal("1.52")
    assert series.for_half_year(HalfYear(2026, 1)).source == "checked again"
    assert str(override) in rates.sources


def test_missing_half_year_names_series_and_period():
    with pytest.raises(ConfigError, match=r"no de_basiszins rate for 2031-H1.*legal.rates_file"):
        load_rate_table().get("de_basiszins").for_half_year(HalfYear(2031, 1))


def test_dated_series_refuses_beyond_valid_until():
    with pytest.raises(ConfigError, match="only checked up to 2026-06-30"):
        load_rate_table().get("ecb_mro").in_force_on(dt.date(2026, 7, 1))


def test_bad_override_is_a_config_error_naming_the_file(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text(
        '[series.ecb_mro]\nkind = "changes"\nvalues = [{ from = "soon", rate = 1 }]\n', encoding="utf-8"
    )
    with pytest.raises(ConfigError, match=r"bad.toml.*from must be a date"):
        load_rate_table(bad)
    with pytest.raises(ConfigError, match="not found"):
        load_rate_table(tmp_path / "missing.toml")


def test_unknown_jurisdiction_lists_valid_ones():
    with pytest.raises(ConfigError, match="valid: FR, EU, UK, DE"):
        load_profile("ES")


def test_carry_forward_uses_the_last_known_rate_and_says_so():
    """Rates are published twice a year; until the table is updated, dunning goes on with the last
    known rate, marked as assumed in the source and in the notes of every computation."""
    from erp_recovery.engines.legal import compute_late_charges, load_profile
    from erp_recovery.model import Money

    rates = load_rate_table(missing="carry_forward")
    entry = rates.get("ecb_mro").in_force_on(dt.date(2026, 7, 1))
    assert entry.assumed and entry.rate == rates.get("ecb_mro").entries[-1].rate
    assert entry.source.startswith("ASSUMED UNCHANGED")
    charges = compute_late_charges(
        load_profile("FR"), rates, principal=Money.of("10000", "EUR"), due_date=dt.date(2026, 3, 31),
        as_of=dt.date(2026, 7, 30), settlements=[], reference="F-1",
    )
    # H1 part from legal-rules.md (91 days × 12.15 % = 302.92) + H2 at the carried 2.15 % + 10.
    assert len(charges.periods) == 2
    assert charges.periods[1].annual_rate == charges.periods[0].annual_rate
    assert any("carried forward" in note for note in charges.notes)
    assert "carried forward" in charges.working()
