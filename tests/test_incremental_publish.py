"""Publishing only what changed (issue 22): a large mart is published by month, and a refresh
rewrites the months and tables whose rows changed, in the serving copy and in the Parquet export,
while readers of both see one refresh or the other, never a mix."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import duckdb
import pytest

from orchestration.serving.config import RefreshStamp, load_serving_config
from orchestration.serving.parquet_export import file_metadata, parquet_refresh_id, publish_parquet
from orchestration.serving.parts import MIN_ROWS_TO_CUT
from orchestration.serving.serving_copy import open_serving
from orchestration.settings import PROJECT_ROOT

from .test_serving_support import make_marts_warehouse, parquet_snapshot, publish_serving, table_fingerprints

MONTHS = ["2025-01", "2025-02", "2025-03", "2025-04", "2025-05", "2025-06"]
ROWS = 150_000  # above MIN_ROWS_TO_CUT: published by month


def write_monthly(warehouse, versions: list[int], rows: int = ROWS) -> None:
    """marts.mart_calls_by_month: ``rows`` rows over six months, written in month order (as a fact
    table built month by month is); month m's rows carry versions[m]."""
    con = duckdb.connect(str(warehouse))
    try:
        con.execute(
            f"""CREATE OR REPLACE TABLE marts.mart_calls_by_month AS
            SELECT CAST(DATE '2025-01-01' + to_months(CAST(i * 6 // {rows} AS INTEGER)) AS DATE) AS call_month,
                   i AS call_id, {versions}[i * 6 // {rows} + 1] AS version, md5(CAST(i AS VARCHAR)) AS payload
            FROM range({rows}) t(i)"""
        )
    finally:
        con.close()


def publish(warehouse) -> tuple[RefreshStamp, dict]:
    config = load_serving_config(warehouse, {})
    return publish_serving(warehouse, config), publish_parquet(config)


def month_rowids(config) -> dict[str, list[int]]:
    """Each month's rows' places (row ids) in the serving copy's large mart."""
    con = open_serving(config.serving_file)
    try:
        return dict(
            con.execute(
                "SELECT strftime(call_month, '%Y-%m'), list(rowid ORDER BY rowid) FROM marts.mart_calls_by_month "
                "GROUP BY 1"
            ).fetchall()
        )
    finally:
        con.close()


def served_parts(config, table: str) -> dict[str, tuple[str, str]]:
    """{part: (part column, refresh that last wrote it)} from the serving copy."""
    con = open_serving(config.serving_file)
    try:
        rows = con.execute(
            "SELECT part, part_column, written_in_refresh FROM serving.published_parts WHERE table_name = ?", [table]
        ).fetchall()
    finally:
        con.close()
    return {part: (column, written) for part, column, written in rows}


def working_fingerprints(warehouse) -> dict:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return table_fingerprints(con)
    finally:
        con.close()


def served_fingerprints(config) -> dict:
    con = open_serving(config.serving_file)
    try:
        return table_fingerprints(con)
    finally:
        con.close()


@pytest.fixture
def warehouse(tmp_path):
    path = tmp_path / "warehouse.duckdb"
    make_marts_warehouse(path, generation=1)
    write_monthly(path, [1] * 6)
    return path


