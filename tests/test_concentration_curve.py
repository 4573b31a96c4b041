"""The concentration curve (marts.mart_concentration_curve): recomputed from the demo city's files,
recovering its planted hot block, withheld where too sparse, and computed and shown on the real
Chicago-style incidents fixture."""

from __future__ import annotations

import datetime
import math
import shutil
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest
import yaml

from orchestration.report import concentration
from orchestration.report import format as fmt
from orchestration.report.config import load_report_config
from orchestration.report.context import ReportContext
from orchestration.settings import DBT_PROJECT_DIR
from tests.support.dbt import dbt_build
from tests.support.demo_files import fill_beats_from_boxes

from .conftest import FIXTURES
from .test_enforcement import FBI_VIOLENT
from .test_enforcement_thresholds import land_all

CITY = "demo_city"
VARS = yaml.safe_load((DBT_PROJECT_DIR / "dbt_project.yml").read_text())["vars"]
MIN_CELL = VARS["min_cell_count"]
STEPS = VARS["concentration_curve_steps_pct"]
CHICAGO_FILE = FIXTURES / "socrata_crime_incidents" / "crimes_2018-05_sample.csv"


def expected_curve(counts: np.ndarray, places: int, min_cell: int = MIN_CELL, steps=STEPS) -> dict | None:
    """The curve by its definition, the slow way: for each point, count places from the top until
    they hold the point's share of the crimes."""
    x = np.sort(counts[counts > 0])[::-1]
    total = int(x.sum())
    usable = [s for s in steps if s * total >= 100 * min_cell]
    if not usable:
        return None
    step = min(usable)
    cumulative = np.cumsum(x)
    points = {}
    for pct in range(step, 101, step):
        k = next(i + 1 for i, c in enumerate(cumulative) if 100 * c >= pct * total)
        even = math.ceil(pct * min(total, places) / 100) / places
        points[pct] = (k, k / places, even)
    return {"step": step, "total": total, "points": points}


def published_curve(con, city: str, level: str, measure: str, period_type: str = "year") -> dict[int, tuple]:
    rows = con.execute(
        """
        SELECT crime_share_pct, places_needed, share_of_places, share_of_places_if_even, curve_step_pct
        FROM marts.mart_concentration_curve
        WHERE city = ? AND period_type = ? AND place_level = ? AND measure = ? AND is_published
        """,
        [city, period_type, level, measure],
    ).fetchall()
    return {r[0]: r[1:] for r in rows}


@pytest.fixture(scope="module")
def incidents(demo_city) -> tuple[pd.DataFrame, pd.DataFrame]:
    settings, _, _ = demo_city
    demo: Path = settings.demo_dir
    frame = pd.concat(pd.read_csv(p, dtype=str) for p in sorted((demo / "incidents").glob("*.csv")))
    frame["is_violent"] = frame["nibrs_code"].isin(FBI_VIOLENT)
    areas = pd.read_csv(demo / "areas.csv", dtype={"beat": str})
    # a crime report written with a point and no beat is counted in the beat its point is in
    return fill_beats_from_boxes(frame, areas), areas


@pytest.mark.parametrize("level", ["area", "block"])
@pytest.mark.parametrize("measure", ["violent_crimes", "incidents"])
def test_the_curve_matches_the_extract_files(level, measure, incidents, demo_warehouse):
    frame, areas = incidents
    key = "beat" if level == "area" else "block_address"
    value = frame["is_violent"].astype(int) if measure == "violent_crimes" else pd.Series(1, index=frame.index)
    counts = value.groupby(frame[key]).sum()
    # every beat is a place; every block with any incident of the year is one
    places = len(areas) if level == "area" else frame["block_address"].nunique()
    if level == "area":
        counts = counts.reindex(areas["beat"], fill_value=0)
    want = expected_curve(counts.to_numpy(), places)
    got = published_curve(demo_warehouse, CITY, level, measure)
    assert want is not None and got, "the demo year has a curve at every level"
    assert sorted(got) == list(range(want["step"], 101, want["step"]))
    for pct, (k, share, even) in want["points"].items():
        assert got[pct][0] == k, pct
        assert got[pct][1] == pytest.approx(share), pct
        assert got[pct][2] == pytest.approx(even), pct
        assert got[pct][3] == want["step"]


