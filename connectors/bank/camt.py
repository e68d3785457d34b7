"""ISO 20022 bank-to-customer cash management: camt.052, camt.053 and camt.054 (versions .02 to .10).

Spec: ISO 20022 message definitions ``BankToCustomerAccountReportV02..`` (camt.052),
``BankToCustomerStatementV02..`` (camt.053) and ``BankToCustomerDebitCreditNotificationV02..``
(camt.054); message layout ``Document/{BkToCstmrAcctRpt/Rpt | BkToCstmrStmt/Stmt |
BkToCstmrDbtCdtNtfctn/Ntfctn}``, all three sharing the statement layout read here.

Namespace-agnostic: elements are matched on the namespace of the document (any version, the
legacy ``ISO:camt.053.001.02`` form, or none at all), and the version is recorded in the format
name (``camt.053.001.08``). The file is streamed (``iterparse``); each ``Ntry`` is released once
read, and only the elements on the paths read below are visited. Files of 8 MiB and more are
parsed in a helper process while this one builds the records (:mod:`.pipeline`).

Per statement: ``Id``, ``Acct/Id/{IBAN | Othr/Id}``, ``Acct/Ccy``, balances ``Bal`` (opening
``OPBD`` else ``PRCD`` else first ``ITBD``; closing ``CLBD`` else last ``ITBD``), control totals
``TxsSummry`` (reported when they disagree).

Per entry ``Ntry``: ``Amt@Ccy`` + ``CdtDbtInd`` (sign), ``RvslInd``, ``Sts`` (text in .02-.04,
``Sts/Cd`` from .08), ``BookgDt`` / ``ValDt`` (``Dt`` or ``DtTm``; the date as written),
``AcctSvcrRef``, ``NtryRef``, ``BkTxCd`` (``Domn/Cd-Fmly/Cd-SubFmlyCd``, ``Prtry/Cd``),
``AddtlNtryInf``, ``NtryDtls/Btch`` and every ``NtryDtls/TxDtls``:

- ``Refs``: ``EndToEndId`` (``NOTPROVIDED`` dropped), ``MndtId``, ``InstrId``, ``TxId``,
  ``PmtInfId``, ``MsgId``, ``UETR``, ``ChqNb``, ``AcctSvcrRef``, proprietary ``Prtry/{Tp,Ref}``;
- amount chain ``TxDtls/Amt`` → ``AmtDtls/TxAmt/Amt`` → entry ``Amt``; ``AmtDtls/InstdAmt`` as
  the original (foreign-currency) amount;
- parties ``RltdPties/{Dbtr,Cdtr,UltmtDbtr,UltmtCdtr}`` with ``Nm`` (.02-.04) or ``Pty/Nm`` (.08+)
  or ``Agt/FinInstnId/Nm`` (financial institutions), accounts ``{Dbtr,Cdtr}Acct/Id/{IBAN,Othr/Id}``,
  agents ``RltdAgts/{Dbtr,Cdtr}Agt/FinInstnId/{BIC,BICFI}``. The counterparty of a credit is the
  debtor, of a debit the creditor (and the other way round for a reversal);
- remittance ``RmtInf/Ustrd`` (joined), ``RmtInf/Strd/CdtrRefInf/Ref`` (RF references validated),
  ``Strd/RfrdDocInf/Nb`` (invoice numbers), ``Strd/AddtlRmtInf``; ``AddtlTxInf``;
- returns ``RtrInf/Rsn/{Cd,Prtry}``.

One booking, one transaction — except a batch entry whose ``TxDtls`` (two or more) add up exactly
to the entry amount in its currency: it becomes one transaction per detail (ids ``<entry id>/<n>``,
``bank_reference`` = the entry's ``AcctSvcrRef``, ``references["TxDtls"]`` = ``n``). Details that do
not add up stay one transaction with the entry amount, and a warning says so. A single ``TxDtls``
never overrides the entry amount (public samples carry ``TxDtls/Amt`` = ``0 SEK`` inside an
``8.85 EUR`` entry); a differing currency goes to ``original_amount``.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from lxml import etree

from erp_recovery.errors import ParseError
from erp_recovery.model import BankTransaction, Money

from . import pipeline, safe_xml
from .balances import MovementTotal, check_balances, enforce
from .builder import build_transaction, clean, counterparty_account_fields, join_texts, structured_reference
from .identity import IdentityAssigner, normalise_account
from .model import FileEvent, InputFile, ReadOptions, StatementSummary

NAME = "camt"

#: Message root → (message name, statement element).
MESSAGES: dict[str, tuple[str, str]] = {
    "BkToCstmrAcctRpt": ("camt.052", "Rpt"),
    "BkToCstmrStmt": ("camt.053", "Stmt"),
    "BkToCstmrDbtCdtNtfctn": ("camt.054", "Ntfctn"),
}
_STATEMENT_TAGS = frozenset(element for _message, element in MESSAGES.values())
_VERSION = re.compile(r"camt\.(05[234])\.001\.(\d{2})")
_HEAD = re.compile(rb"camt\.05[234]|<(?:\w+:)?BkToCstmr(?:Stmt|AcctRpt|DbtCdtNtfctn)\b")
_AMOUNT = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*$")
_STATUS = {"BOOK": "booked", "PDNG": "pending", "INFO": "info", "FUTR": "pending"}
_REFERENCE_NAMES = (
    "MsgId",
    "AcctSvcrRef",
    "PmtInfId",
    "InstrId",
    "TxId",
    "MndtId",
    "ChqNb",
    "ClrSysRef",
    "AcctOwnrTxId",
    "AcctSvcrTxId",
    "MktInfrstrctrTxId",
    "PrcgId",
    "UETR",
)


def identify_head(head: bytes) -> bool:
    """A camt document names its message in the namespace or the root element."""
    return head.lstrip()[:1] in (b"<", b"\xef") and bool(_HEAD.search(head))


class _Paths:
    """Element paths qualified with the document's namespace (or none)."""

    def __init__(self, namespace: str) -> None:
        self.prefix = f"{{{namespace}}}" if namespace else ""
        self._cache: dict[str, str] = {}

    def __call__(self, path: str) -> str:
        qualified = self._cache.get(path)
        if qualified is None:
            qualified = "/".join(self.prefix + part for part in path.split("/"))
            self._cache[path] = qualified
        return qualified


