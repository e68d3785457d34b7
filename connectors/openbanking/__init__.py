"""Open Banking account-information sources (Berlin Group NextGenPSD2, and variants by mapping)."""
