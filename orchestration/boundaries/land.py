"""Land boundary files into ``raw.area_boundaries`` with lineage, and judge each profile's latest file.

Like every source: a file is keyed by its content hash (the same file twice lands once), each
area keeps its file, feature number, load time, profile and properties as received; a feature
that cannot be read goes to ``raw.quarantine`` with its reason; features read = landed +
quarantined. ``raw.area_boundary_batches`` holds one row per file with the gate's verdict:
staging reads the latest file of each profile that passed, so a city whose new file fails keeps
its last good boundaries. The gate runs again at every landing (the beats a city's records name
can grow after its boundaries landed).
"""

from __future__ import annotations

import csv
import hashlib
import json
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pandas as pd
import shapely

from orchestration.boundaries.gate import GateOutcome, judge
from orchestration.boundaries.geojson import BoundaryFileError, read_boundaries
from orchestration.boundaries.profile import BoundaryProfile, load_boundary_profiles
from orchestration.landing.raw_tables import QUARANTINE_COLUMNS
from orchestration.settings import PROJECT_ROOT

CITY_PROFILES_SEED = PROJECT_ROOT / "seeds" / "city_names.csv"
RECORD_SOURCES = ("calls_for_service", "incidents", "stops", "service_requests")
AREA_COLUMNS = {
    "area_id": "VARCHAR",
    "area_name": "VARCHAR",
    "area_level": "VARCHAR",
    "city": "VARCHAR",
    "geometry_wkt": "VARCHAR",
    "geometry_geojson": "VARCHAR",
    "area_sq_km": "DOUBLE",
    "centroid_latitude": "DOUBLE",
    "centroid_longitude": "DOUBLE",
    "population": "VARCHAR",
    "population_margin": "VARCHAR",
    "_batch_id": "VARCHAR",
    "_source_file": "VARCHAR",
    "_row_number": "BIGINT",
    "_loaded_at": "TIMESTAMP",
    "_source_profile": "VARCHAR",
    "_original": "JSON",
}
BATCH_COLUMNS = {
    "batch_id": "VARCHAR PRIMARY KEY",
    "source_profile": "VARCHAR",
    "city": "VARCHAR",
    "area_level": "VARCHAR",
    "source_file": "VARCHAR",
    "features_read": "BIGINT",
    "features_landed": "BIGINT",
    "features_quarantined": "BIGINT",
    "loaded_at": "TIMESTAMP",
    "gate_passed": "BOOLEAN",
    "gate_outcomes": "JSON",
}


@dataclass(frozen=True)
class BoundaryLanding:
    profile: str
    file: str
    batch_id: str
    features_read: int
    features_landed: int
    features_quarantined: int
    already_landed: bool = False
    refused: str | None = None


