"""How numbers read in the report, and the one place a count is checked against the small-cell threshold."""

from __future__ import annotations

import math
from html import escape


def is_missing(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value)) or str(value) in ("<NA>", "NaT", "nan")


def count_cell(value, threshold: int, unit: str = "") -> str:
    """A count as HTML: never a number from 1 to threshold - 1 (those read "fewer than N").
    Every count the report shows goes through here; tests read the ``data-count`` attributes."""
    if is_missing(value):
        return f'<span class="count suppressed">fewer than {threshold}{escape(unit)}</span>'
    n = int(value)
    if 0 < n < threshold:
        return f'<span class="count suppressed">fewer than {threshold}{escape(unit)}</span>'
    return f'<span class="count" data-count="{n}">{n:,}{escape(unit)}</span>'


def by_unit(value, unit: str) -> str:
    """A KPI value in its unit: minutes, share (0-1), score (1-5) or dollars."""
    if is_missing(value):
        return "—"
    v = float(value)
    if unit == "minutes":
        return f"{v:.1f} min"
    if unit == "share":
        return f"{100 * v:.1f} %"
    if unit == "score":
        return f"{v:.2f} / 5"
    if unit == "dollars":
        return f"${v:,.0f}"
    return f"{v:,.2f}"


def change(value, unit: str) -> str:
    """A change from the prior period, signed, in the KPI's unit (percentage points for shares)."""
    if is_missing(value):
        return "—"
    v = float(value)
    sign = "+" if v > 0 else ("−" if v < 0 else "±")
    a = abs(v)
    if unit == "minutes":
        return f"{sign}{a:.1f} min"
    if unit == "share":
        return f"{sign}{100 * a:.1f} pts"
    if unit == "score":
        return f"{sign}{a:.2f}"
    if unit == "dollars":
        return f"{sign}${a:,.0f}"
    return f"{sign}{a:,.2f}"


def pct(value) -> str:
    return "—" if is_missing(value) else f"{100 * float(value):.1f} %"


def minutes(value) -> str:
    return "—" if is_missing(value) else f"{float(value):.1f} min"


def dollars(value) -> str:
    return "—" if is_missing(value) else f"${float(value):,.0f}"


def millions(value) -> str:
    return "—" if is_missing(value) else f"${float(value) / 1e6:,.1f} M"


def score(value) -> str:
    return "—" if is_missing(value) else f"{float(value):.2f}"
