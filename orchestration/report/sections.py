"""The report's section frame (``section``, ``not_available``, ``label``, ``scorecard_target``) and
three of its sections: service demand, officer-initiated activity, response times. The others have
their own modules (scorecard, enforcement, geography, community, budget, what_if, quality); each
reads its marts and writes charts with captions.

A section that has no data for a city says so in words (never an empty chart). Counts always go
through ``format.count_cell``; charts show shares, medians and means, never raw small counts.
"""

from __future__ import annotations

from html import escape

from orchestration.report import charts, plain
from orchestration.report import format as fmt
from orchestration.report.context import ReportContext
from orchestration.report.stop_outcomes import stop_outcomes
from orchestration.report.stop_tests import stop_disparity_tests


def section(anchor: str, title: str, question: str, body: str) -> str:
    return f'<section id="{anchor}"><h2>{escape(title)}</h2><p class="question">{escape(question)}</p>{body}</section>'


def not_available(text: str) -> str:
    return f'<p class="unavailable">{text}</p>'


def label(value: str) -> str:
    return value.replace("_", " ")


def scorecard_target(ctx: ReportContext, city: str, kpi: str) -> float | None:
    """The target the scorecard holds the city to for a KPI (a city's own target, else the default)."""
    if not ctx.has_table("marts", "mart_kpi_scorecard"):
        return None
    rows = ctx.rows(
        "SELECT max(target) AS target FROM marts.mart_kpi_scorecard WHERE city = ? AND kpi = ?", [city, kpi]
    )
    return rows[0]["target"] if rows else None


def _hours_basis(measured: int, calls: int) -> str:
    """How a city's officer hours were had, said per city: measured, estimated, or a mix."""
    if measured == 0:
        return (
            "This city's extract records no dispatch and clear times, so every call's hours are "
            "estimated from its category's default time and units (seeds/service_time_defaults.csv)."
        )
    if measured == calls:
        return "Officer hours are measured from dispatch to clear, times the units sent."
    return (
        f"Officer hours are measured from dispatch to clear, times the units sent, for {fmt.pct(measured / calls)} "
        "of calls; the others (no usable clear time) take their category's default time and units."
    )


def service_demand(ctx: ReportContext) -> str:
    if not ctx.has_table("marts", "mart_service_demand"):
        return section("service-demand", "Service demand", "", not_available("Not yet available."))
    rows = ctx.rows(
        """
        SELECT coalesce(c.city, d.source_profile) AS city, d.service_category,
               sum(d.calls) AS calls, sum(d.officer_hours) AS officer_hours,
               sum(d.officer_initiated_calls) AS officer_initiated,
               sum(d.non_criminal_calls) AS non_criminal, sum(d.alternative_eligible_calls) AS alternative,
               sum(d.calls_with_measured_time) AS measured
        FROM marts.mart_service_demand d
        LEFT JOIN reference.city_source_profiles c USING (source_profile)
        GROUP BY ALL ORDER BY 1, 3 DESC
        """
    )
    parts = []
    for city in sorted({r["city"] for r in rows}):
        mine = [r for r in rows if r["city"] == city]
        total = sum(r["calls"] for r in mine)
        hours = sum(r["officer_hours"] or 0 for r in mine)
        if total < ctx.threshold:
            parts.append(f"<h3>{escape(ctx.city_name(city))}</h3>" + not_available("Too few calls to publish."))
            continue
        non_criminal = sum(r["non_criminal"] for r in mine) / total
        initiated = sum(r["officer_initiated"] or 0 for r in mine) / total
        population = (
            f"Counted: all {fmt.count_cell(total, ctx.threshold)} calls and events in the dispatch records, "
            f"of which {fmt.pct(initiated)} were started by an officer (a stop, a patrol, a check) rather "
            "than by a resident's call."
        )
        alternative = sum(r["alternative"] for r in mine) / total
        top_hours = max(mine, key=lambda r: r["officer_hours"] or 0)
        call_bars = [(label(r["service_category"]), r["calls"] / total) for r in mine]
        hour_bars = sorted(
            ((label(r["service_category"]), (r["officer_hours"] or 0) / hours) for r in mine if hours),
            key=lambda b: -b[1],
        )
        parts.append(
            f"<h3>{escape(ctx.city_name(city))}</h3>"
            + ctx.chart(
                f"What calls are about - {ctx.city_name(city)}",
                charts.horizontal_bars("Share of calls by service category", call_bars, fmt.pct),
                f"Of {fmt.count_cell(total, ctx.threshold)} calls for service, {fmt.pct(non_criminal)} did not report "
                f"a crime and {fmt.pct(alternative)} were of a kind a non-police responder (crisis team, community "
                "navigator, civilian traffic unit, 311) could take.",
                "mart_service_demand",
                (
                    "calls",
                    "service_category",
                    "non_criminal_calls",
                    "alternative_eligible_calls",
                    "officer_initiated_calls",
                ),
                population,
            )
            + (
                ctx.chart(
                    f"Where officer time goes - {ctx.city_name(city)}",
                    charts.horizontal_bars("Share of officer hours by service category", hour_bars, fmt.pct),
                    f"Officers spent {fmt.pct((top_hours['officer_hours'] or 0) / hours)} of their time on calls "
                    f"about {escape(label(top_hours['service_category']))}, the most of any category. "
                    + _hours_basis(sum(r["measured"] or 0 for r in mine), total),
                    "mart_service_demand",
                    ("officer_hours", "service_category"),
                    "Counted: officer hours on every call and event with a dispatch and a clear time.",
                )
                if hours
                else ""
            )
        )
    return section(
        "service-demand",
        "Service demand",
        "What services do the police deliver? (question 1.1)",
        "".join(parts) or not_available("No calls loaded yet."),
    )


