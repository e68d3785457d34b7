"""Risk engine: receivables figures, explainable score and grade, credit limits and risk flags.

Pure functions over a :class:`Portfolio` (canonical records of one company, indexed): call
:func:`assess_portfolio` for a date and read :class:`PortfolioAssessment` (company figures, DSO
trend, one :class:`CustomerAssessment` per customer with ``explain()``) and its ``proposals()``
for the write-back plan.
"""

from erp_recovery.engines.risk.assess import (
    CustomerAssessment,
    PortfolioAssessment,
    RiskProposal,
    assess_portfolio,
)
from erp_recovery.engines.risk.config import GRADES, Grade, RiskConfig
from erp_recovery.engines.risk.credit_limit import CreditLimitRecommendation, recommend_credit_limit
from erp_recovery.engines.risk.figures import (
    AgeingBucket,
    DsoPoint,
    LatenessStats,
    ReceivablesFigures,
    compute_figures,
    dso_countback,
    dso_simple,
)
from erp_recovery.engines.risk.flags import FLAG_CODES, RiskFlag
from erp_recovery.engines.risk.portfolio import (
    InvoiceHistory,
    PendingPayment,
    Portfolio,
    pending_from_matches,
)
from erp_recovery.engines.risk.score import FactorResult, RiskScore

__all__ = [
    "FLAG_CODES",
    "GRADES",
    "AgeingBucket",
    "CreditLimitRecommendation",
    "CustomerAssessment",
    "DsoPoint",
    "FactorResult",
    "Grade",
    "InvoiceHistory",
    "LatenessStats",
    "PendingPayment",
    "Portfolio",
    "PortfolioAssessment",
    "ReceivablesFigures",
    "RiskConfig",
    "RiskFlag",
    "RiskProposal",
    "RiskScore",
    "assess_portfolio",
    "compute_figures",
    "dso_countback",
    "dso_simple",
    "pending_from_matches",
    "recommend_credit_limit",
]
