"""The interval macros (dbt_project/macros/intervals.sql) against textbook values, rendered and run
in DuckDB exactly as the marts run them; and the published intervals against the counts."""

from __future__ import annotations

import math

import duckdb
import jinja2
import numpy as np
import pandas as pd
import pytest
from scipy.stats import chi2

from orchestration.settings import PROJECT_ROOT

MACROS = (PROJECT_ROOT / "dbt_project" / "macros" / "intervals.sql").read_text()


def run_macro(call: str) -> float:
    env = jinja2.Environment()
    env.globals["type_double"] = lambda: "double"
    sql = env.from_string(MACROS + "{{ " + call + " }}").render().strip()
    return duckdb.connect().execute(f"SELECT {sql}").fetchone()[0]


# Newcombe (1998), Statistics in Medicine 17:857-872, Table II, method 3 (Wilson score, no continuity correction).
NEWCOMBE = [(81, 263, 0.2553, 0.3662), (15, 148, 0.0624, 0.1605), (0, 20, 0.0, 0.1611), (1, 29, 0.0061, 0.1718)]


@pytest.mark.parametrize(("x", "n", "low", "high"), NEWCOMBE)
def test_wilson_interval_matches_newcombe(x, n, low, high):
    assert run_macro(f"wilson_low({x}, {n})") == pytest.approx(low, abs=6e-5)
    assert run_macro(f"wilson_high({x}, {n})") == pytest.approx(high, abs=6e-5)


def test_wilson_interval_is_null_without_trials_and_closed_at_the_ends():
    assert run_macro("wilson_low(0, 0)") is None and run_macro("wilson_high(0, 0)") is None
    assert run_macro("wilson_low(0, 40)") == 0 and run_macro("wilson_high(40, 40)") == 1
    assert run_macro("wilson_high(0, 20)") == pytest.approx(0.1611, abs=6e-5)


@pytest.mark.parametrize("n", [10, 25, 100, 1_000, 30_000])
def test_poisson_interval_is_within_0_2_percent_of_the_exact_limits(n):
    exact_low, exact_high = chi2.ppf(0.025, 2 * n) / 2, chi2.ppf(0.975, 2 * n + 2) / 2
    assert run_macro(f"poisson_low({n})") == pytest.approx(exact_low, rel=2e-3)
    assert run_macro(f"poisson_high({n})") == pytest.approx(exact_high, rel=2e-3)


@pytest.mark.parametrize("z", [0.0, 0.5, 1.0, 1.959964, 2.5, 3.3, -2.0])
def test_two_sided_normal_p_value(z):
    from scipy.stats import norm

    assert run_macro(f"two_sided_normal_p({z})") == pytest.approx(2 * norm.sf(abs(z)), abs=2e-7)


def test_poisson_interval_of_zero_starts_at_zero_and_reaches_the_exact_upper_limit():
    # Exact upper limit for 0 events: -ln(0.025) = 3.689; Byar's formula gives 3.668 (0.6 % short).
    assert run_macro("poisson_low(0)") == 0
    assert run_macro("poisson_high(0)") == pytest.approx(chi2.ppf(0.975, 2) / 2, rel=1e-2)


def test_published_stop_intervals_hold_their_share(demo_warehouse):
    """Every published share of stops sits inside its interval, and the interval is the Wilson one of its counts."""
    rows = demo_warehouse.execute(
        "SELECT stops, city_stops, share_of_stops, share_of_stops_low, share_of_stops_high "
        "FROM marts.mart_stop_outcomes WHERE share_of_stops IS NOT NULL"
    ).fetchall()
    assert rows
    for stops, city_stops, share, low, high in rows:
        assert low < share < high
        assert low == pytest.approx(run_macro(f"wilson_low({stops}, {city_stops})"), rel=1e-9)
    # The city's hit rate by race: the intervals of the demo (no planted race effect) overlap (at test
    # scale only the two largest groups have enough searches to publish one).
    by_race = demo_warehouse.execute(
        "SELECT group_value, hit_rate_low, hit_rate_high FROM marts.mart_stop_equity WHERE city = 'demo_city' "
        "AND period_type = 'year' AND area_id = 'all' AND group_type = 'race' AND hit_rate IS NOT NULL"
    ).fetchall()
    assert len(by_race) >= 2
    assert max(low for _, low, _ in by_race) < min(high for _, _, high in by_race)


