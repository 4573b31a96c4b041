"""The refresh decision (orchestration/transform/build_state.py): what the warehouse was last built
from, and why the next build must be a full refresh. Built on a small manifest written here, so a
seed, a model, a macro, a variable and a test each change alone."""

from __future__ import annotations

import json

import duckdb
import pytest

from orchestration.transform import build_state as bs

pytestmark = pytest.mark.pure


def write_project(root, *, model="a1", seed="s1", test="t1", macro="select 1", other_macro="x", vars_=None):
    manifest = {
        "metadata": {"project_name": "psw"},
        "nodes": {
            "model.psw.mart_one": {"resource_type": "model", "checksum": {"checksum": model}},
            "seed.psw.kpi_targets": {"resource_type": "seed", "checksum": {"checksum": seed}},
            "snapshot.psw.snap": {"resource_type": "snapshot", "checksum": {"checksum": "n1"}},
            "test.psw.not_null_x": {"resource_type": "test", "checksum": {"checksum": test}},
        },
        "macros": {
            "macro.psw.divide": {"package_name": "psw", "macro_sql": macro},
            "macro.dbt.run_query": {"package_name": "dbt", "macro_sql": other_macro},
        },
    }
    (root / "manifest.json").write_text(json.dumps(manifest))
    (root / "dbt_project.yml").write_text(json.dumps({"name": "psw", "vars": vars_ or {"min_cell_count": 11}}))
    return root / "manifest.json"


def test_the_checksums_cover_models_seeds_snapshots_this_projects_macros_and_vars(tmp_path):
    sums = bs.manifest_checksums(write_project(tmp_path), tmp_path)
    assert set(sums) == {"model.psw.mart_one", "seed.psw.kpi_targets", "snapshot.psw.snap", "macro.psw.divide", "vars"}
    assert sums["model.psw.mart_one"] == "a1" and sums["seed.psw.kpi_targets"] == "s1"
    assert len(sums["macro.psw.divide"]) == 64 and len(sums["vars"]) == 64
    assert bs.project_vars(tmp_path) == {"min_cell_count": 11}


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"model": "a2"}, ["model.mart_one"]),
        ({"seed": "s2"}, ["seed.kpi_targets"]),
        ({"macro": "select 2"}, ["macro.divide"]),
        ({"vars_": {"min_cell_count": 5}}, ["vars"]),
    ],
)
def test_each_change_to_what_a_build_reads_asks_for_a_full_refresh(tmp_path, change, named):
    con = duckdb.connect()
    assert (
        bs.full_refresh_reason(con, write_project(tmp_path), tmp_path)
        == "no record of an earlier build of this warehouse"
    )
    bs.record_build(con, write_project(tmp_path), tmp_path)
    assert bs.full_refresh_reason(con, write_project(tmp_path), tmp_path) is None
    assert (
        bs.full_refresh_reason(con, write_project(tmp_path, **change), tmp_path)
        == f"changed since the last build: {named[0]}"
    )


def test_a_test_or_another_packages_macro_changing_asks_for_nothing(tmp_path):
    con = duckdb.connect()
    bs.record_build(con, write_project(tmp_path), tmp_path)
    assert bs.full_refresh_reason(con, write_project(tmp_path, test="t2", other_macro="y"), tmp_path) is None


def test_the_reason_names_three_changes_and_counts_the_rest(tmp_path):
    con = duckdb.connect()
    bs.record_build(con, write_project(tmp_path), tmp_path)
    changed = write_project(tmp_path, model="a2", seed="s2", macro="m", vars_={"k": 1})
    assert bs.full_refresh_reason(con, changed, tmp_path) == (
        "changed since the last build: macro.divide, model.mart_one, seed.kpi_targets and 1 more"
    )


