"""The marts gate on fct_calls_for_service judges a city that passed on the calls admitted since,
and the whole city again when the calls it passed with changed.

Each test runs the real gate (Great Expectations on a copy of the session's built warehouse: the
demo city and Milwaukee's real extract, two batches) after planting one change in the stored calls
(intermediate.int_calls_classified; the fact is a view of it).
"""

from __future__ import annotations

import shutil

import duckdb
import pytest

from orchestration.checks.gates import run_mart_gate
from orchestration.checks.suites import load_suites
from orchestration.resources import WarehouseResource

DEMO = "demo_city_calls"  # the demo city's calls profile (a batch of the gate)
STORED = "intermediate.int_calls_classified"


@pytest.fixture(scope="module")
def suite():
    return next(s for s in load_suites() if s.name == "marts_to_serving.fct_calls_for_service")


@pytest.fixture
def warehouse(demo_city, tmp_path):
    settings, _, _ = demo_city
    path = tmp_path / "warehouse.duckdb"
    shutil.copy(settings.warehouse_path, path)
    return WarehouseResource(database=str(path))


def value(metadata, key):
    v = metadata[key]
    return getattr(v, "value", v)


def execute(warehouse: WarehouseResource, sql: str) -> None:
    with warehouse.connect() as con:
        con.execute(sql)


def calls(warehouse: WarehouseResource) -> int:
    with warehouse.connect(read_only=True) as con:
        return con.execute("SELECT count(*) FROM marts.fct_calls_for_service").fetchone()[0]


def calls_of(warehouse: WarehouseResource, profile: str) -> int:
    with warehouse.connect(read_only=True) as con:
        return con.execute(
            "SELECT count(*) FROM marts.fct_calls_for_service WHERE source_profile = ?", [profile]
        ).fetchone()[0]


def new_call(key: str, **replace) -> str:
    """A copy of one demo call under another key, admitted now, with the given columns replaced."""
    columns = ", ".join(
        [
            f"'{key}' AS call_key",
            "current_localtimestamp() AS admitted_at",
            *(f"{v} AS {c}" for c, v in replace.items()),
        ]
    )
    return (
        f"INSERT INTO {STORED} SELECT * REPLACE ({columns}) FROM {STORED} "
        f"WHERE source_profile = '{DEMO}' AND is_police_call ORDER BY call_key LIMIT 1"
    )


def held_on(result) -> str:
    return value(result.metadata, "verdicts")


def newest_admissions(warehouse: WarehouseResource) -> int:
    """Calls of each profile's newest admission (a demo month's file; Milwaukee's one file)."""
    with warehouse.connect(read_only=True) as con:
        return con.execute(
            "SELECT count(*) FROM marts.fct_calls_for_service AS f WHERE admitted_at = "
            "(SELECT max(admitted_at) FROM marts.fct_calls_for_service AS g WHERE g.source_profile = f.source_profile)"
        ).fetchone()[0]


def test_a_city_that_passed_is_judged_on_what_was_admitted_since(warehouse, suite):
    # the pipeline's own gate judged every call of both cities and kept their marks: this run
    # judges each city's newest admission again, and nothing older
    newest = newest_admissions(warehouse)
    first = run_mart_gate(suite, warehouse, "run-1")
    assert first.passed
    assert value(first.metadata, "rows_judged") == newest < calls(warehouse) * 0.6
    assert value(first.metadata, "scope").count("admitted at or after") == 2

    execute(warehouse, new_call("NEW-0001"))
    second = run_mart_gate(suite, warehouse, "run-2")
    # the same, and the new call, which is not in staging: the demo city is held for it alone
    assert value(second.metadata, "rows_judged") == newest + 1
    assert not second.passed
    assert "every_staged_call_is_in_the_fact" in held_on(second)
    with warehouse.connect(read_only=True) as con:
        marks = dict(
            con.execute("SELECT batch, judged_through FROM raw.gate_scopes WHERE suite = ?", [suite.name]).fetchall()
        )
        passed = dict(con.execute("SELECT batch, passed FROM raw.gate_scopes WHERE suite = ?", [suite.name]).fetchall())
        admitted = con.execute(f"SELECT admitted_at FROM {STORED} WHERE call_key = 'NEW-0001'").fetchone()[0]
    assert marks[DEMO] == admitted
    assert passed == {DEMO: False, "milwaukee_cfs": True}
    # held, so judged whole next time
    third = run_mart_gate(suite, warehouse, "run-3")
    assert value(third.metadata, "rows_judged") == calls_of(warehouse, DEMO) + newest_of(warehouse, "milwaukee_cfs")
    assert f"| {DEMO} | every row: it did not pass last time" in value(third.metadata, "scope")


def newest_of(warehouse: WarehouseResource, profile: str) -> int:
    with warehouse.connect(read_only=True) as con:
        return con.execute(
            "SELECT count(*) FROM marts.fct_calls_for_service WHERE source_profile = ? AND admitted_at = "
            "(SELECT max(admitted_at) FROM marts.fct_calls_for_service WHERE source_profile = ?)",
            [profile, profile],
        ).fetchone()[0]


