"""The canonical sources: every city's extract is mapped onto one of these by a source profile.

Each field has a kind, which decides how landing checks it:
- ``id`` / ``text``: trimmed; empty becomes NULL. An ``id`` is always required.
- ``timestamp``: parsed with the profile's formats in the profile's time zone, stored as UTC text.
- ``date``: parsed with the profile's formats, stored as ``YYYY-MM-DD``.
- ``number`` / ``integer``: must cast; stored as text of the number.
- ``boolean``: must be one of the known true/false spellings (or the profile's own).

A row whose required field is empty, or whose field does not parse, goes to quarantine.
"""

from __future__ import annotations

from dataclasses import dataclass

KINDS = {"id", "text", "timestamp", "date", "number", "integer", "boolean"}


@dataclass(frozen=True)
class CanonicalSource:
    name: str
    description: str
    fields: dict[str, str]
    required: tuple[str, ...]

    @property
    def id_field(self) -> str:
        return next(f for f, kind in self.fields.items() if kind == "id")


CANONICAL_SOURCES: dict[str, CanonicalSource] = {
    s.name: s
    for s in [
        CanonicalSource(
            name="calls_for_service",
            description="Calls for service from computer-aided dispatch (CAD): one row per call or event.",
            fields={
                "call_id": "id",
                "call_source": "text",
                "is_officer_initiated": "boolean",
                "initial_call_type": "text",
                "call_type": "text",
                "call_type_description": "text",
                "priority": "text",
                "received_at": "timestamp",
                "dispatched_at": "timestamp",
                "enroute_at": "timestamp",
                "arrived_at": "timestamp",
                "cleared_at": "timestamp",
                "disposition": "text",
                "beat": "text",
                "district": "text",
                "latitude": "number",
                "longitude": "number",
                "block_address": "text",
                "units_assigned": "integer",
                # the responding unit of a row, in an extract of one row per unit (profile grain: unit)
                "unit_id": "text",
                # who the record is for: police, fire, ems or other (a county 911 feed mixes them);
                # empty is police. Only police records enter the police marts and costs.
                "agency": "text",
            },
            required=("call_id", "received_at", "call_type"),
        ),
        CanonicalSource(
            name="service_requests",
            description="311 / 211 service requests: one row per request.",
            fields={
                "request_id": "id",
                "channel": "text",
                "service_type": "text",
                "created_at": "timestamp",
                "closed_at": "timestamp",
                "status": "text",
                "beat": "text",
                "district": "text",
                "latitude": "number",
                "longitude": "number",
            },
            required=("request_id", "created_at", "service_type"),
        ),
        CanonicalSource(
            name="incidents",
            description="Reported crime incidents: one row per reported offence.",
            fields={
                "incident_id": "id",
                "offence_code": "text",
                "offence_description": "text",
                "offence_category": "text",
                "is_violent": "boolean",
                "reported_at": "timestamp",
                "occurred_at": "timestamp",
                "beat": "text",
                "district": "text",
                "latitude": "number",
                "longitude": "number",
                "block_address": "text",
                "arrest_made": "boolean",
            },
            required=("incident_id", "reported_at"),
        ),
        CanonicalSource(
            name="stops",
            description="Police stops / officer contacts: one row per stop.",
            fields={
                "stop_id": "id",
                "stopped_at": "timestamp",
                "beat": "text",
                "district": "text",
                "latitude": "number",
                "longitude": "number",
                "stop_type": "text",
                "reason": "text",
                "subject_age": "integer",
                "subject_race": "text",
                "subject_sex": "text",
                "search_conducted": "boolean",
                "contraband_found": "boolean",
                "outcome": "text",
            },
            required=("stop_id", "stopped_at"),
        ),
        CanonicalSource(
            name="budget",
            description="Public-safety budget: one row per fiscal year x department x program.",
            fields={
                "budget_line_id": "id",
                "fiscal_year": "integer",
                "department": "text",
                "program": "text",
                "service_area": "text",
                "budgeted": "number",
                "actual": "number",
                "fte": "number",
            },
            required=("budget_line_id", "fiscal_year", "program"),
        ),
        CanonicalSource(
            name="survey_responses",
            description="Community survey: one row per response (Likert answers 1-5).",
            fields={
                "response_id": "id",
                "wave": "text",
                "responded_on": "date",
                "beat": "text",
                "feel_safe_day": "integer",
                "feel_safe_night": "integer",
                "trust_police": "integer",
                "police_treat_fairly": "integer",
                "weight": "number",
            },
            required=("response_id", "wave"),
        ),
        CanonicalSource(
            name="areas",
            description="Police areas: one row per beat, with its district and residential population.",
            fields={
                "beat": "id",
                "beat_name": "text",
                "district": "text",
                "district_name": "text",
                "population": "integer",
                "min_latitude": "number",
                "max_latitude": "number",
                "min_longitude": "number",
                "max_longitude": "number",
            },
            required=("beat", "district"),
        ),
    ]
}
