"""Divergence, opportunity zones and violence concentration in the report (questions 2.1, 3.1 and 5).

These read the enforcement and violence marts when they exist; until a mart is built, its
section says "not yet available" instead of showing an empty chart.
"""

from __future__ import annotations

from html import escape

from orchestration.report import charts
from orchestration.report import format as fmt
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


def _divergence(ctx: ReportContext) -> str:
    return not_available("Enforcement divergence: not yet available in this report.")


def _zones(ctx: ReportContext) -> str:
    return not_available("Opportunity zones: not yet available in this report.")


def _violence(ctx: ReportContext) -> str:
    return not_available("Violence concentration: not yet available in this report.")


__all__ = ["divergence_and_zones", "violence", "charts", "fmt", "escape"]
