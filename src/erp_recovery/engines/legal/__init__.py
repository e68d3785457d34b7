"""Legal rules of late payment by jurisdiction (FR, EU, UK, DE) as data, and their computations.

Public API (what the risk and dunning engines use):

- :func:`load_profile` / :class:`JurisdictionProfile`: the rules of one jurisdiction.
- :func:`load_rate_table` / :class:`RateTable`: dated reference rates, shipped + override file.
- :func:`compute_due_date`: due date from payment terms (both "45 jours fin de mois" computations)
  and the flag on terms beyond the legal maximum.
- :func:`compute_late_charges`: interest per day with the rate of each period, fixed fee, working.
- :func:`invoice_late_charges`: the same for a canonical :class:`~erp_recovery.model.Invoice`.
- :func:`limitation_date`: when a debt becomes time-barred.
"""

from erp_recovery.engines.legal.due_dates import (
    DueDate,
    check_term,
    compute_due_date,
    days_then_end_of_month,
    end_of_month,
    end_of_month_then_days,
)
from erp_recovery.engines.legal.invoice_charges import invoice_late_charges, invoice_settlements
from erp_recovery.engines.legal.late_charges import (
    InterestPeriod,
    LateCharges,
    Settlement,
    compute_fixed_fee,
    compute_late_charges,
)
from erp_recovery.engines.legal.limitation import limitation_date
from erp_recovery.engines.legal.profiles import JURISDICTIONS, JurisdictionProfile, load_profile
from erp_recovery.engines.legal.rates import HalfYear, RateSeries, RateTable, load_rate_table

__all__ = [
    "JURISDICTIONS",
    "DueDate",
    "HalfYear",
    "InterestPeriod",
    "JurisdictionProfile",
    "LateCharges",
    "RateSeries",
    "RateTable",
    "Settlement",
    "check_term",
    "compute_due_date",
    "compute_fixed_fee",
    "compute_late_charges",
    "days_then_end_of_month",
    "end_of_month",
    "end_of_month_then_days",
    "invoice_late_charges",
    "invoice_settlements",
    "limitation_date",
    "load_profile",
    "load_rate_table",
]
