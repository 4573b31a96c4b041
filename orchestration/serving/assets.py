"""Serving assets: the serving DuckDB copy, the Parquet exports and the PostgreSQL marts.

They depend on every mart (and every reference seed) that dbt builds, computed from the dbt
manifest, so they run after the marts and after the marts' blocking checks: a failing gate
stops them and the previous published copies stay as they were.
"""

from dagster import AssetExecutionContext, AssetKey, MaterializeResult, MetadataValue, asset

from orchestration.concentration.assets import INTERVALS_KEY
from orchestration.forecast.assets import FORECAST_KEY
from orchestration.ledger.store import ensure_ledger, held_cities
from orchestration.replay.assets import REPLAY_KEY
from orchestration.resources import WarehouseResource
from orchestration.serving.catalog import MARTS_SCHEMA, REFERENCE_SCHEMA, Table, load_dbt_descriptions
from orchestration.serving.config import RefreshStamp, load_serving_config
from orchestration.serving.parquet_export import publish_parquet
from orchestration.serving.postgres import publish_postgres
from orchestration.serving.serving_copy import STORAGE_VERSION, publish_serving_copy
from orchestration.stop_tests.assets import TESTS_KEY
from orchestration.transform.dbt_assets import warehouse_dbt_assets
from orchestration.transform.project import dbt_project

SERVING_GROUP = "serving"
WAREHOUSE_SERVING_KEY = AssetKey([SERVING_GROUP, "warehouse_serving"])
PUBLISHED_DBT_KEYS = sorted(
    (k for k in warehouse_dbt_assets.keys if k.path[0] in (MARTS_SCHEMA, REFERENCE_SCHEMA)),
    key=lambda k: k.path,
)


def _tables_markdown(tables: list[Table]) -> MetadataValue:
    rows = "".join(f"| {t.qualified} | {t.rows:,} | {len(t.columns)} |\n" for t in tables)
    return MetadataValue.md("| table | rows | columns |\n|---|---:|---:|\n" + rows)


@asset(
    key=WAREHOUSE_SERVING_KEY,
    deps=[*PUBLISHED_DBT_KEYS, FORECAST_KEY, REPLAY_KEY, TESTS_KEY, INTERVALS_KEY],
    group_name=SERVING_GROUP,
    kinds={"duckdb"},
    output_required=False,
    description=(
        "The read-only DuckDB file BI tools open (data/serving/warehouse_serving.duckdb): every table of "
        "marts and reference, in DuckDB 1.5's storage format, replaced atomically after each refresh; the "
        "months and tables whose rows did not change are kept from the last published file."
    ),
)
def warehouse_serving(context: AssetExecutionContext, warehouse: WarehouseResource):
    config = load_serving_config(warehouse.path)
    stamp = RefreshStamp.new(context.run.run_id)
    with warehouse.connect() as con:
        ensure_ledger(con)
        held = held_cities(con, context.run.run_id)  # the marts gates of this run, city by city
        tables = publish_serving_copy(con, config, stamp, load_dbt_descriptions(dbt_project.manifest_path), held)
    for city, reasons in held.items():
        context.log.warning(f"city {city} held by the marts gates, its last published figures kept: {reasons}")
    marts = [t for t in tables if t.schema == MARTS_SCHEMA]
    if not marts:
        context.log.warning("schema marts holds no tables yet: the serving copy carries only the reference tables")
    yield MaterializeResult(
        metadata={
            "refresh_id": stamp.refresh_id,
            "git_revision": stamp.git_revision,
            "path": MetadataValue.path(str(config.serving_file)),
            "storage_compatibility_version": STORAGE_VERSION,
            "marts": len(marts),
            "bytes": config.serving_file.stat().st_size,
            "tables": _tables_markdown(tables),
            "cities_held": MetadataValue.md(
                "\n".join(f"- **{c}**: {'; '.join(r)}" for c, r in held.items()) or "none: every city is current"
            ),
        }
    )


@asset(
    key=AssetKey([SERVING_GROUP, "parquet_marts"]),
    deps=[WAREHOUSE_SERVING_KEY],
    group_name=SERVING_GROUP,
    kinds={"parquet"},
    description=(
        "Every mart as data/serving/parquet/<table>.parquet (a large mart: a file a month in <table>/), with "
        "manifest.json; only the files whose rows changed are written, and the export is swapped in as a whole."
    ),
)
def parquet_marts(context: AssetExecutionContext, warehouse: WarehouseResource) -> MaterializeResult:
    config = load_serving_config(warehouse.path)
    manifest = publish_parquet(config)
    rows = "".join(f"| {t['table']} | {t['rows']:,} |\n" for t in manifest["tables"])
    return MaterializeResult(
        metadata={
            "refresh_id": manifest["refresh_id"],
            "path": MetadataValue.path(str(config.parquet_dir)),
            "files_written": manifest["files_written"],
            "files_kept": manifest["files_kept"],
            "tables": MetadataValue.md("| table | rows |\n|---|---:|\n" + rows),
        }
    )


@asset(
    key=AssetKey([SERVING_GROUP, "postgres_marts"]),
    deps=[WAREHOUSE_SERVING_KEY],
    group_name=SERVING_GROUP,
    kinds={"postgres"},
    output_required=False,
    description=(
        "Every mart in schema marts of the PostgreSQL database named by PSW_PG_DSN (or PGHOST), swapped in "
        "one transaction, readable by the read-only role (PSW_PG_READONLY_ROLE). Skipped when unconfigured."
    ),
)
def postgres_marts(context: AssetExecutionContext, warehouse: WarehouseResource):
    config = load_serving_config(warehouse.path)
    if not config.postgres_configured:
        context.log.warning(
            "PostgreSQL publishing is off: set PSW_PG_DSN (or PGHOST) to publish the marts; "
            "skipping serving/postgres_marts"
        )
        return
    published = publish_postgres(config)
    if not published.previous_dropped:
        context.log.warning("the previous marts are still read by a query; marts__previous is dropped next time")
    yield MaterializeResult(
        metadata={
            "refresh_id": published.refresh_id,
            "database": published.database,
            "readonly_role": published.role,
            "role_created": published.role_created,
            "tables": MetadataValue.md(
                "| table | rows |\n|---|---:|\n"
                + "".join(f"| marts.{t} | {n:,} |\n" for t, n in published.tables.items())
            ),
        }
    )