def test_a_staged_call_missing_from_the_fact_is_caught_when_the_fact_gained_nothing(warehouse, suite):
    """A new staged call that the build dropped: the fact has no new row, and the city is still
    judged on its newest admission, so the comparison with staging reads the new staged call."""
    run_mart_gate(suite, warehouse, "run-1")
    execute(
        warehouse,
        "INSERT INTO staging.stg_calls_for_service SELECT * REPLACE ('DROPPED-1' AS call_key, "
        "current_localtimestamp() AS admitted_at) FROM staging.stg_calls_for_service "
        f"WHERE source_profile = '{DEMO}' ORDER BY call_key LIMIT 1",
    )
    result = run_mart_gate(suite, warehouse, "run-2")
    assert not result.passed
    assert "every_staged_call_is_in_the_fact" in held_on(result)
    assert "every row" not in value(result.metadata, "scope")


def test_a_warehouse_built_from_other_models_or_seeds_is_judged_whole(warehouse, suite):
    run_mart_gate(suite, warehouse, "run-1")
    execute(warehouse, "UPDATE raw.dbt_build_state SET checksum = 'another taxonomy' WHERE unique_id LIKE 'seed.%'")
    result = run_mart_gate(suite, warehouse, "run-2")
    assert result.passed and value(result.metadata, "rows_judged") == calls(warehouse)
    assert value(result.metadata, "scope").count("every row: the warehouse was built from other") == 2


def test_a_bad_value_in_a_new_call_holds_the_city(warehouse, suite):
    run_mart_gate(suite, warehouse, "run-1")
    execute(warehouse, new_call("NEW-0002", estimated_cost="-5.0"))
    result = run_mart_gate(suite, warehouse, "run-2")
    assert not result.passed
    verdicts = held_on(result)
    assert "expect_column_values_to_be_between(estimated_cost)" in verdicts
    assert f"| {DEMO} |" in value(result.metadata, "scope") and "every row" not in value(result.metadata, "scope")


def test_a_new_call_repeating_an_old_key_is_caught(warehouse, suite):
    run_mart_gate(suite, warehouse, "run-1")
    with warehouse.connect(read_only=True) as con:
        old_key = con.execute(
            f"SELECT call_key FROM {STORED} WHERE source_profile = ? AND is_police_call ORDER BY call_key LIMIT 1",
            [DEMO],
        ).fetchone()[0]
    execute(warehouse, new_call(old_key))  # the same key, admitted now: two rows of one call
    result = run_mart_gate(suite, warehouse, "run-2")
    assert not result.passed
    assert "expect_column_values_to_be_unique(call_key)" in held_on(result)


def test_a_changed_old_call_makes_the_gate_judge_the_whole_city(warehouse, suite):
    run_mart_gate(suite, warehouse, "run-1")
    # an old call (admitted long before the last judging) gets a negative cost: no new row at all
    execute(
        warehouse,
        f"UPDATE {STORED} SET estimated_cost = -1 WHERE call_key = (SELECT min(call_key) FROM {STORED} "
        f"WHERE source_profile = '{DEMO}' AND is_police_call "
        f"AND admitted_at < (SELECT max(admitted_at) FROM {STORED}))",
    )
    result = run_mart_gate(suite, warehouse, "run-2")
    assert not result.passed
    assert "expect_column_values_to_be_between(estimated_cost)" in held_on(result)
    scope = value(result.metadata, "scope")
    assert f"| {DEMO} | every row: rows it passed with have changed" in scope
    # the next run judges the held city whole again, until it passes
    again = run_mart_gate(suite, warehouse, "run-3")
    assert not again.passed
    assert f"| {DEMO} | every row: it did not pass last time" in value(again.metadata, "scope")


def test_a_changed_suite_or_gates_full_judges_every_row(warehouse, suite, monkeypatch):
    run_mart_gate(suite, warehouse, "run-1")
    monkeypatch.setenv("PSW_GATES_FULL", "1")
    full = run_mart_gate(suite, warehouse, "run-2")
    assert full.passed and value(full.metadata, "rows_judged") == calls(warehouse)
    monkeypatch.delenv("PSW_GATES_FULL")
    with warehouse.connect() as con:
        con.execute("UPDATE raw.gate_scopes SET suite_digest = 'an older suite'")
    changed = run_mart_gate(suite, warehouse, "run-3")
    assert value(changed.metadata, "rows_judged") == calls(warehouse)
    assert "every row: the suite changed" in value(changed.metadata, "scope")
    with duckdb.connect(warehouse.path, read_only=True) as con:
        assert (
            con.execute("SELECT count(*) FROM raw.gate_scopes WHERE suite_digest = 'an older suite'").fetchone()[0] == 0
        )
