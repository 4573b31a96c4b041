"""Where it happens: maps of the city's beats (divergence, opportunity zones, violent crime per
resident, response times) drawn from the published polygons (marts.mart_area_boundaries), and how
the records were placed in them by their coordinates (marts.mart_record_placement).

A city with no boundary file says so in words. Areas whose value cannot be published (too few
crimes or stops to compare, fewer than min_cell_count calls or violent crimes) are hatched and the
legend says why; no small count can be recovered from a map (rates are shown only where the
count behind them is publishable).
"""

from __future__ import annotations

import json
from html import escape

import duckdb
import pandas as pd
import shapely

from orchestration.report import format as fmt
from orchestration.report.context import ReportContext
from orchestration.report.maps import DIVERGING, SEQUENTIAL, MapClass, breaks, choropleth, text_alternative
from orchestration.report.sections import not_available, section

LQ_CLASSES = (
    (0.5, "under 0.5x"),
    (0.8, "0.5x to 0.8x"),
    (1.25, "0.8x to 1.25x: in step"),
    (2.0, "1.25x to 2x"),
    (float("inf"), "2x or more"),
)
# A zone's colour says why it is one (hue) and how far past its thresholds (shade: strong darker).
NOT_A_ZONE_COLOR = "#f6f8fa"
ZONE_COLORS = {  # flag -> (strong, moderate)
    "high_crime_burden": ("#b5541c", "#f0b48a"),
    "high_untethered_contact": ("#5e3585", "#c9aee0"),
    "both": ("#9b2335", "#e8a0ab"),
}
ZONE_WORDS = {
    "high_crime_burden": "high crime burden",
    "high_untethered_contact": "high untethered contact",
    "both": "both",
}

PLACEMENT_WORDS = (
    ("placed", "placed (no beat given)"),
    ("re_placed", "placed (unknown beat code)"),
    ("elsewhere", "point in another beat"),
    ("outside", "point in no beat"),
    ("unplaceable", "cannot be placed"),
)
SOURCE_WORDS = {
    "calls_for_service": "Calls for service",
    "incidents": "Crime reports",
    "stops": "Stops",
    "service_requests": "311 requests",
}


def _polygons(ctx: ReportContext, city: str) -> dict[str, object]:
    rows = ctx.rows(
        "SELECT area_id, geometry_wkt FROM marts.mart_area_boundaries WHERE city = ? AND area_level = 'beat' "
        "ORDER BY area_id",
        [city],
    )
    return {r["area_id"]: shapely.from_wkt(r["geometry_wkt"]) for r in rows}


def _sequential(values: dict[str, float], fmt_value, unit: str) -> tuple[list[MapClass], dict[str, MapClass]]:
    limits = breaks(list(values.values()))
    edges = [min(values.values()), *limits, max(values.values())]
    classes = [
        MapClass(f"{fmt_value(lo)} to {fmt_value(hi)}{unit}", SEQUENTIAL[i + (5 - len(edges) + 1)])
        for i, (lo, hi) in enumerate(zip(edges, edges[1:], strict=False))
    ]
    chosen = {}
    for area, v in values.items():
        k = sum(v >= limit for limit in limits)
        chosen[area] = classes[k]
    return classes, chosen


def _latest_year(ctx: ReportContext, table: str, city: str):
    rows = ctx.rows(
        f"SELECT max(period_start) AS start, arg_max(period_label, period_start) AS label FROM marts.{table} "
        "WHERE city = ? AND period_type = 'year'",
        [city],
    )
    return (rows[0]["start"], rows[0]["label"]) if rows and rows[0]["start"] is not None else (None, None)


def _map_figure(ctx, title, svg, alt_head, alt_rows, caption, mart, columns, population) -> str:
    alternative = text_alternative(f"The map in words: every beat ({len(alt_rows)})", alt_head, alt_rows)
    return ctx.chart(title, f'<div class="map">{svg}{alternative}</div>', caption, mart, columns, population)


