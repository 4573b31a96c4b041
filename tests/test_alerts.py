"""Alerts: a gate or a run that fails reaches a real webhook, Slack-style webhook and SMTP server on
127.0.0.1, with what failed, where, the counts and the link to the run; nothing is sent when no
channel is configured, and a channel that is down does not stop the others."""

from __future__ import annotations

import json

import pytest
from dagster import DagsterEventType, DagsterInstance, SkipReason, build_run_status_sensor_context

from orchestration.automation.alerts import Alert, AlertConfig, send_alert
from orchestration.automation.config import AutomationConfig
from orchestration.automation.run_alerts import execute_with_alerts
from orchestration.automation.run_failure import build_run_failure_alerts

from .conftest import make_settings
from .test_alerts_support import free_port, http_receiver, smtp_receiver  # noqa: F401 (fixtures)
from .test_gates import SMALL, city_with, gates, small_city, unknown_outcome  # noqa: F401 (fixture)

ALERT_ENV = (
    "PSW_ALERT_WEBHOOK_URL",
    "PSW_ALERT_WEBHOOK_TOKEN",
    "PSW_ALERT_SLACK_WEBHOOK_URL",
    "PSW_ALERT_SMTP_HOST",
    "PSW_ALERT_SMTP_PORT",
    "PSW_ALERT_SMTP_FROM",
    "PSW_ALERT_SMTP_TO",
    "PSW_ALERT_ON_WARN",
    "PSW_DAGSTER_BASE_URL",
)


@pytest.fixture
def clean_env(monkeypatch):
    for name in ALERT_ENV:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def sample_alert() -> Alert:
    return Alert(
        event="gate_failed",
        title="Quality gate failed: raw/stops (raw_to_staging_gate, ERROR)",
        summary="1 of 12 expectations of suite raw_to_staging.stops failed.",
        run_id="0123abcd-run",
        run_url="http://dagster.example:3000/runs/0123abcd-run",
        asset="raw/stops",
        check="raw_to_staging_gate",
        severity="ERROR",
        counts={"expectations_evaluated": 12, "expectations_failed": 1, "unexpected_rows": 4},
        failures=[
            {
                "expectation": "expect_column_values_to_be_in_set(outcome)",
                "unexpected_count": 4,
                "considered": 13,
                "files": ["demo_city/stops/stops_2025-09.csv"],
                "sample": [{"stop_id": "S202509000000", "outcome": "jailed"}],
            }
        ],
    )


def test_alerts_are_off_when_nothing_is_configured():
    config = AlertConfig.from_env({})
    assert config.channels == []
    assert send_alert(sample_alert(), config) == []


def test_each_channel_is_on_when_its_variables_are_set():
    env = {
        "PSW_ALERT_WEBHOOK_URL": "http://127.0.0.1:9/hook",
        "PSW_ALERT_SLACK_WEBHOOK_URL": "http://127.0.0.1:9/slack",
        "PSW_ALERT_SMTP_HOST": "127.0.0.1",
    }
    assert AlertConfig.from_env(env).channels == ["webhook", "slack"]  # e-mail needs recipients too
    env["PSW_ALERT_SMTP_TO"] = "a@example.org, b@example.org"
    config = AlertConfig.from_env(env)
    assert config.channels == ["webhook", "slack", "email"] and config.smtp_to == ("a@example.org", "b@example.org")


def test_the_webhook_gets_the_alert_as_json_with_the_bearer_token(http_receiver):  # noqa: F811
    config = AlertConfig.from_env(
        {"PSW_ALERT_WEBHOOK_URL": http_receiver.url("/hook"), "PSW_ALERT_WEBHOOK_TOKEN": "s3"}
    )
    (delivery,) = send_alert(sample_alert(), config)
    assert delivery.ok and delivery.channel == "webhook"
    received = [r for r in http_receiver.received if r.path == "/hook"][-1]
    assert received.headers["Authorization"] == "Bearer s3"
    assert received.headers["Content-Type"] == "application/json"
    body = received.body
    assert body["source"] == "public-safety-warehouse" and body["event"] == "gate_failed"
    assert body["asset"] == "raw/stops" and body["check"] == "raw_to_staging_gate"
    assert body["run_url"] == "http://dagster.example:3000/runs/0123abcd-run"
    assert body["counts"]["unexpected_rows"] == 4
    assert body["failures"][0]["sample"] == [{"stop_id": "S202509000000", "outcome": "jailed"}]


