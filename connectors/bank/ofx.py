"""OFX 1.x (SGML) and 2.x (XML) bank and credit-card statements.

Spec: Open Financial Exchange 1.0.2 / 1.6 (SGML) and 2.1.1 / 2.2 (XML), chapter 11 "Banking":
``OFX/BANKMSGSRSV1/STMTTRNRS/{STATUS, STMTRS}`` and
``OFX/CREDITCARDMSGSRSV1/CCSTMTTRNRS/{STATUS, CCSTMTRS}``; ``STMTRS/{CURDEF,
BANKACCTFROM/{BANKID, BRANCHID, ACCTID, ACCTTYPE} | CCACCTFROM/ACCTID, BANKTRANLIST/{DTSTART,
DTEND, STMTTRN*}, LEDGERBAL/{BALAMT, DTASOF}}``; ``STMTTRN/{TRNTYPE, DTPOSTED, DTUSER, DTAVAIL,
TRNAMT (signed), FITID, CORRECTFITID, CORRECTACTION, CHECKNUM, REFNUM, NAME | PAYEE/NAME, MEMO,
BANKACCTTO/ACCTID, CURRENCY|ORIGCURRENCY/{CURRATE, CURSYM}}``.

Both versions go through one tokenizer (no DTD, no entity expansion beyond the five XML ones and
character references; a ``DOCTYPE`` is refused like in every bank XML): leaf elements may be left
unclosed (SGML), empty, or closed; aggregates are closed. Real-file leniency: a header with blank
lines or leading white space, no header at all, decimal commas (``-1006,60``, ``1.006,60``),
empty ``BALAMT``. Dates: ``YYYYMMDD[HHMMSS[.XXX]][[±h:TZ]]``, the date as written.

Identity: ``FITID`` goes to ``bank_reference`` (and ``references["FITID"]``); ``external_id``
follows the cross-format rule of :mod:`.identity`. A statement response whose ``STATUS`` is an
error (sign-on failure, server error) is refused with the bank's code and message, as are files
holding only investment statements (``INVSTMTRS``), which are not bank accounts.
OFX gives a closing balance (``LEDGERBAL``) but no opening balance: the balance check is
``unavailable`` and the implied opening balance is not invented.
"""

from __future__ import annotations

import datetime as dt
import html
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from erp_recovery.errors import ParseError
from erp_recovery.model import Money
from erp_recovery.textfiles import decode_bytes

from .balances import MovementTotal
from .builder import build_transaction, clean, counterparty_account_fields, join_texts
from .identity import IdentityAssigner, checked_iban, normalise_account
from .model import BalanceCheck, FileEvent, InputFile, ReadOptions, StatementSummary

NAME = "ofx"

_HEAD = re.compile(rb"OFXHEADER|<\?OFX|<OFX>", re.IGNORECASE)
_TOKEN = re.compile(
    r"<(/?)([A-Za-z0-9_.]+)\s*>|<!\[CDATA\[(.*?)\]\]>|<!--.*?-->|<\?.*?\?>|<!DOCTYPE", re.DOTALL
)
_DATE = re.compile(r"^\s*(\d{4})(\d{2})(\d{2})")
_ERROR_SEVERITIES = {"ERROR"}

