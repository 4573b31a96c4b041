"""Place records by their coordinates: point-in-polygon against the city's admitted beats, all the
points of a file at once (shapely's STRtree; never a Python loop over records).

Each record with coordinates gets the beat its point falls in, and a placement:

| placement | the record's reported beat | its point |
|---|---|---|
| `agrees` | a beat of the boundaries | inside that beat |
| `elsewhere` | a beat of the boundaries | inside another beat (flagged: the reported beat is kept) |
| `outside` | a beat of the boundaries | in no beat (flagged) |
| `placed` | none | inside a beat: the record is placed there |
| `re-placed` | a code no boundary has | inside a beat: placed there instead of the unknown code |
| `unplaceable` | none or unknown | no coordinates, or in no beat |
| `unverified` | a beat of the boundaries | no coordinates |

``raw.record_places`` keeps every record whose placement is not ``agrees`` or ``unverified``;
``raw.record_placement_batches`` counts each placement per landed file. A file is placed once per
boundary file: when a city's admitted boundaries change, its files are placed again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import duckdb
import numpy as np
import pandas as pd
import shapely

from orchestration.boundaries.admitted import admitted_beat_batches
from orchestration.boundaries.land import RECORD_SOURCES, city_profiles
from orchestration.landing.canonical import CANONICAL_SOURCES

PLACEMENTS = ("agrees", "elsewhere", "outside", "placed", "re-placed", "unplaceable", "unverified")
KEPT = ("elsewhere", "outside", "placed", "re-placed", "unplaceable")
PLACE_COLUMNS = {
    "source": "VARCHAR",
    "source_profile": "VARCHAR",
    "batch_id": "VARCHAR",
    "record_id": "VARCHAR",
    "row_number": "BIGINT",
    "reported_area": "VARCHAR",
    "placed_area": "VARCHAR",
    "placement": "VARCHAR",
}
COUNT_COLUMNS = {
    "batch_id": "VARCHAR",
    "source": "VARCHAR",
    "source_profile": "VARCHAR",
    "source_file": "VARCHAR",
    "city": "VARCHAR",
    "boundary_batch_id": "VARCHAR",
    "records": "BIGINT",
    **{p.replace("-", "_"): "BIGINT" for p in PLACEMENTS},
    "placed_at": "TIMESTAMP",
}


@dataclass(frozen=True)
class Beats:
    """A city's admitted beats: ids and lon/lat polygons, with the tree that finds them."""

    ids: np.ndarray
    polygons: np.ndarray

    @property
    def tree(self) -> shapely.STRtree:
        return shapely.STRtree(self.polygons)


def locate(beats: Beats, longitude: np.ndarray, latitude: np.ndarray) -> np.ndarray:
    """The beat each point falls in (None where none does, or the point is missing). A point on an
    edge shared by two beats goes to the first of them in the file, so every point has one answer."""
    longitude = np.asarray(longitude, dtype=float)
    latitude = np.asarray(latitude, dtype=float)
    found = np.full(len(longitude), None, dtype=object)
    present = np.isfinite(longitude) & np.isfinite(latitude)
    index = np.flatnonzero(present)
    points = shapely.points(longitude[index], latitude[index])
    point_i, beat_i = beats.tree.query(points, predicate="intersects")
    order = np.lexsort((beat_i, point_i))
    point_i, beat_i = point_i[order], beat_i[order]
    first = np.unique(point_i, return_index=True)[1]
    found[index[point_i[first]]] = beats.ids[beat_i[first]]
    return found


def classify(beats: Beats, reported: np.ndarray, longitude, latitude) -> tuple[np.ndarray, np.ndarray]:
    """(placed beat, placement) of each record, as in the module's table."""
    placed = locate(beats, longitude, latitude)
    reported = np.array([None if r is None or str(r).strip() == "" else str(r).strip() for r in reported], dtype=object)
    known = np.isin(reported, beats.ids)
    has_point = np.isfinite(np.asarray(longitude, dtype=float)) & np.isfinite(np.asarray(latitude, dtype=float))
    hit = placed != None  # noqa: E711 (element-wise on an object array)
    empty = reported == None  # noqa: E711
    placement = np.select(
        [
            known & hit & (placed == reported),
            known & hit,
            known & has_point,
            known,
            ~known & hit & empty,
            ~known & hit,
        ],
        ["agrees", "elsewhere", "outside", "unverified", "placed", "re-placed"],
        default="unplaceable",
    )
    return placed, placement


