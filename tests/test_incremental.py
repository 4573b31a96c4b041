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
import os
import shutil
from datetime import datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from orchestration.transform import build_state, project
from tests.support.dbt import dbt_build
from tests.support.ledger import LOAD_TIME_COLUMNS, table_rows

from .conftest import make_settings, run_pipeline

PYTHON_MARTS = (
    "mart_dispatch_replay",
    "mart_stop_disparity_tests",
    "mart_violence_concentration_intervals",
    "mart_demand_forecast",
)
SCALE = 0.1  # 6,000 calls: enough months and areas, quick to build three times
TIME_FIELDS = ("time_received", "time_dispatched", "time_enroute", "time_arrived", "time_cleared")
FMT = "%Y-%m-%dT%H:%M:%S"


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


def dbt_invocations(run_id: str) -> set[Path]:
    """The run_results.json of the dbt invocations of one Dagster run: dagster-dbt names each
    invocation's target folder after the run (its first 7 characters), and other tests' runs (in
    another pytest-xdist worker) write beside them."""
    return set((project.DBT_PROJECT_DIR / "target").glob(f"*-{run_id[:7]}-*/run_results.json"))


def unit_tests_run(run_id: str) -> int:
    return sum(
        result["unique_id"].startswith("unit_test.")
        for path in dbt_invocations(run_id)
        for result in json.loads(path.read_text())["results"]
    )


def python_marts_computed(result) -> dict[str, bool]:
    """Per Python mart materialized in a run: computed in it (True) or kept from the last build."""
    return {
        e.asset_key.path[-1]: meta["computed"].value
        for e in result.get_asset_materialization_events()
        if "computed" in (meta := e.event_specific_data.materialization.metadata)
    }


def month_of(row: dict) -> str:
    return row["time_received"][:7] + "-01"


