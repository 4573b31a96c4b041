"""Area boundaries as a source: GeoJSON polygons landed with lineage, reprojected from state plane,
and gated (valid polygons, unique ids, no gaps or overlaps beyond the tolerance, every beat of the
city's records present). Each gate is seen failing on a file broken in one way."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import duckdb
import numpy as np
import pytest
import shapely
from pyproj import Geod, Transformer

from orchestration.boundaries.land import land_boundaries
from orchestration.demo_city.boundaries import BEATS_FILE, beat_features
from orchestration.demo_city.generator import BBOX, build_areas
from orchestration.report.config import dbt_vars
from orchestration.settings import PROJECT_ROOT

from .conftest import TEST_SEED

PROFILES = PROJECT_ROOT / "orchestration" / "source_profiles"
TOLERANCE = float(dbt_vars()["boundary_gap_overlap_tolerance"])
AREAS = build_areas(TEST_SEED)
BEATS = list(AREAS["beat"])


def _write(landing: Path, features: list[dict], name: str = BEATS_FILE, **extra) -> Path:
    path = landing / "demo_city" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"type": "FeatureCollection", **extra, "features": features}))
    return path


def _warehouse(tmp_path: Path, beats_in_calls: list[str]) -> duckdb.DuckDBPyConnection:
    """A warehouse whose raw calls name these beats (what the 'every beat present' check reads)."""
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    con.execute("CREATE SCHEMA raw")
    con.execute("CREATE TABLE raw.calls_for_service (beat VARCHAR, district VARCHAR, _source_profile VARCHAR)")
    con.executemany(
        "INSERT INTO raw.calls_for_service VALUES (?, NULL, 'demo_city_calls')", [[b] for b in beats_in_calls]
    )
    return con


def _land(tmp_path, features, beats_in_calls=BEATS, profiles=PROFILES):
    landing = tmp_path / "landing"
    path = _write(landing, features)
    con = _warehouse(tmp_path, beats_in_calls)
    landings, verdicts, errors = land_boundaries(con, landing, profiles, TOLERANCE)
    assert errors == []
    return con, path, landings, {o.check: o for o in verdicts["demo_city_beats"]}


def _with(features: list[dict], beat: str, ring: list[list[float]]) -> list[dict]:
    """The features with one beat's polygon replaced."""
    out = json.loads(json.dumps(features))
    for f in out:
        if f["properties"]["BEAT_NUM"] == beat:
            f["geometry"] = {"type": "Polygon", "coordinates": [ring]}
    return out


