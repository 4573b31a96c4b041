"""KPI drift (issue: from "what happened" to "what if"): a response-time drift planted in the demo
city is found in its own series, and nowhere else; the check alerts a local webhook once when the
drift starts, not again on the next refresh; the demo city without a plant has no drift at all."""

from __future__ import annotations

import pytest

from orchestration.demo_city.generator import ResponseDrift, generate

from .conftest import make_settings, run_pipeline
from .test_alerts_support import free_port, http_receiver  # noqa: F401 (fixtures)

DRIFT = ResponseDrift(district="3", priority=2, from_month=12, factor=3.0)


def drifting(con) -> list[tuple]:
    """The series drifting in their latest judged week."""
    return con.execute(
        """
        SELECT kpi, priority, district, service_category, position
        FROM marts.mart_kpi_drift
        QUALIFY row_number() OVER (
            PARTITION BY city, kpi, priority, district, service_category ORDER BY received_week DESC
        ) = 1 AND is_drifting
        ORDER BY ALL
        """
    ).fetchall()


def test_the_demo_city_without_a_plant_drifts_nowhere(demo_warehouse):
    judged, drifts = demo_warehouse.execute(
        "SELECT count(*) FILTER (WHERE position <> 'no baseline'), count(*) FILTER (WHERE is_drifting) "
        "FROM marts.mart_kpi_drift"
    ).fetchone()
    assert judged > 1000  # weeks x series set against a baseline
    assert drifts == 0


def test_the_baseline_is_the_level_before_the_weeks_just_gone(demo_warehouse):
    """Recomputed by hand for one series: the mean of the 12 judged weeks before the previous 3."""
    rows = demo_warehouse.execute(
        "SELECT received_week, kpi_value, baseline_mean, baseline_weeks FROM marts.mart_kpi_drift "
        "WHERE city = 'demo_city' AND kpi = 'calls_from_public' AND service_category = 'traffic' ORDER BY 1"
    ).fetchall()
    assert len(rows) > 40
    values = [r[1] for r in rows]
    for i, (_week, _value, mean, weeks) in enumerate(rows):
        window = values[max(0, i - 15) : max(0, i - 3)]
        assert weeks == len(window)
        if window:
            assert mean == pytest.approx(sum(window) / len(window), rel=1e-12)


@pytest.fixture(scope="module")
def drifted_city(tmp_path_factory, http_receiver):  # noqa: F811
    import os

    root = tmp_path_factory.mktemp("drifted_city")
    settings = make_settings(root)
    generate(settings.demo_dir, settings.demo_scale, settings.demo_seed, progress=lambda _m: None, drift=DRIFT)
    before = os.environ.get("PSW_ALERT_WEBHOOK_URL")
    os.environ["PSW_ALERT_WEBHOOK_URL"] = http_receiver.url("/drift")
    try:
        first = run_pipeline(settings)
        second = run_pipeline(settings)  # nothing new: the drift goes on, no new alert
    finally:
        if before is None:
            os.environ.pop("PSW_ALERT_WEBHOOK_URL", None)
        else:
            os.environ["PSW_ALERT_WEBHOOK_URL"] = before
    assert first.success and second.success
    return settings, first, second


def test_a_planted_drift_is_found_in_its_own_series(drifted_city):
    import duckdb

    settings, _, _ = drifted_city
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        found = drifting(con)
    assert ("median_response_minutes", "2", "3", "all", "above") in found
    # nothing else drifts but the same calls seen city-wide (priority 2, all districts)
    assert set(found) <= {
        ("median_response_minutes", "2", "3", "all", "above"),
        ("median_response_minutes", "2", "all", "all", "above"),
    }


def test_the_drift_is_alerted_once_to_the_webhook(drifted_city, http_receiver):  # noqa: F811
    _, first, second = drifted_city
    alerts = [a for a in http_receiver.bodies("/drift") if a["event"] == "kpi_drift"]
    assert [a["run_id"] for a in alerts] == [first.run_id]  # the second refresh does not repeat it
    (alert,) = alerts
    assert alert["severity"] == "DRIFT" and alert["asset"] == "marts/mart_kpi_drift"
    assert any("priority 2, district 3 has been above its usual range" in f["expectation"] for f in alert["failures"])
