"""Automation settings: the daily refresh, the landing sensor and the sources' freshness windows.

Its variables are listed, with their defaults, in the README's Configuration tables (the one list);
they are read and checked in ``orchestration/settings.py``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from orchestration.settings import ConfigError, Environment, read_environment

# a setting that cannot be used, naming the environment variable (the one error of every setting)
AutomationConfigError = ConfigError


@dataclass(frozen=True)
class AutomationConfig:
    refresh_cron: str = "0 5 * * *"
    refresh_timezone: str = "America/Chicago"
    running_by_default: bool = True
    landing_sensor_interval: int = 60
    landing_settle_seconds: float = 30.0
    freshness_warn_hours: float = 26.0
    freshness_fail_hours: float = 48.0

    @classmethod
    def from_environment(cls, env: Environment) -> AutomationConfig:
        return cls(
            refresh_cron=env.refresh_cron,  # checked when the schedule is built
            refresh_timezone=env.refresh_timezone,
            running_by_default=env.automation_default == "running",
            landing_sensor_interval=env.landing_sensor_interval,
            landing_settle_seconds=env.landing_settle_seconds,
            freshness_warn_hours=env.freshness_warn_hours,
            freshness_fail_hours=env.freshness_fail_hours,
        )

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> AutomationConfig:
        return cls.from_environment(read_environment(env))
