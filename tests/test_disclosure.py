"""One disclosure rule for every public table: no stop-derived count from 1 to k - 1 (k = the dbt var
min_cell_count) is published, or can be recovered by subtraction from any published table or
combination of them (margins included), and no place below k is named.

The attacker (tests/support/disclosure_attack.py) first shows what it recovers from the same
counts with small cells withheld and nothing more (the rule before complementary suppression: on
the default demo city, scale 1.0, the build of 3 December recovered 1,279 withheld counts of
mart_stop_equity, 127 of them in one step from a group's rows against the area's total); then it
attacks the published marts and must recover none.
"""

from __future__ import annotations

import pandas as pd
import pytest

from orchestration.report.config import dbt_vars
from tests.support.disclosure_attack import Attack, published_tables, recover

K = int(dbt_vars()["min_cell_count"])

# The counts behind mart_stop_equity, counted again from the intermediate stops (not published).
TRUE_STOP_EQUITY = """
WITH cells AS (
    SELECT city, stop_month, area_id, subject_race, subject_sex, count(*) AS stops,
           sum(is_search::int) AS searches, sum(is_search_hit::int) AS search_hits
    FROM intermediate.int_stops_classified GROUP BY ALL
), periods AS (
    SELECT 'month' AS period_type UNION ALL SELECT 'quarter' UNION ALL SELECT 'year'
), expanded AS (
    SELECT city, period_type, CAST(date_trunc(period_type, stop_month) AS DATE) AS period_start,
           a.area_id, g.group_type,
           CASE g.group_type WHEN 'race' THEN subject_race WHEN 'sex' THEN subject_sex ELSE 'all' END AS group_value,
           stops, searches, search_hits
    FROM cells CROSS JOIN periods
    CROSS JOIN (SELECT 'area' AS scope UNION ALL SELECT 'city') AS s
    CROSS JOIN LATERAL (SELECT CASE WHEN s.scope = 'city' THEN 'all' ELSE cells.area_id END AS area_id) AS a
    CROSS JOIN (SELECT 'all' AS group_type UNION ALL SELECT 'race' UNION ALL SELECT 'sex') AS g
)
SELECT city, period_type, period_start, area_id, group_type, group_value,
       sum(stops) AS stops, sum(searches) AS searches, sum(search_hits) AS search_hits
FROM expanded GROUP BY ALL
"""


def _primary_only(frame: pd.DataFrame) -> pd.DataFrame:
    """The counts as the rule before complementary suppression published them."""
    out = frame.copy()
    for count in ("stops", "searches", "search_hits"):
        out[count] = out[count].where(~out[count].between(1, K - 1))
    return out


def test_the_attack_recovers_a_count_left_alone_in_its_equation():
    """The issue's example: beat 1B, 2025: 139 stops - 63 - 50 - 16 = the withheld 10."""
    rows = [("all", "all", 139), ("race", "white", 63), ("race", "black", 50), ("race", "hispanic", 16)]
    rows += [("race", "other", None), ("sex", "male", 120), ("sex", "female", 19)]
    frame = pd.DataFrame(
        [("demo_city", "year", "2025-01-01", "1B", t, v, s, 0, 0) for t, v, s in rows],
        columns=["city", "period_type", "period_start", "area_id", "group_type", "group_value",
                 "stops", "searches", "search_hits"],
    )  # fmt: skip
    recovered = recover({"mart_stop_equity": frame}, across_marts=False)
    assert recovered == {("mart_stop_equity", "demo_city", "year", "2025-01-01", "1B", "race", "other", "stops"): 10.0}
    # two withheld cells in the same equation: neither is recovered
    frame.loc[frame["group_value"] == "hispanic", "stops"] = None
    assert recover({"mart_stop_equity": frame}, across_marts=False) == {}


def test_the_attack_chains_subtractions():
    """A recovered count is used again: a + b = 12 with b = 7 - 2 gives a."""
    attack = Attack()
    t, a, b, c, d = (attack.cell(("x", n), v) for n, v in (("t", 12), ("a", None), ("b", None), ("c", 7), ("d", 2)))
    attack.equation(t, [a, b])
    attack.equation(c, [b, d])
    assert attack.run() == {("x", "b"): 5.0, ("x", "a"): 7.0}


@pytest.fixture(scope="module")
def truth(demo_warehouse) -> pd.DataFrame:
    return demo_warehouse.execute(TRUE_STOP_EQUITY).df().assign(period_start=lambda f: f["period_start"].astype(str))


