"""Automation: the daily schedule and the landing sensor target the refresh job; the sensor, evaluated
against a real landing folder, requests one run per new extract and never twice for the same file;
the raw sources carry freshness policies."""

from __future__ import annotations

import json
import os
import time
from datetime import timedelta
from pathlib import Path

import pytest
from dagster import AssetKey, DefaultScheduleStatus, DefaultSensorStatus, SensorResult, build_sensor_context

from orchestration.automation.config import AutomationConfig, AutomationConfigError
from orchestration.automation.landing_sensor import build_landing_sensor
from orchestration.automation.schedule import build_daily_refresh
from orchestration.definitions import defs
from orchestration.landing.canonical import CANONICAL_SOURCES
from orchestration.resources import LandingResource

from .conftest import PROFILES_DIR

CALLS_HEADER = (
    "incident_number,call_source,self_initiated,initial_type,final_type,final_type_desc,priority,time_received,"
    "time_dispatched,time_enroute,time_arrived,time_cleared,disposition,beat,district,lat,lon,block,units\n"
)


def test_the_daily_schedule_refreshes_the_whole_warehouse():
    schedule = next(s for s in defs.schedules if s.name == "daily_refresh")
    assert schedule.job_name == "refresh_warehouse"
    assert schedule.cron_schedule == "0 5 * * *" and schedule.execution_timezone == "America/Chicago"
    job = defs.resolve_job_def(schedule.job_name)
    assert job.asset_layer.selected_asset_keys == set(defs.resolve_asset_graph().get_all_asset_keys())


def test_the_schedule_takes_its_cron_and_time_zone_from_the_environment():
    config = AutomationConfig.from_env(
        {
            "PSW_REFRESH_CRON": "30 6 * * 1-5",
            "PSW_REFRESH_TIMEZONE": "Europe/Paris",
            "PSW_AUTOMATION_DEFAULT": "stopped",
        }
    )
    schedule = build_daily_refresh(config)
    assert (schedule.cron_schedule, schedule.execution_timezone) == ("30 6 * * 1-5", "Europe/Paris")
    assert schedule.default_status == DefaultScheduleStatus.STOPPED
    assert build_daily_refresh(AutomationConfig.from_env({})).default_status == DefaultScheduleStatus.RUNNING


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"PSW_REFRESH_TIMEZONE": "Chicago"}, "PSW_REFRESH_TIMEZONE"),
        ({"PSW_AUTOMATION_DEFAULT": "sometimes"}, "PSW_AUTOMATION_DEFAULT"),
        ({"PSW_FRESHNESS_WARN_HOURS": "50"}, "PSW_FRESHNESS_WARN_HOURS"),
    ],
)
def test_a_bad_setting_is_refused_naming_the_variable(env, named):
    with pytest.raises(AutomationConfigError, match=named):
        AutomationConfig.from_env(env)


def test_a_bad_cron_is_refused_naming_the_variable():
    with pytest.raises(AutomationConfigError, match="PSW_REFRESH_CRON='61 5 \\* \\* \\*'"):
        build_daily_refresh(AutomationConfig.from_env({"PSW_REFRESH_CRON": "61 5 * * *"}))


def test_the_sensors_are_registered_with_their_targets():
    sensors = {s.name: s for s in defs.sensors}
    sensor = sensors["new_extract_sensor"]
    assert sensor.job_name == "refresh_warehouse"
    assert sensor.default_status == DefaultSensorStatus.RUNNING
    assert sensors["alert_on_run_failure"].default_status == DefaultSensorStatus.RUNNING


def test_every_raw_source_has_a_freshness_policy():
    graph = defs.resolve_asset_graph()
    for key in [AssetKey(["raw", s]) for s in CANONICAL_SOURCES] + [AssetKey(["raw", "quarantine"])]:
        policy = graph.get(key).freshness_policy
        assert policy is not None, key
        assert policy.fail_window.to_timedelta() == timedelta(hours=48)
        assert policy.warn_window.to_timedelta() == timedelta(hours=26)
    assert graph.get(AssetKey(["staging", "stg_calls_for_service"])).freshness_policy is None