@pytest.fixture(scope="module")
def incremental_run(tmp_path_factory):
    from orchestration.demo_city.generator import generate

    root = tmp_path_factory.mktemp("incremental")
    settings = make_settings(root, scale=SCALE)
    truth = generate(settings.demo_dir, SCALE, settings.demo_seed, progress=lambda _m: None)
    first = run_pipeline(settings)
    unit_tests_first = unit_tests_run(first.run_id)
    assert first.success, [e.message for e in first.all_events if e.is_failure]

    con = duckdb.connect(str(settings.warehouse_path))
    # Tamper with one call of an untouched month and one service-demand row of it (the
    # calls are stored in int_calls_classified; fct_calls_for_service is a view of it).
    # The month to tamper with: one the next load does not touch, whose file did not land at the
    # same instant as the newest one (the newest instant is read again by design: a file landing
    # beside it could share it, and replacing a batch by key with itself changes nothing).
    tamper_month = con.execute(
        "SELECT strftime(call_month, '%Y-%m-%d') FROM intermediate.int_calls_classified "
        "WHERE call_month BETWEEN DATE '2025-05-01' AND DATE '2025-12-01' GROUP BY 1 "
        "HAVING max(loaded_at) < (SELECT max(loaded_at) FROM intermediate.int_calls_classified) "
        "ORDER BY 1 LIMIT 1"
    ).fetchone()
    assert tamper_month, "every untouched month landed at the newest instant: nothing to tamper with"
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
    newest_admission = con.execute("SELECT max(admitted_at) FROM marts.fct_calls_for_service").fetchone()[0]
    # A call of the newest calls file the first build read, edited in raw behind the ledger's back:
    # the next build reads only what was admitted after that build, so staging keeps the call as
    # it was (the raw row is put back after the run, for the comparisons with a full rebuild).
    newest_batch, unread_call, unread_disposition, raw_disposition = con.execute(
        "SELECT r._batch_id, r.call_id, s.disposition, r.disposition FROM raw.calls_for_service AS r "
        "JOIN staging.stg_calls_for_service AS s ON s.source_profile = r._source_profile AND s.call_id = r.call_id "
        "WHERE r._batch_id = (SELECT batch_id FROM raw.batch_states WHERE source = 'calls_for_service' "
        "ORDER BY admitted_at DESC LIMIT 1) AND r.disposition IS NOT NULL AND s.unit_rows = 1 "
        "ORDER BY r.call_id LIMIT 1"
    ).fetchone()
    assert (
        newest_admission
        == con.execute("SELECT admitted_at FROM raw.batch_states WHERE batch_id = ?", [newest_batch]).fetchone()[0]
    )
    edit_raw = "UPDATE raw.calls_for_service SET disposition = ? WHERE _batch_id = ? AND call_id = ?"
    con.execute(edit_raw, ["EDITED IN RAW", newest_batch, unread_call])
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

    second = run_pipeline(settings)
    assert second.success, [e.message for e in second.all_events if e.is_failure]
    unit_tests_second = unit_tests_run(second.run_id)
    raw_gate, fact_gate = (
        next(
            e.asset_check_evaluation_data
            for e in second.all_events
            if e.event_type_value == "ASSET_CHECK_EVALUATION"
            and e.asset_check_evaluation_data.asset_check_key.asset_key.path == path
            and e.asset_check_evaluation_data.asset_check_key.name.endswith("_gate")
        )
        for path in (["raw", "calls_for_service"], ["marts", "fct_calls_for_service"])
    )
    with duckdb.connect(str(settings.warehouse_path)) as con:
        unread_after = con.execute(
            "SELECT disposition FROM staging.stg_calls_for_service WHERE call_id = ?", [unread_call]
        ).fetchone()[0]
        con.execute(edit_raw, [raw_disposition, newest_batch, unread_call])
        admitted_since = con.execute(
            "SELECT count(*), (SELECT count(*) FROM marts.fct_calls_for_service) FROM marts.fct_calls_for_service "
            "WHERE admitted_at >= ?",
            [newest_admission],
        ).fetchone()
    return {
        "settings": settings,
        "python_marts_computed": (python_marts_computed(first), python_marts_computed(second)),
        "first_run_id": first.run_id,
        "second_run_id": second.run_id,
        "june_call": june_call,
        "tamper_month": tamper_month,
        "calls_before": calls_before,
        "new_day": len(new_day),
        "original": original,
        "corrected": corrected,
        "raw_gate": {k: v.value for k, v in raw_gate.metadata.items()},
        "fact_gate": {k: v.value for k, v in fact_gate.metadata.items()},
        "admitted_since": admitted_since,
        "unread_call": (unread_disposition, unread_after),
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


def test_the_incremental_build_reads_only_what_was_admitted_after_the_last_one(incremental_run):
    """The newest calls file the first build read is not read again by the next build: a call of
    it edited in raw in between keeps its staged value (were the file read again, staging would
    take the edit). The ledger makes every admission later than any before it, so reading what
    was admitted strictly after the watermark misses nothing (test_landing shows that)."""
    before, after = incremental_run["unread_call"]
    assert before is not None and after == before != "EDITED IN RAW"


def test_the_python_marts_whose_inputs_did_not_change_are_kept(incremental_run):
    """The new day (Thursday 1 January 2026) completes no week, and the late and corrected calls
    fall in March and April: the replay's window (the last complete weeks of 2025) and the stops
    are as they were, so those marts are kept. The forecast's daily counts of complete weeks
    changed (a late call in March, a call moved from February to April), and the concentration
    mart gained the periods of January 2026 (with no violent crime): both computed again.
    That the kept marts are right is test_incremental_marts_equal_a_full_rebuild's to show."""
    first, second = incremental_run["python_marts_computed"]
    assert first == dict.fromkeys(PYTHON_MARTS, True)
    assert second == {
        "mart_dispatch_replay": False,
        "mart_stop_disparity_tests": False,
        "mart_violence_concentration_intervals": True,
        "mart_demand_forecast": True,
    }


def test_unit_tests_run_with_the_full_build_not_with_the_incremental_one(incremental_run):
    first, second = incremental_run["unit_tests"]
    unit_tests = len(json.loads(Path(project.dbt_project.manifest_path).read_text())["unit_tests"])
    assert unit_tests >= 1 and first == unit_tests  # every unit test ran with the first (full) build
    assert second == 0  # same code as the build they passed for


def executed_test_sql(run_id: str, test_name: str) -> str:
    """The SQL dbt ran for one data test in one Dagster run (from the invocation's target/run)."""
    found = [
        path for invocation in dbt_invocations(run_id) for path in (invocation.parent / "run").rglob(f"{test_name}.sql")
    ]
    assert len(found) == 1, f"{test_name}: {found}"
    return found[0].read_text()


def test_the_incremental_builds_data_tests_judge_the_rows_it_wrote_and_the_keys_they_touch(incremental_run, tmp_path):
    """The first build's tests judged every row; the incremental build's judge the rows at or after
    each model's watermark (the newest admission it held before the build) and, for a key test,
    every row whose key those rows touch. Shown on copies of the SQL dbt ran, against a copy of
    the warehouse with planted defects: a NULL in an old row is not judged again, one in a new row
    is; an old key repeated by an old row is not judged, one repeated by a new row is."""
    warehouse = tmp_path / "warehouse.duckdb"  # the catalog name the compiled SQL uses
    shutil.copy(incremental_run["settings"].warehouse_path, warehouse)
    con = duckdb.connect(str(warehouse))
    scope = dict(
        con.execute("SELECT model_name, judged_from FROM raw.dbt_test_scope WHERE model_name LIKE 'stg_%'").fetchall()
    )
    assert set(scope) == {"stg_calls_for_service", "stg_incidents", "stg_stops", "stg_service_requests"}
    # the watermark is the newest admission the first build held: every call but the new file's
    first_newest, new_oldest, new_rows = con.execute(
        "SELECT max(admitted_at) FILTER (WHERE source_file NOT LIKE '%2026-01-01%'), "
        "min(admitted_at) FILTER (WHERE source_file LIKE '%2026-01-01%'), "
        "count(*) FILTER (WHERE source_file LIKE '%2026-01-01%') FROM staging.stg_calls_for_service"
    ).fetchone()
    assert scope["stg_calls_for_service"] == first_newest < new_oldest
    assert new_rows == incremental_run["new_day"] + 2

    def failures(test_name: str, run_id: str) -> int:
        return con.execute(executed_test_sql(run_id, test_name)).fetchone()[0]  # dbt's count of failing rows

    not_null, unique = "not_null_stg_calls_for_service_call_type", "unique_stg_calls_for_service_call_key"
    second, first = incremental_run["second_run_id"], incremental_run["first_run_id"]
    assert failures(not_null, second) == failures(unique, second) == 0
    old_key, new_key = (
        con.execute(
            f"SELECT call_key FROM staging.stg_calls_for_service WHERE source_file {op} '%2026-01-01%' "
            "ORDER BY call_key LIMIT 1"
        ).fetchone()[0]
        for op in ("NOT LIKE", "LIKE")
    )
    # an old row's defect: not judged by the incremental build's tests, judged by the full build's
    con.execute("UPDATE staging.stg_calls_for_service SET call_type = NULL WHERE call_key = ?", [old_key])
    con.execute(
        "INSERT INTO staging.stg_calls_for_service SELECT * FROM staging.stg_calls_for_service WHERE call_key = ?",
        [old_key],
    )
    assert (failures(not_null, second), failures(unique, second)) == (0, 0)
    con.execute("DELETE FROM raw.dbt_test_scope")  # what a full build leaves: every row is judged
    assert (failures(not_null, second), failures(unique, second)) == (2, 1)
    assert (failures(not_null, first), failures(unique, first)) == (2, 1)
    con.execute("INSERT INTO raw.dbt_test_scope SELECT 'stg_calls_for_service', 'admitted_at', ?", [first_newest])
    # a new row's defect, and a new row repeating an old key: judged
    con.execute("UPDATE staging.stg_calls_for_service SET call_type = NULL WHERE call_key = ?", [new_key])
    con.execute(
        "INSERT INTO staging.stg_calls_for_service SELECT * REPLACE (? AS call_key) "
        "FROM staging.stg_calls_for_service WHERE call_key = ?",
        [old_key, new_key],
    )
    assert (failures(not_null, second), failures(unique, second)) == (2, 1)
    con.close()


def test_response_times_recompute_every_month_of_a_source_whose_availability_changed(incremental_run, tmp_path):
    """mart_response_times is incremental by month, but whether a source has response times at
    all is judged on all its months: when that changes, every month of the source is recomputed,
    not only the touched ones. Planted in a copy of the warehouse: one untouched month says the
    source has no times; the next incremental build (no new file) recomputes it, count and all."""
    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copy(incremental_run["settings"].warehouse_path, warehouse)
    month = incremental_run["tamper_month"]
    con = duckdb.connect(str(warehouse))
    sources = [r[0] for r in con.execute("SELECT DISTINCT source_profile FROM marts.mart_response_times").fetchall()]
    assert (
        len(sources) == 1
        and con.execute("SELECT bool_and(response_times_available) FROM marts.mart_response_times").fetchone()[0]
    )
    con.execute(
        "UPDATE marts.mart_response_times SET response_times_available = false, calls = -1 "
        "WHERE call_month = ? AND priority = 'all' AND area_id = 'all'",
        [month],
    )
    con.close()
    dbt_build(warehouse, tmp_path, ["mart_response_times"])  # incremental: no new file
    con = duckdb.connect(str(warehouse), read_only=True)
    available, calls = con.execute(
        "SELECT response_times_available, calls FROM marts.mart_response_times "
        "WHERE call_month = ? AND priority = 'all' AND area_id = 'all'",
        [month],
    ).fetchone()
    expected = con.execute(
        "SELECT count(*) FROM intermediate.int_call_response_intervals WHERE call_month = ?", [month]
    ).fetchone()[0]
    con.close()
    assert (available, calls) == (True, expected)


def test_the_raw_gate_judges_only_the_new_file(incremental_run):
    gate = incremental_run["raw_gate"]
    assert gate["files_judged_earlier"] == incremental_run["monthly_files"] == 12
    assert gate["files_judged"] == 1
    assert gate["rows_evaluated"] == incremental_run["new_day"] + 2  # the day, the late call, the correction


def test_the_fact_gate_sees_the_tampered_old_call_and_judges_every_call(incremental_run):
    """The fixture changed a call of an untouched month after the first run's gate passed it (to
    show history is not rebuilt). The fact's gate would judge only the calls admitted since; a
    call it passed has changed, so it judges every call, and says why (tests/test_gate_scope.py
    shows the scoped judging)."""
    _, all_rows = incremental_run["admitted_since"]
    gate = incremental_run["fact_gate"]
    assert gate["rows_judged"] == all_rows
    assert "every row: rows it passed with have changed" in gate["scope"]


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


def marts_differing(incremental_run, other_warehouse) -> list[str]:
    """The marts whose rows differ between the incremental warehouse and another one built from
    the same files (the tampered call and month left out: the incremental build keeps them)."""
    inc = duckdb.connect(str(incremental_run["settings"].warehouse_path), read_only=True)
    other = duckdb.connect(str(other_warehouse), read_only=True)
    listed = other.execute("SELECT table_name FROM information_schema.tables WHERE table_schema = 'marts'").fetchall()
    marts = [r[0] for r in listed]
    assert "fct_calls_for_service" in marts and "mart_officer_initiated_activity" in marts
    june = incremental_run["june_call"]
    differing = []
    for table in marts:
        exclude = LOAD_TIME_COLUMNS
        a = table_rows(inc, f"marts.{table}", exclude)
        b = table_rows(other, f"marts.{table}", exclude)
        if table == "fct_calls_for_service":  # all but the tampered call
            a = [r for r in a if r[0] != june]
            b = [r for r in b if r[0] != june]
        if table == "mart_service_demand":  # all but the tampered month
            a = [r for r in a if str(r[1]) != incremental_run["tamper_month"]]
            b = [r for r in b if str(r[1]) != incremental_run["tamper_month"]]
        if a != b:
            differing.append(table)
    inc.close()
    other.close()
    return differing


def test_incremental_marts_equal_a_full_rebuild(incremental_run, tmp_path):
    settings = incremental_run["settings"]
    copy = make_settings(tmp_path, scale=SCALE)
    shutil.copytree(settings.landing_dir, copy.landing_dir)
    shutil.copy(settings.warehouse_path, copy.warehouse_path)
    rebuilt = run_pipeline(copy, full_refresh=True)
    assert rebuilt.success, [e.message for e in rebuilt.all_events if e.is_failure]
    # the full build computed every Python mart again (the copy held their fingerprints)
    assert python_marts_computed(rebuilt) == dict.fromkeys(PYTHON_MARTS, True)
    assert marts_differing(incremental_run, copy.warehouse_path) == []


def test_a_deleted_warehouse_and_nothing_else_gives_a_full_correct_build(incremental_run, tmp_path):
    """The same landing folder and project, the warehouse file gone: every file is landed and
    judged again, the build is a full one by itself (no state survives the file), and the marts
    are those of the warehouse that was refreshed incrementally."""
    settings = incremental_run["settings"]
    copy = make_settings(tmp_path, scale=SCALE)
    shutil.copytree(settings.landing_dir, copy.landing_dir)
    assert not copy.warehouse_path.exists()
    result = run_pipeline(copy)
    assert result.success, [e.message for e in result.all_events if e.is_failure]
    (build,) = [json.loads(p.read_text())["args"] for p in dbt_invocations(result.run_id)]
    assert build["which"] == "build" and build["full_refresh"] is True
    with duckdb.connect(str(copy.warehouse_path), read_only=True) as con:
        states = dict(con.execute("SELECT state, count(*) FROM raw.batch_states GROUP BY 1").fetchall())
    assert set(states) == {"passed"}
    assert marts_differing(incremental_run, copy.warehouse_path) == []


def test_the_build_state_is_in_the_warehouse_and_a_fresh_one_asks_for_a_full_build(incremental_run, tmp_path):
    """The last build's dbt checksums are a table of the warehouse: no file beside it."""
    settings = incremental_run["settings"]
    assert not [p.name for p in settings.warehouse_path.parent.glob("*.json")]
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        assert build_state.full_refresh_reason(con, project.dbt_project.manifest_path) is None
        recorded = build_state.recorded_checksums(con)
    assert "seed.public_safety_warehouse.call_type_taxonomy" in recorded and "vars" in recorded
    with duckdb.connect(str(tmp_path / "anew.duckdb")) as fresh:
        assert "no record" in build_state.full_refresh_reason(fresh, project.dbt_project.manifest_path)


def _edit_first_row(text: str) -> str:
    header, first, rest = text.split("\n", 2)
    return "\n".join([header, first + " (edited)", rest])


@pytest.mark.parametrize(
    "path, edit, named",
    [
        ("seeds/call_type_taxonomy.csv", _edit_first_row, "call_type_taxonomy"),
        ("dbt_project/models/staging/stg_areas.sql", lambda t: t + "\n-- edited\n", "stg_areas"),
        ("dbt_project/dbt_project.yml", lambda t: t.replace("min_cell_count: 11", "min_cell_count: 12"), "vars"),
        (
            "dbt_project/macros/performance_sql.sql",
            lambda t: t.replace(
                "            then {{ count_expression }}\n", "            then ({{ count_expression }})\n"
            ),
            "suppress_small_count",
        ),
    ],
)
def test_a_change_to_seeds_models_or_vars_asks_for_a_full_refresh(incremental_run, tmp_path, path, edit, named):
    """A real edit of a copy of the project, parsed by dbt: its checksums differ from the ones the
    warehouse was built from, and the reason names what changed."""
    import subprocess

    settings = incremental_run["settings"]
    copy = tmp_path / "project"
    shutil.copytree(
        project.PROJECT_ROOT / "dbt_project", copy / "dbt_project", ignore=shutil.ignore_patterns("target", "logs")
    )
    shutil.copytree(project.PROJECT_ROOT / "seeds", copy / "seeds")
    text = (copy / path).read_text()
    assert edit(text) != text, f"the edit changes nothing in {path}"
    (copy / path).write_text(edit(text))
    env = {**os.environ, "PSW_WAREHOUSE": str(tmp_path / "parse.duckdb")}
    subprocess.run(
        [project.dbt_executable(), "parse", "--quiet", "--project-dir", ".", "--profiles-dir", "."],
        cwd=copy / "dbt_project",
        check=True,
        env=env,
    )
    manifest = copy / "dbt_project" / "target" / "manifest.json"
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        recorded = build_state.recorded_checksums(con)
        reason = build_state.full_refresh_reason(con, manifest, copy / "dbt_project")
        current = build_state.build_checksums(con, manifest, copy / "dbt_project")
    changed = build_state.changed_nodes(recorded, current)
    assert any(named in c for c in changed), changed
    assert len(changed) == 1, changed  # nothing else differs: the copy is the project as built
    assert reason == f"changed since the last build: {changed[0]}"
