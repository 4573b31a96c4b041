"""The report's sections, one per question, each reading its marts and writing charts with captions.

A section that has no data for a city says so in words (never an empty chart). Counts always go
through ``format.count_cell``; charts show shares, medians and means, never raw small counts.
"""

from __future__ import annotations

from html import escape

from orchestration.report import charts, plain
from orchestration.report import format as fmt
from orchestration.report.context import ReportContext
from orchestration.report.drift import drifting_now
from orchestration.report.stop_outcomes import stop_outcomes
from orchestration.report.stop_tests import stop_disparity_tests

KPI_ORDER = (
    "median_response_minutes",
    "p90_response_minutes",
    "share_within_response_target",
    "unclassified_call_share",
    "alternative_eligible_share",
    "untethered_contact_share",
    "trust_police_score",
    "police_treat_fairly_score",
    "feel_safe_day_score",
    "feel_safe_night_score",
    "cost_per_call",
    "alternatives_spending_share",
)
SURVEY_ITEMS = (
    ("trust_police", "I trust the police"),
    ("police_treat_fairly", "Police treat people fairly"),
    ("feel_safe_day", "I feel safe by day"),
    ("feel_safe_night", "I feel safe at night"),
)
STATUS_CLASS = {"on track": "on", "off track": "off", "within the margin": "margin", "no data": "nodata"}


def section(anchor: str, title: str, question: str, body: str) -> str:
    return f'<section id="{anchor}"><h2>{escape(title)}</h2><p class="question">{escape(question)}</p>{body}</section>'


def not_available(text: str) -> str:
    return f'<p class="unavailable">{text}</p>'


def _label(value: str) -> str:
    return value.replace("_", " ")


def _scorecard_target(ctx: ReportContext, city: str, kpi: str) -> float | None:
    """The target the scorecard holds the city to for a KPI (a city's own target, else the default)."""
    if not ctx.has_table("marts", "mart_kpi_scorecard"):
        return None
    rows = ctx.rows(
        "SELECT max(target) AS target FROM marts.mart_kpi_scorecard WHERE city = ? AND kpi = ?", [city, kpi]
    )
    return rows[0]["target"] if rows else None


def _kpi_sort(kpi: str) -> int:
    return KPI_ORDER.index(kpi) if kpi in KPI_ORDER else len(KPI_ORDER)


# ---------------------------------------------------------------------------------------------- scorecard


def _interval(row: dict) -> str:
    """The value's 95 % interval beside it, and how it was made."""
    if fmt.is_missing(row.get("value_low")) or fmt.is_missing(row.get("value_high")):
        return ""
    low, high = fmt.by_unit(row["value_low"], row["unit"]), fmt.by_unit(row["value_high"], row["unit"])
    return f' <span class="muted" title="{escape(row["interval_method"] or "")}">({low} to {high})</span>'


def _change_note(row: dict) -> str:
    significance = row.get("change_significance")
    if significance == "not compared: a period covered in part":
        return " <span class='muted'>(not compared: the extract covers part of the month)</span>"
    return f" <span class='muted'>({escape(significance)})</span>" if significance in ("within the margin",) else ""


