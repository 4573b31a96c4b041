"""What-if scenarios (issue: from "what happened" to "what if"): the calls a scenario moves are
the ones its rule names, counted by hand from the demo city's files and within sampling error of
what the generator planted; the staffing is Erlang C, checked against textbook values, against a
simulation of a stationary queue, and by replaying the city's own moved calls with the teams the
mart asks for."""

from __future__ import annotations

import csv
import math
import random
from collections import Counter

import pytest

from orchestration.settings import PROJECT_ROOT

from .support.queueing import erlang_c, share_within, simulate_waits

SCENARIOS = {  # seeds/alternative_response_scenarios.csv: responder, priorities kept with police
    "crisis_team": ("mental_health_crisis_team", {"1"}),
    "navigator": ("community_navigator", {"1"}),
    "civilian_traffic": ("civilian_traffic_unit", {"1", "2"}),
}


def test_erlang_c_gives_the_textbook_values():
    # two worked examples with exact answers: a = 2 Erlangs on 3 servers waits with probability
    # 4/9; a = 1 Erlang on 2 servers, 1/3; a load at or above the servers always waits
    assert erlang_c(3, 2.0) == pytest.approx(4 / 9, abs=1e-12)
    assert erlang_c(2, 1.0) == pytest.approx(1 / 3, abs=1e-12)
    assert erlang_c(2, 2.0) == 1.0
    # P(wait <= t) = 1 - C exp(-(c mu - lambda) t): 4 teams, 2 calls an hour of an hour each, 15 min
    assert share_within(4, 2.0, 1.0, 0.25) == pytest.approx(1 - 0.173913043 * math.exp(-0.5), abs=1e-8)


def test_a_simulated_stationary_queue_agrees_with_erlang_c():
    """An M/M/6 queue at 8 calls an hour of 30 minutes each (4 Erlangs), 20,000 hours simulated."""
    rng = random.Random(7)
    arrivals, t = [], 0.0
    while t < 20_000:
        t += rng.expovariate(8.0)
        arrivals.append(t)
    services = [rng.expovariate(2.0) for _ in arrivals]
    waits = simulate_waits(arrivals, services, lambda _t: 6)
    waited = sum(w > 0 for w in waits) / len(waits)
    in_time = sum(w <= 0.25 for w in waits) / len(waits)
    # 160,000 calls: the simulated shares' standard error is under 0.003 (waits are correlated)
    assert waited == pytest.approx(erlang_c(6, 4.0), abs=0.01)
    assert in_time == pytest.approx(share_within(6, 8.0, 0.5, 0.25), abs=0.01)


def test_every_staffing_row_is_the_fewest_teams_that_meet_the_target(demo_warehouse):
    rows = demo_warehouse.execute(
        "SELECT source_profile, scenario, hour_of_week, arrivals_per_hour, mean_service_minutes, offered_load, "
        "teams_needed, p_wait, share_answered_in_time, target_wait_minutes, target_share_answered "
        "FROM marts.mart_alternative_staffing"
    ).fetchall()
    profiles = {r[0] for r in rows}
    assert {"demo_city_calls", "milwaukee_cfs"} <= profiles
    assert len(rows) == 168 * len({(r[0], r[1]) for r in rows})  # every hour of the week, for each
    judged = 0
    for _p, _s, _h, lam, minutes, load, teams, p_wait, share, wait, target in rows:
        if load == 0:
            assert teams == 0 and lam == 0
            continue
        hours = minutes / 60
        assert load == pytest.approx(lam * hours, rel=1e-12)
        assert p_wait == pytest.approx(erlang_c(teams, load), abs=1e-9)
        assert share == pytest.approx(share_within(teams, lam, hours, wait / 60), abs=1e-9)
        assert share >= target > share_within(teams - 1, lam, hours, wait / 60)  # one team fewer misses it
        judged += 1
    assert judged > 300


def moved_by_hand(demo_city) -> Counter:
    """The demo city's calls each scenario moves, counted from the files the generator wrote."""
    settings, _, _ = demo_city
    taxonomy = {}
    with (PROJECT_ROOT / "seeds" / "call_type_taxonomy.csv").open(newline="") as fh:
        for row in csv.DictReader(fh):
            if row["source_profile"] == "demo_city_calls":
                taxonomy[row["call_type"]] = row["alternative_responder"]
    moved: Counter = Counter()
    for path in sorted((settings.demo_dir / "calls_for_service").glob("*.csv")):
        with path.open(newline="") as fh:
            for row in csv.DictReader(fh):
                if row["self_initiated"] == "Y" or row["disposition"] == "ARREST":
                    continue
                for scenario, (responder, kept) in SCENARIOS.items():
                    if taxonomy.get(row["final_type"]) == responder and row["priority"] not in kept:
                        moved[scenario] += 1
    return moved


def test_the_calls_moved_are_the_ones_the_rule_names_counted_by_hand(demo_city, demo_warehouse):
    mart = dict(
        demo_warehouse.execute(
            "SELECT scenario, sum(calls_moved) FROM marts.mart_scenario_impact "
            "WHERE source_profile = 'demo_city_calls' GROUP BY scenario"
        ).fetchall()
    )
    assert mart == dict(moved_by_hand(demo_city))


