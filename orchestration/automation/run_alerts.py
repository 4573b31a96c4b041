"""The one alert path: after a run, what it recorded is sent to the configured channels.

Nothing sends from inside a step. A gate that held a file or a city, or warned, and landing that
refused a file, put the alert they would send in their own metadata (``alert``); a failed run
adds one alert for its failed steps. ``deliver_run_alerts`` reads these back from the run's
event log and sends them through ``send_alert``. Two callers, one sender:

- the run-status sensors (``alert_on_run_failure``, ``alert_on_run_success``), for runs the
  daemon sees (the UI, the schedule, the landing sensor);
- the CLI (``make run``), right after its own run; it tags that run ``psw/alerts: cli`` so a daemon
  watching the same Dagster home does not send the same alerts again.

Warnings are sent only with ``PSW_ALERT_ON_WARN``; every other recorded alert is sent.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

from dagster import DagsterEventType, DagsterInstance, DagsterRun, DagsterRunStatus, MetadataValue

from orchestration.automation.alerts import Alert, AlertConfig, Delivery, send_alert

ALERT_KEY = "alert"
SENT_BY_TAG = "psw/alerts"  # "cli": the CLI sent this run's alerts itself
_ALERT_FIELDS = {f.name for f in fields(Alert)}


def alert_metadata(alert: Alert) -> dict[str, MetadataValue]:
    """What a step puts in its metadata for the alert to be sent after the run."""
    return {ALERT_KEY: MetadataValue.json(alert.to_json())}


def _alert(value: object) -> Alert | None:
    data = getattr(value, "value", value)
    if not isinstance(data, dict) or "event" not in data:
        return None
    return Alert(**{k: v for k, v in data.items() if k in _ALERT_FIELDS})


def recorded_alerts(instance: DagsterInstance, run_id: str) -> list[Alert]:
    """The alerts the run's gates and landing recorded, in the order they happened."""
    alerts = []
    kinds = {
        DagsterEventType.ASSET_CHECK_EVALUATION,
        DagsterEventType.ASSET_MATERIALIZATION,
        DagsterEventType.ASSET_OBSERVATION,
    }
    for record in instance.all_logs(run_id, of_type=kinds):
        data = record.dagster_event.event_specific_data
        event = getattr(data, "materialization", None) or getattr(data, "asset_observation", None) or data
        alert = _alert((getattr(event, "metadata", None) or {}).get(ALERT_KEY))
        if alert is not None:
            alerts.append(alert)
    return alerts


def _chain(error) -> str:
    """An error's message and the messages of its causes (a resource that could not start says why there)."""
    message = error.message.strip()
    cause = error.cause
    while cause is not None:
        message += f" <- {cause.cls_name}: {cause.message.strip()}"
        cause = cause.cause
    return message[:2000]


def failure_alert(instance: DagsterInstance, run: DagsterRun, config: AlertConfig) -> Alert | None:
    """The alert for a failed run: each failed step and why (None when the run did not fail)."""
    if run.status != DagsterRunStatus.FAILURE:
        return None
    failures = []
    for record in instance.all_logs(run.run_id, of_type=DagsterEventType.STEP_FAILURE):
        event = record.dagster_event
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
    run_failures = instance.all_logs(run.run_id, of_type=DagsterEventType.RUN_FAILURE)
    run_event = run_failures[-1].dagster_event if run_failures else None
    run_error = getattr(run_event.event_specific_data, "error", None) if run_event else None
    if not failures and run_error is not None:  # the run failed before any step (a resource could not start)
        failures.append(
            {"step": "(before any step)", "error": run_error.cls_name, "message": _chain(run_error), "details": {}}
        )
    assets = sorted({k.to_user_string() for k in (run.asset_selection or [])})
    message = (run_event.message or "") if run_event else ""
    return Alert(
        event="run_failed",
        title=f"Run failed: {run.job_name} ({run.run_id[:8]})",
        summary=(
            f"{len(failures)} step(s) failed"
            + (f": {', '.join(f['step'] for f in failures)}" if failures else "")
            + f". {message}".rstrip()
        ),
        run_id=run.run_id,
        run_url=config.run_url(run.run_id),
        job=run.job_name,
        counts={"failed_steps": len(failures), "selected_assets": len(assets) or None},
        failures=failures,
    )


def alerts_for_run(instance: DagsterInstance, run: DagsterRun, config: AlertConfig) -> list[Alert]:
    """Every alert the run calls for, with warnings left out unless ``PSW_ALERT_ON_WARN`` is set."""
    alerts = [a for a in recorded_alerts(instance, run.run_id) if a.severity != "WARN" or config.alert_on_warn]
    failed = failure_alert(instance, run, config)
    return alerts + ([failed] if failed else [])


@dataclass(frozen=True)
class SentAlert:
    alert: Alert
    deliveries: list[Delivery]

    def line(self) -> str:
        done = ", ".join(f"{d.channel} {'ok' if d.ok else 'FAILED: ' + d.detail[:80]}" for d in self.deliveries)
        return f"alert   {self.alert.title[:90]} -> {done}"


def deliver_run_alerts(
    instance: DagsterInstance, run: DagsterRun, config: AlertConfig | None = None
) -> list[SentAlert]:
    """Send what the run calls for to every configured channel (none configured: nothing is sent)."""
    config = config or AlertConfig.from_env()
    if not config.channels:
        return []
    return [SentAlert(a, send_alert(a, config)) for a in alerts_for_run(instance, run, config)]


def execute_with_alerts(job, instance: DagsterInstance, config: AlertConfig | None = None, **kwargs):
    """Run a job in this process and send its alerts after it, as the CLI does. The run is tagged
    ``psw/alerts: cli``, so a daemon's sensors watching the same instance leave it. Returns the
    run's result and what was sent."""
    tags = {**(kwargs.pop("tags", None) or {}), SENT_BY_TAG: "cli"}
    result = job.execute_in_process(instance=instance, tags=tags, **kwargs)
    return result, deliver_run_alerts(instance, result.dagster_run, config)
