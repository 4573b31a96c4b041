"""The same dbt models build on PostgreSQL and on a local Spark session, and give the same marts.

The demo city (and Milwaukee) landed once in DuckDB is handed to each engine the way the
pipeline does it (orchestration/engines), then dbt seeds and runs every model there. Values
are compared with the DuckDB build: counts exactly, sums and shares to 1e-6.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import psycopg
import pytest
import yaml

from orchestration.engines import replicate_to_postgres
from orchestration.settings import DBT_PROJECT_DIR, PROJECT_ROOT
from orchestration.transform.project import dbt_executable

ENGINE_DATABASE = "psw_engine_test"
DATA_TESTS: dict[str, subprocess.CompletedProcess] = {}  # dbt test on each engine's build


def dbt(target: str, env: dict[str, str], target_path: Path, *args: str) -> None:
    completed = subprocess.run(
        [dbt_executable(), *args, "--target", target, "--target-path", str(target_path)],
        cwd=DBT_PROJECT_DIR,
        env=env,
        capture_output=True,
        text=True,
    )
    assert completed.returncode == 0, completed.stdout[-4000:] + completed.stderr[-2000:]


def build(target: str, env: dict[str, str], target_path: Path) -> float:
    """Seed and run every model on the target; the time is kept in artifacts/engine_builds.json."""
    started = time.perf_counter()
    dbt(target, env, target_path, "seed")
    dbt(target, env, target_path, "run")
    seconds = time.perf_counter() - started
    record = PROJECT_ROOT / "artifacts" / "engine_builds.json"
    record.parent.mkdir(exist_ok=True)
    times = json.loads(record.read_text()) if record.exists() else {}
    times[target] = round(seconds, 1)
    record.write_text(json.dumps(times, indent=2))
    return seconds


def data_tests(target: str, env: dict[str, str], target_path: Path) -> subprocess.CompletedProcess:
    """dbt's data tests on a target's build (the unit tests run in the whole jobs' builds on each engine)."""
    return subprocess.run(
        [dbt_executable(), "--no-use-colors", "test", "--exclude", "test_type:unit", "--target", target]
        + ["--target-path", str(target_path)],
        cwd=DBT_PROJECT_DIR,
        env=env,
        capture_output=True,
        text=True,
    )


@pytest.fixture(scope="module")
def postgres_marts(demo_warehouse, tmp_path_factory):
    """The demo city's models built on the PostgreSQL server at 127.0.0.1:5432 (fails if it is down)."""
    with psycopg.connect("host=127.0.0.1 port=5432 user=postgres dbname=postgres", autocommit=True) as admin:
        if not admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [ENGINE_DATABASE]).fetchone():
            admin.execute(f"CREATE DATABASE {ENGINE_DATABASE}")
    env = {**os.environ, "PSW_DBT_TARGET": "postgres", "PSW_PG_DATABASE": ENGINE_DATABASE}
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("PSW_PG_DATABASE", ENGINE_DATABASE)
        replicate_to_postgres(demo_warehouse)
    target_path = tmp_path_factory.mktemp("target_pg")
    seconds = build("postgres", env, target_path)
    print(f"\nPostgreSQL build (seed + run): {seconds:.1f} s")
    # dbt's data tests on the PostgreSQL build
    DATA_TESTS["postgres"] = data_tests("postgres", env, target_path)
    # autocommit: a comparison's SELECT holds no lock past itself (a connection idle in a
    # transaction would block the next build's ALTER TABLE on the same marts)
    con = psycopg.connect(f"host=127.0.0.1 port=5432 user=postgres dbname={ENGINE_DATABASE}", autocommit=True)
    yield lambda sql: con.execute(sql).fetchall()
    con.close()