def test_slack_gets_a_text_and_blocks_with_the_link_to_the_run(http_receiver):  # noqa: F811
    config = AlertConfig.from_env({"PSW_ALERT_SLACK_WEBHOOK_URL": http_receiver.url("/slack")})
    (delivery,) = send_alert(sample_alert(), config)
    assert delivery.ok
    body = [r.body for r in http_receiver.received if r.path == "/slack"][-1]
    assert body["text"] == "Quality gate failed: raw/stops (raw_to_staging_gate, ERROR)"
    text = json.dumps(body["blocks"])
    assert "expect_column_values_to_be_in_set(outcome): 4 unexpected of 13" in text
    assert "<http://dagster.example:3000/runs/0123abcd-run|Open the run>" in text


def test_email_reaches_a_real_smtp_server(smtp_receiver):  # noqa: F811
    env = {
        "PSW_ALERT_SMTP_HOST": smtp_receiver.host,
        "PSW_ALERT_SMTP_PORT": str(smtp_receiver.port),
        "PSW_ALERT_SMTP_FROM": "warehouse@city.example",
        "PSW_ALERT_SMTP_TO": "oncall@city.example,data@city.example",
    }
    before = len(smtp_receiver.mails)
    (delivery,) = send_alert(sample_alert(), AlertConfig.from_env(env))
    assert delivery.ok and delivery.channel == "email"
    mail = smtp_receiver.mails[before]
    assert mail.mail_from == "warehouse@city.example"
    assert mail.rcpt_tos == ["oncall@city.example", "data@city.example"]
    assert (
        mail.message["Subject"]
        == "[public-safety-warehouse] Quality gate failed: raw/stops (raw_to_staging_gate, ERROR)"
    )
    assert "Run: http://dagster.example:3000/runs/0123abcd-run" in mail.body
    assert "expect_column_values_to_be_in_set(outcome): 4 unexpected of 13" in mail.body
    assert '"asset": "raw/stops"' in mail.body  # the JSON details ride along


def test_a_channel_that_is_down_does_not_stop_the_others(http_receiver, smtp_receiver):  # noqa: F811
    http_receiver.status_for_path["/broken-slack"] = 500
    env = {
        "PSW_ALERT_WEBHOOK_URL": f"http://127.0.0.1:{free_port()}/nobody-listens",
        "PSW_ALERT_SLACK_WEBHOOK_URL": http_receiver.url("/broken-slack"),
        "PSW_ALERT_SMTP_HOST": smtp_receiver.host,
        "PSW_ALERT_SMTP_PORT": str(smtp_receiver.port),
        "PSW_ALERT_SMTP_TO": "oncall@city.example",
        "PSW_ALERT_TIMEOUT_SECONDS": "5",
    }
    before = len(smtp_receiver.mails)
    deliveries = {d.channel: d for d in send_alert(sample_alert(), AlertConfig.from_env(env))}
    assert not deliveries["webhook"].ok and "URLError" in deliveries["webhook"].detail
    assert not deliveries["slack"].ok and "500" in deliveries["slack"].detail
    assert deliveries["email"].ok and len(smtp_receiver.mails) == before + 1


