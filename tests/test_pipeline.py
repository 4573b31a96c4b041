"""The whole graph on the demo city: counts reconcile from generator to raw to staging."""

from __future__ import annotations

import duckdb
import pytest

from orchestration.landing.canonical import CANONICAL_SOURCES

from .conftest import make_settings, run_pipeline

STAGING = {
    "calls_for_service": "stg_calls_for_service",
    "service_requests": "stg_service_requests",
    "incidents": "stg_incidents",
    "stops": "stg_stops",
    "budget": "stg_budget",
    "survey_responses": "stg_survey_responses",
    "areas": "stg_areas",
}


@pytest.mark.parametrize("source", sorted(CANONICAL_SOURCES))
def test_rows_reconcile_from_generator_to_raw_to_staging(source, demo_truth, demo_warehouse):
    written = demo_truth["rows"][source]
    demo = "_source_profile LIKE 'demo_city%'"
    raw = demo_warehouse.execute(f"SELECT count(*) FROM raw.{source} WHERE {demo}").fetchone()[0]
    read, landed, quarantined = demo_warehouse.execute(
        "SELECT sum(rows_read), sum(rows_landed), sum(rows_quarantined) FROM raw.batches "
        "WHERE source = ? AND source_profile LIKE 'demo_city%'",
        [source],
    ).fetchone()
    staged = demo_warehouse.execute(
        f"SELECT count(*) FROM staging.{STAGING[source]} WHERE source_profile LIKE 'demo_city%'"
    ).fetchone()[0]
    assert read == written, "every row the generator wrote was read"
    assert read == landed + quarantined
    assert quarantined == 0, "the demo city writes no broken rows"
    assert raw == landed == staged == written


def test_every_file_the_generator_wrote_is_one_batch(demo_truth, demo_warehouse):
    files = {name for by_file in demo_truth["files"].values() for name in by_file}
    batches = {
        row[0].rsplit("/", 1)[-1]
        for row in demo_warehouse.execute(
            "SELECT source_file FROM raw.batches WHERE source_profile LIKE 'demo_city%'"
        ).fetchall()
    }
    assert batches == files


def test_staging_times_are_utc_and_local_time_is_the_city_clock(demo_warehouse):
    # The generator writes Chicago wall-clock times; staging keeps UTC and the local clock.
    offsets = demo_warehouse.execute(
        "SELECT DISTINCT datediff('hour', received_at_local, received_at_utc) FROM staging.stg_calls_for_service "
        "WHERE source_profile = 'demo_city_calls'"
    ).fetchall()
    assert sorted(o[0] for o in offsets) == [5, 6]  # CDT in summer, CST in winter


def test_a_second_run_lands_nothing_new_and_changes_no_counts(tmp_path):
    from orchestration.demo_city.generator import generate

    settings = make_settings(tmp_path, scale=0.02)
    truth = generate(settings.demo_dir, settings.demo_scale, settings.demo_seed, progress=lambda _m: None)
    assert run_pipeline(settings).success
    assert run_pipeline(settings).success
    con = duckdb.connect(str(settings.warehouse_path), read_only=True)
    try:
        for source, rows in truth["rows"].items():
            assert con.execute(f"SELECT count(*) FROM raw.{source}").fetchone()[0] == rows
        assert con.execute("SELECT count(*) FROM raw.batches").fetchone()[0] == sum(
            len(f) for f in truth["files"].values()
        )
    finally:
        con.close()


def test_a_corrected_record_replaces_the_earlier_one_in_staging(tmp_path):
    """The same call id landed again in a later file: raw keeps both, staging keeps the latest."""
    settings = make_settings(tmp_path)
    calls = settings.landing_dir / "demo_city" / "calls_for_service"
    calls.mkdir(parents=True)
    (calls.parent / "areas.csv").write_text(
        "beat,beat_name,district,district_name,population,min_latitude,max_latitude,min_longitude,max_longitude\n"
        "1A,Beat 1A,1,District 1,1000,41.8,41.84,-87.8,-87.75\n"
    )
    header = (
        "incident_number,call_source,self_initiated,initial_type,final_type,final_type_desc,priority,time_received,"
        "time_dispatched,time_enroute,time_arrived,time_cleared,disposition,beat,district,lat,lon,block,units\n"
    )
    row = "C1,911,N,NOISE,{t},X,3,2025-05-01T10:00:00,,,,,ADVISED,1A,1,41.81,-87.79,100 BLOCK MAIN ST,1\n"
    (calls / "calls_for_service_2025-05-01.csv").write_text(header + row.format(t="NOISE"))
    assert run_pipeline(settings).success
    (calls / "calls_for_service_2025-05-02.csv").write_text(header + row.format(t="DISTRB"))
    assert run_pipeline(settings).success
    con = duckdb.connect(str(settings.warehouse_path), read_only=True)
    try:
        assert con.execute("SELECT count(*) FROM raw.calls_for_service").fetchone()[0] == 2
        assert con.execute("SELECT call_type FROM staging.stg_calls_for_service").fetchall() == [("DISTRB",)]
    finally:
        con.close()


