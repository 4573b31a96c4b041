"""Helpers for the serving tests (no tests here): a small warehouse whose marts the test owns, a
scratch PostgreSQL database, and the reader / publisher processes the tests start.

The serving tests make their own marts so they do not depend on which marts exist yet: every
table here is shaped like a mart, and its content depends on a ``generation`` number, so a test
can tell an old publish from a new one.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import duckdb
import psycopg
import pytest
from psycopg import sql

from orchestration.settings import PROJECT_ROOT

# The server of the project's machines and CI (trust auth). A test needing it FAILS without it.
PG_ADMIN_DSN = os.environ.get("PSW_TEST_PG_DSN", "host=127.0.0.1 port=5432 dbname=test user=postgres")

MART_DESCRIPTIONS = {
    "mart_calls_by_beat": (
        "Calls per beat (test mart). Grain: one row per beat and call.",
        {"beat": "Police beat.", "calls": "Calls counted, it's a test."},
    ),
    "mart_kpi_scorecard": ("KPI scorecard (test mart), every column type a mart may have.", {"kpi": "KPI name."}),
}


def make_marts_warehouse(path: Path, generation: int) -> None:
    """Write (or rewrite) the test marts at ``generation`` into a DuckDB warehouse file."""
    g = int(generation)
    con = duckdb.connect(str(path))
    try:
        con.execute("SET TimeZone = 'UTC'")
        for schema in ("marts", "reference", "staging"):
            con.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
        con.execute(
            f"""CREATE OR REPLACE TABLE marts.mart_calls_by_beat AS
            SELECT 'B' || (i % 5) AS beat, {g} AS generation, i * {g} AS calls FROM range(10 * {g}) t(i)"""
        )
        con.execute(
            f"""CREATE OR REPLACE TABLE marts.mart_kpi_scorecard AS
            SELECT * REPLACE (CAST(status AS ENUM('ok', 'late')) AS status) FROM (VALUES
            ('response "p90", minutes', {g}, 9.5, 10.25::DECIMAL(10,2), TIMESTAMPTZ '2025-03-01 12:30:00+00',
             DATE '2025-03-01', true, 120::BIGINT, 10::HUGEINT * {g}, ['a', 'b,c'], '\\xAA\\x00'::BLOB,
             INTERVAL 90 MINUTE, 'ok'),
            ('line
break', {g}, NULL, NULL, NULL, NULL, false, NULL, NULL, [], NULL, NULL, 'late'),
            ('', {g}, 'nan'::DOUBLE, -1.5, TIMESTAMPTZ '2025-12-31 23:59:59.123456+00', DATE '2025-12-31', NULL,
             0, 0, NULL, ''::BLOB, INTERVAL 1 DAY, NULL),
            (NULL, {g}, 1e300, 0, NULL, NULL, NULL, -5, NULL, ['é ✓'], NULL, NULL, 'ok')
            ) AS t(kpi, generation, value, target, measured_at, period, on_target, samples, big, tags, raw,
                   spent, status)"""
        )
        con.execute(f"CREATE OR REPLACE VIEW marts.mart_generation AS SELECT {g} AS generation")
        con.execute(
            "CREATE OR REPLACE TABLE reference.service_categories AS "
            "SELECT * FROM (VALUES ('crisis'), ('traffic')) t(category)"
        )
        con.execute("CREATE OR REPLACE TABLE staging.stg_private AS SELECT 'not for BI tools' AS note")
        con.execute("COMMENT ON TABLE marts.mart_calls_by_beat IS 'comment held by the warehouse'")
        con.execute("COMMENT ON COLUMN marts.mart_calls_by_beat.generation IS 'Which test generation wrote the row.'")
    finally:
        con.close()


def write_manifest(path: Path) -> Path:
    """A dbt manifest.json (the part the publisher reads) documenting the test marts."""
    nodes = {
        f"model.psw.{name}": {
            "resource_type": "model",
            "name": name,
            "alias": name,
            "schema": "marts",
            "description": table_doc,
            "columns": {c: {"name": c, "description": d} for c, d in column_docs.items()},
        }
        for name, (table_doc, column_docs) in MART_DESCRIPTIONS.items()
    }
    path.write_text(json.dumps({"nodes": nodes}))
    return path


def table_fingerprints(con: duckdb.DuckDBPyConnection, schemas=("marts", "reference")) -> dict[str, list]:
    """{schema.table: [rows, hash of every row]} of an open database: equal fingerprints, equal data."""
    tables = con.execute(
        "SELECT schema_name, table_name FROM duckdb_tables() WHERE database_name = current_database() "
        "AND list_contains(?, schema_name) UNION ALL "
        "SELECT schema_name, view_name FROM duckdb_views() WHERE database_name = current_database() "
        "AND list_contains(?, schema_name) ORDER BY 1, 2",
        [list(schemas), list(schemas)],
    ).fetchall()
    return {
        f"{s}.{t}": list(con.execute(f'SELECT count(*), bit_xor(hash(x)) FROM "{s}"."{t}" x').fetchone())
        for s, t in tables
    }


def publish_serving(warehouse: Path, config, stamp=None, descriptions=None):
    """Publish the warehouse's marts to the serving copy, as the serving asset does; the stamp."""
    from orchestration.serving.config import RefreshStamp
    from orchestration.serving.serving_copy import publish_serving_copy

    stamp = stamp or RefreshStamp.new()
    con = duckdb.connect(str(warehouse))
    try:
        publish_serving_copy(con, config, stamp, descriptions or {})
    finally:
        con.close()
    return stamp


def parquet_snapshot(parquet_dir: Path) -> dict:
    """What a reader following the reading rule (docs/serving.md) gets: the manifest's refresh id
    and, per table, [rows, hash of every row] of exactly the files the manifest names."""
    folder = Path(os.path.realpath(parquet_dir))  # resolve the link once, then read that version
    manifest = json.loads((folder / "manifest.json").read_text())
    con = duckdb.connect()
    try:
        tables = {
            t["table"]: list(
                con.execute(
                    "SELECT count(*), bit_xor(hash(x)) FROM read_parquet(?) x",
                    [[str(folder / f["file"]) for f in t["files"]]],
                ).fetchone()
            )
            for t in manifest["tables"]
        }
    finally:
        con.close()
    return {"refresh_id": manifest["refresh_id"], "tables": tables}


@dataclass
class ScratchPostgres:
    dsn: str
    database: str
    role: str

    def connect(self, role: str | None = None, **kwargs) -> psycopg.Connection:
        user = f" user={role}" if role else ""
        return psycopg.connect(self.dsn + user, **kwargs)


def _admin() -> psycopg.Connection:
    try:
        return psycopg.connect(PG_ADMIN_DSN, autocommit=True, connect_timeout=10)
    except psycopg.OperationalError as exc:
        pytest.fail(f"these tests need the PostgreSQL server at 127.0.0.1:5432 ({PG_ADMIN_DSN}): {exc}")


@contextmanager
def scratch_postgres():
    """A fresh database on the real server and a fresh read-only role name, both dropped after,
    so tests (and parallel test runs) never see each other's ``marts``."""
    admin = _admin()
    suffix = uuid.uuid4().hex[:10]
    database, role = f"psw_test_{suffix}", f"psw_reader_{suffix}"
    admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database)))
    user = admin.info.user
    try:
        yield ScratchPostgres(f"host=127.0.0.1 port=5432 dbname={database} user={user}", database, role)
    finally:
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(database)))
        admin.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(role)))
        admin.close()