def test_three_changes_are_all_named(tmp_path):
    con = duckdb.connect()
    bs.record_build(con, write_project(tmp_path), tmp_path)
    changed = write_project(tmp_path, model="a2", seed="s2", macro="m")
    assert bs.full_refresh_reason(con, changed, tmp_path) == (
        "changed since the last build: macro.divide, model.mart_one, seed.kpi_targets"
    )


def test_the_same_vars_written_in_another_order_are_no_change(tmp_path):
    con = duckdb.connect()
    bs.record_build(con, write_project(tmp_path, vars_={"a": 1, "b": {"x": 1, "y": 2}}), tmp_path)
    reordered = write_project(tmp_path, vars_={"b": {"y": 2, "x": 1}, "a": 1})
    assert bs.full_refresh_reason(con, reordered, tmp_path) is None


def test_a_new_build_replaces_the_record_and_an_empty_record_is_none(tmp_path):
    con = duckdb.connect()
    bs.record_build(con, write_project(tmp_path), tmp_path)
    bs.record_build(con, write_project(tmp_path, model="a2"), tmp_path)
    recorded = bs.recorded_checksums(con)
    assert recorded["model.psw.mart_one"] == "a2" and len(recorded) == 5
    con.execute(f"DELETE FROM {bs.STATE_TABLE}")
    assert bs.recorded_checksums(con) is None


def test_added_and_removed_nodes_are_changes():
    assert bs.changed_nodes({"model.p.a": "1", "vars": "v"}, {"model.p.b": "2", "vars": "w"}) == [
        "model.a",
        "model.b",
        "vars",
    ]
    assert bs.changed_nodes({"model.p.a": "1"}, {"model.p.a": "1"}) == []


def _boundary_file(con, city: str, batch: str, passed: bool, minute: int, level: str = "beat") -> None:
    """A row of raw.area_boundary_batches as boundary landing writes it (only the columns read here)."""
    con.execute("CREATE SCHEMA IF NOT EXISTS raw")
    con.execute(
        "CREATE TABLE IF NOT EXISTS raw.area_boundary_batches "
        "(batch_id VARCHAR, city VARCHAR, area_level VARCHAR, gate_passed BOOLEAN, loaded_at TIMESTAMP)"
    )
    con.execute(
        "INSERT INTO raw.area_boundary_batches VALUES (?, ?, ?, ?, TIMESTAMP '2026-12-05 08:00:00' + to_minutes(?))",
        [batch, city, level, passed, minute],
    )


def test_a_citys_new_admitted_beat_boundaries_ask_for_a_full_refresh(tmp_path):
    """Staging takes a placed record's beat from the admitted boundaries, and a new admitted file places
    every file of the city again: rows built from the old placements are stale."""
    con = duckdb.connect()
    _boundary_file(con, "city_a", "b1", True, 0)
    _boundary_file(con, "city_b", "c1", True, 0)
    bs.record_build(con, write_project(tmp_path), tmp_path)
    assert bs.full_refresh_reason(con, write_project(tmp_path), tmp_path) is None
    # a newer file the gate held, and a newer district file: the beats placed against are the same
    _boundary_file(con, "city_a", "b2", False, 5)
    _boundary_file(con, "city_a", "d1", True, 6, level="district")
    assert bs.full_refresh_reason(con, write_project(tmp_path), tmp_path) is None
    _boundary_file(con, "city_a", "b3", True, 10)
    assert (
        bs.full_refresh_reason(con, write_project(tmp_path), tmp_path)
        == "changed since the last build: beat boundaries of city_a"
    )
    bs.record_build(con, write_project(tmp_path), tmp_path)
    assert bs.recorded_checksums(con)["beat boundaries of city_a"] == "b3"
    assert bs.full_refresh_reason(con, write_project(tmp_path), tmp_path) is None


def test_a_city_without_boundaries_adds_nothing_to_the_build_state():
    con = duckdb.connect()
    assert bs.boundary_checksums(con) == {}
    _boundary_file(con, "city_a", "b1", False, 0)
    assert bs.boundary_checksums(con) == {}
