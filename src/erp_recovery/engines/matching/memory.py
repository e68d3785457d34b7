"""What review decisions teach the payer memory (IBAN → customer, payer name → customer).

- Accepting a proposal confirms that the bank line's counterparty IBAN and name belong to the
  customer whose items were accepted: both are remembered (``origin="decision"``), and the next
  credits from that IBAN or name are identified without fuzzy matching.
- Rejecting a proposal whose payer was identified *from memory* (an IBAN or a name learned before)
  blocks that pair: the memory will never again say this IBAN / name is that customer. A rejection
  of a proposal identified by fuzzy name or ERP data teaches nothing about the payer (the person
  may have rejected the invoices chosen, not the customer).
"""

from __future__ import annotations

from collections.abc import Iterable

from erp_recovery.engines.matching.model import MatchProposal, PayerMemory, ReviewDecision
from erp_recovery.engines.matching.text import compact_iban, name_plain
from erp_recovery.model.records import BankTransaction

_MEMORY_RULES = {"iban_memory": "iban", "iban_learned": "iban", "name_memory": "name", "name_learned": "name"}


def memory_from_decision(
    decision: ReviewDecision, transaction: BankTransaction, proposal: MatchProposal | None = None
) -> list[PayerMemory]:
    """Memory entries a decision creates or confirms (merge them with :func:`merge_memory`)."""
    iban = compact_iban(transaction.counterparty_iban)
    name = name_plain(transaction.counterparty_name) if transaction.counterparty_name else ""
    if decision.decision == "accepted":
        customers = {line.customer_id for line in decision.lines}
        customer_id = decision.customer_id if decision.customer_id in customers else None
        if customer_id is None and len(customers) == 1:
            customer_id = next(iter(customers))
        if customer_id is None:
            return []
        entries = []
        if iban:
            entries.append(PayerMemory(kind="iban", key=iban, customer_id=customer_id))
        if name:
            entries.append(PayerMemory(kind="name", key=name, customer_id=customer_id))
        return entries
    if proposal is None or proposal.customer_id is None:
        return []
    blocked = []
    for evidence in proposal.evidence:
        kind = _MEMORY_RULES.get(evidence.rule)
        key = iban if kind == "iban" else name if kind == "name" else None
        if kind and key:
            blocked.append(PayerMemory(kind=kind, key=key, customer_id=proposal.customer_id, blocked=True))
    return blocked


def merge_memory(existing: Iterable[PayerMemory], updates: Iterable[PayerMemory]) -> list[PayerMemory]:
    """Existing memory with the updates applied: confirmations add up, a block wins over a confirmation."""
    merged: dict[tuple[str, str, str], PayerMemory] = {
        (entry.kind, entry.key, entry.customer_id): entry for entry in existing
    }
    for update in updates:
        key = (update.kind, update.key, update.customer_id)
        current = merged.get(key)
        if current is None:
            merged[key] = update
        elif update.blocked or current.blocked:
            merged[key] = current.model_copy(update={"blocked": True})
        else:
            merged[key] = current.model_copy(
                update={"confirmations": current.confirmations + update.confirmations}
            )
    return sorted(merged.values(), key=lambda entry: (entry.kind, entry.key, entry.customer_id))