def _divergence_map(ctx: ReportContext, city: str, areas: dict) -> str:
    start, label = _latest_year(ctx, "mart_enforcement_divergence", city)
    if start is None:
        return ""
    rows = {
        r["area_id"]: r
        for r in ctx.rows(
            "SELECT area_id, is_ranked, location_quotient, small_count_reason FROM marts.mart_enforcement_divergence "
            "WHERE city = ? AND period_type = 'year' AND period_start = ?",
            [city, start],
        )
    }
    classes = [MapClass(text, color) for (_, text), color in zip(LQ_CLASSES, DIVERGING, strict=True)]

    def classify(area: str) -> MapClass | None:
        r = rows.get(area)
        if r is None or not r["is_ranked"] or fmt.is_missing(r["location_quotient"]):
            return None
        return next(c for (limit, _), c in zip(LQ_CLASSES, classes, strict=True) if r["location_quotient"] < limit)

    missing = "too few crimes or stops to compare"
    alt = [
        [escape(a), f"{rows[a]['location_quotient']:.2f}x" if classify(a) else missing if a in rows else "no data"]
        for a in areas
    ]
    svg = choropleth(
        f"Stops against reported crime by beat, {label}", areas, classify, classes, "Share of stops / share of crime",
        missing,
    )  # fmt: skip
    return _map_figure(
        ctx,
        f"Map: stops against reported crime, {label} - {ctx.city_name(city)}",
        svg,
        ["Beat", "Stops / crime (location quotient)"],
        alt,
        "Orange beats see more stops than their share of reported crime would suggest, blue beats fewer; "
        "1x means a beat's share of stops equals its share of crime.",
        "mart_enforcement_divergence",
        ("location_quotient", "is_ranked", "area_id"),
        f"Counted: stops and reported crimes of {escape(label)}, per beat; beats with too few of either are hatched.",
    )


def _zones_map(ctx: ReportContext, city: str, areas: dict) -> str:
    start, label = _latest_year(ctx, "mart_opportunity_zones", city)
    if start is None:
        return ""
    rows = {
        r["area_id"]: r
        for r in ctx.rows(
            "SELECT area_id, zone_flag, zone_strength_band FROM marts.mart_opportunity_zones "
            "WHERE city = ? AND period_type = 'year' AND period_start = ?",
            [city, start],
        )
    }

    def key(r) -> tuple[str, str | None]:
        return (r["zone_flag"], r["zone_strength_band"] if r["zone_flag"] in ZONE_COLORS else None)

    def zone_class(flag: str, band: str | None) -> MapClass:
        if flag not in ZONE_COLORS:
            return MapClass("not a zone", NOT_A_ZONE_COLOR)
        strong, moderate = ZONE_COLORS[flag]
        return MapClass(f"{ZONE_WORDS[flag]}, {band or 'moderate'}", strong if band == "strong" else moderate)

    # legend order: not a zone, then each flag strong before moderate (only what the map shows)
    order = [("none", None)] + [(f, b) for f in ZONE_COLORS for b in ("strong", "moderate")]
    present = {key(r) for r in rows.values()}
    classes = {k: zone_class(*k) for k in sorted(present, key=lambda k: order.index(k) if k in order else len(order))}

    def classify(area: str) -> MapClass | None:
        r = rows.get(area)
        return classes[key(r)] if r else None

    alt = [
        [
            escape(a),
            escape(ZONE_WORDS.get(rows[a]["zone_flag"], "not a zone")) if a in rows else "no data",
            escape(rows[a]["zone_strength_band"] or "") if a in rows else "",
        ]
        for a in areas
    ]
    svg = choropleth(
        f"Public Safety Opportunity Zones, {label}", areas, classify, list(classes.values()),
        "Why a beat is a zone, and how strongly", "no data",
    )  # fmt: skip
    return _map_figure(
        ctx,
        f"Map: opportunity zones, {label} - {ctx.city_name(city)}",
        svg,
        ["Beat", "Zone", "Strength"],
        alt,
        "A zone is a beat with a high crime burden (violent crime per resident well above the city's) or with "
        "police contact untethered to crime (stops far ahead of its share of crime, most ending with at most a "
        "warning and finding nothing). The darker shade is a strong zone: its measure at least "
        f"{ctx.config.zone_strong_strength:g} times its threshold.",
        "mart_opportunity_zones",
        ("zone_flag", "zone_strength_band", "area_id"),
        f"Counted: every beat of the city in {escape(label)}.",
    )


