"""Demand forecasts (issue: from "what happened" to "what if"): next quarter's weekly calls per
category recover the demo city's planted rate, their backtests are scored against the
seasonal-naive forecast counted here by hand, and a series too short is said to be."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from orchestration.forecast.assets import DAILY_SQL, complete_days
from orchestration.forecast.model import BACKTEST_WEEKS, HORIZON_WEEKS, forecast_daily


def forecasts(con) -> pd.DataFrame:
    return con.execute(
        "SELECT * FROM marts.mart_demand_forecast WHERE city = 'demo_city' ORDER BY service_category, week_start"
    ).df()


def test_next_quarter_is_forecast_for_every_category_of_the_demo_city(demo_warehouse):
    frame = forecasts(demo_warehouse)
    categories = {
        c
        for (c,) in demo_warehouse.execute(
            "SELECT DISTINCT service_category FROM marts.fct_calls_for_service "
            "WHERE source_profile = 'demo_city_calls' AND NOT is_officer_initiated"
        ).fetchall()
    }
    assert set(frame["service_category"]) == categories
    assert (frame.groupby("service_category").size() == HORIZON_WEEKS).all()
    first = pd.Timestamp(frame["week_start"].min())
    assert (first, first.weekday()) == (
        pd.Timestamp("2025-12-29"),
        0,
    )  # the Monday after the last complete week of 2025
    assert (
        (frame["forecast_low"] <= frame["forecast_calls"]) & (frame["forecast_calls"] <= frame["forecast_high"])
    ).all()


def test_the_forecast_recovers_the_planted_weekly_calls(demo_warehouse, demo_truth):
    """The demo city spreads each month's calls evenly over its days: the planted weekly calls from
    the public are all calls x (1 - officer-initiated share) x 7 / 365."""
    shares = demo_truth["planted"]["call_shares"]
    planted = demo_truth["rows"]["calls_for_service"] * (1 - shares["officer_initiated"]) * 7 / 365
    frame = forecasts(demo_warehouse)
    first_week = frame.groupby("service_category").first()
    total = first_week["forecast_calls"].sum()
    # a week of ~400 calls has a Poisson sd of ~20; the smoothed level rests on a few weeks: 10 %
    # is over three standard errors of it
    assert total == pytest.approx(planted, rel=0.10)
    # and each category's planted weekly rate lies inside its own 95 % interval
    types = demo_truth["planted"]["call_types"]
    weight = sum(t["weight"] for t in types)
    by_category: dict[str, float] = {}
    for t in types:
        if not t["officer_initiated"]:
            share = t["weight"] / weight
            by_category[t["category"]] = (
                by_category.get(t["category"], 0) + share * demo_truth["rows"]["calls_for_service"] * 7 / 365
            )
    for category, row in first_week.iterrows():
        if category in by_category and by_category[category] > 0:
            assert row["forecast_low"] <= by_category[category] <= row["forecast_high"], category


def test_the_backtest_is_scored_against_the_seasonal_naive_forecast_counted_by_hand(demo_warehouse):
    daily = demo_warehouse.execute(DAILY_SQL).df()
    demo = daily[daily["city"] == "demo_city"]
    days = complete_days(demo["day"])
    frame = forecasts(demo_warehouse).groupby("service_category").first()
    for category, row in frame.iterrows():
        series = demo[demo["service_category"] == category]
        counts = series.set_index(pd.to_datetime(series["day"]))["calls"].reindex(days, fill_value=0).to_numpy()
        train, test = counts[: -BACKTEST_WEEKS * 7], counts[-BACKTEST_WEEKS * 7 :]
        last_week = train[-7:].sum()  # every day as on the same weekday of the last week seen
        naive = np.mean([abs(last_week - test[7 * w : 7 * w + 7].sum()) for w in range(BACKTEST_WEEKS)])
        assert row["seasonal_naive_mae"] == pytest.approx(naive, abs=1e-9), category
        assert bool(row["beats_seasonal_naive"]) == (row["backtest_mae"] < row["seasonal_naive_mae"])
    # the model beats the baseline in most categories; where it does not the mart says so per row
    assert frame["beats_seasonal_naive"].mean() >= 0.7


@pytest.mark.pure
def test_a_weekly_pattern_is_learned_and_a_short_series_is_refused():
    rng = np.random.default_rng(3)
    days = pd.date_range("2025-01-06", periods=7 * 30, freq="D")  # Mondays to Sundays, 30 weeks
    rate = np.tile([10, 10, 10, 10, 30, 40, 20], 30)  # busy weekends: 130 calls a week
    counts = pd.Series(rng.poisson(rate), index=days)
    result = forecast_daily(counts)
    assert result is not None
    # Tolerance from the sampling error: a week's total is Poisson(130), sd sqrt(130) = 11.4; the
    # mean of 30 weeks has standard error sqrt(130 / 30) = 2.1. Smoothing weighs recent weeks more,
    # so the forecast's error is wider: over seeds 0-199 of this very series its sd was 2.65
    # (about 18 weeks' worth, mean error +0.04). Three of those: 8 calls.
    assert result.weeks["forecast"].iloc[0] == pytest.approx(130, abs=3 * 2.65)
    assert (result.weeks["low"] < 130).all() and (result.weeks["high"] > 130).all()
    # the next 13 weeks, each named by its Monday
    expected_weeks = pd.date_range(days[-1] + pd.Timedelta(days=1), periods=HORIZON_WEEKS, freq="7D")
    assert list(result.weeks["week_start"]) == list(expected_weeks)
    # The 95 % interval of a week's total, from the sampling error: Poisson(130) gives a width of
    # 2 x 1.96 x sqrt(130) = 44.7; 500 simulated paths place its ends within about 10 %, and the
    # level's own uncertainty widens it a little. So between 0.7 and 1.3 times 44.7. A model that
    # does not learn the weekly season takes the weekday pattern for noise: about 115 wide.
    width = result.weeks["high"] - result.weeks["low"]
    assert width.between(0.7 * 2 * 1.96 * math.sqrt(130), 1.3 * 2 * 1.96 * math.sqrt(130)).all(), width.tolist()
    # The backtest: the last 8 weeks held out. The seasonal-naive forecast, counted by hand: each
    # held-out week forecast as the last week seen. The model's error on a week is about the sd of
    # a week's total (11.4, mean absolute 9.1): under three of those.
    held_out = counts.iloc[-BACKTEST_WEEKS * 7 :].to_numpy().reshape(BACKTEST_WEEKS, 7).sum(axis=1)
    last_seen = counts.iloc[-(BACKTEST_WEEKS + 1) * 7 : -BACKTEST_WEEKS * 7].sum()
    assert result.naive_mae == pytest.approx(np.mean(np.abs(last_seen - held_out)), abs=1e-9)
    assert 0 < result.backtest_mae < 3 * math.sqrt(130)
    assert forecast_daily(counts.iloc[: 7 * 11]) is None  # 11 weeks: too short, and said so in the mart
    assert forecast_daily(counts.iloc[: 7 * 12]) is not None  # 12 weeks: enough
    assert result.method.startswith("ETS(A,N,A), weekly season")  # the mart names the model it used
    # the same series and seed give the same intervals (the mart is reproducible)
    again = forecast_daily(counts)
    assert again.weeks[["low", "high"]].equals(result.weeks[["low", "high"]])


@pytest.mark.pure
def test_intervals_are_drawn_from_the_end_of_the_series_and_never_below_zero():
    rng = np.random.default_rng(5)
    days = pd.date_range("2025-01-06", periods=7 * 30, freq="D")
    # the level doubles halfway: simulated paths must start where the series ends (260 a week)
    rate = np.tile([10, 10, 10, 10, 30, 40, 20], 30) * np.repeat([1, 2], 7 * 15)
    result = forecast_daily(pd.Series(rng.poisson(rate), index=days))
    weeks = result.weeks
    assert ((weeks["low"] < weeks["forecast"]) & (weeks["forecast"] < weeks["high"])).all()
    assert weeks["low"].iloc[0] > 130, "paths drawn from the start of the series (130 a week)"
    # after a change of level the model trusts recent weeks: the interval widens week by week
    width = weeks["high"] - weeks["low"]
    assert width.iloc[-1] > 1.5 * width.iloc[0]
    assert weeks["high"].iloc[-1] > weeks["high"].iloc[0] and weeks["low"].iloc[-1] < weeks["low"].iloc[0]
    # a city with almost no calls of a kind: the interval's lower end is zero calls, not below
    sparse = pd.Series(rng.poisson(0.05, 7 * 20), index=pd.date_range("2025-01-06", periods=7 * 20, freq="D"))
    assert (forecast_daily(sparse).weeks["low"] == 0).all()