@pytest.fixture(scope="module")
def spark_job(demo_city, tmp_path_factory):
    """The whole job (`python -m orchestration.cli run`, in its own process) on the demo city's own
    files, with dbt building in a local Spark session: the job takes Spark's build back into its
    warehouse, so every mart (views too) is compared with the DuckDB build of the same files."""
    settings, _truth, _result = demo_city
    root = tmp_path_factory.mktemp("spark")
    shutil.copytree(settings.landing_dir, root / "landing")
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("PSW_", "DAGSTER_"))},
        "PSW_DBT_TARGET": "spark",
        # relative to the project root, as a person would write them (dbt runs in dbt_project/)
        "PSW_SPARK_RAW_DIR": os.path.relpath(root / "spark_raw", PROJECT_ROOT),
        "PSW_SPARK_WAREHOUSE_DIR": os.path.relpath(root / "spark_warehouse", PROJECT_ROOT),
        "PSW_WAREHOUSE": str(root / "warehouse.duckdb"),
        "PSW_LANDING_DIR": str(root / "landing"),
        "DAGSTER_HOME": str(root / "dagster_home"),
        "PSW_DEMO_SCALE": str(settings.demo_scale),
        "PSW_DEMO_SEED": str(settings.demo_seed),
    }
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "orchestration.cli", "run"], cwd=PROJECT_ROOT, env=env, capture_output=True, text=True
    )
    print(f"\nthe whole job with dbt on Spark: {time.perf_counter() - started:.1f} s")
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    warehouse = duckdb.connect(str(root / "warehouse.duckdb"), read_only=True)
    yield done, warehouse, root
    warehouse.close()


@pytest.fixture(scope="module")
def spark_marts(spark_job):
    _done, warehouse, _root = spark_job
    return lambda sql: warehouse.execute(sql).fetchall()


SERVICE_DEMAND = """
    SELECT source_profile, service_category, sum(calls), sum(officer_hours),
           sum(alternative_eligible_calls), sum(estimated_cost)
    FROM marts.mart_service_demand GROUP BY 1, 2 ORDER BY 1, 2
"""
MONTHLY_SHARES = """
    SELECT source_profile, cast(call_month AS varchar), service_category, sum(share_of_calls)
    FROM marts.mart_service_demand GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
"""
COVERAGE = """
    SELECT source_profile, cast(call_month AS varchar), calls, unclassified_calls, unclassified_share
    FROM marts.mart_classification_coverage ORDER BY 1, 2
"""
OFFICER_INITIATED = """
    SELECT activity_source, sum(events), sum(stops), sum(searches), sum(searches_with_contraband), sum(arrests)
    FROM marts.mart_officer_initiated_activity GROUP BY 1 ORDER BY 1
"""
HOURS_OF_WEEK = """
    SELECT hour_of_week, sum(events) FROM marts.mart_officer_initiated_activity GROUP BY 1 ORDER BY 1
"""
DIVERGENCE = """
    SELECT city, period_type, cast(period_start AS varchar), area_id, reported_crimes, stops,
           location_quotient, location_quotient_rank, untethered_stops
    FROM marts.mart_enforcement_divergence ORDER BY 1, 2, 3, 4
"""
# Every engine computes an exact, interpolated percentile (DuckDB quantile_cont, PostgreSQL
# percentile_cont, Spark percentile): equal to 1e-6.
RESPONSE_TIMES = """
    SELECT source_profile, cast(call_month AS varchar), coalesce(priority, 'all'), coalesce(area_id, 'all'), calls,
           median_received_to_on_scene_minutes, p90_received_to_on_scene_minutes, share_within_target,
           median_received_to_on_scene_minutes_low, p90_received_to_on_scene_minutes_high
    FROM marts.mart_response_times ORDER BY 1, 2, 3, 4
"""
# Complementary suppression withholds the same cells on every engine (ties in size broken by cell id).
STOP_EQUITY = """
    SELECT city, period_type, cast(period_start AS varchar), area_id, group_type, group_value, stops, searches,
           search_hits, search_rate
    FROM marts.mart_stop_equity ORDER BY 1, 2, 3, 4, 5, 6
"""
CONCENTRATION_CURVE = """
    SELECT city, period_type, cast(period_start AS varchar), place_level, measure, crime_share_pct, places_needed,
           share_of_places, share_of_places_if_even, is_published, note
    FROM marts.mart_concentration_curve ORDER BY 1, 2, 3, 4, 5, 6
"""
QUERIES = [
    SERVICE_DEMAND,
    MONTHLY_SHARES,
    COVERAGE,
    OFFICER_INITIATED,
    HOURS_OF_WEEK,
    DIVERGENCE,
    RESPONSE_TIMES,
    STOP_EQUITY,
    CONCENTRATION_CURVE,
]
IDS = [
    "service_demand",
    "monthly_shares",
    "coverage",
    "oi",
    "hour_of_week",
    "divergence",
    "response_times",
    "stop_equity",
    "concentration_curve",
]
# Every mart dbt builds (models/marts), compared whole on each engine by a fingerprint of every column.
MARTS = sorted(p.stem for p in (DBT_PROJECT_DIR / "models" / "marts").rglob("*.sql"))
WHOLE = {"BIGINT", "INTEGER", "SMALLINT", "HUGEINT", "TINYINT", "UBIGINT", "UINTEGER"}
FRACTIONAL = {"DOUBLE", "FLOAT", "DECIMAL", "REAL"}


