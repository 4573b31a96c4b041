"""The BI workspace for real, on both of its sources: the demo city's marts published to the real
PostgreSQL server, and the serving DuckDB file the job published. Apache Superset (its own
environment, .tools/superset) is set up by `orchestration.bi.workspace` and served on loopback, and
the real Chromium logs in, opens the starter dashboard, and reads a number that must equal the
mart's. Then the connection is shown unable to write through SQL Lab."""

from __future__ import annotations

import socket
import subprocess
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import duckdb
import pytest
import requests
from playwright.sync_api import sync_playwright

from orchestration.bi import workspace
from orchestration.serving.config import load_serving_config
from orchestration.serving.postgres import publish_postgres
from orchestration.settings import PROJECT_ROOT, read_environment

from .test_report_browser import CHROMIUM, CHROMIUM_ARGS
from .test_serving_support import scratch_postgres

READER_PASSWORD = "reader-local-test"
SCREENSHOT = PROJECT_ROOT / "artifacts" / "superset_dashboard.png"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_until_up(url: str, process: subprocess.Popen, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert process.poll() is None, "Superset stopped while starting"
        try:
            with urllib.request.urlopen(url, timeout=2) as answer:
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(1)
    raise AssertionError(f"Superset did not answer {url} within {seconds:.0f} s")


@contextmanager
def _serving(env: dict[str, str], home: Path):
    """Superset set up by the workspace with ``env`` and serving on loopback; its base URL and settings."""
    e = read_environment(env)
    started = time.monotonic()
    workspace.prepare(e, say=lambda _m: None)
    config = home / "superset_config.py"
    assert env["PSW_SUPERSET_SECRET_KEY"] in config.read_text() and config.stat().st_mode & 0o077 == 0
    log = (home / "superset.log").open("w")
    server = subprocess.Popen(
        workspace.serve_command(e), env=workspace.process_env(e, home), stdout=log, stderr=subprocess.STDOUT
    )
    try:
        _wait_until_up(f"http://127.0.0.1:{e.superset_port}/health", server)
        print(f"\nSuperset set up and serving in {time.monotonic() - started:.0f} s ({e.superset_source})")
        yield f"http://127.0.0.1:{e.superset_port}", e
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:  # a request still in flight on a busy machine
            server.kill()
            server.wait(timeout=30)
        log.close()


@pytest.fixture(scope="module", params=["postgres", "duckdb"])
def superset(request, demo_city, tmp_path_factory):
    """Superset serving the workspace on the demo city's marts: published to a scratch PostgreSQL
    database and read as the read-only role, or in the serving DuckDB file the job published, opened
    read-only. Yields the base URL, the settings, and a function counting a mart's rows as published."""
    settings, _, _ = demo_city
    home = tmp_path_factory.mktemp(f"superset_{request.param}")
    env = {
        "PSW_SUPERSET_SOURCE": request.param,
        "PSW_SUPERSET_HOME": str(home),
        "PSW_WAREHOUSE": str(settings.warehouse_path),
        # not the local defaults: the test logs in with these
        "PSW_SUPERSET_PORT": str(_free_port()),
        "PSW_SUPERSET_ADMIN_USER": "analyst",
        "PSW_SUPERSET_ADMIN_PASSWORD": "a-password-of-the-test",
        "PSW_SUPERSET_SECRET_KEY": "a-secret-key-of-the-test-0123456789",
    }
    if request.param == "duckdb":
        serving_file = load_serving_config(settings.warehouse_path, env).serving_file
        assert serving_file.exists(), "the job publishes the serving DuckDB file"

        def published_rows(table: str) -> int:
            with duckdb.connect(str(serving_file), read_only=True) as con:
                return con.execute(f"SELECT count(*) FROM marts.{table}").fetchone()[0]

        with _serving(env, home) as (base, e):
            yield base, e, published_rows
        return
    with scratch_postgres() as pg:
        env |= {"PSW_PG_DSN": pg.dsn, "PSW_PG_READONLY_ROLE": pg.role, "PSW_PG_READONLY_PASSWORD": READER_PASSWORD}
        publish_postgres(load_serving_config(settings.warehouse_path, env))

        def published_rows(table: str) -> int:  # as the role reads them
            with pg.connect(pg.role, autocommit=True) as con:
                return con.execute(f"SELECT count(*) FROM marts.{table}").fetchone()[0]

        assert published_rows("mart_kpi_latest") > 0
        with _serving(env, home) as (base, e):
            yield base, e, published_rows


def _log_in(page, base: str, e) -> None:
    page.goto(f"{base}/login/")
    page.fill("#username", e.superset_admin_user)
    page.fill("#password", e.superset_admin_password)
    page.keyboard.press("Enter")
    page.wait_for_url("**/superset/welcome/**", timeout=60_000)


def test_the_starter_dashboard_shows_the_marts_numbers(superset, demo_warehouse):
    base, e, _rows = superset
    (median,) = demo_warehouse.execute(
        "SELECT value FROM marts.mart_kpi_latest WHERE city = 'demo_city' AND kpi = 'median_response_minutes' "
        "AND period_grain = 'month'"
    ).fetchone()
    kpis = demo_warehouse.execute("SELECT count(*) FROM marts.mart_kpi_latest WHERE city = 'demo_city'").fetchone()[0]
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 1600})
        _log_in(page, base, e)
        page.goto(f"{base}/superset/dashboard/{workspace.DASHBOARD_SLUG}/")
        page.wait_for_selector(".header-line", timeout=120_000)
        charts = page.locator("[data-test-chart-name]").evaluate_all(
            "els => els.map(e => e.getAttribute('data-test-chart-name'))"
        )
        assert charts == [
            "Median minutes from call to on scene, latest month",
            "Scorecard, latest complete period",
            "Calls by service category and month",
            "Stops against reported crime by area and year",
            "Median response time against target, by month",
        ]
        # the headline number is the mart's, as the chart formats it (one decimal)
        assert page.locator(".header-line").first.inner_text().strip() == f"{median:,.1f}"
        # the scorecard table lists every KPI of the city's latest complete periods, with no chart in error
        table = page.locator("[data-test-chart-name='Scorecard, latest complete period'] tbody tr")
        table.first.wait_for(timeout=60_000)
        assert table.count() == kpis
        page.wait_for_timeout(2000)  # the bar and line charts finish drawing
        assert page.get_by_text("Data error").count() == 0
        if e.superset_source == "postgres":
            SCREENSHOT.parent.mkdir(exist_ok=True)
            page.screenshot(path=str(SCREENSHOT), full_page=True)
        browser.close()