def test_trust_change_discoveries_are_benjamini_hochberg_over_the_beats(demo_warehouse):
    """Recompute each beat's p-value from the published means and margins, and the BH discoveries."""
    from scipy.stats import norm

    from orchestration.report.config import dbt_vars

    q = float(dbt_vars()["trust_change_false_discovery_rate"])
    rows = demo_warehouse.execute(
        """
        SELECT t.area_id, t.change_trust_police AS change, t.trust_change_p_value AS p, t.trust_change_exceeds_margin,
               t.trust_change_is_discovery, t.moe_trust_police AS moe, prev.moe_trust_police AS moe_prior
        FROM marts.mart_community_trust AS t
        JOIN marts.mart_community_trust AS prev
          ON prev.source_profile = t.source_profile AND prev.area_id = t.area_id AND prev.wave = t.prior_wave
        WHERE t.area_level = 'beat' AND t.change_trust_police IS NOT NULL
        ORDER BY p
        """
    ).df()
    assert len(rows) >= 5  # beats with both waves above min_survey_respondents (6 at test scale)
    z = rows["change"] / ((rows["moe"] / 1.959964) ** 2 + (rows["moe_prior"] / 1.959964) ** 2) ** 0.5
    assert rows["p"].to_numpy() == pytest.approx(2 * norm.sf(z.abs()).astype(float), abs=1e-6)
    m = len(rows)
    passing = [i + 1 for i, p in enumerate(rows["p"]) if p <= (i + 1) * q / m]
    expected = [i < max(passing, default=0) for i in range(m)]
    assert rows["trust_change_is_discovery"].tolist() == expected
    # A discovery also exceeds the margin on its own; the planted change is a rise everywhere, so
    # no decline is a discovery.
    discovered = rows[rows["trust_change_is_discovery"]]
    assert discovered["trust_change_exceeds_margin"].all()
    assert (discovered["change"] > 0).all()


def test_location_quotient_test_by_hand():
    # 30 of 200 stops against 20 of 400 crimes: ln 3 / sqrt(1/30 - 1/200 + 1/20 - 1/400) = 3.98946
    assert run_macro("quotient_of_shares_z(30, 200, 20, 400)") == pytest.approx(3.98946, abs=1e-5)
    # no crime counts as half a crime (Haldane): ln((30/200) / (0.5/400)) / sqrt(1/30 - 1/200 + 2 - 1/400)
    assert run_macro("quotient_of_shares_z(30, 200, 0, 400)") == pytest.approx(3.36361, abs=1e-5)
    assert run_macro("quotient_of_shares_z(0, 200, 20, 400)") is None
    assert run_macro("upper_normal_p(1.959964)") == pytest.approx(0.025, abs=1e-7)
    assert run_macro("upper_normal_p(-1.0)") == pytest.approx(0.841345, abs=1e-6)


def _bh(p: pd.Series, q: float) -> list[bool]:
    """Benjamini-Hochberg written out again: the largest rank i with p_(i) <= i q / m, and all below it."""
    order = p.sort_values(kind="stable")
    m = len(order)
    passing = [i + 1 for i, v in enumerate(order) if v <= (i + 1) * q / m]
    cut = max(passing, default=0)
    found = pd.Series(False, index=p.index)
    found.loc[order.index[:cut]] = True
    return found.tolist()


