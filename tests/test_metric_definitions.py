"""Metrics are defined once: the scorecard (marts.mart_kpi_scorecard) defines each KPI and names the
mart column it comes from; the dashboards' headline numbers (marts.mart_kpi_latest) are its latest
complete periods. Checked on the demo city and on the real Milwaukee extract, from the marts
themselves with pandas."""

from __future__ import annotations

import pandas as pd
import pytest

RESPONSE_KPIS = {
    "median_response_minutes": "median_received_to_on_scene_minutes",
    "p90_response_minutes": "p90_received_to_on_scene_minutes",
    "share_within_response_target": "share_within_target",
}


@pytest.fixture(scope="module")
def scorecard(demo_warehouse) -> pd.DataFrame:
    return demo_warehouse.execute("SELECT * FROM marts.mart_kpi_scorecard").df()


def test_the_latest_figures_are_the_scorecards_latest_complete_periods(demo_warehouse, scorecard):
    complete = scorecard[~scorecard["is_partial_period"].fillna(False).astype(bool)]
    want = complete.loc[complete.groupby(["city", "kpi", "period_grain"])["period_start"].idxmax()]
    got = demo_warehouse.execute("SELECT * FROM marts.mart_kpi_latest").df()
    assert set(got["city"]) == set(want["city"]) == {"demo_city"}
    key = ["city", "kpi", "period_grain"]
    merged = want.merge(got, on=key, suffixes=("_card", "_latest"), how="outer", indicator=True)
    assert (merged["_merge"] == "both").all(), merged.loc[merged["_merge"] != "both", key]
    for column in ("period", "value", "value_low", "value_high", "target", "status", "note", "source_column"):
        card, latest = merged[f"{column}_card"], merged[f"{column}_latest"]
        same = (card == latest) | (card.isna() & latest.isna())
        assert same.all(), merged.loc[~same, [*key, f"{column}_card", f"{column}_latest"]]
    # Milwaukee's only month, May 2018, is covered in part: the scorecard has its figures, and
    # none of them is "the latest" a dashboard headlines
    milwaukee = scorecard[scorecard["city"] == "milwaukee"]
    assert len(milwaukee) > 0 and milwaukee["is_partial_period"].all()


@pytest.mark.parametrize(("kpi", "column"), RESPONSE_KPIS.items())
def test_each_response_kpi_is_the_mart_column_it_names(demo_warehouse, scorecard, kpi, column):
    rows = scorecard[(scorecard["kpi"] == kpi) & (scorecard["period_grain"] == "month")]
    assert len(rows) >= 12 and set(rows["source_column"]) == {column}
    assert set(rows["source_mart"]) == {"mart_response_times"}
    mart = demo_warehouse.execute(
        f"SELECT city, call_month, {column} AS mart_value FROM marts.mart_response_times "
        "WHERE priority = 'all' AND area_id = 'all'"
    ).df()
    merged = rows.merge(mart, left_on=["city", "period_start"], right_on=["city", "call_month"], how="left")
    published = merged["value"].notna()
    assert published.sum() >= 12
    assert merged.loc[published, "value"].to_numpy() == pytest.approx(merged.loc[published, "mart_value"].to_numpy())


@pytest.mark.parametrize("city", ["demo_city", "milwaukee"])
def test_the_unclassified_share_is_the_coverage_marts_in_both_cities(demo_warehouse, scorecard, city):
    rows = scorecard[(scorecard["kpi"] == "unclassified_call_share") & (scorecard["city"] == city)]
    assert len(rows) >= 1 and set(rows["source_mart"]) == {"mart_classification_coverage"}
    mart = demo_warehouse.execute(
        "SELECT source_profile, call_month, unclassified_share FROM marts.mart_classification_coverage"
    ).df()
    merged = rows.merge(
        mart, left_on=["source_profile", "period_start"], right_on=["source_profile", "call_month"], how="left"
    )
    assert merged["unclassified_share"].notna().all()
    assert merged["value"].to_numpy() == pytest.approx(merged["unclassified_share"].to_numpy())