def ensure_boundary_tables(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("CREATE SCHEMA IF NOT EXISTS raw")
    for table, spec in (("area_boundaries", AREA_COLUMNS), ("area_boundary_batches", BATCH_COLUMNS)):
        con.execute(f"CREATE TABLE IF NOT EXISTS raw.{table} ({', '.join(f'{c} {t}' for c, t in spec.items())})")
    # a warehouse from before census margins were kept
    con.execute("ALTER TABLE raw.area_boundaries ADD COLUMN IF NOT EXISTS population_margin VARCHAR")


def city_profiles(con: duckdb.DuckDBPyConnection, city: str, seed: Path = CITY_PROFILES_SEED) -> list[str]:
    """The source profiles of a city: a profile's own ``city`` key (raw.source_profiles, written at
    landing), else the reference seed city_names.csv."""
    with seed.open(encoding="utf-8") as f:
        cities = {r["source_profile"]: r["city"] for r in csv.DictReader(f)}
    if con.execute(
        "SELECT 1 FROM duckdb_columns() WHERE schema_name = 'raw' AND table_name = 'source_profiles' "
        "AND column_name = 'city'"
    ).fetchone():
        cities.update(
            con.execute(
                "SELECT DISTINCT source_profile, city FROM raw.source_profiles WHERE city IS NOT NULL"
            ).fetchall()
        )
    return sorted(p for p, c in cities.items() if c == city)


def expected_areas(con: duckdb.DuckDBPyConnection, profile: BoundaryProfile) -> dict[str, int]:
    """How many landed records of the city name each beat (or district) code: each needs a polygon."""
    column = {"beat": "beat", "district": "district"}.get(profile.level)
    profiles = city_profiles(con, profile.city)
    if column is None or not profiles:
        return {}
    found: Counter = Counter()
    tables = {t for (t,) in con.execute("SELECT table_name FROM duckdb_tables() WHERE schema_name = 'raw'").fetchall()}
    for source in RECORD_SOURCES:
        if source in tables:
            found.update(
                dict(
                    con.execute(
                        f"SELECT trim({column}), count(*) FROM raw.{source} WHERE list_contains(?, _source_profile) "
                        f"AND nullif(trim({column}), '') IS NOT NULL GROUP BY 1",
                        [profiles],
                    ).fetchall()
                )
            )
    return dict(found)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _land_file(con, profile: BoundaryProfile, path: Path, shown: str) -> BoundaryLanding:
    batch_id = _sha256(path)
    if con.execute("SELECT 1 FROM raw.area_boundary_batches WHERE batch_id = ?", [batch_id]).fetchone():
        return BoundaryLanding(profile.name, shown, batch_id, 0, 0, 0, already_landed=True)
    try:
        read = read_boundaries(path, profile)
    except BoundaryFileError as exc:
        return BoundaryLanding(profile.name, shown, batch_id, 0, 0, 0, refused=str(exc))
    now = datetime.now(UTC).replace(tzinfo=None)
    centroids = shapely.centroid(read.geometries) if len(read.geometries) else read.geometries
    areas = pd.DataFrame(
        {
            "area_id": read.ids,
            "area_name": read.names,
            "area_level": profile.level,
            "city": profile.city,
            "geometry_wkt": shapely.to_wkt(read.geometries, rounding_precision=7) if read.ids else [],
            "geometry_geojson": shapely.to_geojson(read.geometries) if read.ids else [],
            "area_sq_km": read.area_sq_km(),
            "centroid_latitude": shapely.get_y(centroids) if read.ids else [],
            "centroid_longitude": shapely.get_x(centroids) if read.ids else [],
            "population": [
                None if profile.population_property is None else p.get(profile.population_property)
                for p in read.properties
            ],
            "population_margin": [
                None if profile.margin_property is None else p.get(profile.margin_property) for p in read.properties
            ],
            "_batch_id": batch_id,
            "_source_file": shown,
            "_row_number": read.row_numbers,
            "_loaded_at": now,
            "_source_profile": profile.name,
            "_original": [json.dumps(p, default=str) for p in read.properties],
        },
        columns=list(AREA_COLUMNS),
    )
    for column in ("population", "population_margin"):
        areas[column] = areas[column].map(lambda v: None if v is None else str(v)).astype(object)
    quarantined = pd.DataFrame(
        [
            {
                "batch_id": batch_id,
                "source": "area_boundaries",
                "source_profile": profile.name,
                "source_file": shown,
                "row_number": r.row_number,
                "error_type": r.error_type,
                "field": r.field,
                "reason": f"{r.reason}, {shown} feature {r.row_number}",
                "record": r.record,
                "loaded_at": now,
            }
            for r in read.rejected
        ],
        columns=[
            "batch_id",
            "source",
            "source_profile",
            "source_file",
            "row_number",
            "error_type",
            "field",
            "reason",
            "record",
            "loaded_at",
        ],  # fmt: skip
    )
    if len(areas) + len(quarantined) != read.features_read:
        raise RuntimeError(f"{shown}: {read.features_read} features read but {len(areas) + len(quarantined)} kept")
    con.execute("BEGIN TRANSACTION")
    try:
        con.register("landed_areas", areas)
        con.execute("INSERT INTO raw.area_boundaries BY NAME SELECT * FROM landed_areas")
        con.unregister("landed_areas")
        if len(quarantined):
            con.register("quarantined_areas", quarantined)
            con.execute("INSERT INTO raw.quarantine BY NAME SELECT * FROM quarantined_areas")
            con.unregister("quarantined_areas")
        con.execute(
            "INSERT INTO raw.area_boundary_batches VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, NULL)",
            [batch_id, profile.name, profile.city, profile.level, shown, read.features_read, len(areas),
             len(quarantined), now],
        )  # fmt: skip
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise
    return BoundaryLanding(profile.name, shown, batch_id, read.features_read, len(areas), len(quarantined))


def judge_latest(con: duckdb.DuckDBPyConnection, profiles: dict[str, BoundaryProfile], tolerance: float) -> dict:
    """Run the gate on each profile's latest file and store the verdict; returns {profile: outcomes}."""
    verdicts: dict[str, list[GateOutcome]] = {}
    for name, profile in profiles.items():
        latest = con.execute(
            "SELECT batch_id FROM raw.area_boundary_batches WHERE source_profile = ? ORDER BY loaded_at DESC LIMIT 1",
            [name],
        ).fetchone()
        if latest is None:
            continue
        rows = con.execute(
            "SELECT area_id, geometry_wkt FROM raw.area_boundaries WHERE _batch_id = ? ORDER BY _row_number",
            [latest[0]],
        ).fetchall()
        geoms = shapely.from_wkt([w for _, w in rows]) if rows else shapely.from_wkt([])
        outcomes = judge([i for i, _ in rows], geoms, expected_areas(con, profile), tolerance)
        con.execute(
            "UPDATE raw.area_boundary_batches SET gate_passed = ?, gate_outcomes = ? WHERE batch_id = ?",
            [all(o.passed for o in outcomes), json.dumps([o.__dict__ for o in outcomes]), latest[0]],
        )
        verdicts[name] = outcomes
    return verdicts


def land_boundaries(
    con: duckdb.DuckDBPyConnection, landing_dir: Path, profiles_dir: Path, tolerance: float
) -> tuple[list[BoundaryLanding], dict[str, list[GateOutcome]], list[str]]:
    """Land every new boundary file, then judge each profile's latest; returns landings, verdicts, profile errors."""
    ensure_boundary_tables(con)

    con.execute(
        f"CREATE TABLE IF NOT EXISTS raw.quarantine ({', '.join(f'{c} {t}' for c, t in QUARANTINE_COLUMNS.items())})"
    )
    profiles, errors = load_boundary_profiles(profiles_dir)
    landings = [
        _land_file(con, profile, path, str(path.relative_to(landing_dir)))
        for profile in profiles.values()
        for path in profile.matching_files(landing_dir)
    ]
    return landings, judge_latest(con, profiles, tolerance), errors