def test_a_gate_failure_reaches_the_webhook_slack_and_email(
    small_city,  # noqa: F811
    tmp_path,
    clean_env,
    http_receiver,  # noqa: F811
    smtp_receiver,  # noqa: F811
):
    clean_env.setenv("PSW_ALERT_WEBHOOK_URL", http_receiver.url("/all-hook"))
    clean_env.setenv("PSW_ALERT_SLACK_WEBHOOK_URL", http_receiver.url("/all-slack"))
    clean_env.setenv("PSW_ALERT_SMTP_HOST", smtp_receiver.host)
    clean_env.setenv("PSW_ALERT_SMTP_PORT", str(smtp_receiver.port))
    clean_env.setenv("PSW_ALERT_SMTP_TO", "oncall@city.example")
    settings = city_with(small_city, tmp_path, ["stops"])
    unknown_outcome(settings.demo_dir)
    before = len(smtp_receiver.mails)

    result, instance, sent = run_with_instance(settings)
    instance.dispose()

    # the gate recorded its alert; the one alert path sent it after the run, to every channel
    assert gates(result)["raw/stops"].metadata["alert"].value["event"] == "gate_held"
    (held,) = sent
    assert held.alert.event == "gate_held"
    assert {d.channel: d.ok for d in held.deliveries} == {"webhook": True, "slack": True, "email": True}
    (hook,) = http_receiver.bodies("/all-hook", run_id=result.run_id)
    assert hook["asset"] == "raw/stops" and hook["failures"][0]["unexpected_count"] == 4
    (slack,) = [
        r.body for r in http_receiver.received if r.path == "/all-slack" and result.run_id in json.dumps(r.body)
    ]
    assert slack["text"].startswith("Quality gate on raw/stops held 1 file(s): demo_city/stops/")
    (mail,) = smtp_receiver.mails[before:]
    assert "raw/stops" in mail.message["Subject"] and "jailed" in mail.body and result.run_id in mail.body


# ---------------------------------------------------------------------------------------------
# run failures


def run_with_instance(settings, instance: DagsterInstance | None = None, cli: bool = True):
    """Run the refresh job; returns (result, instance, sent) - the instance stays open for the
    sensors. ``cli``: as the CLI runs it (its alerts sent right after it); otherwise as a run the
    daemon would see (nothing sent until a sensor is evaluated)."""
    from orchestration.definitions import build_definitions

    instance = instance or DagsterInstance.ephemeral()
    job = build_definitions(settings).resolve_job_def("refresh_warehouse")
    quiet = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}
    if cli:
        result, sent = execute_with_alerts(job, instance, raise_on_error=False, run_config=quiet)
        return result, instance, sent
    return job.execute_in_process(instance=instance, raise_on_error=False, run_config=quiet), instance, []


def evaluate_sensor(result, instance):
    """The sensor for the run's end, evaluated as the daemon would."""
    failure, success = build_run_failure_alerts(AutomationConfig())
    sensor = success if result.success else failure
    kind = DagsterEventType.RUN_SUCCESS if result.success else DagsterEventType.RUN_FAILURE
    event = next(e for e in result.all_events if e.event_type == kind)
    context = build_run_status_sensor_context(
        sensor_name=sensor.name, dagster_event=event, dagster_instance=instance, dagster_run=result.dagster_run
    )
    return sensor(context.for_run_failure() if not result.success else context)


