"""Hostile files in the landing folder (issue 16): control bytes, links, files outside the folder,
lines too long, UTF-16 without a byte-order mark, and temporary files left by a killed run."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from orchestration.landing.loader import LandingError, land_file, land_files
from orchestration.landing.profiles import parse_profile
from orchestration.settings import PROJECT_ROOT

pytestmark = pytest.mark.pure  # a scratch DuckDB file, no dbt project (the mutation runs use these)

HEADER = "call_no,received,type,beat,lat,lon\n"
ROW = "{n},2025-01-01 10:00:00,{type},B1,41.9,-87.6\n"
PROFILE = {
    "name": "test_calls",
    "source": "calls_for_service",
    "files": "*.csv",
    "timezone": "America/Chicago",
    "columns": {"call_id": "call_no", "received_at": "received", "call_type": "type", "beat": "beat"},
}


@pytest.fixture
def con(tmp_path):
    connection = duckdb.connect(str(tmp_path / "w.duckdb"))
    yield connection
    connection.close()


@pytest.fixture
def landing(tmp_path):
    folder = tmp_path / "landing"
    folder.mkdir()
    return folder


def rows(con, sql):
    return con.execute(sql).fetchall()


def test_control_bytes_quarantine_the_row_naming_byte_file_and_line(con, landing):
    path = landing / "calls.csv"
    body = HEADER + ROW.format(n=1, type="THEFT") + ROW.format(n=2, type="TH\x00EFT") + ROW.format(n=3, type="OK")
    body += "4,2025-01-01 10:00:00,ALARM,B\x1b2,41.9,-87.6\n"
    path.write_bytes(body.encode())
    result = land_file(con, path, parse_profile(PROFILE), landing)
    assert (result.rows_read, result.rows_landed, result.rows_quarantined) == (4, 2, 2)
    assert rows(con, "SELECT call_id FROM raw.calls_for_service ORDER BY 1") == [("1",), ("3",)]
    assert rows(con, "SELECT row_number, error_type, field, reason FROM raw.quarantine ORDER BY 1") == [
        (
            3,
            "CONTROL BYTE",
            "type",
            "type: control byte 0x00 (NUL) in column type, calls.csv line 3; "
            "the row is quarantined whole, never landed or published",
        ),
        (
            5,
            "CONTROL BYTE",
            "beat",
            "beat: control byte 0x1B in column beat, calls.csv line 5; "
            "the row is quarantined whole, never landed or published",
        ),
    ]
    # no landed value and no quarantine text carries the byte itself
    text = rows(con, "SELECT string_agg(_original::VARCHAR || call_type, '') FROM raw.calls_for_service")[0][0]
    quarantine = rows(con, "SELECT string_agg(reason || record, '') FROM raw.quarantine")[0][0]
    assert "\x00" not in text and "\x00" not in quarantine and "\x1b" not in quarantine


def test_an_unreadable_record_with_a_nul_is_quarantined_with_the_byte_escaped(con, landing):
    path = landing / "calls.csv"
    path.write_bytes((HEADER + ROW.format(n=1, type="A") + "2,x\x00y\n" + ROW.format(n=3, type="B")).encode())
    result = land_file(con, path, parse_profile(PROFILE), landing)
    assert (result.rows_landed, result.rows_quarantined) == (2, 1)
    assert rows(con, "SELECT row_number, record FROM raw.quarantine") == [(3, "2,x\\x00y")]


def test_a_link_to_a_file_outside_the_landing_folder_is_refused_not_landed(con, landing, tmp_path):
    outside = tmp_path / "outside.csv"
    outside.write_text(HEADER + ROW.format(n=1, type="SECRET_OUTSIDE_ROW"))
    (landing / "calls.csv").symlink_to(outside)
    files = parse_profile(PROFILE).matching_files(landing)
    assert files == [landing / "calls.csv"]  # seen, so that it can be refused aloud
    [(_, _, outcome)] = list(land_files(con, [(files[0], parse_profile(PROFILE))], landing))
    assert isinstance(outcome, LandingError)
    assert str(outcome) == (
        f"calls.csv: refused, calls.csv is a symbolic link (to {outside}); "
        f"landing reads only regular files inside the landing folder {landing}"
    )
    assert rows(con, "SELECT count(*) FROM raw.batches") == [(0,)]


def test_a_link_to_a_system_file_is_refused_showing_none_of_its_content(con, landing):
    link = landing / "calls.csv"
    link.symlink_to("/etc/passwd")
    with pytest.raises(LandingError) as refused:
        land_file(con, link, parse_profile(PROFILE), landing)
    first_line = Path("/etc/passwd").read_text().splitlines()[0]
    assert "symbolic link (to /etc/passwd)" in str(refused.value)
    assert first_line not in str(refused.value) and "root:" not in str(refused.value)


def test_a_linked_folder_inside_the_landing_folder_is_refused(con, landing, tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "calls.csv").write_text(HEADER + ROW.format(n=1, type="X"))
    (landing / "city").symlink_to(elsewhere, target_is_directory=True)
    profile = parse_profile({**PROFILE, "files": "city/*.csv"})
    [path] = profile.matching_files(landing)
    with pytest.raises(LandingError, match=r"^city/calls.csv: refused, city is a symbolic link"):
        land_file(con, path, profile, landing)


def test_a_file_outside_the_landing_folder_is_refused(con, landing, tmp_path):
    outside = tmp_path / "calls.csv"
    outside.write_text(HEADER + ROW.format(n=1, type="X"))
    with pytest.raises(LandingError, match=r"refused, not inside the landing folder"):
        land_file(con, landing / ".." / "calls.csv", parse_profile(PROFILE), landing)


def test_a_refusal_shows_at_most_the_header_of_a_file_in_the_folder(con, landing):
    path = landing / "wide.csv"
    header = ",".join(f"column_with_a_long_name_{i}" for i in range(2000))
    path.write_text(header + "\n" + ",".join(["SECRET_CELL"] * 2000) + "\n")
    with pytest.raises(LandingError) as refused:
        land_file(con, path, parse_profile(PROFILE), landing)
    message = str(refused.value)
    assert "SECRET_CELL" not in message
    assert "Header found: column_with_a_long_name_0, column_with_a_long_name_1" in message
    assert "... (2000 columns)" in message and len(message) < 1000


@pytest.mark.parametrize("where", ["last", "only"])
def test_a_line_longer_than_the_reader_takes_is_refused_saying_the_limit_and_the_setting(con, landing, where):
    path = landing / "long.csv"
    if where == "last":  # a field that swallows the rest of the file, no line break after it
        path.write_bytes((HEADER + ROW.format(n=1, type="A") + "2,2025-01-01 10:00:00," + "x" * 3_000_000).encode())
        line, size = 3, 3_000_022
    else:  # a file with no line break at all
        path.write_bytes(("call_no," + "y" * 3_000_000).encode())
        line, size = 1, 3_000_008
    with pytest.raises(LandingError) as refused:
        land_file(con, path, parse_profile(PROFILE), landing)
    assert str(refused.value).startswith(
        f"long.csv: refused, line {line} is {size:,} bytes long, more than the CSV reader's limit of "
        "2,000,000 bytes (setting PSW_LANDING_MAX_LINE_BYTES)."
    )
    assert "quoting" not in str(refused.value)


def test_utf16_without_a_byte_order_mark_is_refused_saying_how_to_set_the_encoding(con, landing):
    path = landing / "calls.csv"
    path.write_bytes((HEADER + ROW.format(n=1, type="A")).encode("utf-16-le"))
    with pytest.raises(LandingError) as refused:
        land_file(con, path, parse_profile(PROFILE), landing)
    assert str(refused.value) == (
        "calls.csv: refused, looks like UTF-16-LE without a byte-order mark (every other byte of its start "
        "is 0) while the profile reads it as utf-8. Set csv.encoding: utf-16-le in test_calls, "
        "or re-export the file as UTF-8."
    )
    assert "\x00" not in str(refused.value)
    # and with the setting it says, the file lands
    result = land_file(con, path, parse_profile({**PROFILE, "csv": {"encoding": "utf-16-le"}}), landing)
    assert (result.rows_landed, result.rows_quarantined) == (1, 0)


KILLED_LANDING = """
import sys, time, duckdb
from pathlib import Path
from orchestration.landing import csvfile, loader
from orchestration.landing.profiles import parse_profile
real = csvfile.transcode_to_utf8
def transcode_then_hang(path, encoding, out):
    real(path, encoding, out)
    Path(sys.argv[2]).write_text(str(out))
    time.sleep(600)
