"""Real servers on 127.0.0.1 for the alert tests: an HTTP receiver (webhook and Slack) and an SMTP server.

Imported by the gate, alert and automation tests; it holds no tests itself.
"""

from __future__ import annotations

import json
import socket
import threading
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: dict


@dataclass
class HttpReceiver:
    """Collects every POST; answers 200 (or the status set for a path, to test failures)."""

    server: ThreadingHTTPServer
    received: list[Received] = field(default_factory=list)
    status_for_path: dict[str, int] = field(default_factory=dict)

    @property
    def base_url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def url(self, path: str) -> str:
        return self.base_url + path

    def bodies(self, path: str, **match) -> list[dict]:
        """JSON bodies posted to ``path`` whose fields equal ``match`` (e.g. run_id=...)."""
        return [r.body for r in self.received if r.path == path and all(r.body.get(k) == v for k, v in match.items())]


def start_http_receiver() -> HttpReceiver:
    holder: dict[str, HttpReceiver] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 (http.server's naming)
            length = int(self.headers.get("Content-Length", 0))
            raw = self.rfile.read(length)
            receiver = holder["r"]
            receiver.received.append(Received(self.path, dict(self.headers), json.loads(raw or b"{}")))
            status = receiver.status_for_path.get(self.path, 200)
            self.send_response(status)
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *_args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    holder["r"] = HttpReceiver(server)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return holder["r"]


@pytest.fixture(scope="session")
def http_receiver():
    receiver = start_http_receiver()
    yield receiver
    receiver.server.shutdown()
    receiver.server.server_close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Mail:
    mail_from: str
    rcpt_tos: list[str]
    message: Message

    @property
    def body(self) -> str:
        return self.message.get_content()


@dataclass
class SmtpReceiver:
    host: str
    port: int
    mails: list[Mail] = field(default_factory=list)


@pytest.fixture(scope="session")
def smtp_receiver():
    """A real SMTP server (aiosmtpd) on 127.0.0.1 that keeps every message it is sent."""
    from aiosmtpd.controller import Controller

    receiver = SmtpReceiver("127.0.0.1", free_port())

    class Handler:
        async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's naming)
            receiver.mails.append(
                Mail(
                    envelope.mail_from,
                    list(envelope.rcpt_tos),
                    message_from_bytes(envelope.original_content, policy=policy.default),
                )
            )
            return "250 Message accepted for delivery"

    controller = Controller(Handler(), hostname=receiver.host, port=receiver.port)
    controller.start()
    yield receiver
    controller.stop()