#: Aggregates (elements with children) of the banking, credit-card and sign-on messages.
AGGREGATES = frozenset(
    [
        "OFX",
        "SIGNONMSGSRSV1",
        "SONRS",
        "STATUS",
        "FI",
        "BANKMSGSRSV1",
        "STMTTRNRS",
        "STMTRS",
        "BANKACCTFROM",
        "BANKACCTTO",
        "BANKTRANLIST",
        "STMTTRN",
        "PAYEE",
        "LEDGERBAL",
        "AVAILBAL",
        "BALLIST",
        "BAL",
        "CURRENCY",
        "ORIGCURRENCY",
        "CCACCTFROM",
        "CCACCTTO",
        "CREDITCARDMSGSRSV1",
        "CCSTMTTRNRS",
        "CCSTMTRS",
        "INVSTMTMSGSRSV1",
        "INVSTMTTRNRS",
        "INVSTMTRS",
        "INVACCTFROM",
        "INVTRANLIST",
        "INVPOSLIST",
        "INVBAL",
        "SECLISTMSGSRSV1",
        "SECLIST",
        "MKTGINFO",
        "SIGNUPMSGSRSV1",
        "ACCTINFORS",
        "ACCTINFOTRNRS",
        "ACCTINFO",
        "BANKACCTINFO",
        "CCACCTINFO",
        "INVACCTINFO",
        "STMTENDTRNRS",
        "STMTENDRS",
        "CLOSING",
        "IMAGEDATA",
        "EXTBANKDESC",
    ]
)
#: Elements that are always leaves, even when their text is empty.
LEAVES = frozenset(
    [
        "CODE",
        "SEVERITY",
        "MESSAGE",
        "DTSERVER",
        "LANGUAGE",
        "DTPROFUP",
        "ORG",
        "FID",
        "TRNUID",
        "CURDEF",
        "BANKID",
        "BRANCHID",
        "ACCTID",
        "ACCTTYPE",
        "ACCTKEY",
        "DTSTART",
        "DTEND",
        "TRNTYPE",
        "DTPOSTED",
        "DTUSER",
        "DTAVAIL",
        "TRNAMT",
        "FITID",
        "CORRECTFITID",
        "CORRECTACTION",
        "SRVRTID",
        "CHECKNUM",
        "REFNUM",
        "SIC",
        "PAYEEID",
        "NAME",
        "EXTDNAME",
        "MEMO",
        "CURRATE",
        "CURSYM",
        "BALAMT",
        "DTASOF",
        "INV401KSOURCE",
    ]
)


@dataclass
class _Node:
    name: str
    line: int
    text: str | None = None
    children: list[_Node] = field(default_factory=list)

    def child(self, name: str) -> _Node | None:
        for node in self.children:
            if node.name == name:
                return node
        return None

    def text_of(self, path: str) -> str | None:
        node: _Node | None = self
        for part in path.split("/"):
            node = node.child(part) if node is not None else None
        return clean(node.text) if node is not None else None

    def all(self, name: str) -> list[_Node]:
        return [node for node in self.children if node.name == name]

    def find_all(self, name: str) -> Iterator[_Node]:
        for node in self.children:
            if node.name == name:
                yield node
            yield from node.find_all(name)


def identify_head(head: bytes) -> bool:
    return bool(_HEAD.search(head[:4096]))


def _body_start(text: str, file: str) -> int:
    start = text.upper().find("<OFX>")
    if start < 0:
        raise ParseError("no <OFX> element: not an OFX file, or an empty one", file=file)
    return start


def parse_tree(text: str, *, file: str) -> _Node:
    """Tree of the ``<OFX>`` element; SGML leaves close themselves, aggregates must be closed."""
    start = _body_start(text, file)
    root = _Node(name="#document", line=1)
    stack: list[_Node] = [root]
    tokens = list(_TOKEN.finditer(text, start))
    closed_names = {match.group(2).upper() for match in tokens if match.group(1) and match.group(2)}
    line = text.count("\n", 0, start) + 1
    position = start
    for index, match in enumerate(tokens):
        line += text.count("\n", position, match.start())
        position = match.start()
        whole = match.group(0)
        if whole.upper().startswith("<!DOCTYPE"):
            raise ParseError(
                "OFX with a DOCTYPE declaration is refused (no DTD allowed)", file=file, line=line
            )
        if match.group(3) is not None or whole.startswith(("<!--", "<?")):
            continue
        closing, name = match.group(1), match.group(2).upper()
        if closing:
            for depth in range(len(stack) - 1, 0, -1):
                if stack[depth].name == name:
                    del stack[depth:]
                    break
            continue
        following = tokens[index + 1] if index + 1 < len(tokens) else None
        text_end = following.start() if following is not None else len(text)
        raw = text[match.end() : text_end]
        if following is not None and following.group(3) is not None:
            raw = following.group(3)
        node = _Node(name=name, line=line, text=html.unescape(raw.strip()) if raw.strip() else None)
        stack[-1].children.append(node)
        closes_now = following is not None and following.group(1) and following.group(2).upper() == name
        aggregate = name in AGGREGATES or (name not in LEAVES and name in closed_names and not node.text)
        if aggregate and not closes_now:
            node.text = None
            stack.append(node)
    ofx = root.child("OFX")
    if ofx is None:
        raise ParseError("no <OFX> element", file=file)
    if len(stack) > 1:
        open_names = "/".join(node.name for node in stack[1:])
        raise ParseError(f"truncated OFX: <{open_names}> is not closed", file=file, line=line)
    return ofx


