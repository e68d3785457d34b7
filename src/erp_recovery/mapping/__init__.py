"""Declarative mappings: tabular exports (CSV, fixed width) → canonical records, described as data."""

from erp_recovery.mapping.spec import FieldRule, Layout, MappingSpec
from erp_recovery.mapping.tabular import (
    Row,
    TabularReader,
    load_mapping,
    mapped_records,
    parse_date,
    parse_mapping,
    parse_number,
    shipped_mappings,
)

__all__ = [
    "FieldRule",
    "Layout",
    "MappingSpec",
    "Row",
    "TabularReader",
    "load_mapping",
    "mapped_records",
    "parse_date",
    "parse_mapping",
    "parse_number",
    "shipped_mappings",
]