@pytest.mark.parametrize("scenario", ["crisis_team", "navigator", "civilian_traffic"])
def test_the_calls_moved_recover_the_planted_share(scenario, demo_warehouse, demo_truth):
    responder, kept = SCENARIOS[scenario]
    planted = demo_truth["planted"]["alternative_calls"][responder]
    share = planted["share_not_p1_p2"] if kept == {"1", "2"} else planted["share_not_p1"]
    expected = share * (1 - planted["arrest_share"])
    moved, calls = demo_warehouse.execute(
        "SELECT sum(calls_moved), sum(police_calls) FROM marts.mart_scenario_impact "
        "WHERE source_profile = 'demo_city_calls' AND scenario = ?",
        [scenario],
    ).fetchone()
    # the share moved is a binomial proportion over all calls: 3.5 standard errors of it
    tolerance = 3.5 * math.sqrt(expected * (1 - expected) / calls)
    assert moved / calls == pytest.approx(expected, abs=tolerance)


def test_the_kept_calls_and_the_costs_add_up(demo_warehouse):
    bad = demo_warehouse.execute(
        "SELECT count(*) FROM marts.mart_scenario_impact WHERE calls_moved + calls_kept "
        "<> eligible_calls OR calls_moved > calls_from_public OR officer_hours_moved > officer_hours + 1e-9"
    ).fetchone()[0]
    assert bad == 0
    # the crisis team is a pair at $68 an hour on the officer's time (cost_assumptions): per hour
    # of one officer's work moved, 2 x 68 against the officer's 95 x units
    police, responder, hours = demo_warehouse.execute(
        "SELECT sum(police_cost_moved), sum(responder_cost_moved), sum(officer_hours_moved) "
        "FROM marts.mart_scenario_impact WHERE source_profile = 'demo_city_calls' AND scenario = 'crisis_team'"
    ).fetchone()
    assert police == pytest.approx(95 * hours, rel=1e-9)
    minutes = demo_warehouse.execute(
        "SELECT sum(responder_minutes) FROM intermediate.int_scenario_calls "
        "WHERE source_profile = 'demo_city_calls' AND scenario = 'crisis_team' AND scenario_outcome = 'moved'"
    ).fetchone()[0]
    assert responder == pytest.approx(minutes / 60 * 2 * 68, rel=1e-9)


def test_replaying_the_citys_own_moved_calls_with_the_staffing_meets_the_target(demo_warehouse):
    """The check on the queueing model: the demo city's moved crisis calls, at their own times and
    with their own service times, answered first come first served by the teams the mart puts on
    duty in each hour of the week."""
    teams = dict(
        demo_warehouse.execute(
            "SELECT hour_of_week, teams_needed FROM marts.mart_alternative_staffing "
            "WHERE source_profile = 'demo_city_calls' AND scenario = 'crisis_team'"
        ).fetchall()
    )
    calls = demo_warehouse.execute(
        "SELECT epoch(received_at_local) / 3600.0, responder_minutes / 60.0, hour_of_week "
        "FROM intermediate.int_scenario_calls WHERE source_profile = 'demo_city_calls' "
        "AND scenario = 'crisis_team' AND scenario_outcome = 'moved' ORDER BY received_at_local"
    ).fetchall()
    assert len(calls) > 1500
    # hour of the week of any instant, from the calls' own clock (epoch hour 0 was a Thursday)
    on_duty = lambda t: teams[(int(t) + 72) % 168]  # noqa: E731
    assert all(on_duty(t) == teams[h] for t, _, h in calls)
    waits = simulate_waits([c[0] for c in calls], [c[1] for c in calls], on_duty)
    in_time = sum(w <= 0.25 for w in waits) / len(waits)
    assert in_time >= 0.9
    # and with one team fewer in every hour, the same calls miss it
    fewer = simulate_waits([c[0] for c in calls], [c[1] for c in calls], lambda t: max(on_duty(t) - 1, 0))
    assert sum(w <= 0.25 for w in fewer) / len(fewer) < 0.9


def test_the_report_says_what_each_scenario_would_take(demo_report_html, demo_warehouse):
    html = demo_report_html
    section = html[html.index('id="what-if"') :].split("</section>")[0]
    demo = section[section.index("<h3>Demo City</h3>") :].split("<h3>")[1]
    moved, team_hours = demo_warehouse.execute(
        "SELECT (SELECT sum(calls_moved) FROM marts.mart_scenario_impact WHERE source_profile = 'demo_city_calls' "
        "AND scenario = 'crisis_team'), (SELECT sum(teams_needed) FROM marts.mart_alternative_staffing "
        "WHERE source_profile = 'demo_city_calls' AND scenario = 'crisis_team')"
    ).fetchone()
    row = demo[demo.index("crisis team") :].split("</tr>")[0]
    assert f'data-count="{int(moved)}"' in row
    assert f"{team_hours:,.0f} team-hours a week" in row
    assert "<figure" in demo and "Teams needed by hour, crisis team" in demo