csvfile.transcode_to_utf8 = transcode_then_hang
profile = parse_profile({"name": "t", "source": "calls_for_service", "files": "*.csv", "csv": {"encoding": "cp1252"},
    "columns": {"call_id": "call_no", "received_at": "received", "call_type": "type"}})
con = duckdb.connect(sys.argv[1])
loader.land_file(con, Path(sys.argv[3]), profile, Path(sys.argv[3]).parent)
"""


def test_temporary_files_live_beside_the_warehouse_and_a_killed_run_leaves_nothing_for_good(tmp_path, landing):
    warehouse = tmp_path / "w.duckdb"
    path = landing / "calls.csv"
    path.write_bytes((HEADER + ROW.format(n=1, type="CAF\xc9")).encode("cp1252"))
    signal_file = tmp_path / "transcoded"
    proc = subprocess.Popen(
        [sys.executable, "-c", KILLED_LANDING, str(warehouse), str(signal_file), str(path)],
        cwd=PROJECT_ROOT,
        env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT)},
    )
    try:
        deadline = time.monotonic() + 60
        while not signal_file.exists() and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.05)
        assert signal_file.exists(), "the landing subprocess never transcoded the file"
        copy = Path(signal_file.read_text())
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
    temp_root = tmp_path / "w.duckdb.landing-tmp"
    assert copy.is_relative_to(temp_root) and copy.exists()  # the transcoded copy, left by the kill
    con = duckdb.connect(str(warehouse))
    try:
        profile = parse_profile({**PROFILE, "csv": {"encoding": "cp1252"}})
        [(_, _, result)] = list(land_files(con, [(path, profile)], landing))
        assert result.rows_landed == 1
    finally:
        con.close()
    assert not copy.exists() and list(temp_root.iterdir()) == []


@pytest.mark.parametrize(
    ("data", "encoding", "message"),
    [
        # found by the property test: each crashed with a bare UnicodeError / csv.Error, naming no file
        (b"\x00\x00", "utf-16", "found.csv: refused, not utf-16: UTF-16 stream does not start with BOM"),
        (b'\x00\n1,",1,\r0\n', "utf-8", "found.csv: refused"),
        ("call_no,received,type,beat\r\x00\n".encode("utf-16-le"), "utf-16-le", "found.csv: refused"),
    ],
)
def test_files_the_property_test_found_are_refused_by_name(con, landing, data, encoding, message):
    path = landing / "found.csv"
    path.write_bytes(data)
    with pytest.raises(LandingError) as refused:
        land_file(con, path, parse_profile({**PROFILE, "csv": {"encoding": encoding}}), landing)
    assert str(refused.value).startswith(message), refused.value


def test_a_refused_header_with_control_bytes_shows_them_escaped(con, landing):
    path = landing / "calls.csv"
    path.write_bytes(b"call\x00no,rec\x01eived,type\n1,2,3\n")
    with pytest.raises(LandingError) as refused:
        land_file(con, path, parse_profile(PROFILE), landing)
    assert "Header found: call\\x00no, rec\\x01eived, type." in str(refused.value)
    assert "\x00" not in str(refused.value) and "\x01" not in str(refused.value)


def test_the_line_limit_follows_psw_landing_max_line_bytes(tmp_path, landing):
    """The limit is read from the environment once, when landing is imported: a 5,000-byte line is
    refused under a limit of 4,096 and lands under the default."""
    path = landing / "calls.csv"
    long_row = ROW.format(n=1, type="A" * 5000)
    path.write_text(HEADER + long_row)
    code = "\n".join(
        [
            "import sys, duckdb",
            "from pathlib import Path",
            "from orchestration.landing.loader import LandingError, land_file",
            "from orchestration.landing.profiles import parse_profile",
            "from tests.test_hostile_landing import PROFILE",
            f"con = duckdb.connect({str(tmp_path / 'w.duckdb')!r})",
            "try:",
            "    r = land_file(con, Path(sys.argv[1]), parse_profile(PROFILE), Path(sys.argv[2]))",
            "    print('landed', r.rows_landed)",
            "except LandingError as e:",
            "    print(e)",
        ]
    )
    clean = {k: v for k, v in os.environ.items() if k != "PSW_LANDING_MAX_LINE_BYTES"}

    def land(env):
        done = subprocess.run(
            [sys.executable, "-c", code, str(path), str(landing)],
            cwd=PROJECT_ROOT,
            env={**clean, **env},
            capture_output=True,
            text=True,
        )
        assert done.returncode == 0, done.stderr
        return done.stdout.strip().splitlines()[-1]

    refused = land({"PSW_LANDING_MAX_LINE_BYTES": "4096"})
    assert refused.startswith(f"calls.csv: refused, line 2 is {len(long_row) - 1:,} bytes long, more than the CSV")
    assert "reader's limit of 4,096 bytes" in refused
    assert land({}) == "landed 1"


@pytest.mark.parametrize("encoding", ["utf-8", "latin-1"])
def test_each_unreadable_record_is_kept_as_received_with_its_first_line(con, landing, encoding):
    # Records the reader cannot read: one too many fields (line 3), one spanning two lines (4-5),
    # two in a row (6 and 7, fields short), a good row between, and the file's last two records.
    lines = [
        HEADER.rstrip("\n"),
        "1,2025-01-01 10:00:00,THEFT,B1,41.9,-87.6",
        "2,2025-01-01 10:05:00,THÉFT,B1,41.9,-87.6,EXTRAX",
        '3,2025-01-01 10:10:00,"MULTI',
        'LINE",B1,41.9,-87.6,EXTRA',
        "4,2025-01-01 10:20:00,THEFT",
        "5,2025-01-01 10:25:00,ALARM",
        "6,2025-01-01 10:30:00,BURGLARY,B1,41.9,-87.6",
        "  7,2025-01-01 10:35:00,ÉCHO,B1   ",  # spaces either side are part of what was received
        "X8,2025-01-01 10:40:00,ONLY",  # so are the letters at either end
    ]
    path = landing / "calls.csv"
    path.write_bytes(("\n".join(lines) + "\n").encode(encoding))
    profile = parse_profile({**PROFILE, "csv": {"encoding": encoding}})
    result = land_file(con, path, profile, landing)
    assert (result.rows_read, result.rows_landed, result.rows_quarantined) == (8, 2, 6)
    kept = rows(con, "SELECT row_number, record FROM raw.quarantine ORDER BY row_number")
    assert kept == [
        (3, lines[2]),
        (4, lines[3] + "\n" + lines[4]),
        (6, lines[5]),
        (7, lines[6]),
        (9, lines[8]),
        (10, lines[9]),
    ]
    assert set(rows(con, "SELECT DISTINCT source_file FROM raw.quarantine")) == {("calls.csv",)}
    # the file's result counts them by the reader's reason, as the quarantine table does
    by_reason = dict(rows(con, "SELECT error_type, count(*) FROM raw.quarantine GROUP BY 1"))
    assert dict(result.quarantine_reasons) == by_reason and sum(by_reason.values()) == 6


def test_a_control_byte_in_the_first_or_last_column_quarantines_the_row(con, landing):
    path = landing / "calls.csv"
    body = HEADER + "\x071,2025-01-01 10:00:00,THEFT,B1,41.9,-87.6\n" + ROW.format(n=2, type="OK")
    body += "3,2025-01-01 10:00:00,THEFT,B1,41.9,-87.6\x08\n"
    path.write_bytes(body.encode())
    result = land_file(con, path, parse_profile(PROFILE), landing)
    assert (result.rows_landed, result.rows_quarantined) == (1, 2)
    assert rows(con, "SELECT row_number, error_type, field FROM raw.quarantine ORDER BY 1") == [
        (2, "CONTROL BYTE", "call_no"),
        (4, "CONTROL BYTE", "lon"),
    ]


def test_the_files_result_counts_its_flagged_rows_by_flag(con, landing):
    # 1:30 on 2 November happens twice in Chicago, 2:30 on 9 March never: both land, flagged
    path = landing / "calls.csv"
    body = HEADER + "1,2025-11-02 01:30:00,THEFT,B1,41.9,-87.6\n2,2025-03-09 02:30:00,THEFT,B1,41.9,-87.6\n"
    path.write_bytes((body + ROW.format(n=3, type="OK")).encode())
    result = land_file(con, path, parse_profile(PROFILE), landing)
    assert result.rows_landed == 3
    assert dict(result.flags) == {
        "received_at: dst_repeat_first_occurrence": 1,
        "received_at: dst_gap_shifted_forward": 1,
    }