@dataclass
class _Statement:
    """State of the statement being read."""

    kind: str
    index: int
    line: int | None
    header_read: bool = False
    statement_id: str | None = None
    account: str = ""
    currency: str | None = None
    created: dt.date | None = None
    opening: Money | None = None
    opening_date: dt.date | None = None
    closing: Money | None = None
    closing_date: dt.date | None = None
    control_count: int | None = None
    control_net: Decimal | None = None
    movements: MovementTotal = field(default_factory=MovementTotal)
    entries: int = 0
    transactions: int = 0
    warnings: list[str] = field(default_factory=list)


class CamtReader:
    """Reads one camt document; :meth:`events` yields transactions and statement summaries."""

    def __init__(self, infile: InputFile, options: ReadOptions) -> None:
        self.file = infile.name
        self.infile = infile
        self.options = options
        self.group_created: dt.date | None = None
        self.identity = IdentityAssigner()
        root = safe_xml.root_tag(infile.head(safe_xml.PROLOG_LIMIT), file=self.file)
        namespace = root[1:].split("}", 1)[0] if root.startswith("{") else ""
        if safe_xml.local_name(root) != "Document":
            raise ParseError(
                f"not an ISO 20022 camt document: root element is <{safe_xml.local_name(root)}>, "
                "expected <Document>",
                file=self.file,
            )
        self.paths = _Paths(namespace)
        self.entry_paths = _path_tree(self.paths.prefix, _ENTRY_PATHS, (_DETAIL_ELEMENT,))
        self.detail_paths = _path_tree(self.paths.prefix, _DETAIL_PATHS)
        version = _VERSION.search(namespace)
        self.version = f"camt.{version.group(1)}.001.{version.group(2)}" if version else None
        self.message = f"camt.{version.group(1)}" if version else "camt"
        self.format = self.version or self.message

    # -- document -------------------------------------------------------------------------------

    def events(self) -> Iterator[FileEvent]:
        """Transactions and statement summaries, in file order.

        The document is parsed by :meth:`_parsed` (XML, statement headers, entries' leaf texts),
        in a helper process for large files (:mod:`.pipeline`), and turned into canonical records
        here.
        """
        size = self.infile.size
        if size is not None and size >= self.options.pipeline_min_bytes and pipeline.available():
            parsed: Iterator[tuple[Any, ...]] = pipeline.run(self._parsed, file=self.file)
        else:
            parsed = self._parsed()
        return self._records(parsed)

    def _records(self, parsed: Iterator[tuple[Any, ...]]) -> Iterator[FileEvent]:
        """Canonical records and statement summaries from :meth:`_parsed`'s items."""
        current: _Statement | None = None
        keys: dict[int, tuple[str, ...]] = {}
        for item in parsed:
            what = item[0]
            if what == "entry":
                assert current is not None
                details = [(line, _unpack(keys, packed)) for line, packed in item[3]]
                yield from self._entry(current, item[1], _unpack(keys, item[2]), details)
            elif what == "keys":
                keys[item[1]] = item[2]
            elif what == "header":
                assert current is not None
                for name, value in item[1].items():
                    setattr(current, name, value)
            elif what == "statement":
                _what, kind, index, line, self.message, self.format = item
                current = _Statement(kind=kind, index=index, line=line)
            elif what == "end":
                assert current is not None
                yield self._finish(current)
                current = None
            else:
                self.group_created = item[1]

    def _parsed(self) -> Iterator[tuple[Any, ...]]:
        """The document as a stream of plain tuples (picklable, so another process can make it).

        ``("group", created)`` for a group header; ``("statement", kind, index, line, message,
        format)`` when a statement starts; ``("header", fields)`` once its header is read (before
        its first entry); ``("entry", line, leaves, details)`` per ``Ntry`` (``leaves`` = its leaf
        texts packed by :class:`_LeavesPacker`, ``details`` = ``(line, leaves)`` per ``TxDtls``),
        preceded by ``("keys", number, paths)`` the first time a set of leaf paths is met;
        ``("end",)`` when it ends. Amounts and dates are read by the receiving side: sending
        Decimals and dates through a pipe costs more than reading them.
        """
        statements = 0
        packer = _LeavesPacker()
        current: _Statement | None = None
        element_of_current: etree._Element | None = None
        root: etree._Element | None = None
        tags = ["{*}Document", "{*}GrpHdr", "{*}Ntry", *(f"{{*}}{tag}" for tag in sorted(_STATEMENT_TAGS))]
        with self.infile.opener() as stream:
            for event, element in safe_xml.iterparse(
                stream, file=self.file, tags=tags, events=("start", "end"), max_bytes=self.options.max_bytes
            ):
                if event == "start":
                    if root is None:
                        root = element
                    elif current is None and safe_xml.local_name(element.tag) in _STATEMENT_TAGS:
                        current = self._start_statement(element, root, statements + 1)
                        if current is not None:
                            statements += 1
                            element_of_current = element
                            yield (
                                "statement",
                                current.kind,
                                current.index,
                                current.line,
                                self.message,
                                self.format,
                            )
                    continue
                if current is not None:
                    if element is element_of_current:
                        if not current.header_read:
                            yield ("header", self._header(current, element))
                        yield ("end",)
                        safe_xml.release(element)
                        current = element_of_current = None
                    elif (
                        element.getparent() is element_of_current
                        and safe_xml.local_name(element.tag) == "Ntry"
                    ):
                        if not current.header_read:
                            yield ("header", self._header(current, element_of_current))
                        values: dict[str, str] = {}
                        multi: dict[str, list[str]] = {}
                        collected: list[etree._Element] = []
                        _walk(element, self.entry_paths, values, multi, collected)
                        details = []
                        for detail in collected:
                            detail_values: dict[str, str] = {}
                            detail_multi: dict[str, list[str]] = {}
                            _walk(detail, self.detail_paths, detail_values, detail_multi, [])
                            packed_detail = packer.pack(detail_values, detail_multi)
                            if packer.new_keys:
                                yield ("keys", *packer.new_keys)
                            details.append((detail.sourceline or 0, packed_detail))
                        packed = packer.pack(values, multi)
                        if packer.new_keys:
                            yield ("keys", *packer.new_keys)
                        yield ("entry", element.sourceline, packed, details)
                        safe_xml.release(element)
                elif safe_xml.local_name(element.tag) == "GrpHdr":
                    self.group_created = _date_text(element.findtext(self.paths("CreDtTm")))
                    yield ("group", self.group_created)
        if statements == 0:
            expected = {"camt.052": "Rpt", "camt.053": "Stmt", "camt.054": "Ntfctn"}.get(self.message)
            what = f"<{expected}>" if expected else "<Stmt>, <Ntfctn> or <Rpt>"
            raise ParseError(
                f"{self.message} document without any statement ({what} element)", file=self.file
            )

    def _start_statement(
        self, element: etree._Element, root: etree._Element, index: int
    ) -> _Statement | None:
        """A ``Stmt``/``Ntfctn``/``Rpt`` directly under the message root starts a statement."""
        message_root = element.getparent()
        if message_root is None or message_root.getparent() is not root:
            return None
        kind = safe_xml.local_name(element.tag)
        message_name = safe_xml.local_name(message_root.tag)
        expected = MESSAGES.get(message_name)
        if expected is None or expected[1] != kind:
            raise ParseError(
                f"<{kind}> inside <{message_name}>: not a camt.052/053/054 message layout",
                file=self.file,
                line=element.sourceline,
            )
        if self.version and not self.version.startswith(expected[0]):
            raise ParseError(
                f"namespace says {self.version} but the document is a {expected[0]} (<{message_name}>)",
                file=self.file,
                line=element.sourceline,
            )
        self.message = expected[0]
        self.format = self.version or self.message
        return _Statement(kind=kind, index=index, line=element.sourceline)

    # -- statement ------------------------------------------------------------------------------

    def _header(self, statement: _Statement, element: etree._Element) -> dict[str, Any]:
        """Read the statement's own elements, which all come before its first ``Ntry``.

        Returns the fields of :class:`_Statement` it sets (:data:`_HEADER_FIELDS`).
        """
        p = self.paths
        statement.statement_id = clean(element.findtext(p("Id")))
        statement.created = _date_text(element.findtext(p("CreDtTm")))
        account = clean(element.findtext(p("Acct/Id/IBAN"))) or clean(element.findtext(p("Acct/Id/Othr/Id")))
        if account is None:
            raise ParseError(
                f"{statement.kind}[{statement.index}] has no account (Acct/Id/IBAN or Acct/Id/Othr/Id)",
                file=self.file,
                line=element.sourceline,
                element=f"{statement.kind}[{statement.index}]",
            )
        statement.account = normalise_account(account)
        statement.currency = clean(element.findtext(p("Acct/Ccy")))
        opening_codes = ("OPBD", "PRCD")
        interim: list[tuple[Money, dt.date | None]] = []
        for balance in element.iterfind(p("Bal")):
            code = clean(balance.findtext(p("Tp/CdOrPrtry/Cd"))) or clean(
                balance.findtext(p("Tp/CdOrPrtry/Prtry"))
            )
            money = self._money(balance, statement)
            when = _date_of(balance.find(p("Dt")), p, self.file)
            if code in opening_codes and statement.opening is None:
                statement.opening, statement.opening_date = money, when
            elif code == "CLBD":
                statement.closing, statement.closing_date = money, when
            elif code == "ITBD":
                interim.append((money, when))
        if statement.opening is None and interim:
            statement.opening, statement.opening_date = interim[0]
        if statement.closing is None and len(interim) > 1:
            statement.closing, statement.closing_date = interim[-1]
        count = clean(element.findtext(p("TxsSummry/TtlNtries/NbOfNtries")))
        statement.control_count = int(count) if count and count.isdigit() else None
        net = element.find(p("TxsSummry/TtlNtries/TtlNetNtry"))
        if net is not None:
            amount = _decimal(net.findtext(p("Amt")), file=self.file, line=net.sourceline)
            if amount is not None:
                statement.control_net = -amount if clean(net.findtext(p("CdtDbtInd"))) == "DBIT" else amount
        statement.header_read = True
        return {name: getattr(statement, name) for name in _HEADER_FIELDS}

    def _money(self, element: etree._Element, statement: _Statement) -> Money:
        p = self.paths
        amount_element = element.find(p("Amt"))
        if amount_element is None:
            raise ParseError("balance without Amt", file=self.file, line=element.sourceline, element="Bal")
        amount = _decimal(amount_element.text, file=self.file, line=amount_element.sourceline)
        if amount is None:
            raise ParseError("empty balance amount", file=self.file, line=amount_element.sourceline)
        currency = amount_element.get("Ccy") or statement.currency
        if not currency:
            raise ParseError(
                "balance amount without currency", file=self.file, line=amount_element.sourceline
            )
        if clean(element.findtext(p("CdtDbtInd"))) == "DBIT":
            amount = -amount
        return Money(amount=amount, currency=currency)

    def _finish(self, statement: _Statement) -> StatementSummary:
        currency = (
            statement.currency
            or statement.movements.currency
            or (statement.opening.currency if statement.opening else None)
        )
        if statement.control_count is not None and statement.control_count != statement.entries:
            statement.warnings.append(
                f"TxsSummry announces {statement.control_count} entries, the statement holds {statement.entries}"
            )
        if (
            statement.control_net is not None
            and not statement.movements.other_currencies
            and statement.control_net != statement.movements.total
        ):
            statement.warnings.append(
                f"TxsSummry announces a net total of {statement.control_net}, "
                f"the booked entries add up to {statement.movements.total}"
            )
        check = check_balances(statement.opening, statement.closing, statement.movements)
        position = f"{statement.kind}[{statement.index}]"
        enforce(
            check,
            strict=self.options.strict,
            file=self.file,
            statement=statement.statement_id or position,
            line=statement.line,
        )
        return StatementSummary(
            format=self.format,
            statement_id=statement.statement_id,
            account=statement.account,
            currency=currency,
            opening_balance=statement.opening,
            opening_date=statement.opening_date,
            closing_balance=statement.closing,
            closing_date=statement.closing_date,
            entry_count=statement.entries,
            transaction_count=statement.transactions,
            movements=statement.movements.money(currency),
            balance_check=check,
            warnings=tuple(statement.warnings),
            source_file=self.file,
            source_position=position,
        )

    # -- entry ----------------------------------------------------------------------------------

    def _booking(
        self, statement: _Statement, line: int | None, values: dict[str, str], position: str
    ) -> tuple[Decimal, str, bool, str, dt.date, dt.date | None, str | None]:
        """Signed amount, currency, reversal, status, booking and value dates of an entry, and what
        stands for a missing booking date (``"value date"``, ``"statement date"`` or None)."""
        amount = _decimal(values.get("Amt"), file=self.file, line=line)
        if amount is None:
            raise ParseError("entry without amount (Amt)", file=self.file, line=line, element=position)
        currency = values.get("Amt@Ccy") or statement.currency
        if not currency:
            raise ParseError(
                "entry amount without currency (Amt@Ccy)", file=self.file, line=line, element=position
            )
        direction = clean(values.get("CdtDbtInd"))
        if direction not in ("CRDT", "DBIT"):
            raise ParseError(
                f"CdtDbtInd must be CRDT or DBIT, got {direction!r}",
                file=self.file,
                line=line,
                element=position,
            )
        signed = amount if direction == "CRDT" else -amount
        reversal = clean(values.get("RvslInd")) in ("true", "1")
        status_code = clean(values.get("Sts/Cd")) or clean(values.get("Sts")) or "BOOK"
        status = _STATUS.get(status_code, "info")
        booking_date = self._date(values, "BookgDt", line)
        value_date = self._date(values, "ValDt", line)
        date_used = None
        if booking_date is None:
            booking_date = value_date or statement.created or self.group_created
            if booking_date is None:
                raise ParseError(
                    "entry without booking date (BookgDt), value date (ValDt) or statement date",
                    file=self.file,
                    line=line,
                    element=position,
                )
            date_used = "value date" if value_date else "statement date"
        return signed, currency, reversal, status, booking_date, value_date, date_used

    def _entry(
        self,
        statement: _Statement,
        line: int | None,
        leaves: _Leaves,
        details: list[tuple[int, _Leaves]],
    ) -> Iterator[BankTransaction]:
        statement.entries += 1
        position = f"{statement.kind}[{statement.index}]/Ntry[{statement.entries}]"
        values = leaves[0]
        signed, currency, reversal, status, booking_date, value_date, date_used = self._booking(
            statement, line, values, position
        )
        if date_used:
            statement.warnings.append(
                f"{position} has no booking date; {booking_date.isoformat()} ({date_used}) is used"
            )
        if status == "booked":
            statement.movements.add(signed, currency)

        entry_code = _transaction_code(values)
        entry_fields: dict[str, Any] = {
            "account": statement.account,
            "booking_date": booking_date,
            "value_date": value_date,
            "status": status,
            "reversal": reversal,
            "bank_reference": clean(values.get("AcctSvcrRef")),
            "entry_reference": clean(values.get("NtryRef")),
            "transaction_code": entry_code,
            "statement_id": statement.statement_id,
            "source_file": self.file,
        }
        entry_references: dict[str, str] = {}
        proprietary_code = values.get("BkTxCd/Prtry/Cd")
        if proprietary_code:
            proprietary_code = clean(proprietary_code)
            if proprietary_code and proprietary_code != entry_code:
                entry_references["BkTxCd.Prtry"] = proprietary_code
        if (
            "NtryDtls/Btch/MsgId" in values
            or "NtryDtls/Btch/PmtInfId" in values
            or "NtryDtls/Btch/NbOfTxs" in values
        ):
            for name in ("MsgId", "PmtInfId", "NbOfTxs"):
                value = clean(values.get(f"NtryDtls/Btch/{name}"))
                if value:
                    entry_references[f"Btch.{name}"] = value
        entry_text = values.get("AddtlNtryInf")
        entry_text = clean(entry_text) if entry_text else None
        entry_id = self.identity.entry_id(statement.account, booking_date, signed, currency)
        parsed = [self._detail(detail_line, detail, signed, currency) for detail_line, detail in details]

        if len(parsed) > 1 and _adds_up(parsed, signed, currency):
            for index, detail in enumerate(parsed, start=1):
                statement.transactions += 1
                role = self._counterparty_role(detail.signed, reversal)
                fields = {
                    **entry_fields,
                    **detail.fields(role),
                    "external_id": IdentityAssigner.detail_id(entry_id, index),
                    "amount": Money(amount=detail.signed, currency=currency),
                    "source_position": f"{position}/TxDtls[{index}]",
                    "source_refs": {"line": str(detail.line)},
                    "references": {**entry_references, **detail.references, "TxDtls": str(index)},
                    "transaction_code": detail.transaction_code or entry_code,
                    "original_amount": detail.original_amount(currency),
                }
                if fields.get("remittance") is None:
                    fields["remittance"] = entry_text
                yield build_transaction(fields, file=self.file, line=detail.line)
            return

        statement.transactions += 1
        fields = {
            **entry_fields,
            "external_id": entry_id,
            "amount": Money(amount=signed, currency=currency),
            "source_position": position,
            "source_refs": {"line": str(line)},
        }
        references = entry_references
        role = self._counterparty_role(signed, reversal)
        if len(parsed) == 1:
            detail = parsed[0]
            fields.update(detail.fields(role))
            references.update(detail.references)
            fields["transaction_code"] = entry_code or detail.transaction_code
            fields["bank_reference"] = entry_fields["bank_reference"] or detail.references.get("AcctSvcrRef")
            fields["original_amount"] = detail.original_amount(currency)
        elif parsed:
            statement.warnings.append(
                f"{position}: its {len(parsed)} TxDtls do not add up to the entry amount "
                f"{signed} {currency}; kept as one transaction"
            )
            fields.update(_merged_fields(parsed, role))
            for index, detail in enumerate(parsed, start=1):
                references.update(
                    {f"TxDtls[{index}].{key}": value for key, value in detail.references.items()}
                )
        if fields.get("remittance") is None:
            fields["remittance"] = entry_text
        elif entry_text and entry_text not in fields["remittance"]:
            references["AddtlNtryInf"] = entry_text
        fields["references"] = references
        yield build_transaction(fields, file=self.file, line=line)

    def _date(self, values: dict[str, str], element: str, line: int | None) -> dt.date | None:
        date_path, date_time_path = _DATE_PATHS[element]
        text = values.get(date_path) or values.get(date_time_path)
        if text is None or not text.strip():
            return None
        value = _date_text(text)
        if value is None:
            raise ParseError(f"{element}: not an ISO date: {text.strip()!r}", file=self.file, line=line)
        return value

    @staticmethod
    def _counterparty_role(signed: Decimal, reversal: bool) -> str:
        """Money in comes from the debtor; a reversed booking turns that round."""
        credit = signed > 0
        return "Dbtr" if credit != reversal else "Cdtr"

    def _detail(self, line: int, leaves: _Leaves, entry_signed: Decimal, entry_currency: str) -> _Detail:
        values, multi = leaves
        get = values.get
        detail = _Detail(line=line, values=values)
        references = detail.references
        for path, text in values.items():
            name = _REFERENCE_PATHS.get(path)
            if name is None:
                continue
            value = clean(text)
            if not value:
                continue
            if name == "EndToEndId":
                if value.upper() != "NOTPROVIDED":
                    detail.end_to_end_id = value
            else:
                references[name] = value
        if "Refs/Prtry/Ref" in values:
            kinds = multi.get("Refs/Prtry/Tp") or [get("Refs/Prtry/Tp") or ""]
            proprietary = multi.get("Refs/Prtry/Ref") or [get("Refs/Prtry/Ref") or ""]
            for kind, value in zip(kinds, proprietary, strict=False):
                if clean(value):
                    references[f"Prtry.{clean(kind) or 'Prtry'}"] = str(clean(value))
        direction = clean(get("CdtDbtInd"))
        amount_path = "Amt" if get("Amt") is not None else "AmtDtls/TxAmt/Amt"
        amount = _decimal(get(amount_path), file=self.file, line=line)
        if amount is not None:
            if direction is None:
                signed = amount if entry_signed >= 0 else -amount
            else:
                signed = amount if direction == "CRDT" else -amount
            detail.amount = (signed, get(_CURRENCY_OF[amount_path]) or entry_currency)
        instructed = _decimal(get("AmtDtls/InstdAmt/Amt"), file=self.file, line=line)
        instructed_currency = get("AmtDtls/InstdAmt/Amt@Ccy")
        if instructed is not None and instructed_currency:
            detail.instructed = (instructed, instructed_currency)
        texts = _all(leaves, "RmtInf/Ustrd")
        if "RmtInf/Strd/CdtrRefInf/Ref" in values:
            for reference in _all(leaves, "RmtInf/Strd/CdtrRefInf/Ref"):
                normalised = structured_reference(reference)
                if normalised:
                    detail.creditor_references.append(normalised)
        if "RmtInf/Strd/RfrdDocInf/Nb" in values:
            for number in _all(leaves, "RmtInf/Strd/RfrdDocInf/Nb"):
                if number not in detail.documents:
                    detail.documents.append(number)
        if not texts:
            texts = _all(leaves, "RmtInf/Strd/AddtlRmtInf")
        detail.remittance = join_texts(*texts) or clean(get("AddtlTxInf"))
        if "RtrInf/Rsn/Cd" in values or "RtrInf/Rsn/Prtry" in values or "RtrInf/AddtlInf" in values:
            detail.return_reason = clean(get("RtrInf/Rsn/Cd")) or clean(get("RtrInf/Rsn/Prtry"))
            return_text = clean(get("RtrInf/AddtlInf"))
            if return_text:
                references["RtrInf.AddtlInf"] = return_text
        purpose = get("Purp/Cd")
        if purpose:
            purpose = clean(purpose)
            if purpose:
                references["Purp"] = purpose
        detail.transaction_code = _transaction_code(values)
        return detail


