"""Parquet readers never see a mix of refreshes (issue 16): every file carries its refresh id,
the manifest names versioned files, and each published copy (serving DuckDB file, Parquet,
PostgreSQL) reports the refresh it holds, with a warning when they differ."""

from __future__ import annotations

import duckdb
import pytest

from orchestration.serving.config import RefreshStamp, load_serving_config
from orchestration.serving.parquet_export import file_refresh_id, publish_parquet, read_manifest
from orchestration.serving.postgres import publish_postgres
from orchestration.serving.refresh_ids import published_refresh_ids, refresh_summary

from .test_serving_support import make_marts_warehouse, publish_serving, scratch_postgres


def refresh(warehouse, config, generation: int) -> RefreshStamp:
    make_marts_warehouse(warehouse, generation)
    return publish_serving(warehouse, config)


def kv_refresh_id(path) -> str | None:
    con = duckdb.connect()
    rows = dict(
        (k.decode(), v.decode())
        for k, v in con.execute("SELECT key, value FROM parquet_kv_metadata(?)", [str(path)]).fetchall()
    )
    con.close()
    return rows.get("psw_refresh_id")


@pytest.fixture
def warehouse(tmp_path):
    return tmp_path / "warehouse.duckdb"


def test_every_parquet_file_carries_its_refresh_id(warehouse):
    config = load_serving_config(warehouse, {})
    stamp = refresh(warehouse, config, 1)
    manifest = publish_parquet(config)
    assert manifest["tables"]
    for entry in manifest["tables"]:
        for named in entry["files"]:
            assert kv_refresh_id(config.parquet_dir / named["file"]) == stamp.refresh_id == named["refresh_id"]
            assert file_refresh_id(config.parquet_dir / named["file"]) == stamp.refresh_id
            assert named["fingerprint"] in named["file"]


def test_a_reader_following_an_old_manifest_never_reads_rows_of_a_newer_refresh(warehouse):
    config = load_serving_config(warehouse, {})
    first = refresh(warehouse, config, 1)
    publish_parquet(config)
    old_manifest = read_manifest(config.parquet_dir)  # a reader reads the manifest ...
    refresh(warehouse, config, 2)
    publish_parquet(config)  # ... a refresh swaps in before it opens the files
    con = duckdb.connect()
    for entry in old_manifest["tables"]:
        [named] = entry["files"]  # every test mart changed in the second refresh
        through_link = config.parquet_dir / named["file"]
        assert not through_link.exists(), "the old manifest's name must not reach the new refresh's rows"
        kept = config.serving_dir / old_manifest["folder"] / named["file"]
        assert kv_refresh_id(kept) == first.refresh_id
        if entry["table"] == "mart_calls_by_beat":
            assert con.execute(f"SELECT DISTINCT generation FROM '{kept}'").fetchall() == [(1,)]
    con.close()
    refresh(warehouse, config, 3)
    publish_parquet(config)  # two refreshes later the first version is cleaned
    assert not (config.serving_dir / old_manifest["folder"]).exists()


def test_each_copy_reports_its_refresh_and_the_summary_says_when_they_differ(warehouse):
    with scratch_postgres() as pg:
        env = {"PSW_PG_DSN": pg.dsn, "PSW_PG_READONLY_ROLE": pg.role}
        config = load_serving_config(warehouse, env)
        first = refresh(warehouse, config, 1)
        publish_parquet(config)
        publish_postgres(config)
        same = published_refresh_ids(warehouse, env)
        assert same == {
            "serving DuckDB copy": first.refresh_id,
            "Parquet": first.refresh_id,
            "PostgreSQL": first.refresh_id,
        }
        assert not any("WARNING" in line for line in refresh_summary(same))
        second = refresh(warehouse, config, 2)
        publish_parquet(config)  # PostgreSQL's publish did not happen: it stays on the first
        differ = published_refresh_ids(warehouse, env)
    assert differ == {
        "serving DuckDB copy": second.refresh_id,
        "Parquet": second.refresh_id,
        "PostgreSQL": first.refresh_id,
    }
    lines = refresh_summary(differ)
    assert f"  PostgreSQL           {first.refresh_id}" in lines
    assert lines[-2].startswith("  WARNING: the published copies hold different refreshes")
