"""The report's "Stop tests" table: the outcome test and the veil-of-darkness test of each group
against white drivers, city-wide with their 95 % intervals, and the areas each flags (read from
mart_stop_disparity_tests)."""

from __future__ import annotations

from html import escape

from orchestration.report import format as fmt
from orchestration.report.context import ReportContext

TESTS = {
    "outcome": "Searches finding something (outcome test)",
    "veil_of_darkness": "Share of stops after dark (veil of darkness)",
}


def _ratio(row: dict) -> str:
    if fmt.is_missing(row["odds_ratio"]):
        return escape(row["note"] or "not tested")
    return f"{row['odds_ratio']:.2f} ({row['odds_ratio_low']:.2f}-{row['odds_ratio_high']:.2f})"


def stop_disparity_tests(ctx: ReportContext, city: str) -> str:
    """The table for one city's latest period, or "" when the city has no stop tests."""
    if not ctx.has_table("marts", "mart_stop_disparity_tests"):
        return ""
    rows = ctx.rows(
        """
        SELECT * FROM marts.mart_stop_disparity_tests AS t
        WHERE city = ? AND period_start = (
            SELECT max(period_start) FROM marts.mart_stop_disparity_tests WHERE city = t.city AND test = t.test
        )
        ORDER BY test, group_value, area_id
        """,
        [city],
    )
    if not rows:
        return ""
    body = []
    for test, group in dict.fromkeys((r["test"], r["group_value"]) for r in rows):
        mine = [r for r in rows if r["test"] == test and r["group_value"] == group]
        whole = next((r for r in mine if r["area_id"] == "all"), None)
        flagged = [r["area_id"] for r in mine if r["area_id"] != "all" and r["is_discovery"]]
        tested = sum(1 for r in mine if r["area_id"] != "all" and not fmt.is_missing(r["odds_ratio"]))
        body.append(
            [
                escape(TESTS.get(test, test)),
                f"{escape(group)} against {escape(mine[0]['reference_group'])}",
                _ratio(whole) if whole else "—",
                (", ".join(escape(a) for a in flagged) or "none") + f" of {tested} tested",
                escape((whole or {}).get("verdict") or "—"),
            ]
        )
    return ctx.table(
        f"Stop tests - {ctx.city_name(city)}",
        ["Test", "Drivers", "City-wide odds ratio (95 %)", "Areas flagged", "City-wide verdict"],
        body,
        "mart_stop_disparity_tests",
        ("odds_ratio", "odds_ratio_low", "odds_ratio_high", "is_discovery", "verdict"),
    ) + (
        "<p class='note'>An odds ratio below 1 in the outcome test: the group's searches find something less "
        "often, so it was searched on less evidence. Below 1 in the darkness test: fewer of the group are stopped "
        "after dark at the same clock time, when race is harder to see. An area or the city is flagged only as a "
        "discovery at a 5 % false discovery rate over the city's areas; the outcome test uses only published "
        "counts.</p>"
    )
