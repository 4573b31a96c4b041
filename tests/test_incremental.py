"""Incremental refresh: a day's new extract updates the large facts and their month marts without
rebuilding history; late-arriving and corrected records land where they belong.

The proof that history is not rebuilt is direct: after the first build a row of an untouched
month is tampered with in fct_calls_for_service and in mart_service_demand, and it is still
tampered after the second run; the months the new extract touched are rebuilt, and every mart
equals what a full rebuild from the same raw gives.
"""

from __future__ import annotations

import csv
import json
import shutil
from datetime import datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from orchestration.transform import project

from .conftest import make_settings, run_pipeline

SCALE = 0.1  # 6,000 calls: enough months and areas, quick to build three times
TIME_FIELDS = ("time_received", "time_dispatched", "time_enroute", "time_arrived", "time_cleared")
FMT = "%Y-%m-%dT%H:%M:%S"
# Columns that differ between two warehouses built from the same files (when rows were landed).
LOAD_TIME_COLUMNS = {"loaded_at", "loaded_through", "batch_id", "admitted_at", "admitted_through"}


def read_rows(path: Path) -> tuple[list[str], list[dict]]:
    with path.open(newline="") as f:
        reader = csv.DictReader(f)
        return list(reader.fieldnames), list(reader)


def shifted(row: dict, delta: timedelta) -> dict:
    out = dict(row)
    for field in TIME_FIELDS:
        if row[field]:
            out[field] = (datetime.strptime(row[field], FMT) + delta).strftime(FMT)
    return out


def dbt_invocations() -> set[Path]:
    """The run_results.json of every dbt invocation Dagster has made from this checkout."""
    return set((project.DBT_PROJECT_DIR / "target").glob("*/run_results.json"))


def unit_tests_run(since: set[Path]) -> int:
    return sum(
        result["unique_id"].startswith("unit_test.")
        for path in dbt_invocations() - since
        for result in json.loads(path.read_text())["results"]
    )


def month_of(row: dict) -> str:
    return row["time_received"][:7] + "-01"


