"""Charts drawn on the server as inline SVG: no JavaScript, no CDN, readable without CSS.

Every number and label that goes into the markup is escaped; each bar carries a <title> so that
hovering it (or a screen reader) gives the exact values.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import date

from django.template.defaultfilters import pluralize
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

WIDTH, HEIGHT = 720, 240
LEFT, RIGHT, TOP, BOTTOM = 40, 10, 12, 28


def nice_ceiling(value: int) -> int:
    """A round axis maximum at or above `value`: 1, 2, 5, 10, 20, 50…"""
    if value <= 5:
        return 5
    magnitude = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 5, 10):
        if value <= step * magnitude:
            return step * magnitude
    return 10 * magnitude


def leads_and_customers(rows: Sequence[tuple[date, int, int]]) -> SafeString:
    """Grouped bars per day: leads (light) and customers (dark)."""
    if not rows:
        return mark_safe("")
    top = nice_ceiling(max(max(leads, customers) for _, leads, customers in rows))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    slot = plot_w / len(rows)
    bar = max(slot * 0.4, 1.0)
    parts = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-label="Leads and customers per day">'
    ]
    for i in range(5):
        value = top * i / 4
        y = TOP + plot_h - plot_h * i / 4
        parts.append(
            f'<line class="grid" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}"/>'
            f'<text class="axis" x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">'
            f"{value:g}</text>"
        )
    label_every = max(1, math.ceil(len(rows) / 8))
    for i, (day, leads, customers) in enumerate(rows):
        x = LEFT + slot * i + (slot - 2 * bar) / 2
        said = f"{leads} lead{pluralize(leads)}, {customers} customer{pluralize(customers)}"
        title = escape(f"{day:%a} {day:%Y-%m-%d}: {said}")
        for offset, value, css in ((0, leads, "leads"), (bar, customers, "customers")):
            h = plot_h * value / top
            parts.append(
                f'<rect class="{css}" x="{x + offset:.1f}" y="{TOP + plot_h - h:.1f}" '
                f'width="{bar:.1f}" height="{h:.1f}"><title>{title}</title></rect>'
            )
        if i % label_every == 0:
            parts.append(
                f'<text class="axis" x="{x + bar:.1f}" y="{HEIGHT - 8}" text-anchor="middle">'
                f"{escape(f'{day:%m-%d}')}</text>"
            )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every interpolated value is escaped or numeric
