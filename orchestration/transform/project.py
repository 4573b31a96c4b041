"""The one place that builds the dbt project handle and decides dbt CLI arguments."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
from dagster_dbt import DbtProject

from orchestration.settings import DBT_PROJECT_DIR, PROJECT_ROOT


def dbt_executable() -> str:
    """The dbt of this environment (the venv's), even when the venv is not on PATH."""
    beside_python = Path(sys.executable).parent / "dbt"
    return str(beside_python) if beside_python.exists() else (shutil.which("dbt") or "dbt")


def dbt_target() -> str:
    return os.environ.get("PSW_DBT_TARGET", "duckdb")


dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR, target=dbt_target())


def parse_args() -> list[str]:
    return ["parse", "--quiet"]


def build_args(selection: list[str] | None = None, full_refresh: bool = False, unit_tests: bool = True) -> list[str]:
    """``dbt build`` (models, seeds and tests in DAG order), optionally limited to a selection.

    ``unit_tests=False`` leaves dbt's unit tests out: they test the models' code on fixed inputs,
    not the data, so a refresh with the same code as a build they passed for proves nothing new."""
    args = ["build"]
    if full_refresh:
        args.append("--full-refresh")
    if not unit_tests:
        args += ["--exclude-resource-type", "unit_test"]
    if selection:
        args += ["--select", *selection]
    return args


# What the incremental models were last built with: a change to any of it (a seed's taxonomy or
# costs, a model's logic, a variable) makes rows built before it wrong, so it asks for a full refresh.
TRANSFORM_INPUTS = ("seeds", "dbt_project/models", "dbt_project/macros", "dbt_project/dbt_project.yml")


def _input_files() -> list[Path]:
    files = []
    for entry in (*TRANSFORM_INPUTS, "dbt_project/profiles.yml"):
        root = PROJECT_ROOT / entry
        files += [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file())
    return files


def newest_input_mtime() -> float:
    return max(p.stat().st_mtime for p in _input_files())


def transform_fingerprint() -> str:
    """One hash of every file the dbt build reads (seeds, models, macros, project variables)."""
    digest = hashlib.sha256()
    for path in _input_files():
        digest.update(str(path.relative_to(PROJECT_ROOT)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def build_state_path(warehouse_path: Path) -> Path:
    """Beside the warehouse: the fingerprint its incremental models were built with."""
    return warehouse_path.with_name(warehouse_path.name + ".build-state.json")


def full_refresh_reason(warehouse_path: Path) -> str | None:
    """Why the next build must rebuild the incremental models from all of raw, or None."""
    if os.environ.get("PSW_FULL_REFRESH", "").lower() in ("1", "true", "yes"):
        return "PSW_FULL_REFRESH is set"
    state = build_state_path(warehouse_path)
    if not state.exists():
        return "no record of an earlier build of this warehouse"
    recorded = json.loads(state.read_text())
    if recorded.get("fingerprint") != transform_fingerprint():
        return "seeds, models or macros changed since the last build"
    last = recorded.get("last_landing")
    if last and not _has_landing(warehouse_path, last):
        return f"the warehouse is not the one last built (its landings lack the one of {last}): made anew?"
    return None


def record_build(warehouse_path: Path) -> None:
    """After a whole build: the fingerprint it was built with and the latest landing it saw."""
    state = {"fingerprint": transform_fingerprint(), "last_landing": _latest_landing(warehouse_path)}
    build_state_path(warehouse_path).write_text(json.dumps(state))


def _latest_landing(warehouse_path: Path) -> str | None:
    return _query_batches(warehouse_path, "SELECT max(loaded_at)::VARCHAR FROM raw.batches", [])


def _has_landing(warehouse_path: Path, loaded_at: str) -> bool:
    sql = "SELECT count(*) > 0 FROM raw.batches WHERE loaded_at::VARCHAR = ?"
    return bool(_query_batches(warehouse_path, sql, [loaded_at]))


def _query_batches(warehouse_path: Path, sql: str, params: list):
    """One value from the warehouse's batch ledger (raw always lands in DuckDB), None without one."""
    if not Path(warehouse_path).exists():
        return None
    con = duckdb.connect(str(warehouse_path), read_only=True)
    try:
        return con.execute(sql, params).fetchone()[0]
    except duckdb.CatalogException:
        return None
    finally:
        con.close()


def ensure_manifest(force: bool = False) -> Path:
    """Write target/manifest.json with ``dbt parse`` if it is missing (or when forced)."""
    manifest = dbt_project.manifest_path
    stamp = manifest.with_name("manifest.parsed-with.json")
    # The environment is stored as a hash: its values include tokens, passwords and DSNs.
    env_hash = hashlib.sha256(json.dumps(_parse_env(), sort_keys=True).encode("utf-8")).hexdigest()
    parsed_with = json.dumps({"inputs": newest_input_mtime(), "target": dbt_target(), "env_sha256": env_hash})
    if force and manifest.exists() and stamp.exists() and stamp.read_text() == parsed_with:
        force = False  # nothing dbt reads changed since this manifest was written: parsing again gives it back
    if force or not manifest.exists() or os.environ.get("DAGSTER_IS_DEV_CLI"):
        subprocess.run(
            [
                dbt_executable(),
                *parse_args(),
                "--project-dir",
                str(DBT_PROJECT_DIR),
                "--profiles-dir",
                str(DBT_PROJECT_DIR),
                "--target",
                dbt_target(),
            ],
            check=True,
            cwd=DBT_PROJECT_DIR,
        )
        stamp.write_text(parsed_with)
    return manifest


def _parse_env() -> dict[str, str]:
    """The environment variables the profiles and project read at parse time."""
    return {k: v for k, v in sorted(os.environ.items()) if k.startswith(("PSW_", "DBT_"))}
