"""Schedules, sensors and alerts: the daily refresh, a run when a new extract lands, alerts on failure.

Settings come from the environment (see ``config.py`` and ``alerts.py``); docs/quality_gates.md
describes them all.
"""

from dagster import ScheduleDefinition, SensorDefinition

from orchestration.automation.config import AutomationConfig
from orchestration.automation.freshness import with_source_freshness
from orchestration.automation.landing_sensor import build_landing_sensor
from orchestration.automation.run_failure import build_run_failure_alerts
from orchestration.automation.schedule import build_daily_refresh

AUTOMATION = AutomationConfig.from_env()
SCHEDULES: list[ScheduleDefinition] = [build_daily_refresh(AUTOMATION)]
SENSORS: list[SensorDefinition] = [build_landing_sensor(AUTOMATION), build_run_failure_alerts(AUTOMATION)]

__all__ = ["AUTOMATION", "SCHEDULES", "SENSORS", "with_source_freshness"]
