"""Performance marts (response times, community trust, budget, scorecard) against values computed
independently from the staged data with pandas, against what the demo city planted, and the
small-cell rule in every public mart."""

from __future__ import annotations

import csv
import json
import math

import numpy as np
import pandas as pd
import pytest

from orchestration.report.config import dbt_vars
from orchestration.settings import DBT_PROJECT_DIR, PROJECT_ROOT

VARS = dbt_vars()
MIN_CELL = int(VARS["min_cell_count"])
MIN_RESPONDENTS = int(VARS["min_survey_respondents"])
PUBLIC_MARTS = ("mart_response_times", "mart_community_trust", "mart_budget_performance", "mart_kpi_scorecard")


@pytest.fixture(scope="module")
def staged_calls(demo_warehouse) -> pd.DataFrame:
    """Demo-city calls from staging with their intervals, computed here (not read from any model)."""
    calls = demo_warehouse.execute(
        """
        SELECT call_key, officer_initiated_flag, priority, beat, received_at_local,
               received_at_utc, dispatched_at_utc, arrived_at_utc
        FROM staging.stg_calls_for_service WHERE source_profile = 'demo_city_calls'
        """
    ).df()
    calls = calls[~calls["officer_initiated_flag"].astype(bool)].copy()
    calls["month"] = calls["received_at_local"].dt.strftime("%Y-%m")
    on_scene = (calls["arrived_at_utc"] - calls["received_at_utc"]).dt.total_seconds() / 60
    dispatch = (calls["dispatched_at_utc"] - calls["received_at_utc"]).dt.total_seconds() / 60
    calls["on_scene"] = on_scene.where((on_scene >= 0) & (on_scene <= 720))
    calls["dispatch"] = dispatch.where((dispatch >= 0) & (dispatch <= 720))
    with (PROJECT_ROOT / "seeds" / "response_time_targets.csv").open() as f:
        targets = {r["priority"]: float(r["target_minutes"]) for r in csv.DictReader(f)}
    calls["target"] = calls["priority"].map(targets)
    return calls


def mart_cell(con, month: str, priority: str, area: str) -> dict:
    cursor = con.execute(
        """
        SELECT * FROM marts.mart_response_times
        WHERE source_profile = 'demo_city_calls' AND strftime(call_month, '%Y-%m') = ? AND priority = ? AND area_id = ?
        """,
        [month, priority, area],
    )
    names = [d[0] for d in cursor.description]
    rows = cursor.fetchall()
    assert len(rows) == 1, (month, priority, area, rows)
    return dict(zip(names, rows[0], strict=True))