@pytest.fixture
def another_refresh(tmp_path):
    """Another process holding the warehouse's refresh lock, as a refresh started elsewhere would."""
    import subprocess
    import sys
    import time

    from orchestration.ledger.lock import lock_path

    settings = make_settings(tmp_path, scale=SMALL)
    settings.warehouse_path.parent.mkdir(parents=True, exist_ok=True)
    code = (
        "import sys, time; from orchestration.ledger.lock import refresh_lock\n"
        f"with refresh_lock({str(settings.warehouse_path)!r}, 'a test refresh'):\n"
        "    print('held', flush=True); time.sleep(120)\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "held"
    assert lock_path(settings.warehouse_path).exists()
    time.sleep(0.1)
    yield settings, proc
    proc.kill()
    proc.wait()


def test_a_failed_run_is_alerted_with_its_failed_step_and_the_link(another_refresh, clean_env, http_receiver):  # noqa: F811
    clean_env.setenv("PSW_ALERT_WEBHOOK_URL", http_receiver.url("/runs"))
    settings, holder = another_refresh

    # another refresh holds the warehouse: this run fails (run as the UI or the schedule would)
    result, instance, sent = run_with_instance(settings, cli=False)
    try:
        assert not result.success and sent == []
        assert evaluate_sensor(result, instance) is None  # the sensor sent it
    finally:
        instance.dispose()

    (alert,) = http_receiver.bodies("/runs", run_id=result.run_id)
    assert alert["event"] == "run_failed" and alert["job"] == "refresh_warehouse"
    assert alert["run_url"] == f"http://127.0.0.1:3000/runs/{result.run_id}"
    assert alert["failures"]  # the step that could not start, and why
    assert any(f"pid {holder.pid} (a test refresh)" in f["message"] for f in alert["failures"])


def test_a_refused_file_is_alerted_once_from_the_run_itself(tmp_path, clean_env, http_receiver):  # noqa: F811
    """No daemon, no sensor: a CLI run alerts about a file it refused, once, and goes on."""
    clean_env.setenv("PSW_ALERT_WEBHOOK_URL", http_receiver.url("/refused"))
    settings = make_settings(tmp_path, scale=SMALL)
    calls = settings.demo_dir / "calls_for_service"
    calls.mkdir(parents=True)
    # the call-type column is missing: landing refuses the file
    (calls / "calls_for_service_2025-01.csv").write_text("incident_number,time_received\nC1,2025-01-01T10:00:00\n")

    first = run_with_instance(settings)[0]
    second = run_with_instance(settings)[0]

    assert first.success and second.success  # a refused file holds back nothing else
    (alert,) = [a for a in http_receiver.bodies("/refused") if a["event"] == "files_not_landed"]  # once, not twice
    assert alert["event"] == "files_not_landed" and alert["run_id"] == first.run_id
    (failure,) = alert["failures"]
    assert failure["step"] == "demo_city/calls_for_service/calls_for_service_2025-01.csv"  # which file, and why
    assert "final_type" in failure["message"]


def test_a_held_file_is_alerted_once_by_its_gate_not_again_by_the_run(small_city, tmp_path, clean_env, http_receiver):  # noqa: F811
    clean_env.setenv("PSW_ALERT_WEBHOOK_URL", http_receiver.url("/once"))
    settings = city_with(small_city, tmp_path, ["stops"])
    unknown_outcome(settings.demo_dir)

    result, instance, _ = run_with_instance(settings)
    try:
        assert result.success  # the file is held; the run goes on
        alerts = http_receiver.bodies("/once", run_id=result.run_id)
        assert [a["event"] for a in alerts] == ["gate_held"] and alerts[0]["asset"] == "raw/stops"
        # a daemon watching the same instance leaves a run whose alerts the CLI sent
        skipped = evaluate_sensor(result, instance)
        assert isinstance(skipped, SkipReason) and "sent its own alerts" in skipped.skip_message
        assert len(http_receiver.bodies("/once", run_id=result.run_id)) == 1
    finally:
        instance.dispose()


def test_a_run_the_daemon_sees_has_its_held_file_alerted_by_the_sensor(small_city, tmp_path, clean_env, http_receiver):  # noqa: F811
    """The same alert, by the other caller of the one path: the run-status sensor after a run
    started from the UI or the schedule (nothing is sent from inside the run)."""
    clean_env.setenv("PSW_ALERT_WEBHOOK_URL", http_receiver.url("/daemon"))
    settings = city_with(small_city, tmp_path, ["stops"])
    unknown_outcome(settings.demo_dir)

    result, instance, _ = run_with_instance(settings, cli=False)
    try:
        assert result.success and http_receiver.bodies("/daemon", run_id=result.run_id) == []
        assert evaluate_sensor(result, instance) is None
    finally:
        instance.dispose()
    (alert,) = http_receiver.bodies("/daemon", run_id=result.run_id)
    assert alert["event"] == "gate_held" and alert["failures"][0]["unexpected_count"] == 4


def test_the_run_failure_sensor_is_quiet_when_no_channel_is_configured(another_refresh, clean_env):
    settings, _ = another_refresh
    result, instance, _ = run_with_instance(settings, cli=False)
    try:
        outcome = evaluate_sensor(result, instance)
    finally:
        instance.dispose()
    assert isinstance(outcome, SkipReason) and "no alert channel" in outcome.skip_message
