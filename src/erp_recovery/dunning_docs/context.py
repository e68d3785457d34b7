"""What a letter template receives: creditor, debtor, items with their charges, totals, dates.

Templates get plain values (Money, Decimal, date, str) and format them with the filters of
:mod:`.formatting` (``{{ item.outstanding|money }}``, ``{{ deadline|date }}``). The context is
documented here because it is the contract a user template relies on:

``creditor``  name, siren, vat_number, address_lines, city, iban, bic, email, phone
``debtor``    id, name, siren, address_lines, email, phone, consumer (bool)
``level``     code, label, kind (reminder / formal_notice / escalation), channels
``date``      sending date; ``deadline`` payment deadline (or None); ``deadline_days``
``reference`` reference of the communication, to quote when paying
``items``     number, kind (invoice / instalment), issue_date, due_date, total, outstanding,
              days_late, interest, fee, rates [(half-year, rate)], interest_start, plan_id, seq, of
``credits``   number, issue_date, amount (open credit notes deducted)
``totals``    currency, principal, interest, fees, credits, total (one per currency)
``fee_count`` invoices bearing the fixed recovery fee; ``fee_amount`` the fee per invoice (Money)
``interest_rule`` / ``interest_source`` / ``fee_source``: the legal basis as the rules engine states it
``previous``  earlier letters and e-mails about these items: [(label, date)], oldest first
``consumer``  the debtor is a consumer (B2C)
``channel``   the channel this copy is for (email, letter, registered_letter)
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from erp_recovery.engines.dunning.plan import PlannedCommunication
from erp_recovery.engines.dunning.policy import PolicySet
from erp_recovery.model.money import Money
from erp_recovery.model.records import Address, Company, Customer


@dataclass(frozen=True)
class Party:
    id: str
    name: str
    siren: str | None
    vat_number: str | None
    address_lines: tuple[str, ...]
    city: str | None
    email: str | None
    phone: str | None
    iban: str | None = None
    bic: str | None = None
    consumer: bool = False


def _lines(address: Address | None) -> tuple[str, ...]:
    return tuple(address.lines()) if address else ()


def creditor(company: Company) -> Party:
    return Party(
        id=company.code,
        name=company.name,
        siren=company.siren,
        vat_number=company.vat_number,
        address_lines=_lines(company.address),
        city=company.address.city if company.address else None,
        email=company.email,
        phone=company.phone,
        iban=company.iban,
        bic=company.bic,
    )


def debtor(customer: Customer) -> Party:
    return Party(
        id=customer.external_id,
        name=customer.name,
        siren=customer.siren,
        vat_number=customer.vat_number,
        address_lines=_lines(customer.address),
        city=customer.address.city if customer.address else None,
        email=customer.email,
        phone=customer.phone,
        consumer=customer.is_consumer,
    )


def communication_reference(communication: PlannedCommunication) -> str:
    """One communication per customer and day: the customer and the date identify it."""
    return f"{communication.customer_id}-{communication.send_on:%Y%m%d}"


def letter_context(
    communication: PlannedCommunication,
    company: Company,
    *,
    channel: str,
    policies: PolicySet | None = None,
) -> dict[str, Any]:
    items: list[dict[str, Any]] = []
    all_rates: set[Decimal] = set()
    fee_count = 0
    fee_amount: Money | None = None
    interest_rule = interest_source = fee_source = ""
    for item in communication.items:
        charges = item.charges
        rates: list[tuple[str, Decimal]] = list(charges.rate_periods) if charges else []
        all_rates.update(rate for _, rate in rates)
        if charges is not None:
            interest_rule, interest_source, fee_source = (
                charges.interest_rule,
                charges.interest_source,
                charges.fee_source,
            )
            if charges.fixed_fee is not None:
                fee_count += 1
                fee_amount = charges.fixed_fee
        items.append(
            {
                "key": item.key,
                "number": item.number,
                "kind": item.kind,
                "issue_date": item.issue_date,
                "due_date": item.due_date,
                "total": item.total,
                "outstanding": item.outstanding,
                "days_late": item.days_late,
                "interest": charges.interest if charges else None,
                "fee": charges.fixed_fee if charges else None,
                "rates": rates,
                "interest_start": charges.interest_start if charges else None,
                "plan_id": item.plan_id,
                "seq": item.seq,
                "of": item.of,
                "payment_reference": item.invoice.payment_reference if item.invoice else None,
            }
        )
    labels: dict[str, str] = {}
    escalations: set[str] = set()
    if policies is not None and communication.policy in policies.policies:
        levels = policies.policies[communication.policy].levels
        labels = {level.code: level.label for level in levels}
        escalations = {level.code for level in levels if level.kind == "escalation"}
    # Earlier letters and e-mails about these items (an escalation dossier is not one).
    previous = sorted(
        {
            (labels.get(code, code), day)
            for item in communication.items
            for code, day in item.previous
            if code not in escalations
        },
        key=lambda pair: (pair[1], pair[0]),
    )
    return {
        "lang": communication.language,
        "creditor": creditor(company),
        "debtor": debtor(communication.customer),
        "level": {
            "code": communication.level.code,
            "label": communication.level.label,
            "kind": communication.level.kind,
            "channels": communication.channels,
        },
        "date": communication.send_on,
        "deadline": communication.deadline,
        "deadline_days": communication.level.deadline_days,
        "reference": communication_reference(communication),
        "items": items,
        "credits": [
            {"number": credit.number, "issue_date": credit.issue_date, "amount": credit.residual}
            for credit in communication.credits
        ],
        "totals": communication.totals(),
        "fee_count": fee_count,
        "fee_amount": fee_amount,
        "rates": sorted(all_rates),
        "interest_rule": interest_rule,
        "interest_source": interest_source,
        "fee_source": fee_source,
        "previous": previous,
        "consumer": communication.customer.is_consumer,
        "channel": channel,
        "has_instalments": any(item["kind"] == "instalment" for item in items),
    }
