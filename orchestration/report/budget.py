"""The budget section: spending by service area against plan, and the cost per call."""

from __future__ import annotations

from html import escape

from orchestration.report import charts
from orchestration.report import format as fmt
from orchestration.report.context import ReportContext
from orchestration.report.sections import label, not_available, scorecard_target, section


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
                [(label(r["service_area"]), r["actual"]) for r in areas],
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
        goal = scorecard_target(ctx, city, "alternatives_spending_share")
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
                escape(label(r["service_area"])),
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
