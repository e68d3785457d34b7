"""External risk signals (optional, off by default): BODACC collective proceedings and company status.

The clients call public APIs with ``requests`` (timeouts, retries, a rate limit, a TTL cache); the
risk engine only reads the resulting :class:`CompanySignals`.
"""

from erp_recovery.engines.signals.models import CollectiveProceeding, CompanySignals, CompanyStatus

__all__ = ["CollectiveProceeding", "CompanySignals", "CompanyStatus"]
