"""Automation settings, read from the environment when the definitions load.

Its variables are listed, with their defaults, in the README's Configuration tables (the one list).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


class AutomationConfigError(ValueError):
    """A setting that cannot be used, naming the environment variable."""


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
    def from_env(cls, env: Mapping[str, str] | None = None) -> AutomationConfig:
        env = os.environ if env is None else env
        cron = env.get("PSW_REFRESH_CRON") or cls.refresh_cron  # checked when the schedule is built
        tz = env.get("PSW_REFRESH_TIMEZONE") or cls.refresh_timezone
        try:
            ZoneInfo(tz)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise AutomationConfigError(f"PSW_REFRESH_TIMEZONE={tz!r} is not an IANA time zone name") from exc
        default = (env.get("PSW_AUTOMATION_DEFAULT") or "running").strip().lower()
        if default not in ("running", "stopped"):
            raise AutomationConfigError(f"PSW_AUTOMATION_DEFAULT={default!r} must be 'running' or 'stopped'")
        warn = float(env.get("PSW_FRESHNESS_WARN_HOURS") or cls.freshness_warn_hours)
        fail = float(env.get("PSW_FRESHNESS_FAIL_HOURS") or cls.freshness_fail_hours)
        if not 0 < warn < fail:
            raise AutomationConfigError(
                f"PSW_FRESHNESS_WARN_HOURS ({warn}) must be positive and below PSW_FRESHNESS_FAIL_HOURS ({fail})"
            )
        return cls(
            refresh_cron=cron,
            refresh_timezone=tz,
            running_by_default=default == "running",
            landing_sensor_interval=int(env.get("PSW_LANDING_SENSOR_INTERVAL") or cls.landing_sensor_interval),
            landing_settle_seconds=float(env.get("PSW_LANDING_SETTLE_SECONDS") or cls.landing_settle_seconds),
            freshness_warn_hours=warn,
            freshness_fail_hours=fail,
        )
