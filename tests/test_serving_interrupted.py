"""A publish killed mid-way (SIGKILL, in its own process, at a failpoint inside the copy) leaves
the previously published marts intact: the serving DuckDB file, the Parquet folder and the
PostgreSQL schema. The next publish then succeeds and clears what the dead one left."""

from __future__ import annotations

import duckdb
import pytest

from orchestration.serving.config import load_serving_config
from orchestration.serving.parquet_export import VERSIONS_DIR, read_manifest
from orchestration.serving.serving_copy import open_serving, read_refresh

from .test_serving_support import kill_publisher_at, make_marts_warehouse, publish_in_process, scratch_postgres

SERVING_COPY = "serving/warehouse_serving"
PARQUET = "serving/parquet_marts"
POSTGRES = "serving/postgres_marts"


def published_state(config, pg) -> dict:
    """What each output holds now: refresh id and mart contents, as a reader gets them."""
    served = open_serving(config.serving_file)
    try:
        serving = (
            read_refresh(served).refresh_id,
            served.execute("SELECT list(DISTINCT generation) FROM marts.mart_calls_by_beat").fetchone()[0],
            served.execute("SELECT count(*) FROM marts.mart_calls_by_beat").fetchone()[0],
        )
    finally:
        served.close()
    manifest = read_manifest(config.parquet_dir)
    beats = config.parquet_dir / "mart_calls_by_beat.parquet"
    con = duckdb.connect()
    parquet = (
        manifest["refresh_id"],
        con.execute(f"SELECT list(DISTINCT generation) FROM '{beats}'").fetchone()[0],
        {t["table"]: t["rows"] for t in manifest["tables"]},
        sorted(p.name for p in config.parquet_dir.iterdir()),
    )
    con.close()
    with pg.connect(pg.role, autocommit=True) as reader:
        postgres = (
            reader.execute("SELECT obj_description('marts'::regnamespace, 'pg_namespace')").fetchone()[0],
            [g for (g,) in reader.execute("SELECT DISTINCT generation FROM marts.mart_calls_by_beat")],
            {
                t: reader.execute(f"SELECT count(*) FROM marts.{t}").fetchone()[0]
                for (t,) in reader.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'marts'").fetchall()
            },
        )
    with pg.connect(autocommit=True) as admin:
        schemas = sorted(s for (s,) in admin.execute("SELECT nspname FROM pg_namespace WHERE nspname LIKE 'marts%'"))
    return {"serving": serving, "parquet": parquet, "postgres": postgres, "pg_schemas": schemas}


@pytest.fixture
def published_once(tmp_path):
    """Generation 1 published everywhere by a normal publish; the warehouse then moves to generation 2."""
    warehouse = tmp_path / "warehouse.duckdb"
    make_marts_warehouse(warehouse, generation=1)
    with scratch_postgres() as pg:
        env = {"PSW_PG_DSN": pg.dsn, "PSW_PG_READONLY_ROLE": pg.role, "PSW_SERVING_DIR": ""}
        publish_in_process(warehouse, [SERVING_COPY, PARQUET, POSTGRES], env)
        config = load_serving_config(warehouse, env)
        before = published_state(config, pg)
        assert before["serving"][1:] == ([1], 10)
        assert before["postgres"][1] == [1]
        make_marts_warehouse(warehouse, generation=2)
        yield warehouse, config, pg, env, before


def test_killed_while_copying_the_serving_file(published_once, tmp_path):
    warehouse, config, pg, env, before = published_once
    kill_publisher_at(warehouse, [SERVING_COPY], env, "duckdb_copy", tmp_path)
    leftovers = list(config.serving_dir.glob("warehouse_serving.duckdb.tmp-*"))
    assert leftovers, "the publish died with its half-written file beside the serving copy"
    assert published_state(config, pg) == before

    publish_in_process(warehouse, [SERVING_COPY], env)
    assert not any(p.exists() for p in leftovers)
    after = published_state(config, pg)
    assert after["serving"][1:] == ([2], 20)
    assert after["serving"][0] != before["serving"][0]


def test_killed_while_writing_parquet(published_once, tmp_path):
    warehouse, config, pg, env, before = published_once
    kill_publisher_at(warehouse, [SERVING_COPY, PARQUET], env, "parquet_write", tmp_path)
    building = list((config.serving_dir / VERSIONS_DIR).glob(".building-*"))
    assert building and any(building[0].iterdir()), "the publish died with some files of the new export written"
    state = published_state(config, pg)
    assert state["serving"][1] == [2], "the serving copy before it was published"
    assert state["parquet"] == before["parquet"], "the Parquet folder is still the whole previous export"
    assert state["postgres"] == before["postgres"]

    publish_in_process(warehouse, [PARQUET], env)
    assert not any(p.exists() for p in building)
    after = published_state(config, pg)
    assert after["parquet"][0] == after["serving"][0] != before["parquet"][0]
    assert after["parquet"][1] == [2]
    assert after["parquet"][2]["mart_calls_by_beat"] == 20


def test_killed_while_loading_postgres(published_once, tmp_path):
    warehouse, config, pg, env, before = published_once
    publish_in_process(warehouse, [SERVING_COPY], env)
    kill_publisher_at(warehouse, [POSTGRES], env, "postgres_copy", tmp_path)
    assert list(config.serving_dir.glob(".postgres-load-*")), "the publish died mid-load, its CSV folder left"
    state = published_state(config, pg)
    assert state["postgres"] == before["postgres"], "readers still get the previous marts, all of them"
    assert state["pg_schemas"] == ["marts"], "the half-loaded schema was never committed"

    publish_in_process(warehouse, [POSTGRES], env)
    after = published_state(config, pg)
    assert after["postgres"][1] == [2]
    assert after["serving"][0] in after["postgres"][0]
    assert after["pg_schemas"] == ["marts"]
    assert not list(config.serving_dir.glob(".postgres-load-*"))