def test_divergence_and_zone_flags_are_benjamini_hochberg_over_the_areas(demo_warehouse):
    """Each area's p-values recomputed from its counts, and the discoveries of each city and period."""
    from scipy.stats import norm

    from orchestration.report.config import dbt_vars

    v = dbt_vars()
    q, min_stops = float(v["divergence_false_discovery_rate"]), int(v["enforcement_min_stops"])
    rows = demo_warehouse.execute(
        """
        SELECT d.city, d.period_type, d.period_start, d.area_id, d.area_level, d.stops, d.city_stops,
               d.reported_crimes, d.city_reported_crimes, d.location_quotient_p_value, d.is_location_quotient_discovery,
               d.violent_crimes, d.population, d.city_violent_crime_rate_per_1000,
               z.is_burden_assessed, z.crime_burden_p_value, z.is_high_crime_burden, z.violent_rate_ratio
        FROM intermediate.int_enforcement_divergence AS d
        JOIN marts.mart_opportunity_zones AS z USING (city, period_type, period_start, area_id)
        ORDER BY d.city, d.period_type, d.period_start, d.area_id
        """
    ).df()
    tested = (rows["area_level"] != "none") & (rows["stops"] >= min_stops)
    assert rows.loc[~tested, "location_quotient_p_value"].isna().all()
    t = rows[tested]
    crimes = t["reported_crimes"].where(t["reported_crimes"] > 0, 0.5)
    z = np.log((t["stops"] / t["city_stops"]) / (crimes / t["city_reported_crimes"])) / np.sqrt(
        1 / t["stops"] - 1 / t["city_stops"] + 1 / crimes - 1 / t["city_reported_crimes"]
    )
    assert t["location_quotient_p_value"].to_numpy() == pytest.approx(norm.sf(z), abs=1e-6)
    burden = rows[rows["is_burden_assessed"]]
    expected = burden["city_violent_crime_rate_per_1000"] * burden["population"] / 1000
    zb = np.sqrt(burden["violent_crimes"]) + np.sqrt(burden["violent_crimes"] + 1) - np.sqrt(4 * expected + 1)
    assert burden["crime_burden_p_value"].to_numpy() == pytest.approx(norm.sf(zb), abs=1e-6)
    assert rows.loc[~rows["is_burden_assessed"], "crime_burden_p_value"].isna().all()

    found_lq = found_burden = 0
    for _, group in rows.groupby(["city", "period_type", "period_start"]):
        mine = group[group["location_quotient_p_value"].notna()]
        assert mine["is_location_quotient_discovery"].tolist() == _bh(mine["location_quotient_p_value"], q)
        found_lq += int(mine["is_location_quotient_discovery"].sum())
        assessed = group[group["crime_burden_p_value"].notna()]
        discovery = pd.Series(_bh(assessed["crime_burden_p_value"], q), index=assessed.index)
        ratio = float(v["opportunity_zone_violent_rate_ratio"])
        flag = discovery & (assessed["violent_rate_ratio"] >= ratio)
        assert assessed["is_high_crime_burden"].tolist() == flag.tolist()
        found_burden += int(discovery.sum())
    assert not rows.loc[rows["location_quotient_p_value"].isna(), "is_location_quotient_discovery"].any()
    # the tests find something on the demo city (its planted beats), so the comparison above is not vacuous
    assert found_lq > 0 and found_burden > 0


def _wilson(x: float, n: float, z: float = 1.959964) -> tuple[float, float]:
    """Wilson's score interval written out again in Python (Newcombe 1998, method 3)."""
    p, d = x / n, 1 + z * z / n
    centre, half = (p + z * z / (2 * n)) / d, z / d * (p * (1 - p) / n + z * z / (4 * n * n)) ** 0.5
    return centre - half, centre + half


def test_divergence_shares_carry_their_wilson_intervals(demo_warehouse):
    rows = demo_warehouse.execute(
        "SELECT untethered_stops, stops_with_known_outcome, untethered_share_low, untethered_share_high, stops, "
        "city_stops, stop_share_low, stop_share_high FROM marts.mart_enforcement_divergence "
        "WHERE city = 'demo_city' AND untethered_share_low IS NOT NULL AND stop_share_low IS NOT NULL"
    ).fetchall()
    assert len(rows) > 50
    for untethered, known, u_low, u_high, stops, city_stops, s_low, s_high in rows:
        assert (u_low, u_high) == pytest.approx(_wilson(untethered, known), abs=1e-12)
        assert (s_low, s_high) == pytest.approx(_wilson(stops, city_stops), abs=1e-12)


def test_arrest_and_citation_shares_carry_their_wilson_intervals(demo_warehouse):
    """The area's share of the city's arrests (and citations), with the city's count read back from
    the share; no interval beside a withheld count."""
    for kind, count in (("arrest", "arrests"), ("citation", "citations")):
        rows = demo_warehouse.execute(
            f"SELECT {count}, {kind}_share, {kind}_share_low, {kind}_share_high "
            f"FROM marts.mart_enforcement_divergence WHERE city = 'demo_city' AND {kind}_share > 0"
        ).fetchall()
        assert len(rows) > 50, kind
        for n, share, low, high in rows:
            assert low < share < high
            assert (low, high) == pytest.approx(_wilson(n, round(n / share)), abs=1e-12)
    withheld = demo_warehouse.execute(
        "SELECT count(*) FROM marts.mart_enforcement_divergence WHERE (stop_arrests IS NULL AND arrest_share_low "
        "IS NOT NULL) OR (citations IS NULL AND citation_share_low IS NOT NULL)"
    ).fetchone()[0]
    assert withheld == 0


