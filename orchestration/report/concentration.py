"""Violence concentration beyond the top places: the Gini index against chance
(marts.mart_violence_concentration_intervals), so a high index from sparse counts is not read as
concentration, and the concentration curve beside Weisburd's bandwidth (marts.mart_concentration_curve)."""

from __future__ import annotations

from html import escape

from orchestration.report import charts
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


CURVES = (("violent_crimes", "violent crimes"), ("incidents", "all reported incidents"))


def _half(points: list[dict]) -> dict | None:
    """The curve's first point holding at least half of the crimes (half itself where the grid has it)."""
    return next((p for p in points if p["crime_share_pct"] >= 50), None)


def curve(ctx: ReportContext, city: str, period_start, label: str) -> str:
    """The year's concentration curve over blocks, or why there is none ("" when the mart is not built)."""
    if not ctx.has_table("marts", "mart_concentration_curve"):
        return ""
    rows = ctx.rows(
        "SELECT * FROM marts.mart_concentration_curve WHERE city = ? AND period_type = 'year' AND period_start = ? "
        "AND place_level = 'block' ORDER BY measure, crime_share_pct",
        [city, period_start],
    )
    by_measure = {m: [r for r in rows if r["measure"] == m and r["is_published"]] for m, _ in CURVES}
    violent, incidents = by_measure["violent_crimes"], by_measure["incidents"]
    if not violent and not incidents:
        reason = next((r["note"] for r in rows), None)
        return "" if reason is None else f'<p class="muted">Concentration curve: {escape(reason)}.</p>'
    curves = [
        charts.Curve(f"{name} by block", [(p["share_of_places"], p["crime_share"]) for p in by_measure[m]])
        for m, name in CURVES
        if by_measure[m]
    ]
    if violent:
        curves.append(
            charts.Curve(
                "violent crimes, as even as their count allows",
                [(p["share_of_places_if_even"], p["crime_share"]) for p in violent],
                dashed=True,
            )
        )
    bands = [
        charts.Band(
            p["crime_share"],
            p["benchmark_share_of_places_low"],
            p["benchmark_share_of_places_high"],
            f"Weisburd {p['crime_share_pct']} %",
        )
        for p in incidents
        if not fmt.is_missing(p["benchmark_share_of_places_low"])
    ]
    found = [
        f"{p['crime_share_pct']} % of {what} on {fmt.pct(p['share_of_places'])} of the blocks"
        for what, p in (("the violent crimes were", _half(violent)), ("all reported incidents", _half(incidents)))
        if p is not None
    ]
    missing = next((r["note"] for r in rows if r["measure"] == "violent_crimes" and not r["is_published"]), None)
    lead = "; ".join(found) + "." if found else ""
    if missing:
        lead += f" Violent crimes: {escape(missing)}."
    return ctx.chart(
        f"Share of crime against share of blocks, {label} - {ctx.city_name(city)}",
        charts.share_curve(
            f"Concentration curve, {label}", "share of blocks (most crime first)", "share of crime", curves, bands
        ),
        f"{lead} In Weisburd's eight cities, half of all crime was on 2.1-6 % of street segments and a "
        "quarter on 0.4-1.6 % (the grey bars). A block where nothing was reported is unknown here, so the "
        "shares are of blocks with at least one report, and understate concentration over every street block. "
        "The dashed line is how far sparsity alone goes: the same number of violent crimes spread as evenly "
        "as possible.",
        "mart_concentration_curve",
        ("share_of_places", "crime_share", "share_of_places_if_even", "benchmark_share_of_places_low"),
        f"Counted: reported incidents of {escape(label)} with a block address, the violent ones the FBI's "
        "(murder, rape, robbery, aggravated assault); each step of the curve carries at least "
        f"{ctx.threshold} crimes.",
    )
