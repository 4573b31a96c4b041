"""The scorecard's note of KPIs drifting off their usual range (mart_kpi_drift), in words."""

from __future__ import annotations

from html import escape

from orchestration.checks.kpi_drift import LATEST_DRIFTS, drift_sentence
from orchestration.report.context import ReportContext


def drifting_now(ctx: ReportContext, city: str) -> str:
    """A note for the scorecard: the KPIs off their usual range for several weeks, as of their latest week."""
    if not ctx.has_table("marts", "mart_kpi_drift"):
        return ""
    rows = [tuple(r.values()) for r in ctx.rows(LATEST_DRIFTS) if r["city"] == city]
    if not rows:
        return ""
    items = "".join(f"<li>{escape(drift_sentence(r).split(': ', 1)[1])}</li>" for r in rows)
    return f'<div class="note drift"><b>Drifting off the usual range</b> (mart_kpi_drift):<ul>{items}</ul></div>'
