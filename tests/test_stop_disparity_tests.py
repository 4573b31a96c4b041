"""Stop tests as analysts run them (issue: numbers a council can act on): the outcome test within
area pooled by Mantel-Haenszel, and the veil-of-darkness test. The arithmetic against values worked
by hand; the two disparities the generator can plant (a lower search threshold in one beat, a
daylight effect in another) recovered in their own beats and nowhere else over several seeds, and
nothing flagged without them; on the demo city's warehouse, the mart publishes nothing the stop
marts withhold."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pandas as pd
import pytest

from orchestration.demo_city import generator, layout, sources
from orchestration.demo_city.plants import StopDisparities
from orchestration.stop_tests.assets import stop_tests_frame
from orchestration.stop_tests.darkness import in_window, twilight
from orchestration.stop_tests.outcome import outcome_tests

K = 11
PLANTS = StopDisparities()
SCALE = 10  # 80,000 stops a year: about 4,000 a beat, as in a mid-sized city


def _counts(table: dict[str, list[list[int]]]) -> pd.DataFrame:
    """Published counts from 2 x 2 tables {area: [[group hits, group misses], [ref hits, ref misses]]}."""
    rows = []
    for area, ((gh, gm), (rh, rm)) in table.items():
        rows.append({"city": "c", "year": 2025, "area_id": area, "race": "black", "searches": gh + gm, "hits": gh})
        rows.append({"city": "c", "year": 2025, "area_id": area, "race": "white", "searches": rh + rm, "hits": rh})
    return pd.DataFrame(rows)


def test_the_pooled_odds_ratio_is_mantel_haenszel_worked_by_hand():
    """Two areas: sum(a d / n) / sum(b c / n) = (3 + 125/65) / (8 + 300/65) = 0.3902; Fisher's exact
    p of the first area summed from the hypergeometric terms."""
    tables = {"A": [[10, 40], [20, 30]], "B": [[15, 20], [15, 25]]}
    result = outcome_tests(_counts(tables), "black", "white", K).set_index("area_id")
    by_hand = (10 * 30 / 100 + 15 * 25 / 75) / (40 * 20 / 100 + 20 * 15 / 75)
    assert result.loc["all", "odds_ratio"] == pytest.approx(by_hand, rel=1e-12)
    assert result.loc["all", "areas_pooled"] == 2
    assert result.loc["A", "odds_ratio"] == pytest.approx(10 * 30 / (40 * 20), rel=1e-12)

    def term(x: int) -> float:  # P(X = x) with 50 of group, 30 hits, 100 searches
        return math.comb(30, x) * math.comb(70, 50 - x) / math.comb(100, 50)

    observed = term(10)
    fisher = sum(term(x) for x in range(0, 31) if term(x) <= observed * (1 + 1e-7))
    assert result.loc["A", "p_value"] == pytest.approx(fisher, rel=1e-9)
    # Woolf's interval: exp(ln OR -+ 1.96 sqrt(1/a + 1/b + 1/c + 1/d))
    half = 1.959964 * math.sqrt(1 / 10 + 1 / 40 + 1 / 20 + 1 / 30)
    assert result.loc["A", "odds_ratio_low"] == pytest.approx(0.375 * math.exp(-half), rel=1e-5)


def test_an_area_with_a_withheld_count_is_not_tested_and_not_pooled():
    counts = _counts({"A": [[10, 40], [20, 30]], "B": [[15, 20], [15, 25]]})
    counts.loc[(counts["area_id"] == "B") & (counts["race"] == "black"), "hits"] = None  # withheld
    result = outcome_tests(counts, "black", "white", K).set_index("area_id")
    assert np.isnan(result.loc["B", "odds_ratio"]) and result.loc["B", "note"].startswith("not tested")
    assert result.loc["all", "areas_pooled"] == 1
    assert result.loc["all", "odds_ratio"] == pytest.approx(result.loc["A", "odds_ratio"], rel=1e-12)


def test_dusk_and_the_inter_twilight_window_at_the_demo_city():
    """At 41.88 N, 87.68 W (Chicago): civil dusk on 21 June 2025 is about 21:02 CDT and on 10
    December about 16:50 CST; a stop between sunset and dusk is neither light nor dark."""
    lat, lon = layout.CENTRE
    days = twilight(pd.Series(pd.to_datetime(["2025-06-21", "2025-12-10"])), lat, lon, layout.TIMEZONE)
    june, december = days["dusk"].tolist()
    assert abs(june - pd.Timestamp("2025-06-21 21:02")) < pd.Timedelta(minutes=5)
    assert abs(december - pd.Timestamp("2025-12-10 16:50")) < pd.Timedelta(minutes=5)
    stops = pd.DataFrame(
        {
            "stopped_at_local": pd.to_datetime(
                ["2025-06-21 18:00", "2025-12-10 18:00", "2025-06-21 20:45", "2025-06-21 03:00", "2025-12-10 16:49"]
            ),
            "race": "black",
            "area_id": "1A",
        }
    )
    kept = in_window(stops, lat, lon, layout.TIMEZONE).set_index("stopped_at_local")
    # 18:00 is light in June and dark in December; 20:45 in June is after sunset, before dusk;
    # 03:00 is never light in the window's clock times; 16:49 in December is before its dusk but after sunset
    assert list(kept.index) == list(pd.to_datetime(["2025-06-21 18:00", "2025-12-10 18:00"]))
    assert list(kept["is_dark"]) == [0.0, 1.0]


def _inputs(seed: int, plants: StopDisparities | None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A year of the demo city's stops at SCALE, as the asset reads them: counts per beat and race
    as the stop marts publish them (1 to K - 1 withheld), and the stops with time and place."""
    areas = layout.build_areas(seed)
    weights = layout.area_weights(areas)
    total = int(round(layout.BASE_ROWS["stops"] * SCALE))
    months = [sources.build_stops(seed, areas, weights, m, n, plants)[0] for m, n in generator._month_counts(total)]
    frame = pd.concat(months, ignore_index=True)
    stops = pd.DataFrame(
        {
            "city": "demo_city",
            "area_id": frame["beat"].astype(str),
            "race": frame["subject_race"].astype(str),
            "stopped_at_local": pd.to_datetime(frame["stop_datetime"]),
            "latitude": frame["lat"],
            "longitude": frame["lng"],
            "timezone": layout.TIMEZONE,
        }
    )
    searched = frame["search_conducted"].astype(str) == "TRUE"
    hit = searched & (frame["contraband_found"].astype(str) == "TRUE")
    counts = (
        stops.assign(year=2025, searched=searched, hit=hit)
        .groupby(["city", "year", "area_id", "race"])
        .agg(searches=("searched", "sum"), hits=("hit", "sum"))
        .reset_index()
    )
    for column in ("searches", "hits"):
        counts[column] = counts[column].astype(float).where(~counts[column].between(1, K - 1))
    return counts, stops