def admitted_beats(con: duckdb.DuckDBPyConnection) -> dict[str, tuple[str, Beats]]:
    """Each city's latest beat boundaries that passed the gate: {city: (boundary batch id, beats)}."""
    found = {}
    for city, batch in admitted_beat_batches(con).items():
        rows = con.execute(
            "SELECT area_id, geometry_wkt FROM raw.area_boundaries WHERE _batch_id = ? ORDER BY _row_number", [batch]
        ).fetchall()
        found[city] = (
            batch,
            Beats(np.array([r[0] for r in rows], dtype=object), shapely.from_wkt([r[1] for r in rows])),
        )
    return found


def ensure_placement_tables(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("CREATE SCHEMA IF NOT EXISTS raw")
    for table, spec in (("record_places", PLACE_COLUMNS), ("record_placement_batches", COUNT_COLUMNS)):
        con.execute(f"CREATE TABLE IF NOT EXISTS raw.{table} ({', '.join(f'{c} {t}' for c, t in spec.items())})")


def _place_batch(con, source: str, city: str, boundary: str, beats: Beats, batch: str, profile: str, file: str):
    id_field = CANONICAL_SOURCES[source].id_field
    records = con.execute(
        f"SELECT {id_field}, _row_number, beat, TRY_CAST(longitude AS DOUBLE), TRY_CAST(latitude AS DOUBLE) "
        f"FROM raw.{source} WHERE _batch_id = ? AND _source_profile = ?",
        [batch, profile],
    ).fetchnumpy()
    ids, rows, reported, lon, lat = (records[k] for k in records)
    lon = np.asarray(pd.array(lon, dtype="Float64").to_numpy(dtype=float, na_value=np.nan))
    lat = np.asarray(pd.array(lat, dtype="Float64").to_numpy(dtype=float, na_value=np.nan))
    placed, placement = classify(beats, np.asarray(reported, dtype=object), lon, lat)
    keep = np.isin(placement, KEPT)
    frame = pd.DataFrame(
        {
            "source": source,
            "source_profile": profile,
            "batch_id": batch,
            "record_id": np.asarray(ids, dtype=object)[keep],
            "row_number": np.asarray(rows)[keep],
            "reported_area": np.asarray(reported, dtype=object)[keep],
            "placed_area": placed[keep],
            "placement": placement[keep],
        },
        columns=list(PLACE_COLUMNS),
    )
    counts = {p.replace("-", "_"): int((placement == p).sum()) for p in PLACEMENTS}
    con.execute("DELETE FROM raw.record_places WHERE batch_id = ? AND source_profile = ?", [batch, profile])
    con.execute("DELETE FROM raw.record_placement_batches WHERE batch_id = ? AND source_profile = ?", [batch, profile])
    con.register("placed_records", frame)
    con.execute("INSERT INTO raw.record_places BY NAME SELECT * FROM placed_records")
    con.unregister("placed_records")
    con.execute(
        f"INSERT INTO raw.record_placement_batches VALUES ({', '.join('?' * len(COUNT_COLUMNS))})",
        [
            batch,
            source,
            profile,
            file,
            city,
            boundary,
            len(placement),
            *counts.values(),
            datetime.now(UTC).replace(tzinfo=None),
        ],
    )
    return counts


def place_records(con: duckdb.DuckDBPyConnection) -> dict[tuple[str, str], dict[str, int]]:
    """Place every landed file not yet placed against its city's current beats; {(profile, file): counts}."""
    ensure_placement_tables(con)
    tables = {t for (t,) in con.execute("SELECT table_name FROM duckdb_tables() WHERE schema_name = 'raw'").fetchall()}
    if "area_boundary_batches" not in tables:
        return {}
    done = {}
    for city, (boundary, beats) in admitted_beats(con).items():
        profiles = city_profiles(con, city)
        for source in RECORD_SOURCES:
            if source not in tables:
                continue
            todo = con.execute(
                f"SELECT DISTINCT r._batch_id, r._source_profile, r._source_file FROM raw.{source} AS r "
                "WHERE list_contains(?, r._source_profile) AND NOT EXISTS (SELECT 1 "
                "FROM raw.record_placement_batches AS p WHERE p.batch_id = r._batch_id "
                "AND p.source_profile = r._source_profile AND p.boundary_batch_id = ?) "
                "ORDER BY 3",
                [profiles, boundary],
            ).fetchall()
            for batch, profile, file in todo:
                done[(profile, file)] = _place_batch(con, source, city, boundary, beats, batch, profile, file)
    return done
