"""Census denominators: tract residents shared among beats by overlapping surface. The weights
are checked against shares worked out by hand on the demo grids, the beats' residents add up to
the tracts', and one beat's violent-crime rate per resident is recomputed by hand."""

from __future__ import annotations

import numpy as np
import pytest
import shapely

from orchestration.boundaries.crosswalk import crosswalk
from orchestration.demo_city.boundaries import beat_features, tract_features
from orchestration.demo_city.generator import build_areas

from .conftest import TEST_SEED

AREAS = build_areas(TEST_SEED)


def _shapes(features, key):
    return [f["properties"][key] for f in features], np.array([shapely.geometry.shape(f["geometry"]) for f in features])


def test_the_crosswalk_shares_each_tract_by_surface_as_worked_out_by_hand():
    beats, tracts = beat_features(AREAS), tract_features(AREAS)
    beat_ids, beat_shapes = _shapes(beats, "BEAT_NUM")
    tract_ids, tract_shapes = _shapes(tracts, "GEOID")
    population = [f["properties"]["POP"] for f in tracts]
    rows = crosswalk(tract_ids, tract_shapes, population, beat_ids, beat_shapes)
    share = {(r.tract_id, r.beat_id): r.area_share for r in rows.itertuples()}
    # By hand: tracts are 0.03125 degrees wide and 0.02667 tall, beats 0.05 by 0.04, from 87.80 W, 41.80 N.
    # Tract 1 of row 1 (87.80-87.76875 W, 41.80-41.8267 N) lies inside beat 1A.
    assert share[("17999010001", "1A")] == pytest.approx(1.0)
    # Tract 2 of row 1 (87.76875-87.7375 W) has 0.01875 of its 0.03125 degrees in 1A, the rest in 1B.
    assert share[("17999010002", "1A")] == pytest.approx(0.6)
    assert share[("17999010002", "1B")] == pytest.approx(0.4)
    # Tract 2 of row 2 (41.8267-41.8533 N) also straddles districts 1 and 2 (41.84 N): 0.6 x 0.5 in 1A.
    assert share[("17999020002", "1A")] == pytest.approx(0.3)
    # every tract is shared whole, and the beats' residents add up to the tracts'
    assert rows.groupby("tract_id")["area_share"].sum().to_numpy() == pytest.approx(np.ones(len(tract_ids)))
    assert rows["beat_id"].notna().all(), "the tracts lie inside the city: nothing left outside every beat"
    assert rows["population_allocated"].sum() == pytest.approx(sum(population))


def test_a_tract_crossing_the_city_limit_keeps_its_outside_share():
    beats = beat_features(AREAS)
    beat_ids, beat_shapes = _shapes(beats, "BEAT_NUM")
    # a tract half west of the city: half its 1,000 residents are in 1A, half in no beat
    tract = shapely.box(-87.82, 41.80, -87.78, 41.82)
    rows = crosswalk(["T"], np.array([tract]), [1000], beat_ids, beat_shapes)
    by_beat = dict(zip(rows["beat_id"], rows["population_allocated"], strict=True))
    assert by_beat == pytest.approx({"1A": 500.0, None: 500.0})


def test_the_demo_city_gets_census_denominators_and_its_rates_recompute_by_hand(demo_warehouse, demo_truth):
    tracts = demo_truth["planted"]["tracts"]["population"]
    mart = {
        r[0]: r[1:]
        for r in demo_warehouse.execute(
            "SELECT area_id, census_population, violent_crimes, violent_crime_rate_per_1000_census "
            "FROM marts.mart_area_population WHERE city = 'demo_city'"
        ).fetchall()
    }
    assert len(mart) == 20
    assert sum(v[0] for v in mart.values()) == pytest.approx(sum(tracts.values()), abs=1e-6)
    # the planted beat populations come back within the rounding of 48 tract counts and the
    # even-spread assumption: the city total exactly up to rounding (48 tracts, half a resident each)
    planted = {b: v["population"] for b, v in demo_truth["planted"]["beats"].items()}
    assert sum(planted.values()) == pytest.approx(sum(v[0] for v in mart.values()), abs=24)
    # Beat 2B by hand: every tract's residents times the share of its surface inside 2B
    beat = demo_truth["planted"]["violent_hot_spot"]["beat"]
    r = AREAS.set_index("beat").loc[beat]
    box = shapely.box(r.min_longitude, r.min_latitude, r.max_longitude, r.max_latitude)
    residents = 0.0
    for feature in tract_features(AREAS):
        shape = shapely.geometry.shape(feature["geometry"])
        residents += tracts[feature["properties"]["GEOID"]] * shape.intersection(box).area / shape.area
    census, violent, rate = mart[beat]
    assert census == pytest.approx(residents, rel=1e-9)
    counted = demo_warehouse.execute(
        "SELECT violent_crimes FROM marts.mart_enforcement_divergence WHERE city = 'demo_city' AND area_id = ? "
        "AND period_type = 'year' ORDER BY period_start DESC LIMIT 1",
        [beat],
    ).fetchone()[0]
    assert violent == counted and rate == pytest.approx(1000 * counted / residents, rel=1e-9)


def test_a_tract_without_a_number_of_residents_is_quarantined(tmp_path):
    import json

    import duckdb

    from orchestration.boundaries.land import land_boundaries

    from .conftest import PROFILES_DIR

    features = tract_features(AREAS)
    features[4]["properties"]["POP"] = "n/a"
    features[9]["properties"].pop("POP")
    folder = tmp_path / "landing" / "demo_city"
    folder.mkdir(parents=True)
    (folder / "tracts.geojson").write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    (landed,), _, _ = land_boundaries(con, tmp_path / "landing", PROFILES_DIR, 0.001)
    assert (landed.features_read, landed.features_landed, landed.features_quarantined) == (48, 46, 2)
    assert con.execute(
        "SELECT row_number, field, reason FROM raw.quarantine WHERE source = 'area_boundaries' ORDER BY 1"
    ).fetchall() == [
        (5, "POP", "POP is 'n/a', not a number of residents, demo_city/tracts.geojson feature 5"),
        (10, "POP", "POP is None, not a number of residents, demo_city/tracts.geojson feature 10"),
    ]
