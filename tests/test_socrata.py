"""Landing from a Socrata-style API: paged, incremental, through the normal landing.

The server is a real HTTP server on 127.0.0.1, started here, answering the subset of SoQL the
pull uses ($where with >=, $order, $limit, $offset) over recorded rows
(tests/fixtures/socrata_api/*.json). Nothing leaves the machine.
"""

from __future__ import annotations

import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import duckdb
import pytest
import yaml
from dagster import materialize

from orchestration.landing.assets import land_raw_extracts
from orchestration.landing.loader import land_file
from orchestration.landing.profiles import parse_profile
from orchestration.landing.socrata import CURSOR_FILE, PullError, pull
from orchestration.resources import LandingResource, WarehouseResource

from .conftest import FIXTURES, PROFILES_DIR

RESOURCE = "/resource/ijzp-q8t2.json"
FIRST = json.loads((FIXTURES / "socrata_api" / "crimes_as_of_2018-05-09.json").read_text())
CHANGED = json.loads((FIXTURES / "socrata_api" / "crimes_changed_by_2018-05-12.json").read_text())


class FakeSocrata(ThreadingHTTPServer):
    """Serves ``rows`` like a Socrata resource endpoint and records every request."""

    def __init__(self):
        super().__init__(("127.0.0.1", 0), _Handler)
        self.rows: list[dict] = []
        self.requests: list[dict] = []
        self.fail_at_offset: str | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}{RESOURCE}"


class _Handler(BaseHTTPRequestHandler):
    server: FakeSocrata

    def log_message(self, *args):  # keep pytest output clean
        pass

    def do_GET(self):
        url = urlparse(self.path)
        params = {k: v[0] for k, v in parse_qs(url.query).items()}
        self.server.requests.append({"params": params, "token": self.headers.get("X-App-Token")})
        if url.path != RESOURCE:
            return self._send(404, {"error": "no such resource"})
        if params.get("$offset") == self.server.fail_at_offset:
            return self._send(500, {"error": "internal error"})
        rows = list(self.server.rows)
        if "$where" in params:
            field, value = re.fullmatch(r"(\w+) >= '(.*)'", params["$where"]).groups()
            rows = [r for r in rows if r.get(field, "") >= value]
        order = params.get("$order", ":id").split(",")
        rows.sort(key=lambda r: tuple(str(r.get(f, "")) for f in order))
        offset, limit = int(params.get("$offset", 0)), int(params.get("$limit", 1000))
        self._send(200, rows[offset : offset + limit])

    def _send(self, status, payload):
        body = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def server():
    srv = FakeSocrata()
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield srv
    srv.shutdown()
    srv.server_close()


def api_profile_data(url: str) -> dict:
    data = yaml.safe_load((PROFILES_DIR / "socrata_crime_incidents.yaml").read_text())
    data["api"] = {
        "url": url,
        "folder": "socrata_crime_incidents/api",
        "updated_field": "updated_on",
        "id_field": "id",
        "page_size": 2,
        "app_token_env": "PSW_TEST_SOCRATA_TOKEN",
    }
    return data


def land_all(con, profile, landing: Path):
    return [land_file(con, p, profile, landing) for p in profile.matching_files(landing)]


