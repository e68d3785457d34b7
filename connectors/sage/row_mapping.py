"""Report exports read through the shared mapping engine, as typed values instead of records.

Some exports are not one canonical record per row: a Sage 100 échéancier gives due dates for
invoices the FEC already describes, a balance âgée gives per-customer totals to cross-check, a
Sage 50 audit trail gives transactions whose meaning depends on their ``Type``. Their mapping files
have exactly the shape of :mod:`erp_recovery.mapping.spec` (``[mapping]``, ``[layout]``,
``[[filter]]``, ``[fields]``) with ``entity = "row"``, and the field names are the ones the
connector documents; reading, typing and error reporting (file, line, column) are the engine's.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterator
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from erp_recovery.config import config_error_from_validation
from erp_recovery.errors import ConfigError, MappingError
from erp_recovery.mapping.spec import FieldRule, Filter, Layout, MappingInfo, MappingSpec
from erp_recovery.mapping.tabular import TabularReader, convert


class RowInfo(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    entity: Literal["row"]
    description: str = ""
    version: int = 1


class RowMapping(BaseModel):
    """A mapping whose rows become dicts of typed values (``entity = "row"``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    mapping: RowInfo
    layout: Layout = Field(default_factory=Layout)
    filter: tuple[Filter, ...] = ()
    fields: dict[str, FieldRule]

    def require(self, *names: str, origin: str) -> None:
        missing = [name for name in names if name not in self.fields]
        if missing:
            raise ConfigError(f"the mapping must define fields.{', fields.'.join(missing)}", path=origin)


def load_row_mapping(name_or_path: str | Path, *, base_dir: Path | None = None) -> RowMapping:
    """A row mapping by path (``.toml``) or by the name of a shipped one (``sage100_echeancier``)."""
    candidate = Path(name_or_path)
    if not candidate.is_absolute() and base_dir is not None:
        candidate = base_dir / candidate
    if candidate.suffix == ".toml" and candidate.exists():
        text, origin = candidate.read_text(encoding="utf-8"), str(candidate)
    else:
        name = str(name_or_path).removesuffix(".toml")
        shipped = resources.files("erp_recovery.mappings").joinpath(f"{name}.toml")
        if not shipped.is_file():
            raise ConfigError(
                f"mapping {name_or_path!r} not found (neither a .toml file nor a shipped mapping)"
            )
        text, origin = shipped.read_text(encoding="utf-8"), f"{name}.toml (shipped)"
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"not valid TOML: {exc}", path=origin) from None
    try:
        return RowMapping.model_validate(raw)
    except ValidationError as exc:
        raise config_error_from_validation(exc, path=Path(origin), model=RowMapping) from None


def read_rows(spec: RowMapping, path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line number, {field: typed value}) for each data row; the first bad cell raises MappingError."""
    # The engine's reader does the reading, header check and filtering; its entity is irrelevant
    # here because rows are never turned into records.
    engine_spec = MappingSpec.model_construct(
        mapping=MappingInfo.model_construct(
            name=spec.mapping.name, entity="customer", description="", version=1
        ),
        layout=spec.layout,
        filter=spec.filter,
        fields=spec.fields,
    )
    reader = TabularReader(engine_spec, path)
    for row in reader.rows():
        values: dict[str, Any] = {}
        for name, rule in spec.fields.items():
            column = rule.column or rule.position or name
            raw = reader.raw_value(row, name, rule)
            try:
                value = convert(raw, rule, reader.layout, rule.currency)
            except ValueError as exc:
                raise MappingError(
                    f"fields.{name}: {exc}", file=str(path), line=row.line, column=column
                ) from None
            if value is None and rule.required:
                raise MappingError(
                    f"fields.{name} is required but empty", file=str(path), line=row.line, column=column
                )
            values[name] = value
        yield row.line, values
