"""Landing: broken rows go to quarantine with a reason, good rows land, counts reconcile, re-landing is a no-op."""

from __future__ import annotations

import shutil
from datetime import datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from orchestration.landing.loader import LandingError, land_file, land_files
from orchestration.landing.profiles import ProfileError, load_profiles, parse_profile

from .conftest import FIXTURES, PROFILES_DIR

BROKEN_PROFILE = {
    "name": "test_broken_calls",
    "source": "calls_for_service",
    "files": "broken/*.csv",
    "timezone": "America/Chicago",
    "columns": {
        "call_id": "call_no",
        "received_at": "received",
        "call_type": "type",
        "beat": "beat",
        "latitude": "lat",
        "longitude": "lon",
    },
}


@pytest.fixture
def con(tmp_path):
    connection = duckdb.connect(str(tmp_path / "w.duckdb"))
    yield connection
    connection.close()


def quarantine(con) -> dict[int, tuple[str, str, str]]:
    rows = con.execute("SELECT row_number, error_type, field, reason FROM raw.quarantine").fetchall()
    return {r[0]: r[1:] for r in rows}


@pytest.mark.pure
def test_every_broken_row_is_quarantined_with_its_reason(con):
    profile = parse_profile(BROKEN_PROFILE)
    result = land_file(con, FIXTURES / "broken" / "calls_broken.csv", profile)

    # 8 data rows: A1 and A8 are good; the other six are broken in six different ways.
    assert result.rows_read == 8
    assert result.rows_landed == 2
    assert result.rows_quarantined == 6
    landed = con.execute("SELECT call_id, _row_number FROM raw.calls_for_service ORDER BY 1").fetchall()
    assert landed == [("A1", 2), ("A8", 9)]

    q = quarantine(con)
    assert set(q) == {3, 4, 5, 6, 7, 8}  # file line numbers, header = line 1
    assert q[3][0] == "INVALID VALUE" and q[3][1] == "received_at" and "2025-13-45 99:00:00" in q[3][2]
    assert q[4][0] == "MISSING REQUIRED" and q[4][1] == "call_id"
    assert q[5][0] == "TOO MANY COLUMNS"
    assert q[6][0] == "MISSING COLUMNS"
    assert q[7][0] == "INVALID ENCODING"
    assert q[8][0] == "INVALID VALUE" and q[8][1] == "latitude" and "not-a-number" in q[8][2]
    # the batch records the same reconciliation
    read, landed_n, quarantined_n = con.execute(
        "SELECT rows_read, rows_landed, rows_quarantined FROM raw.batches"
    ).fetchone()
    assert (read, landed_n, quarantined_n) == (8, 2, 6)


@pytest.mark.pure
def test_good_rows_are_mapped_to_canonical_values(con):
    profile = parse_profile(BROKEN_PROFILE)
    land_file(con, FIXTURES / "broken" / "calls_broken.csv", profile)
    row = con.execute(
        "SELECT call_id, call_type, beat, received_at, latitude, _source_profile, _timezone, _original->>'lon' "
        "FROM raw.calls_for_service WHERE call_id = 'A1'"
    ).fetchone()
    # 10:00 in Chicago on 1 March 2025 (CST, UTC-6) is 16:00 UTC
    assert row == (
        "A1",
        "NOISE",
        "1A",
        "2025-03-01 16:00:00",
        "41.85",
        "test_broken_calls",
        "America/Chicago",
        "-87.70",
    )


@pytest.mark.pure
def test_landing_the_same_file_twice_changes_nothing(con, tmp_path):
    profile = parse_profile(BROKEN_PROFILE)
    first = land_file(con, FIXTURES / "broken" / "calls_broken.csv", profile)
    # the same content under another name is the same batch too
    copy = tmp_path / "copy_of_calls.csv"
    shutil.copy(FIXTURES / "broken" / "calls_broken.csv", copy)
    second = land_file(con, FIXTURES / "broken" / "calls_broken.csv", profile)
    third = land_file(con, copy, profile)
    assert not first.already_landed and second.already_landed and third.already_landed
    counts = con.execute(
        "SELECT (SELECT count(*) FROM raw.calls_for_service), (SELECT count(*) FROM raw.quarantine), "
        "(SELECT count(*) FROM raw.batches)"
    ).fetchone()
    assert counts == (2, 6, 1)


