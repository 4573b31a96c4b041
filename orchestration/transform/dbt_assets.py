"""dbt models, seeds and tests as Dagster assets and asset checks (through dagster-dbt)."""

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from dagster import AssetExecutionContext
from dagster_dbt import (
    DagsterDbtTranslator,
    DagsterDbtTranslatorSettings,
    DbtCliResource,
    dbt_assets,
)

from orchestration.engines import current_target, hand_raw_to_target
from orchestration.ledger.store import ensure_ledger, mark_rebuilt, now, pending_rebuilds
from orchestration.resources import WarehouseResource
from orchestration.transform.project import build_args, dbt_project, ensure_manifest, full_refresh_reason, record_build

ensure_manifest()


class WarehouseTranslator(DagsterDbtTranslator):
    """Sources keep dbt's default keys (``raw/<table>``, the landing assets' keys); models and
    seeds are grouped by layer: staging, intermediate, marts, reference."""

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        if dbt_resource_props["resource_type"] == "seed":
            return "reference"
        fqn = dbt_resource_props.get("fqn", [])
        return fqn[1] if len(fqn) > 2 else "dbt"


translator = WarehouseTranslator(settings=DagsterDbtTranslatorSettings(enable_asset_checks=True))


@dbt_assets(manifest=dbt_project.manifest_path, project=dbt_project, dagster_dbt_translator=translator)
def warehouse_dbt_assets(context: AssetExecutionContext, dbt: DbtCliResource, warehouse: WarehouseResource):
    """Build the selected models and seeds and run their tests, in dependency order. The large
    facts build incrementally (only rows landed since the last build); everything is rebuilt from
    raw when the seeds, models or macros changed since then (or PSW_FULL_REFRESH=1). dbt's unit
    tests run with every full build: an incremental one runs the code they passed for last time."""
    warehouse_path = Path(warehouse.path)
    started = now()
    with warehouse.connect() as con:
        ensure_ledger(con)
        left = pending_rebuilds(con)  # batches that left the admitted set took rows from the built tables
        handed = hand_raw_to_target(con)  # after the gates: the other engine sees their verdicts too
    if handed:
        context.log.info(f"raw tables and batch states handed to the {current_target()} target: {handed}")
    reason = full_refresh_reason(warehouse_path) or (
        f"{len(left)} batch(es) left the admitted set since the last build: {left[0]}" if left else None
    )
    if reason:
        context.log.info(f"dbt build --full-refresh (unit tests included): {reason}")
    else:
        context.log.info("dbt build, incremental: same seeds, models and macros as the last build (unit tests passed)")
    full = reason is not None
    yield from dbt.cli(build_args(full_refresh=full, unit_tests=full), context=context).stream()
    if not context.is_subset:  # a partial build leaves other models on the old inputs
        record_build(warehouse_path)
        if full:
            with warehouse.connect() as con:
                mark_rebuilt(con, started)
