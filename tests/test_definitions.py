"""The Dagster definitions load, and the asset graph is one connected lineage from extract to model."""

from __future__ import annotations

from dagster import AssetKey

from orchestration.definitions import defs
from orchestration.landing.canonical import CANONICAL_SOURCES
from orchestration.transform.project import build_args


def test_each_staging_model_depends_on_its_raw_asset():
    graph = defs.resolve_asset_graph()
    raw_keys = {AssetKey(["raw", s]) for s in [*CANONICAL_SOURCES, "quarantine", "source_profiles"]}
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