def test_the_curve_recovers_the_planted_hot_block(incidents, demo_warehouse, demo_truth):
    frame, _ = incidents
    hot = demo_truth["planted"]["violent_hot_spot"]
    beats = demo_truth["planted"]["beats"]
    boosted = {
        b: v["crime_share"] * (hot["violent_rate_multiplier"] if b == hot["beat"] else 1) for b, v in beats.items()
    }
    # The plant: a share of the hot beat's violent crimes put on one block.
    planted_share = hot["block_share_of_beat_violence"] * boosted[hot["beat"]] / sum(boosted.values())
    violent = frame[frame["is_violent"] & frame["block_address"].notna()]
    observed_share = (violent["block_address"] == hot["block"]).mean()
    # Its sampling error over the year's violent crimes (a binomial share), three standard errors
    # wide, plus the crimes that land on the block by chance (one in the beat's thirty-odd blocks
    # of the rest of its violence: well under 0.01).
    tolerance = 3 * math.sqrt(planted_share * (1 - planted_share) / len(violent)) + 0.01
    assert observed_share == pytest.approx(planted_share, abs=tolerance)
    curve = published_curve(demo_warehouse, CITY, "block", "violent_crimes")
    step = next(iter(curve.values()))[3]
    one_block = sorted(pct for pct, (k, *_rest) in curve.items() if k == 1)
    # The hot block alone carries the curve up to its share: every point to the last step below it.
    assert one_block == list(range(step, int(observed_share * 100 // step) * step + 1, step))
    assert max(one_block) / 100 > observed_share - step / 100
    # Without the plant the top block would hold about 1 % (one block of 700 with a few crimes):
    # the first step of the curve needs a single block only because of it.
    assert one_block and planted_share > 2 * step / 100


@pytest.fixture(scope="module")
def chicago(tmp_path_factory):
    """The real Chicago-style incidents (six crimes on six blocks) landed through their profile, the
    curve built at the default disclosure threshold and at a threshold of one crime."""
    root = tmp_path_factory.mktemp("chicago")
    landing = root / "landing"
    (landing / "socrata_crime_incidents").mkdir(parents=True)
    shutil.copy(CHICAGO_FILE, landing / "socrata_crime_incidents" / CHICAGO_FILE.name)
    built = {}
    for min_cell in (MIN_CELL, 1):
        warehouse = root / f"warehouse_{min_cell}.duckdb"
        land_all(warehouse, landing, ["socrata_crime_incidents"])
        dbt_build(warehouse, root / f"dbt_{min_cell}", ["+mart_concentration_curve"], {"min_cell_count": min_cell})
        built[min_cell] = warehouse
    return built


def test_a_curve_too_sparse_to_publish_has_its_reason_and_no_point(chicago):
    coarsest = 100 * MIN_CELL // max(STEPS)
    with duckdb.connect(str(chicago[MIN_CELL]), read_only=True) as con:
        rows = con.execute(
            "SELECT period_type, place_level, measure, is_published, crimes, places_needed, places_with_crime, note "
            "FROM marts.mart_concentration_curve ORDER BY ALL"
        ).fetchall()
    # six crimes (two violent) cannot make a curve whose steps carry eleven each: one row per
    # period (May 2018, its quarter, its year), level and measure, each with its reason
    assert len(rows) == 3 * 2 * 2
    for period_type, level, measure, is_published, crimes, places_needed, with_crime, note in rows:
        assert not is_published and crimes is None and places_needed is None, (period_type, level, measure)
        assert with_crime == (2 if measure == "violent_crimes" else 6)
        assert (
            note == f"no curve: fewer than {coarsest} crimes, so a step of the curve would carry fewer than {MIN_CELL}"
        )


def test_the_chicago_fixture_curve_is_computed_and_shown(chicago, tmp_path):
    frame = pd.read_csv(CHICAGO_FILE, dtype=str)
    assert frame["block"].nunique() == len(frame) == 6  # one crime per block: the curve is the diagonal
    with duckdb.connect(str(chicago[1]), read_only=True) as con:
        (city,) = con.execute("SELECT DISTINCT city FROM marts.mart_concentration_curve").fetchone()
        counts = np.ones(6, dtype=int)
        want = expected_curve(counts, 6, min_cell=1)
        assert want["step"] == 20
        got = published_curve(con, city, "block", "incidents")
        assert {pct: v[0] for pct, v in got.items()} == {20: 2, 40: 3, 60: 4, 80: 5, 100: 6}
        assert {pct: v[0] for pct, v in got.items()} == {pct: v[0] for pct, v in want["points"].items()}
        # two violent crimes (a homicide and a robbery): too few even at a threshold of one
        assert published_curve(con, city, "block", "violent_crimes") == {}
        config = load_report_config(chicago[1], env={"PSW_REPORT_DIR": str(tmp_path)})
        ctx = ReportContext(con=con, config=config)
        html = concentration.curve(ctx, city, datetime.date(2018, 1, 1), "2018")
    assert "<svg" in html and "all reported incidents by block" in html
    # the first point at or past half: 60 % of the six crimes on four of the six blocks
    assert "60 % of all reported incidents on 66.7 % of the blocks" in html
    assert "Violent crimes: no curve: fewer than 4 crimes" in html


def test_the_report_shows_the_demo_curve_with_the_marts_figures(demo_report_html, demo_warehouse):
    half = dict(
        demo_warehouse.execute(
            "SELECT measure, share_of_places FROM marts.mart_concentration_curve WHERE city = ? "
            "AND period_type = 'year' AND place_level = 'block' AND crime_share_pct = 50",
            [CITY],
        ).fetchall()
    )
    for what, measure in (("the violent crimes were", "violent_crimes"), ("all reported incidents", "incidents")):
        assert f"50 % of {what} on {fmt.pct(half[measure])} of the blocks" in demo_report_html, measure
    assert demo_report_html.count("Weisburd 50 %") >= 1
