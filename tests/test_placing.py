"""Placing records by their coordinates: hand-placed points against the demo city's beat grid, a
real state-plane extract (New Orleans, MapX/MapY in Louisiana South feet) placed in beats drawn
by hand in the same feet, and the counts kept per file."""

from __future__ import annotations

import json

import duckdb
import numpy as np
import pytest
import shapely
import yaml

from orchestration.boundaries.land import land_boundaries
from orchestration.boundaries.placing import Beats, classify, place_records
from orchestration.demo_city.boundaries import beat_features
from orchestration.demo_city.generator import build_areas
from orchestration.landing.loader import land_file
from orchestration.landing.profiles import load_profiles

from .conftest import FIXTURES, PROFILES_DIR, TEST_SEED

# The demo grid, by hand: districts 1-4 are rows of 0.04 degrees from 41.80 N, beats A-E columns of
# 0.05 degrees from 87.80 W. So 2C spans 41.84-41.88 N and 87.70-87.65 W.
HAND_PLACED = [
    # (longitude, latitude, reported beat, expected beat, expected placement)
    (-87.675, 41.86, "2C", "2C", "agrees"),
    (-87.675, 41.86, "1A", "2C", "elsewhere"),
    (-87.675, 41.90, None, "3C", "placed"),
    (-87.575, 41.94, "99X", "4E", "re-placed"),
    (-87.79, 41.81, "", "1A", "placed"),
    (-88.00, 41.86, "1A", None, "outside"),
    (-88.00, 41.86, None, None, "unplaceable"),
    (np.nan, np.nan, "2B", None, "unverified"),
    (np.nan, np.nan, "", None, "unplaceable"),
    (-87.75, 41.82, None, "1A", "placed"),  # on the edge of 1A and 1B: the first in the file (1A)
]


@pytest.fixture(scope="module")
def demo_beats() -> Beats:
    features = beat_features(build_areas(TEST_SEED))
    return Beats(
        np.array([f["properties"]["BEAT_NUM"] for f in features], dtype=object),
        np.array([shapely.geometry.shape(f["geometry"]) for f in features]),
    )


def test_hand_placed_points_land_in_the_beats_placed_by_hand(demo_beats):
    lon, lat, reported, beat, placement = (np.array(c, dtype=object) for c in zip(*HAND_PLACED, strict=True))
    placed, how = classify(demo_beats, reported, lon.astype(float), lat.astype(float))
    assert list(placed) == list(beat)
    assert list(how) == list(placement)


def test_placing_is_vectorised_and_agrees_with_a_point_by_point_answer(demo_beats):
    # 20,000 random points over and around the city against shapely's scalar contains, point by point
    rng = np.random.default_rng(7)
    lon = rng.uniform(-87.85, -87.50, 20_000)
    lat = rng.uniform(41.75, 42.00, 20_000)
    placed, _ = classify(demo_beats, np.full(20_000, None, dtype=object), lon, lat)
    sample = rng.choice(20_000, 300, replace=False)
    for i in sample:
        point = shapely.Point(lon[i], lat[i])
        inside = [b for b, poly in zip(demo_beats.ids, demo_beats.polygons, strict=True) if poly.intersects(point)]
        assert placed[i] == (inside[0] if inside else None), (lon[i], lat[i])
    assert (placed == None).sum() > 1000  # noqa: E711 (points around the city are placed nowhere)


