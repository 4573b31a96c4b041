"""The Dagster instance's settings (``$DAGSTER_HOME/dagster.yaml``), written when missing.

One refresh at a time: the run queue starts one run at once (a sensor run and a scheduled run
wait their turn), beside the warehouse's own refresh lock, which also covers CLI runs. Telemetry
is off (nothing leaves the machine, and Dagster does not print its banner).
"""

from __future__ import annotations

from pathlib import Path

DAGSTER_YAML = """\
# Written by orchestration/instance.py (make run, make ui); edit freely, it is not rewritten.
telemetry:
  enabled: false
concurrency:
  runs:
    # one refresh at a time: DuckDB takes one writer, and a run holds the warehouse's refresh lock
    max_concurrent_runs: 1
"""


def ensure_dagster_yaml(dagster_home: Path) -> Path:
    """``dagster.yaml`` in ``dagster_home``, written with this project's settings when missing."""
    dagster_home.mkdir(parents=True, exist_ok=True)
    path = dagster_home / "dagster.yaml"
    if not path.exists():
        path.write_text(DAGSTER_YAML)
    return path
