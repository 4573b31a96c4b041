"""Alert when a run fails for any reason other than a quality gate (which alerts by itself, with
its counts and sample): a refused extract, a dbt error, a check that crashed, a lost process."""

from __future__ import annotations

from dagster import DefaultSensorStatus, RunFailureSensorContext, SensorDefinition, SkipReason, run_failure_sensor

from orchestration.automation.alerts import Alert, AlertConfig, send_alert
from orchestration.automation.config import AutomationConfig

# The error Dagster raises in a step whose blocking check failed: the gate has alerted already.
GATE_FAILURE = "DagsterAssetCheckFailedError"


def _chain(error) -> str:
    """An error's message and the messages of its causes (a resource that could not start says why there)."""
    message = error.message.strip()
    cause = error.cause
    while cause is not None:
        message += f" <- {cause.cls_name}: {cause.message.strip()}"
        cause = cause.cause
    return message[:2000]


def run_failure_alert(context: RunFailureSensorContext, config: AlertConfig) -> Alert | None:
    """The alert for a failed run, or None when only gates failed (they sent their own)."""
    run = context.dagster_run
    steps = context.get_step_failure_events()
    failures = []
    for event in steps:
        data = event.event_specific_data
        error = data.error
        # a raised Failure carries its details as metadata (e.g. landing names the refused files)
        user = getattr(data, "user_failure_data", None)
        details = {k: str(getattr(v, "value", v))[:2000] for k, v in (user.metadata if user else {}).items()}
        failures.append(
            {
                "step": event.step_key,
                "error": error.cls_name if error else None,
                "message": _chain(error) if error else (event.message or "")[:2000],
                "details": details,
            }
        )
    if failures and all(f["error"] == GATE_FAILURE for f in failures):
        return None
    run_error = getattr(context.failure_event.event_specific_data, "error", None)
    if not failures and run_error is not None:  # the run failed before any step (a resource could not start)
        failures.append(
            {"step": "(before any step)", "error": run_error.cls_name, "message": _chain(run_error), "details": {}}
        )
    assets = sorted({k.to_user_string() for k in (run.asset_selection or [])})
    return Alert(
        event="run_failed",
        title=f"Run failed: {run.job_name} ({run.run_id[:8]})",
        summary=(
            f"{len(failures)} step(s) failed"
            + (f": {', '.join(f['step'] for f in failures)}" if failures else "")
            + f". {context.failure_event.message or ''}".rstrip()
        ),
        run_id=run.run_id,
        run_url=config.run_url(run.run_id),
        job=run.job_name,
        counts={"failed_steps": len(failures), "selected_assets": len(assets) or None},
        failures=failures,
    )


def build_run_failure_alerts(config: AutomationConfig) -> SensorDefinition:
    @run_failure_sensor(
        name="alert_on_run_failure",
        default_status=DefaultSensorStatus.RUNNING if config.running_by_default else DefaultSensorStatus.STOPPED,
        description="Sends a failed run to the configured alert channels (PSW_ALERT_*; off when none is set).",
    )
    def alert_on_run_failure(context: RunFailureSensorContext):
        alert_config = AlertConfig.from_env()
        if not alert_config.channels:
            return SkipReason("no alert channel configured (PSW_ALERT_WEBHOOK_URL, PSW_ALERT_SLACK_WEBHOOK_URL, ...)")
        alert = run_failure_alert(context, alert_config)
        if alert is None:
            return SkipReason("only quality gates failed; each gate sent its own alert")
        for d in send_alert(alert, alert_config):
            (context.log.info if d.ok else context.log.warning)(f"alert via {d.channel}: {d.detail}")
        return None

    return alert_on_run_failure