_DATE_PATHS = {element: (f"{element}/Dt", f"{element}/DtTm") for element in ("BookgDt", "ValDt")}
#: ``Refs`` leaves kept, by path: ``EndToEndId`` and the references of :data:`_REFERENCE_NAMES`.
_REFERENCE_PATHS = {f"Refs/{name}": name for name in ("EndToEndId", *_REFERENCE_NAMES)}
_CURRENCY_OF = {"Amt": "Amt@Ccy", "AmtDtls/TxAmt/Amt": "AmtDtls/TxAmt/Amt@Ccy"}
#: ``TxDtls`` leaves naming a party, by role (``Dbtr`` or ``Cdtr``): name, account and agent BIC,
#: each in order of preference.
_PARTY_PATHS = {
    role: (
        (
            f"RltdPties/{role}/Nm",
            f"RltdPties/{role}/Pty/Nm",
            f"RltdPties/{role}/Agt/FinInstnId/Nm",
            f"RltdPties/Ultmt{role}/Nm",
            f"RltdPties/Ultmt{role}/Pty/Nm",
        ),
        (f"RltdPties/{role}Acct/Id/IBAN", f"RltdPties/{role}Acct/Id/Othr/Id"),
        (
            f"RltdAgts/{role}Agt/FinInstnId/BIC",
            f"RltdAgts/{role}Agt/FinInstnId/BICFI",
            f"RltdPties/{role}/Agt/FinInstnId/BICFI",
        ),
    )
    for role in ("Dbtr", "Cdtr")
}