# ---------------------------------------------------------------------------------------------
# the landing sensor


def write_extract(path: Path, rows: int = 1, age_seconds: float = 120) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    row = "C{i},911,N,NOISE,NOISE,X,3,2025-05-01T10:00:00,,,,,ADVISED,1A,1,41.81,-87.79,100 BLOCK MAIN ST,1\n"
    path.write_text(CALLS_HEADER + "".join(row.format(i=i) for i in range(rows)))
    settled = time.time() - age_seconds
    os.utime(path, (settled, settled))
    return path


class SensorHarness:
    """Evaluates the sensor the way the daemon does: each tick starts from the cursor the last one left."""

    def __init__(self, landing_dir: Path, settle_seconds: float = 30):
        self.sensor = build_landing_sensor(AutomationConfig(landing_settle_seconds=settle_seconds))
        self.landing = LandingResource(landing_dir=str(landing_dir), profiles_dir=str(PROFILES_DIR))
        self.cursor: str | None = None

    def tick(self) -> SensorResult:
        context = build_sensor_context(cursor=self.cursor, resources={"landing": self.landing})
        result = self.sensor(context)
        assert isinstance(result, SensorResult)
        self.cursor = result.cursor
        return result


@pytest.fixture
def landing(tmp_path) -> Path:
    return tmp_path / "landing"


def test_a_new_extract_requests_one_run_and_only_once(landing):
    harness = SensorHarness(landing)
    assert harness.tick().run_requests == []  # an empty landing folder

    write_extract(landing / "demo_city" / "calls_for_service" / "calls_for_service_2025-05.csv")
    (request,) = harness.tick().run_requests
    assert request.tags["psw/trigger"] == "new_extract"
    assert request.tags["psw/new_files"] == "demo_city/calls_for_service/calls_for_service_2025-05.csv"
    assert request.tags["psw/sources"] == "calls_for_service"
    assert request.job_name in (None, "refresh_warehouse")  # the sensor's own target job

    again = harness.tick()
    assert again.run_requests == [] and "no new extract" in again.skip_reason.skip_message
    assert harness.tick().run_requests == []


def test_only_the_new_file_is_requested_next_to_files_seen_before(landing):
    harness = SensorHarness(landing)
    write_extract(landing / "demo_city" / "calls_for_service" / "calls_for_service_2025-05.csv")
    first = harness.tick().run_requests[0]
    write_extract(landing / "demo_city" / "calls_for_service" / "calls_for_service_2025-06.csv")
    (second,) = harness.tick().run_requests
    assert second.tags["psw/new_files"] == "demo_city/calls_for_service/calls_for_service_2025-06.csv"
    assert second.run_key != first.run_key
    assert json.loads(harness.cursor)["files"].keys() == {
        "demo_city/calls_for_service/calls_for_service_2025-05.csv",
        "demo_city/calls_for_service/calls_for_service_2025-06.csv",
    }


def test_a_replaced_file_is_requested_again(landing):
    harness = SensorHarness(landing)
    path = write_extract(landing / "demo_city" / "calls_for_service" / "calls_for_service_2025-05.csv")
    harness.tick()
    write_extract(path, rows=3)  # the city re-sent the month with corrections
    (request,) = harness.tick().run_requests
    assert request.tags["psw/new_files"] == "demo_city/calls_for_service/calls_for_service_2025-05.csv"


def test_a_file_that_left_the_folder_leaves_the_cursor(landing):
    harness = SensorHarness(landing)
    path = write_extract(landing / "demo_city" / "calls_for_service" / "calls_for_service_2025-05.csv")
    harness.tick()
    path.unlink()
    assert harness.tick().run_requests == [] and json.loads(harness.cursor)["files"] == {}


