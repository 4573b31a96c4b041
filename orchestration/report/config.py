"""Where the transparency report is written, and the suppression thresholds it shares with dbt.

Its variables are listed, with their defaults, in the README's Configuration tables (the one list).

The thresholds are not configured here: they are dbt vars (dbt_project/dbt_project.yml), so the
public marts and the report suppress the same cells.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import yaml

from orchestration.settings import DBT_PROJECT_DIR, read_environment


@dataclass(frozen=True)
class ReportConfig:
    report_dir: Path
    data_docs_dir: Path
    min_cell_count: int
    min_survey_respondents: int
    # a zone this far past its thresholds (measure / threshold) is 'strong' (the mart's own band)
    zone_strong_strength: float = 1.5


def dbt_vars(project_dir: Path = DBT_PROJECT_DIR) -> dict:
    """The ``vars:`` block of dbt_project.yml."""
    return yaml.safe_load((project_dir / "dbt_project.yml").read_text()).get("vars", {})


def load_report_config(warehouse_path: str | Path, env: Mapping[str, str] | None = None) -> ReportConfig:
    """Paths default to folders beside the warehouse, so a warehouse in a temporary folder
    (tests) gets its report there too."""
    e = read_environment(env)
    beside = Path(warehouse_path).resolve().parent
    dbt = dbt_vars()
    return ReportConfig(
        report_dir=e.resolve(e.report_dir, beside / "report"),
        data_docs_dir=e.resolve(e.data_docs_dir, beside / "data_docs"),
        min_cell_count=int(dbt["min_cell_count"]),
        min_survey_respondents=int(dbt["min_survey_respondents"]),
        zone_strong_strength=float(dbt["opportunity_zone_strong_strength"]),
    )
