"""The same dataset in another layout, and placeholders for "none".

Seattle's open-data API serves the call data with snake_case names, ISO queue times and
``Jan 01 1900 00:00:00:000AM`` for "never arrived". The real Seattle extract (222 calls, 186 with
an arrival, 13 on-view; see tests/fixtures/README) is rewritten in that layout here, and both land
through the one shipped profile to the same canonical rows. Any timestamp before 1901 is a
placeholder, whichever profile reads it.
"""

from __future__ import annotations

import csv
import re
from datetime import datetime
from pathlib import Path

import duckdb
import pytest
import yaml

from orchestration.landing.loader import land_file
from orchestration.landing.profiles import parse_profile
from tests.conftest import FIXTURES, PROFILES_DIR
from tests.support.ledger import SEATTLE_FILE, write_rows

CANONICAL = (
    "call_id, call_source, is_officer_initiated, initial_call_type, call_type, priority, "
    "received_at, arrived_at, disposition, district, beat"
)
API_NAMES = {
    "CAD Event Number": "cad_event_number",
    "Event Clearance Description": "event_clearance_description",
    "Call Type": "call_type",
    "Priority": "priority",
    "Initial Call Type": "initial_call_type",
    "Final Call Type": "final_call_type",
    "Original Time Queued": "original_time_queued",
    "Arrived Time": "arrived_time",
    "Precinct": "precinct",
    "Sector": "sector",
    "Beat": "beat",
    "Blurred_Longitude": "blurred_longitude",
    "Blurred_Latitude": "blurred_latitude",
}
CSV_TIME = "%m/%d/%Y %I:%M:%S %p"


def seattle_profile():
    path = PROFILES_DIR / "seattle_cfs.yaml"
    return parse_profile(yaml.safe_load(path.read_text()), path)


def api_layout(path: Path) -> Path:
    """The real extract as the API serves it: snake_case header, ISO queue time, arrival as
    'Nov 04 2023 06:51:06:000PM', and the 1900 placeholder where there is no arrival."""
    with SEATTLE_FILE.open(newline="", encoding="utf-8-sig") as fh:
        reader = csv.reader(fh)
        header = next(reader)
        rows = [r for r in reader if r]
    queued, arrived = header.index("Original Time Queued"), header.index("Arrived Time")
    out = []
    for row in rows:
        row = list(row)
        row[queued] = datetime.strptime(row[queued], CSV_TIME).strftime("%Y-%m-%dT%H:%M:%S.000")
        if row[arrived]:
            row[arrived] = datetime.strptime(row[arrived], CSV_TIME).strftime("%b %d %Y %I:%M:%S:000%p")
        else:
            row[arrived] = "Jan 01 1900 00:00:00:000AM"
        out.append(row)
    return write_rows(path, [API_NAMES[h] for h in header], out)


def land(tmp_path: Path, name: str, path: Path, profile=None) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(str(tmp_path / f"{name}.duckdb"))
    land_file(con, path, profile or seattle_profile())
    return con


def test_the_api_layout_lands_through_the_shipped_profile_to_the_same_rows(tmp_path):
    export = land(tmp_path, "export", SEATTLE_FILE)
    api = land(tmp_path, "api", api_layout(tmp_path / "seattle" / "seattle_api.csv"))
    query = f"SELECT {CANONICAL} FROM raw.calls_for_service ORDER BY call_id"
    from_export, from_api = export.execute(query).fetchall(), api.execute(query).fetchall()
    assert from_api == from_export
    # the hand counts of the real extract
    counts = (
        "SELECT count(*), count(arrived_at), count(*) FILTER (WHERE is_officer_initiated = 'true') "
        "FROM raw.calls_for_service"
    )
    assert api.execute(counts).fetchone() == (222, 186, 13)
    assert api.execute("SELECT count(*) FROM raw.quarantine").fetchone() == (0,)
    # the placeholder is counted, not hidden: one flag per call never arrived at
    flags = api.execute(
        "SELECT _flags, count(*) FROM raw.calls_for_service WHERE _flags IS NOT NULL GROUP BY 1"
    ).fetchall()
    assert flags == [("arrived_at: placeholder 'Jan 01 1900 00:00:00:000AM' (column arrived_time) read as missing", 36)]


PROFILE = {
    "name": "placeholder_cfs",
    "source": "calls_for_service",
    "files": "*.csv",
    "timezone": "America/Chicago",
    "timestamp_formats": {"default": ["%Y-%m-%d %H:%M:%S", "%m/%d/%Y"]},
    "columns": {"call_id": "id", "received_at": "received", "call_type": "type", "arrived_at": "arrived"},
}


@pytest.mark.parametrize("placeholder", ["1900-01-01 00:00:00", "12/30/1899", "0001-01-01 00:00:00"])
def test_a_date_before_1901_is_a_placeholder_in_any_profile(tmp_path, placeholder):
    path = tmp_path / "calls.csv"
    path.write_text(
        "id,received,type,arrived\n"
        f"A1,2025-03-01 10:00:00,NOISE,{placeholder}\n"  # never arrived: read as missing, flagged
        "A2,2025-03-01 11:00:00,NOISE,2025-03-01 11:09:00\n"
        f"A3,{placeholder},NOISE,\n"  # a required time that is a placeholder: quarantined
    )
    con = land(tmp_path, "w", path, parse_profile(PROFILE))
    landed = con.execute("SELECT call_id, arrived_at, _flags FROM raw.calls_for_service ORDER BY 1").fetchall()
    assert landed == [
        ("A1", None, f"arrived_at: placeholder date '{placeholder}' read as missing"),
        ("A2", "2025-03-01 17:09:00", None),
    ]
    ((line, error, fld, reason),) = con.execute(
        "SELECT row_number, error_type, field, reason FROM raw.quarantine"
    ).fetchall()
    assert (line, error, fld) == (4, "INVALID VALUE", "received_at")
    assert "is a placeholder date (before 1901), not a time" in reason


