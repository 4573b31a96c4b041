"""The serving copy and the Parquet exports on a small warehouse whose marts the test owns; the
serving assets' place in the asset graph; the PostgreSQL type mapping; the settings."""

from __future__ import annotations

import json
import os
import subprocess

import duckdb
import pytest
from dagster import AssetKey, DagsterInstance, materialize

from orchestration.resources import WarehouseResource
from orchestration.serving.all_assets import SERVING_ASSETS
from orchestration.serving.catalog import Column, load_dbt_descriptions
from orchestration.serving.config import git_revision, load_serving_config
from orchestration.serving.parquet_export import VERSIONS_DIR, publish_parquet, read_manifest
from orchestration.serving.postgres import postgres_column
from orchestration.serving.serving_copy import open_serving, read_refresh
from orchestration.settings import PROJECT_ROOT

from .test_serving_support import (
    MART_DESCRIPTIONS,
    make_marts_warehouse,
    publish_serving,
    table_fingerprints,
    write_manifest,
)

MY_ASSETS = ("serving/warehouse_serving", "serving/parquet_marts", "serving/postgres_marts")
TEST_MARTS = {"marts.mart_calls_by_beat", "marts.mart_generation", "marts.mart_kpi_scorecard"}


@pytest.fixture
def warehouse(tmp_path):
    path = tmp_path / "warehouse.duckdb"
    make_marts_warehouse(path, generation=1)
    return path


def publish_copy(warehouse, descriptions=None, stamp=None):
    config = load_serving_config(warehouse, {})
    return config, publish_serving(warehouse, config, stamp, descriptions)


def test_serving_copy_holds_every_mart_and_reference_table_and_nothing_else(warehouse, tmp_path):
    config, stamp = publish_copy(warehouse)
    assert config.serving_file == tmp_path / "serving" / "warehouse_serving.duckdb"
    working = duckdb.connect(str(warehouse), read_only=True)
    expected = table_fingerprints(working)
    working.close()
    served = open_serving(config.serving_file)
    # The view marts.mart_generation is served as a table, with the same rows.
    assert table_fingerprints(served) == expected
    assert set(expected) == TEST_MARTS | {"reference.service_categories"}
    schemas = {s for (s,) in served.execute("SELECT DISTINCT schema_name FROM duckdb_tables()").fetchall()}
    assert schemas == {"marts", "reference", "serving"}, "staging and raw never reach BI tools"
    assert read_refresh(served).refresh_id == stamp.refresh_id
    assert served.execute("SELECT tables FROM serving.refresh").fetchone()[0] == 4
    listed = served.execute("SELECT table_schema || '.' || table_name, row_count FROM serving.published_tables")
    assert {t: [n] for t, n in listed.fetchall()} == {t: v[:1] for t, v in expected.items()}
    served.close()


def test_a_new_mart_is_published_without_naming_it_anywhere(warehouse):
    con = duckdb.connect(str(warehouse))
    con.execute("CREATE TABLE marts.mart_added_later AS SELECT 42 AS answer")
    con.close()
    config, _ = publish_copy(warehouse)
    served = open_serving(config.serving_file)
    assert served.execute("SELECT answer FROM marts.mart_added_later").fetchone() == (42,)
    served.close()
    assert "mart_added_later" in {t["table"] for t in publish_parquet(config)["tables"]}


def test_comments_come_from_the_dbt_docs_then_from_the_warehouse(warehouse, tmp_path):
    descriptions = load_dbt_descriptions(write_manifest(tmp_path / "manifest.json"))
    config, _ = publish_copy(warehouse, descriptions)
    served = open_serving(config.serving_file)
    table_doc = served.execute(
        "SELECT comment FROM duckdb_tables() WHERE schema_name = 'marts' AND table_name = 'mart_calls_by_beat'"
    ).fetchone()[0]
    columns = dict(
        served.execute(
            "SELECT column_name, comment FROM duckdb_columns() "
            "WHERE schema_name = 'marts' AND table_name = 'mart_calls_by_beat'"
        ).fetchall()
    )
    served.close()
    doc, column_docs = MART_DESCRIPTIONS["mart_calls_by_beat"]
    assert table_doc == doc, "the dbt description wins over the comment the warehouse held"
    assert columns["beat"] == column_docs["beat"]
    assert columns["calls"] == "Calls counted, it's a test."
    assert columns["generation"] == "Which test generation wrote the row.", "undocumented in dbt: warehouse comment"


