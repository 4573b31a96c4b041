"""Which canonical fields each source profile provides: the table ``raw.source_profiles``.

Marts and the report read it to degrade honestly: a city whose extract has no arrival times
gets "not available" for response times, never a zero. One row per profile x canonical field,
rewritten whole at every landing run (it describes the profiles as they are now). Values are
text, like every raw table (staging types them).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import duckdb

from orchestration.landing.profiles import COORDINATE_FIELDS, KEEP, UNIT_GRAIN_FIELDS, SourceProfile

COVERAGE_TABLE = "raw.source_profiles"
COVERAGE_COLUMNS = {
    "source_profile": "VARCHAR",
    "source": "VARCHAR",
    "canonical_field": "VARCHAR",
    "field_kind": "VARCHAR",
    "is_required": "VARCHAR",
    "is_provided": "VARCHAR",
    "provided_by": "VARCHAR",
    "source_columns": "VARCHAR",
    "note": "VARCHAR",
    "timezone": "VARCHAR",
    "profile_file": "VARCHAR",
    "described_at": "TIMESTAMP",
    # the city the profile declares (empty: the seed city_names.csv says)
    "city": "VARCHAR",
    "city_name": "VARCHAR",
    # the codes the profile accepts for the field (a JSON list; empty: not declared), for the raw gate
    "accepted_values": "VARCHAR",
}


def how_provided(profile: SourceProfile, fld: str) -> tuple[str | None, str | None]:
    """(how the field is filled, from which columns) or (None, None) when the profile lacks it."""
    if fld in profile.columns:
        spec = profile.columns[fld]
        if spec.line_number:
            return "line number in the file", None
        if spec.join:
            how = "columns joined"
        elif len(spec.candidates) > 1:
            how = "column (first of its aliases found)"
        else:
            how = "column"
        mapped = spec.values if spec.values is not None else profile.values.get(fld)
        if mapped:
            if spec.otherwise == KEEP:
                how += ", values mapped"
            elif spec.otherwise is None:
                how += ", values mapped (others empty)"
            else:
                how += f", values mapped (others: {spec.otherwise})"
        return how, spec.describe()
    if fld in profile.constants:
        return "constant", repr(profile.constants[fld])
    if profile.coordinates is not None and fld in COORDINATE_FIELDS:
        how = "point column" if profile.coordinates.point else "projected x/y converted at landing"
        return how, profile.coordinates.describe()
    if fld == "agency":
        return "default: police (a police feed)", "police"
    if profile.grain == "unit" and fld in UNIT_GRAIN_FIELDS:
        return "one unit per row (grain unit)", "the line number" if fld == "unit_id" else "1 on each row"
    return None, None


def coverage_rows(profiles: dict[str, SourceProfile], described_at: datetime | None = None) -> list[tuple]:
    described_at = (described_at or datetime.now(UTC)).replace(tzinfo=None)
    rows = []
    for profile in profiles.values():
        for fld, kind in profile.canonical.fields.items():
            if fld == "unit_id" and profile.grain == "call":
                continue  # a unit per row only means something in an extract of one row per unit
            how, columns = how_provided(profile, fld)
            note = profile.notes.get(fld) or (None if how else "not in this extract")
            rows.append(
                (
                    profile.name,
                    profile.source,
                    fld,
                    kind,
                    str(fld in profile.canonical.required).lower(),
                    str(how is not None).lower(),
                    how,
                    columns,
                    note,
                    profile.timezone,
                    profile.path.name if profile.path else None,
                    described_at,
                    profile.city,
                    profile.city_name or (profile.city.replace("_", " ").title() if profile.city else None),
                    json.dumps(list(profile.accepted_values[fld])) if fld in profile.accepted_values else None,
                )
            )
    return rows


def write_coverage(con: duckdb.DuckDBPyConnection, profiles: dict[str, SourceProfile]) -> int:
    """Replace ``raw.source_profiles`` with the profiles' coverage; returns the rows written."""
    con.execute("CREATE SCHEMA IF NOT EXISTS raw")
    body = ", ".join(f"{c} {t}" for c, t in COVERAGE_COLUMNS.items())
    con.execute(f"CREATE TABLE IF NOT EXISTS {COVERAGE_TABLE} ({body})")
    for column in ("city", "city_name", "accepted_values"):  # added since warehouses were made
        con.execute(f"ALTER TABLE {COVERAGE_TABLE} ADD COLUMN IF NOT EXISTS {column} VARCHAR")
    rows = coverage_rows(profiles)
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute(f"DELETE FROM {COVERAGE_TABLE}")
        if rows:
            lists = [list(col) for col in zip(*rows, strict=True)]
            unnests = ", ".join(f"unnest(?::{t}[]) AS {c}" for c, t in COVERAGE_COLUMNS.items())
            con.execute(f"INSERT INTO {COVERAGE_TABLE} BY NAME SELECT {unnests}", lists)
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise
    return len(rows)