def test_dbt_assets_carry_their_row_count_and_column_schema(demo_city, demo_warehouse):
    """The catalog shows what each built table holds: its rows and its columns with their types."""
    _, _, result = demo_city
    materialized = {e.asset_key.to_user_string(): e for e in result.get_asset_materialization_events()}
    demand = materialized["marts/mart_service_demand"].event_specific_data.materialization.metadata
    rows = demo_warehouse.execute("SELECT count(*) FROM marts.mart_service_demand").fetchone()[0]
    assert demand["dagster/row_count"].value == rows > 0
    columns = demo_warehouse.execute(
        "SELECT column_name, data_type FROM information_schema.columns "
        "WHERE table_schema = 'marts' AND table_name = 'mart_service_demand' ORDER BY ordinal_position"
    ).fetchall()
    schema = demand["dagster/column_schema"].value
    assert [(c.name, c.type) for c in schema.columns] == columns
    staging_view = materialized["staging/stg_areas"].event_specific_data.materialization.metadata
    assert "dagster/column_schema" in staging_view and "dagster/row_count" not in staging_view  # views not counted


def test_dbt_reports_each_tables_metadata_as_it_builds_so_its_events_stream(demo_city, tmp_path):
    """dbt holds the warehouse file while it builds, so the catalog's row counts and columns come
    from dbt itself (a post-hook per model), and each model's event is handed to Dagster while dbt
    is still running: not held until it ends. Real dbt, on a copy of the demo warehouse."""
    import shutil

    from dagster import AssetMaterialization
    from dagster_dbt import DbtCliResource

    from orchestration.settings import dbt_environment
    from orchestration.transform.project import dbt_project
    from orchestration.transform.table_metadata import stream_with_table_metadata

    settings, _, _ = demo_city
    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copy(settings.warehouse_path, warehouse)
    dbt = DbtCliResource(project_dir=dbt_project, target="duckdb")
    args = ["run", "--select", "staging mart_service_demand", "--target-path", str(tmp_path / "target")]
    with dbt_environment(warehouse):
        invocation = dbt.cli(args, manifest=dbt_project.manifest_path)
        outputs = []
        for event in stream_with_table_metadata(invocation):
            if isinstance(event, AssetMaterialization):  # a model built (outside an asset, no Output)
                outputs.append((event, invocation.process.poll()))
    assert len(outputs) == 14
    _, running = outputs[0]
    assert running is None, "the first model's output came after dbt had ended"
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        by_model = {str(e.metadata["unique_id"].value).rsplit(".", 1)[-1]: e.metadata for e, _ in outputs}
        demand = by_model["mart_service_demand"]
        assert (
            demand["dagster/row_count"].value
            == con.execute("SELECT count(*) FROM marts.mart_service_demand").fetchone()[0]
        )
        columns = con.execute(
            "SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = 'staging' "
            "AND table_name = 'stg_calls_for_service' ORDER BY ordinal_position"
        ).fetchall()
        calls = by_model["stg_calls_for_service"]  # incremental: a table
        assert [(c.name, c.type) for c in calls["dagster/column_schema"].value.columns] == columns
        rows = con.execute("SELECT count(*) FROM staging.stg_calls_for_service").fetchone()[0]
        assert calls["dagster/row_count"].value == rows > 0
        view = by_model["stg_areas"]
        described = con.execute("DESCRIBE staging.stg_areas").fetchall()
        assert [(c.name, c.type) for c in view["dagster/column_schema"].value.columns] == [r[:2] for r in described]
        assert "dagster/row_count" not in view  # a view is not counted: counting it runs its query
    finally:
        con.close()
