"""What `make run` prints when a file is held: one screen, naming the file, the failing lines with
their field and value, the expectation, the Data Docs page, and the commands that fix it."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import duckdb

from orchestration.settings import PROJECT_ROOT

from .conftest import TEST_SEED
from .test_gates import SMALL, unknown_outcome


def test_a_held_file_is_named_with_its_lines_field_and_data_docs_page(tmp_path):
    from orchestration.demo_city.generator import generate

    landing = tmp_path / "landing"
    generate(landing / "demo_city", SMALL, TEST_SEED, progress=lambda _m: None)
    unknown_outcome(landing / "demo_city")  # four stops of September end "jailed"
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("PSW_", "DAGSTER_"))},
        "PSW_WAREHOUSE": str(tmp_path / "warehouse.duckdb"),
        "PSW_LANDING_DIR": str(landing),
        "DAGSTER_HOME": str(tmp_path / "dagster_home"),
        "PSW_DEMO_SCALE": str(SMALL),
        "PSW_DEMO_SEED": str(TEST_SEED),
    }
    done = subprocess.run(
        [sys.executable, "-m", "orchestration.cli", "run"], cwd=PROJECT_ROOT, env=env, capture_output=True, text=True
    )
    out = done.stdout
    assert done.returncode == 2, done.stderr[-2000:]  # held back, the rest built and published
    assert len(out.splitlines()) < 50  # one screen; the dbt and Dagster logs are in the log file
    held = out[out.index("Held back") :]
    assert "held      demo_city/stops/stops_2025-09.csv" in held
    # the failing lines: line number, the field and its value, and the expectation that failed
    lines = re.findall(r"line (\d+): .*outcome = jailed \(expect_column_values_to_be_in_set\(outcome\)\)", held)
    assert len(lines) == 2 and all(int(n) >= 2 for n in lines)
    docs = re.search(r"Data Docs: (\S+index\.html)", held)
    assert docs and Path(docs.group(1)).exists()
    assert "batches show FILE" in held and "batches release FILE" in held
    log = re.search(r"full log\s*: (\S+\.log)", out)
    assert log and "dbt build" in Path(log.group(1)).read_text()
    assert_the_summary_counts_what_the_warehouse_holds(out, tmp_path / "warehouse.duckdb", landing)


def number(text: str) -> int:
    return int(text.replace(",", ""))


def assert_the_summary_counts_what_the_warehouse_holds(out: str, warehouse: Path, landing: Path) -> None:
    """The stage lines of `make run`, each against the warehouse it describes: files on disk, rows
    in the raw tables and the quarantine, the ledger's verdicts and the marts' tables and rows."""
    land = re.search(r"^  land     ([\d,]+) new file\(s\): ([\d,]+) rows landed, ([\d,]+) quarantined", out, re.M)
    gates = re.search(r"^  gates    files in the ledger: (.+); gate checks (\d+) passed, (\d+) failed", out, re.M)
    build = re.search(r"^  build    (.+); dbt tests (\d+) passed, (\d+) failed", out, re.M)
    marts = re.search(r"^marts    (\d+) tables, ([\d,]+) rows", out, re.M)
    assert land and gates and build and marts, out
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        landed_files = {f for (f,) in con.execute("SELECT source_file FROM raw.batches").fetchall()}
        raw_tables = [
            t
            for (t,) in con.execute(
                "SELECT DISTINCT table_name FROM information_schema.columns "
                "WHERE table_schema = 'raw' AND column_name = '_batch_id'"
            ).fetchall()
        ]
        # the area boundaries (their own asset and ledger, like their files below) are not in it
        raw_rows = sum(
            con.execute(f"SELECT count(*) FROM raw.{t}").fetchone()[0] for t in raw_tables if t != "area_boundaries"
        )
        quarantined = con.execute("SELECT count(*) FROM raw.quarantine").fetchone()[0]
        states = dict(con.execute("SELECT state, count(*) FROM raw.batch_states GROUP BY 1").fetchall())
        mart_rows = [
            con.execute(f'SELECT count(*) FROM marts."{t}"').fetchone()[0]
            for (t,) in con.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = 'marts'"
            ).fetchall()
        ]
    finally:
        con.close()
    # the extracts: every file but the ignore list and what it names (the generator's truth.json),
    # and the area boundaries (GeoJSON), which land through their own asset and ledger
    ignored = {".landingignore"} | {
        line.strip()
        for line in (landing / "demo_city" / ".landingignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }
    on_disk = [p for p in landing.rglob("*") if p.is_file() and p.name not in ignored and p.suffix != ".geojson"]
    assert number(land.group(1)) == len(landed_files) == len(on_disk)  # every file of the first run is new
    assert number(land.group(2)) == raw_rows  # the ledger's counts are the rows the raw tables hold
    assert number(land.group(3)) == quarantined
    shown = dict((state, number(n)) for n, state in re.findall(r"(\d[\d,]*) (\w+)", gates.group(1)))
    assert shown == states and states.get("held") == 1 and sum(states.values()) == len(on_disk)
    assert int(build.group(2)) > 100 and int(build.group(3)) == 0
    assert (int(marts.group(1)), number(marts.group(2))) == (len(mart_rows), sum(mart_rows))
