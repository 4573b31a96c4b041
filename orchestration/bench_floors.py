"""The benchmark's floors: the same work done by the bare engine, with no orchestration.

- The read floor: every landing file read by DuckDB's ``read_csv``, every field as text, with the
  file's name (what landing keeps, read once).
- The SQL floor: the same compiled SQL of the dbt models and data tests, in one DuckDB connection.

``orchestration/benchmark.py`` measures them in the same run as the pipeline, so each stage has
its own ratio.
"""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import duckdb


def read_floor(landing_dir: Path, scratch: Path) -> tuple[float, int]:
    """Every CSV under the landing folder read by DuckDB's ``read_csv`` into one table per folder
    (every field as text, with the file's name), in one connection: seconds and rows read."""
    folders = sorted({p.parent for p in landing_dir.rglob("*.csv")})
    copy = scratch / "read_floor.duckdb"
    copy.unlink(missing_ok=True)
    con = duckdb.connect(str(copy))
    rows = 0
    started = time.perf_counter()
    for i, folder in enumerate(folders):
        files = sorted(str(p) for p in folder.glob("*.csv"))
        con.execute(
            f"CREATE TABLE t{i} AS SELECT * FROM read_csv(?, all_varchar = true, filename = true, "
            "union_by_name = true)",
            [files],
        )
        rows += con.execute(f"SELECT count(*) FROM t{i}").fetchone()[0]
    elapsed = time.perf_counter() - started
    con.close()
    copy.unlink(missing_ok=True)
    return elapsed, rows


def engine_floor(warehouse: Path, target_path: Path, scratch: Path) -> float:
    """Every model's compiled SQL in dependency order, then every data test, in one DuckDB connection."""
    manifest = json.loads((target_path / "manifest.json").read_text())
    nodes = {k: n for k, n in manifest["nodes"].items() if n["resource_type"] == "model"}
    order: list[str] = []
    seen: set[str] = set()

    def visit(key: str) -> None:
        if key in seen or key not in nodes:
            return
        seen.add(key)
        for dep in nodes[key]["depends_on"]["nodes"]:
            visit(dep)
        order.append(key)

    for key in sorted(nodes):
        visit(key)
    copy = scratch / "floor.duckdb"
    shutil.copy(warehouse, copy)
    con = duckdb.connect(str(copy))
    started = time.perf_counter()
    for key in order:
        node = nodes[key]
        kind = "VIEW" if node["config"]["materialized"] in ("view", "ephemeral") else "TABLE"
        relation = f'"{node["schema"]}"."{node["alias"] or node["name"]}"'
        con.execute(f'CREATE SCHEMA IF NOT EXISTS "{node["schema"]}"')
        sql = node["compiled_code"].replace(f'"{warehouse.stem}".', f'"{copy.stem}".')
        con.execute(f"CREATE OR REPLACE {kind} {relation} AS {sql}")
    # dbt build also runs the data tests: so does the floor (each test is a query for failing rows).
    for node in manifest["nodes"].values():
        if node["resource_type"] == "test" and node.get("compiled_code"):
            sql = node["compiled_code"].replace(f'"{warehouse.stem}".', f'"{copy.stem}".')
            con.execute(f"SELECT count(*) FROM ({sql}) AS failures").fetchone()
    elapsed = time.perf_counter() - started
    con.close()
    return elapsed
