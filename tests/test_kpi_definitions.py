"""Definitions that decide a verdict, recomputed by hand from the landed files and the taxonomy seed
(pandas, no project SQL): cost per call from the public (and per CAD event beside it) and the share
of calls from the public an alternative responder could take, for the demo city and Milwaukee.

A call from the public is a call not officer-initiated: the city's own flag where its extract has
one (the demo city's self_initiated), else the call type's flag in seeds/call_type_taxonomy.csv
(Milwaukee), so a change to either flows into both KPIs.
"""

from __future__ import annotations

import pandas as pd
import pytest

from orchestration.settings import PROJECT_ROOT
from tests.conftest import MILWAUKEE_FILE

TAXONOMY = pd.read_csv(PROJECT_ROOT / "seeds" / "call_type_taxonomy.csv")


def classify(calls: pd.DataFrame, profile: str, city_flag: pd.Series | None) -> pd.DataFrame:
    taxonomy = TAXONOMY[TAXONOMY["source_profile"] == profile].set_index("call_type")
    types = calls["call_type"].str.strip().str.upper()
    by_type = types.map(taxonomy["is_officer_initiated"].astype(str).str.lower().eq("true"))
    officer = city_flag if city_flag is not None else by_type.fillna(False).astype(bool)
    eligible = types.map(taxonomy["alternative_responder"]).fillna("none").ne("none")
    frame = pd.DataFrame({"from_public": ~officer.astype(bool), "eligible": eligible, "received": calls["received"]})
    # a unit's status (return to station, out of service: Milwaukee's RETURN STATION ...) is not a call
    return frame[types.map(taxonomy["service_category"]).ne("unit_status").to_numpy()]


@pytest.fixture(scope="module")
def demo_calls(demo_city):
    settings, _, _ = demo_city
    files = sorted((settings.demo_dir / "calls_for_service").glob("*.csv"))
    raw = pd.concat((pd.read_csv(f, dtype=str) for f in files), ignore_index=True)
    calls = raw.rename(columns={"final_type": "call_type", "time_received": "received"})
    return classify(calls, "demo_city_calls", raw["self_initiated"].eq("Y")).assign(
        month=lambda f: f["received"].str[:7]
    )


@pytest.fixture(scope="module")
def milwaukee_calls():
    raw = pd.read_csv(MILWAUKEE_FILE, dtype=str)
    calls = raw.rename(columns={"nature": "call_type", "time": "received"})
    return classify(calls, "milwaukee_cfs", None).assign(month=lambda f: f["received"].str[:7])


def scorecard(con, city: str, kpi: str) -> pd.DataFrame:
    return con.execute(
        "SELECT period, value, value_low, value_high, status, base_count, note FROM marts.mart_kpi_scorecard "
        "WHERE city = ? AND kpi = ? ORDER BY period",
        [city, kpi],
    ).df()


def test_cost_per_call_is_per_call_from_the_public_with_per_cad_event_beside_it(demo_warehouse, demo_city, demo_calls):
    settings, _, _ = demo_city
    budget = pd.read_csv(settings.demo_dir / "budget.csv")
    police_2025 = budget[(budget["fiscal_year"] == 2025) & (budget["service_area"] == "police")]["actual_spend"].sum()
    days = demo_calls["received"].str[:10].nunique()
    coverage = days / 365
    from_public = int(demo_calls["from_public"].sum())
    by_hand = police_2025 * coverage / from_public
    per_event = police_2025 * coverage / len(demo_calls)
    assert 0.6 < from_public / len(demo_calls) < 0.8, "the demo plants 30 % officer-initiated calls"
    row = demo_warehouse.execute(
        "SELECT cost_per_call_from_public, cost_per_cad_event, call_coverage, community_calls_served "
        "FROM marts.mart_budget_performance WHERE city = 'demo_city' AND fiscal_year = 2025 "
        "AND service_area = 'police' AND program = 'all'"
    ).fetchone()
    assert row == pytest.approx((by_hand, per_event, coverage, from_public), rel=1e-9)
    kpi = scorecard(demo_warehouse, "demo_city", "cost_per_call")
    assert kpi["value"].tolist() == pytest.approx([by_hand], rel=1e-9)
    assert kpi.loc[0, "base_count"] == from_public
    assert "per CAD event" in kpi.loc[0, "note"]
    # Per CAD event the demo city reads far cheaper: officers' own events share the cost.
    assert per_event < 0.8 * by_hand


def test_alternative_share_is_of_calls_from_the_public(demo_warehouse, demo_calls, milwaukee_calls):
    for city, calls in (("demo_city", demo_calls), ("milwaukee", milwaukee_calls)):
        public = calls[calls["from_public"]]
        by_hand = public.groupby("month")["eligible"].mean()
        kpi = scorecard(demo_warehouse, city, "alternative_eligible_share").set_index("period")
        assert kpi.index.tolist() == by_hand.index.tolist(), city
        assert kpi["value"].to_numpy() == pytest.approx(by_hand.to_numpy(), rel=1e-12), city
        assert (kpi["base_count"].to_numpy() == public.groupby("month").size().to_numpy()).all(), city
        # and it differs from the share of every CAD event, the definition it replaces
        of_all_events = calls.groupby("month")["eligible"].mean()
        assert (abs(kpi["value"].to_numpy() - of_all_events.to_numpy()) > 0.01).all(), city


def test_months_say_how_much_of_them_the_extract_covers_and_compare_per_day(demo_warehouse, demo_calls,
                                                                           milwaukee_calls):  # fmt: skip
    """Milwaukee's file holds part of May 2018 only: counted by hand from the file, its days with
    records, coverage and calls per day; the demo city covers every day of every month, February
    in 28 days."""
    coverage = demo_warehouse.execute(
        "SELECT source_profile, strftime(call_month, '%Y-%m'), calls, days_with_records, days_in_month, "
        "month_coverage, is_partial_month, calls_per_day FROM marts.mart_classification_coverage "
        "WHERE source_profile IN ('milwaukee_cfs', 'demo_city_calls') ORDER BY 1, 2"
    ).fetchall()
    milwaukee = [r for r in coverage if r[0] == "milwaukee_cfs"]
    days = pd.read_csv(MILWAUKEE_FILE, dtype=str)["time"].str[:10].nunique()
    assert days < 31
    assert [r[1:] for r in milwaukee] == [
        ("2018-05", len(milwaukee_calls), days, 31, pytest.approx(days / 31), True,
         pytest.approx(len(milwaukee_calls) / days))
    ]  # fmt: skip
    demo = [r for r in coverage if r[0] == "demo_city_calls"]
    assert len(demo) == 12 and all(r[6] is False and r[5] == 1 for r in demo)
    february = next(r for r in demo if r[1].endswith("-02"))
    assert february[4] == 28
    by_hand = demo_calls.groupby("month").size()
    assert february[7] == pytest.approx(by_hand[february[1]] / 28)