def _violence_map(ctx: ReportContext, city: str, areas: dict) -> str:
    start, label = _latest_year(ctx, "mart_enforcement_divergence", city)
    if start is None:
        return ""
    rows = {
        r["area_id"]: r
        for r in ctx.rows(
            "SELECT area_id, violent_crimes, population, violent_crime_rate_per_1000 "
            "FROM marts.mart_enforcement_divergence WHERE city = ? AND period_type = 'year' AND period_start = ?",
            [city, start],
        )
    }
    # a rate is shown only where the count behind it is publishable (rate x population would give it back)
    shown = {
        a: float(r["violent_crime_rate_per_1000"])
        for a, r in rows.items()
        if a in areas
        and not fmt.is_missing(r["violent_crime_rate_per_1000"])
        and not fmt.is_missing(r["violent_crimes"])
        and r["violent_crimes"] >= ctx.threshold
    }
    if not shown:
        return ""
    classes, chosen = _sequential(shown, lambda v: f"{v:.1f}", "")
    missing = f"fewer than {ctx.threshold} violent crimes"
    alt = [[escape(a), f"{shown[a]:.1f}" if a in shown else missing] for a in areas]
    svg = choropleth(
        f"Violent crimes per 1,000 residents by beat, {label}", areas, chosen.get, classes,
        "Violent crimes per 1,000 residents", missing,
    )  # fmt: skip
    return _map_figure(
        ctx,
        f"Map: violent crime per resident, {label} - {ctx.city_name(city)}",
        svg,
        ["Beat", "Violent crimes per 1,000 residents"],
        alt,
        "Darker beats had more violent crime for their number of residents. Classes are the quintiles of the "
        "beats' rates.",
        "mart_enforcement_divergence",
        ("violent_crime_rate_per_1000", "violent_crimes", "population"),
        f"Counted: violent crimes reported in {escape(label)} in each beat, per 1,000 residents of the beat.",
    )


def _response_map(ctx: ReportContext, city: str, areas: dict) -> str:
    if not ctx.has_table("marts", "mart_response_times"):
        return ""
    rows = ctx.rows(
        "SELECT area_id, call_month, calls, is_suppressed, median_received_to_on_scene_minutes AS median "
        "FROM marts.mart_response_times WHERE city = ? AND priority = 'all' AND area_id <> 'all' "
        "AND response_times_available AND call_month = (SELECT max(call_month) FROM marts.mart_response_times "
        "WHERE city = ? AND response_times_available)",
        [city, city],
    )
    if not rows:
        return ""
    month = rows[0]["call_month"]
    shown = {
        r["area_id"]: float(r["median"])
        for r in rows
        if r["area_id"] in areas and not r["is_suppressed"] and not fmt.is_missing(r["median"])
    }
    if not shown:
        return ""
    classes, chosen = _sequential(shown, lambda v: f"{v:.0f}", " min")
    missing = f"fewer than {ctx.threshold} calls"
    alt = [[escape(a), fmt.minutes(shown[a]) if a in shown else missing] for a in areas]
    svg = choropleth(
        f"Median response time by beat, {month:%b %Y}", areas, chosen.get, classes,
        "Median minutes from call to first unit on scene", missing,
    )  # fmt: skip
    return _map_figure(
        ctx,
        f"Map: response times, {month:%b %Y} - {ctx.city_name(city)}",
        svg,
        ["Beat", "Median call to on scene"],
        alt,
        "Darker beats waited longer for a unit. Classes are the quintiles of the beats' medians.",
        "mart_response_times",
        ("median_received_to_on_scene_minutes", "is_suppressed", "area_id"),
        f"Counted: calls from residents with a recorded arrival time, {month:%b %Y}, per beat.",
    )