def kind(duckdb_type: str) -> str:
    base = duckdb_type.split("(")[0]
    return "whole number" if base in WHOLE else "number" if base in FRACTIONAL else base


def column_kinds(con: duckdb.DuckDBPyConnection) -> dict[tuple[str, str, str], str]:
    rows = con.execute(
        "SELECT table_schema, table_name, column_name, data_type FROM information_schema.columns "
        "WHERE table_schema IN ('marts', 'reference')"
    ).fetchall()
    return {(s, t, c): kind(d) for s, t, c, d in rows}


NUMERIC = {"DOUBLE", "INTEGER", "BIGINT", "HUGEINT", "FLOAT", "DECIMAL", "SMALLINT"}


def fingerprint(con: duckdb.DuckDBPyConnection, mart: str) -> str:
    """One row that every engine must give alike: the row count and, per column, how many values it
    has and their sum (numbers), how many are true (booleans) or how many differ (text, dates)."""
    columns = con.execute(
        "SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = 'marts' "
        "AND table_name = ? ORDER BY ordinal_position",
        [mart],
    ).fetchall()
    assert columns, f"marts.{mart} is not in the DuckDB build"
    parts = ["count(*)"]
    for name, kind in columns:
        parts.append(f"count({name})")
        if kind.split("(")[0] in NUMERIC:
            parts.append(f"sum({name})")
        elif kind == "BOOLEAN":
            parts.append(f"sum(CASE WHEN {name} THEN 1 ELSE 0 END)")
        else:
            parts.append(f"count(DISTINCT {name})")
    return f"SELECT {', '.join(parts)} FROM marts.{mart}"


def normalise(rows):
    return [
        tuple(float(v) if isinstance(v, int | float) or hasattr(v, "as_integer_ratio") else v for v in r) for r in rows
    ]


@pytest.mark.parametrize("query", QUERIES, ids=IDS)
def test_postgres_marts_equal_duckdb_marts(query, demo_warehouse, postgres_marts):
    expected = normalise(demo_warehouse.execute(query).fetchall())
    assert expected, "the DuckDB build has rows to compare"
    assert _close(normalise(postgres_marts(query)), expected)


# Spark inlines every CTE at each use: the complementary-suppression rounds (macros/disclosure.sql)
# each read the previous round once, so the plan of mart_stop_equity grows with the rounds, not as
# 3^rounds (which ran Spark's analyser out of a 4 GB heap).
@pytest.mark.parametrize("query", QUERIES, ids=IDS)
def test_spark_marts_equal_duckdb_marts(query, demo_warehouse, spark_marts):
    expected = normalise(demo_warehouse.execute(query).fetchall())
    assert _close(normalise(spark_marts(query)), expected)


