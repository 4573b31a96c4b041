"""One refresh at a time: two `make run`s started together end with one run and one clear refusal,
and a consistent warehouse; the CLI's summary says what it held back, and its exit code too."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import duckdb

from orchestration.ledger.lock import refresh_lock
from orchestration.settings import PROJECT_ROOT
from tests.support.ledger import csv_rows, write_rows


def cli_env(tmp_path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "PSW_WAREHOUSE": str(tmp_path / "warehouse.duckdb"),
            "PSW_LANDING_DIR": str(tmp_path / "landing"),
            "DAGSTER_HOME": str(tmp_path / "dagster_home"),
            "PSW_DEMO_SCALE": "0.02",
            "PSW_REFRESH_LOCK_WAIT_SECONDS": "0",
            "GX_ANALYTICS_ENABLED": "False",
        }
    )
    return env


def start_run(env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "orchestration.cli", "run"],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_two_refreshes_started_together_make_one_run_and_one_refusal(tmp_path):
    env = cli_env(tmp_path)
    first, second = start_run(env), start_run(env)
    outcomes = []
    for proc in (first, second):
        out, err = proc.communicate(timeout=900)
        outcomes.append((proc.pid, proc.returncode, out, err))
    codes = sorted(code for _, code, _, _ in outcomes)
    assert codes == [0, 1], [(c, o[-500:], e[-1500:]) for _, c, o, e in outcomes]
    (winner,) = [pid for pid, code, _, _ in outcomes if code == 0]
    (refused,) = [err for _, code, _, err in outcomes if code == 1]
    assert "a refresh is running since" in refused and f"pid {winner} (make run)" in refused
    assert "Traceback" not in refused and "Could not set lock" not in refused  # a sentence, not a trace

    con = duckdb.connect(env["PSW_WAREHOUSE"], read_only=True)
    states = dict(con.execute("SELECT state, count(*) FROM raw.batch_states GROUP BY 1").fetchall())
    raw, staged = con.execute(
        "SELECT (SELECT count(*) FROM raw.calls_for_service), (SELECT count(*) FROM staging.stg_calls_for_service)"
    ).fetchone()
    con.close()
    assert set(states) == {"passed"}  # every file landed once and was judged once
    assert raw == staged == 1_200  # 0.02 x 60,000 calls, none twice

    # a file with repeated ids: the next run holds it, builds the rest, says so, and exits 2
    calls = tmp_path / "landing" / "demo_city" / "calls_for_service"
    header, rows = csv_rows(calls / "calls_for_service_2025-03.csv")
    write_rows(calls / "calls_for_service_2026-01.csv", header, [[f"Z{i}", *r[1:]] for i, r in enumerate(rows)] * 2)
    third = start_run(env)
    out, err = third.communicate(timeout=900)
    assert third.returncode == 2, (out[-800:], err[-800:])
    assert "Held back" in out
    assert "held      demo_city/calls_for_service/calls_for_service_2026-01.csv" in out
    assert "expect_column_values_to_be_unique(call_id)" in out
    assert "line 2: call_id = Z0" in out  # the file, the line and the field
    assert "batches release FILE" in out and "batches show FILE" in out  # the commands that fix it
    docs = out.split("Data Docs: ", 1)[1].split()[0]
    assert Path(docs).is_file() and "calls_for_service" in Path(docs).read_text()
    assert "START sql" not in out and "Running with dbt" not in out  # dbt's log is in the log file
    assert len(out.splitlines()) < 40, out  # fits a screen
    assert "Running with dbt" in Path(out.split("full log: ", 1)[1].split(")")[0]).read_text()


def test_the_lock_is_reentrant_in_its_process_and_refuses_another(tmp_path):
    warehouse = tmp_path / "w.duckdb"
    with refresh_lock(warehouse, "outer"), refresh_lock(warehouse, "inner"):  # the CLI and its own run
        code = (
            "import sys; from orchestration.ledger.lock import refresh_lock, RefreshBusy\n"
            "try:\n"
            f"    with refresh_lock({str(warehouse)!r}): print('got it')\n"
            "except RefreshBusy as exc: print(exc)\n"
        )
        other = subprocess.run([sys.executable, "-c", code], cwd=PROJECT_ROOT, capture_output=True, text=True)
        assert "a refresh is running since" in other.stdout and f"pid {os.getpid()} (outer)" in other.stdout
    try:
        with refresh_lock(warehouse, "a refresh that fails"):
            raise ValueError("the refresh failed")
    except ValueError:
        pass
    after = subprocess.run([sys.executable, "-c", code], cwd=PROJECT_ROOT, capture_output=True, text=True)
    assert after.stdout.strip() == "got it"  # released when the holder ended, by an error too