def _placement(ctx: ReportContext, city: str) -> str:
    if not ctx.has_table("marts", "mart_record_placement"):
        return ""
    rows = ctx.rows(
        "SELECT source, sum(records) AS records, sum(placed) AS placed, sum(re_placed) AS re_placed, "
        "sum(elsewhere) AS elsewhere, sum(outside) AS outside, sum(unplaceable) AS unplaceable "
        "FROM marts.mart_record_placement WHERE city = ? GROUP BY source ORDER BY source",
        [city],
    )
    if not rows:
        return ""
    body = [
        [escape(SOURCE_WORDS.get(r["source"], r["source"])), fmt.count_cell(r["records"], ctx.threshold)]
        + [fmt.count_cell(r[k], ctx.threshold) if r[k] else "0" for k, _ in PLACEMENT_WORDS]
        for r in rows
    ]
    return ctx.table(
        f"Records placed in beats by their coordinates - {ctx.city_name(city)}",
        ["Records", "All", *[w for _, w in PLACEMENT_WORDS]],
        body,
        "mart_record_placement",
        ("records", "placed", "re_placed", "elsewhere", "outside", "unplaceable"),
    )


def where_it_happens(ctx: ReportContext) -> str:
    question = "Where does it happen? Beats on a map."
    if not ctx.has_table("marts", "mart_area_boundaries"):
        return section("maps", "Where it happens", question, not_available("No area boundaries published yet."))
    ctx.marts_read.add("mart_area_boundaries")  # every map's polygons: its page documents them
    cities = [r["city"] for r in ctx.rows("SELECT DISTINCT city FROM marts.mart_area_boundaries ORDER BY 1")]
    parts = []
    for city in cities:
        areas = _polygons(ctx, city)
        if not areas:
            continue
        parts.append(
            f"<h3>{escape(ctx.city_name(city))}</h3>"
            + _divergence_map(ctx, city, areas)
            + _zones_map(ctx, city, areas)
            + _violence_map(ctx, city, areas)
            + _response_map(ctx, city, areas)
            + _placement(ctx, city)
        )
    intro = (
        "<p>Maps are drawn from the city's own beat boundaries (published as <code>mart_area_boundaries</code>, "
        'which BI tools can map too, and here as <a href="boundaries.geojson">boundaries.geojson</a> and '
        '<a href="boundaries.parquet">boundaries.parquet</a>, GeoParquet). A city without a boundary file has '
        "no maps. A record that gives no beat, or a beat code the boundaries do not have, is counted in every "
        "figure in the beat its location falls in; a record whose location lies in another beat than the one it "
        "gives keeps its own beat (the table under the maps counts both).</p>"
    )
    return section(
        "maps", "Where it happens", question, intro + ("".join(parts) or not_available("No city has beats."))
    )


def write_boundary_downloads(ctx: ReportContext, out) -> list[str]:
    """``boundaries.geojson`` (RFC 7946) and ``boundaries.parquet`` (GeoParquet 1.1: WKB geometry with
    its ``geo`` metadata) beside the report: every published area, with city, level, id and name."""
    if not ctx.has_table("marts", "mart_area_boundaries"):
        return []
    rows = ctx.rows(
        "SELECT city, area_level, area_id, area_name, area_sq_km, geometry_geojson, geometry_wkt "
        "FROM marts.mart_area_boundaries ORDER BY city, area_level, area_id"
    )
    if not rows:
        return []
    features = [
        {
            "type": "Feature",
            "properties": {k: r[k] for k in ("city", "area_level", "area_id", "area_name", "area_sq_km")},
            "geometry": json.loads(r["geometry_geojson"]),
        }
        for r in rows
    ]
    (out / "boundaries.geojson").write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    geoms = shapely.from_wkt([r["geometry_wkt"] for r in rows])
    frame = pd.DataFrame(
        {k: [r[k] for r in rows] for k in ("city", "area_level", "area_id", "area_name", "area_sq_km")}
        | {"geometry": shapely.to_wkb(geoms)}
    )
    xmin, ymin, xmax, ymax = (float(v) for v in shapely.total_bounds(geoms))
    geo = {
        "version": "1.1.0",
        "primary_column": "geometry",
        "columns": {
            "geometry": {
                "encoding": "WKB",
                "geometry_types": sorted({g.geom_type for g in geoms}),
                "bbox": [xmin, ymin, xmax, ymax],
            }
        },
    }
    con = duckdb.connect()
    try:
        con.register("areas", frame)
        target = str(out / "boundaries.parquet").replace("'", "''")
        con.execute(
            f"COPY (SELECT * FROM areas) TO '{target}' (FORMAT parquet, KV_METADATA {{geo: ?}})", [json.dumps(geo)]
        )
    finally:
        con.close()
    return ["boundaries.geojson", "boundaries.parquet"]
