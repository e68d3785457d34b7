"""Generate a realistic, valid FEC of any size for benchmarks (and big-file tests).

The ``realistic`` mix follows a services/trading SME and matches the share of customer-account
lines of the public sample ``neolegal__0000000001FEC20220831`` (about one line in ten): sales
entries (411 debit, two revenue lines, output VAT), customer payments on the bank (512 debit, 411
credit) lettered with their invoice (one in ten pays half and stays partially lettered), supplier
invoices and payments, payroll entries and bank fees. The ``sales`` mix has only sales, payments
and purchases (about one line in four on a customer account): a worst case for the derivation.
Amounts are zero-padded with a decimal comma, as several accounting packages write them.
"""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path

HEADER = (
    "JournalCode\tJournalLib\tEcritureNum\tEcritureDate\tCompteNum\tCompteLib\tCompAuxNum\tCompAuxLib\t"
    "PieceRef\tPieceDate\tEcritureLib\tDebit\tCredit\tEcritureLet\tDateLet\tValidDate\tMontantdevise\tIdevise\n"
)


def _letters(number: int) -> str:
    code = ""
    number += 26 * 26  # at least three letters, like most packages
    while number:
        number, rest = divmod(number, 26)
        code = chr(65 + rest) + code
    return code


def _amount(cents: int) -> str:
    return f"{cents // 100:010d},{cents % 100:02d}"


#: Probability of each kind of entry, per mix (the rest are supplier invoices).
MIXES = {
    "realistic": {"sale": 0.25, "supplier_payment": 0.15, "payroll": 0.15, "bank_fee": 0.10},
    "sales": {"sale": 0.55, "supplier_payment": 0.0, "payroll": 0.0, "bank_fee": 0.0},
}


