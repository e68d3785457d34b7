"""camt.053.001.08 statements of the weeks after the cut-off (one file per week).

Layout (ISO 20022 ``BankToCustomerStatementV08``): ``GrpHdr``; per statement ``Id``, ``CreDtTm``,
``FrToDt``, ``Acct/Id/IBAN``, ``Acct/Ccy``, balances ``OPBD``/``CLBD`` that reconcile with the
entries; per ``Ntry``: ``NtryRef``, ``Amt@Ccy``, ``CdtDbtInd``, ``Sts/Cd`` = ``BOOK``, ``BookgDt/Dt``,
``ValDt/Dt``, ``AcctSvcrRef``, ``BkTxCd/Domn``, and ``NtryDtls/TxDtls`` with ``Refs/EndToEndId``,
``Amt``, ``RltdPties/{Dbtr,Cdtr}/Pty/Nm`` and ``{Dbtr,Cdtr}Acct/Id/IBAN``, ``RmtInf/Ustrd`` or
``RmtInf/Strd`` (``RfrdDocInf/Nb`` with type ``CINV``, ``CdtrRefInf/Ref`` of type ``SCOR``);
``AddtlNtryInf`` as French banks write it.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from xml.sax.saxutils import escape

from .statements import BankDetail, BankLine
from .world import World

NAMESPACE = "urn:iso:std:iso:20022:tech:xsd:camt.053.001.08"


def _amount(cents: int) -> str:
    cents = abs(cents)
    return f"{cents // 100}.{cents % 100:02d}"


def _detail_xml(detail: BankDetail, credit: bool, index: int, line: BankLine) -> str:
    party = "Dbtr" if credit else "Cdtr"
    parts = [
        "<TxDtls>",
        "<Refs>",
        f"<AcctSvcrRef>{line.acct_svcr_ref}-{index}</AcctSvcrRef>",
        f"<EndToEndId>{escape(detail.end_to_end or 'NOTPROVIDED')}</EndToEndId>",
        "</Refs>",
        f'<Amt Ccy="EUR">{_amount(detail.cents)}</Amt>',
        f"<CdtDbtInd>{'CRDT' if credit else 'DBIT'}</CdtDbtInd>",
    ]
    if detail.party_name or detail.party_iban:
        parts.append("<RltdPties>")
        if detail.party_name:
            parts.append(f"<{party}><Pty><Nm>{escape(detail.party_name)}</Nm></Pty></{party}>")
        if detail.party_iban:
            parts.append(f"<{party}Acct><Id><IBAN>{detail.party_iban}</IBAN></Id></{party}Acct>")
        parts.append("</RltdPties>")
    structured = detail.referred_documents or detail.creditor_reference
    if detail.ustrd or structured:
        parts.append("<RmtInf>")
        if detail.ustrd:
            parts.append(f"<Ustrd>{escape(detail.ustrd)}</Ustrd>")
        for number in detail.referred_documents:
            parts.append(
                "<Strd><RfrdDocInf><Tp><CdOrPrtry><Cd>CINV</Cd></CdOrPrtry></Tp>"
                f"<Nb>{escape(number)}</Nb></RfrdDocInf></Strd>"
            )
        if detail.creditor_reference:
            parts.append(
                "<Strd><CdtrRefInf><Tp><CdOrPrtry><Cd>SCOR</Cd></CdOrPrtry><Issr>ISO</Issr></Tp>"
                f"<Ref>{detail.creditor_reference}</Ref></CdtrRefInf></Strd>"
            )
        parts.append("</RmtInf>")
    parts.append("</TxDtls>")
    return "".join(parts)


def _entry_xml(line: BankLine) -> str:
    credit = line.cents > 0
    domain, family, sub = line.family
    details = "".join(
        _detail_xml(detail, credit, index, line) for index, detail in enumerate(line.details, 1)
    )
    batch = ""
    if line.is_batch:
        batch = (
            f'<Btch><NbOfTxs>{len(line.details)}</NbOfTxs><TtlAmt Ccy="EUR">{_amount(line.cents)}</TtlAmt>'
            f"<CdtDbtInd>{'CRDT' if credit else 'DBIT'}</CdtDbtInd></Btch>"
        )
    additional = f"<AddtlNtryInf>{escape(line.additional)}</AddtlNtryInf>" if line.additional else ""
    return (
        "<Ntry>"
        f"<NtryRef>{line.acct_svcr_ref[-7:]}</NtryRef>"
        f'<Amt Ccy="EUR">{_amount(line.cents)}</Amt>'
        f"<CdtDbtInd>{'CRDT' if credit else 'DBIT'}</CdtDbtInd>"
        "<Sts><Cd>BOOK</Cd></Sts>"
        f"<BookgDt><Dt>{line.booking.isoformat()}</Dt></BookgDt>"
        f"<ValDt><Dt>{line.booking.isoformat()}</Dt></ValDt>"
        f"<AcctSvcrRef>{line.acct_svcr_ref}</AcctSvcrRef>"
        f"<BkTxCd><Domn><Cd>{domain}</Cd><Fmly><Cd>{family}</Cd><SubFmlyCd>{sub}</SubFmlyCd></Fmly></Domn></BkTxCd>"
        f"<NtryDtls>{batch}{details}</NtryDtls>"
        f"{additional}"
        "</Ntry>"
    )


def _balance(code: str, cents: int, day: dt.date) -> str:
    return (
        f"<Bal><Tp><CdOrPrtry><Cd>{code}</Cd></CdOrPrtry></Tp>"
        f'<Amt Ccy="EUR">{_amount(cents)}</Amt><CdtDbtInd>{"CRDT" if cents >= 0 else "DBIT"}</CdtDbtInd>'
        f"<Dt><Dt>{day.isoformat()}</Dt></Dt></Bal>"
    )


def write_statements(
    world: World, lines: list[BankLine], folder: Path, opening_cents: int = 25_000_000
) -> list[Path]:
    """One camt.053 file per week after the cut-off; returns their paths."""
    paths: list[Path] = []
    balance = opening_cents
    start = world.cutoff + dt.timedelta(days=1)
    week = 0
    while start <= world.end:
        week += 1
        stop = min(start + dt.timedelta(days=6), world.end)
        entries = [line for line in lines if start <= line.booking <= stop]
        closing = balance + sum(line.cents for line in entries)
        created = f"{stop + dt.timedelta(days=1):%Y-%m-%d}T06:00:00"
        body = "".join(_entry_xml(line) for line in entries)
        credits = [line for line in entries if line.cents > 0]
        debits = [line for line in entries if line.cents < 0]
        credit_sum = _amount(sum(line.cents for line in credits))
        debit_sum = _amount(sum(line.cents for line in debits))
        xml = (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            f'<Document xmlns="{NAMESPACE}"><BkToCstmrStmt>'
            f"<GrpHdr><MsgId>STMT{stop:%Y%m%d}{week:03d}</MsgId><CreDtTm>{created}</CreDtTm></GrpHdr>"
            f"<Stmt><Id>{world.siren}-{stop:%Y%m%d}</Id><ElctrncSeqNb>{week}</ElctrncSeqNb>"
            f"<CreDtTm>{created}</CreDtTm>"
            f"<FrToDt><FrDtTm>{start.isoformat()}T00:00:00</FrDtTm><ToDtTm>{stop.isoformat()}T23:59:59</ToDtTm></FrToDt>"
            f"<Acct><Id><IBAN>{world.account_iban}</IBAN></Id><Ccy>EUR</Ccy>"
            f"<Ownr><Nm>{escape(world.company_name.upper())}</Nm></Ownr></Acct>"
            f"{_balance('OPBD', balance, start - dt.timedelta(days=1))}{_balance('CLBD', closing, stop)}"
            "<TxsSummry>"
            f"<TtlNtries><NbOfNtries>{len(entries)}</NbOfNtries></TtlNtries>"
            f"<TtlCdtNtries><NbOfNtries>{len(credits)}</NbOfNtries><Sum>{credit_sum}</Sum></TtlCdtNtries>"
            f"<TtlDbtNtries><NbOfNtries>{len(debits)}</NbOfNtries><Sum>{debit_sum}</Sum></TtlDbtNtries>"
            "</TxsSummry>"
            f"{body}</Stmt></BkToCstmrStmt></Document>\n"
        )
        path = folder / f"camt053_{world.account_iban}_{stop:%Y%m%d}.xml"
        path.write_text(xml, encoding="utf-8")
        paths.append(path)
        balance = closing
        start = stop + dt.timedelta(days=1)
    return paths
