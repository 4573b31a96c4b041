"""The scorecard section: every KPI of every city against its target, with its interval and change."""

from __future__ import annotations

from html import escape

from orchestration.report import charts, plain
from orchestration.report import format as fmt
from orchestration.report.context import ReportContext
from orchestration.report.drift import drifting_now
from orchestration.report.sections import not_available, section

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
STATUS_CLASS = {"on track": "on", "off track": "off", "within the margin": "margin", "no data": "nodata"}


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
