"""Census denominators: tract residents shared among beats by overlapping surface. The weights
are checked against shares worked out by hand on the demo grids, the beats' residents add up to
the tracts', and one beat's violent-crime rate per resident is recomputed by hand."""

from __future__ import annotations

import math

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


def _byar(n: float, z: float) -> float:
    """Byar's approximation to a Poisson limit (the low one with z < 0 on n, the high one with z > 0 on n + 1)."""
    return n * (1 - 1 / (9 * n) + z / (3 * math.sqrt(n))) ** 3


def test_the_census_margin_of_a_beat_and_its_rate_interval_recompute_by_hand(demo_warehouse, demo_truth):
    """Beat 2B by hand: each tract's ACS-style margin (90 %) times the share of its surface inside the
    beat, root of the sum of squares; the rate's 95 % interval is the Poisson interval of the count
    over the population's 95 % interval."""
    beat = demo_truth["planted"]["violent_hot_spot"]["beat"]
    r = AREAS.set_index("beat").loc[beat]
    box = shapely.box(r.min_longitude, r.min_latitude, r.max_longitude, r.max_latitude)
    residents, squares = 0.0, 0.0
    for feature in tract_features(AREAS):
        shape = shapely.geometry.shape(feature["geometry"])
        share = shape.intersection(box).area / shape.area
        residents += feature["properties"]["POP"] * share
        squares += (feature["properties"]["POP_MOE"] * share) ** 2
    row = demo_warehouse.execute(
        "SELECT census_level, census_population, census_population_margin_90, census_population_low_90, "
        "census_population_high_90, violent_crimes, violent_crime_rate_per_1000_census_low, "
        "violent_crime_rate_per_1000_census_high FROM marts.mart_area_population WHERE city = 'demo_city' "
        "AND area_id = ?",
        [beat],
    ).fetchone()
    level, census, margin, low, high, violent, rate_low, rate_high = row
    margin_by_hand = math.sqrt(squares)
    assert level == "tract"
    assert (census, margin) == pytest.approx((residents, margin_by_hand), rel=1e-9)
    assert (low, high) == pytest.approx((residents - margin_by_hand, residents + margin_by_hand), rel=1e-9)
    # a few percent of the beat's residents: the margin is real, and much less than the estimate
    assert 0.01 < margin / census < 0.2
    m95 = margin_by_hand * 1.959964 / 1.644854
    assert rate_low == pytest.approx(1000 * _byar(violent, -1.959964) / (residents + m95), rel=1e-9)
    assert rate_high == pytest.approx(1000 * _byar(violent + 1, 1.959964) / (residents - m95), rel=1e-9)
    assert rate_low < 1000 * violent / residents < rate_high


def _profile(folder, name: str, **keys) -> None:
    import yaml

    (folder / f"{name}.yaml").write_text(
        yaml.safe_dump({"name": name, "city": "demo_city", "crs": "EPSG:4326", **keys})
    )


def test_block_groups_are_used_before_tracts_and_come_closer_to_the_planted_beats(tmp_path):
    """A city that gives tracts and block groups (a finer grid, 16 x 12, still not lined up with
    its beats) gets its beats' residents from the block groups: they add up to the block groups'
    total, and they are nearer the beats' planted populations than the tracts' estimates."""
    import json

    import duckdb

    from orchestration.boundaries.crosswalk import build_crosswalks
    from orchestration.boundaries.land import land_boundaries

    landing = tmp_path / "landing" / "demo_city"
    landing.mkdir(parents=True)
    groups = tract_features(AREAS, columns=16, rows=12)
    for name, features in (("beats", beat_features(AREAS)), ("tracts", tract_features(AREAS)), ("groups", groups)):
        (landing / f"{name}.geojson").write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    profiles = tmp_path / "profiles" / "boundaries"
    profiles.mkdir(parents=True)
    _profile(profiles, "b", level="beat", files="demo_city/beats.geojson", id_property="BEAT_NUM")
    census = {"id_property": "GEOID", "population_property": "POP"}
    _profile(profiles, "t", level="tract", files="demo_city/tracts.geojson", margin_property="POP_MOE", **census)
    _profile(profiles, "g", level="block_group", files="demo_city/groups.geojson", **census)
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    land_boundaries(con, tmp_path / "landing", tmp_path / "profiles", 0.001)
    assert build_crosswalks(con) == {"demo_city": con.execute("SELECT count(*) FROM raw.area_crosswalk").fetchone()[0]}
    levels, total, margins = con.execute(
        "SELECT list(DISTINCT census_level), sum(population_allocated), count(margin_allocated) FROM raw.area_crosswalk"
    ).fetchone()
    assert levels == ["block_group"] and margins == 0  # the block-group file gives no margins
    assert total == pytest.approx(sum(f["properties"]["POP"] for f in groups))
    from_groups = dict(
        con.execute("SELECT beat_id, sum(population_allocated) FROM raw.area_crosswalk GROUP BY 1").fetchall()
    )
    beat_ids, beat_shapes = _shapes(beat_features(AREAS), "BEAT_NUM")
    tract_ids, tract_shapes = _shapes(tract_features(AREAS), "GEOID")
    by_tracts = (
        crosswalk(
            tract_ids, tract_shapes, [f["properties"]["POP"] for f in tract_features(AREAS)], beat_ids, beat_shapes
        )
        .groupby("beat_id")["population_allocated"]
        .sum()
    )
    planted = AREAS.set_index("beat")["population"]
    error_groups = sum(abs(from_groups[b] - planted[b]) for b in planted.index)
    error_tracts = sum(abs(by_tracts[b] - planted[b]) for b in planted.index)
    assert error_groups < 0.8 * error_tracts, (error_groups, error_tracts)


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


def test_a_margin_that_is_not_a_number_is_quarantined_and_a_margin_needs_a_population(tmp_path):
    import json

    import duckdb

    from orchestration.boundaries.land import land_boundaries
    from orchestration.boundaries.profile import BoundaryProfile

    from .conftest import PROFILES_DIR

    features = tract_features(AREAS)
    features[6]["properties"]["POP_MOE"] = "*****"  # how ACS marks a margin it does not publish
    folder = tmp_path / "landing" / "demo_city"
    folder.mkdir(parents=True)
    (folder / "tracts.geojson").write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    (landed,), _, _ = land_boundaries(con, tmp_path / "landing", PROFILES_DIR, 0.001)
    assert (landed.features_landed, landed.features_quarantined) == (47, 1)
    assert con.execute("SELECT row_number, field, reason FROM raw.quarantine").fetchall() == [
        (
            7,
            "POP_MOE",
            "POP_MOE is '*****', not a margin of error (a number of residents), demo_city/tracts.geojson feature 7",
        )
    ]
    with pytest.raises(ValueError, match="give population_property too"):
        BoundaryProfile(name="x", city="c", level="tract", files="t.geojson", id_property="GEOID", margin_property="M")
