"""Engines: pure functions from the canonical model to decisions (matching, risk, dunning, legal rules)."""
