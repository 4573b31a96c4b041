"""The one code location: raw landing, dbt models, checks, jobs. ``dagster dev`` loads this."""

from __future__ import annotations

from dagster import AssetSelection, Definitions, define_asset_job, in_process_executor
from dagster_dbt import DbtCliResource

from orchestration.landing.assets import land_raw_extracts
from orchestration.resources import LandingResource, WarehouseResource
from orchestration.settings import export_for_subprocesses, load_settings
from orchestration.transform.dbt_assets import warehouse_dbt_assets
from orchestration.transform.project import dbt_executable, dbt_project

settings = load_settings()
export_for_subprocesses(settings)

refresh_all = define_asset_job(
    "refresh_warehouse",
    selection=AssetSelection.all(),
    description="Land every new extract, then build and test every dbt model.",
)

defs = Definitions(
    assets=[land_raw_extracts, warehouse_dbt_assets],
    jobs=[refresh_all],
    resources={
        "warehouse": WarehouseResource(path=str(settings.warehouse_path)),
        "landing": LandingResource(landing_dir=str(settings.landing_dir), profiles_dir=str(settings.profiles_dir)),
        "dbt": DbtCliResource(project_dir=dbt_project, dbt_executable=dbt_executable()),
    },
    # One DuckDB file takes one writer at a time: steps run one after another in one process.
    executor=in_process_executor,
)