def _discoveries(frame: pd.DataFrame) -> set[tuple[str, str, str]]:
    found = frame[frame["is_discovery"].fillna(False).astype(bool)]
    return {(r.test, r.group_value, r.area_id) for r in found.itertuples()}


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_planted_disparities_are_found_in_their_beats_and_nowhere_else(seed):
    frame = stop_tests_frame(*_inputs(seed, PLANTS), K)
    found = _discoveries(frame)
    assert ("outcome", "black", PLANTS.threshold_beat) in found
    assert ("veil_of_darkness", "black", PLANTS.daylight_beat) in found
    planted = {PLANTS.threshold_beat, PLANTS.daylight_beat}
    # Black drivers: the two plants, in their own beats, and no other beat
    black_areas = {(test, area) for test, group, area in found if group == "black" and area != "all"}
    assert black_areas == {("outcome", PLANTS.threshold_beat), ("veil_of_darkness", PLANTS.daylight_beat)}
    # other groups: at most in the planted beats (the daylight plant, by making more of the daylight
    # stops Black, makes fewer of them white, which Hispanic drivers are compared with)
    assert {area for _, _, area in found if area != "all"} <= planted
    row = frame.set_index(["test", "group_value", "area_id"]).loc[("outcome", "black", PLANTS.threshold_beat)]
    # planted hit rates 0.08 against 0.30: an odds ratio of about 0.2
    assert row["odds_ratio_high"] < 0.6 and row["verdict"].startswith("the group's searches find something less often")
    vod = frame.set_index(["test", "group_value", "area_id"]).loc[("veil_of_darkness", "black", PLANTS.daylight_beat)]
    assert vod["odds_ratio_high"] < 1


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_without_a_plant_nothing_is_flagged(seed):
    frame = stop_tests_frame(*_inputs(seed, None), K)
    assert _discoveries(frame) == set()
    # and most areas were tested, so that this says something
    outcome = frame[(frame["test"] == "outcome") & (frame["group_value"] == "black") & (frame["area_id"] != "all")]
    assert outcome["odds_ratio"].notna().sum() >= 15
    vod = frame[(frame["test"] == "veil_of_darkness") & (frame["group_value"] == "black") & (frame["area_id"] != "all")]
    assert vod["odds_ratio"].notna().sum() == 20