def test_the_serving_file_is_replaced_not_rewritten_and_leftovers_are_removed(warehouse, tmp_path):
    config, first = publish_copy(warehouse)
    inode = config.serving_file.stat().st_ino
    leftover = config.serving_dir / "warehouse_serving.duckdb.tmp-died-mid-way"
    leftover.write_bytes(b"half a database")
    make_marts_warehouse(warehouse, generation=2)
    _, second = publish_copy(warehouse)
    assert config.serving_file.stat().st_ino != inode
    assert not leftover.exists()
    assert sorted(p.name for p in config.serving_dir.iterdir()) == [".publish.lock", "warehouse_serving.duckdb"]
    served = open_serving(config.serving_file)
    assert read_refresh(served).refresh_id == second.refresh_id != first.refresh_id
    assert served.execute("SELECT DISTINCT generation FROM marts.mart_calls_by_beat").fetchall() == [(2,)]
    served.close()


def test_parquet_exports_every_mart_with_a_manifest(warehouse):
    config, stamp = publish_copy(warehouse)
    manifest = publish_parquet(config)
    assert read_manifest(config.parquet_dir) == manifest
    assert manifest["refresh_id"] == stamp.refresh_id
    assert manifest["git_revision"] == git_revision() != "unknown"
    assert manifest["refreshed_at"].startswith(f"{stamp.refreshed_at:%Y-%m-%dT%H:%M:%S}")
    assert {f"marts.{t['table']}" for t in manifest["tables"]} == TEST_MARTS
    con = duckdb.connect()
    for entry in manifest["tables"]:
        assert entry["part_column"] is None, "small marts are published whole"
        [named] = entry["files"]
        path = config.parquet_dir / named["file"]
        assert path.name == f"{entry['table']}.{named['fingerprint']}.parquet"  # named by its rows' fingerprint
        assert (named["rows"], named["refresh_id"]) == (entry["rows"], stamp.refresh_id)
        assert path.samefile(config.parquet_dir / entry["stable_file"])  # the fixed name is the same file
        assert con.execute(f"SELECT count(*) FROM '{path}'").fetchone()[0] == entry["rows"]
        described = con.execute(f"DESCRIBE SELECT * FROM '{path}'").fetchall()
        assert [(c["name"], c["type"]) for c in entry["columns"]] == [(d[0], d[1]) for d in described]
    scorecard = next(t for t in manifest["tables"] if t["table"] == "mart_kpi_scorecard")
    assert scorecard["rows"] == 4
    assert {"name": "measured_at", "type": "TIMESTAMP WITH TIME ZONE", "description": None} in scorecard["columns"]
    con.close()


def test_parquet_folder_is_swapped_whole_and_keeps_one_previous_version(warehouse):
    config, _ = publish_copy(warehouse)
    first = publish_parquet(config)
    first_target = os.readlink(config.parquet_dir)
    make_marts_warehouse(warehouse, generation=2)
    publish_copy(warehouse)
    second = publish_parquet(config)
    assert config.parquet_dir.is_symlink()
    assert os.readlink(config.parquet_dir) != first_target
    versions = config.serving_dir / VERSIONS_DIR
    # A reader that resolved the old folder can still finish reading it.
    assert json.loads((config.serving_dir / first_target / "manifest.json").read_text()) == first
    publish_parquet(config)
    assert len(list(versions.iterdir())) == 2, "current and previous only"
    assert not (config.serving_dir / first_target).exists()
    by_table = {t["table"]: t["rows"] for t in read_manifest(config.parquet_dir)["tables"]}
    assert by_table["mart_calls_by_beat"] == 20
    assert {t["table"]: t["rows"] for t in second["tables"]} == by_table


def test_serving_assets_run_after_every_mart_and_reference_table_of_the_dbt_manifest():
    """Every dbt model and seed of marts and reference, and every mart built in Python (the
    forecasts), is upstream of the serving copy, and nothing else."""
    from orchestration.definitions import defs
    from orchestration.transform.project import dbt_project

    manifest = json.loads(dbt_project.manifest_path.read_text())
    published = {
        AssetKey([n["schema"], n["name"]])
        for n in manifest["nodes"].values()
        if n["resource_type"] in ("model", "seed") and n["schema"] in ("marts", "reference")
    }
    assert any(k.path[0] == "reference" for k in published)
    graph = defs.resolve_asset_graph()
    python_marts = {k for k in graph.get_all_asset_keys() if k.path[0] == "marts" and k not in published}
    assert python_marts == {
        AssetKey(["marts", "mart_demand_forecast"]),
        AssetKey(["marts", "mart_dispatch_replay"]),
        AssetKey(["marts", "mart_stop_disparity_tests"]),
        AssetKey(["marts", "mart_violence_concentration_intervals"]),
    }
    serving_copy = AssetKey(["serving", "warehouse_serving"])
    assert graph.get(serving_copy).parent_keys == published | python_marts
    for name in ("parquet_marts", "postgres_marts"):
        assert graph.get(AssetKey(["serving", name])).parent_keys == {serving_copy}
    assert {serving_copy, *(AssetKey(["serving", n]) for n in ("parquet_marts", "postgres_marts"))} <= set(
        graph.get_all_asset_keys()
    )


