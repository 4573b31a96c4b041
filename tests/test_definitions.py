"""The Dagster definitions load, and the asset graph is one connected lineage from extract to model."""

from __future__ import annotations

from dagster import AssetKey

from orchestration.boundaries.land import RECORD_SOURCES
from orchestration.definitions import defs
from orchestration.landing.canonical import CANONICAL_SOURCES
from orchestration.landing.profiles import LOOKUP_FIELDS
from orchestration.transform.project import build_args


def test_each_staging_model_depends_on_its_raw_asset():
    graph = defs.resolve_asset_graph()
    raw_keys = {
        AssetKey(["raw", s])
        for s in [
            *CANONICAL_SOURCES,
            "quarantine",
            "source_profiles",
            "area_boundaries",
            "record_placement_batches",
            "area_crosswalk",
            "lookup_values",
        ]
    }
    assert raw_keys <= set(graph.get_all_asset_keys())
    staging = [k for k in graph.get_all_asset_keys() if k.path[0] == "staging"]
    assert len(staging) == len(raw_keys)
    ledger = AssetKey(["raw", "batch_states"])
    assert graph.get(ledger).is_materializable  # landed (and judged) by the pipeline, not external
    for key in staging:
        parents = graph.get(key).parent_keys
        expected = AssetKey(["raw", key.path[-1].removeprefix("stg_")])
        # a landed source is read through the batch ledger: only the files a gate passed
        wanted = {expected, ledger} if expected.path[-1] in CANONICAL_SOURCES else {expected}
        if expected.path[-1] == "area_boundaries":  # boundary files keep their own ledger of gate verdicts
            wanted = {expected, AssetKey(["raw", "area_boundary_batches"])}
        if expected.path[-1] == "lookup_values":  # so do lookup files
            wanted = {expected, AssetKey(["raw", "lookup_batches"])}
        if expected.path[-1] in LOOKUP_FIELDS:  # records are joined to their lookup files in staging
            wanted |= {AssetKey(["raw", t]) for t in ("lookup_fields", "lookup_values", "lookup_batches")}
        if expected.path[-1] in RECORD_SOURCES:  # a record without a beat takes the one its point is in
            wanted |= {AssetKey(["raw", "record_places"])}
        assert parents == wanted, f"{key.to_user_string()} should read {expected.to_user_string()}"
        # and the raw asset is materialisable here, not an external source
        assert graph.get(expected).is_materializable


def test_dbt_tests_are_asset_checks():
    graph = defs.resolve_asset_graph()
    checks = {c.name for c in graph.asset_check_keys}
    assert "unique_stg_calls_for_service_call_key" in checks
    assert "not_null_stg_calls_for_service_received_at_utc" in checks


def test_the_refresh_job_selects_every_asset():
    job = defs.resolve_job_def("refresh_warehouse")
    assert job.asset_layer.selected_asset_keys == set(defs.resolve_asset_graph().get_all_asset_keys())


def test_dbt_build_arguments():
    assert build_args() == ["build"]
    assert build_args(["tag:marts", "stg_stops"]) == ["build", "--select", "tag:marts", "stg_stops"]
    assert build_args(full_refresh=False, unit_tests=False) == ["build", "--exclude-resource-type", "unit_test"]


def test_every_check_has_a_description_and_every_dbt_asset_an_owner():
    """The catalog is worth browsing: a sentence on each check, an owner on each model and seed."""
    checks = [spec for a in defs.assets if hasattr(a, "check_specs") for spec in a.check_specs]
    checks += [spec for check in defs.asset_checks or [] for spec in check.check_specs]
    assert len(checks) > 100
    undescribed = [c.name for c in checks if not (c.description or "").strip()]
    assert undescribed == []
    graph = defs.resolve_asset_graph()
    for key in graph.get_all_asset_keys():
        if key.path[0] in ("staging", "intermediate", "marts", "reference"):
            owners = graph.get(key).owners
            assert owners, f"{key.to_user_string()} has no owner"
            team = "team:analytics" if key.path[0] in ("marts", "reference") else "team:data-engineering"
            assert owners == [team]


def test_dbt_tests_are_described_in_words():
    from orchestration.transform.translator import describe_test

    not_null = {"test_metadata": {"name": "not_null", "kwargs": {"column_name": "call_id"}}}
    assert describe_test(not_null) == "`call_id` is never empty."
    accepted = {
        "test_metadata": {"name": "accepted_values", "kwargs": {"column_name": "kind", "values": list("abcdefgh")}},
        "config": {"severity": "warn", "where": "city = 'x'"},
    }
    assert describe_test(accepted) == (
        "`kind` takes only these values: a, b, c, d, e, f (and 2 more). Only rows where city = 'x'."
        " A failure warns; it does not block."
    )
    combo = {"test_metadata": {"name": "unique_combination", "kwargs": {"columns": ["city", "month"]}}}
    assert describe_test(combo) == "One row per city × month."
    assert describe_test({**combo, "description": "Said in the yml."}) == "Said in the yml."


def test_loading_the_definitions_writes_nothing_to_the_environment(tmp_path):
    """The paths travel in the resources; the dbt asset names the warehouse to its subprocess
    only while it starts it (orchestration.settings.dbt_environment)."""
    import os

    from orchestration.definitions import build_definitions
    from orchestration.settings import dbt_environment

    from .conftest import make_settings

    before = dict(os.environ)
    build_definitions(make_settings(tmp_path)).resolve_asset_graph()
    assert dict(os.environ) == before
    assert not (tmp_path / "dagster_home").exists() and not list(tmp_path.iterdir())  # nor to disk
    with dbt_environment(tmp_path / "w.duckdb"):
        assert os.environ["PSW_WAREHOUSE"] == str(tmp_path / "w.duckdb")
    assert dict(os.environ) == before


def test_every_dbt_relation_name_fits_postgresqls_identifier_limit():
    """dbt on PostgreSQL makes a relation named after each model and each unit test: PostgreSQL
    refuses a name over 63 bytes, and the build fails there only (it did, for a unit test's name)."""
    import yaml

    from orchestration.settings import DBT_PROJECT_DIR

    names = []
    for path in (DBT_PROJECT_DIR / "models").rglob("*.yml"):
        doc = yaml.safe_load(path.read_text()) or {}
        names += [(path.name, u["name"]) for u in doc.get("unit_tests") or []]
    names += [(p.name, p.stem) for p in (DBT_PROJECT_DIR / "models").rglob("*.sql")]
    assert len(names) > 50
    assert [n for n in names if len(n[1].encode()) > 63] == []
