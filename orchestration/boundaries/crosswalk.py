"""Census denominators: an area-weighted crosswalk from tracts (with residents) to beats.

Each tract's residents are shared among the beats it overlaps in proportion to the overlapping
surface (weight = area of tract ∩ beat / area of tract), so a beat's estimate is the sum of
the shares of the tracts that touch it. Assumption: residents are spread evenly within each
tract. Where a tract straddles beats of different density, the estimate moves residents from
the denser beat to the other; the demo city measures that error against its planted beat
populations. Surfaces are compared in longitude/latitude within a tract, where the distortion
is far below a tenth of a percent at a city's size. Tract residents left outside every beat
(a tract crossing the city limit) are counted in ``unallocated``, so the beats' sum plus it
equals the tracts' sum.

The census units are a city's block groups where it gave a block-group file with residents, else
its tracts (the finer the units, the less the even-spread assumption moves residents); the
columns keep the name ``tract_*`` for either. Where the file gives each unit's margin of error
(an ACS estimate's, at 90 % confidence), each row carries the share of it that follows the share
of residents (``margin_allocated`` = margin x share); a beat's margin is the root of the sum of
their squares (the Census Bureau's approximation for a sum of estimates, in its ACS handbook
"Understanding and Using American Community Survey Data", chapter 8). That margin is the
sampling error only: the area-weighting error comes on top of it and is measured on the demo city.
"""

from __future__ import annotations

from datetime import UTC, datetime

import duckdb
import numpy as np
import pandas as pd
import shapely

from orchestration.boundaries.admitted import admitted_batches

CROSSWALK_COLUMNS = {
    "city": "VARCHAR",
    "tract_id": "VARCHAR",
    "beat_id": "VARCHAR",
    "census_level": "VARCHAR",
    "tract_population": "DOUBLE",
    "tract_margin": "DOUBLE",
    "area_share": "DOUBLE",
    "population_allocated": "DOUBLE",
    "margin_allocated": "DOUBLE",
    "tract_batch_id": "VARCHAR",
    "beat_batch_id": "VARCHAR",
    "built_at": "TIMESTAMP",
}


def crosswalk(
    tract_ids: list[str],
    tracts: np.ndarray,
    population: list[float],
    beat_ids: list[str],
    beats: np.ndarray,
    margin: list[float | None] | None = None,
) -> pd.DataFrame:
    """One row per tract x beat that overlap (and one with beat_id NULL for a tract's share outside every beat)."""
    tree = shapely.STRtree(beats)
    t_i, b_i = tree.query(tracts, predicate="intersects")
    shared = shapely.area(shapely.intersection(tracts[t_i], beats[b_i]))
    keep = shared > 0
    t_i, b_i, shared = t_i[keep], b_i[keep], shared[keep]
    tract_area = shapely.area(tracts)
    share = shared / tract_area[t_i]
    pop = np.asarray(population, dtype=float)
    moe = np.asarray([np.nan if m is None else m for m in (margin or [None] * len(tract_ids))], dtype=float)
    rows = pd.DataFrame(
        {
            "tract_id": np.asarray(tract_ids, dtype=object)[t_i],
            "beat_id": np.asarray(beat_ids, dtype=object)[b_i],
            "tract_population": pop[t_i],
            "tract_margin": moe[t_i],
            "area_share": share,
            "population_allocated": pop[t_i] * share,
            "margin_allocated": moe[t_i] * share,
        }
    )
    covered = np.bincount(t_i, weights=share, minlength=len(tract_ids))
    outside = 1 - covered
    left = np.flatnonzero(outside > 1e-9)
    rest = pd.DataFrame(
        {
            "tract_id": np.asarray(tract_ids, dtype=object)[left],
            "beat_id": None,
            "tract_population": pop[left],
            "tract_margin": moe[left],
            "area_share": outside[left],
            "population_allocated": pop[left] * outside[left],
            "margin_allocated": moe[left] * outside[left],
        }
    )
    return pd.concat([rows, rest], ignore_index=True) if len(rest) else rows


CENSUS_LEVELS = ("block_group", "tract")  # finest first


def build_crosswalks(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Rebuild ``raw.area_crosswalk`` for every city with admitted census units and beats; {city: rows}."""
    con.execute(
        f"CREATE TABLE IF NOT EXISTS raw.area_crosswalk ({', '.join(f'{c} {t}' for c, t in CROSSWALK_COLUMNS.items())})"
    )
    for column in ("census_level", "tract_margin", "margin_allocated"):  # a warehouse from before they were kept
        con.execute(f"ALTER TABLE raw.area_crosswalk ADD COLUMN IF NOT EXISTS {column} {CROSSWALK_COLUMNS[column]}")
    by_city = admitted_batches(con, (*CENSUS_LEVELS, "beat"))
    built = {}
    con.execute("DELETE FROM raw.area_crosswalk")
    for city, batches in by_city.items():
        level = next((lv for lv in CENSUS_LEVELS if lv in batches), None)
        if level is None or "beat" not in batches:
            continue
        units = con.execute(
            "SELECT area_id, geometry_wkt, TRY_CAST(population AS DOUBLE), TRY_CAST(population_margin AS DOUBLE) "
            "FROM raw.area_boundaries WHERE _batch_id = ? ORDER BY _row_number",
            [batches[level]],
        ).fetchall()
        beats = con.execute(
            "SELECT area_id, geometry_wkt FROM raw.area_boundaries WHERE _batch_id = ? ORDER BY _row_number",
            [batches["beat"]],
        ).fetchall()
        frame = crosswalk(
            [u[0] for u in units],
            shapely.make_valid(shapely.from_wkt([u[1] for u in units])),
            [u[2] or 0.0 for u in units],
            [b[0] for b in beats],
            shapely.from_wkt([b[1] for b in beats]),
            margin=[u[3] for u in units],
        )
        frame.insert(0, "city", city)
        frame["census_level"] = level
        frame["tract_batch_id"] = batches[level]
        frame["beat_batch_id"] = batches["beat"]
        frame["built_at"] = datetime.now(UTC).replace(tzinfo=None)
        con.register("crosswalk_rows", frame)
        con.execute("INSERT INTO raw.area_crosswalk BY NAME SELECT * FROM crosswalk_rows")
        con.unregister("crosswalk_rows")
        built[city] = len(frame)
    return built
