"""E-mail alerts through a real SMTP server (aiosmtpd on 127.0.0.1) that asks for a login, over
STARTTLS and over implicit TLS: PSW_ALERT_SMTP_USER, _PASSWORD, _STARTTLS and _SSL do what the
README says, and a wrong password is a failed delivery, not a silent one."""

from __future__ import annotations

import ssl
import subprocess
from email import message_from_bytes, policy

import pytest

from orchestration.automation.alerts import AlertConfig, send_alert

from .test_alerts import sample_alert
from .test_alerts_support import free_port

USER, PASSWORD = "alerts", "s3cret-for-the-test"
# The plain and implicit-TLS servers offer AUTH without aiosmtpd's STARTTLS rule, on purpose (see start_server).
pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning")


@pytest.fixture(scope="module")
def certificate(tmp_path_factory):
    """A self-signed certificate for 127.0.0.1 (smtplib's default TLS context does not verify)."""
    folder = tmp_path_factory.mktemp("tls")
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=127.0.0.1",
            "-keyout",
            str(folder / "key.pem"),
            "-out",
            str(folder / "cert.pem"),
        ],
        check=True,
        capture_output=True,
    )
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(folder / "cert.pem", folder / "key.pem")
    return context


def start_server(mode: str, tls):
    """An SMTP server that requires a login; ``mode``: plain, starttls or ssl. Returns it, its
    port, the mails it accepted and the logins it saw."""
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult

    mails, logins = [], []

    class Handler:
        async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's naming)
            mails.append(message_from_bytes(envelope.original_content, policy=policy.default))
            return "250 Message accepted for delivery"

    def authenticator(server, session, envelope, mechanism, auth_data):
        logins.append((auth_data.login.decode(), auth_data.password.decode()))
        return AuthResult(success=(auth_data.login.decode(), auth_data.password.decode()) == (USER, PASSWORD))

    port = free_port()
    smtp_options = {"authenticator": authenticator, "auth_required": True, "auth_require_tls": mode == "starttls"}
    if mode == "starttls":
        smtp_options.update(tls_context=tls, require_starttls=True)
    # implicit TLS: aiosmtpd does not count the wrapped socket as TLS for its AUTH rule, so AUTH is
    # offered without that rule; the client still speaks TLS from the first byte
    implicit = {"ssl_context": tls} if mode == "ssl" else {}
    controller = Controller(Handler(), hostname="127.0.0.1", port=port, **implicit, **smtp_options)
    controller.start()
    return controller, port, mails, logins


def env_for(port: int, **extra) -> dict[str, str]:
    return {
        "PSW_ALERT_SMTP_HOST": "127.0.0.1",
        "PSW_ALERT_SMTP_PORT": str(port),
        "PSW_ALERT_SMTP_TO": "oncall@city.example",
        "PSW_ALERT_SMTP_USER": USER,
        "PSW_ALERT_SMTP_PASSWORD": PASSWORD,
        **extra,
    }


@pytest.mark.parametrize(
    "mode, switches",
    [
        ("plain", {}),
        ("starttls", {"PSW_ALERT_SMTP_STARTTLS": "true"}),
        ("ssl", {"PSW_ALERT_SMTP_SSL": "true"}),
    ],
)
def test_email_logs_in_over_the_configured_transport(mode, switches, certificate):
    controller, port, mails, logins = start_server(mode, certificate)
    try:
        config = AlertConfig.from_env(env_for(port, **switches))
        assert (config.smtp_user, config.smtp_starttls, config.smtp_ssl) == (USER, mode == "starttls", mode == "ssl")
        (delivery,) = send_alert(sample_alert(), config)
        assert delivery.ok, delivery.detail
        assert logins == [(USER, PASSWORD)]  # the login the variables name reached the server
        (mail,) = mails
        assert mail["To"] == "oncall@city.example"
    finally:
        controller.stop()


def test_a_wrong_password_or_a_missing_tls_switch_is_a_failed_delivery(certificate):
    controller, port, mails, logins = start_server("starttls", certificate)
    try:
        wrong = AlertConfig.from_env(env_for(port, PSW_ALERT_SMTP_STARTTLS="true", PSW_ALERT_SMTP_PASSWORD="nope"))
        (delivery,) = send_alert(sample_alert(), wrong)
        assert not delivery.ok and delivery.detail  # refused, with the server's words
        assert (USER, "nope") in logins
        no_tls = AlertConfig.from_env(env_for(port))  # the server requires STARTTLS first
        (delivery,) = send_alert(sample_alert(), no_tls)
        assert not delivery.ok
        assert mails == []
    finally:
        controller.stop()