class SqlLab:
    """Superset's REST API as a logged-in analyst uses it (a bearer token and the CSRF token)."""

    def __init__(self, base: str, e):
        self.base, self.session = base, requests.Session()
        login = {"username": e.superset_admin_user, "password": e.superset_admin_password, "provider": "db"}
        token = self.session.post(f"{base}/api/v1/security/login", json=login, timeout=30).json()["access_token"]
        self.session.headers["Authorization"] = f"Bearer {token}"
        csrf = self.session.get(f"{base}/api/v1/security/csrf_token/", timeout=30).json()["result"]
        self.session.headers.update({"X-CSRFToken": csrf, "Referer": base})

    def database_ids(self) -> dict[str, int]:
        found = self.session.get(f"{self.base}/api/v1/database/", timeout=30).json()["result"]
        return {d["database_name"]: d["id"] for d in found}

    def run(self, database_id: int, statement: str) -> requests.Response:
        body = {"database_id": database_id, "sql": statement, "schema": "marts", "runAsync": False}
        return self.session.post(f"{self.base}/api/v1/sqllab/execute/", json=body, timeout=60)


def test_the_marts_cannot_be_written_through_sql_lab(superset):
    base, e, published_rows = superset
    before = published_rows("mart_kpi_latest")
    lab = SqlLab(base, e)
    databases = lab.database_ids()
    assert list(databases) == ["Public Safety Warehouse (read-only)"]
    database_id = databases["Public Safety Warehouse (read-only)"]
    read = lab.run(database_id, "SELECT count(*) AS kpis FROM marts.mart_kpi_latest")
    assert read.status_code == 200 and read.json()["data"][0]["kpis"] > 0, read.text[:500]
    # Superset itself refuses a write on this connection (allow_dml is off in the bundle) ...
    refused = lab.run(database_id, "DELETE FROM marts.mart_kpi_latest")
    assert refused.status_code >= 400 and "DML" in refused.text, refused.text[:500]
    # ... and with Superset's guard lifted, the connection itself cannot write: PostgreSQL refuses the
    # role, DuckDB the file it opened read-only.
    lifted = lab.session.put(f"{base}/api/v1/database/{database_id}", json={"allow_dml": True}, timeout=30)
    assert lifted.status_code == 200, lifted.text[:500]
    denied = lab.run(database_id, "DELETE FROM marts.mart_kpi_latest")
    assert denied.status_code >= 400, denied.text[:500]
    refusal = {"postgres": ("read-only transaction", "permission denied"), "duckdb": ("read-only mode",)}
    assert any(words in denied.text for words in refusal[e.superset_source]), denied.text[:500]
    assert published_rows("mart_kpi_latest") == before > 0, "nothing was deleted"


def test_the_bundle_carries_no_password():
    for path in Path(workspace.BUNDLE_DIR).rglob("*.yaml"):
        text = path.read_text()
        assert READER_PASSWORD not in text
        if path.parent.name == "databases":
            assert ":XXXXXXXXXX@" in text, "the export masks the password; the workspace writes it at start"


@pytest.mark.parametrize(
    ("env", "postgres"),
    [
        ({}, False),
        ({"PSW_PG_DSN": "host=127.0.0.1 dbname=psw"}, True),
        ({"PGHOST": "127.0.0.1"}, True),
        ({"PSW_PG_DSN": "host=127.0.0.1 dbname=psw", "PSW_SUPERSET_SOURCE": "duckdb"}, False),
        ({"PSW_SUPERSET_SOURCE": "postgres"}, True),
    ],
)
def test_the_workspace_reads_postgresql_when_publishing_there_is_on(env, postgres):
    assert workspace.reads_postgres(read_environment(env)) is postgres


def test_without_a_published_duckdb_file_the_workspace_says_to_run_first(tmp_path):
    e = read_environment({"PSW_SUPERSET_SOURCE": "duckdb", "PSW_WAREHOUSE": str(tmp_path / "warehouse.duckdb")})
    with pytest.raises(workspace.WorkspaceError, match=r"no serving DuckDB file at .*serving.*run `make run` first"):
        workspace.connection(e)
    e = read_environment({"PSW_SUPERSET_SOURCE": "postgres"})
    with pytest.raises(workspace.WorkspaceError, match="set PSW_PG_DSN"):
        workspace.connection(e)
