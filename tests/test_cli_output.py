"""What `make run` prints when a file is held: one screen, naming the file, the failing lines with
their field and value, the expectation, the Data Docs page, and the commands that fix it."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

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
