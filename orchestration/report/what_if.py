"""The report's "What if" section: moving calls to an alternative responder, and the teams that
would take."""

from __future__ import annotations

from html import escape

from orchestration.report import charts
from orchestration.report import format as fmt
from orchestration.report.context import ReportContext
from orchestration.report.sections import not_available, section

WEEKS_PER_YEAR = 365.25 / 7
DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")

SCENARIOS_SQL = """
SELECT i.source_profile, i.scenario, i.responder, s.description,
       sum(i.calls_moved) AS calls_moved, sum(i.calls_from_public) AS calls_from_public,
       sum(i.calls_kept) AS kept,
       sum(i.officer_hours_moved) AS hours_moved, sum(i.officer_hours) AS hours,
       sum(i.police_cost_moved) AS police_cost, sum(i.responder_cost_moved) AS responder_cost,
       count(DISTINCT i.call_month) AS months
FROM marts.mart_scenario_impact AS i
LEFT JOIN reference.alternative_response_scenarios AS s ON i.scenario = s.scenario
GROUP BY ALL ORDER BY i.source_profile, i.scenario
"""

STAFFING_SQL = """
SELECT source_profile, scenario, sum(teams_needed) AS team_hours, max(teams_needed) AS peak_teams,
       sum(staff_cost_of_the_hour) AS weekly_cost, any_value(mean_service_minutes) AS service_minutes,
       any_value(service_time_method) AS service_method, any_value(target_wait_minutes) AS wait,
       any_value(target_share_answered) AS share
FROM marts.mart_alternative_staffing GROUP BY ALL
"""


def _city_of(ctx: ReportContext) -> dict[str, str]:
    if not ctx.has_table("reference", "city_source_profiles"):
        return {}
    return {r["source_profile"]: r["city"] for r in ctx.rows("SELECT * FROM reference.city_source_profiles")}


def what_if(ctx: ReportContext) -> str:
    question = "What would it take to send some calls to someone other than an officer? (question 1)"
    if not ctx.has_table("marts", "mart_scenario_impact") or not ctx.has_table("marts", "mart_alternative_staffing"):
        return section("what-if", "What if", question, not_available("No scenario has been computed yet."))
    city_of = _city_of(ctx)
    staffing = {(r["source_profile"], r["scenario"]): r for r in ctx.rows(STAFFING_SQL)}
    parts = []
    by_profile: dict[str, list[dict]] = {}
    for r in ctx.rows(SCENARIOS_SQL):
        by_profile.setdefault(r["source_profile"], []).append(r)
    for profile, scenarios in by_profile.items():
        city = city_of.get(profile, profile)
        body = []
        for r in scenarios:
            staff = staffing.get((profile, r["scenario"]))
            yearly = staff["weekly_cost"] * WEEKS_PER_YEAR if staff else None
            body.append(
                [
                    escape(r["scenario"].replace("_", " "))
                    + f"<div class='note'>{escape(r['description'] or '')}</div>",
                    f"{fmt.count_cell(r['calls_moved'], ctx.threshold)} "
                    f"({fmt.pct(r['calls_moved'] / r['calls_from_public'])} of calls from the public); "
                    f"{fmt.count_cell(r['kept'], ctx.threshold)} kept with police",
                    f"{r['hours_moved']:,.0f} ({fmt.pct(r['hours_moved'] / r['hours'] if r['hours'] else None)})",
                    f"{fmt.dollars(r['police_cost'])} → {fmt.dollars(r['responder_cost'])}",
                    (
                        f"{staff['team_hours']:,.0f} team-hours a week, at most {staff['peak_teams']} at once; "
                        f"{fmt.dollars(yearly)} a year"
                        if staff
                        else "—"
                    ),
                ]
            )
        months = max(r["months"] for r in scenarios)
        out = f"<h3>{escape(ctx.city_name(city))}</h3>"
        out += ctx.table(
            f"Moving calls to an alternative responder - {ctx.city_name(city)}",
            ["Scenario", f"Calls moved ({months} months)", "Officer hours freed", "Cost of those calls", "Teams"],
            body,
            "mart_scenario_impact",
            ("calls_moved", "calls_kept", "officer_hours_moved", "police_cost_moved", "responder_cost_moved"),
        )
        for r in scenarios:
            out += _teams_chart(ctx, profile, city, r["scenario"], staffing.get((profile, r["scenario"])))
        out += _police_response(ctx, city)
        parts.append(out)
    intro = (
        "<p>Each scenario (seeds/alternative_response_scenarios.csv) moves the calls from the public that its "
        "responder could take, except calls of an urgent priority (kept with police as a co-response) and calls "
        "that ended in an arrest. Cost of those calls: at the police rate, and with the responder on the same "
        "time. Teams: the fewest on duty in each hour of the week for the scenario's share of calls to be "
        "answered in its target time (an Erlang C queue); the yearly cost keeps them on duty all year.</p>"
    )
    return section("what-if", "What if", question, intro + "".join(parts))


