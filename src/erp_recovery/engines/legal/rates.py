"""Dated reference rates (ECB MRO, Bank of England reference rate, Basiszinssatz, taux légal).

The rates are data: ``data/rates.toml`` ships with the package and a site may add or correct
entries in an override file of the same shape (configuration key ``legal.rates_file``). A lookup
for a date or half-year the table does not cover raises :class:`~erp_recovery.errors.ConfigError`
naming the series and the period to add — unless the table was loaded with
``missing="carry_forward"``: then the last known rate is used, marked ``assumed`` with a source
saying so, and every computation that used it carries a note asking to confirm it.
"""

from __future__ import annotations

import datetime as dt
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from erp_recovery.errors import ConfigError

SeriesKind = Literal["changes", "half_year"]

#: Where the shipped table lives (inside the package, so it is in the wheel).
SHIPPED_RATES = "rates.toml"


@dataclass(frozen=True)
class HalfYear:
    """A half-year: H1 = 1 January-30 June, H2 = 1 July-31 December."""

    year: int
    half: Literal[1, 2]

    @classmethod
    def of(cls, day: dt.date) -> HalfYear:
        return cls(day.year, 1 if day.month <= 6 else 2)

    @classmethod
    def parse(cls, text: str) -> HalfYear:
        try:
            year_text, half_text = text.strip().upper().split("-H")
            half = int(half_text)
            if half not in (1, 2):
                raise ValueError
            return cls(int(year_text), 1 if half == 1 else 2)
        except ValueError:
            raise ValueError(f"a half-year looks like '2026-H1' or '2026-H2', got {text!r}") from None

    @property
    def start(self) -> dt.date:
        return dt.date(self.year, 1 if self.half == 1 else 7, 1)

    @property
    def end(self) -> dt.date:
        return dt.date(self.year, 6, 30) if self.half == 1 else dt.date(self.year, 12, 31)

    @property
    def day_before_start(self) -> dt.date:
        return self.start - dt.timedelta(days=1)

    def __str__(self) -> str:
        return f"{self.year}-H{self.half}"


@dataclass(frozen=True)
class RateEntry:
    rate: Decimal
    source: str
    #: ``changes`` series: in force from this date. ``half_year`` series: the half-year.
    effective: dt.date | None = None
    period: HalfYear | None = None
    #: The table does not cover the date asked for; this last known rate was carried forward.
    assumed: bool = False


ASSUMED_PREFIX = "ASSUMED UNCHANGED"

MissingRates = Literal["error", "carry_forward"]


def _assumed(entry: RateEntry, name: str, needed: str, checked_to: str) -> RateEntry:
    source = (
        f"{ASSUMED_PREFIX}: no {name} rate recorded for {needed} (table checked to {checked_to}); "
        f"the last known rate is carried forward — confirm it and add it to legal.rates_file. "
        f"Last known: {entry.source}"
    )
    return RateEntry(
        rate=entry.rate, source=source, effective=entry.effective, period=entry.period, assumed=True
    )


@dataclass(frozen=True)
class RateSeries:
    name: str
    label: str
    kind: SeriesKind
    entries: tuple[RateEntry, ...]
    valid_until: dt.date | None = None
    carry_forward: bool = False

    def in_force_on(self, day: dt.date) -> RateEntry:
        """The rate in force on ``day`` (``changes`` series) or for its half-year (``half_year``)."""
        if self.kind == "half_year":
            return self.for_half_year(HalfYear.of(day))
        if self.valid_until is not None and day > self.valid_until:
            if self.carry_forward and self.entries:
                return _assumed(self.entries[-1], self.name, day.isoformat(), self.valid_until.isoformat())
            raise ConfigError(
                f"the {self.name} table is only checked up to {self.valid_until.isoformat()}; a rate for "
                f"{day.isoformat()} is needed. Add any change since then (or move valid_until forward) "
                "in the rates override file",
                key=f"legal.rates.{self.name}",
            )
        found: RateEntry | None = None
        for entry in self.entries:
            assert entry.effective is not None
            if entry.effective <= day:
                found = entry
            else:
                break
        if found is None:
            raise ConfigError(
                f"no {self.name} rate is known on {day.isoformat()}; the table starts on "
                f"{self.entries[0].effective}. Add it in the rates override file",
                key=f"legal.rates.{self.name}",
            )
        return found

    def for_half_year(self, period: HalfYear) -> RateEntry:
        if self.kind != "half_year":
            raise ValueError(f"{self.name} is a series of dated changes, not of half-years")
        for entry in self.entries:
            if entry.period == period:
                return entry
        earlier = [
            entry
            for entry in self.entries
            if entry.period is not None and _sort_key(entry.period) < _sort_key(period)
        ]
        if self.carry_forward and earlier:
            last = earlier[-1]
            return _assumed(last, self.name, str(period), str(last.period))
        raise ConfigError(
            f"no {self.name} rate for {period} in the rate table; add "
            f'{{ period = "{period}", rate = ..., source = "..." }} to series.{self.name} in the rates '
            "override file (configuration key legal.rates_file)",
            key=f"legal.rates.{self.name}",
        )