def test_location_quotient_interval_by_hand_and_its_coverage():
    """30 of the city's 200 stops against 20 of its 400 crimes: q = 0.15 / 0.05 = 3.0, the log-scale
    variance 1/30 - 1/200 + 1/20 - 1/400 = 0.075833, so 3.0 x exp(-+1.96 x 0.27538) = 1.7487 to
    5.1466. And the interval covers a known quotient in about 95 % of simulated cities."""
    import numpy as np

    assert run_macro("quotient_of_shares_low(30, 200, 20, 400)") == pytest.approx(1.7487, abs=1e-4)
    assert run_macro("quotient_of_shares_high(30, 200, 20, 400)") == pytest.approx(5.1466, abs=1e-4)
    assert run_macro("quotient_of_shares_low(0, 200, 20, 400)") is None  # no stops: no log scale
    rng = np.random.default_rng(20251204)
    stops, crimes = rng.binomial(2000, 0.06, 4000), rng.binomial(3000, 0.03, 4000)  # true quotient 2.0
    con = duckdb.connect()
    sims = "CREATE TABLE sims AS SELECT * FROM (SELECT unnest(?) AS a, unnest(?) AS b)"
    con.execute(sims, [stops.tolist(), crimes.tolist()])
    env = jinja2.Environment()
    env.globals["type_double"] = lambda: "double"
    low, high = (
        env.from_string(MACROS + "{{ quotient_of_shares_" + end + "('a', 2000, 'b', 3000) }}").render().strip()
        for end in ("low", "high")
    )
    covered = con.execute(
        f"SELECT avg(CASE WHEN {low} <= 2.0 AND 2.0 <= {high} THEN 1 ELSE 0 END) FROM sims"
    ).fetchone()
    assert 0.93 <= covered[0] <= 0.97


def test_divergence_quotients_and_rates_carry_their_intervals(demo_warehouse):
    rows = demo_warehouse.execute(
        "SELECT location_quotient, location_quotient_low, location_quotient_high, stops, city_stops, reported_crimes, "
        "city_reported_crimes, crime_rate_per_1000, crime_rate_per_1000_low, crime_rate_per_1000_high, population "
        "FROM marts.mart_enforcement_divergence WHERE city = 'demo_city' AND location_quotient_low IS NOT NULL"
    ).fetchall()
    assert len(rows) > 50
    for lq, low, high, stops, city_stops, crimes, city_crimes, rate, r_low, r_high, population in rows:
        assert low < lq < high
        expected = run_macro(f"quotient_of_shares_low({stops}, {city_stops}, {crimes}, {city_crimes})")
        assert low == pytest.approx(expected, rel=1e-12)
        assert r_low < rate < r_high
        assert r_high == pytest.approx(chi2.ppf(0.975, 2 * crimes + 2) / 2 * 1000 / population, rel=2e-3)