def _police_response(ctx: ReportContext, city: str) -> str:
    """The dispatch replay's change in police response times, per scenario and priority."""
    if not ctx.has_table("marts", "mart_dispatch_replay"):
        return ""
    rows = ctx.rows("SELECT * FROM marts.mart_dispatch_replay WHERE city = ? ORDER BY scenario, priority", [city])
    if not rows:
        return ""
    first = rows[0]
    if len(rows) == 1 and not fmt.is_missing(first["note"]):
        return f"<p class='note'>Police response times with calls moved: {escape(first['note'])}.</p>"
    check = [r for r in rows if r["scenario"] == "nothing_moved"]
    if not first["replay_reproduces_observed"]:
        return (
            "<p class='note'>Police response times with calls moved: not available. With nothing moved, the replay "
            "of the city's dispatch queue does not reproduce its observed response times, so its changes would not "
            "be trusted.</p>"
        )

    def minutes(r: dict, stat: str) -> str:
        if fmt.is_missing(r[f"scenario_{stat}_minutes"]):
            return "—"
        return f"{r[f'scenario_{stat}_minutes']:.1f} ({r[f'change_{stat}_minutes']:+.1f})"

    body = [
        [
            escape(r["scenario"].replace("_", " ")),
            f"priority {escape(r['priority'])}",  # a label, not a count
            fmt.count_cell(r["calls_moved"], ctx.threshold) if r["calls_moved"] else "0",
            minutes(r, "median"),
            minutes(r, "p90"),
        ]
        for r in rows
        if r["scenario"] != "nothing_moved"
    ]
    observed = "; ".join(
        f"priority {escape(r['priority'])}: {r['observed_median_minutes']:.1f} observed, "
        f"{r['replayed_median_minutes']:.1f} replayed"
        for r in check
        if not fmt.is_missing(r["observed_median_minutes"])
    )
    return ctx.table(
        f"Police response times with calls moved - {ctx.city_name(city)}",
        ["Scenario", "Priority", "Calls moved", "Median minutes (change)", "90th percentile (change)"],
        body,
        "mart_dispatch_replay",
        ("calls_moved", "scenario_median_minutes", "change_median_minutes", "change_p90_minutes"),
    ) + (
        "<p class='note'>A replay of the city's dispatch queue over "
        f"{first['window_start']} to {first['window_end']}, with "
        f"{first['units_on_duty_min']}-{first['units_on_duty_max']} units on duty by hour (the most seen busy at "
        f"once). With nothing moved it reproduces the observed medians ({observed}).</p>"
    )


def _teams_chart(ctx: ReportContext, profile: str, city: str, scenario: str, staff: dict | None) -> str:
    if staff is None:
        return ""
    rows = ctx.rows(
        "SELECT day_of_week, hour_of_day, teams_needed FROM marts.mart_alternative_staffing "
        "WHERE source_profile = ? AND scenario = ? ORDER BY hour_of_week",
        [profile, scenario],
    )
    series = [
        charts.Series(DAYS[d], [(f"{r['hour_of_day']:02d}", r["teams_needed"]) for r in rows if r["day_of_week"] == d])
        for d in (0, 5, 6)
    ]
    return ctx.chart(
        f"Teams needed by hour, {scenario.replace('_', ' ')} - {ctx.city_name(city)}",
        charts.lines("Teams on duty", series, lambda v: f"{v:.0f} team" + ("" if round(v) == 1 else "s")),
        f"Teams of the {escape(scenario.replace('_', ' '))} scenario needed on a Monday, a Saturday and a Sunday for "
        f"{fmt.pct(staff['share'])} of its calls to wait at most {staff['wait']:.0f} minutes; a team spends "
        f"{staff['service_minutes']:.0f} minutes on a call on average ({escape(staff['service_method'])}).",
        "mart_alternative_staffing",
        ("teams_needed", "offered_load", "arrivals_per_hour", "mean_service_minutes"),
        "Counted: the moved calls of each hour of the week, per week the city's calls cover.",
    )