class OfxReader:
    def __init__(self, infile: InputFile, options: ReadOptions) -> None:
        self.file = infile.name
        self.infile = infile
        self.options = options
        self.identity = IdentityAssigner()

    def events(self) -> Iterator[FileEvent]:
        with self.infile.opener() as stream:
            data = stream.read(self.options.max_bytes + 1)
        if len(data) > self.options.max_bytes:
            raise ParseError(f"file larger than the {self.options.max_bytes} bytes allowed", file=self.file)
        text, _encoding = decode_bytes(data, file=self.file)
        version = self._version(text)
        ofx = parse_tree(text, file=self.file)
        self._check_status(ofx.child("SIGNONMSGSRSV1"), "SONRS", "sign-on")
        responses = [*ofx.find_all("STMTTRNRS"), *ofx.find_all("CCSTMTTRNRS")]
        for response in responses:
            self._check_status(response, None, "statement")
        statements = [*ofx.find_all("STMTRS"), *ofx.find_all("CCSTMTRS")]
        if not statements and any(True for _ in ofx.find_all("INVSTMTRS")):
            raise ParseError(
                "OFX investment statements (INVSTMTRS) are not bank accounts; only bank and credit-card "
                "statements are imported",
                file=self.file,
            )
        for index, statement in enumerate(statements, start=1):
            yield from self._statement(statement, index, version)

    def _version(self, text: str) -> str:
        match = re.search(r"VERSION\s*[:=]\s*\"?(\d{3})", text[:2000])
        return f"ofx-{match.group(1)}" if match else "ofx"

    def _check_status(self, holder: _Node | None, child: str | None, what: str) -> None:
        if holder is None:
            return
        node = holder.child(child) if child else holder
        status = node.child("STATUS") if node is not None else None
        if status is None:
            return
        severity = (status.text_of("SEVERITY") or "").upper()
        code = status.text_of("CODE") or ""
        if severity in _ERROR_SEVERITIES or (code and code not in ("0", "1000") and severity != "INFO"):
            message = status.text_of("MESSAGE") or "no message"
            raise ParseError(
                f"the bank's OFX {what} response is an error (code {code}, {severity}): {message}",
                file=self.file,
                line=status.line,
                element="STATUS",
            )

    def _statement(self, statement: _Node, index: int, version: str) -> Iterator[FileEvent]:
        account_node = statement.child("BANKACCTFROM") or statement.child("CCACCTFROM")
        account_id = account_node.text_of("ACCTID") if account_node else None
        if not account_id:
            raise ParseError(
                f"{statement.name}[{index}] has no account (BANKACCTFROM/ACCTID or CCACCTFROM/ACCTID)",
                file=self.file,
                line=statement.line,
            )
        bank_id = account_node.text_of("BANKID") if account_node else None
        if checked_iban(account_id) or not bank_id:
            account = normalise_account(account_id)
        else:
            # BANKID/ACCTID; a German 8-digit BLZ with its account becomes the IBAN.
            account = normalise_account(f"{bank_id}/{account_id}")
        currency = statement.text_of("CURDEF")
        movements = MovementTotal()
        transactions = 0
        tranlist = statement.child("BANKTRANLIST")
        position_base = f"{statement.name}[{index}]"
        for number, node in enumerate(tranlist.all("STMTTRN") if tranlist else [], start=1):
            transactions += 1
            transaction = self._transaction(node, account, currency, f"{position_base}/STMTTRN[{number}]")
            movements.add(transaction.amount.amount, transaction.amount.currency)
            yield transaction
        ledger = statement.child("LEDGERBAL")
        closing = None
        closing_date = None
        balance_text = ledger.text_of("BALAMT") if ledger else None
        if balance_text:
            closing_currency = currency or movements.currency
            if closing_currency:
                closing = Money(
                    amount=_amount(balance_text, file=self.file, line=ledger.line if ledger else None),
                    currency=closing_currency,
                )
            closing_date = _date(ledger.text_of("DTASOF") if ledger else None, file=self.file, line=None)
        statement_id = "/".join(
            part
            for part in (
                account,
                tranlist.text_of("DTSTART") if tranlist else None,
                tranlist.text_of("DTEND") if tranlist else None,
            )
            if part
        )
        yield StatementSummary(
            format=version,
            statement_id=statement_id,
            account=account,
            currency=currency or movements.currency,
            closing_balance=closing,
            closing_date=closing_date,
            entry_count=transactions,
            transaction_count=transactions,
            movements=movements.money(currency),
            balance_check=BalanceCheck(
                status="unavailable",
                detail="OFX statements give a closing balance (LEDGERBAL) but no opening balance",
            ),
            source_file=self.file,
            source_position=position_base,
        )

    def _transaction(self, node: _Node, account: str, currency: str | None, position: str) -> Any:
        line = node.line
        amount_text = node.text_of("TRNAMT")
        if not amount_text:
            raise ParseError(
                "transaction without amount (TRNAMT)", file=self.file, line=line, element=position
            )
        amount = _amount(amount_text, file=self.file, line=line)
        posted = node.text_of("DTPOSTED")
        if not posted:
            raise ParseError(
                "transaction without posting date (DTPOSTED, required)",
                file=self.file,
                line=line,
                element=position,
            )
        booking_date = _date(posted, file=self.file, line=line)
        if booking_date is None:
            raise ParseError(f"invalid DTPOSTED {posted!r}", file=self.file, line=line, element=position)
        value_date = _date(node.text_of("DTAVAIL"), file=self.file, line=line)
        transaction_currency = (
            currency or node.text_of("CURRENCY/CURSYM") or node.text_of("ORIGCURRENCY/CURSYM")
        )
        if not transaction_currency:
            raise ParseError(
                "no currency (CURDEF or CURRENCY/CURSYM)", file=self.file, line=line, element=position
            )
        fitid = node.text_of("FITID")
        references: dict[str, str] = {}
        for name in (
            "FITID",
            "CORRECTFITID",
            "CORRECTACTION",
            "SRVRTID",
            "CHECKNUM",
            "REFNUM",
            "SIC",
            "PAYEEID",
        ):
            value = node.text_of(name)
            if value:
                references[name] = value
        user_date = node.text_of("DTUSER")
        if user_date:
            references["DTUSER"] = user_date
        payee = node.text_of("NAME") or node.text_of("PAYEE/NAME") or node.text_of("EXTDNAME")
        memo = node.text_of("MEMO")
        counterparty_account = node.text_of("BANKACCTTO/ACCTID") or node.text_of("CCACCTTO/ACCTID")
        fields: dict[str, Any] = {
            "external_id": self.identity.entry_id(account, booking_date, amount, transaction_currency),
            "account": account,
            "booking_date": booking_date,
            "value_date": value_date,
            "amount": Money(amount=amount, currency=transaction_currency),
            "status": "booked",
            "counterparty_name": payee,
            "remittance": memo or payee,
            "bank_reference": fitid,
            "transaction_code": node.text_of("TRNTYPE"),
            "references": references,
            "statement_id": None,
            "source_file": self.file,
            "source_position": position,
            "source_refs": {"line": str(line)},
        }
        if memo and payee and payee not in memo:
            fields["remittance"] = join_texts(payee, memo)
        fields.update(counterparty_account_fields(counterparty_account))
        return build_transaction(fields, file=self.file, line=line)


