"""Alerts: when a gate or a run fails, tell a person through the channels configured in the environment.

Its variables are listed, with their defaults, in the README's Configuration tables (the one list).

Each channel is off when its variable is unset; with nothing set, alerts are off. Delivery
never raises: a channel that cannot be reached is logged and reported in the check's metadata,
so a broken alert channel never hides the gate's own result.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import logging
import smtplib
import socket
import threading
import time
import urllib.error
import urllib.parse
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from typing import Any

from orchestration.settings import Environment, read_environment

log = logging.getLogger(__name__)
DEFAULT_BASE_URL = "http://127.0.0.1:3000"


@dataclass(frozen=True)
class AlertConfig:
    webhook_url: str | None = None
    webhook_token: str | None = None
    slack_webhook_url: str | None = None
    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_from: str = "psw-alerts@localhost"
    smtp_to: tuple[str, ...] = ()
    smtp_user: str | None = None
    smtp_password: str | None = None
    smtp_starttls: bool = False
    smtp_ssl: bool = False
    alert_on_warn: bool = False
    base_url: str = DEFAULT_BASE_URL
    timeout_seconds: float = 10.0

    @classmethod
    def from_environment(cls, env: Environment) -> AlertConfig:
        return cls(
            webhook_url=env.alert_webhook_url,
            webhook_token=env.alert_webhook_token,
            slack_webhook_url=env.alert_slack_webhook_url,
            smtp_host=env.alert_smtp_host,
            smtp_port=env.alert_smtp_port,
            smtp_from=env.alert_smtp_from,
            smtp_to=tuple(a.strip() for a in env.alert_smtp_to.split(",") if a.strip()),
            smtp_user=env.alert_smtp_user,
            smtp_password=env.alert_smtp_password,
            smtp_starttls=env.alert_smtp_starttls,
            smtp_ssl=env.alert_smtp_ssl,
            alert_on_warn=env.alert_on_warn,
            base_url=env.dagster_base_url.rstrip("/"),
            timeout_seconds=env.alert_timeout_seconds,
        )

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> AlertConfig:
        return cls.from_environment(read_environment(env))

    @property
    def channels(self) -> list[str]:
        """The channels that are switched on."""
        on = []
        if self.webhook_url:
            on.append("webhook")
        if self.slack_webhook_url:
            on.append("slack")
        if self.smtp_host and self.smtp_to:
            on.append("email")
        return on

    def run_url(self, run_id: str | None) -> str | None:
        return f"{self.base_url}/runs/{run_id}" if run_id else None

    def asset_url(self, asset: str | None) -> str | None:
        return f"{self.base_url}/assets/{asset}?view=checks" if asset else None


@dataclass
class Alert:
    """What failed, where, how badly, and where to look. ``to_json`` is the webhook's body."""

    event: str  # gate_failed | run_failed
    title: str
    summary: str
    run_id: str | None = None
    run_url: str | None = None
    job: str | None = None
    asset: str | None = None
    asset_url: str | None = None
    check: str | None = None
    severity: str | None = None
    counts: dict[str, Any] = field(default_factory=dict)
    failures: list[dict[str, Any]] = field(default_factory=list)
    data_docs: str | None = None
    occurred_at: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))

    def to_json(self) -> dict[str, Any]:
        return {"source": "public-safety-warehouse", **asdict(self)}

    def text(self) -> str:
        """Plain text for e-mail and Slack."""
        lines = [self.title, "", self.summary]
        for f in self.failures:
            line = f"- {f.get('expectation') or f.get('step')}"
            if f.get("unexpected_count") is not None:
                line += f": {f['unexpected_count']:,} unexpected"
                if f.get("considered"):
                    line += f" of {f['considered']:,}"
            if f.get("files"):
                line += f" (files: {', '.join(f['files'][:3])})"
            if f.get("message"):
                line += f": {f['message']}"
            lines.append(line)
            for key, value in (f.get("details") or {}).items():
                lines.append(f"    {key}: {value}")
            for row in f.get("sample", [])[:3]:
                lines.append(f"    e.g. {json.dumps(row, default=str)}")
        if self.run_url:
            lines += ["", f"Run: {self.run_url}"]
        if self.asset_url:
            lines.append(f"Asset checks: {self.asset_url}")
        if self.data_docs:
            lines.append(f"Data docs: {self.data_docs}")
        return "\n".join(lines)