def test_the_demo_city_mart_publishes_nothing_the_stop_marts_withhold(demo_warehouse):
    """Every tested outcome row is recomputed from mart_stop_equity's published counts; stops in the
    darkness window are never a small count."""
    rows = demo_warehouse.execute("SELECT * FROM marts.mart_stop_disparity_tests WHERE city = 'demo_city'").df()
    assert set(rows["test"]) == {"outcome", "veil_of_darkness"}
    assert set(rows["group_value"]) == {"black", "hispanic"}
    assert ((rows["stops_in_window"] >= K) | rows["stops_in_window"].isna()).all()
    published = demo_warehouse.execute(
        """
        SELECT area_id, group_value, searches, search_hits FROM marts.mart_stop_equity
        WHERE city = 'demo_city' AND period_type = 'year' AND group_type = 'race'
        """
    ).df()
    cells = {(r.area_id, r.group_value): (r.searches, r.search_hits) for r in published.itertuples()}
    tested = rows[(rows["test"] == "outcome") & rows["odds_ratio"].notna() & (rows["area_id"] != "all")]
    for r in tested.itertuples():
        (gs, gh), (ws, wh) = cells[(r.area_id, r.group_value)], cells[(r.area_id, "white")]
        assert not any(pd.isna(v) for v in (gs, gh, ws, wh))
        a, b, c, d = gh, gs - gh, wh, ws - wh
        if min(a, b, c, d) > 0:
            assert r.odds_ratio == pytest.approx(a * d / (b * c), rel=1e-9)
    # every untested row says why
    assert rows.loc[rows["odds_ratio"].isna(), "note"].notna().all()
    # the darkness test covers the whole year of stops
    vod = rows[(rows["test"] == "veil_of_darkness") & (rows["area_id"] == "all")].iloc[0]
    assert pd.Timestamp(vod["period_start"]).date() == dt.date(2025, 1, 1)


def test_a_city_without_stops_has_no_rows(demo_warehouse):
    assert demo_warehouse.execute(
        "SELECT count(*) FROM marts.mart_stop_disparity_tests WHERE city = 'milwaukee'"
    ).fetchone() == (0,)


def test_the_report_gives_each_test_with_its_interval_and_flags(demo_report_html, demo_warehouse):
    html = demo_report_html
    table = html[html.index("Stop tests - Demo City") :].split("</table>")[0]
    whole = demo_warehouse.execute(
        "SELECT odds_ratio, odds_ratio_low, odds_ratio_high FROM marts.mart_stop_disparity_tests "
        "WHERE city = 'demo_city' AND test = 'veil_of_darkness' AND group_value = 'black' AND area_id = 'all'"
    ).fetchone()
    assert f"{whole[0]:.2f} ({whole[1]:.2f}-{whole[2]:.2f})" in table
    assert "Searches finding something (outcome test)" in table