def _first_clean(values: dict[str, str], paths: tuple[str, ...]) -> str | None:
    """The first non-blank text among ``paths``, cleaned."""
    for path in paths:
        text = values.get(path)
        if text:
            cleaned = clean(text)
            if cleaned:
                return cleaned
    return None


#: What :meth:`CamtReader._header` reads into a :class:`_Statement`.
_HEADER_FIELDS = (
    "header_read",
    "statement_id",
    "account",
    "currency",
    "created",
    "opening",
    "opening_date",
    "closing",
    "closing_date",
    "control_count",
    "control_net",
)
#: Leaf paths read from an ``Ntry`` (relative to it); ``NtryDtls/TxDtls`` elements are collected
#: and read on their own with :data:`_DETAIL_PATHS`.
_ENTRY_PATHS = (
    "Amt",
    "CdtDbtInd",
    "RvslInd",
    "Sts",
    "Sts/Cd",
    "BookgDt/Dt",
    "BookgDt/DtTm",
    "ValDt/Dt",
    "ValDt/DtTm",
    "AcctSvcrRef",
    "NtryRef",
    "BkTxCd/Domn/Cd",
    "BkTxCd/Domn/Fmly/Cd",
    "BkTxCd/Domn/Fmly/SubFmlyCd",
    "BkTxCd/Prtry/Cd",
    "NtryDtls/Btch/MsgId",
    "NtryDtls/Btch/PmtInfId",
    "NtryDtls/Btch/NbOfTxs",
    "AddtlNtryInf",
)
_DETAIL_ELEMENT = "NtryDtls/TxDtls"
#: Leaf paths read from a ``TxDtls`` (relative to it).
_DETAIL_PATHS = (
    *(f"Refs/{name}" for name in ("EndToEndId", *_REFERENCE_NAMES, "Prtry/Tp", "Prtry/Ref")),
    "Amt",
    "CdtDbtInd",
    "AmtDtls/TxAmt/Amt",
    "AmtDtls/InstdAmt/Amt",
    *(
        path
        for role in ("Dbtr", "Cdtr")
        for path in (
            f"RltdPties/{role}/Nm",
            f"RltdPties/{role}/Pty/Nm",
            f"RltdPties/{role}/Agt/FinInstnId/Nm",
            f"RltdPties/{role}/Agt/FinInstnId/BICFI",
            f"RltdPties/Ultmt{role}/Nm",
            f"RltdPties/Ultmt{role}/Pty/Nm",
            f"RltdPties/{role}Acct/Id/IBAN",
            f"RltdPties/{role}Acct/Id/Othr/Id",
            f"RltdAgts/{role}Agt/FinInstnId/BIC",
            f"RltdAgts/{role}Agt/FinInstnId/BICFI",
        )
    ),
    "RmtInf/Ustrd",
    "RmtInf/Strd/CdtrRefInf/Ref",
    "RmtInf/Strd/RfrdDocInf/Nb",
    "RmtInf/Strd/AddtlRmtInf",
    "AddtlTxInf",
    "RtrInf/Rsn/Cd",
    "RtrInf/Rsn/Prtry",
    "RtrInf/AddtlInf",
    "Purp/Cd",
    "BkTxCd/Domn/Cd",
    "BkTxCd/Domn/Fmly/Cd",
    "BkTxCd/Domn/Fmly/SubFmlyCd",
    "BkTxCd/Prtry/Cd",
)


