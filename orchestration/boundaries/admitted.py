"""Which boundary files a city's figures rest on: per city and area level, its latest file that passed the gate.

Kept apart (DuckDB only, no geometry library) because the refresh decision reads it too: when a
city's admitted beats change, every one of its files is placed again, and rows built from the old
placements are stale (orchestration/transform/build_state.py). The census crosswalk reads it for
its tracts or block groups and beats (orchestration/boundaries/crosswalk.py).
"""

from __future__ import annotations

import duckdb


def admitted_batches(con: duckdb.DuckDBPyConnection, levels: tuple[str, ...]) -> dict[str, dict[str, str]]:
    """{city: {area level: batch id}}: each city's latest file per level that passed the gate ({} before any)."""
    exists = con.execute(
        "SELECT 1 FROM duckdb_tables() WHERE schema_name = 'raw' AND table_name = 'area_boundary_batches'"
    ).fetchone()
    if exists is None:
        return {}
    rows = con.execute(
        "SELECT city, area_level, batch_id FROM raw.area_boundary_batches "
        "WHERE gate_passed AND list_contains(?, area_level) "
        "QUALIFY row_number() OVER (PARTITION BY city, area_level ORDER BY loaded_at DESC) = 1 "
        "ORDER BY city, area_level",
        [list(levels)],
    ).fetchall()
    found: dict[str, dict[str, str]] = {}
    for city, level, batch in rows:
        found.setdefault(city, {})[level] = batch
    return found


def admitted_beat_batches(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """{city: batch id} of each city's latest beat boundary file that passed the gate."""
    return {city: levels["beat"] for city, levels in admitted_batches(con, ("beat",)).items()}
