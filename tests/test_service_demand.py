"""Service demand marts recover what the demo city planted, and what was counted by hand in Milwaukee."""

from __future__ import annotations

import csv
from collections import Counter

import pytest

from .conftest import MILWAUKEE_FILE

# Planted shares are probabilities; at 30,000 calls one standard error is under 0.003.
TOLERANCE = 0.012


def shares(con, profile: str) -> dict[str, float]:
    row = con.execute(
        """
        SELECT sum(non_criminal_calls) / sum(calls), sum(alternative_eligible_calls) / sum(calls),
               sum(officer_initiated_calls) / sum(calls), sum(calls)
        FROM marts.mart_service_demand WHERE source_profile = ?
        """,
        [profile],
    ).fetchone()
    return {"non_criminal": row[0], "alternative_eligible": row[1], "officer_initiated": row[2], "calls": row[3]}


@pytest.mark.parametrize("share", ["non_criminal", "alternative_eligible", "officer_initiated"])
def test_demo_city_marts_recover_the_planted_call_shares(share, demo_warehouse, demo_truth):
    measured = shares(demo_warehouse, "demo_city_calls")
    planted = demo_truth["planted"]["call_shares"][share]
    assert measured[share] == pytest.approx(planted, abs=TOLERANCE)
    assert measured["calls"] == demo_truth["rows"]["calls_for_service"]


def test_demo_city_service_categories_match_the_planted_mix(demo_warehouse, demo_truth):
    planted = demo_truth["planted"]["call_shares"]["by_category"]
    measured = dict(
        demo_warehouse.execute(
            "SELECT service_category, sum(calls) / (SELECT sum(calls) FROM marts.mart_service_demand "
            "WHERE source_profile = 'demo_city_calls') FROM marts.mart_service_demand "
            "WHERE source_profile = 'demo_city_calls' GROUP BY 1"
        ).fetchall()
    )
    assert set(measured) == set(planted), "no demo call is unclassified"
    for category, share in planted.items():
        assert measured[category] == pytest.approx(share, abs=TOLERANCE), category


def test_demo_city_officer_time_is_measured_from_dispatch_to_clear(demo_warehouse):
    # Recompute each call's officer hours straight from staging: dispatch (officer-initiated
    # events: received) to clear, times units. The demo city writes local wall-clock times, as
    # CAD exports do, so a call that straddles the autumn clock change can look cleared before
    # it arrived: those (and calls over 12 hours) fall back to the category default.
    per_call = demo_warehouse.execute(
        """
        SELECT f.time_on_call_method,
               date_diff('second', coalesce(s.dispatched_at_utc, s.received_at_utc), s.cleared_at_utc) / 60.0,
               s.units_assigned, f.officer_hours, strftime(s.received_at_local, '%m-%d')
        FROM staging.stg_calls_for_service s JOIN marts.fct_calls_for_service f USING (call_key)
        WHERE s.source_profile = 'demo_city_calls'
        """
    ).fetchall()
    assert len(per_call) == 30_000
    fallbacks = 0
    for method, minutes, units, hours, day in per_call:
        if method == "measured":
            assert 0 <= minutes <= 720
            assert hours == pytest.approx(minutes * units / 60)
        else:
            fallbacks += 1
            assert minutes > 720 or day in ("03-09", "11-02"), (method, minutes, day)
    assert fallbacks < 30
    measured = demo_warehouse.execute(
        "SELECT sum(officer_hours) FROM marts.mart_service_demand WHERE source_profile = 'demo_city_calls'"
    ).fetchone()[0]
    assert measured == pytest.approx(sum(row[3] for row in per_call), rel=1e-9)


def test_demo_city_cost_is_officer_hours_times_the_hourly_cost(demo_warehouse):
    hourly = demo_warehouse.execute(
        "SELECT hourly_cost FROM reference.cost_assumptions WHERE responder = 'police_officer'"
    ).fetchone()[0]
    hours, cost = demo_warehouse.execute(
        "SELECT sum(officer_hours), sum(estimated_cost) FROM marts.mart_service_demand"
    ).fetchone()
    assert cost == pytest.approx(hours * hourly)


def test_milwaukee_unclassified_share_is_below_five_percent(demo_warehouse):
    unclassified = demo_warehouse.execute(
        "SELECT sum(unclassified_calls) / sum(calls), sum(calls_not_in_taxonomy) "
        "FROM marts.mart_classification_coverage WHERE source_profile = 'milwaukee_cfs'"
    ).fetchone()
    assert unclassified[0] < 0.05
    assert unclassified[1] == 0, "every Milwaukee call type has a taxonomy row"


def test_milwaukee_officer_initiated_count_matches_the_hand_count(demo_warehouse):
    # Counted by hand from the file: the rows whose `nature` is one of the 51 call types marked
    # officer-initiated in the taxonomy (TRAFFIC STOP 3,719, BUSINESS CHECK 2,452, RETURN STATION
    # 1,736, FOLLOW UP 1,265, PATROL 910, ...) add up to 17,098 of 33,968 calls.
    measured = demo_warehouse.execute(
        "SELECT sum(officer_initiated_calls), sum(calls) FROM marts.mart_service_demand "
        "WHERE source_profile = 'milwaukee_cfs'"
    ).fetchone()
    assert measured == (17_098, 33_968)
    # and the biggest officer-initiated type, counted straight from the file
    with MILWAUKEE_FILE.open(encoding="utf-8") as fh:
        natures = Counter(row["nature"] for row in csv.DictReader(fh))
    traffic_stops = demo_warehouse.execute(
        "SELECT sum(events) FROM marts.mart_officer_initiated_activity "
        "WHERE source_profile = 'milwaukee_cfs' AND activity_type = 'traffic stop'"
    ).fetchone()[0]
    assert traffic_stops == natures["TRAFFIC STOP"] == 3_719


def test_milwaukee_lacks_times_so_officer_time_uses_documented_defaults(demo_warehouse):
    methods = dict(
        demo_warehouse.execute(
            "SELECT time_on_call_method, count(*) FROM marts.fct_calls_for_service "
            "WHERE source_profile = 'milwaukee_cfs' GROUP BY 1"
        ).fetchall()
    )
    assert methods == {"default: no clear time": 33_968}


def test_coverage_is_measured_per_source_and_month(demo_warehouse):
    rows = demo_warehouse.execute(
        "SELECT source_profile, count(*), sum(calls) FROM marts.mart_classification_coverage GROUP BY 1 ORDER BY 1"
    ).fetchall()
    assert rows == [("demo_city_calls", 12, 30_000), ("milwaukee_cfs", 1, 33_968)]


def test_stop_hit_rates_in_officer_initiated_activity_match_staging(demo_warehouse):
    searches, hits = demo_warehouse.execute(
        "SELECT count(*) FILTER (search_conducted), count(*) FILTER (search_conducted AND contraband_found) "
        "FROM staging.stg_stops"
    ).fetchone()
    mart = demo_warehouse.execute(
        "SELECT sum(searches), sum(searches_with_contraband) FROM marts.mart_officer_initiated_activity "
        "WHERE activity_source = 'stop'"
    ).fetchone()
    assert mart == (searches, hits)
    assert searches > 0


def test_311_demand_sits_beside_911_demand(demo_warehouse, demo_truth):
    requests, calls_beside = demo_warehouse.execute(
        "SELECT sum(requests), count(*) FILTER (area_calls_for_service > 0) FROM marts.mart_service_requests_demand"
    ).fetchone()
    assert requests == demo_truth["rows"]["service_requests"]
    assert calls_beside > 0