#: Kinds of element in a tree of paths (:func:`_path_tree`).
_CONTAINER, _LEAF, _AMOUNT_LEAF, _LEAF_OR_CONTAINER, _COLLECTED = 0, 1, 2, 3, 4

#: An element's children in a tree of paths, by qualified tag: (relative path, children, kind).
_PathTree = dict[str, tuple[str, "_PathTree | None", int]]
#: Leaf texts by relative path (the first one), and every text of a path met more than once.
_Leaves = tuple[dict[str, str], dict[str, list[str]]]


def _path_tree(prefix: str, paths: tuple[str, ...], collected: tuple[str, ...] = ()) -> _PathTree:
    """The tree of ``paths`` (``a/b/c``) keyed by qualified tag (``prefix`` + name).

    An element on a path is a container (we read leaves below it), a leaf we read (an ``Amt``
    also gives its ``Ccy``), both (``Sts`` is text in .02, ``Sts/Cd`` from .08), or collected
    as an element to read on its own (``NtryDtls/TxDtls``).
    """
    read: set[str] = set(paths)
    prefixes = {
        "/".join(path.split("/")[:depth])
        for path in (*paths, *collected)
        for depth in range(1, path.count("/") + 1)
    }

    def children_of(base: str) -> _PathTree:
        tree: _PathTree = {}
        for path in sorted({*read, *prefixes, *collected}, key=lambda path: (path.count("/"), path)):
            parent, _, name = path.rpartition("/")
            if parent != base:
                continue
            if path in collected:
                tree[prefix + name] = (path, None, _COLLECTED)
            elif path in prefixes:
                kind = _LEAF_OR_CONTAINER if path in read else _CONTAINER
                tree[prefix + name] = (path, children_of(path), kind)
            else:
                tree[prefix + name] = (path, None, _AMOUNT_LEAF if name == "Amt" else _LEAF)
        return tree

    return children_of("")