@pytest.mark.pure
def test_files_landed_side_by_side_land_as_one_at_a_time_would(con, tmp_path):
    profile = parse_profile(BROKEN_PROFILE)
    header = "call_no,received,type,beat,lat,lon\n"
    good = []
    for month in range(1, 7):
        path = tmp_path / f"calls_2025-{month:02d}.csv"
        rows = "".join(
            f"M{month}-{i},2025-{month:02d}-0{i} 10:00:00,NOISE,1A,41.8,-87.7\n" for i in range(1, month + 1)
        )
        path.write_text(header + rows)
        good.append(path)
    copy = tmp_path / "calls_2025-06_again.csv"  # the same content as June under another name
    shutil.copy(good[-1], copy)
    refused = tmp_path / "calls_renamed.csv"
    refused.write_text("call_number,received,type\nX1,2025-03-01 10:00:00,NOISE\n")
    broken = shutil.copy(FIXTURES / "broken" / "calls_broken.csv", tmp_path)  # inside the landing folder
    files = [(p, profile) for p in [*good, refused, copy, Path(broken)]]
    limit_before = con.execute("SELECT current_setting('memory_limit')").fetchone()[0]

    outcomes = list(land_files(con, files, tmp_path, workers=3))

    # one outcome per file, in the order given, a refused file not stopping the others
    assert [path for path, _, _ in outcomes] == [path for path, _ in files]
    results = [outcome for _, _, outcome in outcomes]
    assert [r.rows_landed for r in results[:6]] == [1, 2, 3, 4, 5, 6]
    assert isinstance(results[6], LandingError) and "calls_renamed.csv: refused" in str(results[6])
    assert results[7].already_landed  # June's copy: one of the two landed, never both
    assert (results[8].rows_landed, results[8].rows_quarantined) == (2, 6)
    counts = con.execute(
        "SELECT (SELECT count(*) FROM raw.calls_for_service), (SELECT count(DISTINCT call_id) FROM "
        "raw.calls_for_service), (SELECT count(*) FROM raw.batches), (SELECT count(*) FROM raw.quarantine)"
    ).fetchone()
    assert counts == (21 + 2, 21 + 2, 7, 6)
    assert con.execute("SELECT current_setting('memory_limit')").fetchone()[0] == limit_before


@pytest.mark.pure
def test_a_file_missing_a_required_column_is_refused_whole(con, tmp_path):
    path = tmp_path / "renamed.csv"
    path.write_text("call_number,received,type\nA1,2025-03-01 10:00:00,NOISE\n")
    with pytest.raises(LandingError, match=r"renamed.csv: refused.*call_no \(for call_id\)"):
        land_file(con, path, parse_profile(BROKEN_PROFILE))
    assert con.execute("SELECT count(*) FROM raw.calls_for_service").fetchone()[0] == 0
    assert con.execute("SELECT count(*) FROM raw.batches").fetchone()[0] == 0


def test_profiles_with_mistakes_are_refused_with_the_key_at_fault():
    bad = dict(BROKEN_PROFILE, columns={**BROKEN_PROFILE["columns"], "call_colour": "x"})
    with pytest.raises(ProfileError, match="'call_colour' is not a canonical field"):
        parse_profile(bad)
    no_type = dict(BROKEN_PROFILE, columns={k: v for k, v in BROKEN_PROFILE["columns"].items() if k != "call_type"})
    with pytest.raises(ProfileError, match="required canonical field.*call_type"):
        parse_profile(no_type)
    with pytest.raises(ProfileError, match="not an IANA time zone"):
        parse_profile(dict(BROKEN_PROFILE, timezone="Central"))


def test_shipped_profiles_all_load():
    profiles = load_profiles(PROFILES_DIR)
    assert {"milwaukee_cfs", "demo_city_calls", "demo_city_stops"} <= set(profiles)
    assert profiles["milwaukee_cfs"].lacks == [
        "call_source",
        "is_officer_initiated",
        "initial_call_type",
        "call_type_description",
        "priority",
        "dispatched_at",
        "enroute_at",
        "arrived_at",
        "cleared_at",
        "beat",
        "units_assigned",
    ]


