"""Divergence, opportunity zones and violence concentration in the report (questions 2.1, 3.1 and 5).

They read the enforcement and violence marts; a warehouse where a mart is not built says "not yet
available" instead of showing an empty chart. Counts of stops and crimes go through count_cell.
"""

from __future__ import annotations

from html import escape

from orchestration.report import charts
from orchestration.report import format as fmt
from orchestration.report.concentration import against_chance, curve
from orchestration.report.context import ReportContext
from orchestration.report.sections import not_available, section


def divergence_and_zones(ctx: ReportContext) -> str:
    question = "Where does enforcement diverge from crime, and which communities need more resources? (2.1, 3.1)"
    parts = []
    if ctx.has_table("marts", "mart_enforcement_divergence"):
        parts.append(_divergence(ctx))
    else:
        parts.append(not_available("Enforcement divergence is not yet available (marts.mart_enforcement_divergence)."))
    if ctx.has_table("marts", "mart_opportunity_zones"):
        parts.append(_zones(ctx))
    else:
        parts.append(
            not_available("Public Safety Opportunity Zones are not yet available (marts.mart_opportunity_zones).")
        )
    return section("divergence-zones", "Divergence and opportunity zones", question, "".join(parts))


def violence(ctx: ReportContext) -> str:
    question = "How concentrated is violent crime? (question 5)"
    if not ctx.has_table("marts", "mart_violence_concentration"):
        body = not_available("Violence concentration is not yet available (marts.mart_violence_concentration).")
    else:
        body = _violence(ctx)
    return section("violence", "Violence concentration", question, body)


def _latest_year(ctx: ReportContext, table: str) -> list[dict]:
    """(city, period_start, period_label) of each city's latest year in a mart."""
    return ctx.rows(
        f"SELECT city, max(period_start) AS period_start, arg_max(period_label, period_start) AS period_label "
        f"FROM marts.{table} WHERE period_type = 'year' GROUP BY city ORDER BY city"
    )


def _divergence(ctx: ReportContext) -> str:
    parts = []
    for year in _latest_year(ctx, "mart_enforcement_divergence"):
        city, label = year["city"], year["period_label"]
        rows = ctx.rows(
            "SELECT * FROM marts.mart_enforcement_divergence WHERE city = ? AND period_type = 'year' "
            "AND period_start = ? AND is_ranked ORDER BY location_quotient DESC",
            [city, year["period_start"]],
        )
        out = f"<h3>{escape(ctx.city_name(city))}</h3>"
        if not rows:
            parts.append(out + not_available(f"Too few crimes or stops per area in {escape(label)} to compare them."))
            continue
        top = rows[0]
        bars = [(r["area_id"], r["location_quotient"]) for r in rows if not fmt.is_missing(r["location_quotient"])]
        out += ctx.chart(
            f"Stops against reported crime, {label} - {ctx.city_name(city)}",
            charts.horizontal_bars(
                "Area's share of stops / its share of reported crime (1 = in step)",
                bars[:20],
                lambda v: f"{v:.2f}x",
                target=1.0,
                target_label="in step with crime",
            ),
            f"In {escape(label)}, area {escape(top['area_id'])} had {top['location_quotient']:.1f} times the stops its "
            f"share of reported crime would suggest; {fmt.pct(top['untethered_share'])} of its stops ended with "
            f"at most a warning (no arrest, citation or summons) and found no contraband (city-wide: "
            f"{fmt.pct(top['city_untethered_share'])}). Such stops are what this report calls contact "
            "<em>untethered</em> to crime: police contact that produced no sign of an offence. Areas with too few "
            "crimes or stops to compare are left out.",
            "mart_enforcement_divergence",
            ("location_quotient", "stop_share", "crime_share", "untethered_share", "city_untethered_share"),
            f"Counted: stops and reported crimes of {escape(label)} in each area (beat) with enough of both to "
            "compare; 1 means an area's share of stops equals its share of crime.",
        )
        parts.append(out)
    return "".join(parts) or not_available("No enforcement data loaded yet.")


