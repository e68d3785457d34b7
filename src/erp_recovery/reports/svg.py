"""Small inline SVG charts (no JavaScript, no external file): bars, horizontal bars, lines.

Values are Decimals; coordinates are computed with them and printed with one decimal, so the
output is stable for tests and reviews. Every chart is an ``<svg role="img">`` with a ``<title>``
for screen readers, and text labels with the values so the chart reads without hovering.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from html import escape

PALETTE = ("#2f6db5", "#e07b39", "#3a9b5c", "#c0392b", "#8e6bbf", "#7f8c8d")
GRADE_COLOURS = {"A": "#2e8b57", "B": "#7cb342", "C": "#f2b233", "D": "#e67e22", "E": "#c0392b"}


def _n(value: Decimal | float | int) -> str:
    return f"{Decimal(str(value)).quantize(Decimal('0.1'))}"


def fmt_amount(value: Decimal) -> str:
    """12345.6 → "12 346" (thin grouping, no decimals) for chart labels."""
    return f"{value.quantize(Decimal(1)):,}".replace(",", "\u202f")


def _frame(width: int, height: int, title: str, body: list[str], chart_id: str) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" id="{escape(chart_id)}" class="chart" '
        f'width="{width}" height="{height}" viewBox="0 0 {width} {height}" aria-labelledby="{escape(chart_id)}-title">'
        f'<title id="{escape(chart_id)}-title">{escape(title)}</title>'
        f'<text x="{width / 2:.1f}" y="18" text-anchor="middle" class="chart-title">{escape(title)}</text>'
        + "".join(body)
        + "</svg>"
    )


def bar_chart(
    chart_id: str,
    title: str,
    labels: Sequence[str],
    values: Sequence[Decimal],
    *,
    colours: Sequence[str] | None = None,
    width: int = 560,
    height: int = 300,
    value_format: str = "amount",
) -> str:
    """Vertical bars, one per label, with the value above each bar."""
    left, right, top, bottom = 50, 10, 36, 44
    plot_w, plot_h = width - left - right, height - top - bottom
    top_value = max([v for v in values if v > 0], default=Decimal(1))
    slot = Decimal(plot_w) / max(1, len(values))
    bar_w = slot * Decimal("0.7")
    body = [f'<line x1="{left}" y1="{top + plot_h}" x2="{width - right}" y2="{top + plot_h}" class="axis"/>']
    for index, (label, value) in enumerate(zip(labels, values, strict=True)):
        height_px = Decimal(plot_h) * max(value, Decimal(0)) / top_value
        x = Decimal(left) + slot * index + (slot - bar_w) / 2
        y = Decimal(top + plot_h) - height_px
        colour = (colours or PALETTE)[index % len(colours or PALETTE)]
        shown = fmt_amount(value) if value_format == "amount" else str(value)
        body.append(
            f'<rect x="{_n(x)}" y="{_n(y)}" width="{_n(bar_w)}" height="{_n(height_px)}" fill="{colour}">'
            f"<title>{escape(label)}: {escape(shown)}</title></rect>"
            f'<text x="{_n(x + bar_w / 2)}" y="{_n(y - 4)}" text-anchor="middle" class="value">{escape(shown)}</text>'
            f'<text x="{_n(x + bar_w / 2)}" y="{top + plot_h + 16}" text-anchor="middle" class="label">'
            f"{escape(label)}</text>"
        )
    return _frame(width, height, title, body, chart_id)


def hbar_chart(
    chart_id: str,
    title: str,
    labels: Sequence[str],
    values: Sequence[Decimal],
    *,
    markers: Sequence[Decimal | None] | None = None,
    colours: Sequence[str] | None = None,
    width: int = 560,
) -> str:
    """Horizontal bars (top exposures), with an optional marker per bar (the credit limit)."""
    left, right, top, row = 170, 70, 34, 24
    height = top + row * max(1, len(values)) + 16
    plot_w = width - left - right
    candidates = [v for v in values if v > 0] + [m for m in (markers or []) if m is not None and m > 0]
    top_value = max(candidates, default=Decimal(1))
    body: list[str] = []
    for index, (label, value) in enumerate(zip(labels, values, strict=True)):
        y = top + row * index
        length = Decimal(plot_w) * max(value, Decimal(0)) / top_value
        colour = (colours or PALETTE)[index % len(colours or PALETTE)] if colours else PALETTE[0]
        short = label if len(label) <= 26 else label[:25] + "…"
        body.append(
            f'<text x="{left - 6}" y="{y + 16}" text-anchor="end" class="label">{escape(short)}</text>'
            f'<rect x="{left}" y="{y + 4}" width="{_n(length)}" height="{row - 8}" fill="{colour}">'
            f"<title>{escape(label)}: {escape(fmt_amount(value))}</title></rect>"
            f'<text x="{_n(left + length + 4)}" y="{y + 16}" class="value">{escape(fmt_amount(value))}</text>'
        )
        marker = markers[index] if markers else None
        if marker is not None and marker > 0:
            x = Decimal(left) + Decimal(plot_w) * marker / top_value
            body.append(
                f'<line x1="{_n(x)}" y1="{y + 1}" x2="{_n(x)}" y2="{y + row - 1}" class="limit">'
                f"<title>credit limit {escape(fmt_amount(marker))}</title></line>"
            )
    return _frame(width, height, title, body, chart_id)


def line_chart(
    chart_id: str,
    title: str,
    labels: Sequence[str],
    series: Sequence[tuple[str, Sequence[Decimal | None]]],
    *,
    width: int = 560,
    height: int = 300,
) -> str:
    """One polyline per series over the labels, with a legend; None values break nothing (skipped)."""
    left, right, top, bottom = 50, 30, 36, 58
    plot_w, plot_h = width - left - right, height - top - bottom
    present = [v for _, values in series for v in values if v is not None]
    top_value = max(present, default=Decimal(1)) or Decimal(1)
    step = Decimal(plot_w) / max(1, len(labels) - 1)
    body = [
        f'<line x1="{left}" y1="{top + plot_h}" x2="{width - right}" y2="{top + plot_h}" class="axis"/>',
        f'<line x1="{left}" y1="{top}" x2="{left}" y2="{top + plot_h}" class="axis"/>',
        f'<text x="{left - 6}" y="{top + 4}" text-anchor="end" class="label">{escape(_n(top_value))}</text>',
        f'<text x="{left - 6}" y="{top + plot_h}" text-anchor="end" class="label">0</text>',
    ]
    for index, label in enumerate(labels):
        if index % max(1, len(labels) // 6) == 0 or index == len(labels) - 1:
            body.append(
                f'<text x="{_n(Decimal(left) + step * index)}" y="{top + plot_h + 16}" text-anchor="middle" '
                f'class="label">{escape(label)}</text>'
            )
    for number, (name, values) in enumerate(series):
        colour = PALETTE[number % len(PALETTE)]
        points = [
            f"{_n(Decimal(left) + step * index)},{_n(Decimal(top + plot_h) - Decimal(plot_h) * value / top_value)}"
            for index, value in enumerate(values)
            if value is not None
        ]
        if points:
            body.append(
                f'<polyline points="{" ".join(points)}" fill="none" stroke="{colour}" stroke-width="2"/>'
            )
            for point, value in zip(points, [v for v in values if v is not None], strict=True):
                x, y = point.split(",")
                body.append(
                    f'<circle cx="{x}" cy="{y}" r="3" fill="{colour}"><title>{escape(name)}: {value}</title></circle>'
                )
        legend_x = left + 150 * number
        body.append(
            f'<rect x="{legend_x}" y="{height - 18}" width="12" height="12" fill="{colour}"/>'
            f'<text x="{legend_x + 16}" y="{height - 8}" class="label">{escape(name)}</text>'
        )
    return _frame(width, height, title, body, chart_id)
