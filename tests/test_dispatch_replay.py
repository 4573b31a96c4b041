"""The dispatch replay (issue: from "what happened" to "what if"): police response times with a
scenario's calls moved. The replay's queue agrees with Erlang C on a stationary case; on a city
whose dispatch delays are a real queue (simulated here by a separate first-come first-served
simulator) it finds the units on duty, reproduces the observed times with nothing moved, and
predicts the times with calls removed that the separate simulator gives; on the demo city it
reproduces the observed times within its stated tolerance, and finds no change, since the demo
city's dispatch delays do not depend on how busy its units are."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from orchestration.replay import dispatch
from orchestration.replay.assets import NOTHING_MOVED, priority_ranks, replay_window

from .support.queueing import share_within, simulate_waits

HOUR = dispatch.HOUR


def _queue_city(seed: int, calls_per_hour: float, hours: int):
    """Calls from the public arriving at random, each with a delay of its own before it can be
    dispatched, then waiting first come first served for a unit; travel and time on the call drawn
    per call. Whole seconds, as a CAD extract records them."""
    rng = np.random.default_rng(seed)
    received = np.cumsum(np.ceil(rng.exponential(HOUR / calls_per_hour, int(calls_per_hour * hours))))
    own = np.ceil(rng.exponential(120.0, len(received)))  # 2 minutes on average to take the call
    hold = np.ceil(rng.gamma(2.0, 900.0, len(received)))  # 30 minutes from dispatch to clear
    travel = np.ceil(rng.gamma(3.0, 160.0, len(received)))  # 8 minutes
    return received, own, hold, travel


def _dispatched(received, own, hold, keep, servers):
    """Dispatch times from tests/support/queueing.simulate_waits (in seconds: with a constant
    number of servers its clock's unit does not matter)."""
    ready = received + own
    idx = np.flatnonzero(keep)[np.argsort(ready[keep], kind="stable")]
    waits = simulate_waits(ready[idx].tolist(), hold[idx].tolist(), lambda _t: servers)
    out = np.full(len(received), np.nan)
    out[idx] = ready[idx] + np.array(waits)
    return out


def _calls(received, dispatched, hold, travel):
    n = len(received)
    return dispatch.Calls(
        received=received,
        dispatched=dispatched,
        arrived=dispatched + travel,
        cleared=dispatched + hold,
        units=np.ones(n),
        priority_rank=np.zeros(n, dtype=np.int64),
        public=np.ones(n, dtype=bool),
    )


def test_the_replayed_queue_agrees_with_erlang_c_on_a_stationary_case():
    """M/M/6 at 8 calls an hour of 30 minutes each (4 Erlangs), 25,000 hours: the share of calls
    dispatched within 10 minutes against Erlang C's 1 - C exp(-(c mu - lambda) t), and every wait
    the same as the separate first-come first-served simulator's."""
    rng = np.random.default_rng(11)
    received = np.cumsum(rng.exponential(HOUR / 8.0, 200_000))
    hold = rng.exponential(1800.0, len(received))
    calls = _calls(received, received.copy(), hold, np.zeros(len(received)))
    dispatched = dispatch.replay(calls, np.full(168, 6), np.zeros(len(received)), np.zeros(len(received), bool))
    waits = dispatched - received
    assert np.mean(waits <= 600) == pytest.approx(share_within(6, 8.0, 0.5, 10 / 60), abs=0.015)
    reference = np.array(simulate_waits((received / HOUR).tolist(), (hold / HOUR).tolist(), lambda _t: 6)) * HOUR
    assert np.abs(waits - reference).max() < 1e-3


@pytest.fixture(scope="module")
def queue_city():
    servers = 4
    received, own, hold, travel = _queue_city(3, 5.0, 24 * 7 * 8)
    everything = np.ones(len(received), bool)
    observed = _calls(received, _dispatched(received, own, hold, everything, servers), hold, travel)
    return servers, received, own, hold, travel, observed


def test_the_units_on_duty_are_found_from_the_busy_units(queue_city):
    servers, *_, observed = queue_city
    duty = dispatch.units_on_duty(observed)
    # at 2.5 Erlangs on 4 units every hour of the week is full at some moment over eight weeks
    assert (duty == servers).mean() > 0.9 and duty.max() == servers


def test_with_nothing_moved_the_replay_reproduces_the_observed_times(queue_city):
    _, received, _, _, travel, observed = queue_city
    duty = dispatch.units_on_duty(observed)
    own, drawn = dispatch.own_delays(observed, duty)
    assert 0.05 < drawn.mean() < 0.9  # a real queue: many calls came in with every unit busy
    replayed = dispatch.replay(observed, duty, own, np.zeros(len(received), bool))
    observed_response = observed.arrived - received
    replayed_response = replayed + travel - received
    for q in (0.5, 0.9):
        assert np.quantile(replayed_response, q) == pytest.approx(np.quantile(observed_response, q), rel=0.05)


def test_with_calls_moved_the_replay_predicts_the_shorter_queue(queue_city):
    """A third of the calls moved: the replay's median and 90th percentile for the calls kept agree
    with the separate simulator run on the kept calls alone, and both are well below before."""
    servers, received, own_true, hold, travel, observed = queue_city
    moved = np.random.default_rng(5).random(len(received)) < 1 / 3
    truth = _dispatched(received, own_true, hold, ~moved, servers)
    duty = dispatch.units_on_duty(observed)
    own, _ = dispatch.own_delays(observed, duty)
    replayed = dispatch.replay(observed, duty, own, moved)
    kept = ~moved
    for q in (0.5, 0.9):
        true = np.quantile(truth[kept] + travel[kept] - received[kept], q)
        predicted = np.quantile(replayed[kept] + travel[kept] - received[kept], q)
        before = np.quantile(observed.arrived[kept] - received[kept], q)
        assert predicted == pytest.approx(true, rel=0.08), q
        assert predicted < before - 60, q


def test_the_most_urgent_priority_is_dispatched_first():
    """Two units busy until 10:00; a priority 3 call at 09:00 and a priority 1 call at 09:30 both
    wait; the priority 1 call takes the first unit freed."""
    t = np.array([0.0, 0.0, 9 * HOUR, 9.5 * HOUR])
    calls = dispatch.Calls(
        received=t,
        dispatched=np.array([0.0, 0.0, 9 * HOUR, 9.5 * HOUR]),
        arrived=np.array([0.0, 0.0, 9 * HOUR, 9.5 * HOUR]) + 60,
        cleared=np.array([10 * HOUR, 11 * HOUR, 12 * HOUR, 12 * HOUR]),
        units=np.ones(4),
        priority_rank=priority_ranks(pd.Series(["2", "2", "3", "1"])),
        public=np.ones(4, bool),
    )
    dispatched = dispatch.replay(calls, np.full(168, 2), np.zeros(4), np.zeros(4, bool))
    assert dispatched[3] == 10 * HOUR and dispatched[2] == 11 * HOUR


def test_priorities_rank_numbers_first_and_unknown_last():
    ranks = priority_ranks(pd.Series(["10", "2", "unknown", "E", "1"]))
    assert list(ranks) == [2, 1, 4, 3, 0]


def test_the_window_is_the_latest_complete_weeks():
    # Milwaukee's extract: Tuesday 1 May to Monday 21 May 2018 -> Monday 7 to Sunday 20 May
    start, end = replay_window(pd.Timestamp("2018-05-01 00:10"), pd.Timestamp("2018-05-21 14:14"))
    assert (start, end) == (pd.Timestamp("2018-05-07"), pd.Timestamp("2018-05-21"))
    # a year that ends on a Sunday: the last eight weeks, to midnight
    start, end = replay_window(pd.Timestamp("2025-01-01"), pd.Timestamp("2025-12-28 23:59"))
    assert (start, end) == (pd.Timestamp("2025-11-03"), pd.Timestamp("2025-12-29"))
    assert replay_window(pd.Timestamp("2018-05-02"), pd.Timestamp("2018-05-06")) is None


def _replay_rows(con, city="demo_city"):
    return con.execute(
        "SELECT * FROM marts.mart_dispatch_replay WHERE city = ? ORDER BY scenario, priority", [city]
    ).df()


def test_on_the_demo_city_the_replay_reproduces_the_observed_times(demo_warehouse):
    rows = _replay_rows(demo_warehouse)
    check = rows[rows["scenario"] == NOTHING_MOVED]
    assert set(check["priority"]) == {"1", "2", "3", "4"}
    assert check["replay_reproduces_observed"].all()
    for r in check.itertuples():
        for stat in ("median", "p90"):
            observed, replayed = getattr(r, f"observed_{stat}_minutes"), getattr(r, f"replayed_{stat}_minutes")
            assert abs(replayed - observed) <= max(0.10 * observed, 1.0), (r.priority, stat)
    # the same calls' observed times counted from the calls of the window: from the public, with a
    # dispatch after the call, a clear after the dispatch and an arrival
    window = check.iloc[0]
    independent = dict(
        demo_warehouse.execute(
            """
            SELECT priority, quantile_cont(epoch(arrived_at_utc) - epoch(received_at_utc), 0.5) / 60
            FROM marts.fct_calls_for_service
            WHERE source_profile = 'demo_city_calls' AND NOT is_officer_initiated AND arrived_at_utc IS NOT NULL
              AND dispatched_at_utc >= received_at_utc AND cleared_at_utc >= dispatched_at_utc
              AND received_at_local >= ? AND received_at_local < ?
            GROUP BY 1
            """,
            [window["window_start"], window["window_end"]],
        ).fetchall()
    )
    for r in check.itertuples():
        assert r.observed_median_minutes == pytest.approx(independent[r.priority], abs=1e-9), r.priority


def test_on_the_demo_city_moving_calls_changes_no_response_time(demo_warehouse):
    """The demo generator draws each dispatch delay by priority alone, not from a queue: units are
    free for nearly every call, so moving calls frees units nobody was waiting for."""
    rows = _replay_rows(demo_warehouse)
    scenarios = rows[rows["scenario"] != NOTHING_MOVED]
    assert set(scenarios["scenario"]) == {"crisis_team", "navigator", "civilian_traffic"}
    assert (rows["own_delays_drawn_share"] < 0.05).all()
    assert scenarios["change_median_minutes"].abs().max() < 1.0
    assert scenarios["change_p90_minutes"].abs().max() < 2.0


def test_the_calls_moved_are_the_scenarios_moved_calls_of_the_window(demo_warehouse):
    rows = _replay_rows(demo_warehouse)
    window = rows.iloc[0]
    counted = dict(
        demo_warehouse.execute(
            """
            SELECT scenario || '/' || priority, count(*)
            FROM intermediate.int_scenario_calls
            WHERE scenario_outcome = 'moved' AND source_profile = 'demo_city_calls'
              AND received_at_local >= ? AND received_at_local < ?
            GROUP BY 1
            """,
            [window["window_start"], window["window_end"]],
        ).fetchall()
    )
    for r in rows[rows["scenario"] != NOTHING_MOVED].itertuples():
        assert r.calls_moved == counted.get(f"{r.scenario}/{r.priority}", 0)
    # priority 1 stays with police in every scenario (a co-response)
    assert (rows.loc[rows["priority"] == "1", "calls_moved"] == 0).all()


def test_milwaukee_says_why_it_cannot_be_replayed(demo_warehouse):
    """Milwaukee's extract has one time per call (when it came in): nothing to replay, and the mart
    says so over the two complete weeks it would have replayed."""
    rows = _replay_rows(demo_warehouse, "milwaukee")
    assert len(rows) == 1
    row = rows.iloc[0]
    window = (pd.Timestamp(row["window_start"]).date(), pd.Timestamp(row["window_end"]).date())
    assert window == (dt.date(2018, 5, 7), dt.date(2018, 5, 21))
    assert row["note"] == "not available: no call from the public has dispatch, on-scene and clear times to replay"
    assert np.isnan(row["observed_median_minutes"])


def test_a_priority_with_too_few_calls_publishes_no_times(demo_warehouse):
    rows = demo_warehouse.execute("SELECT * FROM marts.mart_dispatch_replay WHERE calls_replayed < 11").df()
    assert rows["observed_median_minutes"].isna().all() and rows["change_median_minutes"].isna().all()
    assert rows["note"].str.startswith("not available: fewer than 11 calls").all()


def test_the_report_gives_the_change_in_police_response_times(demo_report_html, demo_warehouse):
    html = demo_report_html
    section = html[html.index('id="what-if"') :].split("</section>")[0]
    table = section[section.index("Police response times with calls moved - Demo City") :].split("</table>")[0]
    crisis_p2 = demo_warehouse.execute(
        "SELECT scenario_median_minutes, change_median_minutes FROM marts.mart_dispatch_replay "
        "WHERE city = 'demo_city' AND scenario = 'crisis_team' AND priority = '2'"
    ).fetchone()
    assert f"{crisis_p2[0]:.1f} ({crisis_p2[1]:+.1f})" in table
    assert "not available: no call from the public has dispatch, on-scene and clear times to replay" in section


def test_a_city_without_times_has_no_units_busy():
    """Milwaukee's case: calls with no dispatch or clear times hold no unit."""
    nan = np.full(3, np.nan)
    calls = dispatch.Calls(
        received=np.array([0.0, 60.0, 120.0]),
        dispatched=nan,
        arrived=nan,
        cleared=nan,
        units=np.ones(3),
        priority_rank=np.zeros(3, dtype=np.int64),
        public=np.ones(3, bool),
    )
    assert (dispatch.units_on_duty(calls) == 1).all()
    assert (dispatch.busy_when_received(calls) == 0).all()
    assert np.isnan(dispatch.replay(calls, np.ones(168), np.zeros(3), np.zeros(3, bool))).all()