def scorecard(ctx: ReportContext) -> str:
    if not ctx.has_table("marts", "mart_kpi_scorecard"):
        return section("scorecard", "Scorecard", "How is the city doing?", not_available("No scorecard yet."))
    rows = ctx.rows("SELECT * FROM marts.mart_kpi_scorecard ORDER BY city, kpi, period_grain, period_start")
    defined = (
        {r["kpi"]: r["label"] for r in ctx.rows("SELECT kpi, label FROM reference.kpi_targets WHERE city = 'all'")}
        if ctx.has_table("reference", "kpi_targets")
        else {}
    )
    untimed = (
        {
            r["city"]
            for r in ctx.rows(
                "SELECT city FROM marts.mart_response_times GROUP BY city HAVING NOT bool_or(response_times_available)"
            )
        }
        if ctx.has_table("marts", "mart_response_times")
        else set()
    )
    # timed, but no month with enough timed calls to publish a figure (a single beat, a small city)
    too_few = (
        {
            r["city"]
            for r in ctx.rows(
                "SELECT city FROM marts.mart_response_times GROUP BY city "
                "HAVING bool_or(response_times_available) AND count(median_received_to_on_scene_minutes) = 0"
            )
        }
        if ctx.has_table("marts", "mart_response_times")
        else set()
    )
    words = plain.words(ctx)
    parts = []
    for city in sorted({r["city"] for r in rows}):
        by_kpi: dict[str, list[dict]] = {}
        for r in rows:
            if r["city"] == city:
                by_kpi.setdefault(r["kpi"], []).append(r)
        body = []
        for kpi in sorted(by_kpi, key=_kpi_sort):
            history = by_kpi[kpi]
            latest = history[-1]
            values = [r["value"] for r in history]
            spark = (
                charts.sparkline(f"{latest['kpi_label']}, every period", values)
                if sum(not fmt.is_missing(v) for v in values) >= 2
                else ""
            )
            status = latest["status"]
            note = f'<div class="note">{escape(latest["note"])}</div>' if latest["note"] else ""
            body.append(
                [
                    f"{escape(latest['kpi_label'])}{note}",
                    escape(words.wave(latest["period"])),
                    fmt.by_unit(latest["value"], latest["unit"]) + _interval(latest),
                    ("≥ " if latest["direction"] == "higher" else "≤ ") + fmt.by_unit(latest["target"], latest["unit"]),
                    f'<span class="status {STATUS_CLASS[status]}">{escape(status)}</span>',
                    fmt.change(latest["change_from_prior"], latest["unit"])
                    + _change_note(latest)
                    + (
                        f" <span class='muted'>vs {escape(words.wave(latest['prior_period']))}</span>"
                        if latest["prior_period"]
                        else ""
                    ),
                    spark,
                ]
            )
        # A KPI the city's data cannot give has no scorecard row: it is listed, as not available.
        missing = sorted((k for k in defined if k not in by_kpi), key=_kpi_sort)
        for kpi in missing:
            if city in untimed and "response" in kpi:
                why = "the city's extract records no dispatch or arrival times"
            elif city in too_few and "response" in kpi:
                why = (
                    f"no month has {ctx.threshold} or more calls with an arrival time, "
                    "the least a figure is published on"
                )
            else:
                why = "the city's data has nothing to compute it from yet"
            body.append(
                [
                    f"{escape(defined[kpi])}<div class='note'>not available: {why}</div>",
                    "—",
                    "not available",
                    "—",
                    '<span class="status nodata">no data</span>',
                    "—",
                    "",
                ]
            )
        on = sum(1 for k in by_kpi.values() if k[-1]["status"] == "on track")
        off = sum(1 for k in by_kpi.values() if k[-1]["status"] == "off track")
        margin = sum(1 for k in by_kpi.values() if k[-1]["status"] == "within the margin")
        nodata = sum(1 for k in by_kpi.values() if k[-1]["status"] == "no data") + len(missing)
        parts.append(
            f"<h3>{escape(ctx.city_name(city))}</h3>"
            f'<p class="summary">Latest period of each of {len(by_kpi) + len(missing)} KPIs: <b>{on} on track</b>, '
            f"<b>{off} off track</b>, <b>{margin} within the margin</b> (the 95 % interval straddles the target: the "
            f"data cannot tell), <b>{nodata} without data</b>.</p>"
            + drifting_now(ctx, city)
            + ctx.table(
                f"Scorecard - {ctx.city_name(city)}",
                ["KPI", "Period", "Value", "Target", "Status", "Change from prior period", "Trend"],
                body,
                "mart_kpi_scorecard",
                (
                    "kpi_label",
                    "period",
                    "value",
                    "value_low",
                    "value_high",
                    "interval_method",
                    "target",
                    "direction",
                    "status",
                    "change_from_prior",
                    "change_significance",
                    "note",
                ),
            )
        )
    intro = (
        "<p>One line per key performance indicator: its latest period with its 95 % interval in brackets, the "
        "target the city set, whether it is on track (only when the whole interval clears the target; "
        "otherwise <em>within the margin</em>), and the change from the period before (marked "
        "<em>within the margin</em> when it cannot be told apart from no change). Full history: "
        '<a href="scorecard.csv">scorecard.csv</a> · <a href="scorecard.json">scorecard.json</a>.</p>'
    )
    return section("scorecard", "Scorecard", "How is the city doing against its goals?", intro + "".join(parts))


