"""Schedules, sensors and alerts: the daily refresh, a run when a new extract lands, alerts on failure.

Settings come from the environment, read in ``orchestration/settings.py`` (see ``config.py`` and
``alerts.py``); docs/quality_gates.md describes them all.
"""

from dagster import ScheduleDefinition, SensorDefinition

from orchestration.automation.config import AutomationConfig
from orchestration.automation.freshness import with_source_freshness
from orchestration.automation.landing_sensor import build_landing_sensor
from orchestration.automation.run_failure import build_run_failure_alerts
from orchestration.automation.schedule import build_daily_refresh


def build_schedules(config: AutomationConfig) -> list[ScheduleDefinition]:
    return [build_daily_refresh(config)]


def build_sensors(config: AutomationConfig) -> list[SensorDefinition]:
    return [build_landing_sensor(config), *build_run_failure_alerts(config)]


__all__ = ["AutomationConfig", "build_schedules", "build_sensors", "with_source_freshness"]
