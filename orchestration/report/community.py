"""The community trust section: the survey's items by area and wave, with their intervals."""

from __future__ import annotations

from html import escape

from orchestration.report import charts, plain
from orchestration.report import format as fmt
from orchestration.report.context import ReportContext
from orchestration.report.sections import not_available, section

SURVEY_ITEMS = (
    ("trust_police", "I trust the police"),
    ("police_treat_fairly", "Police treat people fairly"),
    ("feel_safe_day", "I feel safe by day"),
    ("feel_safe_night", "I feel safe at night"),
)


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
