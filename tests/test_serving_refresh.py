"""A full refresh while BI readers are connected (the pipeline on a tiny demo city, twice).

Two other processes read the serving copy in a loop while the second refresh runs: one holds a
single read-only connection the whole time (a dashboard left open), one reconnects for every
query (a tool that opens the file per query). The refresh must succeed, no query may fail, and
each snapshot a reader takes (the refresh stamp, and every row of every table) must be entirely
the old refresh or entirely the new one. Between the two refreshes the demo city is regenerated
with another seed, so every mart changes, and two probe marts are rewritten together.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import duckdb
import pytest

from orchestration.demo_city.generator import generate
from orchestration.serving.config import load_serving_config
from orchestration.serving.parquet_export import read_manifest
from orchestration.serving.serving_copy import open_serving, read_refresh
from orchestration.settings import PROJECT_ROOT
from orchestration.transform.project import dbt_project

from .conftest import TEST_SEED, make_settings, run_pipeline
from .test_serving_support import scratch_postgres, table_fingerprints

SCALE = 0.02
PROBES = ("serving_probe_a", "serving_probe_b")

READER = """
import json, os, sys, time
import duckdb
from tests.test_serving_support import table_fingerprints

path, mode, out, stop = sys.argv[1:]
held = duckdb.connect(path, read_only=True) if mode == "hold" else None
with open(out, "a") as log:
    while not os.path.exists(stop):
        started = time.time()
        try:
            con = held or duckdb.connect(path, read_only=True)
            con.execute("BEGIN TRANSACTION")
            seen = {
                "refresh_id": con.execute("SELECT refresh_id FROM serving.refresh").fetchone()[0],
                "tables": table_fingerprints(con),
                "probes": [con.execute(f"SELECT min(generation), max(generation) FROM marts.{p}").fetchone()
                           for p in ("serving_probe_a", "serving_probe_b")],
            }
            con.execute("COMMIT")
            if held is None:
                con.close()
        except Exception as exc:
            seen = {"error": f"{type(exc).__name__}: {exc}"}
        log.write(json.dumps({"started": started, "ended": time.time(), **seen}) + "\\n")
        log.flush()
        time.sleep(0.05)
