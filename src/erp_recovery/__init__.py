"""erp-recovery: protect a company's cash next to its ERP (sync, match, assess, dun, write back)."""

__version__ = "0.1.0"
