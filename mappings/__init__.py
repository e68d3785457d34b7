"""Declarative field mappings shipped with erp-recovery (data files, editable by an admin)."""