def test_crime_shares_and_arrest_rates_carry_their_intervals(demo_warehouse):
    """The area's shares of the city's crime (Wilson over the city's count, summed here from the areas),
    its arrest and citation rates per 1,000 (exact Poisson limits of the count over its residents), its
    officer-initiated quotient (as the stops'), and the listed violent places' shares (Wilson)."""
    frame = demo_warehouse.execute(
        "SELECT * FROM marts.mart_enforcement_divergence WHERE city = 'demo_city' AND period_type = 'quarter'"
    ).df()
    totals = frame.groupby("period_start")[["reported_crimes", "violent_crimes", "property_crimes"]].transform("sum")
    for count, share in (
        ("reported_crimes", "crime_share"),
        ("violent_crimes", "violent_crime_share"),
        ("property_crimes", "property_crime_share"),
    ):
        ends = zip(frame[count], totals[count], frame[f"{share}_low"], frame[f"{share}_high"], strict=True)
        for x, n, low, high in ends:
            assert (low, high) == pytest.approx(_wilson(x, n), abs=1e-12), share
    published = frame[(frame["arrests"] >= 10) & (frame["population"] > 0)]  # Byar within 0.2 % from 10
    assert len(published) >= 5  # arrests reach 10 in a few beat-quarters at test scale
    columns = ["arrests", "population", "arrest_rate_per_1000_low", "arrest_rate_per_1000_high"]
    for arrests, population, low, high in published[columns].itertuples(index=False):
        assert high == pytest.approx(chi2.ppf(0.975, 2 * arrests + 2) / 2 * 1000 / population, rel=2e-3)
        exact_low = chi2.ppf(0.025, 2 * arrests) / 2 if arrests > 0 else 0.0
        assert low == pytest.approx(exact_low * 1000 / population, rel=2e-3)
    # the officer-initiated quotient's interval, as the stops' (officer-initiated events are summed here)
    oi_totals = frame.groupby("period_start")["officer_initiated_events"].transform("sum")
    checked = 0
    for i in frame.index[(frame["officer_initiated_events"] > 0) & (frame["reported_crimes"] > 0)][:20]:
        row = frame.loc[i]
        expected = run_macro(
            f"quotient_of_shares_low({row.officer_initiated_events}, {oi_totals[i]}, {row.reported_crimes}, "
            f"{totals.loc[i, 'reported_crimes']})"
        )
        assert row.officer_initiated_location_quotient_low == pytest.approx(expected, rel=1e-12)
        assert row.officer_initiated_location_quotient_low < row.officer_initiated_location_quotient
        checked += 1
    assert checked == 20
    listed = demo_warehouse.execute(
        "SELECT p.violent_crimes, c.placed_violent_crimes, p.share_of_violent_crimes_low, "
        "p.share_of_violent_crimes_high FROM marts.mart_violent_places AS p "
        "JOIN marts.mart_violence_concentration AS c "
        "USING (city, period_type, period_start, place_level)"
    ).fetchall()
    assert listed
    for x, n, low, high in listed:
        assert (low, high) == pytest.approx(_wilson(x, n), abs=1e-12)
    # withheld with the count they are made from
    assert frame.loc[frame["citations"].isna(), "citation_rate_per_1000_low"].isna().all()
    assert frame.loc[frame["arrests"].isna(), "arrest_rate_per_1000_high"].isna().all()


def test_call_shares_carry_their_wilson_intervals(demo_warehouse):
    rows = demo_warehouse.execute(
        "SELECT calls, calls_in_month, share_of_calls, share_of_calls_low, share_of_calls_high "
        "FROM marts.mart_service_demand WHERE source_profile = 'demo_city_calls'"
    ).fetchall()
    assert len(rows) > 100
    for calls, month_calls, share, low, high in rows:
        assert share == pytest.approx(calls / month_calls, rel=1e-12)
        assert (low, high) == pytest.approx(_wilson(calls, month_calls), abs=1e-12)
        assert low <= share <= high


def test_unclassified_shares_carry_their_wilson_intervals(demo_warehouse):
    rows = demo_warehouse.execute(
        "SELECT unclassified_calls, calls, unclassified_share, unclassified_share_low, unclassified_share_high "
        "FROM marts.mart_classification_coverage WHERE calls > 0"
    ).fetchall()
    assert len(rows) >= 13  # the demo city's 12 months and Milwaukee's one
    for unclassified, calls, share, low, high in rows:
        assert (low, high) == pytest.approx(_wilson(unclassified, calls), abs=1e-12)
        assert low <= share <= high


def test_per_resident_stop_rates_carry_their_poisson_intervals(demo_warehouse):
    rows = demo_warehouse.execute(
        "SELECT stops, residential_population, stops_per_1000_residents, stops_per_1000_residents_low, "
        "stops_per_1000_residents_high FROM marts.mart_stop_equity WHERE stops_per_1000_residents IS NOT NULL"
    ).fetchall()
    assert len(rows) > 20
    for stops, population, rate, low, high in rows:
        assert low < rate < high
        assert low == pytest.approx(chi2.ppf(0.025, 2 * stops) / 2 * 1000 / population, rel=2e-3)
        assert high == pytest.approx(chi2.ppf(0.975, 2 * stops + 2) / 2 * 1000 / population, rel=2e-3)
    withheld = demo_warehouse.execute(
        "SELECT count(*) FROM marts.mart_stop_equity WHERE stops IS NULL AND stops_per_1000_residents_low IS NOT NULL"
    ).fetchone()
    assert withheld == (0,)  # a withheld count's rate interval is withheld with it