def _box(beat: str, shrink: float = 0.0, grow: float = 0.0) -> list[list[float]]:
    r = AREAS.set_index("beat").loc[beat]
    dx = (r.max_longitude - r.min_longitude) * (grow - shrink)
    dy = (r.max_latitude - r.min_latitude) * (grow - shrink)
    x0, x1, y0, y1 = r.min_longitude - dx, r.max_longitude + dx, r.min_latitude - dy, r.max_latitude + dy
    return [[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]


def test_the_demo_beats_land_with_lineage_and_pass_the_gate(tmp_path):
    con, path, landings, gate = _land(tmp_path, beat_features(AREAS))
    (landed,) = landings
    assert (landed.features_read, landed.features_landed, landed.features_quarantined) == (20, 20, 0)
    assert landed.batch_id == hashlib.sha256(path.read_bytes()).hexdigest()
    assert all(o.passed for o in gate.values()), gate
    rows = con.execute(
        "SELECT area_id, area_name, _row_number, _source_file, _source_profile, area_sq_km, _original ->> 'DISTRICT' "
        "FROM raw.area_boundaries ORDER BY _row_number"
    ).fetchall()
    assert [r[0] for r in rows] == BEATS and [r[2] for r in rows] == list(range(1, 21))
    assert {r[3] for r in rows} == {"demo_city/beats.geojson"} and {r[4] for r in rows} == {"demo_city_beats"}
    assert rows[0][1] == "Beat 1A" and rows[0][6] == "1"
    # the beats tile the city: their surfaces add up to the city's bounding box, measured on its own
    city = shapely.box(BBOX["min_longitude"], BBOX["min_latitude"], BBOX["max_longitude"], BBOX["max_latitude"])
    city_km2 = abs(Geod(ellps="WGS84").geometry_area_perimeter(city)[0]) / 1e6
    assert sum(r[5] for r in rows) == pytest.approx(city_km2, rel=1e-6)
    assert con.execute("SELECT gate_passed FROM raw.area_boundary_batches").fetchone() == (True,)
    # the same file again lands nothing
    again, _, _ = land_boundaries(con, tmp_path / "landing", PROFILES, TOLERANCE)
    assert again[0].already_landed and con.execute("SELECT count(*) FROM raw.area_boundaries").fetchone() == (20,)


def test_a_self_intersecting_polygon_is_caught_and_named(tmp_path):
    r = AREAS.set_index("beat").loc["2C"]
    bow_tie = [
        [r.min_longitude, r.min_latitude],
        [r.max_longitude, r.max_latitude],
        [r.max_longitude, r.min_latitude],
        [r.min_longitude, r.max_latitude],
        [r.min_longitude, r.min_latitude],
    ]
    con, _, _, gate = _land(tmp_path, _with(beat_features(AREAS), "2C", bow_tie))
    assert not gate["valid_polygons"].passed
    assert "area 2C: Self-intersection" in gate["valid_polygons"].detail
    assert con.execute("SELECT gate_passed FROM raw.area_boundary_batches").fetchone() == (False,)


def test_a_gap_between_beats_is_caught_and_located(tmp_path):
    # beat 2C shrunk by 10 % on each side: a ring of the city no beat covers (about 1.4 % of it)
    _, _, _, gate = _land(tmp_path, _with(beat_features(AREAS), "2C", _box("2C", shrink=0.1)))
    assert not gate["no_gaps"].passed
    r = AREAS.set_index("beat").loc["2C"]
    assert f"near {(r.min_latitude + r.max_latitude) / 2:.4f}" in gate["no_gaps"].detail
    assert gate["valid_polygons"].passed and gate["no_overlaps"].passed


def test_a_gap_within_the_tolerance_passes(tmp_path):
    # a sliver: 2C shrunk by 0.01 % of its width on each side leaves far less than 0.1 % uncovered
    _, _, _, gate = _land(tmp_path, _with(beat_features(AREAS), "2C", _box("2C", shrink=0.0001)))
    assert gate["no_gaps"].passed, gate["no_gaps"].detail
    assert "1 hole(s)" in gate["no_gaps"].detail


def test_overlapping_beats_are_caught_and_named(tmp_path):
    _, _, _, gate = _land(tmp_path, _with(beat_features(AREAS), "2C", _box("2C", grow=0.1)))
    assert not gate["no_overlaps"].passed
    assert "2C and" in gate["no_overlaps"].detail or "and 2C" in gate["no_overlaps"].detail


def test_a_beat_of_the_calls_without_a_polygon_is_caught(tmp_path):
    # 50 calls in each of the 20 beats; beat 1A has no polygon (5 % of the calls): held
    features = [f for f in beat_features(AREAS) if f["properties"]["BEAT_NUM"] != "1A"]
    _, _, _, gate = _land(tmp_path, features, beats_in_calls=BEATS * 50)
    assert not gate["every_area_present"].passed
    assert gate["every_area_present"].detail.endswith("5.000% of the records (tolerance 0.100%): 1A (50 records)")


def test_a_stray_beat_code_within_the_tolerance_passes(tmp_path):
    # one call of 1,001 names a beat no map has (a typo): left to placing, which re-places it
    _, _, _, gate = _land(tmp_path, beat_features(AREAS), beats_in_calls=[*BEATS * 50, "9Z"])
    assert gate["every_area_present"].passed
    assert "9Z (1 records)" in gate["every_area_present"].detail


def test_a_feature_without_an_id_or_polygon_is_quarantined_with_its_number(tmp_path):
    features = beat_features(AREAS)
    features[3]["properties"].pop("BEAT_NUM")
    features[7]["geometry"] = {"type": "Point", "coordinates": [-87.7, 41.9]}
    con, _, (landed,), _ = _land(tmp_path, features)
    assert (landed.features_read, landed.features_landed, landed.features_quarantined) == (20, 18, 2)
    assert con.execute(
        "SELECT row_number, error_type, field FROM raw.quarantine WHERE source = 'area_boundaries' ORDER BY 1"
    ).fetchall() == [(4, "MISSING REQUIRED", "BEAT_NUM"), (8, "INVALID VALUE", "geometry")]


def test_a_state_plane_file_is_reprojected_to_the_same_places(tmp_path):
    # The beats written in NAD83 Illinois East (US survey feet), as Chicago's GIS publishes them.
    to_feet = Transformer.from_crs("EPSG:4326", "EPSG:3435", always_xy=True)
    features = beat_features(AREAS)
    for f in features:
        ring = np.array(f["geometry"]["coordinates"][0])
        x, y = to_feet.transform(ring[:, 0], ring[:, 1])
        f["geometry"]["coordinates"] = [np.column_stack([x, y]).tolist()]
    assert 1.0e6 < features[0]["geometry"]["coordinates"][0][0][0] < 1.3e6  # feet east, not degrees
    profiles = tmp_path / "profiles"
    (profiles / "boundaries").mkdir(parents=True)
    profile = (PROFILES / "boundaries" / "demo_city_beats.yaml").read_text().replace("EPSG:4326", "EPSG:3435")
    (profiles / "boundaries" / "demo_city_beats.yaml").write_text(profile)
    con, _, _, gate = _land(tmp_path, features, profiles=profiles)
    assert all(o.passed for o in gate.values()), gate
    landed = dict(con.execute("SELECT area_id, geometry_wkt FROM raw.area_boundaries").fetchall())
    for f in beat_features(AREAS):
        beat = f["properties"]["BEAT_NUM"]
        expected = shapely.geometry.shape(f["geometry"])
        got = shapely.from_wkt(landed[beat])
        assert shapely.hausdorff_distance(expected, got) < 1e-7, beat  # about a centimetre


def test_a_file_naming_another_coordinate_system_than_its_profile_is_refused(tmp_path):
    landing = tmp_path / "landing"
    _write(landing, beat_features(AREAS), crs={"type": "name", "properties": {"name": "EPSG:3435"}})
    con = _warehouse(tmp_path, BEATS)
    (landed,), verdicts, _ = land_boundaries(con, landing, PROFILES, TOLERANCE)
    assert "the file says its coordinates are in EPSG:3435" in landed.refused
    assert con.execute("SELECT count(*) FROM raw.area_boundaries").fetchone() == (0,)
    assert verdicts == {}


def test_the_demo_city_run_lands_gates_and_publishes_its_beats(demo_city, demo_warehouse, demo_truth):
    _, _, result = demo_city
    gate = [e for e in result.get_asset_check_evaluations() if e.check_name == "boundaries_gate"]
    assert [e.passed for e in gate] == [True]
    published = demo_warehouse.execute(
        "SELECT area_id, geometry_wkt FROM marts.mart_area_boundaries WHERE city = 'demo_city' AND area_level = 'beat' "
        "ORDER BY area_id"
    ).fetchall()
    assert len(published) == demo_truth["planted"]["boundaries"]["areas"] == 20
    polygons = dict(published)
    # the planted beats are where their records are: every located stop of the divergence beat and
    # every located crime of the hot-spot beat lies inside its polygon
    for beat, table, profile in (
        (demo_truth["planted"]["divergence_area"]["beat"], "stg_stops", "demo_city_stops"),
        (demo_truth["planted"]["violent_hot_spot"]["beat"], "stg_incidents", "demo_city_incidents"),
    ):
        points = np.array(
            demo_warehouse.execute(
                f"SELECT longitude, latitude FROM staging.{table} WHERE source_profile = ? AND beat = ? "
                "AND latitude IS NOT NULL",
                [profile, beat],
            ).fetchall()
        )
        assert len(points) > 100
        inside = shapely.contains_xy(shapely.from_wkt(polygons[beat]), points[:, 0], points[:, 1])
        assert inside.all(), (beat, int((~inside).sum()))
    # the boundary file is read by its profile: never reported as a file no profile reads
    unread = demo_warehouse.execute(
        "SELECT count(*) FROM raw.batch_states WHERE state = 'unmatched' AND source_file LIKE '%beats.geojson'"
    ).fetchone()[0]
    assert unread == 0


def test_the_report_publishes_the_beats_as_geojson_and_geoparquet(demo_city, demo_warehouse):
    from orchestration.report.config import load_report_config

    settings, _, _ = demo_city
    report = load_report_config(settings.warehouse_path, env={}).report_dir
    mart = dict(
        demo_warehouse.execute(
            "SELECT area_id, geometry_wkt FROM marts.mart_area_boundaries WHERE city = 'demo_city'"
        ).fetchall()
    )
    collection = json.loads((report / "boundaries.geojson").read_text())
    demo = {f["properties"]["area_id"]: f for f in collection["features"] if f["properties"]["city"] == "demo_city"}
    assert demo.keys() == mart.keys()
    for area, feature in demo.items():
        assert shapely.geometry.shape(feature["geometry"]).equals(shapely.from_wkt(mart[area])), area
    con = duckdb.connect()
    parquet = str(report / "boundaries.parquet")
    geo = json.loads(
        con.execute("SELECT decode(value) FROM parquet_kv_metadata(?) WHERE decode(key) = 'geo'", [parquet]).fetchone()[
            0
        ]
    )
    assert geo["primary_column"] == "geometry" and geo["columns"]["geometry"]["encoding"] == "WKB"
    rows = con.execute("SELECT area_id, geometry FROM read_parquet(?) WHERE city = 'demo_city'", [parquet]).fetchall()
    assert {a: shapely.from_wkb(bytes(g)).equals(shapely.from_wkt(mart[a])) for a, g in rows} == dict.fromkeys(
        mart, True
    )