@dataclass(frozen=True)
class RateTable:
    """All the series, by name."""

    series: Mapping[str, RateSeries] = field(default_factory=dict)
    sources: tuple[str, ...] = ()
    missing: MissingRates = "error"

    def get(self, name: str) -> RateSeries:
        try:
            return self.series[name]
        except KeyError:
            raise ConfigError(
                f"unknown rate series {name!r}; known: {', '.join(sorted(self.series))}",
                key="legal.rates",
            ) from None


def _parse_entries(name: str, kind: SeriesKind, raw_values: Any, origin: str) -> dict[Any, RateEntry]:
    if not isinstance(raw_values, list):
        raise ConfigError(f"series.{name}.values must be a list", path=origin)
    entries: dict[Any, RateEntry] = {}
    for index, raw in enumerate(raw_values, start=1):
        where = f"series.{name}.values[{index}]"
        if not isinstance(raw, dict) or "rate" not in raw:
            raise ConfigError(f"{where} needs a rate", path=origin)
        rate = raw["rate"]
        if isinstance(rate, int) and not isinstance(rate, bool):
            rate = Decimal(rate)
        if isinstance(rate, str):
            rate = Decimal(rate)
        if not isinstance(rate, Decimal):
            raise ConfigError(f"{where}.rate must be a number, got {rate!r}", path=origin)
        source = str(raw.get("source", origin))
        if kind == "changes":
            effective = raw.get("from")
            if not isinstance(effective, dt.date) or isinstance(effective, dt.datetime):
                raise ConfigError(f"{where}.from must be a date (YYYY-MM-DD)", path=origin)
            entries[effective] = RateEntry(rate=rate, source=source, effective=effective)
        else:
            try:
                period = HalfYear.parse(str(raw.get("period", "")))
            except ValueError as exc:
                raise ConfigError(f"{where}.period: {exc}", path=origin) from None
            entries[period] = RateEntry(rate=rate, source=source, period=period)
    return entries


def _merge(tables: list[tuple[dict[str, Any], str]], missing: MissingRates = "error") -> RateTable:
    merged: dict[str, dict[str, Any]] = {}
    for document, origin in tables:
        raw_series = document.get("series", {})
        if not isinstance(raw_series, dict):
            raise ConfigError("[series] must be a table", path=origin)
        for name, raw in raw_series.items():
            if not isinstance(raw, dict):
                raise ConfigError(f"series.{name} must be a table", path=origin)
            current = merged.setdefault(
                name, {"label": name, "kind": None, "entries": {}, "valid_until": None}
            )
            kind = raw.get("kind", current["kind"])
            if kind not in ("changes", "half_year"):
                raise ConfigError(
                    f"series.{name}.kind must be 'changes' or 'half_year', got {kind!r}", path=origin
                )
            if current["kind"] is not None and current["kind"] != kind:
                raise ConfigError(f"series.{name} changes kind from {current['kind']} to {kind}", path=origin)
            current["kind"] = kind
            current["label"] = raw.get("label", current["label"])
            if "valid_until" in raw:
                current["valid_until"] = raw["valid_until"]
            current["entries"].update(_parse_entries(name, kind, raw.get("values", []), origin))
    series = {
        name: RateSeries(
            name=name,
            label=str(data["label"]),
            kind=data["kind"],
            entries=tuple(
                entry for _, entry in sorted(data["entries"].items(), key=lambda item: _sort_key(item[0]))
            ),
            valid_until=data["valid_until"],
            carry_forward=missing == "carry_forward",
        )
        for name, data in merged.items()
    }
    return RateTable(series=series, sources=tuple(origin for _, origin in tables), missing=missing)


def _sort_key(key: Any) -> tuple[int, int, int]:
    if isinstance(key, HalfYear):
        return (key.year, key.half, 0)
    return (key.year, key.month, key.day)


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle, parse_float=Decimal)
    except FileNotFoundError:
        raise ConfigError("rates file not found", path=str(path)) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"invalid TOML: {exc}", path=str(path)) from None


def load_rate_table(override: Path | str | None = None, *, missing: MissingRates = "error") -> RateTable:
    """The shipped rate table, with the entries of ``override`` (if given) added or replaced.

    ``missing`` says what a lookup beyond the table does: ``error`` (raise, naming what to add) or
    ``carry_forward`` (use the last known rate, marked as assumed).
    """
    shipped = resources.files("erp_recovery.engines.legal").joinpath("data", SHIPPED_RATES)
    documents = [
        (tomllib.loads(shipped.read_text(encoding="utf-8"), parse_float=Decimal), "rates.toml (shipped)")
    ]
    if override is not None:
        documents.append((_read_toml(Path(override)), str(override)))
    return _merge(documents, missing)


def rate_table_from_documents(*documents: tuple[dict[str, Any], str]) -> RateTable:
    """Build a table from already-parsed TOML documents (later ones override earlier ones)."""
    return _merge(list(documents))