def _amount(text: str, *, file: str, line: int | None) -> Decimal:
    """Signed OFX amount; accepts ``+``, decimal commas and thousands separators."""
    value = text.strip().replace(" ", "")
    if "," in value and "." in value:
        comma_is_decimal = value.rfind(",") > value.rfind(".")
        value = value.replace(".", "").replace(",", ".") if comma_is_decimal else value.replace(",", "")
    elif "," in value:
        value = value.replace(",", ".")
    if not re.fullmatch(r"[+-]?\d*\.?\d+|[+-]?\d+\.", value):
        raise ParseError(f"not an OFX amount: {text!r}", file=file, line=line)
    try:
        return Decimal(value)
    except InvalidOperation:
        raise ParseError(f"not an OFX amount: {text!r}", file=file, line=line) from None


def _date(text: str | None, *, file: str, line: int | None) -> dt.date | None:
    """``YYYYMMDD...``: the date as written (time and time zone ignored); ``00000000`` is none."""
    if not text:
        return None
    match = _DATE.match(text)
    if match is None:
        raise ParseError(f"not an OFX date: {text!r}", file=file, line=line)
    if match.group(1) == "0000":
        return None
    try:
        return dt.date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
    except ValueError:
        raise ParseError(f"not a calendar date: {text!r}", file=file, line=line) from None


def read(infile: InputFile, options: ReadOptions | None = None) -> Iterator[FileEvent]:
    """Transactions and statement summaries of an OFX file (read whole: OFX files are small)."""
    return OfxReader(infile, options or ReadOptions()).events()