def snake(name: str) -> str:
    """A column as an open-data API serves it: 'TypeText' -> 'typetext', 'Call Type' -> 'call_type'."""
    return re.sub(r"[^0-9a-z]+", "_", name.lower()).strip("_")


def title(name: str) -> str:
    """A column as a spreadsheet export writes it: 'event_number' -> 'Event Number'."""
    return " ".join(part.capitalize() for part in name.split("_"))


@pytest.mark.parametrize(
    ("profile_name", "fixture", "respell"),
    [
        ("new_orleans_cfs", "new_orleans/calls_for_service_2018_sample.csv", snake),
        ("cincinnati_cfs", "cincinnati/calls_for_service_2018-05_sample.csv", title),
        ("san_francisco_cfs", "san_francisco/dispatched_calls_2023-05_sample.csv", title),
    ],
)
def test_a_shipped_profile_reads_its_header_spelt_another_way(tmp_path, profile_name, fixture, respell):
    """The same extract with its header as the other channel spells it (API snake_case, or an
    export's Title Case) lands through the shipped profile, unchanged, to the same rows."""
    path = PROFILES_DIR / f"{profile_name}.yaml"
    profile = parse_profile(yaml.safe_load(path.read_text()), path)
    original = FIXTURES / fixture
    with original.open(newline="", encoding="utf-8-sig") as fh:
        header, *rows = [r for r in csv.reader(fh) if r]
    respelt = write_rows(tmp_path / "respelt" / original.name, [respell(h) for h in header], rows)
    assert [respell(h) for h in header] != header
    as_is, other = land(tmp_path, "as_is", original, profile), land(tmp_path, "other", respelt, profile)
    query = "SELECT * EXCLUDE (_batch_id, _source_file, _loaded_at, _original) FROM raw.calls_for_service ORDER BY 1"
    landed = as_is.execute(query).fetchall()
    assert len(landed) == len(rows) and other.execute(query).fetchall() == landed
    assert (
        other.execute("SELECT count(*) FROM raw.quarantine").fetchone()
        == as_is.execute("SELECT count(*) FROM raw.quarantine").fetchone()
    )


def test_a_column_spelt_two_ways_in_one_header_is_not_guessed():
    spec = parse_profile(
        {"name": "x", "source": "calls_for_service", "files": "x/*.csv",
         "columns": {"call_id": "id", "received_at": "t", "call_type": "Call Type"}}
    ).columns["call_type"]  # fmt: skip
    assert spec.resolve({"id", "t", "call_type"}) == ("call_type",)
    assert spec.resolve({"id", "t", "CALLTYPE"}) == ("CALLTYPE",)
    assert spec.resolve({"id", "t", "Call Type", "call_type"}) == ("Call Type",)  # as written wins
    assert spec.resolve({"id", "t", "call_type", "CallType"}) is None  # two other spellings: neither guessed


def test_zero_zero_coordinates_are_no_place_read_as_missing_and_counted(tmp_path):
    """A geocoder's "not found" written as 0, 0 (in a file with or without a city box): landed
    without coordinates and flagged, never a point off the coast of Africa."""
    profile = parse_profile({**PROFILE, "columns": {**PROFILE["columns"], "latitude": "lat", "longitude": "lon"}})
    path = write_rows(
        tmp_path / "calls.csv",
        ["id", "received", "type", "arrived", "lat", "lon"],
        [["1", "2025-01-01 10:00:00", "X", "", "0", "0"], ["2", "2025-01-01 11:00:00", "X", "", "41.88", "-87.63"],
         ["3", "2025-01-01 12:00:00", "X", "", "0.0", "-87.63"]],
    )  # fmt: skip
    con = land(tmp_path, "zero", path, profile)
    rows = con.execute("SELECT call_id, latitude, longitude, _flags FROM raw.calls_for_service ORDER BY 1").fetchall()
    assert rows == [
        ("1", None, None, "latitude/longitude: 0, 0 (no place) read as missing"),
        ("2", "41.88", "-87.63", None),
        ("3", "0.0", "-87.63", None),  # one zero alone is a value (the equator), not the placeholder
    ]


def test_times_written_as_a_count_since_1970_are_read_as_utc(tmp_path):
    """ArcGIS exports and JSON APIs write times as milliseconds (or seconds) since 1970-01-01 UTC:
    read as those instants whatever the profile's time zone; a count past 2100 is no time."""
    formats = {"received_at": "epoch_milliseconds", "arrived_at": "epoch_seconds"}
    profile = parse_profile({**PROFILE, "timestamp_formats": formats})
    path = write_rows(
        tmp_path / "calls.csv",
        ["id", "received", "type", "arrived"],
        [["1", "1622521541000", "X", "1622521841"], ["2", "1622521541500", "X", ""],
         ["3", "99999999999999", "X", ""]],
    )  # fmt: skip
    con = land(tmp_path, "epoch", path, profile)
    assert con.execute("SELECT call_id, received_at, arrived_at FROM raw.calls_for_service ORDER BY 1").fetchall() == [
        ("1", "2021-06-01 04:25:41", "2021-06-01 04:30:41"),
        ("2", "2021-06-01 04:25:41", None),
    ]
    quarantined = con.execute("SELECT row_number, error_type, field FROM raw.quarantine").fetchall()
    assert quarantined == [(4, "INVALID VALUE", "received_at")]
