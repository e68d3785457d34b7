"""The ``[legal]`` section of ``erp-recovery.toml``::

[legal]
rates_file = "rates-override.toml"   # entries added to / replacing the shipped rate table
missing_rates = "carry_forward"       # or "error": refuse to compute past the table

Reference rates are published twice a year; between a new half-year and the update of the table,
``carry_forward`` (the default) keeps dunning going with the last known rate, and every
computation that used such a rate says so in its working and notes (``ASSUMED UNCHANGED ...``).
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict

from erp_recovery.engines.legal.rates import MissingRates, RateTable, load_rate_table


class LegalSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    #: Override file of reference rates (same shape as the shipped ``data/rates.toml``); relative
    #: paths are read from the configuration file's folder.
    rates_file: str | None = None
    missing_rates: MissingRates = "carry_forward"

    def rate_table(self, base_dir: Path | None = None) -> RateTable:
        if self.rates_file is None:
            return load_rate_table(missing=self.missing_rates)
        path = Path(self.rates_file).expanduser()
        if not path.is_absolute() and base_dir is not None:
            path = base_dir / path
        return load_rate_table(path, missing=self.missing_rates)