def test_response_time_cells_match_pandas_on_staging(demo_warehouse, staged_calls):
    # The busiest month x priority x beat, a mid-sized one, and the city-wide rows.
    sizes = staged_calls.groupby(["month", "priority", "beat"]).size().sort_values()
    published = sizes[sizes >= MIN_CELL]
    cells = [
        published.index[-1],
        published.index[len(published) // 2],
        ("2025-06", "1", "all"),
        ("2025-06", "all", "all"),
    ]
    for month, priority, beat in cells:
        sel = staged_calls["month"] == month
        if priority != "all":
            sel &= staged_calls["priority"] == priority
        if beat != "all":
            sel &= staged_calls["beat"] == beat
        expected = staged_calls[sel]
        timed = expected["on_scene"].dropna()
        row = mart_cell(demo_warehouse, month, priority, beat)
        assert row["calls"] == len(expected), (month, priority, beat)
        assert row["calls_timed"] == len(timed)
        assert row["median_received_to_on_scene_minutes"] == pytest.approx(timed.median(), abs=1e-6)
        assert row["p90_received_to_on_scene_minutes"] == pytest.approx(timed.quantile(0.9), abs=1e-6)
        assert row["median_received_to_dispatch_minutes"] == pytest.approx(expected["dispatch"].median(), abs=1e-6)
        within = (timed <= expected.loc[timed.index, "target"]).mean()
        assert row["share_within_target"] == pytest.approx(within, abs=1e-9)


def test_response_times_recover_the_planted_dispatch_delays(demo_warehouse):
    # The generator draws dispatch delays from exponentials with means 1.5 / 4 / 12 / 25 minutes
    # (P1..P4): their medians are mean x ln 2. Monthly medians are averaged over the year.
    # Tolerance, from the sampling error: the median of n exponential(mu) draws has standard error
    # 1 / (2 f(m) sqrt(n)) with f(m) = 1 / (2 mu), that is mu / sqrt(n); the mean of M monthly
    # medians has mu sqrt(sum 1/n_m) / M, with n_m the month's calls timed to the scene (a few
    # fewer than those with a dispatch time, so the error is if anything overstated). Delays are
    # floored to whole seconds, which moves a median down by less than 1 s. So: within 3 standard
    # errors plus 1/60 minute.
    planted = {"1": 1.5, "2": 4.0, "3": 12.0, "4": 25.0}
    measured = {
        priority: (mean, months, inverse_n)
        for priority, mean, months, inverse_n in demo_warehouse.execute(
            """
            SELECT priority, avg(median_received_to_dispatch_minutes), count(*), sum(1.0 / calls_timed)
            FROM marts.mart_response_times
            WHERE source_profile = 'demo_city_calls' AND area_id = 'all' AND priority <> 'all'
              AND calls_timed > 0
            GROUP BY 1
            """
        ).fetchall()
    }
    for priority, mu in planted.items():
        mean, months, inverse_n = measured[priority]
        standard_error = mu * math.sqrt(inverse_n) / months
        assert abs(mean - mu * math.log(2)) <= 3 * standard_error + 1 / 60, (priority, mean, standard_error)


def test_milwaukee_response_times_are_not_available_never_zero(demo_warehouse):
    rows = demo_warehouse.execute(
        """
        SELECT response_times_available, publication_status, calls, calls_timed,
               median_received_to_on_scene_minutes, p90_received_to_on_scene_minutes,
               median_received_to_dispatch_minutes, share_within_target
        FROM marts.mart_response_times WHERE source_profile = 'milwaukee_cfs'
        """
    ).fetchall()
    assert rows, "Milwaukee's calls have rows (with their counts) in mart_response_times"
    for available, status, _calls, timed, *stats in rows:
        assert available is False
        assert timed is None and all(s is None for s in stats)
        assert status.startswith("not available") or status.startswith("suppressed")
    assert any(calls is not None and calls > 1000 for _, _, calls, *_ in rows)
    # The scorecard has no response-time row for Milwaukee (the report lists them as not available),
    # while the KPIs its calls can give are there.
    kpis = {
        k
        for (k,) in demo_warehouse.execute(
            "SELECT DISTINCT kpi FROM marts.mart_kpi_scorecard WHERE city = 'milwaukee'"
        ).fetchall()
    }
    assert kpis == {"unclassified_call_share", "alternative_eligible_share"}


def weighted(frame: pd.DataFrame, item: str) -> tuple[float, float]:
    """Weighted mean and 95 % margin (Kish effective n), computed here from the responses."""
    f = frame.dropna(subset=[item])
    w, x = f["weight"].to_numpy(), f[item].to_numpy(dtype=float)
    mean = np.sum(w * x) / np.sum(w)
    variance = np.sum(w * (x - mean) ** 2) / np.sum(w)
    n_eff = np.sum(w) ** 2 / np.sum(w**2)
    return mean, 1.96 * math.sqrt(variance / n_eff)


def test_community_trust_matches_weighted_means_from_staging(demo_warehouse, demo_truth):
    responses = demo_warehouse.execute(
        "SELECT wave, beat, weight, feel_safe_day, feel_safe_night, trust_police, police_treat_fairly "
        "FROM staging.stg_survey_responses WHERE source_profile = 'demo_city_survey'"
    ).df()
    mart = demo_warehouse.execute(
        "SELECT * FROM marts.mart_community_trust WHERE source_profile = 'demo_city_survey'"
    ).df()
    counts = responses.groupby(["wave", "beat"]).size()
    big_beat = counts.idxmax()
    for wave, area in [(w, "all") for w in sorted(responses["wave"].unique())] + [big_beat]:
        subset = responses[responses["wave"] == wave]
        if area != "all":
            subset = subset[subset["beat"] == area]
        row = mart[(mart["wave"] == wave) & (mart["area_id"] == area)].iloc[0]
        assert row["respondents"] == len(subset)
        for item in ("feel_safe_day", "feel_safe_night", "trust_police", "police_treat_fairly"):
            mean, moe = weighted(subset, item)
            assert row[f"mean_{item}"] == pytest.approx(mean, abs=1e-9), (wave, area, item)
            assert row[f"moe_{item}"] == pytest.approx(moe, abs=1e-9), (wave, area, item)
    # The planted trust means (3.1 then 3.4) come back, and so does the rise between waves, each
    # within three of its own standard errors: the mart's 95 % margin is 1.96 standard errors.
    # At the test's scale that is about 0.13 a wave (0.12 was once set by eye); it follows the
    # respondents now.
    city = mart[mart["area_id"] == "all"].set_index("wave")
    for wave, planted in demo_truth["planted"]["survey_trust_police_mean"].items():
        se = city.loc[wave, "moe_trust_police"] / 1.96
        assert abs(city.loc[wave, "mean_trust_police"] - planted) <= 3 * se, wave
    se_change = math.hypot(city.loc["2025-W1", "moe_trust_police"], city.loc["2025-W2", "moe_trust_police"]) / 1.96
    assert abs(city.loc["2025-W2", "change_trust_police"] - 0.3) <= 3 * se_change
    assert city.loc["2025-W2", "trust_change_exceeds_margin"]


def test_budget_performance_matches_staging(demo_warehouse, demo_truth):
    budget = demo_warehouse.execute("SELECT fiscal_year, service_area, budgeted, actual FROM staging.stg_budget").df()
    mart = demo_warehouse.execute("SELECT * FROM marts.mart_budget_performance WHERE city = 'demo_city'").df()
    for fy, lines in budget.groupby("fiscal_year"):
        total = mart[(mart["fiscal_year"] == fy) & (mart["row_level"] == "public_safety")].iloc[0]
        assert total["actual"] == pytest.approx(lines["actual"].sum())
        alternatives = lines[lines["service_area"].isin(["alternative_response", "community_programs"])]["actual"].sum()
        assert total["alternatives_share_of_actual"] == pytest.approx(alternatives / lines["actual"].sum())
    police = mart[(mart["fiscal_year"] == 2025) & (mart["service_area"] == "police") & (mart["program"] == "all")].iloc[
        0
    ]
    calls_2025 = demo_truth["rows"]["calls_for_service"]  # the demo city's calls all fall in calendar 2025
    police_actual = budget[(budget["fiscal_year"] == 2025) & (budget["service_area"] == "police")]["actual"].sum()
    assert police["calls_served"] == calls_2025
    assert police["cost_per_call"] == pytest.approx(police_actual / calls_2025)
    # No calls are loaded for FY2024: cost per call there is missing, never zero.
    fy2024 = mart[(mart["fiscal_year"] == 2024) & (mart["service_area"] == "police") & (mart["program"] == "all")]
    assert fy2024["cost_per_call"].isna().all()


def test_scorecard_has_a_value_or_a_reason_for_every_kpi_and_period(demo_warehouse):
    score = demo_warehouse.execute("SELECT * FROM marts.mart_kpi_scorecard").df()
    with (PROJECT_ROOT / "seeds" / "kpi_targets.csv").open() as f:
        targets = {r["kpi"]: r for r in csv.DictReader(f) if r["city"] == "all"}
    demo = score[score["city"] == "demo_city"]
    months = {
        m.strftime("%Y-%m")
        for (m,) in demo_warehouse.execute(
            "SELECT DISTINCT call_month FROM marts.mart_service_demand WHERE source_profile = 'demo_city_calls'"
        ).fetchall()
    }
    for kpi in (
        "untethered_contact_share",
        "median_response_minutes",
        "p90_response_minutes",
        "share_within_response_target",
        "unclassified_call_share",
        "alternative_eligible_share",
    ):
        assert set(demo[demo["kpi"] == kpi]["period"]) == months, kpi
    assert set(demo[demo["kpi"] == "trust_police_score"]["period"]) == {"2025-W1", "2025-W2"}
    # FY2024 has a budget but no calls loaded: no cost per call (never zero), so the fiscal year is
    # left out of the scorecard whole (every KPI has a value for every published period).
    assert set(demo[demo["kpi"] == "cost_per_call"]["period"]) == {"FY2025"}
    assert set(demo[demo["kpi"] == "alternatives_spending_share"]["period"]) == {"FY2025"}
    for (_city, _grain), group in score.groupby(["city", "period_grain"]):
        periods = set(group["period"])
        for kpi, rows in group.groupby("kpi"):
            assert set(rows["period"]) == periods, (kpi, periods - set(rows["period"]))
    for row in score.itertuples():
        target = targets[row.kpi]
        assert row.direction == target["direction"] and row.target == pytest.approx(float(target["target"]))
        if pd.isna(row.value):
            assert row.status == "no data" and isinstance(row.note, str) and row.note, row
            continue
        # on or off track only when the whole 95 % interval clears the target; else within the margin
        low = row.value if pd.isna(row.value_low) else row.value_low
        high = row.value if pd.isna(row.value_high) else row.value_high
        assert low <= row.value <= high, row
        on = low >= row.target if row.direction == "higher" else high <= row.target
        off = high < row.target if row.direction == "higher" else low > row.target
        assert row.status == ("on track" if on else "off track" if off else "within the margin"), row
    # change from prior: the value minus the previous period's value of the same KPI
    trust = demo[demo["kpi"] == "trust_police_score"].sort_values("period_start")
    assert trust.iloc[1]["change_from_prior"] == pytest.approx(trust.iloc[1]["value"] - trust.iloc[0]["value"])
    # the scorecard's share within target is the mart's city-wide row, month by month
    joined = demo_warehouse.execute(
        """
        SELECT s.value, r.share_within_target FROM marts.mart_kpi_scorecard s
        JOIN marts.mart_response_times r
          ON r.city = s.city AND strftime(r.call_month, '%Y-%m') = s.period AND r.priority = 'all' AND r.area_id = 'all'
        WHERE s.kpi = 'share_within_response_target' AND s.city = 'demo_city'
        """
    ).fetchall()
    assert len(joined) == len(months) and all(a == pytest.approx(b) for a, b in joined)


def test_untethered_contact_share_matches_the_staged_stops(demo_warehouse):
    # Counted here from staging: stops with a known outcome that ended in a warning or nothing
    # and found no contraband, per local month.
    stops = demo_warehouse.execute(
        "SELECT stopped_at_local, outcome, contraband_found FROM staging.stg_stops "
        "WHERE source_profile = 'demo_city_stops'"
    ).df()
    known = stops[stops["outcome"].isin(["arrest", "citation", "summons", "warning", "none"])].copy()
    known["untethered"] = known["outcome"].isin(["warning", "none"]) & ~known["contraband_found"].fillna(False).astype(
        bool
    )
    expected = known.groupby(known["stopped_at_local"].dt.strftime("%Y-%m"))["untethered"].mean()
    score = dict(
        demo_warehouse.execute(
            "SELECT period, value FROM marts.mart_kpi_scorecard "
            "WHERE city = 'demo_city' AND kpi = 'untethered_contact_share'"
        ).fetchall()
    )
    assert set(score) == set(expected.index)
    for month, share in expected.items():
        assert score[month] == pytest.approx(share, abs=1e-9), month


def small_cell_columns() -> dict[str, list[str]]:
    """The count columns each public mart marks with meta small_cell_count (dbt docs)."""
    manifest = json.loads((DBT_PROJECT_DIR / "target" / "manifest.json").read_text())
    found = {}
    for node in manifest["nodes"].values():
        if node["resource_type"] == "model" and node["name"] in PUBLIC_MARTS:
            found[node["name"]] = [c for c, d in node["columns"].items() if d.get("meta", {}).get("small_cell_count")]
    return found


def test_public_marts_never_publish_a_small_count(demo_warehouse):
    columns = small_cell_columns()
    assert set(columns) == set(PUBLIC_MARTS) and all(columns.values()), columns
    for mart, cols in columns.items():
        threshold = MIN_RESPONDENTS if mart == "mart_community_trust" else MIN_CELL
        for col in cols:
            bad = demo_warehouse.execute(
                f"SELECT count(*) FROM marts.{mart} WHERE {col} > 0 AND {col} < ?", [threshold]
            ).fetchone()[0]
            assert bad == 0, f"marts.{mart}.{col}: {bad} rows below {threshold}"


def test_every_small_cell_of_the_staged_data_is_suppressed(demo_warehouse, staged_calls):
    # Cells that are small in the staged data (counted here) show no count and no statistic.
    sizes = staged_calls.groupby(["month", "priority", "beat"]).size()
    small = sizes[sizes < MIN_CELL]
    assert len(small) > 0, "the demo city at test scale has small response-time cells to suppress"
    mart = (
        demo_warehouse.execute(
            """
        SELECT strftime(call_month, '%Y-%m') AS month, priority, area_id AS beat, calls, calls_timed,
               median_received_to_on_scene_minutes AS median, p90_received_to_on_scene_minutes AS p90,
               share_within_target, is_suppressed
        FROM marts.mart_response_times WHERE source_profile = 'demo_city_calls'
        """
        )
        .df()
        .set_index(["month", "priority", "beat"])
    )
    for key in small.index:
        row = mart.loc[key]
        assert row["is_suppressed"] and pd.isna(row["calls"]) and pd.isna(row["median"]) and pd.isna(row["p90"]), key
        assert pd.isna(row["share_within_target"]) and pd.isna(row["calls_timed"]), key
    timed = staged_calls.dropna(subset=["on_scene"]).groupby(["month", "priority", "beat"]).size()
    big = [k for k, n in sizes.items() if n >= MIN_CELL and timed.get(k, 0) >= MIN_CELL]
    assert big and not mart.loc[big]["calls"].isna().any() and not mart.loc[big]["median"].isna().any()
    few_timed = [k for k, n in sizes.items() if n >= MIN_CELL and 0 < timed.get(k, 0) < MIN_CELL]
    assert mart.loc[few_timed]["calls"].isna().all(), "a cell with few timed calls publishes no count either"

    respondents = demo_warehouse.execute(
        "SELECT wave, beat, count(*) AS n FROM staging.stg_survey_responses GROUP BY ALL"
    ).df()
    trust = demo_warehouse.execute("SELECT * FROM marts.mart_community_trust").df().set_index(["wave", "area_id"])
    few = respondents[respondents["n"] < MIN_RESPONDENTS]
    assert len(few) > 0, "the demo survey at test scale has beats below the respondent threshold"
    for r in few.itertuples():
        row = trust.loc[(r.wave, r.beat)]
        assert row["is_suppressed"] and pd.isna(row["respondents"]) and pd.isna(row["mean_trust_police"])
        assert pd.isna(row["moe_trust_police"]) and pd.isna(row["change_trust_police"])
