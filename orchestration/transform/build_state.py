"""What the warehouse's incremental models were last built from, kept in the warehouse itself.

dbt already fingerprints every node it builds: the manifest's ``checksum`` of each model and
seed (the same checksums ``state:modified`` compares), and each macro's SQL. After a whole build
those checksums, and the project's variables, go to ``raw.dbt_build_state``; before the next
build they are compared with the manifest just parsed. Any difference (a taxonomy row, a cost, a
model's logic, a macro, a threshold in ``vars``) makes rows built before it wrong, so the build
is a full refresh, and the reason names what changed. So does a change of the beat boundaries a
city's records are placed against (staging takes a placed record's beat from them): the batch id
of each city's admitted beat file is kept beside the checksums.

The state lives in the warehouse, so a warehouse made anew (its file deleted) has none and
builds everything; there is no file beside it to get out of step.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import duckdb

from orchestration.boundaries.admitted import admitted_beat_batches
from orchestration.settings import DBT_PROJECT_DIR

STATE_TABLE = "raw.dbt_build_state"
BUILT_TYPES = ("model", "seed", "snapshot")


def manifest_checksums(manifest_path: Path, project_dir: Path = DBT_PROJECT_DIR) -> dict[str, str]:
    """unique_id -> checksum for every model, seed and snapshot, every macro of this project, and
    the project's variables (``vars``), from a dbt manifest."""
    manifest = json.loads(Path(manifest_path).read_text())
    project = manifest["metadata"].get("project_name")
    sums = {
        uid: node["checksum"]["checksum"]
        for uid, node in manifest["nodes"].items()
        if node["resource_type"] in BUILT_TYPES
    }
    for uid, macro in manifest["macros"].items():
        if macro.get("package_name") == project:
            sums[uid] = hashlib.sha256(macro["macro_sql"].encode()).hexdigest()
    # vars are not part of any node's checksum, yet a threshold in them changes what a model computes
    sums["vars"] = hashlib.sha256(json.dumps(project_vars(project_dir), sort_keys=True).encode()).hexdigest()
    return sums


def boundary_checksums(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """The key "beat boundaries of <city>" -> the batch id of the city's admitted beat file, for every city with one."""
    return {f"beat boundaries of {city}": batch for city, batch in admitted_beat_batches(con).items()}


def build_checksums(con: duckdb.DuckDBPyConnection, manifest_path: Path, project_dir: Path) -> dict[str, str]:
    """What a build reads: the manifest's checksums and each city's admitted beat boundaries."""
    return manifest_checksums(manifest_path, project_dir) | boundary_checksums(con)


def project_vars(project_dir: Path = DBT_PROJECT_DIR) -> dict:
    """The project's variables as dbt_project.yml sets them (dbt's manifest does not keep them)."""
    import yaml

    return yaml.safe_load((Path(project_dir) / "dbt_project.yml").read_text()).get("vars") or {}


def _exists(con: duckdb.DuckDBPyConnection) -> bool:
    schema, table = STATE_TABLE.split(".")
    sql = "SELECT 1 FROM information_schema.tables WHERE table_schema = ? AND table_name = ?"
    return con.execute(sql, [schema, table]).fetchone() is not None


def recorded_checksums(con: duckdb.DuckDBPyConnection) -> dict[str, str] | None:
    """The checksums of the last whole build of this warehouse, or None if it has none."""
    if not _exists(con):
        return None
    rows = con.execute(f"SELECT unique_id, checksum FROM {STATE_TABLE}").fetchall()
    return dict(rows) or None


def record_build(con: duckdb.DuckDBPyConnection, manifest_path: Path, project_dir: Path = DBT_PROJECT_DIR) -> None:
    """After a whole build: the checksums it was built from replace the earlier ones."""
    sums = build_checksums(con, manifest_path, project_dir)
    con.execute("CREATE SCHEMA IF NOT EXISTS raw")
    con.execute(
        f"CREATE TABLE IF NOT EXISTS {STATE_TABLE} "
        "(unique_id VARCHAR PRIMARY KEY, checksum VARCHAR NOT NULL, built_at TIMESTAMP NOT NULL)"
    )
    con.execute("BEGIN")
    con.execute(f"DELETE FROM {STATE_TABLE}")
    con.executemany(f"INSERT INTO {STATE_TABLE} VALUES (?, ?, current_timestamp::TIMESTAMP)", sorted(sums.items()))
    con.execute("COMMIT")


def changed_nodes(recorded: dict[str, str], current: dict[str, str]) -> list[str]:
    """The names of what differs between two builds' checksums: changed, added or removed."""
    names = sorted(k for k in recorded.keys() | current.keys() if recorded.get(k) != current.get(k))
    # resource type and name, without the project ("model.psw.mart_x" -> "model.mart_x"; "vars" stays)
    return [".".join(n.split(".")[0:1] + n.split(".")[2:]) for n in names]


def full_refresh_reason(
    con: duckdb.DuckDBPyConnection, manifest_path: Path, project_dir: Path = DBT_PROJECT_DIR
) -> str | None:
    """Why the next build must rebuild the incremental models from all of raw, or None."""
    recorded = recorded_checksums(con)
    if recorded is None:
        return "no record of an earlier build of this warehouse"
    changed = changed_nodes(recorded, build_checksums(con, manifest_path, project_dir))
    if not changed:
        return None
    more = f" and {len(changed) - 3} more" if len(changed) > 3 else ""
    return f"changed since the last build: {', '.join(changed[:3])}{more}"