def generate_fec(
    path: Path, lines: int, *, customers: int = 5000, seed: int = 7, mix: str = "realistic"
) -> dict[str, int]:
    """Write a FEC of about ``lines`` lines to ``path``; return counts of what it holds."""
    weights = MIXES[mix]
    sale_cut = weights["sale"]
    supplier_cut = sale_cut + weights["supplier_payment"]
    payroll_cut = supplier_cut + weights["payroll"]
    fee_cut = payroll_cut + weights["bank_fee"]
    rng = random.Random(seed)
    start = dt.date(2023, 1, 1)
    counts = {"lines": 0, "invoices": 0, "payments": 0, "receivable_lines": 0, "debit_cents": 0}
    next_letter = [0] * customers
    entry = 0
    written = 0
    with path.open("w", encoding="utf-8", newline="") as out:
        out.write(HEADER)
        zero = _amount(0)
        while written < lines:
            entry += 1
            day = start + dt.timedelta(days=(entry * 365) // max(lines // 2, 1) % 365)
            date = day.strftime("%Y%m%d")
            kind = rng.random()
            if kind < sale_cut:
                customer = rng.randrange(customers)
                aux = f"C{customer:06d}"
                net = rng.randrange(1000, 500000)
                vat = net // 5
                gross = net + vat
                piece = f"FA{entry:08d}"
                paid = rng.random() < 0.8
                letter = ""
                if paid:
                    letter = _letters(next_letter[customer])
                    next_letter[customer] += 1
                goods = net // 3
                out.write(
                    f"VE\tVentes\t{entry}\t{date}\t411000\tClients\t{aux}\tClient {aux}\t{piece}\t{date}\t"
                    f"Facture {piece}\t{_amount(gross)}\t{zero}\t{letter}\t\t{date}\t\t\n"
                    f"VE\tVentes\t{entry}\t{date}\t706000\tPrestations de services\t\t\t{piece}\t{date}\t"
                    f"Facture {piece}\t{zero}\t{_amount(net - goods)}\t\t\t{date}\t\t\n"
                    f"VE\tVentes\t{entry}\t{date}\t707000\tVentes de marchandises\t\t\t{piece}\t{date}\t"
                    f"Facture {piece}\t{zero}\t{_amount(goods)}\t\t\t{date}\t\t\n"
                    f"VE\tVentes\t{entry}\t{date}\t445710\tTVA collectée\t\t\t{piece}\t{date}\t"
                    f"Facture {piece}\t{zero}\t{_amount(vat)}\t\t\t{date}\t\t\n"
                )
                written += 4
                counts["receivable_lines"] += 1
                counts["invoices"] += 1
                counts["debit_cents"] += 2 * gross
                if paid:
                    entry += 1
                    paid_cents = gross if rng.random() < 0.9 else gross // 2
                    reference = f"VIR{entry:08d}"
                    out.write(
                        f"BQ\tBanque\t{entry}\t{date}\t512000\tBanque\t\t\t{reference}\t{date}\t"
                        f"Virement {aux}\t{_amount(paid_cents)}\t{zero}\t\t\t{date}\t\t\n"
                        f"BQ\tBanque\t{entry}\t{date}\t411000\tClients\t{aux}\tClient {aux}\t{reference}\t{date}\t"
                        f"Virement {aux}\t{zero}\t{_amount(paid_cents)}\t{letter}\t{date}\t{date}\t\t\n"
                    )
                    written += 2
                    counts["payments"] += 1
                    counts["receivable_lines"] += 1
                    counts["debit_cents"] += paid_cents
            elif kind < supplier_cut:
                supplier = f"F{rng.randrange(800):05d}"
                cents = rng.randrange(1000, 300000)
                out.write(
                    f"BQ\tBanque\t{entry}\t{date}\t401000\tFournisseurs\t{supplier}\tFournisseur {supplier}\t"
                    f"PR{entry:08d}\t{date}\tPrélèvement {supplier}\t{_amount(cents)}\t{zero}\t\t\t{date}\t\t\n"
                    f"BQ\tBanque\t{entry}\t{date}\t512000\tBanque\t\t\tPR{entry:08d}\t{date}\t"
                    f"Prélèvement {supplier}\t{zero}\t{_amount(cents)}\t\t\t{date}\t\t\n"
                )
                written += 2
                counts["debit_cents"] += cents
            elif kind < payroll_cut:
                gross = rng.randrange(150000, 600000)
                employee = gross // 5
                employer = gross // 3
                net = gross - employee
                piece = f"PAIE{entry:07d}"
                out.write(
                    f"OD\tOpérations diverses\t{entry}\t{date}\t641000\tSalaires\t\t\t{piece}\t{date}\t"
                    f"Paie\t{_amount(gross)}\t{zero}\t\t\t{date}\t\t\n"
                    f"OD\tOpérations diverses\t{entry}\t{date}\t645000\tCharges sociales\t\t\t{piece}\t{date}\t"
                    f"Paie\t{_amount(employer)}\t{zero}\t\t\t{date}\t\t\n"
                    f"OD\tOpérations diverses\t{entry}\t{date}\t421000\tPersonnel\t\t\t{piece}\t{date}\t"
                    f"Paie\t{zero}\t{_amount(net)}\t\t\t{date}\t\t\n"
                    f"OD\tOpérations diverses\t{entry}\t{date}\t431000\tURSSAF\t\t\t{piece}\t{date}\t"
                    f"Paie\t{zero}\t{_amount(employee + employer)}\t\t\t{date}\t\t\n"
                )
                written += 4
                counts["debit_cents"] += gross + employer
            elif kind < fee_cut:
                fee = rng.randrange(100, 5000)
                vat = fee // 5
                out.write(
                    f"BQ\tBanque\t{entry}\t{date}\t627000\tFrais bancaires\t\t\tFRAIS\t{date}\t"
                    f"Frais\t{_amount(fee)}\t{zero}\t\t\t{date}\t\t\n"
                    f"BQ\tBanque\t{entry}\t{date}\t445660\tTVA déductible\t\t\tFRAIS\t{date}\t"
                    f"Frais\t{_amount(vat)}\t{zero}\t\t\t{date}\t\t\n"
                    f"BQ\tBanque\t{entry}\t{date}\t512000\tBanque\t\t\tFRAIS\t{date}\t"
                    f"Frais\t{zero}\t{_amount(fee + vat)}\t\t\t{date}\t\t\n"
                )
                written += 3
                counts["debit_cents"] += fee + vat
            else:
                supplier = f"F{rng.randrange(800):05d}"
                net = rng.randrange(1000, 300000)
                vat = net // 5
                piece = f"AC{entry:08d}"
                out.write(
                    f"AC\tAchats\t{entry}\t{date}\t401000\tFournisseurs\t{supplier}\tFournisseur {supplier}\t{piece}\t"
                    f"{date}\tFacture {piece}\t{zero}\t{_amount(net + vat)}\t\t\t{date}\t\t\n"
                    f"AC\tAchats\t{entry}\t{date}\t607000\tAchats de marchandises\t\t\t{piece}\t{date}\t"
                    f"Facture {piece}\t{_amount(net)}\t{zero}\t\t\t{date}\t\t\n"
                    f"AC\tAchats\t{entry}\t{date}\t445660\tTVA déductible\t\t\t{piece}\t{date}\t"
                    f"Facture {piece}\t{_amount(vat)}\t{zero}\t\t\t{date}\t\t\n"
                )
                written += 3
                counts["debit_cents"] += net + vat
    counts["lines"] = written
    return counts