@dataclass(frozen=True)
class Delivery:
    channel: str
    ok: bool
    detail: str = ""


def _post_json(url: str, body: dict[str, Any], timeout: float, headers: dict[str, str] | None = None) -> str:
    """POST ``body`` as JSON; ``timeout`` is one deadline for the whole request (connect, send,
    the answer's every byte), not per socket read: an endpoint that trickles a byte a second is
    cut when the deadline passes (a watchdog shuts the socket down)."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"not an http(s) URL: {parts.scheme}://{parts.hostname or ''}")
    deadline = time.monotonic() + timeout
    kind = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    conn = kind(parts.hostname, parts.port, timeout=timeout)
    expired = threading.Event()

    def cut() -> None:
        expired.set()
        sock = conn.sock
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    watchdog = threading.Timer(timeout, cut)
    watchdog.daemon = True
    watchdog.start()
    try:
        conn.connect()
        if expired.is_set():
            raise TimeoutError
        path = parts.path or "/"
        if parts.query:
            path += "?" + parts.query
        payload = json.dumps(body, default=str).encode("utf-8")
        conn.request(
            "POST",
            path,
            body=payload,
            headers={"Content-Type": "application/json", "User-Agent": "psw-alerts", **(headers or {})},
        )
        response = conn.getresponse()
        response.read()
        if expired.is_set() or time.monotonic() > deadline:
            raise TimeoutError
    except (OSError, http.client.HTTPException) as exc:
        if expired.is_set() or isinstance(exc, TimeoutError):
            raise TimeoutError(f"no complete answer within {timeout} s from {parts.hostname}") from None
        raise urllib.error.URLError(exc) from exc
    finally:
        watchdog.cancel()
        conn.close()
    if response.status >= 400:
        raise urllib.error.HTTPError(url, response.status, response.reason, response.headers, None)
    return f"HTTP {response.status}"


def send_webhook(alert: Alert, config: AlertConfig) -> str:
    headers = {"Authorization": f"Bearer {config.webhook_token}"} if config.webhook_token else None
    return _post_json(config.webhook_url, alert.to_json(), config.timeout_seconds, headers)


def slack_message(alert: Alert) -> dict[str, Any]:
    """A Slack incoming-webhook body: a text fallback and blocks with the link to the run."""
    details = alert.text().split("\n", 2)[-1]
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": alert.title[:150]}},
        {"type": "section", "text": {"type": "mrkdwn", "text": details[:2900]}},
    ]
    if alert.run_url:
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": f"<{alert.run_url}|Open the run>"}]})
    return {"text": alert.title, "blocks": blocks}


def send_slack(alert: Alert, config: AlertConfig) -> str:
    return _post_json(config.slack_webhook_url, slack_message(alert), config.timeout_seconds)


def email_message(alert: Alert, config: AlertConfig) -> EmailMessage:
    message = EmailMessage()
    message["Subject"] = f"[public-safety-warehouse] {alert.title}"
    message["From"] = config.smtp_from
    message["To"] = ", ".join(config.smtp_to)
    details = json.dumps(alert.to_json(), indent=2, default=str)
    message.set_content(f"{alert.text()}\n\n-- \nDetails as JSON:\n{details}")
    return message


def send_email(alert: Alert, config: AlertConfig) -> str:
    smtp_class = smtplib.SMTP_SSL if config.smtp_ssl else smtplib.SMTP
    with smtp_class(config.smtp_host, config.smtp_port, timeout=config.timeout_seconds) as smtp:
        if config.smtp_starttls and not config.smtp_ssl:
            smtp.starttls()
        if config.smtp_user:
            smtp.login(config.smtp_user, config.smtp_password or "")
        smtp.send_message(email_message(alert, config))
    return f"sent to {len(config.smtp_to)} recipient(s)"


SENDERS = {"webhook": send_webhook, "slack": send_slack, "email": send_email}


def send_alert(alert: Alert, config: AlertConfig | None = None) -> list[Delivery]:
    """Send to every configured channel; returns what happened on each (never raises)."""
    config = config or AlertConfig.from_env()
    deliveries = []
    for channel in config.channels:
        try:
            deliveries.append(Delivery(channel, True, SENDERS[channel](alert, config)))
        except Exception as exc:  # a broken channel must not hide the failure being reported
            log.warning("alert to %s failed: %s", channel, exc)
            deliveries.append(Delivery(channel, False, f"{type(exc).__name__}: {exc}"))
    return deliveries
