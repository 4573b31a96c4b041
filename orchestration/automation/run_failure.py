"""The run-status sensors of the one alert path (``run_alerts.py``): after a run ends, failed or
not, its recorded alerts (gates, refused files) and its failure, if any, are sent."""

from __future__ import annotations

from dagster import (
    DagsterRunStatus,
    DefaultSensorStatus,
    RunStatusSensorContext,
    SensorDefinition,
    SkipReason,
    run_status_sensor,
)

from orchestration.automation.alerts import AlertConfig
from orchestration.automation.config import AutomationConfig
from orchestration.automation.run_alerts import SENT_BY_TAG, deliver_run_alerts


def alert_after_run(context: RunStatusSensorContext) -> SkipReason | None:
    """What both sensors do: send the run's alerts, or say why nothing was sent."""
    run = context.dagster_run
    if run.tags.get(SENT_BY_TAG) == "cli":
        return SkipReason(f"run {run.run_id[:8]} sent its own alerts (the CLI)")
    config = AlertConfig.from_env()
    if not config.channels:
        return SkipReason("no alert channel configured (PSW_ALERT_WEBHOOK_URL, PSW_ALERT_SLACK_WEBHOOK_URL, ...)")
    sent = deliver_run_alerts(context.instance, run, config)
    if not sent:
        return SkipReason(f"run {run.run_id[:8]} called for no alert")
    for s in sent:
        for d in s.deliveries:
            (context.log.info if d.ok else context.log.warning)(f"{s.alert.event} via {d.channel}: {d.detail}")
    return None


def build_run_failure_alerts(config: AutomationConfig) -> list[SensorDefinition]:
    """Two sensors, one per end of a run, doing the same thing."""
    status = DefaultSensorStatus.RUNNING if config.running_by_default else DefaultSensorStatus.STOPPED
    sensors = []
    for name, run_status, what in (
        ("alert_on_run_failure", DagsterRunStatus.FAILURE, "a failed run: its failed steps"),
        ("alert_on_run_success", DagsterRunStatus.SUCCESS, "a run that finished"),
    ):
        sensors.append(
            run_status_sensor(
                run_status=run_status,
                name=name,
                default_status=status,
                description=(
                    f"Sends {what}, and what its gates held or warned of and the files it refused, to the "
                    "configured alert channels (PSW_ALERT_*; off when none is set)."
                ),
                monitor_all_code_locations=False,
            )(alert_after_run)
        )
    return sensors
