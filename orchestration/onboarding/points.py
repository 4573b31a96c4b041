"""Columns found by their content rather than their name: a column of points ("(39.29, -76.61)",
"POINT (-76.61 39.29)", GeoJSON) is the records' coordinates, whatever it is called (Milwaukee's
``location`` is an address, Baltimore's a point); and a call type written only as a description is
the call type."""

from __future__ import annotations

from orchestration.landing.field_sql import GEOJSON_POINT, PAREN_LAT_LON, WKT_POINT
from orchestration.onboarding.report import Match
from orchestration.sql import quote_ident, quote_literal

# the share of a column's filled values that must be points for it to be taken as the coordinates
MIN_POINT_SHARE = 0.9


def point_column(con, header: list[str], table: str = "sample") -> str | None:
    """The first column whose filled values are (nearly) all points, or None."""
    t = quote_ident(table)
    patterns = " OR ".join(
        f"regexp_matches(trim({{c}}), {quote_literal(p)})" for p in (PAREN_LAT_LON, WKT_POINT, GEOJSON_POINT)
    )
    for column in header:
        c = quote_ident(column)
        filled, points = con.execute(
            f"SELECT count(nullif(trim({c}), '')), count(*) FILTER (WHERE {patterns.format(c=c)}) FROM {t}"
        ).fetchone()
        if filled and points >= MIN_POINT_SHARE * filled:
            return column
    return None


def place_points(con, header: list[str], matched: dict[str, Match], rejected: dict[str, str]) -> str | None:
    """When the records have no latitude/longitude columns but a column of points: that column,
    and any field matched to it by name alone is let go (with the reason)."""
    if "latitude" in matched or "longitude" in matched:
        return None
    column = point_column(con, header)
    if column is None:
        return None
    for fld, m in list(matched.items()):
        if m.column == column:
            del matched[fld]
            rejected[fld] = f"{column}: matched by name ({m.why}), but its values are points: the coordinates"
    return column


def call_type_from_description(matched: dict[str, Match]) -> None:
    """A feed with a description of the call and no call-type code: the description is the call type."""
    if "call_type" not in matched and "call_type_description" in matched:
        m = matched.pop("call_type_description")
        matched["call_type"] = Match(
            "call_type", "text", m.column, m.score, f"{m.why}; the only call-type column, so the call type"
        )


def point_parts(column: str) -> tuple[str, str]:
    """SQL for the latitude and longitude of a point column (as landing reads it)."""
    c = f"trim({quote_ident(column)})"

    def part(lon_first_group: int, lat_first_group: int) -> str:
        return (
            f"try_cast(coalesce(nullif(regexp_extract({c}, {quote_literal(WKT_POINT)}, {lon_first_group}), ''), "
            f"nullif(regexp_extract({c}, {quote_literal(GEOJSON_POINT)}, {lon_first_group}), ''), "
            f"nullif(regexp_extract({c}, {quote_literal(PAREN_LAT_LON)}, {lat_first_group}), '')) AS DOUBLE)"
        )

    return part(2, 1), part(1, 2)
