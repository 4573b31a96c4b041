"""Shared fixtures: temporary warehouses, and one demo-city run shared by the analytic tests."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import duckdb
import pytest

from orchestration.settings import PROJECT_ROOT, Settings

FIXTURES = Path(__file__).parent / "fixtures"
MILWAUKEE_FILE = FIXTURES / "milwaukee" / "milwaukee_calls_for_service_2018-05.csv"
PROFILES_DIR = PROJECT_ROOT / "orchestration" / "source_profiles"
# Half the default scale: 30,000 calls, enough for the planted effects to stand out of the noise.
TEST_SCALE = 0.5
TEST_SEED = 20250101


def make_settings(root: Path, scale: float = TEST_SCALE) -> Settings:
    return Settings(
        warehouse_path=root / "warehouse.duckdb",
        landing_dir=root / "landing",
        profiles_dir=PROFILES_DIR,
        dagster_home=root / "dagster_home",
        demo_scale=scale,
        demo_seed=TEST_SEED,
    )


@pytest.fixture(scope="session", autouse=True)
def dbt_manifest(request):
    """dbt parse once per session, so the dbt assets load from a fresh manifest (one worker at a
    time: pytest-xdist's workers share the project's target folder). A session of ``pure`` tests
    only (the mutation runs') needs no dbt project."""
    import fcntl

    if request.session.items and all(item.get_closest_marker("pure") for item in request.session.items):
        return None

    from orchestration.transform.project import dbt_project, prepare_manifest

    os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
    dbt_project.manifest_path.parent.mkdir(parents=True, exist_ok=True)
    with open(dbt_project.manifest_path.with_name("manifest.lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        return prepare_manifest(force=True)


def run_pipeline(settings: Settings, selection=None, full_refresh: bool = False):
    """Run the refresh job in process against the given settings; returns the Dagster result.
    ``full_refresh``: the dbt build's run config rebuilds every incremental model from all of raw."""
    from dagster import DagsterInstance

    from orchestration.automation.run_alerts import execute_with_alerts
    from orchestration.definitions import build_definitions
    from orchestration.transform.dbt_assets import refresh_run_config

    defs = build_definitions(settings)
    settings.dagster_home.mkdir(parents=True, exist_ok=True)
    job = defs.resolve_job_def("refresh_warehouse")
    with DagsterInstance.ephemeral() as instance:
        result, _sent = execute_with_alerts(  # the CLI's path: the run, then its alerts
            job,
            instance,
            raise_on_error=False,
            asset_selection=selection,
            run_config=refresh_run_config(full_refresh) if selection is None else _logs_only(),
        )
        return result


def _logs_only() -> dict:
    """A selection may leave the dbt build out, and its config with it."""
    return {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}


@pytest.fixture(scope="session")
def demo_city(tmp_path_factory):
    """The demo city at test scale plus the real Milwaukee extract, landed and built once per session."""
    from orchestration.demo_city.generator import generate

    root = tmp_path_factory.mktemp("demo_city_run")
    settings = make_settings(root)
    generate(settings.demo_dir, settings.demo_scale, settings.demo_seed, progress=lambda _m: None)
    # The real Milwaukee extract lands beside the demo city, through its own profile.
    (settings.landing_dir / "milwaukee").mkdir(parents=True)
    shutil.copy(MILWAUKEE_FILE, settings.landing_dir / "milwaukee" / MILWAUKEE_FILE.name)
    truth = json.loads((settings.demo_dir / "truth.json").read_text())
    result = run_pipeline(settings)
    assert result.success, [e.message for e in result.all_events if e.is_failure]
    return settings, truth, result


@pytest.fixture(scope="session")
def demo_warehouse(demo_city):
    """A read-only connection to the demo city's warehouse."""
    settings, _, _ = demo_city
    con = duckdb.connect(str(settings.warehouse_path), read_only=True)
    yield con
    con.close()


@pytest.fixture(scope="session")
def demo_report_html(demo_city) -> str:
    """The demo city's report page as the run wrote it."""
    from orchestration.report.config import load_report_config

    settings, _, _ = demo_city
    return (load_report_config(settings.warehouse_path, env={}).report_dir / "index.html").read_text()


@pytest.fixture(scope="session")
def demo_truth(demo_city):
    settings, _, _ = demo_city
    return json.loads((settings.demo_dir / "truth.json").read_text())
