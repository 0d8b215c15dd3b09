"""Charts drawn on the server as inline SVG: no JavaScript, no CDN, readable without CSS.

Every number and label that goes into the markup is escaped; each bar carries a <title> so that
hovering it (or a screen reader) gives the exact values.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.template.defaultfilters import pluralize
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from dashboard.periods import Bucket

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


@dataclass(frozen=True)
class Slot:
    """One group of bars: its axis label, what hovering it says, and a value per series."""

    tick: str
    title: str
    values: tuple[float, ...]


def grouped_bars(label: str, series: Sequence[str], slots: Sequence[Slot]) -> SafeString:
    """Bars side by side per slot, one per series (`series` are their CSS classes)."""
    if not slots:
        return mark_safe("")
    top = nice_ceiling(math.ceil(max(max(slot.values) for slot in slots)))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    width = plot_w / len(slots)
    bar = max(width * 0.8 / len(series), 1.0)
    parts = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-label="{escape(label)}">'
    ]
    for i in range(5):
        value = top * i / 4
        y = TOP + plot_h - plot_h * i / 4
        parts.append(
            f'<line class="grid" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}"/>'
            f'<text class="axis" x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">'
            f"{value:g}</text>"
        )
    label_every = max(1, math.ceil(len(slots) / 8))
    for i, slot in enumerate(slots):
        x = LEFT + width * i + (width - len(series) * bar) / 2
        title = escape(slot.title)
        for n, (css, value) in enumerate(zip(series, slot.values, strict=True)):
            h = plot_h * float(value) / top
            parts.append(
                f'<rect class="{escape(css)}" x="{x + n * bar:.1f}" y="{TOP + plot_h - h:.1f}" '
                f'width="{bar:.1f}" height="{h:.1f}"><title>{title}</title></rect>'
            )
        if i % label_every == 0:
            parts.append(
                f'<text class="axis" x="{x + len(series) * bar / 2:.1f}" y="{HEIGHT - 8}" '
                f'text-anchor="middle">{escape(slot.tick)}</text>'
            )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every interpolated value is escaped or numeric


def tick(day: date, bucket: Bucket) -> str:
    return f"{day:%Y-%m}" if bucket == "month" else f"{day:%m-%d}"


def when(day: date, bucket: Bucket) -> str:
    """A bucket as a person reads it: its day, its week's first day, or its month."""
    if bucket == "month":
        return f"{day:%B %Y}"
    if bucket == "week":
        return f"week from {day:%Y-%m-%d}"
    return f"{day:%a} {day:%Y-%m-%d}"


def leads_and_customers(rows: Sequence[tuple[date, int, int]], bucket: Bucket) -> SafeString:
    """Leads (light) and the customers among them (dark), per bucket of their signup."""
    slots = [
        Slot(
            tick(day, bucket),
            f"{when(day, bucket)}: {leads} lead{pluralize(leads)}, "
            f"{customers} customer{pluralize(customers)}",
            (leads, customers),
        )
        for day, leads, customers in rows
    ]
    return grouped_bars(f"Leads and customers per {bucket}", ("leads", "customers"), slots)


def revenue_and_commissions(
    rows: Sequence[tuple[date, Decimal, Decimal]], bucket: Bucket, shown: Callable[[Decimal], str]
) -> SafeString:
    """One currency's referred revenue (light) and commissions (dark) per bucket."""
    slots = [
        Slot(
            tick(day, bucket),
            f"{when(day, bucket)}: revenue {shown(revenue)}, commissions {shown(paid)}",
            (float(revenue), float(paid)),
        )
        for day, revenue, paid in rows
    ]
    return grouped_bars(
        f"Referred revenue and commissions per {bucket}", ("revenue", "commissions"), slots
    )
