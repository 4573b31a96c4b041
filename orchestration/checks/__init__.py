"""Quality gates: the Great Expectations suites under ``expectations/``, run by GX on DuckDB as
blocking Dagster asset checks (one per suite, on the suite's asset). See docs/quality_gates.md."""

from dagster import AssetChecksDefinition

from orchestration.checks.gates import build_gates
from orchestration.landing.assets import RAW_SPECS
from orchestration.transform.dbt_assets import warehouse_dbt_assets

ASSET_CHECKS: list[AssetChecksDefinition] = build_gates(
    {spec.key for spec in RAW_SPECS} | set(warehouse_dbt_assets.keys)
)