def test_paged_incremental_pull_lands_through_the_normal_landing(server, tmp_path, monkeypatch):
    monkeypatch.setenv("PSW_TEST_SOCRATA_TOKEN", "test-token-not-a-secret")
    landing = tmp_path / "landing"
    profile = parse_profile(api_profile_data(server.url))
    con = duckdb.connect(str(tmp_path / "w.duckdb"))

    # 1. first pull: no cursor yet, 5 rows in pages of 2 (offsets 0, 2, 4; the short page ends it)
    server.rows = list(FIRST)
    first = pull(profile, landing)
    assert [r["params"] for r in server.requests] == [
        {"$order": "updated_on,id", "$limit": "2", "$offset": "0"},
        {"$order": "updated_on,id", "$limit": "2", "$offset": "2"},
        {"$order": "updated_on,id", "$limit": "2", "$offset": "4"},
    ]
    assert {r["token"] for r in server.requests} == {"test-token-not-a-secret"}
    assert (first.rows, len(first.pages), first.cursor_after) == (5, 3, "2018-05-09T09:12:44.000")
    results = land_all(con, profile, landing)
    assert sum(r.rows_landed for r in results) == 5 and sum(r.rows_quarantined for r in results) == 0
    # JSON true/false, omitted null fields and nested locations arrive as the CSV landing expects
    assert con.execute(
        "SELECT reported_at, is_violent, arrest_made, offence_category FROM raw.incidents "
        "WHERE incident_id = '11319377'"
    ).fetchone() == ("2018-05-02 02:05:00", "true", "true", "persons")
    assert con.execute(
        "SELECT latitude, _original->>'location' FROM raw.incidents WHERE incident_id = '11319240'"
    ).fetchone() == (None, None)
    cursor = json.loads((landing / "socrata_crime_incidents" / "api" / CURSOR_FILE).read_text())
    assert cursor == {"cursor": "2018-05-09T09:12:44.000", "ids_at_cursor": ["11319377"]}

    # 2. the city updates one incident and adds two: the next pull asks only for rows updated
    # at or after the cursor, and drops the one it already has at exactly the cursor time
    server.rows = [r for r in FIRST if r["id"] != "11318622"] + CHANGED
    server.requests.clear()
    second = pull(profile, landing)
    assert server.requests[0]["params"]["$where"] == "updated_on >= '2018-05-09T09:12:44.000'"
    assert [r["params"]["$offset"] for r in server.requests] == ["0", "2", "4"]
    assert (second.rows, len(second.pages), second.cursor_after) == (3, 2, "2018-05-12T08:00:00.000")
    results = land_all(con, profile, landing)
    assert [r.already_landed for r in results].count(True) == 3  # the first pull's pages: same content, no-op
    assert con.execute("SELECT count(*), count(DISTINCT incident_id) FROM raw.incidents").fetchone() == (8, 7)
    # the corrected record landed as received beside the first version (staging keeps the latest)
    assert con.execute(
        "SELECT arrest_made FROM raw.incidents WHERE incident_id = '11318622' ORDER BY _loaded_at"
    ).fetchall() == [("false",), ("true",)]

    # 3. nothing new: one request, no page, the cursor stays
    server.requests.clear()
    third = pull(profile, landing)
    assert len(server.requests) == 1
    assert (third.rows, third.pages, third.cursor_after) == (0, [], "2018-05-12T08:00:00.000")
    assert all(r.already_landed for r in land_all(con, profile, landing))
    con.close()


def test_a_pull_that_fails_half_way_keeps_the_cursor_and_is_simply_asked_again(server, tmp_path):
    landing = tmp_path / "landing"
    profile = parse_profile(api_profile_data(server.url))
    server.rows = list(FIRST)
    server.fail_at_offset = "2"
    with pytest.raises(PullError, match=r"127\.0\.0\.1.*offset=2.*HTTP 500"):
        pull(profile, landing)
    folder = landing / "socrata_crime_incidents" / "api"
    assert not (folder / CURSOR_FILE).exists()
    assert [p.name for p in profile.matching_files(landing)] == ["pull_after_start_page_0001.csv"]
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    assert land_all(con, profile, landing)[0].rows_landed == 2  # the page that did arrive lands
    server.fail_at_offset = None
    again = pull(profile, landing)
    assert (again.rows, again.cursor_after) == (5, "2018-05-09T09:12:44.000")
    results = land_all(con, profile, landing)
    assert [r.already_landed for r in results] == [True, False, False]  # page 1 again: same batch
    assert con.execute("SELECT count(*) FROM raw.incidents").fetchone()[0] == 5
    con.close()


def test_the_landing_asset_pulls_then_lands_and_describes_the_profiles(server, tmp_path):
    profiles_dir = tmp_path / "profiles"
    profiles_dir.mkdir()
    (profiles_dir / "socrata_crime_incidents.yaml").write_text(yaml.safe_dump(api_profile_data(server.url)))
    server.rows = list(FIRST)
    warehouse = tmp_path / "w.duckdb"
    result = materialize(
        [land_raw_extracts],
        resources={
            "warehouse": WarehouseResource(database=str(warehouse)),
            "landing": LandingResource(landing_dir=str(tmp_path / "landing"), profiles_dir=str(profiles_dir)),
        },
    )
    assert result.success
    incidents = next(
        m
        for m in result.asset_materializations_for_node("land_raw_extracts")
        if m.asset_key.path == ["raw", "incidents"]
    )
    assert incidents.metadata["rows_landed"].value == 5
    con = duckdb.connect(str(warehouse), read_only=True)
    assert con.execute("SELECT count(*) FROM raw.incidents").fetchone()[0] == 5
    assert con.execute(
        "SELECT is_provided, provided_by FROM raw.source_profiles "
        "WHERE source_profile = 'socrata_crime_incidents' AND canonical_field = 'is_violent'"
    ).fetchone() == ("true", "column, values mapped (others empty)")
    con.close()
    assert len(server.requests) == 3
