"""The daily refresh: the whole ``refresh_warehouse`` job at a cron and time zone from the environment."""

from __future__ import annotations

from dagster import DagsterInvalidDefinitionError, DefaultScheduleStatus, ScheduleDefinition

from orchestration.automation.config import AutomationConfig, AutomationConfigError

REFRESH_JOB = "refresh_warehouse"


def build_daily_refresh(config: AutomationConfig) -> ScheduleDefinition:
    try:
        return ScheduleDefinition(
            name="daily_refresh",
            job_name=REFRESH_JOB,
            cron_schedule=config.refresh_cron,
            execution_timezone=config.refresh_timezone,
            default_status=(
                DefaultScheduleStatus.RUNNING if config.running_by_default else DefaultScheduleStatus.STOPPED
            ),
            tags={"psw/trigger": "schedule"},
            description=(
                f"Refresh the warehouse ({config.refresh_cron}, {config.refresh_timezone}): land new extracts, "
                "gate them, build and test every model, gate the marts, publish. "
                "Set PSW_REFRESH_CRON / PSW_REFRESH_TIMEZONE to change it."
            ),
        )
    except DagsterInvalidDefinitionError as exc:
        raise AutomationConfigError(f"PSW_REFRESH_CRON={config.refresh_cron!r}: {exc}") from exc
