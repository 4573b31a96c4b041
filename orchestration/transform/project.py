"""The one place that builds the dbt project handle and decides dbt CLI arguments."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

from dagster_dbt import DbtProject

from orchestration.settings import DBT_PROJECT_DIR, PROJECT_ROOT, dbt_environment, load_settings, read_environment


def dbt_executable() -> str:
    """The dbt of this environment (the venv's), even when the venv is not on PATH."""
    beside_python = Path(sys.executable).parent / "dbt"
    return str(beside_python) if beside_python.exists() else (shutil.which("dbt") or "dbt")


def dbt_target() -> str:
    return read_environment().dbt_target


# Each engine parses into its own folder (target/, target-postgres/, target-spark/): a manifest is
# parsed for one adapter, and a job on another engine must not replace the one a DuckDB job reads.
dbt_project = DbtProject(
    project_dir=DBT_PROJECT_DIR,
    profiles_dir=DBT_PROJECT_DIR,
    target=dbt_target(),
    target_path=Path("target" if dbt_target() == "duckdb" else f"target-{dbt_target()}"),
)


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


def _manifest_adapter(manifest: Path) -> str | None:
    try:
        return json.loads(manifest.read_text())["metadata"]["adapter_type"]
    except (OSError, ValueError, KeyError, TypeError):
        return None


def manifest_is_current() -> bool:
    """The manifest exists, is newer than every file ``dbt parse`` reads, and was parsed for this target."""
    manifest = dbt_project.manifest_path
    if not manifest.exists() or manifest.stat().st_mtime < newest_input_mtime():
        return False
    return _manifest_adapter(manifest) == ("spark" if dbt_target() == "spark" else dbt_target())


def prepare_manifest(force: bool = False) -> Path:
    """The manifest the dbt assets load, made by dagster-dbt's own preparer (``dbt parse``, which
    dbt's partial parsing keeps quick). Under ``dagster dev`` it is prepared at every load
    (``DbtProject.prepare_if_dev``); elsewhere when it is missing or out of date (``force``: the
    CLI and the tests check before a run, so a changed model is never run from an old manifest).
    The preparer finds dbt on ``PATH``: ``make`` puts the project's environment there.

    It parses with the profile the job's build uses (``dbt_environment`` of the configured
    warehouse): dbt keeps a parse for later partial parsing only while the profile's connection
    details are unchanged, so a parse under another warehouse path made every build parse the
    whole project again (8 s of ``make run``'s build at the demo scale)."""
    with dbt_environment(load_settings().warehouse_path):
        if dbt_project.preparer.using_dagster_dev():
            dbt_project.prepare_if_dev()
        elif not dbt_project.manifest_path.exists() or (force and not manifest_is_current()):
            dbt_project.preparer.prepare(dbt_project)
    return dbt_project.manifest_path
