"""Extracts of one row per responding unit (profile ``grain: unit``), and placeholders read as missing.

A Dallas-style CAD export repeats the call on every unit's row. The file lands as received (one raw
row per unit), the raw gate checks (call id, unit) instead of call ids, and staging collapses each
call to one row: first dispatch and arrival, last clear, units counted from the rows, the first
unit's descriptive fields, and conflicts between the rows counted. Every expected value below is
counted by hand from the rows written here.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from orchestration.checks.gx_engine import evaluate_suite
from orchestration.checks.suites import EXPECTATIONS_DIR, load_suite
from orchestration.landing.loader import land_file
from orchestration.landing.profiles import ProfileError, parse_profile
from tests.support.dbt import dbt_build
from tests.support.ledger import admit_every_batch

HEADER = "incident_number,unit_number,date_time,nature_of_call,priority,beat,dispatched,arrived,cleared\n"
PROFILE = {
    "name": "unit_rows_cfs",
    "source": "calls_for_service",
    "files": "*.csv",
    "timezone": "America/Chicago",
    "grain": "unit",
    "missing_values": {"arrived_at": ["01/01/1900 00:00"]},
    "timestamp_formats": {"default": "%m/%d/%Y %H:%M"},
    "columns": {
        "call_id": "incident_number",
        "unit_id": "unit_number",
        "received_at": "date_time",
        "call_type": "nature_of_call",
        "priority": "priority",
        "beat": "beat",
        "dispatched_at": "dispatched",
        "arrived_at": "arrived",
        "cleared_at": "cleared",
    },
}
# C1: three units; the second is dispatched first (so its type and priority are the call's), and
#     the rows disagree on type and priority (2 conflicts); arrival is the earliest (10:09), clear
#     the latest (11:30). C2: one unit, no arrival (the 1900 placeholder). C3: two units that agree.
ROWS = (
    "C1,U20,03/01/2025 10:00,DISTURBANCE,2,101,03/01/2025 10:05,03/01/2025 10:12,03/01/2025 10:40\n"
    "C1,U11,03/01/2025 10:00,ASSAULT,1,101,03/01/2025 10:02,03/01/2025 10:09,03/01/2025 11:30\n"
    "C1,U35,03/01/2025 10:00,DISTURBANCE,2,101,03/01/2025 10:20,,03/01/2025 10:50\n"
    "C2,U11,03/01/2025 12:00,NOISE,3,102,03/01/2025 12:10,01/01/1900 00:00,03/01/2025 12:30\n"
    "C3,U40,03/01/2025 13:00,THEFT,2,101,03/01/2025 13:10,03/01/2025 13:20,03/01/2025 13:45\n"
    "C3,U41,03/01/2025 13:00,THEFT,2,101,03/01/2025 13:12,03/01/2025 13:25,03/01/2025 13:40\n"
)
CALLS_SUITE = EXPECTATIONS_DIR / "raw_to_staging" / "calls_for_service.yaml"


def land(tmp_path: Path, content: str, profile: dict = PROFILE) -> Path:
    warehouse = tmp_path / "w.duckdb"
    path = tmp_path / "dallas_units.csv"
    path.write_text(HEADER + content)
    con = duckdb.connect(str(warehouse))
    try:
        land_file(con, path, parse_profile(profile))
    finally:
        con.close()
    return warehouse


def gate(warehouse: Path) -> dict[str, object]:
    outcome = evaluate_suite(warehouse, load_suite(CALLS_SUITE))
    return {o.expectation.label: o for o in outcome.outcomes}


def stage(warehouse: Path, tmp_path: Path) -> list[tuple]:
    con = duckdb.connect(str(warehouse))
    assert admit_every_batch(con) == 1
    con.close()
    dbt_build(warehouse, tmp_path, ["stg_calls_for_service"])  # and its data tests (one row per call_key)
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return con.execute(
            """
            SELECT call_id, units_assigned, unit_rows, unit_row_conflicts, call_type, priority,
                   strftime(dispatched_at_utc, '%H:%M'), strftime(arrived_at_utc, '%H:%M'),
                   strftime(cleared_at_utc, '%H:%M')
            FROM staging.stg_calls_for_service ORDER BY call_id
            """
        ).fetchall()
    finally:
        con.close()


def test_unit_rows_land_as_received_each_naming_its_unit(tmp_path):
    warehouse = land(tmp_path, ROWS)
    con = duckdb.connect(str(warehouse), read_only=True)
    rows = con.execute(
        "SELECT call_id, unit_id, units_assigned, arrived_at, _flags FROM raw.calls_for_service ORDER BY _row_number"
    ).fetchall()
    con.close()
    assert len(rows) == 6  # every unit row kept in raw
    assert [r[1] for r in rows] == ["U20", "U11", "U35", "U11", "U40", "U41"]
    assert {r[2] for r in rows} == {"1"}  # one row, one unit
    # the placeholder arrival is read as missing, and the row says so (counted, not hidden)
    assert rows[3][3] is None
    assert rows[3][4] == "arrived_at: placeholder '01/01/1900 00:00' (column arrived) read as missing"
    assert [r[4] for r in rows if r[4]] == [rows[3][4]]


def test_the_raw_gate_checks_units_not_call_ids_for_a_unit_row_extract(tmp_path):
    results = gate(land(tmp_path, ROWS))
    unique = results["expect_column_values_to_be_unique(call_id)"]
    assert unique.success  # skipped for this profile, which is not a pass by accident:
    assert any("one row per responding unit" in s for s in unique.skipped)
    per_unit = next(o for label, o in results.items() if "one_row_per_unit_of_each_call" in label)
    assert per_unit.success, per_unit.sample


def test_a_unit_named_twice_on_one_call_fails_the_raw_gate(tmp_path):
    repeated = ROWS + "C3,U41,03/01/2025 13:00,THEFT,2,101,03/01/2025 13:12,03/01/2025 13:25,03/01/2025 13:40\n"
    per_unit = next(o for label, o in gate(land(tmp_path, repeated)).items() if "one_row_per_unit" in label)
    assert not per_unit.success
    assert per_unit.unexpected_count == 2  # both rows of the repeated unit


def test_a_call_grain_file_with_repeated_ids_still_fails_the_uniqueness_of_call_ids(tmp_path):
    profile = {k: v for k, v in PROFILE.items() if k != "grain"}
    profile["columns"] = {k: v for k, v in PROFILE["columns"].items() if k != "unit_id"}
    unique = gate(land(tmp_path, ROWS, profile))["expect_column_values_to_be_unique(call_id)"]
    assert not unique.success and not unique.skipped
    assert unique.unexpected_count == 5  # C1 x3, C3 x2


def test_staging_collapses_unit_rows_into_one_call_by_the_stated_rule(tmp_path):
    rows = stage(land(tmp_path, ROWS), tmp_path)
    # Chicago is UTC-6 on 1 March: 10:02 local is 16:02 UTC
    assert rows == [
        ("C1", 3, 3, 2, "ASSAULT", "1", "16:02", "16:09", "17:30"),
        ("C2", 1, 1, 0, "NOISE", "3", "18:10", None, "18:30"),
        ("C3", 2, 2, 0, "THEFT", "2", "19:10", "19:20", "19:45"),
    ]


def test_a_unit_row_extract_without_a_unit_column_counts_each_row_as_a_unit(tmp_path):
    profile = {**PROFILE, "columns": {k: v for k, v in PROFILE["columns"].items() if k != "unit_id"}}
    warehouse = land(tmp_path, ROWS, profile)
    con = duckdb.connect(str(warehouse), read_only=True)
    units = [r[0] for r in con.execute("SELECT unit_id FROM raw.calls_for_service ORDER BY _row_number").fetchall()]
    con.close()
    assert units == [f"dallas_units.csv:{line}" for line in range(2, 8)]  # the line each row starts on
    assert [(r[0], r[1]) for r in stage(warehouse, tmp_path)] == [("C1", 3), ("C2", 1), ("C3", 2)]


def test_profile_keys_for_grain_and_placeholders_are_checked():
    with pytest.raises(ProfileError, match="grain"):
        parse_profile({**PROFILE, "grain": "units"})
    with pytest.raises(ProfileError, match="missing_values.disposition"):
        parse_profile({**PROFILE, "missing_values": {"disposition": ["NONE"]}})
    stops = {
        "name": "s",
        "source": "stops",
        "files": "*.csv",
        "grain": "unit",
        "columns": {"stop_id": "id", "stopped_at": "t"},
    }
    with pytest.raises(ProfileError, match="no units"):
        parse_profile(stops)