def test_a_state_plane_extract_is_placed_in_beats_drawn_in_state_plane(tmp_path):
    """New Orleans' calls give MapX/MapY in NAD83 Louisiana South (US feet): landing turns them into
    latitude/longitude (orchestration/landing/projection.py); the beats below are drawn by hand in the
    same feet and reprojected by pyproj when they land. The answers are read off the feet by hand."""
    boxes = {  # beat: (min x, min y, max x, max y) in feet
        "8B02": (3679000, 528500, 3681500, 531000),  # E0000118 at 3680432, 529910 reports 8B02
        "8D04": (3681500, 531000, 3684000, 534000),  # E0000218 at 3682458, 532805 reports 8D04
        "1J02": (3673000, 536000, 3676000, 539000),  # A0000219 at 3674491, 537446 reports 1J02
        "3L99": (3688000, 548000, 3691000, 551000),  # E0000318 at 3689865, 549981 reports 3L03 (no such beat)
        "4G01": (3690000, 518000, 3692000, 519000),  # E0000418 at 3693689, 519839 is east of it
    }
    expected = {
        "E0000118": ("8B02", "agrees"),
        "E0000218": ("8D04", "agrees"),
        "A0000219": ("1J02", "agrees"),
        "E0000318": ("3L99", "re-placed"),
        "E0000418": (None, "outside"),
        "E0000518": (None, "unplaceable"),  # MapX 0: not geocoded
        "E0000618": (None, "unplaceable"),  # reports 2A04, which no box is, and lies in none
        "A0000119": (None, "unplaceable"),
    }
    landing = tmp_path / "landing"
    (landing / "new_orleans").mkdir(parents=True)
    features = [
        {
            "type": "Feature",
            "properties": {"BEAT": beat},
            "geometry": {"type": "Polygon", "coordinates": [[[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]]},
        }
        for beat, (x0, y0, x1, y1) in boxes.items()
    ]
    (landing / "new_orleans" / "beats.geojson").write_text(
        json.dumps({"type": "FeatureCollection", "features": features})
    )
    profiles_dir = tmp_path / "profiles"
    (profiles_dir / "boundaries").mkdir(parents=True)
    (profiles_dir / "boundaries" / "new_orleans_beats.yaml").write_text(
        yaml.safe_dump(
            {
                "name": "new_orleans_beats",
                "city": "new_orleans",
                "level": "beat",
                "files": "new_orleans/beats.geojson",
                "id_property": "BEAT",
                "crs": "EPSG:3452",
            }
        )
    )
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    profile = load_profiles(PROFILES_DIR)["new_orleans_cfs"]
    for name in ("calls_for_service_2018_sample.csv", "calls_for_service_2019_sample.csv"):
        land_file(con, FIXTURES / "new_orleans" / name, profile, FIXTURES)
    # The gate holds this file (most reported beats have no box); placing uses the polygons as landed.
    land_boundaries(con, landing, profiles_dir, 0.001)
    rows = con.execute("SELECT area_id, geometry_wkt FROM raw.area_boundaries ORDER BY _row_number").fetchall()
    beats = Beats(np.array([r[0] for r in rows], dtype=object), shapely.from_wkt([r[1] for r in rows]))
    calls = con.execute(
        "SELECT call_id, beat, TRY_CAST(longitude AS DOUBLE), TRY_CAST(latitude AS DOUBLE) FROM raw.calls_for_service"
    ).fetchall()
    ids = [c[0] for c in calls]
    lon = np.array([np.nan if c[2] is None else c[2] for c in calls])
    lat = np.array([np.nan if c[3] is None else c[3] for c in calls])
    placed, how = classify(beats, np.array([c[1] for c in calls], dtype=object), lon, lat)
    assert {i: (p, h) for i, p, h in zip(ids, placed, how, strict=True)} == expected


def test_place_records_counts_each_file_and_keeps_the_exceptions(tmp_path):
    """The demo beats with a file of calls placed by hand: one of each placement, counted per file."""
    landing = tmp_path / "landing"
    (landing / "demo_city").mkdir(parents=True)
    features = beat_features(build_areas(TEST_SEED))
    (landing / "demo_city" / "beats.geojson").write_text(
        json.dumps({"type": "FeatureCollection", "features": features})
    )
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    con.execute("CREATE SCHEMA raw")
    con.execute(
        "CREATE TABLE raw.calls_for_service (call_id VARCHAR, beat VARCHAR, district VARCHAR, latitude VARCHAR, "
        "longitude VARCHAR, _batch_id VARCHAR, _source_file VARCHAR, _row_number BIGINT, _source_profile VARCHAR)"
    )
    # 2,000 calls that agree (100 per beat, at its centre), then the hand-placed ones
    centres = [shapely.geometry.shape(f["geometry"]).centroid for f in features]
    rows = [
        (f"C{i}", f["properties"]["BEAT_NUM"], None, str(c.y), str(c.x), "b1", "calls.csv", i + 2, "demo_city_calls")
        for i, (f, c) in enumerate((f, c) for _ in range(100) for f, c in zip(features, centres, strict=True))
    ]
    for k, (lon, lat, reported, _beat, _how) in enumerate(HAND_PLACED):
        coords = (None, None) if np.isnan(lon) else (str(lat), str(lon))
        rows.append((f"H{k}", reported, None, *coords, "b1", "calls.csv", 3000 + k, "demo_city_calls"))
    con.executemany(f"INSERT INTO raw.calls_for_service VALUES ({', '.join('?' * 9)})", rows)
    land_boundaries(con, landing, PROFILES_DIR, 0.001)
    counts = place_records(con)
    assert counts == {
        ("demo_city_calls", "calls.csv"): {
            "agrees": 2001,
            "elsewhere": 1,
            "outside": 1,
            "placed": 3,
            "re_placed": 1,
            "unplaceable": 2,
            "unverified": 1,
        }
    }
    kept = con.execute("SELECT record_id, placed_area, placement FROM raw.record_places ORDER BY record_id").fetchall()
    assert kept == [
        (f"H{k}", beat, how)
        for k, (_, _, _, beat, how) in enumerate(HAND_PLACED)
        if how not in ("agrees", "unverified")
    ]
    # a second run places nothing again: the file was placed against these boundaries
    assert place_records(con) == {}


def test_the_demo_citys_crimes_without_a_beat_are_counted_in_the_beat_their_point_is_in(demo_warehouse, demo_truth):
    """The demo city writes every 40th crime report of a month with a point and no beat; the run places
    each by its point, and staging (so every mart) counts it in the beat the generator drew it in."""
    planted = demo_truth["planted"]["incidents_without_beat"]
    assert planted["rows"] > 50
    ((placed, re_placed, records),) = demo_warehouse.execute(
        "SELECT sum(placed), sum(re_placed), sum(records) FROM marts.mart_record_placement "
        "WHERE source_profile = 'demo_city_incidents'"
    ).fetchall()
    assert (placed, re_placed, records) == (planted["rows"], 0, demo_truth["rows"]["incidents"])
    by_source = dict(
        demo_warehouse.execute(
            "SELECT coalesce(beat_source, 'none'), count(*) FROM staging.stg_incidents "
            "WHERE source_profile = 'demo_city_incidents' GROUP BY ALL"
        ).fetchall()
    )
    assert by_source == {
        "reported": demo_truth["rows"]["incidents"] - planted["rows"],
        "placed by coordinates": planted["rows"],
    }
    by_beat = dict(
        demo_warehouse.execute(
            "SELECT beat, count(*) FROM staging.stg_incidents WHERE source_profile = 'demo_city_incidents' "
            "AND beat_source = 'placed by coordinates' AND reported_beat IS NULL GROUP BY beat"
        ).fetchall()
    )
    assert by_beat == planted["by_beat"]
    # the marts count them in their beats: no crime of the year is left to its district alone
    in_beats, everywhere = demo_warehouse.execute(
        "SELECT sum(reported_crimes) FILTER (WHERE area_level = 'beat'), sum(reported_crimes) "
        "FROM intermediate.int_enforcement_divergence WHERE city = 'demo_city' AND period_type = 'year'"
    ).fetchone()
    assert in_beats == everywhere > 1000
