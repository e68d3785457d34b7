"""The Odoo connector: streams of customers, invoices and credit notes, payments and allocations.

Each stream reads its Odoo model(s) incrementally (:mod:`.incremental`) and, every
``full_sweep_hours``, in full, ending the full read with a
:class:`~erp_recovery.sync.protocol.Snapshot` of the ids that exist upstream so the runner marks
the others as deleted. What is read, per stream (Odoo 18 names, adapted to the server's fields):

- ``customers``: ``res.partner`` with ``customer_rank > 0`` (or a child that has one), grouped by
  ``commercial_partner_id``: one canonical customer per commercial partner, its contacts as
  ``contacts``, bank accounts (``res.partner.bank``), tags, payment terms, credit limit;
- ``invoices``: ``account.move`` of type ``out_invoice``/``out_refund`` that are posted or were
  posted once (a reset-to-draft or cancelled invoice is re-read with its new status);
- ``payments``: inbound customer ``account.payment`` (not draft), and bank statement lines
  reconciled directly with receivables (Odoo 17+ reconciles without a payment), ids ``st-<id>``;
- ``allocations``: ``account.partial.reconcile`` of customer invoices' receivable lines, read when
  such a line changes (a reconciliation recomputes the line's residual and so its ``write_date``);
  each line is a partition (scope ``aml:<line id>``) so an unreconciliation is seen at once.

Call budget: a sync that finds nothing new costs one light ``search_read`` per model (ids and
``write_date`` of the overlap window) and one ``read`` of the rows of the last two seconds seen,
plus version, login and ``fields_get`` per model once per run; a full read costs one call per
``page_size`` records (customers and payments one or two more to resolve partners, allocations
two more).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from erp_recovery.config import SourceConfig
from erp_recovery.errors import SkippableRecord
from erp_recovery.model.records import Record
from erp_recovery.sync.protocol import (
    Batch,
    Connector,
    Cursor,
    Notice,
    Origin,
    RawRecord,
    Snapshot,
    SourceSettings,
    StreamSpec,
)

from . import mapping
from .client import OdooClient, OdooVersion
from .incremental import ModelCursor, ModelReader
from .settings import OdooSettings

log = logging.getLogger(__name__)

CUSTOMERS = StreamSpec("customers", ("customer",), cursor_field="write_date")
INVOICES = StreamSpec("invoices", ("invoice",), cursor_field="write_date")
PAYMENTS = StreamSpec("payments", ("payment",), cursor_field="write_date")
ALLOCATIONS = StreamSpec("allocations", ("allocation",), cursor_field="write_date")

PARTNER_FIELDS = (
    "name", "is_company", "parent_id", "commercial_partner_id", "type", "function", "ref", "vat",
    "company_registry", "siret", "email", "phone", "mobile", "street", "street2", "zip", "city",
    "country_code", "lang", "active", "category_id", "credit_limit", "use_partner_credit_limit", "trust",
    "property_payment_term_id", "customer_rank", "create_date", "write_date",
)  # fmt: skip
MOVE_FIELDS = (
    "name", "move_type", "state", "partner_id", "commercial_partner_id", "currency_id", "company_id", "date",
    "invoice_date", "invoice_date_due", "delivery_date", "amount_untaxed", "amount_total", "amount_residual",
    "payment_state", "payment_reference", "ref", "write_date",
)  # fmt: skip
PAYMENT_FIELDS = (
    "name", "state", "partner_id", "amount", "currency_id", "date", "memo", "ref", "payment_reference",
    "journal_id", "payment_method_line_id", "is_reconciled", "move_id", "write_date",
)  # fmt: skip
STATEMENT_LINE_FIELDS = (
    "name", "date", "amount", "currency_id", "partner_id", "payment_ref", "journal_id", "is_reconciled", "write_date",
)  # fmt: skip
TERM_LINE_FIELDS = (
    "payment_id", "value", "value_amount", "delay_type", "nb_days", "days_next_month", "days", "end_month",
    "months", "days_after",
)  # fmt: skip
PARTIAL_FIELDS = (
    "debit_move_id",
    "credit_move_id",
    "debit_amount_currency",
    "debit_currency_id",
    "amount",
    "max_date",
)

ALL_RECORDS = {"active_test": False}
SWEPT_AT = "swept_at"


@dataclass(frozen=True)
class OdooCompany:
    id: int
    name: str
    currency: str


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class OdooConnector(Connector):
    """Odoo 16-19 over JSON-RPC, XML-RPC or JSON-2."""

    name: ClassVar[str] = "odoo"
    settings_model: ClassVar[type[SourceSettings]] = OdooSettings
    description: ClassVar[str] = (
        "Odoo 16-19 (JSON-RPC, XML-RPC, JSON-2): customers, invoices, credit notes, payments, "
        "reconciliations; writes back credit limits, risk tags, dunning activities and messages"
    )
    supports_writeback = True

    def __init__(self, source: SourceConfig, settings: SourceSettings) -> None:
        super().__init__(source, settings)
        assert isinstance(settings, OdooSettings)
        self.odoo: OdooSettings = settings
        self._client: OdooClient | None = None
        self._company: OdooCompany | None = None
        self._tags: dict[int, str] | None = None
        self._terms: dict[int, dict[str, Any]] | None = None
        self._writeback: Any = None

    # -- plumbing ----------------------------------------------------------------------------------

    @property
    def client(self) -> OdooClient:
        if self._client is None:
            self._client = OdooClient(self.odoo, source_name=self.source.name)
        return self._client

    def version(self) -> OdooVersion:
        return self.client.version()

    def company(self) -> OdooCompany:
        if self._company is None:
            company_id = self.odoo.company_id
            if company_id is None:
                user = self.client.read("res.users", [self.client.uid()], ["company_id"])
                company_id = mapping.m2o_id(user[0]["company_id"]) if user else None
                if company_id is None:
                    from erp_recovery.errors import ConfigError

                    raise ConfigError("cannot tell the Odoo user's company: set company_id", key="company_id")
            rows = self.client.read("res.company", [company_id], ["name", "currency_id"])
            if not rows:
                from erp_recovery.errors import ConfigError

                raise ConfigError(f"Odoo has no company with id {company_id}", key="company_id")
            currency = mapping.m2o_name(rows[0]["currency_id"]) or "EUR"
            self._company = OdooCompany(company_id, str(rows[0]["name"]), currency)
        return self._company

    def _company_domain(self, model: str, field: str = "company_id") -> list[Any]:
        if field not in self.client.fields(model):
            return []
        company = self.company().id
        if model == "res.partner":
            return ["|", (field, "=", False), (field, "=", company)]
        return [(field, "=", company)]

    def _reader(
        self,
        model: str,
        domain: Sequence[Any],
        fields: Sequence[str],
        context: Mapping[str, Any] | None = None,
    ) -> ModelReader:
        available = self.client.fields(model).available(list(fields))
        return ModelReader(
            self.client,
            model,
            domain,
            available,
            page_size=self.odoo.page_size,
            overlap_seconds=self.odoo.overlap_seconds,
            context=context,
        )

    def check(self) -> str:
        version = self.version()
        uid = self.client.uid()
        company = self.company()
        who = self.odoo.login or "API key"
        note = "" if version.supported else " (untested version)"
        return (
            f"Odoo {version.label}{note} at {self.odoo.url}, database {self.odoo.database}, "
            f"user {who} (uid {uid}), company {company.name} ({company.currency})"
        )

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    def streams(self) -> Sequence[StreamSpec]:
        return (CUSTOMERS, INVOICES, PAYMENTS, ALLOCATIONS)

    # -- reading -----------------------------------------------------------------------------------

    def _full_read(self, cursor: Cursor | None) -> bool:
        if not cursor or SWEPT_AT not in cursor:
            return True
        try:
            swept = dt.datetime.fromisoformat(str(cursor[SWEPT_AT]))
        except ValueError:
            return True
        return _utc_now() - swept >= dt.timedelta(hours=self.odoo.full_sweep_hours)

    def read(self, stream: StreamSpec, cursor: Cursor | None) -> Iterator[Batch | Snapshot | Notice]:
        version = self.version()
        if not version.supported:
            yield Notice(f"Odoo {version.label} is not a version this connector is tested with (16 to 19)")
        full = self._full_read(cursor)
        state: dict[str, Any] = dict(cursor or {})
        if full:
            state[SWEPT_AT] = _utc_now().isoformat()
        readers = {
            CUSTOMERS.name: self._read_customers,
            INVOICES.name: self._read_invoices,
            PAYMENTS.name: self._read_payments,
            ALLOCATIONS.name: self._read_allocations,
        }
        if stream.name not in readers:
            raise ValueError(f"unknown Odoo stream {stream.name!r}")
        yield from readers[stream.name](state, full)

    def _cursor_of(self, state: Mapping[str, Any], model: str) -> ModelCursor:
        return ModelCursor.from_json((state.get("models") or {}).get(model))

    @staticmethod
    def _with_model(state: Mapping[str, Any], model: str, cursor: ModelCursor) -> dict[str, Any]:
        models = dict(state.get("models") or {})
        models[model] = cursor.to_json()
        return {**state, "models": models}

    # customers

    def _tag_names(self) -> dict[int, str]:
        if self._tags is None:
            rows = self.client.search_read(
                "res.partner.category", [], ["name", "display_name"], context=ALL_RECORDS
            )
            self._tags = {int(row["id"]): str(row.get("display_name") or row["name"]) for row in rows}
        return self._tags

    def _payment_terms(self) -> dict[int, dict[str, Any]]:
        if self._terms is None:
            terms = self.client.search_read("account.payment.term", [], ["name"], context=ALL_RECORDS)
            fields = self.client.fields("account.payment.term.line").available(list(TERM_LINE_FIELDS))
            lines = self.client.search_read("account.payment.term.line", [], fields)
            by_term: dict[int, list[dict[str, Any]]] = {}
            for line in lines:
                term_id = mapping.m2o_id(line.get("payment_id"))
                if term_id:
                    by_term.setdefault(term_id, []).append(line)
            self._terms = {
                int(term["id"]): {
                    "id": term["id"],
                    "name": term["name"],
                    "lines": by_term.get(int(term["id"]), []),
                }
                for term in terms
            }
        return self._terms

    def _read_customers(self, state: dict[str, Any], full: bool) -> Iterator[Batch | Snapshot]:
        model = "res.partner"
        partner_fields = self.client.fields(model)
        rank: list[Any] = [("customer_rank", ">", 0)] if "customer_rank" in partner_fields else []
        if rank:
            rank = ["|", ("customer_rank", ">", 0), ("child_ids.customer_rank", ">", 0)]
        reader = self._reader(
            model, [*rank, *self._company_domain(model)], ["commercial_partner_id"], ALL_RECORDS
        )
        risk = self.odoo.writeback.risk_flag
        wanted = list(PARTNER_FIELDS)
        if risk is not None and risk.mode == "field" and risk.field:
            wanted.append(risk.field)
        fields = partner_fields.available(wanted)
        present: set[str] = set()
        for page in reader.pages(self._cursor_of(state, model), full=full):
            commercial = sorted(
                {mapping.m2o_id(row.get("commercial_partner_id")) or int(row["id"]) for row in page.new_rows}
            )
            present.update(
                str(mapping.m2o_id(row.get("commercial_partner_id")) or row["id"]) for row in page.rows
            )
            records = [
                RawRecord(row, Origin(record_id=f"res.partner {row['id']}"))
                for row in self._customer_rows(commercial, fields)
            ]
            state = self._with_model(state, model, page.cursor)
            yield Batch(records, cursor=state)
        if full:
            yield Snapshot("customer", frozenset(present))

    def _customer_rows(self, commercial_ids: Sequence[int], fields: Sequence[str]) -> list[dict[str, Any]]:
        if not commercial_ids:
            return []
        family = self.client.search_read(
            "res.partner",
            [("commercial_partner_id", "in", list(commercial_ids))],
            fields,
            context=ALL_RECORDS,
        )
        banks: dict[int, list[str]] = {}
        if "bank_ids" in self.client.fields("res.partner"):
            accounts = self.client.search_read(
                "res.partner.bank",
                [("partner_id", "in", [row["id"] for row in family])],
                ["partner_id", "acc_number"],
            )
            for account in accounts:
                partner = mapping.m2o_id(account.get("partner_id"))
                if partner and account.get("acc_number"):
                    banks.setdefault(partner, []).append(str(account["acc_number"]))
        tags = self._tag_names()
        has_terms = any(row.get("property_payment_term_id") for row in family)
        terms = self._payment_terms() if has_terms else {}
        company = self.company()
        risk = self.odoo.writeback.risk_flag
        by_commercial: dict[int, list[dict[str, Any]]] = {}
        for row in family:
            by_commercial.setdefault(
                mapping.m2o_id(row.get("commercial_partner_id")) or int(row["id"]), []
            ).append(row)
        rows = []
        for commercial_id in commercial_ids:
            members = by_commercial.get(commercial_id, [])
            head = next((row for row in members if int(row["id"]) == commercial_id), None)
            if head is None:
                continue  # deleted between the two reads; the next sweep marks it
            contacts = [row for row in members if int(row["id"]) != commercial_id]
            term_id = mapping.m2o_id(head.get("property_payment_term_id"))
            enriched = dict(head)
            enriched.update(
                _contacts=contacts,
                _banks=[account for member in members for account in banks.get(int(member["id"]), [])],
                _tags=[tags[tag] for tag in head.get("category_id") or [] if tag in tags],
                _term=terms.get(term_id) if term_id else None,
                _currency=company.currency,
                _has_use_limit="use_partner_credit_limit" in fields,
                _risk_prefix=risk.tag_prefix if risk is not None and risk.mode == "tag" else None,
                _risk_field=risk.field if risk is not None and risk.mode == "field" else None,
            )
            rows.append(enriched)
        return rows

    # invoices

    def _read_invoices(self, state: dict[str, Any], full: bool) -> Iterator[Batch | Snapshot]:
        model = "account.move"
        move_fields = self.client.fields(model)
        posted = (
            ["|", ("state", "=", "posted"), ("posted_before", "=", True)]
            if "posted_before" in move_fields
            else [("state", "in", ["posted", "cancel"])]
        )
        domain = [("move_type", "in", ["out_invoice", "out_refund"]), *posted, *self._company_domain(model)]
        reader = self._reader(model, domain, MOVE_FIELDS)
        present: set[str] = set()
        for page in reader.pages(self._cursor_of(state, model), full=full):
            present.update(str(row["id"]) for row in page.rows)
            state = self._with_model(state, model, page.cursor)
            yield Batch(
                [RawRecord(row, Origin(record_id=f"account.move {row['id']}")) for row in page.new_rows],
                cursor=state,
            )
        if full:
            yield Snapshot("invoice", frozenset(present))

    # payments

    def _commercial_of(self, partner_ids: set[int]) -> dict[int, int]:
        if not partner_ids:
            return {}
        rows = self.client.read("res.partner", sorted(partner_ids), ["commercial_partner_id"])
        return {
            int(row["id"]): mapping.m2o_id(row.get("commercial_partner_id")) or int(row["id"]) for row in rows
        }

    def _read_payments(self, state: dict[str, Any], full: bool) -> Iterator[Batch | Snapshot]:
        present: set[str] = set()
        payment_model = "account.payment"
        payment_fields = self.client.fields(payment_model)
        memo_field = payment_fields.first("memo", "ref") or "memo"
        domain = [
            ("payment_type", "=", "inbound"),
            ("partner_type", "=", "customer"),
            ("state", "!=", "draft"),
            *self._company_domain(payment_model),
        ]
        reader = self._reader(payment_model, domain, PAYMENT_FIELDS)
        for page in reader.pages(self._cursor_of(state, payment_model), full=full):
            present.update(str(row["id"]) for row in page.rows)
            partners = self._commercial_of(
                {pid for row in page.new_rows if (pid := mapping.m2o_id(row.get("partner_id")))}
            )
            rows = []
            for row in page.new_rows:
                partner = mapping.m2o_id(row.get("partner_id"))
                rows.append(
                    {
                        **row,
                        "_customer_id": str(partners.get(partner, partner)) if partner else None,
                        "_memo_field": memo_field,
                    }
                )
            state = self._with_model(state, payment_model, page.cursor)
            yield Batch(
                [RawRecord(row, Origin(record_id=f"account.payment {row['id']}")) for row in rows],
                cursor=state,
            )
        line_model = "account.bank.statement.line"
        if "move_id" in self.client.fields(line_model):
            domain = [
                ("amount", ">", 0),
                ("move_id.line_ids.account_id.account_type", "=", "asset_receivable"),
                *self._company_domain(line_model),
            ]
            reader = self._reader(line_model, domain, STATEMENT_LINE_FIELDS)
            for page in reader.pages(self._cursor_of(state, line_model), full=full):
                present.update(f"{mapping.STATEMENT_LINE_PREFIX}{row['id']}" for row in page.rows)
                partners = self._commercial_of(
                    {pid for row in page.new_rows if (pid := mapping.m2o_id(row.get("partner_id")))}
                )
                rows = []
                for row in page.new_rows:
                    partner = mapping.m2o_id(row.get("partner_id"))
                    rows.append(
                        {
                            **row,
                            "_kind": "statement_line",
                            "_customer_id": str(partners.get(partner, partner)) if partner else None,
                        }
                    )
                state = self._with_model(state, line_model, page.cursor)
                yield Batch(
                    [RawRecord(row, Origin(record_id=f"{line_model} {row['id']}")) for row in rows],
                    cursor=state,
                )
        if full:
            yield Snapshot("payment", frozenset(present))

    # allocations

    def _read_allocations(self, state: dict[str, Any], full: bool) -> Iterator[Batch | Snapshot]:
        model = "account.move.line"
        move_fields = self.client.fields("account.move")
        posted = (
            ["|", ("parent_state", "=", "posted"), ("move_id.posted_before", "=", True)]
            if "posted_before" in move_fields
            else [("parent_state", "in", ["posted", "cancel"])]
        )
        domain = [
            ("account_id.account_type", "=", "asset_receivable"),
            ("move_id.move_type", "=", "out_invoice"),
            *posted,
            *self._company_domain(model),
        ]
        reader = self._reader(model, domain, ["move_id", "matched_credit_ids", "currency_id"])
        present: set[str] = set()
        for page in reader.pages(self._cursor_of(state, model), full=full):
            rows = self._allocation_rows(page.new_rows)
            present.update(str(row["id"]) for row in rows if full)
            state = self._with_model(state, model, page.cursor)
            yield Batch(
                [RawRecord(row, Origin(record_id=f"account.partial.reconcile {row['id']}")) for row in rows],
                cursor=state,
            )
            if not full:
                for line in page.new_rows:
                    line_rows = [row for row in rows if row["_line_id"] == line["id"]]
                    yield Snapshot(
                        "allocation",
                        frozenset(str(row["id"]) for row in line_rows),
                        scope=mapping.allocation_scope(int(line["id"])),
                    )
        if full:
            yield Snapshot("allocation", frozenset(present))

    def _allocation_rows(self, lines: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
        partial_ids = sorted({int(pid) for line in lines for pid in line.get("matched_credit_ids") or []})
        if not partial_ids:
            return []
        partials = self.client.read(
            "account.partial.reconcile",
            partial_ids,
            self.client.fields("account.partial.reconcile").available(list(PARTIAL_FIELDS)),
        )
        credit_ids = sorted(
            {cid for partial in partials if (cid := mapping.m2o_id(partial.get("credit_move_id")))}
        )
        counterpart_fields = self.client.fields("account.move.line").available(
            ["move_id", "payment_id", "statement_line_id", "move_type"]
        )
        counterparts = {
            int(row["id"]): row
            for row in self.client.read("account.move.line", credit_ids, counterpart_fields)
        }
        invoice_of = {int(line["id"]): mapping.m2o_id(line.get("move_id")) for line in lines}
        rows = []
        for partial in partials:
            line_id = mapping.m2o_id(partial.get("debit_move_id"))
            invoice_id = invoice_of.get(line_id or 0)
            if invoice_id is None:
                continue
            amount = partial.get("debit_amount_currency")
            if amount in (None, False):
                amount = partial.get("amount")
            if not amount:
                continue  # an exchange-difference partial: no amount in the invoice currency
            currency = mapping.m2o_name(partial.get("debit_currency_id")) or mapping.m2o_name(
                next((line.get("currency_id") for line in lines if line["id"] == line_id), None)
            )
            counterpart = counterparts.get(mapping.m2o_id(partial.get("credit_move_id")) or 0, {})
            kind, other = self._counterpart(counterpart)
            rows.append(
                {
                    **partial,
                    "_line_id": line_id,
                    "_invoice_id": invoice_id,
                    "_amount": amount,
                    "_currency": currency or self.company().currency,
                    "_kind": kind,
                    "_counterpart": other,
                }
            )
        return rows

    @staticmethod
    def _counterpart(line: Mapping[str, Any]) -> tuple[str, str | None]:
        if line.get("move_type") == "out_refund":
            return "credit_note", str(mapping.m2o_id(line.get("move_id")))
        payment = mapping.m2o_id(line.get("payment_id"))
        if payment:
            return "payment", str(payment)
        statement_line = mapping.m2o_id(line.get("statement_line_id"))
        if statement_line:
            return "payment", f"{mapping.STATEMENT_LINE_PREFIX}{statement_line}"
        return "writeoff", None

    # -- mapping -------------------------------------------------------------------------------------

    def to_canonical(self, stream: StreamSpec, raw: RawRecord) -> Record:
        data = raw.data
        if isinstance(data, Record):
            return data
        if stream.name == CUSTOMERS.name:
            return mapping.customer(data)
        if stream.name == INVOICES.name:
            return mapping.invoice(data)
        if stream.name == PAYMENTS.name:
            return (
                mapping.statement_receipt(data)
                if data.get("_kind") == "statement_line"
                else mapping.payment(data)
            )
        if stream.name == ALLOCATIONS.name:
            return mapping.allocation(data)
        raise SkippableRecord(f"unknown stream {stream.name}")

    # -- write-back ----------------------------------------------------------------------------------

    def _targets(self) -> Any:
        if self._writeback is None:
            from .writeback import OdooWriteback

            self._writeback = OdooWriteback(self)
        return self._writeback

    def read_current(self, changes: Sequence[Any]) -> Mapping[str, Any]:
        return dict(self._targets().read_current(changes))

    def write(self, changes: Sequence[Any]) -> None:
        self._targets().write(changes)