def test_a_refresh_rewrites_only_the_month_that_changed(warehouse):
    assert ROWS >= MIN_ROWS_TO_CUT
    config = load_serving_config(warehouse, {})
    first, first_manifest = publish(warehouse)
    rowids = month_rowids(config)
    old_folder = config.parquet_dir.resolve()

    write_monthly(warehouse, [1, 1, 2, 1, 1, 1])  # March changes; nothing else does
    second, manifest = publish(warehouse)

    assert served_fingerprints(config) == working_fingerprints(warehouse), "the copy is the warehouse, row for row"
    parts = served_parts(config, "mart_calls_by_month")
    assert parts == {m: ("call_month", second.refresh_id if m == "2025-03" else first.refresh_id) for m in MONTHS}
    for table in ("mart_calls_by_beat", "mart_kpi_scorecard", "service_categories"):
        assert set(served_parts(config, table).values()) == {(None, first.refresh_id)}, table
    # The rows of the months that did not change were not written again: they keep their place
    # in the file; March's rows were deleted and appended after them.
    now = month_rowids(config)
    assert {m: now[m] for m in MONTHS if m != "2025-03"} == {m: rowids[m] for m in MONTHS if m != "2025-03"}
    assert min(now["2025-03"]) >= ROWS

    # Parquet: one file per month; March's is new, the others are the first export's files.
    entry = next(t for t in manifest["tables"] if t["table"] == "mart_calls_by_month")
    assert entry["part_column"] == "call_month" and entry["stable_file"] == "mart_calls_by_month/"
    assert [f["part"] for f in entry["files"]] == MONTHS
    folder = config.parquet_dir.resolve()
    for named in entry["files"]:
        path = folder / named["file"]
        before = old_folder / named["file"]
        if named["part"] == "2025-03":
            assert named["refresh_id"] == second.refresh_id and not before.exists()
        else:
            assert named["refresh_id"] == first.refresh_id and path.samefile(before), named
        assert file_metadata(path)["psw_refresh_id"] == named["refresh_id"]
        assert file_metadata(path)["psw_fingerprint"] == named["fingerprint"]
    files = sum(len(t["files"]) for t in manifest["tables"])
    assert (manifest["files_written"], manifest["files_kept"]) == (1, files - 1)
    assert first_manifest["files_written"] == files
    assert parquet_refresh_id(config.parquet_dir) == second.refresh_id
    read = duckdb.connect()
    versions = read.execute(
        "SELECT strftime(call_month, '%Y-%m'), min(version), max(version), count(*) FROM read_parquet(?) "
        "GROUP BY 1 ORDER BY 1",
        [[str(folder / f["file"]) for f in entry["files"]]],
    ).fetchall()
    read.close()
    assert versions == [(m, 2, 2, ROWS // 6) if m == "2025-03" else (m, 1, 1, ROWS // 6) for m in MONTHS]


def test_a_file_not_of_its_manifest_entry_is_reported_as_a_mix(warehouse):
    config = load_serving_config(warehouse, {})
    _, manifest = publish(warehouse)
    entry = next(t for t in manifest["tables"] if t["table"] == "mart_calls_by_month")
    march, april = (config.parquet_dir.resolve() / f["file"] for f in entry["files"][2:4])
    assert file_metadata(march)["psw_refresh_id"] == file_metadata(april)["psw_refresh_id"]
    assert parquet_refresh_id(config.parquet_dir) == manifest["refresh_id"]
    march.unlink()
    os.link(april, march)  # the right name and the right refresh, other rows
    assert parquet_refresh_id(config.parquet_dir).startswith("mixed: ")


def test_a_changed_shape_a_new_table_and_a_dropped_one_reach_the_copy(warehouse):
    config = load_serving_config(warehouse, {})
    first, _ = publish(warehouse)
    con = duckdb.connect(str(warehouse))
    con.execute("ALTER TABLE marts.mart_calls_by_beat ADD COLUMN note VARCHAR DEFAULT 'added'")
    con.execute("DROP VIEW marts.mart_generation")
    con.execute("CREATE TABLE marts.mart_added AS SELECT 7 AS answer")
    con.close()
    second, manifest = publish(warehouse)
    assert served_fingerprints(config) == working_fingerprints(warehouse)
    assert {t["table"] for t in manifest["tables"]} == {
        "mart_calls_by_beat",
        "mart_calls_by_month",
        "mart_kpi_scorecard",
        "mart_added",
    }
    assert set(served_parts(config, "mart_calls_by_beat").values()) == {(None, second.refresh_id)}
    assert {w for _, w in served_parts(config, "mart_calls_by_month").values()} == {first.refresh_id}


def test_a_copy_mostly_free_space_is_written_whole(warehouse):
    config = load_serving_config(warehouse, {})
    publish(warehouse)
    size = config.serving_file.stat().st_size
    write_monthly(warehouse, [3] * 6, rows=600)  # the large table shrinks: its blocks are freed
    third, _ = publish(warehouse)
    assert config.serving_file.stat().st_size < size / 2, "written whole, not a copy full of free blocks"
    assert served_fingerprints(config) == working_fingerprints(warehouse)
    for table in ("mart_calls_by_month", "mart_calls_by_beat"):
        assert set(served_parts(config, table).values()) == {(None, third.refresh_id)}, table


def test_a_copy_published_before_fingerprints_existed_is_written_whole(warehouse):
    config = load_serving_config(warehouse, {})
    publish(warehouse)
    con = duckdb.connect(str(config.serving_file))
    con.execute("DROP TABLE serving.published_parts")  # as the previous release published it
    con.close()
    second, manifest = publish(warehouse)
    assert served_fingerprints(config) == working_fingerprints(warehouse)
    assert {w for _, w in served_parts(config, "mart_calls_by_month").values()} == {second.refresh_id}
    assert manifest["refresh_id"] == second.refresh_id


READER = """
import json, os, sys, time
import duckdb
from tests.test_serving_support import parquet_snapshot, table_fingerprints

kind, path, out, stop = sys.argv[1:]
with open(out, "a") as log:
    while not os.path.exists(stop):
        started = time.time()
        try:
            if kind == "serving":
                con = duckdb.connect(path, read_only=True)
                con.execute("BEGIN TRANSACTION")
                seen = {"refresh_id": con.execute("SELECT refresh_id FROM serving.refresh").fetchone()[0],
                        "tables": table_fingerprints(con, schemas=("marts",))}
                con.close()
            else:
                seen = parquet_snapshot(path)
        except Exception as exc:
            seen = {"error": f"{type(exc).__name__}: {exc}"}
        log.write(json.dumps({"started": started, "ended": time.time(), **seen}) + "\\n")
        log.flush()
        time.sleep(0.02)
"""


def test_readers_during_incremental_publishes_see_one_refresh_or_the_other(warehouse, tmp_path):
    """Two processes read in a loop while five refreshes publish, each changing one month of the
    large mart and two probe marts together: one reads the serving copy, one follows the Parquet
    manifest. Every snapshot either takes is exactly what one refresh published."""
    config = load_serving_config(warehouse, {})
    expected: dict[str, dict] = {}  # refresh id -> what each copy holds after it

    def refresh(versions: list[int], generation: int) -> tuple[float, float, dict]:
        write_monthly(warehouse, versions)
        con = duckdb.connect(str(warehouse))
        for probe in ("mart_probe_a", "mart_probe_b"):
            con.execute(
                f"CREATE OR REPLACE TABLE marts.{probe} AS SELECT {generation} AS generation, i FROM range(9) t(i)"
            )
        con.close()
        started = time.time()
        stamp, manifest = publish(warehouse)
        ended = time.time()
        con = open_serving(config.serving_file)
        expected[stamp.refresh_id] = {
            "serving": table_fingerprints(con, schemas=("marts",)),
            "parquet": parquet_snapshot(config.parquet_dir)["tables"],
        }
        con.close()
        return started, ended, manifest

    versions = [1] * 6
    refresh(versions, 1)
    stop = tmp_path / "stop"
    logs = {kind: tmp_path / f"{kind}.jsonl" for kind in ("serving", "parquet")}
    paths = {"serving": config.serving_file, "parquet": config.parquet_dir}
    readers = {
        kind: subprocess.Popen(
            [sys.executable, "-c", READER, kind, str(paths[kind]), str(log), str(stop)],
            cwd=PROJECT_ROOT,
            env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT)},
            stderr=subprocess.PIPE,
            text=True,
        )
        for kind, log in logs.items()
    }
    windows, manifests = [], []
    try:
        deadline = time.monotonic() + 120  # a safety net against a hang, not a timing assertion
        while not all(log.exists() and log.read_text().count("\n") for log in logs.values()):
            assert time.monotonic() < deadline and all(r.poll() is None for r in readers.values())
            time.sleep(0.05)
        for generation, month in enumerate([2, 4, 0, 5, 2], start=2):
            versions[month] = generation
            started, ended, manifest = refresh(versions, generation)
            windows.append((started, ended))
            manifests.append(manifest)
            time.sleep(1.0)  # readers keep a version folder at most until two refreshes later
    finally:
        stop.touch()
        errors = {kind: r.communicate(timeout=120)[1] for kind, r in readers.items()}
    assert {kind: r.returncode for kind, r in readers.items()} == {"serving": 0, "parquet": 0}, errors

    assert all(m["files_written"] == 3 for m in manifests), "one month and the two probes, nothing else"
    for kind, log in logs.items():
        seen = [json.loads(line) for line in log.read_text().splitlines()]
        assert [o["error"] for o in seen if "error" in o] == [], kind
        for o in seen:
            assert o["tables"] == expected[o["refresh_id"]][kind], f"{kind} reader saw a mix at {o['started']}"
        during = [o for o in seen if any(s < o["ended"] and o["started"] < e for s, e in windows)]
        assert during, f"the {kind} reader made no read while a refresh published"
        assert len({o["refresh_id"] for o in seen}) >= 3, f"the {kind} reader saw the refreshes go by"