def test_dbt_data_tests_pass_on_the_postgres_build(postgres_marts):
    tested = DATA_TESTS["postgres"]
    summary = re.search(r"Done\. PASS=(\d+) WARN=(\d+) ERROR=(\d+)", tested.stdout)
    assert tested.returncode == 0 and summary, tested.stdout[-4000:]
    assert int(summary.group(1)) > 150 and summary.group(3) == "0"


@pytest.mark.parametrize("mart", MARTS)
def test_postgres_builds_every_mart_alike(mart, demo_warehouse, postgres_marts):
    query = fingerprint(demo_warehouse, mart)
    assert _close(normalise(postgres_marts(query)), normalise(demo_warehouse.execute(query).fetchall()))


@pytest.mark.parametrize("mart", MARTS)
def test_spark_builds_every_mart_alike(mart, demo_warehouse, spark_marts):
    query = fingerprint(demo_warehouse, mart)
    assert _close(normalise(spark_marts(query)), normalise(demo_warehouse.execute(query).fetchall()))


def _close(actual, expected, tolerance=1e-6) -> bool:
    assert len(actual) == len(expected), (len(actual), len(expected))
    for a_row, e_row in zip(actual, expected, strict=True):
        for a, e in zip(a_row, e_row, strict=True):
            if isinstance(e, float) and isinstance(a, float):
                assert a == pytest.approx(e, rel=tolerance, abs=tolerance), (a_row, e_row)
            else:
                assert str(a) == str(e), (a_row, e_row)
    return True


def unit_tests_declared() -> set[str]:
    """dbt's unit tests, as the model YAML files declare them (``model::name``, as dbt logs them)."""
    declared = set()
    for path in (DBT_PROJECT_DIR / "models").rglob("*.yml"):
        for test in yaml.safe_load(path.read_text()).get("unit_tests") or []:
            declared.add(f"{test['model']}::{test['name']}")
    return declared


def assert_job_built_and_tested(done: subprocess.CompletedProcess) -> None:
    """`make run`'s summary says the run succeeded with dbt's data tests passing, and its full log
    shows every unit test the models declare passed (the first build of a warehouse runs them)."""
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert re.search(r"^run\s+: \S+ \(succeeded\)", done.stdout, re.M), done.stdout[-2000:]
    build = re.search(r"^  build    .+; dbt tests (\d+) passed, (\d+) failed", done.stdout, re.M)
    assert build and int(build.group(1)) > 150 and build.group(2) == "0", done.stdout[-2000:]
    log = Path(re.search(r"^full log\s+: (\S+)", done.stdout, re.M).group(1)).read_text()
    passed = set(re.findall(r" PASS (\S+::\S+) ", log))
    assert passed == unit_tests_declared() and len(passed) > 10


def test_the_whole_job_runs_with_dbt_on_spark(spark_job):
    done, warehouse, root = spark_job
    assert_job_built_and_tested(done)
    # Spark's catalogue and tables are where the settings say, not in dbt's working directory
    assert (root / "spark_warehouse" / "marts.db").is_dir()
    assert not (DBT_PROJECT_DIR / "metastore_db").exists()
    # the Python marts were computed from what Spark built, and the outputs after the build were made
    for mart in ("mart_demand_forecast", "mart_dispatch_replay", "mart_stop_disparity_tests"):
        assert warehouse.execute(f"SELECT count(*) FROM marts.{mart}").fetchone()[0] > 0, mart
    marts = "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'marts'"
    published = warehouse.execute(marts).fetchone()[0]
    with duckdb.connect(str(root / "serving" / "warehouse_serving.duckdb"), read_only=True) as serving:
        assert serving.execute(marts).fetchone()[0] == published > 20
    assert (root / "report" / "index.html").exists()


def test_every_column_taken_back_from_spark_has_the_duckdb_builds_kind_of_type(spark_job, demo_warehouse):
    _done, warehouse, _root = spark_job
    expected, got = column_kinds(demo_warehouse), column_kinds(warehouse)
    assert set(got) == set(expected)
    differ = {column: (expected[column], got[column]) for column in expected if got[column] != expected[column]}
    assert differ == {}