def test_small_cells_alone_leave_withheld_counts_recoverable(demo_warehouse, truth):
    """Without complementary suppression the attacker recovers withheld counts, each one exactly."""
    tables = published_tables(demo_warehouse)
    tables["mart_stop_equity"] = _primary_only(truth)
    recovered = recover(tables, across_marts=False)
    true = truth.set_index(["city", "period_type", "period_start", "area_id", "group_type", "group_value"])
    assert len(recovered) > 50, len(recovered)
    for key, value in recovered.items():
        assert true.loc[key[1:7], key[7]] == value, key


def test_no_withheld_count_is_recovered_from_the_published_marts(demo_warehouse):
    tables = published_tables(demo_warehouse)
    assert {
        "mart_stop_equity",
        "mart_enforcement_divergence",
        "mart_officer_initiated_activity",
        "mart_stop_outcomes",
    } <= set(tables)
    recovered = recover(tables)
    assert recovered == {}, list(recovered.items())[:10]


def test_published_stop_counts_are_the_counts_and_every_small_one_is_withheld(demo_warehouse, truth):
    published = demo_warehouse.execute(
        "SELECT city, period_type, period_start::varchar AS period_start, area_id, group_type, group_value, stops, "
        "searches, search_hits, is_suppressed, is_complementary_suppressed FROM marts.mart_stop_equity"
    ).df()
    both = truth.merge(published, on=["city", "period_type", "period_start", "area_id", "group_type", "group_value"])
    assert len(both) == len(truth) == len(published)
    for count in ("stops", "searches", "search_hits"):
        shown = both[f"{count}_y"].notna()
        assert (both.loc[shown, f"{count}_x"] == both.loc[shown, f"{count}_y"]).all(), count
        assert not (shown & both[f"{count}_x"].between(1, K - 1)).any(), count
    complementary = both["is_complementary_suppressed"]
    assert complementary.any() and (both.loc[complementary, "stops_x"] >= K).all()


@pytest.mark.parametrize(
    ("table", "columns"),
    [
        (
            "mart_enforcement_divergence",
            ("stops", "searches", "search_hits", "stop_arrests", "citations", "untethered_stops"),
        ),
        (
            "mart_officer_initiated_activity",
            ("stops", "searches", "searches_with_contraband", "arrests", "citations", "warnings"),
        ),
        ("mart_stop_outcomes", ("stops",)),
        ("mart_opportunity_zones", ("stops", "untethered_stops")),
        ("mart_violent_places", ("violent_crimes",)),
    ],
)
def test_no_published_count_from_one_to_k_minus_one(demo_warehouse, table, columns):
    for column in columns:
        small = demo_warehouse.execute(
            f"SELECT count(*) FROM marts.{table} WHERE {column} BETWEEN 1 AND {K - 1}"
        ).fetchone()[0]
        assert small == 0, (table, column, small)


def test_no_rate_or_share_is_published_beside_a_withheld_count(demo_warehouse):
    checks = {
        "mart_stop_equity": "stops IS NULL AND (search_rate IS NOT NULL OR share_of_area_stops IS NOT NULL "
        "OR stops_per_1000_residents IS NOT NULL OR search_rate_low IS NOT NULL)",
        "mart_enforcement_divergence": "stops IS NULL AND (stop_share IS NOT NULL OR location_quotient IS NOT NULL "
        "OR stop_rate_per_1000 IS NOT NULL)",
        "mart_opportunity_zones": "stops IS NULL AND (stop_share IS NOT NULL OR location_quotient IS NOT NULL)",
        "mart_stop_outcomes": "stops IS NULL AND (share_of_stops IS NOT NULL OR share_of_stops_low IS NOT NULL)",
    }
    for table, bad in checks.items():
        assert demo_warehouse.execute(f"SELECT count(*) FROM marts.{table} WHERE {bad}").fetchone()[0] == 0, table
    # and something was withheld in each, or the checks above prove nothing
    for table in checks:
        assert demo_warehouse.execute(f"SELECT count(*) FROM marts.{table} WHERE stops IS NULL").fetchone()[0] > 0, (
            table
        )


def test_no_place_below_k_is_named(demo_warehouse):
    fewest = demo_warehouse.execute("SELECT min(violent_crimes), count(*) FROM marts.mart_violent_places").fetchone()
    assert fewest[1] > 0 and fewest[0] >= K