def test_without_postgres_settings_the_postgres_asset_is_skipped_and_says_why(warehouse, monkeypatch):
    for name in ("PSW_PG_DSN", "PGHOST", "PSW_SERVING_DIR"):
        monkeypatch.delenv(name, raising=False)
    with DagsterInstance.ephemeral() as instance:
        result = materialize(
            SERVING_ASSETS,
            selection=list(MY_ASSETS),
            instance=instance,
            resources={"warehouse": WarehouseResource(database=str(warehouse))},
        )
        logs = [entry.user_message for entry in instance.all_logs(result.run_id)]
    assert result.success
    materialized = {e.asset_key for e in result.get_asset_materialization_events()}
    assert materialized == {AssetKey(["serving", "warehouse_serving"]), AssetKey(["serving", "parquet_marts"])}
    assert any("PostgreSQL publishing is off: set PSW_PG_DSN (or PGHOST)" in m for m in logs)


def test_exports_before_any_serving_copy_say_what_to_run_first(tmp_path):
    config = load_serving_config(tmp_path / "warehouse.duckdb", {})
    with pytest.raises(FileNotFoundError, match="no serving copy has been published yet"):
        publish_parquet(config)


def test_settings_defaults_and_overrides(tmp_path):
    default = load_serving_config(tmp_path / "warehouse.duckdb", {})
    assert default.serving_dir == tmp_path / "serving"
    assert default.parquet_dir == tmp_path / "serving" / "parquet"
    assert not default.postgres_configured
    assert default.pg_readonly_role == "psw_reader"
    assert load_serving_config("data/warehouse.duckdb", {"PSW_SERVING_DIR": "elsewhere"}).serving_dir == (
        PROJECT_ROOT / "elsewhere"
    )
    by_libpq = load_serving_config(tmp_path / "w.duckdb", {"PGHOST": "db.example", "PSW_PG_READONLY_ROLE": "bi"})
    assert by_libpq.postgres_configured and by_libpq.pg_dsn == "" and by_libpq.pg_readonly_role == "bi"
    assert load_serving_config(tmp_path / "w.duckdb", {"PSW_PG_DSN": "dbname=x"}).pg_dsn == "dbname=x"


def test_git_revision_is_head_in_the_repository_and_unknown_outside(tmp_path):
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=PROJECT_ROOT, capture_output=True, text=True).stdout
    assert git_revision() == head.strip()
    assert git_revision(tmp_path) == "unknown"


@pytest.mark.parametrize(
    ("duckdb_type", "expected"),
    [
        ("BOOLEAN", "boolean"),
        ("INTEGER", "integer"),
        ("BIGINT", "bigint"),
        ("HUGEINT", "numeric(39,0)"),
        ("UBIGINT", "numeric(20,0)"),
        ("DOUBLE", "double precision"),
        ("DECIMAL(18,3)", "numeric(18,3)"),
        ("VARCHAR", "text"),
        ("DATE", "date"),
        ("TIMESTAMP", "timestamp"),
        ("TIMESTAMP WITH TIME ZONE", "timestamptz"),
        ("INTERVAL", "interval"),
        ("ENUM('ok', 'late')", "text"),
        ("VARCHAR[]", "jsonb"),
        ("STRUCT(a INTEGER, b VARCHAR)", "jsonb"),
        ("MAP(VARCHAR, INTEGER)", "jsonb"),
        ("BLOB", "bytea"),
    ],
)
def test_postgres_types(duckdb_type, expected):
    assert postgres_column("mart_x", Column("c", duckdb_type))[0] == expected


def test_a_type_postgres_cannot_hold_is_refused_naming_table_and_column():
    with pytest.raises(ValueError, match=r"marts\.mart_x\.odd: DuckDB type GEOMETRY has no PostgreSQL mapping"):
        postgres_column("mart_x", Column("odd", "GEOMETRY"))