"""


def plant_probes(warehouse, generation: int) -> None:
    """Two marts written together at each refresh: a reader must never see one new and one old."""
    con = duckdb.connect(str(warehouse))
    try:
        con.execute("CREATE SCHEMA IF NOT EXISTS marts")
        for probe in PROBES:
            con.execute(
                f"CREATE OR REPLACE TABLE marts.{probe} AS SELECT {generation} AS generation, i FROM range(5) t(i)"
            )
    finally:
        con.close()


def snapshot(path) -> dict:
    con = open_serving(path)
    try:
        return {"refresh_id": read_refresh(con).refresh_id, "tables": table_fingerprints(con)}
    finally:
        con.close()


def observations(path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def wait_for(condition, what: str, readers) -> None:
    deadline = time.monotonic() + 300  # a safety net against a hang, not a timing assertion
    while not condition():
        if time.monotonic() > deadline or any(r.poll() is not None for r in readers):
            pytest.fail(f"gave up waiting for {what}")
        time.sleep(0.1)


@pytest.fixture(scope="module")
def refresh_under_readers(tmp_path_factory):
    root = tmp_path_factory.mktemp("serving_refresh")
    settings = make_settings(root, scale=SCALE)
    generate(settings.demo_dir, SCALE, TEST_SEED, progress=lambda _m: None)
    with scratch_postgres() as pg, pytest.MonkeyPatch.context() as env:
        env.delenv("PSW_SERVING_DIR", raising=False)
        env.setenv("PSW_PG_DSN", pg.dsn)
        env.setenv("PSW_PG_READONLY_ROLE", pg.role)
        plant_probes(settings.warehouse_path, 1)
        first = run_pipeline(settings)
        assert first.success, [e.message for e in first.all_events if e.is_failure]
        serving = load_serving_config(settings.warehouse_path).serving_file
        old = snapshot(serving)

        stop = root / "stop-readers"
        logs = {mode: root / f"reader-{mode}.jsonl" for mode in ("hold", "reopen")}
        readers = {
            mode: subprocess.Popen(
                [sys.executable, "-c", READER, str(serving), mode, str(log), str(stop)],
                cwd=PROJECT_ROOT,
                env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT)},
                stderr=subprocess.PIPE,
                text=True,
            )
            for mode, log in logs.items()
        }
        try:
            wait_for(lambda: all(observations(p) for p in logs.values()), "both readers' first query", readers.values())
            generate(settings.demo_dir, SCALE, TEST_SEED + 1, progress=lambda _m: None)
            plant_probes(settings.warehouse_path, 2)
            started = time.time()
            second = run_pipeline(settings)
            ended = time.time()
            assert second.success, [e.message for e in second.all_events if e.is_failure]
            new = snapshot(serving)
            wait_for(
                lambda: any(o.get("refresh_id") == new["refresh_id"] for o in observations(logs["reopen"])),
                "the reconnecting reader to see the new refresh",
                readers.values(),
            )
        finally:
            stop.touch()
            stderr = {mode: r.communicate(timeout=120)[1] for mode, r in readers.items()}
        yield {
            "settings": settings,
            "serving": serving,
            "pg": pg,
            "old": old,
            "new": new,
            "window": (started, ended),
            "seen": {mode: observations(log) for mode, log in logs.items()},
            "exit": {mode: r.returncode for mode, r in readers.items()},
            "stderr": stderr,
        }


def test_the_refresh_succeeds_and_no_reader_query_fails(refresh_under_readers):
    run = refresh_under_readers
    assert run["exit"] == {"hold": 0, "reopen": 0}, run["stderr"]
    for mode, seen in run["seen"].items():
        assert [o["error"] for o in seen if "error" in o] == [], mode
        during = [o for o in seen if run["window"][0] <= o["started"] and o["ended"] <= run["window"][1]]
        assert during, f"the {mode} reader made no query while the refresh ran"


def test_every_snapshot_a_reader_takes_is_entirely_old_or_entirely_new(refresh_under_readers):
    run = refresh_under_readers
    old, new = run["old"], run["new"]
    assert old["refresh_id"] != new["refresh_id"]
    for probe in PROBES:
        assert old["tables"][f"marts.{probe}"] != new["tables"][f"marts.{probe}"]
    generation = {old["refresh_id"]: 1, new["refresh_id"]: 2}
    for mode, seen in run["seen"].items():
        for o in seen:
            state = {"refresh_id": o["refresh_id"], "tables": o["tables"]}
            assert state in (old, new), f"{mode} reader saw a mix at {o['started']}"
            g = generation[o["refresh_id"]]
            assert o["probes"] == [[g, g], [g, g]]
    # The open dashboard keeps its consistent old snapshot; a reconnect sees the new one, and
    # once it has, never the old one again.
    assert {o["refresh_id"] for o in run["seen"]["hold"]} == {old["refresh_id"]}
    ids = [o["refresh_id"] for o in run["seen"]["reopen"]]
    assert ids[0] == old["refresh_id"] and ids[-1] == new["refresh_id"]
    assert ids == sorted(ids, key=lambda i: generation[i])


def test_the_refresh_published_every_mart_to_duckdb_parquet_and_postgres(refresh_under_readers):
    run = refresh_under_readers
    working = duckdb.connect(str(run["settings"].warehouse_path), read_only=True)
    try:
        marts = table_fingerprints(working, schemas=("marts",))
        everything = table_fingerprints(working)
    finally:
        working.close()
    new = run["new"]
    assert new["tables"] == everything, "the serving copy is the working marts and reference tables, row for row"
    manifest = json.loads(dbt_project.manifest_path.read_text())
    dbt_marts = {
        n["name"] for n in manifest["nodes"].values() if n["resource_type"] == "model" and n["schema"] == "marts"
    }
    python_marts = {  # Python assets, not dbt
        "marts.mart_demand_forecast",
        "marts.mart_dispatch_replay",
        "marts.mart_stop_disparity_tests",
        "marts.mart_violence_concentration_intervals",
    }
    assert {f"marts.{m}" for m in dbt_marts} | {f"marts.{p}" for p in PROBES} | python_marts == set(marts)

    parquet = read_manifest(load_serving_config(run["settings"].warehouse_path).parquet_dir)
    assert parquet["refresh_id"] == new["refresh_id"]
    assert {f"marts.{t['table']}": t["rows"] for t in parquet["tables"]} == {t: v[0] for t, v in marts.items()}

    pg = run["pg"]
    with pg.connect(pg.role, autocommit=True) as reader:
        comment = reader.execute("SELECT obj_description('marts'::regnamespace, 'pg_namespace')").fetchone()[0]
        assert new["refresh_id"] in comment
        counts = {
            f"marts.{t}": reader.execute(f'SELECT count(*) FROM marts."{t}"').fetchone()[0]
            for (t,) in reader.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'marts'").fetchall()
        }
        column_docs = {
            (t, c): d
            for t, c, d in reader.execute(
                "SELECT c.relname, a.attname, col_description(a.attrelid, a.attnum) FROM pg_attribute a "
                "JOIN pg_class c ON c.oid = a.attrelid WHERE c.relnamespace = 'marts'::regnamespace AND a.attnum > 0"
            ).fetchall()
        }
    assert counts == {t: v[0] for t, v in marts.items()}
    documented = {
        (n["name"], c): col["description"]
        for n in manifest["nodes"].values()
        if n["resource_type"] == "model" and n["schema"] == "marts"
        for c, col in n["columns"].items()
        if col.get("description")
    }
    assert {k: column_docs.get(k) for k in documented} == documented, "PostgreSQL column comments are the dbt docs"