def _walk(
    parent: etree._Element,
    children: _PathTree,
    values: dict[str, str],
    multi: dict[str, list[str]],
    collected: list[etree._Element],
) -> None:
    """Read the leaves of ``parent`` on the paths of ``children``, in document order.

    Only the elements on a path we read are visited (addresses, charges, taxes... are never
    entered): one pass over the few elements that matter is what makes 200,000-entry files fit
    the time budget. A leaf's text is read (``""`` when empty); an element with children is never
    a value. ``Amt`` leaves also give their ``Ccy`` attribute under ``<path>@Ccy``.
    """
    for child in parent:
        node = children.get(child.tag)
        if node is not None:
            path, below, kind = node
            if not kind:
                _walk(child, below, values, multi, collected)  # type: ignore[arg-type]
            elif len(child):
                if kind == _LEAF_OR_CONTAINER:
                    _walk(child, below, values, multi, collected)  # type: ignore[arg-type]
                elif kind == _COLLECTED:
                    collected.append(child)
            elif kind != _COLLECTED:
                if path in values:
                    repeated = multi.get(path)
                    if repeated is None:
                        multi[path] = [values[path], child.text or ""]
                    else:
                        repeated.append(child.text or "")
                else:
                    values[path] = child.text or ""
                    if kind == _AMOUNT_LEAF:
                        values[path + "@Ccy"] = child.get("Ccy") or ""