# ---------------------------------------------------------------------------------------------- 1.1


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
        call_bars = [(_label(r["service_category"]), r["calls"] / total) for r in mine]
        hour_bars = sorted(
            ((_label(r["service_category"]), (r["officer_hours"] or 0) / hours) for r in mine if hours),
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
                    f"about {escape(_label(top_hours['service_category']))}, the most of any category. "
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
            target = _scorecard_target(ctx, city, "share_within_response_target")
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


def community_trust(ctx: ReportContext) -> str:
    if not ctx.has_table("marts", "mart_community_trust"):
        return section("community-trust", "Community trust", "", not_available("Not yet available."))
    rows = ctx.rows("SELECT * FROM marts.mart_community_trust ORDER BY city, wave_start, area_id")
    limit = ctx.config.min_survey_respondents
    words = plain.words(ctx)
    parts = []
    for city in sorted({r["city"] for r in rows}):
        mine = [r for r in rows if r["city"] == city]
        city_wide = [r for r in mine if r["area_id"] == "all" and not r["is_suppressed"]]
        out = f"<h3>{escape(ctx.city_name(city))}</h3>"
        if not city_wide:
            parts.append(out + not_available(f"Fewer than {limit} respondents: nothing can be published."))
            continue
        bars, errors = [], []
        for item, text in SURVEY_ITEMS:
            for r in city_wide:
                bars.append((f"{text} ({words.wave(r['wave'])})", r[f"mean_{item}"]))
                errors.append(r[f"moe_{item}"])
        first, last = city_wide[0], city_wide[-1]
        if len(city_wide) > 1:
            moved = "more than" if last["trust_change_exceeds_margin"] else "within"
            trend = (
                f"Trust in the police went from {fmt.score(first['mean_trust_police'])} in the "
                f"{escape(words.wave(first['wave']))} to {fmt.score(last['mean_trust_police'])} in the "
                f"{escape(words.wave(last['wave']))} (the last change is {moved} the margin of error)."
            )
        else:
            trend = f"Trust in the police stands at {fmt.score(last['mean_trust_police'])}."
        out += ctx.chart(
            f"Safety and trust, city-wide - {ctx.city_name(city)}",
            charts.horizontal_bars(
                "Mean agreement (1 = strongly disagree, 5 = strongly agree) with 95 % margins of error",
                bars,
                fmt.score,
                errors=errors,
                max_value=5.0,
                min_value=1.0,
            ),
            f"{trend} Means use the survey's design weights; each wave asked about "
            f"{fmt.count_cell(last['respondents'], limit, ' residents')}. The whiskers show the 95 % margin of error.",
            "mart_community_trust",
            (
                "mean_trust_police",
                "mean_police_treat_fairly",
                "mean_feel_safe_day",
                "mean_feel_safe_night",
                "moe_trust_police",
            ),
            f"Counted: residents who answered the city's survey, about {fmt.count_cell(last['respondents'], limit)} "
            "each wave, weighted to the city's population; bars start at 1, the bottom of the answer scale.",
        )
        waves = [r["wave"] for r in city_wide]
        areas = sorted({r["area_id"] for r in mine if r["area_id"] != "all"})
        body = []
        for area in areas:
            row = [escape(area)]
            for wave in waves:
                cell = next((r for r in mine if r["area_id"] == area and r["wave"] == wave), None)
                if cell is None or cell["is_suppressed"]:
                    row += [fmt.count_cell(None, limit, " respondents"), "—"]
                else:
                    row += [
                        fmt.count_cell(cell["respondents"], limit),
                        f"{fmt.score(cell['mean_trust_police'])} ± {fmt.score(cell['moe_trust_police'])}",
                    ]
            body.append(row)
        head = ["Area"] + [h for w in waves for h in (f"Respondents, {words.wave(w)}", f"Trust, {words.wave(w)}")]
        suppressed = sum(1 for r in mine if r["area_id"] != "all" and r["is_suppressed"])
        out += ctx.table(
            f"Trust in the police by area - {ctx.city_name(city)}",
            head,
            body,
            "mart_community_trust",
            ("respondents", "mean_trust_police", "moe_trust_police", "is_suppressed"),
        ) + (
            f'<p class="muted">{suppressed} area-wave cells had fewer than {limit} respondents and are not shown.</p>'
            if suppressed
            else ""
        )
        parts.append(out)
    return section(
        "community-trust",
        "Community trust",
        "Do residents feel safe, and do they trust the police? (question 4.1)",
        "".join(parts) or not_available("No survey loaded yet."),
    )


# ---------------------------------------------------------------------------------------------- 4.1 budget


def budget(ctx: ReportContext) -> str:
    if not ctx.has_table("marts", "mart_budget_performance"):
        return section("budget", "Budget", "", not_available("Not yet available."))
    rows = ctx.rows("SELECT * FROM marts.mart_budget_performance ORDER BY city, fiscal_year, service_area, program")
    parts = []
    for city in sorted({r["city"] for r in rows}):
        mine = [r for r in rows if r["city"] == city]
        latest_fy = max(r["fiscal_year"] for r in mine)
        latest = [r for r in mine if r["fiscal_year"] == latest_fy]
        areas = sorted((r for r in latest if r["row_level"] == "service_area"), key=lambda r: -(r["actual"] or 0))
        total = next(r for r in latest if r["row_level"] == "public_safety")
        police = next((r for r in latest if r["row_level"] == "service_area" and r["service_area"] == "police"), None)
        out = f"<h3>{escape(ctx.city_name(city))}</h3>"
        out += ctx.chart(
            f"Public-safety spending by service area, FY{latest_fy} - {ctx.city_name(city)}",
            charts.horizontal_bars(
                "Actual spending by service area",
                [(_label(r["service_area"]), r["actual"]) for r in areas],
                fmt.millions,
            ),
            f"The city spent {fmt.millions(total['actual'])} on public safety in FY{latest_fy} "
            f"({fmt.pct(total['spend_rate'])} of the adopted budget); "
            f"{fmt.pct(total['alternatives_share_of_actual'])} went to alternative response and community programs.",
            "mart_budget_performance",
            ("actual", "service_area", "spend_rate", "alternatives_share_of_actual"),
            f"Counted: every public-safety dollar the city's budget extract records as spent in FY{latest_fy}.",
        )
        shares = [
            (f"FY{r['fiscal_year']}", r["alternatives_share_of_actual"])
            for r in mine
            if r["row_level"] == "public_safety"
        ]
        goal = _scorecard_target(ctx, city, "alternatives_spending_share")
        out += ctx.chart(
            f"Share spent on alternatives - {ctx.city_name(city)}",
            charts.horizontal_bars(
                "Share of public-safety spending on alternatives and community programs", shares, fmt.pct, target=goal
            ),
            "Alternative response (crisis teams, community navigators) and community programs (violence "
            "interruption, youth employment) as a share of all public-safety spending"
            + (f"; the city's goal is {fmt.pct(goal)}." if goal is not None else "."),
            "mart_budget_performance",
            ("alternatives_share_of_actual",),
            "Counted: public-safety spending of each fiscal year in the budget extract.",
        )
        body = [
            [
                escape(_label(r["service_area"])),
                escape(r["program"]),
                fmt.millions(r["budgeted"]),
                fmt.millions(r["actual"]),
                fmt.pct(r["spend_rate"]),
                f"{r['fte']:,.0f}" if not fmt.is_missing(r["fte"]) else "—",
            ]
            for r in latest
            if r["row_level"] == "program"
        ]
        out += ctx.table(
            f"Programs, FY{latest_fy} - {ctx.city_name(city)}",
            ["Service area", "Program", "Budgeted", "Actual", "Spent of budget", "FTE"],
            body,
            "mart_budget_performance",
            ("service_area", "program", "budgeted", "actual", "spend_rate", "fte"),
        )
        if police is not None and not fmt.is_missing(police["cost_per_call"]):
            out += (
                f'<p class="kpi-line">Police spending per call for service in FY{latest_fy}: '
                f"<b>{fmt.dollars(police['cost_per_call'])}</b> "
                f"({fmt.millions(police['actual'])} over "
                f"{fmt.count_cell(police['calls_served'], ctx.threshold)} calls; "
                f"{fmt.dollars(police['cost_per_officer_hour'])} per officer hour on calls).</p>"
            )
        parts.append(out)
    return section(
        "budget",
        "Budget",
        "Where does the public-safety money go, and what does it buy? (question 4.1)",
        "".join(parts) or not_available("No budget loaded yet."),
    )
