"""Cash application: match bank credits to open invoices, with evidence, review and memory.

Pure engine (canonical model in, proposals out)::

    from erp_recovery.engines.matching import MatchInput, match
    result = match(MatchInput(customers=..., invoices=..., bank_transactions=...))
    for proposal in result.proposals:
        print(proposal.bank_ref, proposal.status, proposal.confidence, proposal.lines)

For risk and dunning: :func:`effective_residuals`, :func:`pending_by_invoice`,
:func:`invoice_standings` (see :mod:`.standing`).
"""

from erp_recovery.engines.matching.bank_refs import bank_refs
from erp_recovery.engines.matching.engine import BLOCKING_FLAGS, MatchInput, MatchResult, match
from erp_recovery.engines.matching.memory import memory_from_decision, merge_memory
from erp_recovery.engines.matching.model import (
    APPLIED_STATUSES,
    Evidence,
    MatchProposal,
    MatchStatus,
    PayerMemory,
    ProposalLine,
    ReviewDecision,
)
from erp_recovery.engines.matching.settings import EvidenceWeights, MatchSettings
from erp_recovery.engines.matching.standing import (
    InvoiceStanding,
    PendingPayment,
    applied_by_invoice,
    effective_residuals,
    invoice_standings,
    pending_by_invoice,
)

__all__ = [
    "APPLIED_STATUSES",
    "BLOCKING_FLAGS",
    "Evidence",
    "EvidenceWeights",
    "InvoiceStanding",
    "MatchInput",
    "MatchProposal",
    "MatchResult",
    "MatchSettings",
    "MatchStatus",
    "PayerMemory",
    "PendingPayment",
    "ProposalLine",
    "ReviewDecision",
    "applied_by_invoice",
    "bank_refs",
    "effective_residuals",
    "invoice_standings",
    "match",
    "memory_from_decision",
    "merge_memory",
    "pending_by_invoice",
]
