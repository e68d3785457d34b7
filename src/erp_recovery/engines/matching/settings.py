"""Settings of the matcher: tolerances, thresholds, evidence weights, explicit exchange rates.

Everything has a documented default; a configuration file may override any of it under
``[matching]`` (the CLI passes that table to :class:`MatchSettings`).

How confidence works: each piece of evidence carries a weight (below); a proposal's confidence is
the sum of its evidence weights, capped at 0.99. A proposal is ``auto`` when its confidence reaches
``auto_threshold`` and no blocking flag is set (overpayment, payer conflict, name tie, amount tie,
rejected before...), ``suggested`` when it reaches ``suggest_threshold``, otherwise unmatched.
The default weights make these combinations auto: a unique invoice reference + the exact amount; a
reference + the payer identified + a partial amount; the payer identified by IBAN or a strong name
+ exactly one open item (or one combination of open items) of that amount, or several open items
of exactly that amount when the payer names none — then the payment is imputed to the one due
first, as the French Code civil (art. 1342-10) imputes a payment made without indication.
"""

from __future__ import annotations

from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from erp_recovery.model.money import to_decimal


class EvidenceWeights(BaseModel):
    """Confidence added by each kind of evidence (0 to 1)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    # references
    structured_reference: Decimal = Decimal("0.65")  # valid RF, RfrdDocInf number, our end-to-end id
    invoice_number: Decimal = Decimal("0.55")  # exact, distinctive (prefixed or >= 5 characters)
    invoice_number_short: Decimal = Decimal("0.35")  # exact but short and without a prefix
    invoice_number_typo: Decimal = Decimal("0.35")
    invoice_number_truncated: Decimal = Decimal("0.30")
    #: a payer/amount match whose item the remittance names mistyped or cut (no unique typo alone)
    reference_confirms: Decimal = Decimal("0.10")
    # payer
    iban_known: Decimal = Decimal("0.40")  # IBAN from the ERP, past allocations or decisions
    iban_learned: Decimal = Decimal("0.30")  # IBAN learned earlier in this run
    name_memory: Decimal = Decimal("0.35")
    name_strong: Decimal = Decimal("0.35")  # fuzzy score >= name_strong_score
    name_fair: Decimal = Decimal("0.25")  # fuzzy score >= name_threshold
    payer_conflict: Decimal = Decimal("-0.40")
    payer_agreement: Decimal = Decimal("0.05")  # IBAN and name point at the same customer
    # amounts, when references point at the items
    amount_exact_referenced: Decimal = Decimal("0.35")
    amount_tolerance_referenced: Decimal = Decimal("0.30")
    amount_subset_referenced: Decimal = Decimal("0.30")
    amount_partial_referenced: Decimal = Decimal("0.10")
    # amounts, among the identified payer's open items (no reference)
    amount_exact_unique: Decimal = Decimal("0.50")
    amount_subset_unique: Decimal = Decimal("0.50")
    #: no reference: a credit a little short of one item is often a coincidence among many items
    amount_tolerance_unique: Decimal = Decimal("0.35")
    #: ... unless the shortfall is a round amount, as bank charges are (multiple of 0.50; 0.10: -0.05)
    amount_tolerance_round: Decimal = Decimal("0.50")
    #: several open items of exactly the amount: legal imputation to the one due first (C. civ. 1342-10)
    amount_exact_imputed: Decimal = Decimal("0.50")
    #: several *combinations* of items fit: the oldest is proposed, for review
    amount_tie_oldest: Decimal = Decimal("0.30")
    amount_partial_oldest: Decimal = Decimal("0.15")
    overpayment: Decimal = Decimal("0.15")


class MatchSettings(BaseModel):
    """Knobs of the matching engine (``[matching]`` in the configuration)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    #: Bank charges / small differences accepted as a write-off: at most this much (currency units)...
    writeoff_max_absolute: Decimal = Decimal("30")
    #: ...and at most this share of the items settled.
    writeoff_max_relative: Decimal = Decimal("0.05")
    auto_threshold: Decimal = Decimal("0.85")
    suggest_threshold: Decimal = Decimal("0.50")
    #: rapidfuzz token-sort score (0-100) from which a payer name identifies a customer.
    name_threshold: float = 90.0
    name_strong_score: float = 95.0
    #: The best name must beat the next different customer by this much, else it is a tie (refused).
    name_margin: float = 4.0
    #: Shortest truncated payer name (normalised characters) accepted as a prefix of a customer name.
    name_min_prefix: int = 8
    #: Subset-sum bounds: oldest open items considered, items per combination, search nodes.
    subset_max_items: int = Field(default=24, ge=1, le=64)
    subset_max_size: int = Field(default=8, ge=1, le=20)
    subset_node_budget: int = Field(default=5000, ge=100)
    #: Credit notes of the payer considered for netting.
    subset_max_credit_notes: int = Field(default=4, ge=0, le=10)
    #: Invoice-number keys shorter than this (and without an invoice prefix) are weak evidence.
    short_reference_length: int = 5
    #: Shortest token checked for one typo / for a truncated invoice number.
    typo_min_length: int = 5
    truncated_min_length: int = 5
    #: Remittance lengths at which banks cut text (SEPA 140, legacy 35-character lines).
    truncation_lengths: tuple[int, ...] = (35, 70, 105, 140)
    #: An ERP payment booked within this many days of a bank credit of the same amount and payer is
    #: that credit (the ERP caught up); the credit is not matched again.
    erp_payment_window_days: int = 5
    #: A credit repeating an earlier payment (same payer, same amount) within this many days, when the
    #: items it points at are already settled, is flagged as a duplicate payment.
    duplicate_window_days: int = 60
    #: A credit with the same payer, amount and remittance text as one this many days before is a
    #: possible duplicate: never applied automatically.
    repeat_window_days: int = 10
    #: Settled invoices issued up to this many days before the first bank line are still read (a
    #: credit naming one is a duplicate payment); older settled ones are left out of the run.
    closed_items_days: int = Field(default=180, ge=0)
    #: Several open items of exactly the credit: imputed to the one due first (C. civ. 1342-10) unless
    #: it fell due this many days before the next one (left behind: disputed, forgotten...).
    imputation_gap_days: int = 60
    #: Explicit exchange rates, "USD/EUR" = how many EUR for 1 USD. Without a rate, never across currencies.
    exchange_rates: dict[str, Decimal] = Field(default_factory=dict)
    #: Payer names (normalised, upper case) or remittance phrases that are never customers.
    non_customer_patterns: tuple[str, ...] = (
        r"\bDGFIP\b",
        r"\bDIRECTION GENERALE DES FINANCES PUBLIQUES\b",
        r"\bTRESOR PUBLIC\b",
        r"\bSIE\b",
        r"\bURSSAF\b",
        r"\bIMPOTS?\b",
        r"\bREMBOURSEMENT (DE )?(CREDIT DE )?TVA\b",
        r"\bCREDIT (DE )?TVA\b",
        r"\bDEBLOCAGE\b",
        r"\bDEBLOCAGE (DE )?PRET\b",
        r"\bECHEANCE (DE )?PRET\b",
        r"\bBPIFRANCE\b",
        r"\bSUBVENTION\b",
        r"\bCPAM\b",
        r"\bASSURANCE MALADIE\b",
        r"\bFRANCE TRAVAIL\b",
        r"\bPOLE EMPLOI\b",
        r"\bINDEMNISATION\b",
        r"\bSINISTRE\b",
        r"\bVIREMENT INTERNE\b",
        r"\bREMISE CB\b",
        r"\bINTERETS CREDITEURS\b",
        r"\bAPPORT EN COMPTE COURANT\b",
    )
    #: Our own bank accounts (IBANs): a credit from one of them is an internal transfer.
    own_accounts: tuple[str, ...] = ()
    weights: EvidenceWeights = Field(default_factory=EvidenceWeights)

    @field_validator(
        "writeoff_max_absolute", "writeoff_max_relative", "auto_threshold", "suggest_threshold", mode="before"
    )
    @classmethod
    def _decimal(cls, value: object) -> Decimal:
        return to_decimal(value)

    @field_validator("exchange_rates", mode="before")
    @classmethod
    def _rates(cls, value: object) -> dict[str, Decimal]:
        if not isinstance(value, dict):
            raise ValueError('exchange_rates is a table like {"USD/EUR" = "0.92"}')
        rates: dict[str, Decimal] = {}
        for pair, rate in value.items():
            parts = str(pair).upper().split("/")
            if len(parts) != 2 or not all(len(code) == 3 and code.isalpha() for code in parts):
                raise ValueError(f"exchange rate key must look like 'USD/EUR', got {pair!r}")
            decimal_rate = to_decimal(rate)
            if decimal_rate <= 0:
                raise ValueError(f"exchange rate {pair} must be positive, got {rate!r}")
            rates["/".join(parts)] = decimal_rate
        return rates

    def rate(self, source: str, target: str) -> Decimal | None:
        """How many ``target`` for one ``source``, when configured (directly or inverted)."""
        if source == target:
            return Decimal(1)
        direct = self.exchange_rates.get(f"{source}/{target}")
        if direct is not None:
            return direct
        inverse = self.exchange_rates.get(f"{target}/{source}")
        if inverse is not None:
            return Decimal(1) / inverse
        return None

    def writeoff_allowed(self, settled: Decimal, received: Decimal) -> bool:
        """Whether ``settled - received`` (> 0) may be written off as bank charges."""
        difference = settled - received
        if difference <= 0:
            return difference == 0
        return difference <= self.writeoff_max_absolute and difference <= settled * self.writeoff_max_relative