# A publish in its own process, exactly as Dagster runs it (the serving assets, in process).
PUBLISHER = """
import sys
from dagster import materialize
from orchestration.resources import WarehouseResource
from orchestration.serving.all_assets import SERVING_ASSETS
warehouse, *selection = sys.argv[1:]
result = materialize(
    SERVING_ASSETS, selection=selection, resources={"warehouse": WarehouseResource(database=warehouse)}
)
sys.exit(0 if result.success else 1)
"""


def publish_in_process(warehouse: Path, selection: list[str], env: dict[str, str]) -> None:
    """The same publish in this process (quicker where nothing is killed)."""
    from dagster import materialize

    from orchestration.resources import WarehouseResource
    from orchestration.serving.all_assets import SERVING_ASSETS

    with pytest.MonkeyPatch.context() as patch:
        for name, value in env.items():
            patch.setenv(name, value)
        result = materialize(
            SERVING_ASSETS, selection=selection, resources={"warehouse": WarehouseResource(database=str(warehouse))}
        )
    assert result.success, [e.message for e in result.all_events if e.is_failure]


def run_publisher(warehouse: Path, selection: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", PUBLISHER, str(warehouse), *selection],
        cwd=PROJECT_ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=600,
    )


def kill_publisher_at(warehouse: Path, selection: list[str], env: dict[str, str], stage: str, tmp: Path) -> None:
    """Start a publish that stops at ``stage`` (the failpoint), and SIGKILL it there."""
    marker = tmp / f"failpoint-{stage}"
    marker.unlink(missing_ok=True)
    env = {**os.environ, **env, "PSW_SERVING_FAILPOINT": stage, "PSW_SERVING_FAILPOINT_FILE": str(marker)}
    proc = subprocess.Popen(
        [sys.executable, "-c", PUBLISHER, str(warehouse), *selection],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    deadline = time.monotonic() + 300  # a safety net against a hang, not a timing assertion
    while not marker.exists():
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            output = proc.communicate()[0]
            pytest.fail(f"the publisher never reached failpoint {stage} (exit {proc.returncode}):\n{output[-4000:]}")
        time.sleep(0.1)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL
