"""The published files open in DuckDB 1.5, the oldest reader our storage compatibility version
promises (BI drivers embed older DuckDB than the pipeline's 2.0).

DuckDB 1.5.0 runs in its own small venv (.tools/duckdb15, from a pinned requirements file with
hashes, installed by ``make duckdb15``, which ``make test`` runs), in a subprocess: one process
cannot load two DuckDB versions.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import duckdb
import pytest

from orchestration.serving.config import RefreshStamp, load_serving_config
from orchestration.serving.parquet_export import publish_parquet, read_manifest
from orchestration.serving.serving_copy import open_serving, publish_serving_copy
from orchestration.settings import PROJECT_ROOT

from .test_serving_support import make_marts_warehouse

OLD_PYTHON = Path(os.environ.get("PSW_DUCKDB15_PYTHON", PROJECT_ROOT / ".tools" / "duckdb15" / "bin" / "python"))

# Runs under DuckDB 1.5: every table of a database file, or every file of a Parquet export,
# read in full and printed as JSON (or the error it gave).
OLD_READER = """
import json, sys
import duckdb
kind, path = sys.argv[1:]
result = {"version": duckdb.__version__}
try:
    if kind == "database":
        con = duckdb.connect(path, read_only=True)
        names = con.execute("SELECT schema_name, table_name FROM duckdb_tables() ORDER BY 1, 2").fetchall()
        sources = {f"{s}.{t}": f'"{s}"."{t}"' for s, t in names}
    else:
        con = duckdb.connect()
        manifest = json.load(open(f"{path}/manifest.json"))
        sources = {
            t["table"]: "read_parquet([" + ", ".join(f"'{path}/{f['file']}'" for f in t["files"]) + "])"
            for t in manifest["tables"]
        }
    con.execute("SET TimeZone = 'UTC'")
    as_text = "SELECT CAST(COLUMNS(*) AS VARCHAR) FROM "
    result["tables"] = {
        name: sorted(json.dumps(row) for row in con.execute(as_text + source).fetchall())
        for name, source in sources.items()
    }
except Exception as exc:
    result["error"] = f"{type(exc).__name__}: {exc}"
print(json.dumps(result))
"""


def read_with_duckdb15(kind: str, path: Path) -> dict:
    done = subprocess.run([str(OLD_PYTHON), "-c", OLD_READER, kind, str(path)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["version"].startswith("1.5."), result["version"]
    return result


def read_with_ours(con: duckdb.DuckDBPyConnection, sources: dict[str, str]) -> dict:
    """The same reading as OLD_READER's: every value as DuckDB prints it, in UTC."""
    con.execute("SET TimeZone = 'UTC'")
    return {
        name: sorted(
            json.dumps(row) for row in con.execute(f"SELECT CAST(COLUMNS(*) AS VARCHAR) FROM {source}").fetchall()
        )
        for name, source in sources.items()
    }


@pytest.fixture(scope="module", autouse=True)
def old_duckdb():
    if not OLD_PYTHON.exists():
        pytest.fail(f"{OLD_PYTHON} is missing: run `make duckdb15` (make test runs it) to install DuckDB 1.5")


@pytest.fixture
def published(tmp_path):
    warehouse = tmp_path / "warehouse.duckdb"
    make_marts_warehouse(warehouse, generation=3)
    config = load_serving_config(warehouse, {})
    con = duckdb.connect(str(warehouse))
    publish_serving_copy(con, config, RefreshStamp.new(), {})
    con.close()
    publish_parquet(config)
    return config


def test_the_serving_copy_opens_in_duckdb_15_with_every_row(published):
    old = read_with_duckdb15("database", published.serving_file)
    assert "error" not in old, old["error"]
    con = open_serving(published.serving_file)
    names = con.execute("SELECT schema_name, table_name FROM duckdb_tables() ORDER BY 1, 2").fetchall()
    ours = read_with_ours(con, {f"{s}.{t}": f'"{s}"."{t}"' for s, t in names})
    con.close()
    assert old["tables"] == ours
    assert {"marts.mart_kpi_scorecard", "reference.service_categories", "serving.refresh"} <= set(ours)


def test_the_parquet_exports_open_in_duckdb_15_with_every_row(published):
    folder = published.parquet_dir.resolve()
    old = read_with_duckdb15("parquet", folder)
    assert "error" not in old, old["error"]
    manifest = read_manifest(folder)
    con = duckdb.connect()
    files = {t["table"]: ", ".join(f"'{folder}/{f['file']}'" for f in t["files"]) for t in manifest["tables"]}
    ours = read_with_ours(con, {table: f"read_parquet([{named}])" for table, named in files.items()})
    con.close()
    assert old["tables"] == ours
    assert len(ours["mart_calls_by_beat"]) == 30


def test_duckdb_15_refuses_a_file_in_duckdb_20s_own_format(tmp_path):
    """The check above can fail: a file written with 2.0's defaults does not open in 1.5."""
    path = tmp_path / "default_format.duckdb"
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE t AS SELECT 1 AS x")
    con.close()
    old = read_with_duckdb15("database", path)
    assert "version number" in old.get("error", ""), old