# ---------------------------------------------------------------------------------------------- 1.2


def officer_initiated(ctx: ReportContext) -> str:
    if not ctx.has_table("marts", "mart_officer_initiated_activity"):
        return section("officer-initiated", "Officer-initiated activity", "", not_available("Not yet available."))
    rows = ctx.rows(
        """
        SELECT coalesce(c.city, a.source_profile) AS city, a.source_profile, a.activity_source, a.activity_type,
               sum(a.events) AS events, sum(a.stops) AS stops, sum(a.searches) AS searches,
               sum(a.searches_with_contraband) AS hits, sum(a.arrests) AS arrests,
               sum(a.citations) AS citations, sum(a.warnings) AS warnings,
               sum(a.no_enforcement_stops) AS no_enforcement
        FROM marts.mart_officer_initiated_activity a
        LEFT JOIN reference.city_source_profiles c USING (source_profile)
        GROUP BY ALL ORDER BY 1, events DESC
        """
    )
    words = plain.words(ctx)
    parts = []
    for city in sorted({r["city"] for r in rows}):
        events = [r for r in rows if r["city"] == city and r["activity_source"] == "cad_event"]
        out = f"<h3>{escape(ctx.city_name(city))}</h3>"
        total = sum(r["events"] for r in events)
        if total >= ctx.threshold:
            bars = [(words.activity(r["source_profile"], r["activity_type"]), r["events"] / total) for r in events[:8]]
            out += ctx.chart(
                f"Self-initiated events by type - {ctx.city_name(city)}",
                charts.horizontal_bars("Share of officer-initiated events by type", bars, fmt.pct),
                f"Officers started {fmt.count_cell(total, ctx.threshold)} events on their own initiative; the most "
                f"common was {escape(bars[0][0][:1].lower() + bars[0][0][1:])} ({fmt.pct(bars[0][1])}).",
                "mart_officer_initiated_activity",
                ("events", "activity_type", "activity_source"),
                f"Counted: the {fmt.count_cell(total, ctx.threshold)} events in the dispatch records that an officer "
                "started (not a resident's call); the eight most common kinds.",
            )
        out += stop_outcomes(ctx, city)
        out += stop_disparity_tests(ctx, city)
        if out.endswith("</h3>"):
            out += not_available("Too few officer-initiated events to publish.")
        parts.append(out)
    return section(
        "officer-initiated",
        "Officer-initiated activity",
        "What do officers do on their own initiative? (question 1.2)",
        "".join(parts) or not_available("No officer-initiated activity loaded yet."),
    )


# ---------------------------------------------------------------------------------------------- 4.1 response


