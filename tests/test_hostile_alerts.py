"""An alert endpoint that answers one byte a second cannot hold a step: one deadline covers the
whole HTTP request (issue 16). A real server on 127.0.0.1."""

from __future__ import annotations

import socket
import threading
import time

import pytest

from orchestration.automation.alerts import AlertConfig, send_alert

from .test_alerts import sample_alert


@pytest.fixture
def trickling_server():
    """Accepts, reads the request, then sends an HTTP answer one byte a second (for 60 s)."""
    listener = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def serve():
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            with conn:
                conn.recv(65536)
                answer = b"HTTP/1.1 200 OK\r\nX-Slow: " + b"z" * 60
                for byte in answer:
                    if stop.is_set():
                        break
                    try:
                        conn.sendall(bytes([byte]))
                    except OSError:
                        break
                    stop.wait(1.0)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}/hook"
    stop.set()
    thread.join(5)
    listener.close()


@pytest.mark.parametrize("channel", ["webhook", "slack"])
def test_a_trickling_endpoint_is_cut_at_the_deadline(trickling_server, channel):
    url_key = "webhook_url" if channel == "webhook" else "slack_webhook_url"
    config = AlertConfig(**{url_key: trickling_server}, webhook_token="t0ken", timeout_seconds=2.0)
    started = time.monotonic()
    [delivery] = send_alert(sample_alert(), config)
    elapsed = time.monotonic() - started
    assert not delivery.ok
    assert elapsed < 3.5, f"the request took {elapsed:.1f} s against a 2 s deadline"
    assert "no complete answer within 2.0 s" in delivery.detail
    assert "t0ken" not in delivery.detail
