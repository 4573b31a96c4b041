"""What real files contain, and what landing does with it: each case names file, row and field, and
nothing is lost (a row is landed, landed and flagged, or quarantined; a file is landed or refused whole).
"""

from __future__ import annotations

import codecs
import os
import subprocess
import tracemalloc
from datetime import datetime
from pathlib import Path

import duckdb
import pytest

from orchestration.landing import csvfile
from orchestration.landing.benchmark import land_and_measure, write_calls
from orchestration.landing.loader import LandingError, land_file
from orchestration.landing.profiles import parse_profile
from orchestration.settings import DBT_PROJECT_DIR
from orchestration.transform.project import dbt_executable
from tests.support.ledger import admit_every_batch

HEADER = "call_no,received,type,beat,lat,lon\n"
PROFILE = {
    "name": "test_calls",
    "source": "calls_for_service",
    "files": "*.csv",
    "timezone": "America/Chicago",
    "columns": {
        "call_id": "call_no",
        "received_at": "received",
        "call_type": ["type", "nature"],
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


def write(tmp_path: Path, name: str, content: str | bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
    return path


def landed(con, columns="call_id, _row_number") -> list[tuple]:
    return con.execute(f"SELECT {columns} FROM raw.calls_for_service ORDER BY _row_number").fetchall()


def quarantined(con) -> list[tuple]:
    return con.execute(
        "SELECT row_number, error_type, field, reason, record FROM raw.quarantine ORDER BY row_number"
    ).fetchall()


def counts(con) -> tuple:
    return con.execute(
        "SELECT (SELECT count(*) FROM raw.calls_for_service), (SELECT count(*) FROM raw.quarantine), "
        "(SELECT count(*) FROM raw.batches)"
    ).fetchone()


# -- delimiter and quoting ---------------------------------------------------------------------


def test_a_file_with_another_delimiter_is_refused_naming_the_delimiter_found(con, tmp_path):
    path = write(
        tmp_path, "semicolons.csv", HEADER.replace(",", ";") + "A1;2025-03-01 10:00:00;NOISE;1A;41.85;-87.70\n"
    )
    with pytest.raises(LandingError, match=r"semicolons.csv: refused, wrong delimiter.*splits on ';' into 6 columns"):
        land_file(con, path, parse_profile(PROFILE))
    assert counts(con) == (0, 0, 0)


def test_a_file_quoted_with_another_character_is_refused_naming_it(con, tmp_path):
    rows = "".join(f"A{i},2025-03-01 10:0{i}:00,'NOISE, LOUD',1A,41.85,-87.70\n" for i in range(1, 8))
    path = write(tmp_path, "single_quotes.csv", HEADER + rows)
    with pytest.raises(LandingError, match=r"single_quotes.csv: refused, wrong quote character.*with \"'\""):
        land_file(con, path, parse_profile(PROFILE))
    assert counts(con) == (0, 0, 0)


def test_an_unclosed_quote_quarantines_the_lines_it_swallows_with_their_text(con, tmp_path):
    path = write(
        tmp_path,
        "unclosed.csv",
        HEADER
        + "A1,2025-03-01 10:00:00,NOISE,1A,41.85,-87.70\n"
        + 'A2,2025-03-01 10:01:00,"NOISE,1A,41.85,-87.70\n'  # the quote opens here ...
        + "A3,2025-03-01 10:02:00,NOISE,1A,41.85,-87.70\n"
        + 'A4,2025-03-01 10:03:00,"THEFT",1A,41.85,-87.70\n'  # ... and closes on this line
        + "A5,2025-03-01 10:04:00,NOISE,1A,41.85,-87.70\n",
    )
    result = land_file(con, path, parse_profile(PROFILE))
    # the reader sees three records: A1, one record spanning lines 3-5, A5
    assert (result.rows_read, result.rows_landed, result.rows_quarantined) == (3, 2, 1)
    assert landed(con) == [("A1", 2), ("A5", 6)]
    ((line, error, _field, _reason, record),) = quarantined(con)
    assert (line, error) == (3, "UNQUOTED VALUE")
    assert record.splitlines() == [
        'A2,2025-03-01 10:01:00,"NOISE,1A,41.85,-87.70',
        "A3,2025-03-01 10:02:00,NOISE,1A,41.85,-87.70",
        'A4,2025-03-01 10:03:00,"THEFT",1A,41.85,-87.70',
    ]


def test_quoting_too_broken_to_tell_records_apart_is_refused(con, tmp_path):
    # A CR LF file whose line 4 opens a quote that never closes: DuckDB 2.0's reader and the line
    # scan then disagree on where the records start (found by fuzzing the two against each other),
    # so no row could carry an honest line number, and a record could be lost without a trace.
    path = write(
        tmp_path,
        "tangled.csv",
        'call_no,received,type\r\nr0,12" pipe,ab"\r\nr1,12" pipe,12,"x"y\r\nr2,"x"y,"unterminated\r\nr3,"a,b",12\r\n',
    )
    with pytest.raises(LandingError, match=r"tangled.csv: refused, broken quoting: the CSV reader found 4 records"):
        land_file(con, path, parse_profile(PROFILE))
    assert counts(con) == (0, 0, 0)


# -- encodings and byte-order marks -------------------------------------------------------------


def test_latin1_bytes_are_read_as_latin1(con, tmp_path):
    path = write(
        tmp_path, "latin1.csv", (HEADER + "A1,2025-03-01 10:00:00,CAF\xc9 NOISE,1A,41.85,-87.70\n").encode("latin-1")
    )
    result = land_file(con, path, parse_profile({**PROFILE, "csv": {"encoding": "latin-1"}}))
    assert result.rows_landed == 1
    assert landed(con, "call_type") == [("CAFÉ NOISE",)]


def test_cp1252_bytes_are_transcoded_and_nothing_is_replaced(con, tmp_path):
    # 0x93/0x94 curly quotes and 0x80 the euro sign are cp1252, not latin-1; 0x81 is undefined in
    # cp1252 and is kept as the control character U+0081 rather than dropped or replaced.
    raw = (
        HEADER.encode()
        + b'A1,2025-03-01 10:00:00,"\x93LOUD\x94 PARTY \x80",1A,41.85,-87.70\n'
        + b"A2,2025-03-01 10:01:00,X\x81Y,1A,41.85,-87.70\n"
    )
    path = write(tmp_path, "cp1252.csv", raw)
    result = land_file(con, path, parse_profile({**PROFILE, "csv": {"encoding": "cp1252"}}))
    assert (result.rows_landed, result.rows_quarantined) == (2, 0)
    assert landed(con, "call_type") == [("\u201cLOUD\u201d PARTY \u20ac",), ("X\x81Y",)]
    assert "transcoded from cp1252 to UTF-8 while streaming" in result.notes


def test_transcoding_streams_in_bounded_memory(tmp_path):
    line = b'A1,2025-03-01 10:00:00,"\x93LOUD\x94 PARTY \x80",1A,41.85,-87.70\n'
    source = tmp_path / "big_cp1252.csv"
    with source.open("wb") as fh:
        for _ in range(40):
            fh.write(line * 10_000)  # 40 x 0.5 MB = 20 MB
    tracemalloc.start()
    csvfile.transcode_to_utf8(source, "cp1252", tmp_path / "out.csv")
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert (tmp_path / "out.csv").stat().st_size > source.stat().st_size  # 3-byte UTF-8 for each curly quote
    assert peak < 8 << 20, f"transcoding a 20 MB file peaked at {peak / 2**20:.1f} MiB of Python memory"


def test_utf8_declared_file_with_cp1252_bytes_quarantines_those_lines_and_says_why(con, tmp_path):
    raw = (
        HEADER.encode()
        + b"A1,2025-03-01 10:00:00,NOISE,1A,41.85,-87.70\nA2,2025-03-01 10:01:00,\x93LOUD\x94,1A,41.85,-87.70\n"
    )
    result = land_file(con, write(tmp_path, "mixed.csv", raw), parse_profile(PROFILE))
    assert (result.rows_landed, result.rows_quarantined) == (1, 1)
    ((line, error, _f, _r, record),) = quarantined(con)
    assert (line, error) == (3, "INVALID ENCODING")
    assert "\\x93LOUD\\x94" in record  # the bytes as received, escaped, not replaced
    assert any("set csv.encoding" in n for n in result.notes)


def test_a_utf8_byte_order_mark_is_not_part_of_the_first_column_name(con, tmp_path):
    path = write(
        tmp_path, "bom.csv", codecs.BOM_UTF8 + (HEADER + "A1,2025-03-01 10:00:00,NOISE,1A,41.85,-87.70\n").encode()
    )
    result = land_file(con, path, parse_profile(PROFILE))
    assert result.rows_landed == 1
    assert landed(con, "call_id, _original->>'call_no'") == [("A1", "A1")]


def test_a_utf16_byte_order_mark_is_followed(con, tmp_path):
    text = HEADER + "A1,2025-03-01 10:00:00,BRUIT \u00c9TRANGE,1A,41.85,-87.70\n"
    path = write(tmp_path, "utf16.csv", text.encode("utf-16"))  # with its BOM
    result = land_file(con, path, parse_profile(PROFILE))
    assert landed(con, "call_id, call_type, _row_number") == [("A1", "BRUIT ÉTRANGE", 2)]
    assert any("byte-order mark says utf-16" in n for n in result.notes)


# -- blank lines and line numbers ---------------------------------------------------------------


def test_blank_lines_and_multiline_fields_keep_every_row_on_its_physical_line(con, tmp_path):
    path = write(
        tmp_path,
        "blank_lines.csv",
        "\n"  # line 1: blank; the header is on line 2
        + HEADER
        + "A1,2025-03-01 10:00:00,NOISE,1A,41.85,-87.70\n"  # 3
        + "\n"  # 4
        + 'A2,2025-03-01 10:01:00,"NOISE\nLOUD",1A,41.85,-87.70\n'  # 5-6
        + "\r\n"  # 7 (a CR-LF blank line)
        + "A3,2025-03-01 10:02:00,NOISE,1A\n"  # 8: too few columns
        + "A4,2025-13-01 10:03:00,NOISE,1A,41.85,-87.70\n"  # 9: no 13th month
        + "\n\n"  # 10, 11
        + "A5,2025-03-01 10:04:00,NOISE,1A,41.85,-87.70\n",  # 12
    )
    result = land_file(con, path, parse_profile(PROFILE))
    assert (result.rows_read, result.rows_landed, result.rows_quarantined) == (5, 3, 2)
    assert landed(con) == [("A1", 3), ("A2", 5), ("A5", 12)]
    assert [(q[0], q[1], q[2]) for q in quarantined(con)] == [
        (8, "MISSING COLUMNS", "lat"),  # the first column the line lacks
        (9, "INVALID VALUE", "received_at"),
    ]
    assert "5 blank line(s) skipped (line 1, 4, 7, 10, 11)" in result.notes
    # DuckDB's reader stops on a file that mixes CR LF and LF: it reads a copy with LF only
    assert "mixed line endings (1 CR LF, 10 LF): read with LF only" in result.notes


# -- columns -----------------------------------------------------------------------------------


def test_a_renamed_or_missing_required_column_refuses_the_file_listing_all_that_is_missing(con, tmp_path):
    path = write(tmp_path, "renamed.csv", "call_number,received,kind,beat\nA1,2025-03-01 10:00:00,NOISE,1A\n")
    with pytest.raises(LandingError) as refused:
        land_file(con, path, parse_profile(PROFILE))
    message = str(refused.value)
    assert message.startswith("renamed.csv: refused, required column(s) missing from the header: ")
    assert "call_no (for call_id)" in message and "one of type, nature (for call_type)" in message
    assert "Header found: call_number, received, kind, beat" in message
    assert counts(con) == (0, 0, 0)


def test_an_alias_is_used_when_the_first_spelling_is_absent_and_optional_columns_may_be_missing(con, tmp_path):
    path = write(tmp_path, "alias.csv", "call_no,received,nature\nA1,2025-03-01 10:00:00,NOISE\n")
    result = land_file(con, path, parse_profile(PROFILE))
    assert landed(con, "call_type, beat, latitude") == [("NOISE", None, None)]
    assert any("lat (for latitude)" in n for n in result.notes)


def test_an_extra_column_is_kept_in_original(con, tmp_path):
    path = write(
        tmp_path,
        "extra.csv",
        HEADER.strip() + ",officer_note\nA1,2025-03-01 10:00:00,NOISE,1A,41.85,-87.70,seen twice\n",
    )
    result = land_file(con, path, parse_profile(PROFILE))
    assert result.unmapped_columns == ["officer_note"]
    assert landed(con, "_original->>'officer_note', _original->>'lat'") == [("seen twice", "41.85")]


# -- duplicates --------------------------------------------------------------------------------


def test_duplicates_land_as_received_and_staging_keeps_the_latest(tmp_path):
    warehouse = tmp_path / "w.duckdb"
    con = duckdb.connect(str(warehouse))
    profile = parse_profile(PROFILE)
    first = write(
        tmp_path,
        "day1.csv",
        HEADER
        + "A1,2025-03-01 10:00:00,NOISE,1A,41.85,-87.70\n"
        + "A2,2025-03-01 10:05:00,NOISE,1A,41.85,-87.70\n"
        + "A2,2025-03-01 10:05:00,THEFT,1A,41.85,-87.70\n",  # same id twice in one file: the later line wins
    )
    second = write(tmp_path, "day2.csv", HEADER + "A1,2025-03-01 10:00:00,ASSAULT,1B,41.85,-87.70\n")
    land_file(con, first, profile)
    land_file(con, second, profile)
    assert con.execute("SELECT count(*) FROM raw.calls_for_service").fetchone()[0] == 4  # as received
    assert admit_every_batch(con) == 2  # as the raw gate passes them: staging reads admitted files only
    con.close()
    env = {**os.environ, "PSW_WAREHOUSE": str(warehouse), "PSW_DBT_TARGET": "duckdb"}
    subprocess.run(
        [
            dbt_executable(),
            "run",
            "--select",
            "stg_calls_for_service",
            "--project-dir",
            str(DBT_PROJECT_DIR),
            "--profiles-dir",
            str(DBT_PROJECT_DIR),
            "--target-path",
            str(tmp_path / "dbt_target"),
            "--log-path",
            str(tmp_path / "dbt_logs"),
        ],
        check=True,
        env=env,
        cwd=DBT_PROJECT_DIR,
        capture_output=True,
    )
    con = duckdb.connect(str(warehouse), read_only=True)
    rows = con.execute(
        "SELECT call_id, call_type, beat, source_file, source_row_number FROM staging.stg_calls_for_service ORDER BY 1"
    ).fetchall()
    con.close()
    assert rows == [("A1", "ASSAULT", "1B", "day2.csv", 2), ("A2", "THEFT", "1A", "day1.csv", 4)]


# -- time -------------------------------------------------------------------------------------


def test_timestamps_with_and_without_a_zone_are_the_same_instant_in_utc(con, tmp_path):
    profile = parse_profile({**PROFILE, "timestamp_formats": ["%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%d %H:%M:%S"]})
    path = write(
        tmp_path,
        "zones.csv",
        HEADER
        + "A1,2025-03-01 09:00:00,NOISE,1A,41.85,-87.70\n"  # local Chicago time (CST, UTC-6)
        + "A2,2025-03-01T10:00:00-05:00,NOISE,1A,41.85,-87.70\n"  # with an offset
        + "A3,2025-03-01T15:00:00Z,NOISE,1A,41.85,-87.70\n"  # UTC, ISO 8601 Z
        + "A4,2025-03-01T20:30:00+0530,NOISE,1A,41.85,-87.70\n",  # offset without a colon
    )
    land_file(con, path, profile)
    assert landed(con, "call_id, received_at") == [
        ("A1", "2025-03-01 15:00:00"),
        ("A2", "2025-03-01 15:00:00"),
        ("A3", "2025-03-01 15:00:00"),
        ("A4", "2025-03-01 15:00:00"),
    ]


def test_daylight_saving_gap_moves_forward_and_repeat_takes_the_first_occurrence_both_flagged(con, tmp_path):
    path = write(
        tmp_path,
        "dst.csv",
        HEADER
        + "G1,2025-03-09 01:59:00,NOISE,1A,41.85,-87.70\n"  # CST, just before the jump
        + "G2,2025-03-09 02:30:00,NOISE,1A,41.85,-87.70\n"  # never happened in Chicago
        + "G3,2025-03-09 03:00:00,NOISE,1A,41.85,-87.70\n"  # CDT
        + "R1,2025-11-02 01:30:00,NOISE,1A,41.85,-87.70\n"  # happened twice (CDT, then CST)
        + "R2,2025-11-02 02:00:00,NOISE,1A,41.85,-87.70\n",  # CST
    )
    result = land_file(con, path, parse_profile(PROFILE))
    assert result.rows_landed == 5
    assert landed(con, "call_id, received_at, _flags") == [
        ("G1", "2025-03-09 07:59:00", None),
        ("G2", "2025-03-09 08:30:00", "received_at: dst_gap_shifted_forward"),  # read as 02:30 CST = 03:30 CDT
        ("G3", "2025-03-09 08:00:00", None),
        ("R1", "2025-11-02 06:30:00", "received_at: dst_repeat_first_occurrence"),  # 01:30 CDT
        ("R2", "2025-11-02 08:00:00", None),
    ]
    assert result.flags == {"received_at: dst_gap_shifted_forward": 1, "received_at: dst_repeat_first_occurrence": 1}


def test_a_timestamp_more_than_a_day_after_the_load_is_quarantined(con, tmp_path):
    path = write(
        tmp_path,
        "future.csv",
        HEADER
        + "F1,2025-06-01 14:00:00,NOISE,1A,41.85,-87.70\n"  # 19:00 UTC: 7 hours after the load, kept
        + "F2,2025-06-03 10:00:00,NOISE,1A,41.85,-87.70\n"  # two days after
        + "F3,2031-06-01 10:00:00,NOISE,1A,41.85,-87.70\n",  # a typo in the year
    )
    result = land_file(con, path, parse_profile(PROFILE), now=datetime(2025, 6, 1, 12, 0))
    assert (result.rows_landed, result.rows_quarantined) == (1, 2)
    assert landed(con, "call_id") == [("F1",)]
    q = quarantined(con)
    assert [(r[0], r[1], r[2]) for r in q] == [
        (3, "FUTURE TIMESTAMP", "received_at"),
        (4, "FUTURE TIMESTAMP", "received_at"),
    ]
    assert q[1][3] == (
        "received_at: '2031-06-01 10:00:00' (column received) is later than the load time "
        "2025-06-01 12:00 UTC + 1 day (read as 2031-06-01 15:00:00 UTC)"
    )


# -- place ------------------------------------------------------------------------------------


def test_coordinates_outside_the_city_or_swapped_are_kept_and_flagged(con, tmp_path):
    bounds = {"min_latitude": 42.90, "max_latitude": 43.20, "min_longitude": -88.08, "max_longitude": -87.85}
    path = write(
        tmp_path,
        "places.csv",
        HEADER
        + "P1,2025-03-01 10:00:00,NOISE,1A,43.05,-87.95\n"  # in Milwaukee
        + "P2,2025-03-01 10:01:00,NOISE,1A,-87.95,43.05\n"  # latitude and longitude exchanged
        + "P3,2025-03-01 10:02:00,NOISE,1A,47.37,-115.38\n"  # Idaho
        + "P4,2025-03-01 10:03:00,NOISE,1A,143.05,-87.95\n"  # not on Earth (and not swapped either)
        + "P5,2025-03-01 10:04:00,NOISE,1A,,\n",  # no coordinates: nothing to flag
    )
    result = land_file(con, path, parse_profile({**PROFILE, "bounds": bounds}))
    assert (result.rows_landed, result.rows_quarantined) == (5, 0)
    assert landed(con, "call_id, latitude, longitude, _flags") == [
        ("P1", "43.05", "-87.95", None),
        ("P2", "-87.95", "43.05", "latitude/longitude: swapped (the values fit the city the other way round)"),
        ("P3", "47.37", "-115.38", "latitude/longitude: outside the city bounds"),
        ("P4", "143.05", "-87.95", "latitude/longitude: impossible (not on Earth)"),
        ("P5", None, None, None),
    ]


# -- empty files --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "note"),
    [
        (b"", "empty file (0 bytes): no header, no rows"),
        (HEADER.encode(), "header only: no rows"),
        (b"\n\n\r\n", "only blank lines: no header, no rows"),
    ],
)
def test_an_empty_file_is_recorded_as_an_empty_batch(con, tmp_path, content, note):
    path = write(tmp_path, "empty.csv", content)
    result = land_file(con, path, parse_profile(PROFILE))
    assert (result.rows_read, result.rows_landed, result.rows_quarantined) == (0, 0, 0)
    assert note in result.notes
    batch = con.execute("SELECT source_file, rows_read, file_bytes, notes FROM raw.batches").fetchall()
    assert batch == [("empty.csv", 0, len(content), note)]
    # and landing it again is a no-op, like any file
    assert land_file(con, path, parse_profile(PROFILE)).already_landed


# -- size -------------------------------------------------------------------------------------


@pytest.mark.slow
def test_a_large_file_streams_peak_memory_does_not_grow_with_its_size(tmp_path, monkeypatch):
    """16 MB and 128 MB of calls (8x the data) landed in child processes under a 128 MB DuckDB limit.

    The real 2 GB measurement is `python -m orchestration.landing.benchmark --gigabytes 2`.
    """
    monkeypatch.setenv("PSW_LANDING_MEMORY_LIMIT", "128MB")
    peaks = {}
    for megabytes in (16, 128):
        csv_path = tmp_path / f"calls_{megabytes}.csv"
        rows = write_calls(csv_path, megabytes << 20)
        measured = land_and_measure(csv_path, tmp_path / f"w{megabytes}.duckdb")
        assert (measured["rows_read"], measured["rows_landed"]) == (rows, rows)
        peaks[megabytes] = measured["peak_rss_mib"]
        csv_path.unlink()
    growth = peaks[128] - peaks[16]
    assert growth < (128 - 16) / 2, f"peak RSS {peaks}: grew {growth} MiB for 112 MB more data"


@pytest.mark.slow
def test_a_file_read_in_parallel_keeps_every_row_on_its_physical_line(con, tmp_path):
    """About 40 MB, read by DuckDB on four threads into the work table, with a record the reader
    rejects and a multi-line field in the middle: every landed row carries the physical line it
    starts on (its call number says which line that is), so the work table kept the file's order."""
    expected = {}
    lines = [HEADER]
    line = 1
    rows = 600_000
    for k in range(1, rows + 1):
        line += 1
        if k == 250_000:
            lines.append("broken,line,with,too,many,fields,here\n")  # rejected: 7 fields for 6
            line += 1
        if k == 400_000:
            lines.append(f'{k},2024-01-05 10:00:00,"WELFARE\nCHECK",2B,43.05,-87.95\n')
            expected[str(k)] = line
            line += 1  # the field's line break
            continue
        lines.append(f"{k},2024-01-05 10:00:00,PATROL FOLLOW UP WITH A LONGER TEXT,2B,43.0512345,-87.9512345\n")
        expected[str(k)] = line
    path = write(tmp_path, "big.csv", "".join(lines))
    assert path.stat().st_size > 40 << 20
    con.execute("SET threads = 4")
    result = land_file(con, path, parse_profile(PROFILE), memory_limit=None)
    assert (result.rows_read, result.rows_landed, result.rows_quarantined) == (rows + 1, rows, 1)
    got = dict(con.execute("SELECT call_id, _row_number FROM raw.calls_for_service").fetchall())
    wrong = [(k, got.get(k), v) for k, v in expected.items() if got.get(k) != v]
    assert not wrong, f"{len(wrong)} rows on the wrong line, first {wrong[:3]}"
    assert con.execute("SELECT row_number FROM raw.quarantine").fetchall() == [(250_001,)]


def test_a_connection_that_does_not_keep_insertion_order_is_refused_not_misnumbered(con, tmp_path):
    """Rows are numbered by their place in the work table; an engine told it may reorder them
    (``preserve_insertion_order = false``) would number them wrongly, so the file is not landed."""
    path = write(tmp_path, "calls.csv", HEADER + "C1,2024-01-05 10:00:00,PATROL,2B,43.05,-87.95\n")
    con.execute("SET preserve_insertion_order = false")
    with pytest.raises(LandingError, match="did not keep the file's row order"):
        land_file(con, path, parse_profile(PROFILE))
    assert counts(con) == (0, 0, 0)
