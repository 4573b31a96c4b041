"""The report's "How stops end" figure: city-wide outcome shares with their 95 % Wilson intervals,
read from mart_stop_outcomes (the latest year), and the city's hit rate from mart_stop_equity."""

from __future__ import annotations

from orchestration.report import charts
from orchestration.report import format as fmt
from orchestration.report.context import ReportContext


def stop_outcomes(ctx: ReportContext, city: str) -> str:
    """The figure for one city, or "" when it has no stops or none can be published."""
    if not ctx.has_table("marts", "mart_stop_outcomes"):
        return ""
    rows = ctx.rows(
        """
        SELECT outcome, stops, city_stops, share_of_stops, share_of_stops_low, share_of_stops_high, period_label,
               period_start
        FROM marts.mart_stop_outcomes
        WHERE city = ? AND period_type = 'year' AND period_start = (
            SELECT max(period_start) FROM marts.mart_stop_outcomes WHERE city = ? AND period_type = 'year'
        )
        ORDER BY share_of_stops DESC NULLS LAST, outcome
        """,
        [city, city],
    )
    shown = [r for r in rows if r["share_of_stops"] is not None]
    if not shown:
        return ""
    year, city_stops = rows[0]["period_label"], rows[0]["city_stops"]
    bars = [(r["outcome"], r["share_of_stops"]) for r in shown]
    intervals = [(r["share_of_stops_low"], r["share_of_stops_high"]) for r in shown]
    withheld = [r["outcome"] for r in rows if r["share_of_stops"] is None]
    hit = ctx.rows(
        """
        SELECT searches, hit_rate, hit_rate_low, hit_rate_high FROM marts.mart_stop_equity
        WHERE city = ? AND period_type = 'year' AND period_start = ? AND area_id = 'all' AND group_type = 'all'
        """,
        [city, rows[0]["period_start"]],
    )
    if hit and hit[0]["hit_rate"] is not None:
        h = hit[0]
        hit_text = (
            f" Of the searches, {fmt.pct(h['hit_rate'])} found contraband (95 % interval "
            f"{fmt.pct(h['hit_rate_low'])} to {fmt.pct(h['hit_rate_high'])})."
        )
    else:
        hit_text = " Searches were too few to publish a hit rate."
    none = next((r for r in shown if r["outcome"] == "no enforcement"), None)
    lead = (
        f"{fmt.pct(none['share_of_stops'])} (95 % interval {fmt.pct(none['share_of_stops_low'])} to "
        f"{fmt.pct(none['share_of_stops_high'])}) ended with no arrest, citation or warning."
        if none
        else "The share that ended with no enforcement is not published."
    )
    withheld_text = f" Not shown (withheld under the small-cell rule): {', '.join(withheld)}." if withheld else ""
    return ctx.chart(
        f"How stops end - {ctx.city_name(city)}, {year}",
        charts.horizontal_bars(
            "Share of stops by outcome (bars: 95 % Wilson intervals)", bars, fmt.pct, max_value=1.0, intervals=intervals
        ),
        f"Of {fmt.count_cell(city_stops, ctx.threshold)} stops in {year}, {lead}{hit_text}{withheld_text} A warning"
        " counts as an outcome here; the divergence section below counts stops that ended with at most a warning"
        " and found nothing, so its share is higher.",
        "mart_stop_outcomes",
        ("outcome", "share_of_stops", "share_of_stops_low", "share_of_stops_high", "city_stops"),
        f"Counted: all {fmt.count_cell(city_stops, ctx.threshold)} stops of {year} in the city's stop records, each"
        " by its most serious outcome.",
    )
