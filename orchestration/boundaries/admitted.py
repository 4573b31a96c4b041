"""Which beat boundary file each city's records are placed against: its latest that passed the gate.

Kept apart (DuckDB only, no geometry library) because the refresh decision reads it too: when a
city's admitted beats change, every one of its files is placed again, and rows built from the old
placements are stale (orchestration/transform/build_state.py).
"""

from __future__ import annotations

import duckdb


def admitted_beat_batches(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """{city: batch id} of each city's latest beat boundary file that passed the gate ({} before any landed)."""
    exists = con.execute(
        "SELECT 1 FROM duckdb_tables() WHERE schema_name = 'raw' AND table_name = 'area_boundary_batches'"
    ).fetchone()
    if exists is None:
        return {}
    rows = con.execute(
        "SELECT city, batch_id FROM raw.area_boundary_batches WHERE gate_passed AND area_level = 'beat' "
        "QUALIFY row_number() OVER (PARTITION BY city ORDER BY loaded_at DESC) = 1 ORDER BY city"
    ).fetchall()
    return dict(rows)
