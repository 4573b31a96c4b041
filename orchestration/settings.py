"""Paths and switches, read once from the environment (with defaults that work from a fresh clone).

Its variables are listed, with their defaults, in the README's Configuration tables (the one list).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DBT_PROJECT_DIR = PROJECT_ROOT / "dbt_project"


TRUE = ("1", "true", "yes", "on")


def is_true(value: str | None) -> bool:
    """The one reading of a yes/no setting: ``1``, ``true``, ``yes`` or ``on`` (any case) is yes."""
    return (value or "").strip().lower() in TRUE


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


def prepare_process(settings: Settings) -> None:
    """For a process that runs the job itself (the CLI): its Dagster home (``DAGSTER_HOME``, with
    a ``dagster.yaml``) and the warehouse's folder. Loading the definitions writes nothing."""
    from orchestration.instance import ensure_dagster_yaml

    os.environ["DAGSTER_HOME"] = str(settings.dagster_home)
    ensure_dagster_yaml(settings.dagster_home)
    settings.warehouse_path.parent.mkdir(parents=True, exist_ok=True)


@contextmanager
def dbt_environment(warehouse_path: str | Path) -> Iterator[None]:
    """While a dbt subprocess is started: ``PSW_WAREHOUSE`` names this run's warehouse (dbt's
    profile reads it; dagster-dbt hands the subprocess a copy of the environment when it starts
    it). The earlier value is put back after, so the process's environment is left as it was."""
    before = os.environ.get("PSW_WAREHOUSE")
    os.environ["PSW_WAREHOUSE"] = str(Path(warehouse_path).resolve())
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("PSW_WAREHOUSE", None)
        else:
            os.environ["PSW_WAREHOUSE"] = before
