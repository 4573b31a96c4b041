"""Plain words for the codes the marts carry: call types through the city's call-type list (the
taxonomy seed), extracts by city and kind instead of profile ids, survey waves by month.

The report shows these instead of codes (``TSTOP``, ``demo_city_calls``, ``2025-W1``); the codes
stay in the marts and on each mart's page for analysts.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from orchestration.report.context import ReportContext

SOURCE_WORDS = {
    "calls_for_service": "calls for service",
    "incidents": "crime reports",
    "stops": "stops",
    "service_requests": "311 requests",
    "budget": "budget",
    "survey_responses": "community survey",
    "areas": "areas",
}
STOP_KINDS = {"vehicle": "Vehicle stops", "vehicular": "Vehicle stops", "pedestrian": "Pedestrian stops"}


def _describe(rationale: str) -> str:
    """The taxonomy's description of a call type, up to its first ';' (the rest is the reasoning)."""
    text = rationale.split(";")[0].strip()
    return text[:1].upper() + text[1:]


@dataclass
class Words:
    """Look-ups built once per report from the published reference tables."""

    call_types: dict[tuple[str, str], str] = field(default_factory=dict)
    profile_city: dict[str, str] = field(default_factory=dict)
    waves: dict[str, str] = field(default_factory=dict)

    def activity(self, source_profile: str, activity_type: str) -> str:
        """An officer-initiated activity type in words: the call type's description, or the kind of stop."""
        if activity_type.startswith("stop: "):
            kind = activity_type.removeprefix("stop: ")
            return STOP_KINDS.get(kind, "Stops of a kind not recorded" if kind == "unknown" else f"Stops ({kind})")
        described = self.call_types.get((source_profile, activity_type.lower()))
        return described or activity_type.capitalize()

    def extract(self, source_profile: str, source: str | None = None) -> str:
        """An extract named by its city and kind ("Demo City calls for service"), not its profile id."""
        city = self.profile_city.get(source_profile) or "A city not yet listed"
        return f"{city} {SOURCE_WORDS.get(source or '', (source or 'extract').replace('_', ' '))}"

    def wave(self, wave: str) -> str:
        """A survey wave by the month it was fielded ("survey of Mar 2025")."""
        return self.waves.get(wave, wave)


def words(ctx: ReportContext) -> Words:
    found = Words()
    if ctx.has_table("reference", "call_type_taxonomy"):
        for r in ctx.rows("SELECT source_profile, call_type, rationale FROM reference.call_type_taxonomy"):
            if r["rationale"]:
                found.call_types[(r["source_profile"], str(r["call_type"]).lower())] = _describe(r["rationale"])
    if ctx.has_table("reference", "city_source_profiles"):
        for r in ctx.rows("SELECT source_profile, city FROM reference.city_source_profiles"):
            found.profile_city[r["source_profile"]] = ctx.city_name(r["city"])
    if ctx.has_table("marts", "mart_community_trust"):
        for r in ctx.rows("SELECT DISTINCT wave, wave_start FROM marts.mart_community_trust"):
            found.waves[r["wave"]] = f"survey of {r['wave_start']:%b %Y}"
    return found
