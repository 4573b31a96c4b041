"""The one code location: raw landing, dbt models, checks, serving, automation.

``dagster dev -w workspace.yaml`` loads ``defs``; tests call ``build_definitions`` with their own settings.
"""

from dagster import AssetSelection, Definitions, define_asset_job, in_process_executor
from dagster_dbt import DbtCliResource

from orchestration.automation import AutomationConfig, build_schedules, build_sensors, with_source_freshness
from orchestration.boundaries.assets import area_boundaries, boundaries_gate
from orchestration.checks.assets import ASSET_CHECKS
from orchestration.checks.kpi_drift import kpi_drift_check
from orchestration.concentration.assets import mart_violence_concentration_intervals
from orchestration.forecast.assets import mart_demand_forecast
from orchestration.landing.assets import land_raw_extracts
from orchestration.replay.assets import mart_dispatch_replay
from orchestration.resources import LandingResource, WarehouseResource
from orchestration.serving.all_assets import SERVING_ASSETS
from orchestration.settings import Settings, load_settings
from orchestration.stop_tests.assets import mart_stop_disparity_tests
from orchestration.transform.dbt_assets import warehouse_dbt_assets
from orchestration.transform.project import dbt_executable, dbt_project

refresh_warehouse = define_asset_job(
    "refresh_warehouse",
    selection=AssetSelection.all(),
    description="Land every new extract, build and test every dbt model, run the gates, publish.",
)


def _lock_wait(settings: Settings) -> float:
    """How long a Dagster run waits for another refresh: ``PSW_REFRESH_LOCK_WAIT_SECONDS``, else 10 s."""
    wait = settings.env.refresh_lock_wait_seconds
    return 10.0 if wait is None else wait


def build_definitions(settings: Settings) -> Definitions:
    """All definitions, wired to the given settings (the resources carry them; nothing is written to
    the process's environment: the dbt asset names the warehouse to its subprocess when it runs)."""
    automation = AutomationConfig.from_environment(settings.env)
    return Definitions(
        assets=[
            with_source_freshness(land_raw_extracts, automation),
            area_boundaries,
            warehouse_dbt_assets,
            mart_demand_forecast,
            mart_dispatch_replay,
            mart_stop_disparity_tests,
            mart_violence_concentration_intervals,
            *SERVING_ASSETS,
        ],
        asset_checks=[*ASSET_CHECKS, boundaries_gate, kpi_drift_check],
        jobs=[refresh_warehouse],
        schedules=build_schedules(automation),
        sensors=build_sensors(automation),
        resources={
            "warehouse": WarehouseResource(
                database=str(settings.warehouse_path), lock_wait_seconds=_lock_wait(settings)
            ),
            "landing": LandingResource(
                landing_dir=str(settings.landing_dir),
                profiles_dir=str(settings.profiles_dir),
                warehouse_path=str(settings.warehouse_path),
            ),
            "dbt": DbtCliResource(project_dir=dbt_project, dbt_executable=dbt_executable()),
        },
        # One DuckDB file takes one writer at a time: steps run one after another in one process.
        executor=in_process_executor,
    )


defs = build_definitions(load_settings())
