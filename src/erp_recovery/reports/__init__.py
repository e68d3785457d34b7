"""Receivables reports (ageing, DSO, risk) and the glue between the risk engine, the store and the CLI."""
