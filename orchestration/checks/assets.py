"""Every quality gate as a Dagster asset check, on the raw and dbt assets it judges."""

from dagster import AssetChecksDefinition

from orchestration.checks.gates import build_gates
from orchestration.landing.assets import RAW_SPECS
from orchestration.transform.dbt_assets import warehouse_dbt_assets

ASSET_CHECKS: list[AssetChecksDefinition] = build_gates(
    {spec.key for spec in RAW_SPECS} | set(warehouse_dbt_assets.keys)
)
