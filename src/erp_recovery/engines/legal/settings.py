"""The ``[legal]`` section of ``erp-recovery.toml``::

[legal]
rates_file = "rates-override.toml"   # entries added to / replacing the shipped rate table
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict

from erp_recovery.engines.legal.rates import RateTable, load_rate_table


class LegalSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    #: Override file of reference rates (same shape as the shipped ``data/rates.toml``); relative
    #: paths are read from the configuration file's folder.
    rates_file: str | None = None

    def rate_table(self, base_dir: Path | None = None) -> RateTable:
        if self.rates_file is None:
            return load_rate_table()
        path = Path(self.rates_file).expanduser()
        if not path.is_absolute() and base_dir is not None:
            path = base_dir / path
        return load_rate_table(path)