@pytest.fixture(scope="module")
def incremental_run(tmp_path_factory):
    from orchestration.demo_city.generator import generate

    root = tmp_path_factory.mktemp("incremental")
    settings = make_settings(root, scale=SCALE)
    truth = generate(settings.demo_dir, SCALE, settings.demo_seed, progress=lambda _m: None)
    invocations = dbt_invocations()
    first = run_pipeline(settings)
    unit_tests_first = unit_tests_run(invocations)
    assert first.success, [e.message for e in first.all_events if e.is_failure]

    con = duckdb.connect(str(settings.warehouse_path))
    # Tamper with one call of an untouched month and one service-demand row of it (the
    # calls are stored in int_calls_classified; fct_calls_for_service is a view of it).
    # The month to tamper with: one the next load does not touch, whose file did not land in the
    # same second as the newest one (the newest second is read again by design: files land side
    # by side, and replacing a batch by key with itself changes nothing).
    tamper_month = con.execute(
        "SELECT strftime(call_month, '%Y-%m-%d') FROM intermediate.int_calls_classified "
        "WHERE call_month BETWEEN DATE '2025-05-01' AND DATE '2025-12-01' GROUP BY 1 "
        "HAVING max(loaded_at) < (SELECT max(loaded_at) FROM intermediate.int_calls_classified) "
        "ORDER BY 1 LIMIT 1"
    ).fetchone()
    assert tamper_month, "every untouched month landed in the newest second: nothing to tamper with"
    tamper_month = tamper_month[0]
    june_call = con.execute(
        f"SELECT call_key FROM intermediate.int_calls_classified WHERE call_month = DATE '{tamper_month}' "
        "ORDER BY call_key LIMIT 1"
    ).fetchone()[0]
    # (in columns the serving gate does not judge: it would rightly stop a run on a negative cost)
    con.execute("UPDATE intermediate.int_calls_classified SET source_file = 'tampered' WHERE call_key = ?", [june_call])
    con.execute(
        "UPDATE marts.mart_service_demand SET calls_with_measured_time = -7 WHERE call_month = ? "
        "AND area_id = (SELECT min(area_id) FROM marts.mart_service_demand WHERE call_month = ?)",
        [tamper_month, tamper_month],
    )
    calls_before = dict(
        con.execute("SELECT call_month::VARCHAR, count(*) FROM marts.fct_calls_for_service GROUP BY 1").fetchall()
    )
    con.close()

    # The next day's extract: a day of new calls (1 January 2026), one late-arriving call for
    # 15 March 2025, and a correction of a February call that also moves it to April.
    calls_dir = settings.demo_dir / "calls_for_service"
    header, december = read_rows(calls_dir / "calls_for_service_2025-12.csv")
    _, february = read_rows(calls_dir / "calls_for_service_2025-02.csv")
    day_rows = max(20, truth["rows"]["calls_for_service"] // 365 * 2)
    new_day = []
    for i, row in enumerate(december[:day_rows]):
        received = datetime.strptime(row["time_received"], FMT)
        moved = shifted(row, datetime(2026, 1, 1, received.hour, received.minute, received.second) - received)
        new_day.append(dict(moved, incident_number=f"N20260101{i:05d}"))
    late = shifted(
        dict(february[5], incident_number="LATE0001"),
        datetime(2025, 3, 15, 12) - datetime.strptime(february[5]["time_received"], FMT),
    )
    original = february[10]
    corrected = shifted(dict(original, final_type="WELF", final_type_desc="WELFARE CHECK"), timedelta(days=60))
    assert month_of(original) == "2025-02-01" and month_of(corrected) == "2025-04-01"
    day_file = calls_dir / "calls_for_service_2026-01-01.csv"
    with day_file.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=header)
        writer.writeheader()
        writer.writerows([*new_day, late, corrected])

    invocations = dbt_invocations()
    second = run_pipeline(settings)
    assert second.success, [e.message for e in second.all_events if e.is_failure]
    unit_tests_second = unit_tests_run(invocations)
    raw_gate = next(
        e.asset_check_evaluation_data
        for e in second.all_events
        if e.event_type_value == "ASSET_CHECK_EVALUATION"
        and e.asset_check_evaluation_data.asset_check_key.asset_key.path == ["raw", "calls_for_service"]
    )
    return {
        "settings": settings,
        "june_call": june_call,
        "tamper_month": tamper_month,
        "calls_before": calls_before,
        "new_day": len(new_day),
        "original": original,
        "corrected": corrected,
        "raw_gate": {k: v.value for k, v in raw_gate.metadata.items()},
        "monthly_files": len(list(calls_dir.glob("calls_for_service_2025-*.csv"))),
        "unit_tests": (unit_tests_first, unit_tests_second),
    }


@pytest.fixture(scope="module")
def con(incremental_run):
    c = duckdb.connect(str(incremental_run["settings"].warehouse_path), read_only=True)
    yield c
    c.close()


def test_history_is_not_rebuilt(incremental_run, con):
    # The tampered June rows survive the incremental run: June was not touched, so not rebuilt.
    source_file = con.execute(
        "SELECT source_file FROM marts.fct_calls_for_service WHERE call_key = ?", [incremental_run["june_call"]]
    ).fetchone()[0]
    assert source_file == "tampered"
    tampered = "SELECT count(*) FROM marts.mart_service_demand WHERE calls_with_measured_time = -7"
    assert con.execute(tampered).fetchone()[0] >= 1


def test_unit_tests_run_with_the_full_build_not_with_the_incremental_one(incremental_run):
    first, second = incremental_run["unit_tests"]
    unit_tests = len(json.loads(Path(project.dbt_project.manifest_path).read_text())["unit_tests"])
    assert unit_tests >= 1 and first == unit_tests  # every unit test ran with the first (full) build
    assert second == 0  # same code as the build they passed for


def test_the_raw_gate_judges_only_the_new_file(incremental_run):
    gate = incremental_run["raw_gate"]
    assert gate["files_judged_earlier"] == incremental_run["monthly_files"] == 12
    assert gate["files_judged"] == 1
    assert gate["rows_evaluated"] == incremental_run["new_day"] + 2  # the day, the late call, the correction


