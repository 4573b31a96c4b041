"""The one place that builds the dbt project handle and decides dbt CLI arguments."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

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


# Every file ``dbt parse`` reads: the manifest is parsed again when one of them is newer than it.
PARSE_INPUTS = ("seeds", "dbt_project/models", "dbt_project/macros", "dbt_project/dbt_project.yml")


def _input_files() -> list[Path]:
    files = []
    for entry in (*PARSE_INPUTS, "dbt_project/profiles.yml"):
        root = PROJECT_ROOT / entry
        files += [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file())
    return files


def newest_input_mtime() -> float:
    return max(p.stat().st_mtime for p in _input_files())


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
