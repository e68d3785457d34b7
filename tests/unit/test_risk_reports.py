"""Report tables, CSV, SVG charts and the self-contained HTML page."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from decimal import Decimal

from risk_builders import customer, invoice

from erp_recovery.engines.risk import Portfolio, assess_portfolio
from erp_recovery.reports import svg
from erp_recovery.reports.render import to_csv, to_html
from erp_recovery.reports.tables import ageing_table, dso_table, report_tables, risk_table

AS_OF = dt.date(2026, 6, 30)


def assessment():
    documents = [
        invoice("C1", dt.date(2026, 5, 1), 1200, due=dt.date(2026, 5, 31)),
        invoice("C1", dt.date(2026, 6, 20), 300, due=dt.date(2026, 7, 20)),
        invoice("C2", dt.date(2026, 2, 1), 800, due=dt.date(2026, 3, 1)),
        invoice("C2", dt.date(2026, 1, 5), 500, due=dt.date(2026, 2, 4), paid=[(dt.date(2026, 3, 20), 500)]),
    ]
    invoices, allocations = [], []
    for document, allocs in documents:
        invoices.append(document)
        allocations.extend(allocs)
    portfolio = Portfolio.build(
        currency="EUR",
        customers=[customer("C1", limit="1000", name="Dupont <SARL> & fils"), customer("C2", name="Martin")],
        invoices=invoices,
        allocations=allocations,
    )
    return assess_portfolio(portfolio, AS_OF)


def test_ageing_table_rows_and_total():
    table = ageing_table(assessment())
    assert table.columns[:7] == ("customer", "name", "not due", "1-30", "31-60", "61-90", "> 90")
    assert table.rows[0][0] == "C1"  # largest exposure first
    assert table.rows[0][2:4] == (Decimal("300.00"), Decimal("1200.00"))
    assert table.total[2:9] == (
        Decimal("300.00"), Decimal("1200.00"), Decimal("0.00"), Decimal("0.00"), Decimal("800.00"),
        Decimal("2300.00"), Decimal("2000.00"),
    )  # fmt: skip


def test_risk_table_riskiest_first_and_dso_table():
    result = assessment()
    rows = risk_table(result).rows
    assert [row[0] for row in rows] == sorted(
        (row[0] for row in rows), key=lambda c: result.customer(c).score.score
    )
    assert "over_limit" in next(row for row in rows if row[0] == "C1")[-1]
    dso = dso_table(result)
    assert len(dso.rows) == 12 and dso.rows[-1][0] == "2026-06-30"


def test_csv_is_semicolon_separated_with_dot_decimals():
    text = to_csv(report_tables(assessment(), "ageing"))
    rows = list(csv.reader(io.StringIO(text), delimiter=";"))
    assert rows[0][0] == "customer"
    assert rows[-1][0] == "total"
    assert rows[-1][7] == "2300.00"
    comma = to_csv(report_tables(assessment(), "dso"), delimiter=",")
    assert comma.splitlines()[0] == "month end,receivables,DSO countback,DSO simple"


def test_svg_charts_are_well_formed_and_labelled():
    import xml.etree.ElementTree as ET

    chart = svg.bar_chart("c1", "Ageing <test>", ["a", "b"], [Decimal(10), Decimal(0)])
    root = ET.fromstring(chart)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert root.find("{http://www.w3.org/2000/svg}title").text == "Ageing <test>"
    line = svg.line_chart("c2", "DSO", ["01", "02", "03"], [("x", [Decimal(1), None, Decimal(3)])])
    assert ET.fromstring(line).find(".//{http://www.w3.org/2000/svg}polyline") is not None
    bars = svg.hbar_chart("c3", "Top", ["A", "B"], [Decimal(5), Decimal(2)], markers=[Decimal(4), None])
    assert len(ET.fromstring(bars).findall(".//{http://www.w3.org/2000/svg}line")) == 1


def test_html_is_self_contained_escaped_and_has_four_charts():
    page = to_html(assessment(), "risk", company_name="Atelier <Démo>")
    assert page.startswith("<!DOCTYPE html>")
    assert len(re.findall(r'<svg xmlns="http://www.w3.org/2000/svg" role="img"', page)) == 4
    for chart in ("chart-ageing", "chart-dso", "chart-exposures", "chart-scores"):
        assert f'id="{chart}"' in page
    assert "Dupont &lt;SARL&gt; &amp; fils" in page
    assert "<SARL>" not in page
    assert "Atelier &lt;Démo&gt;" in page
    assert "<script" not in page
    external = re.findall(r'(?:src|href)="(?!#)[^"]*"', page)
    assert external == []
    ageing_only = to_html(assessment(), "ageing", company_name="X")
    assert "Aged balance at 2026-06-30" in ageing_only and "Customer risk at" not in ageing_only