def test_a_file_no_profile_reads_is_ignored(landing):
    harness = SensorHarness(landing)
    (landing / "notes").mkdir(parents=True)
    (landing / "notes" / "readme.txt").write_text("not an extract")
    write_extract(landing / "somewhere_else" / "calls.csv")
    assert harness.tick().run_requests == []


def test_a_file_still_being_written_waits_for_the_next_tick(landing):
    harness = SensorHarness(landing, settle_seconds=30)
    path = write_extract(landing / "demo_city" / "calls_for_service" / "calls_for_service_2025-05.csv", age_seconds=0)
    assert harness.tick().run_requests == []
    settled = time.time() - 60
    os.utime(path, (settled, settled))
    (request,) = harness.tick().run_requests
    assert request.tags["psw/new_file_count"] == "1"


def test_several_new_files_at_one_tick_make_one_run(landing):
    """One writer at a time: all files new at a tick go into one run, not runs side by side."""
    harness = SensorHarness(landing)
    for month in range(1, 8):
        write_extract(landing / "demo_city" / "calls_for_service" / f"calls_for_service_2025-{month:02d}.csv")
    (request,) = harness.tick().run_requests
    assert request.tags["psw/new_file_count"] == "7"
    assert request.tags["psw/new_files"].endswith("and 2 more")


def test_a_file_the_ledger_knows_requests_no_run(tmp_path):
    """A lost cursor (a new daemon) or a file touched again: the ledger already has that content
    (here refused: no profile column for the call type), so no run is started to land nothing."""
    import duckdb

    from orchestration.landing.loader import file_sha256
    from orchestration.ledger.landing import record_refusal

    landing_dir = tmp_path / "landing"
    known = write_extract(landing_dir / "demo_city" / "calls_for_service" / "calls_for_service_2025-05.csv")
    warehouse = tmp_path / "warehouse.duckdb"
    con = duckdb.connect(str(warehouse))
    record_refusal(con, f"demo_city_calls:{file_sha256(known)[:16]}", "refused", "x", "why", None)
    con.close()
    harness = SensorHarness(landing_dir)
    harness.landing = LandingResource(
        landing_dir=str(landing_dir), profiles_dir=str(PROFILES_DIR), warehouse_path=str(warehouse)
    )
    assert harness.tick().run_requests == []  # known content: no run, though the cursor was empty
    write_extract(landing_dir / "demo_city" / "calls_for_service" / "calls_for_service_2025-06.csv", rows=2)
    (request,) = harness.tick().run_requests  # a new content is requested as before
    assert request.tags["psw/new_files"] == "demo_city/calls_for_service/calls_for_service_2025-06.csv"


def test_the_run_queue_takes_one_refresh_at_a_time(tmp_path, monkeypatch):
    from dagster import DagsterInstance

    from orchestration.instance import ensure_dagster_yaml

    ensure_dagster_yaml(tmp_path)
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path))
    with DagsterInstance.get() as instance:
        assert instance.get_concurrency_config().run_queue_config.max_concurrent_runs == 1
        assert not instance.telemetry_enabled


def test_the_run_summary_counts_a_warning_apart_from_a_failure():
    from dagster import AssetCheckEvaluation, AssetCheckSeverity, AssetKey

    from orchestration.run_summary import count_checks

    def check(name, passed, severity=AssetCheckSeverity.ERROR):
        return AssetCheckEvaluation(
            asset_key=AssetKey(["marts", "m"]), check_name=name, passed=passed, severity=severity
        )

    evaluations = [
        check("marts_to_serving_gate", True),
        check("marts_to_serving_gate", False, AssetCheckSeverity.WARN),
        check("raw_to_staging_gate", False),
        check("not_null_x", False, AssetCheckSeverity.WARN),
    ]
    assert dict(count_checks(evaluations)) == {"gates": [1, 1, 1], "dbt tests": [0, 0, 1]}