def _months(value) -> str:
    return "0" if fmt.is_missing(value) else f"{value:.0f}"


def _change(row: dict) -> str:
    """'0.62 (0.51-0.75)' for a ratio, '-0.16 (-0.36 to +0.04) points' for trust; the value alone where
    its interval cannot be had (one month after the start)."""
    is_ratio = row["effect_scale"] == "ratio"
    value, low, high = (
        (row["effect_ratio"], row["effect_ratio_low"], row["effect_ratio_high"])
        if is_ratio
        else (row["estimate"], row["estimate_low"], row["estimate_high"])
    )
    if fmt.is_missing(value):
        return "—"
    shown = f"{value:.2f}" if is_ratio else f"{value:+.2f} points"
    if fmt.is_missing(low) or fmt.is_missing(high):
        return f"{shown} (no interval)"
    return f"{value:.2f} ({low:.2f}-{high:.2f})" if is_ratio else f"{shown} ({low:+.2f} to {high:+.2f})"


OUTCOMES = {
    "calls_reaching_police": "Calls reaching the police",
    "officer_hours": "Officer hours on those calls",
    "repeat_calls_within_30_days": "Repeat calls at the same address within 30 days",
    "median_response_minutes": "Median response time, every call from the public",
    "trust_police": "Trust in the police (survey, 1-5)",
}


EVALUATION_COLUMNS = ("effect_ratio", "effect_ratio_low", "effect_ratio_high", "estimate", "months_pre", "verdict")


def did_it_work(ctx: ReportContext) -> str:
    question = "Did a program change what reaches the police? (question 4)"
    if not ctx.has_table("marts", "mart_program_evaluation"):
        return section("did-it-work", "Did it work", question, not_available("No program has been evaluated yet."))
    rows = ctx.rows("SELECT * FROM marts.mart_program_evaluation ORDER BY city, program, outcome")
    if not rows:
        return section("did-it-work", "Did it work", question, not_available("No program is listed to evaluate."))
    parts = [
        "<p>Each program (seeds/program_evaluations.csv) is compared with the city's other districts, before and "
        "after it started (difference-in-differences on the monthly ratio of its calls in its districts to the same "
        "calls elsewhere; for trust, the change between the survey waves either side of the start). A ratio of 0.60 "
        "means 40 % less than the other districts would have led to expect; the interval is 95 %. Where the "
        "comparison is too weak to conclude, the verdict says why.</p>"
    ]
    for program in dict.fromkeys(r["program"] for r in rows):
        mine = [r for r in rows if r["program"] == program]
        first = mine[0]
        body = [
            [
                escape(OUTCOMES.get(r["outcome"], r["outcome"])),
                _change(r),
                f"{_months(r['months_pre'])} before, {_months(r['months_post'])} after",
                escape(r["verdict"]),
            ]
            for r in mine
        ]
        parts.append(
            f"<h3>{escape(ctx.city_name(first['city']))}: {escape(program.replace('_', ' '))}</h3>"
            f"<p class='note'>{escape(first['service_categories'].replace('_', ' ').replace('|', ', '))} calls in "
            f"district(s) {escape(first['treated_districts'].replace('|', ', '))}, from {first['start_month']}</p>"
            + ctx.table(
                f"Did it work: {program.replace('_', ' ')}",
                ["Outcome", "Change against the other districts", "Months (waves for trust)", "Verdict"],
                body,
                "mart_program_evaluation",
                EVALUATION_COLUMNS,
            )
        )
    return section("did-it-work", "Did it work", question, "".join(parts))
