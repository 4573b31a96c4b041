"""The whole job, end to end, with dbt building on the real PostgreSQL server (`PSW_DBT_TARGET=postgres`),
run as a person runs it: `python -m orchestration.cli run` in its own process.

Landing and the raw gates run in DuckDB; the raw tables are handed to PostgreSQL; dbt builds and
tests there; what it built is taken back into the warehouse, where the gates, the Python marts, the
report and the serving outputs read it; the Python marts are copied into PostgreSQL too. Checked:
the job succeeds; PostgreSQL and the warehouse hold the same marts with the same values; and every
column has the kind of type (whole number, number, text, date, ...) the DuckDB build gives it, so
a dashboard or the report reads the same types whichever engine built them.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import duckdb
import psycopg
import pytest

from orchestration.settings import PROJECT_ROOT

from .conftest import MILWAUKEE_FILE, TEST_SEED
from .test_engines import _close, assert_job_built_and_tested, column_kinds, fingerprint, normalise
from .test_gates import SMALL
from .test_serving_support import scratch_postgres


@pytest.fixture(scope="module")
def job_on_postgres(tmp_path_factory):
    """The demo city (small) and the real Milwaukee extract, through the job with dbt on PostgreSQL."""
    from orchestration.demo_city.generator import generate

    root = tmp_path_factory.mktemp("job_on_postgres")
    landing = root / "landing"
    generate(landing / "demo_city", SMALL, TEST_SEED, progress=lambda _m: None)
    (landing / "milwaukee").mkdir()
    shutil.copy(MILWAUKEE_FILE, landing / "milwaukee" / MILWAUKEE_FILE.name)
    with scratch_postgres() as pg:
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("PSW_", "DAGSTER_"))},
            "PSW_DBT_TARGET": "postgres",
            "PSW_PG_DATABASE": pg.database,
            "PSW_WAREHOUSE": str(root / "warehouse.duckdb"),
            "PSW_LANDING_DIR": str(landing),
            "DAGSTER_HOME": str(root / "dagster_home"),
            "PSW_DEMO_SCALE": str(SMALL),
            "PSW_DEMO_SEED": str(TEST_SEED),
        }
        done = subprocess.run(
            [sys.executable, "-m", "orchestration.cli", "run"],
            cwd=PROJECT_ROOT,
            env=env,
            capture_output=True,
            text=True,
        )
        with psycopg.connect(pg.dsn, autocommit=True) as server:
            warehouse = duckdb.connect(str(root / "warehouse.duckdb"), read_only=True)
            yield done, warehouse, server, root
            warehouse.close()


def test_the_job_succeeds_with_dbt_on_postgresql(job_on_postgres):
    done, warehouse, _server, root = job_on_postgres
    assert_job_built_and_tested(done)  # dbt's data and unit tests all passed on PostgreSQL
    # the serving outputs and the report were made from what PostgreSQL built
    marts = "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'marts'"
    published = warehouse.execute(marts).fetchone()[0]
    with duckdb.connect(str(root / "serving" / "warehouse_serving.duckdb"), read_only=True) as serving:
        assert serving.execute(marts).fetchone()[0] == published > 20
    assert (root / "report" / "index.html").exists()


def test_postgresql_and_the_warehouse_hold_the_same_marts(job_on_postgres):
    _done, warehouse, server, _root = job_on_postgres
    marts = "SELECT table_name FROM information_schema.tables WHERE table_schema = 'marts'"
    in_warehouse = {t for (t,) in warehouse.execute(marts).fetchall()}
    on_server = {t for (t,) in server.execute(marts).fetchall()}
    # the Python marts (the forecast, the replay, the stop tests, the intervals) reached PostgreSQL too
    assert {"mart_demand_forecast", "mart_dispatch_replay", "mart_stop_disparity_tests"} <= on_server
    assert in_warehouse == on_server
    for mart in sorted(in_warehouse):
        query = fingerprint(warehouse, mart)
        assert _close(normalise(server.execute(query).fetchall()), normalise(warehouse.execute(query).fetchall()))


# PostgreSQL's own types, by the kind of the DuckDB build's: a fraction must be a float there (a
# numeric one is taken back by its values, so a share that happens to be whole would pass as one)
PG_KINDS = {
    "whole number": {"bigint", "integer", "smallint", "numeric"},
    "number": {"double precision", "real"},
}


def test_every_column_has_the_type_the_duckdb_build_gives_it(job_on_postgres, demo_warehouse):
    _done, warehouse, server, _root = job_on_postgres
    expected, got = column_kinds(demo_warehouse), column_kinds(warehouse)
    assert set(got) == set(expected)
    differ = {column: (expected[column], got[column]) for column in expected if got[column] != expected[column]}
    assert differ == {}
    on_server = server.execute(
        "SELECT table_schema, table_name, column_name, data_type FROM information_schema.columns "
        "WHERE table_schema IN ('marts', 'reference')"
    ).fetchall()
    assert len(on_server) == len(expected)
    wrong = {
        (s, t, c): (expected[s, t, c], d)
        for s, t, c, d in on_server
        if expected[s, t, c] in PG_KINDS and d not in PG_KINDS[expected[s, t, c]]
    }
    assert wrong == {}
