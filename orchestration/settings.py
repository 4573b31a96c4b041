"""Paths and switches, read once from the environment (with defaults that work from a fresh clone).

| variable           | default                          | what it is                                  |
|--------------------|----------------------------------|---------------------------------------------|
| PSW_WAREHOUSE      | data/warehouse.duckdb            | the DuckDB file the pipeline writes         |
| PSW_LANDING_DIR    | data/landing                     | where extracts arrive (one folder per city) |
| PSW_PROFILES_DIR   | orchestration/source_profiles    | the declarative source profiles             |
| PSW_DEMO_SCALE     | 1.0                              | size of the demo city (1.0 = 60,000 calls)  |
| PSW_DEMO_SEED      | 20250101                         | random seed of the demo city                |
| DAGSTER_HOME       | .dagster_home                    | Dagster's run history (kept between runs)   |
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DBT_PROJECT_DIR = PROJECT_ROOT / "dbt_project"


def _path(env: dict[str, str], name: str, default: Path) -> Path:
    value = env.get(name)
    path = Path(value) if value else default
    return path if path.is_absolute() else (PROJECT_ROOT / path).resolve()


@dataclass(frozen=True)
class Settings:
    warehouse_path: Path
    landing_dir: Path
    profiles_dir: Path
    dagster_home: Path
    demo_scale: float
    demo_seed: int

    @property
    def demo_dir(self) -> Path:
        return self.landing_dir / "demo_city"

    @property
    def rejected_dir(self) -> Path:
        """Where ``batches drop`` moves a dropped batch's file (beside the landing folder, so no
        profile pattern can match it again): ``PSW_REJECTED_DIR``, else ``<landing>/../rejected``."""
        value = os.environ.get("PSW_REJECTED_DIR")
        if value:
            path = Path(value)
            return path if path.is_absolute() else (PROJECT_ROOT / path).resolve()
        return self.landing_dir.parent / "rejected"


def load_settings(env: dict[str, str] | None = None) -> Settings:
    """Settings from the environment; relative paths are taken from the project root."""
    env = dict(os.environ if env is None else env)
    return Settings(
        warehouse_path=_path(env, "PSW_WAREHOUSE", PROJECT_ROOT / "data" / "warehouse.duckdb"),
        landing_dir=_path(env, "PSW_LANDING_DIR", PROJECT_ROOT / "data" / "landing"),
        profiles_dir=_path(env, "PSW_PROFILES_DIR", PROJECT_ROOT / "orchestration" / "source_profiles"),
        dagster_home=_path(env, "DAGSTER_HOME", PROJECT_ROOT / ".dagster_home"),
        demo_scale=float(env.get("PSW_DEMO_SCALE", "1.0")),
        demo_seed=int(env.get("PSW_DEMO_SEED", "20250101")),
    )


def export_for_subprocesses(settings: Settings) -> None:
    """Make dbt (run as a subprocess by dagster-dbt) see the same absolute paths."""
    from orchestration.instance import ensure_dagster_yaml

    os.environ["PSW_WAREHOUSE"] = str(settings.warehouse_path)
    os.environ["DAGSTER_HOME"] = str(settings.dagster_home)
    ensure_dagster_yaml(settings.dagster_home)
    settings.warehouse_path.parent.mkdir(parents=True, exist_ok=True)