def response_times(ctx: ReportContext) -> str:
    if not ctx.has_table("marts", "mart_response_times"):
        return section("response-times", "Response times", "", not_available("Not yet available."))
    rows = ctx.rows("SELECT * FROM marts.mart_response_times ORDER BY city, call_month, priority, area_id")
    parts = []
    for city in sorted({r["city"] for r in rows}):
        mine = [r for r in rows if r["city"] == city]
        out = f"<h3>{escape(ctx.city_name(city))}</h3>"
        if not any(r["response_times_available"] for r in mine):
            out += not_available(
                "Response times are <b>not available</b> for this city: its extract records when a call was "
                "received but not when a unit was dispatched or arrived. They are shown as not available, not as zero."
            )
            parts.append(out)
            continue
        if all(r["median_received_to_on_scene_minutes"] is None for r in mine):
            out += not_available(
                "Response times are <b>not available</b> for this city: it records arrival times, but no "
                f"month has {ctx.threshold} or more timed calls, the least a figure is published on."
            )
            parts.append(out)
            continue
        city_wide = [r for r in mine if r["area_id"] == "all"]
        months = sorted({r["call_month"] for r in city_wide})
        label = {m: m.strftime("%Y-%m") for m in months}
        priorities = sorted({r["priority"] for r in city_wide if r["priority"] != "all"})
        series = [
            charts.Series(
                f"priority {p}",
                [
                    (label[r["call_month"]], r["median_received_to_on_scene_minutes"])
                    for r in city_wide
                    if r["priority"] == p
                ],
            )
            for p in priorities
        ]
        series = [s for s in series if any(v is not None for _, v in s.points)]
        all_rows = [r for r in city_wide if r["priority"] == "all"]
        latest = all_rows[-1]
        if series:
            out += ctx.chart(
                f"Median response time by priority - {ctx.city_name(city)}",
                charts.lines("Median minutes from call to first unit on scene, by month", series, fmt.minutes),
                f"In {label[latest['call_month']]}, half of all community-generated calls had a unit on scene "
                f"within {fmt.minutes(latest['median_received_to_on_scene_minutes'])} of the call and nine in ten "
                f"within {fmt.minutes(latest['p90_received_to_on_scene_minutes'])}. Higher-priority calls are "
                "answered faster. Officer-initiated events are left out: they start on scene.",
                "mart_response_times",
                ("median_received_to_on_scene_minutes", "p90_received_to_on_scene_minutes", "priority"),
                "Counted: calls from residents (not officer-initiated, not cancelled) with a recorded arrival time.",
            )
        share_points = [(label[r["call_month"]], r["share_within_target"]) for r in all_rows]
        if any(v is not None for _, v in share_points):
            target = scorecard_target(ctx, city, "share_within_response_target")
            out += ctx.chart(
                f"Calls reached within target - {ctx.city_name(city)}",
                charts.lines(
                    "Share of calls on scene within their priority's target",
                    [charts.Series("all priorities", share_points)],
                    fmt.pct,
                    target=target,
                    y_max=1.0,
                ),
                f"In {label[latest['call_month']]}, {fmt.pct(latest['share_within_target'])} of timed calls had a "
                "unit on scene within the target for their priority"
                + (f"; the city's goal is {fmt.pct(target)}." if target is not None else "."),
                "mart_response_times",
                ("share_within_target", "target_minutes"),
                "Counted: calls from residents with a recorded arrival time, each against its priority's target.",
            )
        by_area = [r for r in mine if r["priority"] == "all" and r["area_id"] != "all"]
        last_month = max(r["call_month"] for r in by_area) if by_area else None
        body = [
            [
                escape(r["area_id"]),
                fmt.count_cell(r["calls"], ctx.threshold, " calls"),
                fmt.minutes(r["median_received_to_on_scene_minutes"]),
                fmt.minutes(r["p90_received_to_on_scene_minutes"]),
                fmt.pct(r["share_within_target"]),
            ]
            for r in by_area
            if r["call_month"] == last_month
        ]
        if body:
            out += ctx.table(
                f"Response times by area, {last_month:%Y-%m} - {ctx.city_name(city)}",
                ["Area", "Calls", "Median", "90th percentile", "Within target"],
                body,
                "mart_response_times",
                ("area_id", "calls", "median_received_to_on_scene_minutes", "p90_received_to_on_scene_minutes"),
            )
        parts.append(out)
    return section(
        "response-times",
        "Response times",
        "How fast does help arrive? (question 4.1)",
        "".join(parts) or not_available("No calls loaded yet."),
    )


# ---------------------------------------------------------------------------------------------- 4.1 trust
