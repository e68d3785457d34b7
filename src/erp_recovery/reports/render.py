"""Render report tables for people (terminal), spreadsheets (CSV) and browsers (self-contained HTML).

The HTML report is one file with inline CSS and inline SVG charts (ageing by bucket, DSO trend, top
exposures, score distribution): no script, no font or image to fetch, so it opens from disk or an
e-mail attachment without a server.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import Sequence
from decimal import Decimal

from jinja2 import Environment, PackageLoader, select_autoescape
from rich.console import Console
from rich.table import Table

from erp_recovery import __version__
from erp_recovery.engines.risk import GRADES, PortfolioAssessment
from erp_recovery.reports import svg
from erp_recovery.reports.tables import Cell, ReportKind, ReportTable, ageing_table, dso_table, risk_table


def show(cell: Cell) -> str:
    if cell is None:
        return ""
    if isinstance(cell, Decimal):
        return format(cell, "f")
    return str(cell)


def to_terminal(tables: Sequence[ReportTable], console: Console) -> None:
    for report in tables:
        table = Table(title=report.title, header_style="bold", show_lines=False)
        for column in report.columns:
            table.add_column(column, justify="right" if column in report.numeric else "left", overflow="fold")
        for row in report.rows:
            table.add_row(*(show(cell) for cell in row))
        if report.total is not None:
            table.add_row(*(show(cell) for cell in report.total), style="bold")
        console.print(table)
        for note in report.notes:
            console.print(f"[dim]{note}[/]", highlight=False)


def to_csv(tables: Sequence[ReportTable], delimiter: str = ";") -> str:
    """CSV text (``;`` by default, what French spreadsheets expect; decimals with a dot)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\n")
    for index, report in enumerate(tables):
        if index:
            writer.writerow([])
        writer.writerow(report.columns)
        writer.writerows([show(cell) for cell in row] for row in report.rows)
        if report.total is not None:
            writer.writerow([show(cell) for cell in report.total])
    return buffer.getvalue()


def charts(assessment: PortfolioAssessment, top: int = 10) -> list[str]:
    """The four charts of the HTML report, as SVG strings."""
    company = assessment.company
    ageing = svg.bar_chart(
        "chart-ageing",
        "Ageing by bucket (days past due)",
        [b.label for b in company.ageing],
        [b.amount for b in company.ageing],
        colours=("#3a9b5c", "#f2b233", "#e67e22", "#d35400", "#c0392b", "#8e1b10", "#5d0f08"),
    )
    trend = svg.line_chart(
        "chart-dso",
        "DSO trend (days, month ends)",
        [p.date.strftime("%m/%y") for p in assessment.dso_trend],
        [
            ("countback", [p.dso_countback for p in assessment.dso_trend]),
            ("simple", [p.dso_simple for p in assessment.dso_trend]),
        ],
    )
    exposed = sorted(
        (a for a in assessment.customers if a.figures.open_amount > 0), key=lambda a: -a.figures.open_amount
    )[:top]
    exposures = svg.hbar_chart(
        "chart-exposures",
        f"Top {len(exposed)} exposures (bar) and credit limits (red line)",
        [a.customer.name for a in exposed],
        [a.figures.open_amount for a in exposed],
        markers=[a.figures.credit_limit for a in exposed],
        colours=[svg.GRADE_COLOURS[a.score.grade] for a in exposed],
    )
    bins = Counter(min(9, a.score.score // 10) for a in assessment.customers)
    labels = [f"{10 * b}-{10 * b + 9 if b < 9 else 100}" for b in range(10)]
    colours = [svg.GRADE_COLOURS[_grade_of_bin(assessment, b)] for b in range(10)]
    distribution = svg.bar_chart(
        "chart-scores",
        "Score distribution (customers per score band)",
        labels,
        [Decimal(bins.get(b, 0)) for b in range(10)],
        colours=colours,
        value_format="count",
    )
    return [ageing, trend, exposures, distribution]


def _grade_of_bin(assessment: PortfolioAssessment, band: int) -> str:
    """The grade of the middle of a score band, for its colour (thresholds are configuration)."""
    middle = band * 10 + 5
    for assessment_item in assessment.customers:
        if assessment_item.score.score == middle:
            return assessment_item.score.grade
    thresholds = {"A": 80, "B": 65, "C": 50, "D": 35}
    return next((grade for grade in GRADES[:4] if middle >= thresholds[grade]), "E")


def to_html(assessment: PortfolioAssessment, kind: ReportKind, *, company_name: str) -> str:
    environment = Environment(
        loader=PackageLoader("erp_recovery.reports", "templates"),
        autoescape=select_autoescape(["html", "j2"]),
        trim_blocks=False,
    )
    template = environment.get_template("report.html.j2")
    tables = [risk_table(assessment), ageing_table(assessment), dso_table(assessment)]
    if kind == "ageing":
        tables = [ageing_table(assessment)]
    elif kind == "dso":
        tables = [dso_table(assessment)]
    company = assessment.company
    grades = Counter(a.score.grade for a in assessment.customers)
    cards = [
        {"name": "open receivables", "value": f"{svg.fmt_amount(company.open_amount)} {assessment.currency}"},
        {"name": "overdue", "value": f"{svg.fmt_amount(company.overdue_amount)} {assessment.currency}"},
        {"name": "DSO countback (days)", "value": show(company.dso_countback) or "-"},
        {"name": "DSO simple (days)", "value": show(company.dso_simple) or "-"},
        {"name": "customers by grade", "value": " ".join(f"{g}:{grades.get(g, 0)}" for g in GRADES)},
    ]
    titles = {"ageing": "Aged balance", "dso": "Days sales outstanding", "risk": "Customer risk report"}
    return template.render(
        title=f"{titles[kind]}: {company_name}",
        company=company_name,
        as_of=assessment.as_of.isoformat(),
        currency=assessment.currency,
        version=__version__,
        cards=cards,
        charts=charts(assessment),
        tables=tables,
        grade_colours=svg.GRADE_COLOURS,
        show=show,
        zip=zip,
    )
