"""The transparency report as a Dagster asset, written after each refresh.

It depends on the marts it reads (and the quarantine), so it runs after them and after their
blocking checks: a failing gate stops it and the previous report stays as it was. The checks
that ran in the same refresh are summarised in its data-quality section.
"""

from pathlib import Path

from dagster import AssetExecutionContext, AssetKey, DagsterEventType, MaterializeResult, MetadataValue, asset

from orchestration.report.config import load_report_config
from orchestration.report.context import CheckSummary
from orchestration.report.published import published_connection
from orchestration.report.site import build_report
from orchestration.resources import WarehouseResource
from orchestration.serving.assets import WAREHOUSE_SERVING_KEY
from orchestration.serving.config import load_serving_config
from orchestration.transform.dbt_assets import warehouse_dbt_assets
from orchestration.transform.project import dbt_project

REPORT_KEY = AssetKey(["serving", "transparency_report"])
# What the report reads. Marts not built yet (another question's marts still in progress) are
# left out of the deps; the report then says "not yet available" for their section.
READS = (
    ("marts", "mart_kpi_scorecard"),
    ("marts", "mart_response_times"),
    ("marts", "mart_community_trust"),
    ("marts", "mart_budget_performance"),
    ("marts", "mart_service_demand"),
    ("marts", "mart_officer_initiated_activity"),
    ("marts", "mart_classification_coverage"),
    ("marts", "mart_enforcement_divergence"),
    ("marts", "mart_opportunity_zones"),
    ("marts", "mart_violence_concentration"),
    ("marts", "mart_concentration_curve"),
    ("marts", "mart_area_boundaries"),
    ("marts", "mart_record_placement"),
    ("marts", "mart_stop_equity"),
    ("marts", "mart_stop_outcomes"),
    ("staging", "stg_quarantine"),
    ("reference", "city_source_profiles"),
    ("reference", "kpi_targets"),
)
# After the serving copy: the report shows what was published (a city held by a marts gate keeps
# its last published figures there too).
REPORT_DEPS = [AssetKey(list(path)) for path in READS if AssetKey(list(path)) in warehouse_dbt_assets.keys] + [
    WAREHOUSE_SERVING_KEY
]


def checks_in_run(context: AssetExecutionContext) -> list[CheckSummary]:
    """Every asset check evaluated so far in this run (dbt tests and quality gates)."""
    entries = context.instance.all_logs(context.run.run_id, of_type=DagsterEventType.ASSET_CHECK_EVALUATION)
    found = []
    for entry in entries:
        evaluation = entry.dagster_event.event_specific_data
        found.append(
            CheckSummary(
                asset="/".join(evaluation.asset_key.path),
                name=evaluation.check_name,
                passed=bool(evaluation.passed),
                severity=evaluation.severity.value,
            )
        )
    return found


@asset(
    key=REPORT_KEY,
    deps=REPORT_DEPS,
    group_name="serving",
    kinds={"html"},
    description=(
        "The public transparency report (PSW_REPORT_DIR, default report/ beside the warehouse: data/report): "
        "one-page scorecard, a section per question with charts and captions, data quality, how each number "
        "is made, small cells suppressed; scorecard.csv and scorecard.json beside it. Opens offline."
    ),
)
def transparency_report(context: AssetExecutionContext, warehouse: WarehouseResource) -> MaterializeResult:
    config = load_report_config(warehouse.path)
    serving_file = load_serving_config(warehouse.path).serving_file
    with published_connection(Path(warehouse.path), serving_file) as con:
        result = build_report(con, config, dbt_project.manifest_path, checks_in_run(context), context.run.run_id)
    return MaterializeResult(
        metadata={
            "path": MetadataValue.path(str(result.index)),
            "charts": result.charts,
            "figures": result.figures,
            "scorecard_rows": result.scorecard_rows,
            "marts_read": ", ".join(result.marts),
            "min_cell_count": config.min_cell_count,
        }
    )