def test_new_late_and_corrected_calls_land_in_their_months(incremental_run, con):
    by_month = "SELECT call_month::VARCHAR, count(*) FROM marts.fct_calls_for_service GROUP BY 1"
    after = dict(con.execute(by_month).fetchall())
    before = incremental_run["calls_before"]
    assert after["2026-01-01"] == incremental_run["new_day"]
    assert after["2025-03-01"] == before["2025-03-01"] + 1  # the late call
    assert after["2025-02-01"] == before["2025-02-01"] - 1  # the corrected call left February ...
    assert after["2025-04-01"] == before["2025-04-01"] + 1  # ... for April
    call_id = incremental_run["original"]["incident_number"]
    rows = con.execute(
        "SELECT call_type, call_month::VARCHAR FROM marts.fct_calls_for_service WHERE call_id = ?", [call_id]
    ).fetchall()
    assert rows == [("WELF", "2025-04-01")]
    staged = con.execute("SELECT count(*) FROM staging.stg_calls_for_service WHERE call_id = ?", [call_id]).fetchone()
    assert staged[0] == 1
    # The month marts agree with the facts in every touched month (both ends of the correction too).
    for month in ("2025-02-01", "2025-03-01", "2025-04-01", "2026-01-01"):
        demand = con.execute(
            "SELECT sum(calls) FROM marts.mart_service_demand WHERE call_month = ?::DATE", [month]
        ).fetchone()[0]
        coverage = con.execute(
            "SELECT sum(calls) FROM marts.mart_classification_coverage WHERE call_month = ?::DATE", [month]
        ).fetchone()[0]
        assert demand == coverage == after[month], month


def table_rows(con, table: str, exclude: set[str]) -> list[tuple]:
    columns = [r[0] for r in con.execute(f"DESCRIBE {table}").fetchall() if r[0] not in exclude]
    listed = ", ".join(f'"{c}"' for c in columns)
    rows = con.execute(f"SELECT {listed} FROM {table}").fetchall()
    # sums over the same rows in another order differ in the last bits: compare 10 significant digits
    rows = [tuple(float(f"{v:.10g}") if isinstance(v, float) else v for v in row) for row in rows]
    return sorted(rows, key=repr)


def test_incremental_marts_equal_a_full_rebuild(incremental_run, tmp_path, monkeypatch):
    settings = incremental_run["settings"]
    copy = make_settings(tmp_path, scale=SCALE)
    shutil.copytree(settings.landing_dir, copy.landing_dir)
    shutil.copy(settings.warehouse_path, copy.warehouse_path)
    monkeypatch.setenv("PSW_FULL_REFRESH", "1")
    rebuilt = run_pipeline(copy)
    assert rebuilt.success, [e.message for e in rebuilt.all_events if e.is_failure]
    inc = duckdb.connect(str(settings.warehouse_path), read_only=True)
    full = duckdb.connect(str(copy.warehouse_path), read_only=True)
    listed = full.execute("SELECT table_name FROM information_schema.tables WHERE table_schema = 'marts'").fetchall()
    marts = [r[0] for r in listed]
    assert "fct_calls_for_service" in marts and "mart_officer_initiated_activity" in marts
    june = incremental_run["june_call"]
    for table in marts:
        exclude = LOAD_TIME_COLUMNS
        a = table_rows(inc, f"marts.{table}", exclude)
        b = table_rows(full, f"marts.{table}", exclude)
        if table == "fct_calls_for_service":  # all but the tampered call
            a = [r for r in a if r[0] != june]
            b = [r for r in b if r[0] != june]
        if table == "mart_service_demand":  # all but the tampered month
            a = [r for r in a if str(r[1]) != incremental_run["tamper_month"]]
            b = [r for r in b if str(r[1]) != incremental_run["tamper_month"]]
        if table == "mart_kpi_scorecard":  # summed from the tampered month
            continue
        assert a == b, table
    inc.close()
    full.close()


def test_a_change_to_seeds_or_models_asks_for_a_full_refresh(incremental_run, tmp_path, monkeypatch):
    warehouse = incremental_run["settings"].warehouse_path
    assert project.full_refresh_reason(warehouse) is None  # state written by the last build
    assert "no record" in project.full_refresh_reason(tmp_path / "other.duckdb")
    monkeypatch.setenv("PSW_FULL_REFRESH", "1")
    assert "PSW_FULL_REFRESH" in project.full_refresh_reason(warehouse)
    monkeypatch.delenv("PSW_FULL_REFRESH")
    state = project.build_state_path(warehouse)
    saved = state.read_text()
    try:
        state.write_text(json.dumps({"fingerprint": "built with another taxonomy"}))
        assert "changed" in project.full_refresh_reason(warehouse)
    finally:
        state.write_text(saved)
