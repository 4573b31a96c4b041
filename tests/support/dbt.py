"""dbt run as a test runs it: the project's dbt against one warehouse file, in a folder of the test's own."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from orchestration.settings import DBT_PROJECT_DIR
from orchestration.transform.project import dbt_executable


def dbt_build(
    warehouse: Path, work_dir: Path, selection: list[str], variables: dict | None = None, full_refresh: bool = False
) -> str:
    """``dbt build`` (models, seeds, unit and data tests) of a selection against a warehouse file."""
    env = {**os.environ, "PSW_WAREHOUSE": str(warehouse), "PSW_DBT_TARGET": "duckdb"}
    extra = ["--vars", json.dumps(variables)] if variables else []
    extra += ["--full-refresh"] if full_refresh else []
    completed = subprocess.run(
        [
            dbt_executable(),
            "build",
            "--select",
            *selection,
            # Only the tests of the selected models (not, say, a relationship to a model left out).
            "--indirect-selection",
            "cautious",
            "--target",
            "duckdb",
            "--target-path",
            str(work_dir / "target"),
            "--log-path",
            str(work_dir / "logs"),
            *extra,
        ],
        cwd=DBT_PROJECT_DIR,
        env=env,
        capture_output=True,
        text=True,
    )
    assert completed.returncode == 0, completed.stdout[-4000:] + completed.stderr[-2000:]
    return completed.stdout