#: Leaf texts as sent between processes: the number of their paths (announced once by a
#: ``("keys", number, paths)`` item), the texts joined with NUL, and the repeated texts (or None).
_PackedLeaves = tuple[int, str, dict[str, list[str]] | None]


class _LeavesPacker:
    """Packs leaf texts for the trip to the process building the records.

    Entries of a file mostly share one layout, so the paths of an entry's leaves are sent once
    per distinct set, as a number, and its texts as one string joined with NUL (a character XML
    cannot contain). Unpickling that is about five times cheaper than a dict per entry, which is
    what keeps the record-building process within the time budget of a 200,000-entry file.
    """

    def __init__(self) -> None:
        self._numbers: dict[tuple[str, ...], int] = {}
        #: ``(number, paths)`` of the set of paths the last :meth:`pack` met first, else ().
        self.new_keys: tuple[int, tuple[str, ...]] | tuple[()] = ()

    def pack(self, values: dict[str, str], multi: dict[str, list[str]]) -> _PackedLeaves:
        paths = tuple(values)
        number = self._numbers.get(paths)
        if number is None:
            number = self._numbers[paths] = len(self._numbers)
            self.new_keys = (number, paths)
        else:
            self.new_keys = ()
        return number, "\0".join(values.values()), multi or None


def _unpack(keys: dict[int, tuple[str, ...]], packed: _PackedLeaves) -> _Leaves:
    number, texts, multi = packed
    paths = keys[number]
    values = dict(zip(paths, texts.split("\0"), strict=True)) if paths else {}
    return values, multi if multi is not None else {}


def _all(leaves: _Leaves, path: str) -> list[str]:
    """Every non-blank text at ``path``, in document order."""
    values, multi = leaves
    texts = multi.get(path)
    if texts is None:
        single = values.get(path)
        texts = [single] if single is not None else []
    return [text for text in (clean(value) for value in texts) if text]


