"""The one place that builds the dbt project handle and decides dbt CLI arguments."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from dagster_dbt import DbtProject

from orchestration.settings import DBT_PROJECT_DIR


def dbt_executable() -> str:
    """The dbt of this environment (the venv's), even when the venv is not on PATH."""
    beside_python = Path(sys.executable).parent / "dbt"
    return str(beside_python) if beside_python.exists() else (shutil.which("dbt") or "dbt")


def dbt_target() -> str:
    return os.environ.get("PSW_DBT_TARGET", "duckdb")


dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR, target=dbt_target())


def parse_args() -> list[str]:
    return ["parse", "--quiet"]


def build_args(selection: list[str] | None = None) -> list[str]:
    """``dbt build`` (models, seeds and tests in DAG order), optionally limited to a selection."""
    args = ["build"]
    if selection:
        args += ["--select", *selection]
    return args


def ensure_manifest(force: bool = False) -> Path:
    """Write target/manifest.json with ``dbt parse`` if it is missing (or when forced)."""
    manifest = dbt_project.manifest_path
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
    return manifest