def _zones(ctx: ReportContext) -> str:
    parts = []
    for year in _latest_year(ctx, "mart_opportunity_zones"):
        city, label = year["city"], year["period_label"]
        flagged = ctx.rows(
            "SELECT area_id, zone_flag, zone_strength_band, reason FROM marts.mart_opportunity_zones "
            "WHERE city = ? AND period_type = 'year' AND period_start = ? AND zone_flag <> 'none' ORDER BY area_id",
            [city, year["period_start"]],
        )
        months = {
            r["area_id"]: r["months"]
            for r in ctx.rows(
                "SELECT area_id, count(*) AS months FROM marts.mart_opportunity_zones WHERE city = ? "
                "AND period_type = 'month' AND year(period_start) = year(CAST(? AS DATE)) AND zone_flag <> 'none' "
                "GROUP BY area_id",
                [city, year["period_start"]],
            )
        }
        if not flagged:
            parts.append(f"<p>No area of {escape(ctx.city_name(city))} was an opportunity zone in {escape(label)}.</p>")
            continue
        body = [
            [
                escape(r["area_id"]),
                escape(r["zone_flag"].replace("_", " ")),
                escape(r["zone_strength_band"] or ""),
                escape(r["reason"]),
                f"{months.get(r['area_id'], 0)} of 12",
            ]
            for r in flagged
        ]
        parts.append(
            ctx.table(
                f"Public Safety Opportunity Zones, {label} - {ctx.city_name(city)}",
                ["Area", "Why", "Strength", "In plain words", "Months flagged"],
                body,
                "mart_opportunity_zones",
                ("zone_flag", "zone_strength_band", "reason", "area_id"),
            )
            + '<p class="muted">An area is flagged for a high crime burden (violent crime per resident well above '
            "the city's) or for police contact untethered to crime: stops far ahead of its share of crime, most of "
            "them ending with at most a warning and finding nothing. The thresholds are set in one place (dbt vars)."
            "</p>"
        )
    return "".join(parts) or not_available("No opportunity zones computed yet.")


def _violence(ctx: ReportContext) -> str:
    parts = []
    for year in _latest_year(ctx, "mart_violence_concentration"):
        city, label = year["city"], year["period_label"]
        rows = {
            r["place_level"]: r
            for r in ctx.rows(
                "SELECT * FROM marts.mart_violence_concentration WHERE city = ? AND period_type = 'year' "
                "AND period_start = ?",
                [city, year["period_start"]],
            )
        }
        out = f"<h3>{escape(ctx.city_name(city))}</h3>"
        total = next((r["placed_violent_crimes"] for r in rows.values()), 0) or 0
        if total < ctx.threshold:
            out += not_available("Too few violent crimes to publish their concentration.")
            parts.append(out + curve(ctx, city, year["period_start"], label))
            continue
        bars = [
            (f"top {pct} % of {level}s", r[f"top_{pct}pct_share"])
            for level, r in sorted(rows.items(), reverse=True)
            for pct in (1, 5, 10)
            if not fmt.is_missing(r[f"top_{pct}pct_share"])
        ]
        block = rows.get("block")
        lead = (
            f"The top 10 % of blocks had {fmt.pct(block['top_10pct_share'])} of the "
            f"{fmt.count_cell(block['placed_violent_crimes'], ctx.threshold)} violent crimes placed on a block "
            f"(Gini index {block['gini_index']:.2f}; 0 = spread evenly, 1 = all in one place)."
            if block
            else ""
        )
        out += ctx.chart(
            f"How concentrated violent crime is, {label} - {ctx.city_name(city)}",
            charts.horizontal_bars("Share of violent crimes in the top places", bars, fmt.pct, max_value=1.0),
            f"{lead} A small set of places carrying much of the violence is where focused, lighter-footprint "
            "strategies can aim.",
            "mart_violence_concentration",
            ("top_1pct_share", "top_5pct_share", "top_10pct_share", "gini_index", "placed_violent_crimes"),
            f"Counted: violent crimes reported in {escape(label)} whose address places them on a block or in an area. "
            "Violent crime is the FBI's: murder, rape, robbery and aggravated assault (simple assault is counted "
            "apart, in mart_enforcement_divergence).",
        )
        out += against_chance(ctx, city, year["period_start"])
        out += curve(ctx, city, year["period_start"], label)
        places = (
            ctx.rows(
                "SELECT place_id, violent_crimes, share_of_violent_crimes FROM marts.mart_violent_places "
                "WHERE city = ? AND period_type = 'year' AND period_start = ? AND place_level = 'block' "
                "ORDER BY place_rank, place_id LIMIT 5",
                [city, year["period_start"]],
            )
            if ctx.has_table("marts", "mart_violent_places")
            else []
        )
        if places:
            out += ctx.table(
                f"Blocks with the most violent crime, {label} - {ctx.city_name(city)}",
                ["Block", "Violent crimes", "Share of the city's"],
                [
                    [
                        escape(p["place_id"]),
                        fmt.count_cell(p["violent_crimes"], ctx.threshold),
                        fmt.pct(p["share_of_violent_crimes"]),
                    ]
                    for p in places
                ],
                "mart_violent_places",
                ("place_id", "violent_crimes", "share_of_violent_crimes"),
            )
        elif ctx.has_table("marts", "mart_violent_places"):
            out += (
                f'<p class="muted">No block had {ctx.threshold} or more violent crimes in {escape(label)}; '
                "a block with fewer is never named (a handful of crimes at one address points at its victims).</p>"
            )
        parts.append(out)
    return "".join(parts) or not_available("No violent crime loaded yet.")