@pytest.mark.pure
def test_milwaukee_extract_lands_through_its_profile(con):
    profile = load_profiles(PROFILES_DIR)["milwaukee_cfs"]
    result = land_file(con, FIXTURES / "milwaukee" / "milwaukee_calls_for_service_2018-05.csv", profile)
    assert (result.rows_read, result.rows_landed, result.rows_quarantined) == (33_968, 33_968, 0)
    # First data row of the file, checked by hand:
    # 1211372,2018-05-01 00:10:28,"5237 N 35TH ST,MKE",43.1127987,-87.95674149999999,4,TRBL W/SUBJ,...
    row = con.execute(
        "SELECT received_at, block_address, district, call_type, disposition, latitude, _row_number "
        "FROM raw.calls_for_service WHERE call_id = '1211372'"
    ).fetchone()
    # 00:10:28 CDT (UTC-5) is 05:10:28 UTC
    assert row == (
        "2018-05-01 05:10:28",
        "5237 N 35TH ST,MKE",
        "4",
        "TRBL W/SUBJ",
        "Unable to Locate Complainant",
        "43.1127987",
        2,
    )
    # The known defect rows are kept, not dropped: the far-away geocode and the rows without coordinates.
    assert (
        con.execute("SELECT latitude FROM raw.calls_for_service WHERE call_id = '1211471'").fetchone()[0][:5] == "47.37"
    )
    assert con.execute("SELECT count(*) FROM raw.calls_for_service WHERE latitude IS NULL").fetchone()[0] == 11


def test_a_warehouse_made_anew_judges_and_builds_everything_again(tmp_path):
    """The batch ledger lives in the warehouse: deleting only the warehouse and landing the same
    file again leaves the file unjudged (the raw gates judge it again, staging does not read it
    until then), and the build does its full refresh."""
    from orchestration.ledger.store import batch_states, ensure_ledger, record_event
    from orchestration.transform import build_state
    from orchestration.transform.project import dbt_project

    warehouse = tmp_path / "w.duckdb"
    profile = parse_profile(BROKEN_PROFILE)
    con = duckdb.connect(str(warehouse))
    land_file(con, FIXTURES / "broken" / "calls_broken.csv", profile, now=datetime(2025, 6, 1, 12))
    ensure_ledger(con)
    (first,) = batch_states(con)
    record_event(con, first.batch_id, "passed", actor="gate test")
    assert batch_states(con)[0].admitted_at is not None
    build_state.record_build(con, dbt_project.manifest_path)
    assert build_state.full_refresh_reason(con, dbt_project.manifest_path) is None
    con.close()

    warehouse.unlink()  # made anew; the same file lands again
    con = duckdb.connect(str(warehouse))
    land_file(con, FIXTURES / "broken" / "calls_broken.csv", profile, now=datetime(2025, 6, 2, 12))
    ensure_ledger(con)
    (again,) = batch_states(con)
    reason = build_state.full_refresh_reason(con, dbt_project.manifest_path)
    con.close()
    assert again.batch_id == first.batch_id
    assert again.state == "landed" and again.admitted_at is None  # to be judged again
    assert "no record of an earlier build" in reason
    assert not list(tmp_path.glob("*.json"))  # no state beside the warehouse to get out of step


def test_the_ledgers_event_times_strictly_increase_whatever_the_clock_says(tmp_path):
    """Incremental builds read what was admitted strictly after their watermark, so
    no admission may share a time with, or come before, one already recorded: two events in the
    same microsecond, or a clock set back, still get later times than every event before them."""
    from orchestration.ledger.store import batch_states, ensure_ledger, history, record_event

    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    land_file(con, FIXTURES / "broken" / "calls_broken.csv", parse_profile(BROKEN_PROFILE), now=datetime(2025, 6, 1))
    ensure_ledger(con)
    (batch,) = batch_states(con)
    noon = datetime(2025, 6, 1, 12)
    record_event(con, batch.batch_id, "passed", actor="gate", at=noon)
    record_event(con, batch.batch_id, "held", actor="gate", at=noon)  # the same microsecond
    record_event(con, batch.batch_id, "released", actor="operator", at=noon - timedelta(hours=1))  # clock set back
    times = [row[0] for row in history(con, batch.batch_id)]
    (admitted,) = batch_states(con)
    con.close()
    assert times == [noon, noon + timedelta(microseconds=1), noon + timedelta(microseconds=2)]
    assert admitted.state == "released" and admitted.admitted_at == times[-1]
