"""dbt models, seeds and tests as Dagster assets and asset checks (through dagster-dbt)."""

from dagster import AssetExecutionContext, Config
from dagster_dbt import (
    DbtCliResource,
    dbt_assets,
)

from orchestration import python_mart_inputs
from orchestration.engines import current_target, hand_raw_to_target
from orchestration.engines.take_back import take_back_from_target
from orchestration.ledger.store import ensure_ledger, mark_rebuilt, now, pending_rebuilds
from orchestration.resources import WarehouseResource
from orchestration.settings import dbt_environment
from orchestration.transform.build_state import full_refresh_reason, record_build
from orchestration.transform.project import build_args, dbt_project, prepare_manifest
from orchestration.transform.table_metadata import stream_with_table_metadata
from orchestration.transform.translator import translator

prepare_manifest()


class DbtBuildConfig(Config):
    """Run options of the dbt build, set in the launchpad or by ``cli run --full-refresh``."""

    full_refresh: bool = False
    """Rebuild every incremental model from all of raw (otherwise only when the build state asks for it)."""


@dbt_assets(manifest=dbt_project.manifest_path, project=dbt_project, dagster_dbt_translator=translator)
def warehouse_dbt_assets(
    context: AssetExecutionContext, dbt: DbtCliResource, warehouse: WarehouseResource, config: DbtBuildConfig
):
    """Build the selected models and seeds and run their tests, in dependency order. The large
    facts build incrementally (only rows landed since the last build); everything is rebuilt from
    raw when the seeds, models, macros or vars changed since then (dbt's checksums, kept in
    ``raw.dbt_build_state``) or when the run's config asks for it. dbt's unit
    tests run with every full build: an incremental one runs the code they passed for last time.
    A full build also forgets what the Python marts were computed from: they are computed again."""
    started = now()
    with warehouse.connect() as con:
        ensure_ledger(con)
        left = pending_rebuilds(con)  # batches that left the admitted set took rows from the built tables
        handed = hand_raw_to_target(con)  # after the gates: the other engine sees their verdicts too
        state_reason = full_refresh_reason(con, dbt_project.manifest_path)
    if handed:
        context.log.info(f"raw tables and batch states handed to the {current_target()} target: {handed}")
    reason = (
        ("the run's config asks for a full refresh" if config.full_refresh else None)
        or state_reason
        or (f"{len(left)} batch(es) left the admitted set since the last build: {left[0]}" if left else None)
    )
    if reason:
        context.log.info(f"dbt build --full-refresh (unit tests included): {reason}")
    else:
        context.log.info("dbt build, incremental: same seeds, models and macros as the last build (unit tests passed)")
    full = reason is not None
    with dbt_environment(warehouse.path):
        invocation = dbt.cli(build_args(full_refresh=full, unit_tests=full), context=context)
    yield from stream_with_table_metadata(invocation)
    with warehouse.connect() as con:
        taken = take_back_from_target(con)  # what PostgreSQL built, for every step after this one
    if taken:
        context.log.info(f"{len(taken)} tables built by the {current_target()} target taken back into the warehouse")
    if not context.is_subset:  # a partial build leaves other models on the old inputs
        with warehouse.connect() as con:
            record_build(con, dbt_project.manifest_path)
            if full:
                mark_rebuilt(con, started)
                python_mart_inputs.forget_all(con)  # a full build computes the Python marts again too


def refresh_run_config(full_refresh: bool = False, log_level: str = "WARNING") -> dict:
    """Run config of the refresh job: the dbt build's options and the console's log level."""
    return {
        "ops": {warehouse_dbt_assets.op.name: {"config": {"full_refresh": full_refresh}}},
        "loggers": {"console": {"config": {"log_level": log_level}}},
    }
