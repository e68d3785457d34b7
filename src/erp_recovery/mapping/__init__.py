"""Declarative mappings: tabular exports (CSV, fixed width) → canonical records, described as data."""

from erp_recovery.mapping.spec import ROW_ENTITY, FieldRule, Layout, MappingSpec
from erp_recovery.mapping.tabular import (
    Row,
    TabularReader,
    load_mapping,
    mapped_records,
    mapped_rows,
    parse_date,
    parse_mapping,
    parse_number,
    shipped_mappings,
)

__all__ = [
    "ROW_ENTITY",
    "FieldRule",
    "Layout",
    "MappingSpec",
    "Row",
    "TabularReader",
    "load_mapping",
    "mapped_records",
    "mapped_rows",
    "parse_date",
    "parse_mapping",
    "parse_number",
    "shipped_mappings",
]