def _transaction_code(values: dict[str, str]) -> str | None:
    """``BkTxCd``: ``Domn/Cd-Fmly/Cd-SubFmlyCd`` (ISO), else the proprietary code."""
    domain = values.get("BkTxCd/Domn/Cd")
    if domain:
        domain = clean(domain)
    if domain:
        family = clean(values.get("BkTxCd/Domn/Fmly/Cd"))
        sub_family = clean(values.get("BkTxCd/Domn/Fmly/SubFmlyCd"))
        if family:
            domain += "-" + family
        if sub_family:
            domain += "-" + sub_family
        return domain
    return clean(values.get("BkTxCd/Prtry/Cd"))


@dataclass
class _Detail:
    """What one ``TxDtls`` says."""

    line: int
    #: Its leaf texts (parties are read from them for the role that is needed).
    values: dict[str, str]
    amount: tuple[Decimal, str] | None = None
    instructed: tuple[Decimal, str] | None = None
    end_to_end_id: str | None = None
    references: dict[str, str] = field(default_factory=dict)
    remittance: str | None = None
    creditor_references: list[str] = field(default_factory=list)
    documents: list[str] = field(default_factory=list)
    return_reason: str | None = None
    transaction_code: str | None = None

    @property
    def signed(self) -> Decimal:
        if self.amount is None:
            raise ValueError("detail without amount")
        return self.amount[0]

    def party(self, role: str) -> tuple[str | None, str | None, str | None]:
        """Name, account and agent BIC of the debtor (``Dbtr``) or creditor (``Cdtr``)."""
        names, accounts, bics = _PARTY_PATHS[role]
        return (
            _first_clean(self.values, names),
            _first_clean(self.values, accounts),
            _first_clean(self.values, bics),
        )

    def fields(self, role: str) -> dict[str, Any]:
        name, account, bic = self.party(role)
        fields: dict[str, Any] = {
            "counterparty_name": name,
            "counterparty_bic": bic,
            "remittance": self.remittance,
            "structured_reference": self.creditor_references[0] if self.creditor_references else None,
            "referred_documents": tuple(self.documents),
            "end_to_end_id": self.end_to_end_id,
            "mandate_id": self.references.get("MndtId"),
            "return_reason": self.return_reason,
        }
        fields.update(counterparty_account_fields(account))
        if len(self.creditor_references) > 1:
            self.references["CdtrRefInf"] = " ".join(self.creditor_references)
        return fields

    def original_amount(self, booked_currency: str) -> Money | None:
        """The instructed (or detail) amount when it is in another currency than the booking."""
        for candidate in (self.instructed, self.amount):
            if candidate is not None:
                value, currency = candidate
                if currency != booked_currency and value != 0:
                    return Money(amount=abs(value), currency=currency)
        return None


def _adds_up(details: list[_Detail], entry_signed: Decimal, currency: str) -> bool:
    if any(detail.amount is None or detail.amount[1] != currency for detail in details):
        return False
    return sum((detail.signed for detail in details), Decimal(0)) == entry_signed


def _merged_fields(details: list[_Detail], role: str) -> dict[str, Any]:
    """One transaction for several details that do not add up: keep what they share."""
    per_detail = [detail.fields(role) for detail in details]

    def shared(key: str) -> Any:
        values = {fields.get(key) for fields in per_detail}
        return values.pop() if len(values) == 1 else None

    documents: list[str] = []
    for detail in details:
        documents.extend(number for number in detail.documents if number not in documents)
    return {
        "counterparty_name": shared("counterparty_name"),
        "counterparty_iban": shared("counterparty_iban"),
        "counterparty_account": shared("counterparty_account"),
        "counterparty_bic": shared("counterparty_bic"),
        "remittance": join_texts(*(detail.remittance for detail in details)),
        "structured_reference": shared("structured_reference"),
        "referred_documents": tuple(documents),
        "end_to_end_id": shared("end_to_end_id"),
        "mandate_id": shared("mandate_id"),
        "return_reason": shared("return_reason"),
    }


def _decimal(text: str | None, *, file: str, line: int | None) -> Decimal | None:
    if text is None:
        return None
    whole, dot, fraction = text.partition(".")
    if whole.isdecimal() and (not dot or fraction.isdecimal()):
        return Decimal(text)  # the usual case, "1234.56", without a regular expression
    if not text.strip():
        return None
    match = _AMOUNT.match(text)
    if not match:
        raise ParseError(f"not an ISO 20022 amount: {text.strip()!r}", file=file, line=line)
    try:
        return Decimal(match.group(1))
    except InvalidOperation:
        raise ParseError(f"not an amount: {text.strip()!r}", file=file, line=line) from None


def _date_text(text: str | None) -> dt.date | None:
    """``2014-12-31`` or ``2014-12-31T13:15:00+01:00`` → the date as written."""
    if text is None:
        return None
    value = text.strip()[:10]
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        return None


def _date_of(element: etree._Element | None, p: _Paths, file: str) -> dt.date | None:
    """``Dt`` or ``DtTm`` child of a date choice (``BookgDt``, ``ValDt``, ``Bal/Dt``)."""
    if element is None:
        return None
    text = element.findtext(p("Dt")) or element.findtext(p("DtTm"))
    if text is None or not text.strip():
        return None
    value = _date_text(text)
    if value is None:
        raise ParseError(f"not an ISO date: {text.strip()!r}", file=file, line=element.sourceline)
    return value


def read(infile: InputFile, options: ReadOptions | None = None) -> Iterator[FileEvent]:
    """Transactions and statement summaries of a camt.052/053/054 document, streamed."""
    return CamtReader(infile, options or ReadOptions()).events()
