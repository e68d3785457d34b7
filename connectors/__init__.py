"""Connectors: one package per external system, registered as ``erp_recovery.connectors`` entry points."""