def test_response_time_percentiles_carry_order_statistic_intervals(demo_warehouse):
    """The median and 90th percentile of each month, city-wide and per priority and area: the
    interval's ends are the timed calls' order statistics at the ranks written out again here, and
    those ranks hold the quantile with probability 94-97 % (binomial, exact) in the city-wide rows;
    the scorecard judges the KPI on the same interval."""
    from scipy.stats import binom

    calls = demo_warehouse.execute(
        "SELECT call_month, received_to_on_scene_minutes AS minutes FROM intermediate.int_call_response_intervals "
        "WHERE source_profile = 'demo_city_calls' AND received_to_on_scene_minutes IS NOT NULL"
    ).df()
    mart = demo_warehouse.execute(
        "SELECT * FROM marts.mart_response_times WHERE source_profile = 'demo_city_calls' "
        "AND priority = 'all' AND area_id = 'all' ORDER BY call_month"
    ).df()
    assert len(mart) == 12
    for row in mart.itertuples():
        x = np.sort(calls.loc[calls["call_month"] == row.call_month, "minutes"].to_numpy())
        n = len(x)
        assert n == row.calls_timed
        for name, p in (("median", 0.5), ("p90", 0.9)):
            half = 1.959964 * (n * p * (1 - p)) ** 0.5
            low, high = max(1, math.floor(n * p - half)), min(n, math.ceil(n * p + half))
            assert getattr(row, f"{name}_received_to_on_scene_minutes_low") == pytest.approx(x[low - 1])
            assert getattr(row, f"{name}_received_to_on_scene_minutes_high") == pytest.approx(x[high - 1])
            assert 0.94 <= binom.cdf(high - 1, n, p) - binom.cdf(low - 1, n, p) <= 0.97
            value = getattr(row, f"{name}_received_to_on_scene_minutes")
            assert x[low - 1] <= value <= x[high - 1]
    # each priority and each area has its own, from its own calls
    calls = demo_warehouse.execute(
        "SELECT call_month, priority, area_id, received_to_on_scene_minutes AS minutes "
        "FROM intermediate.int_call_response_intervals "
        "WHERE source_profile = 'demo_city_calls' AND received_to_on_scene_minutes IS NOT NULL"
    ).df()
    rows = demo_warehouse.execute(
        "SELECT call_month, priority, area_id, calls_timed, median_received_to_on_scene_minutes_low AS low, "
        "p90_received_to_on_scene_minutes_high AS high FROM marts.mart_response_times "
        "WHERE source_profile = 'demo_city_calls' AND (priority = 'all') <> (area_id = 'all') "
        "AND calls_timed IS NOT NULL"
    ).df()
    assert len(rows) > 100
    for row in rows.itertuples():
        mine = calls[calls["call_month"] == row.call_month]
        mine = mine[mine["priority"] == row.priority] if row.priority != "all" else mine[mine["area_id"] == row.area_id]
        x = np.sort(mine["minutes"].to_numpy())
        n = len(x)
        assert n == row.calls_timed
        assert row.low == x[max(1, math.floor(n / 2 - 1.959964 * (n / 4) ** 0.5)) - 1]
        assert row.high == x[min(n, math.ceil(0.9 * n + 1.959964 * (0.09 * n) ** 0.5)) - 1]
    withheld = demo_warehouse.execute(
        "SELECT count(*) FROM marts.mart_response_times WHERE is_suppressed "
        "AND median_received_to_on_scene_minutes_low IS NOT NULL"
    ).fetchone()
    assert withheld == (0,)
    scorecard = demo_warehouse.execute(
        "SELECT s.value_low, s.value_high, r.median_received_to_on_scene_minutes_low, "
        "r.median_received_to_on_scene_minutes_high, s.interval_method "
        "FROM marts.mart_kpi_scorecard AS s JOIN marts.mart_response_times AS r "
        "ON r.source_profile = s.source_profile AND r.call_month = s.period_start "
        "AND r.priority = 'all' AND r.area_id = 'all' "
        "WHERE s.kpi = 'median_response_minutes' AND s.city = 'demo_city'"
    ).fetchall()
    assert len(scorecard) == 12
    for value_low, value_high, low, high, method in scorecard:
        assert (value_low, value_high) == (low, high) and method.startswith("distribution-free")
