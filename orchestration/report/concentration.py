"""The violence concentration measures against chance (marts.mart_violence_concentration_intervals):
the Gini index with its interval beside what a random spread of the same crimes would give, so a high
index from sparse counts is not read as concentration."""

from __future__ import annotations

from html import escape

from orchestration.report import format as fmt
from orchestration.report.context import ReportContext

LEVELS = {"area": "Areas", "block": "Blocks"}


def _range(row: dict, measure: str) -> str:
    if fmt.is_missing(row[measure]):
        return "—"
    return f"{row[measure]:.2f} ({row[measure + '_low']:.2f}-{row[measure + '_high']:.2f})"


def against_chance(ctx: ReportContext, city: str, period_start) -> str:
    """The table for one city's year, or "" when the mart is not built."""
    if not ctx.has_table("marts", "mart_violence_concentration_intervals"):
        return ""
    rows = ctx.rows(
        "SELECT * FROM marts.mart_violence_concentration_intervals "
        "WHERE city = ? AND period_type = 'year' AND period_start = ? ORDER BY place_level",
        [city, period_start],
    )
    if not any(r["verdict"] for r in rows):
        return ""
    body = [
        [
            LEVELS.get(r["place_level"], escape(r["place_level"])),
            f"{int(r['places']):,}",
            _range(r, "gini_index"),
            _range(r, "random_spread_gini_index"),
            escape(r["verdict"] or r["note"] or "—"),
        ]
        for r in rows
    ]
    return ctx.table(
        f"Violent crime against chance - {ctx.city_name(city)}",
        ["Places", "How many", "Gini index (95 %)", "Same crimes spread at random (95 %)", "Verdict"],
        body,
        "mart_violence_concentration_intervals",
        ("gini_index", "gini_index_low", "random_spread_gini_index", "verdict"),
    ) + (
        "<p class='note'>With few crimes over many places, most places have none and the Gini index is high by "
        "chance alone: compare it with the index the same crimes give when each falls on a place picked at random. "
        "Intervals: a bootstrap of the year's crimes.</p>"
    )
