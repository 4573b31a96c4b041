"""Meaningful mutations of the marts' SQL, each of which the suite must catch (`make mutation-sql`).

Each mutant is one small change a tired engineer could make (a join key dropped, a month shifted,
a filter inverted, a threshold off by one, an order reversed). The script copies the project,
applies the change (the text must occur where it says, or the script stops), runs the test
modules named for that mart in the copy, and reports the mutant killed when they fail. Slow (each
copy builds the demo city): it is not part of ``make test``.

    python -m tests.mutation.sql_mutants [name ...]
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MODELS = "dbt_project/models"


@dataclass(frozen=True)
class Mutant:
    name: str
    path: str
    old: str
    new: str
    tests: tuple[str, ...]


MUTANTS = (
    Mutant(
        "join key dropped: area months counted without their month",
        f"{MODELS}/intermediate/enforcement/int_enforcement_area_months.sql",
        "            and month_spine.event_month = counted.event_month\n",
        "",
        ("tests/test_enforcement.py",),
    ),
    Mutant(
        "month shifted: 311 requests beside the next month's calls",
        f"{MODELS}/marts/service_demand/mart_service_requests_demand.sql",
        "and requests.request_month = calls.call_month",
        "and requests.request_month = cast(calls.call_month + interval 1 month as date)",
        ("tests/test_service_demand.py",),
    ),
    Mutant(
        "filter inverted: service demand of the records that are not police calls",
        f"{MODELS}/marts/service_demand/mart_service_demand.sql",
        "    where int_calls.is_police_call",
        "    where not int_calls.is_police_call",
        ("tests/test_service_demand.py",),
    ),
    Mutant(
        "threshold off by one: a count of exactly min_cell_count withheld",
        "dbt_project/macros/performance_sql.sql",
        "or {{ count_expression }} >= {{ var(threshold_var) }}",
        "or {{ count_expression }} > {{ var(threshold_var) }}",
        ("tests/test_disclosure.py",),
    ),
    Mutant(
        "threshold off by one: the top place named only above min_cell_count",
        f"{MODELS}/marts/violence/mart_violence_concentration.sql",
        "when concentration.top_place_violent_crimes >= {{ var('min_cell_count') }} then concentration.top_place_id",
        "when concentration.top_place_violent_crimes > {{ var('min_cell_count') }} then concentration.top_place_id",
        ("tests/test_enforcement.py",),
    ),
    Mutant(
        # killed by the recovery test whose tolerance is derived from the sampling error (3 standard
        # errors of a mean of monthly medians): a bias of about half a minute is far outside it
        "time truncated: dispatch delays counted from the minute the call came in",
        f"{MODELS}/intermediate/performance/int_call_response_intervals.sql",
        "{{ minutes_between('received_at_utc', 'dispatched_at_utc') }}",
        "{{ minutes_between(\"date_trunc('minute', received_at_utc)\", 'dispatched_at_utc') }}",
        ("tests/test_kpis.py::test_response_times_recover_the_planted_dispatch_delays",),
    ),
    Mutant(
        "order reversed: the concentration curve from the quietest place up",
        f"{MODELS}/marts/violence/mart_concentration_curve.sql",
        "order by crimes desc, place_id asc",
        "order by crimes asc, place_id asc",
        ("tests/test_concentration_curve.py",),
    ),
)

IGNORED = shutil.ignore_patterns(
    ".git", ".venv", ".tools", "data", "mutants", ".dagster_home", "target", "artifacts", "__pycache__", "logs"
)


def first_failure(output: str) -> str:
    """The first test pytest reports failed (or erred), as pytest names it."""
    for line in output.splitlines():
        if line.startswith(("FAILED ", "ERROR ")):
            return line.split(" - ")[0]
    return ""


def run(mutant: Mutant) -> tuple[Mutant, str, float]:
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="psw-sql-mutant-") as tmp:
        copy = Path(tmp) / "project"
        shutil.copytree(ROOT, copy, ignore=IGNORED)
        for tool in (".venv", ".tools"):
            (copy / tool).symlink_to(ROOT / tool)
        target = copy / mutant.path
        text = target.read_text()
        if mutant.old not in text:
            raise SystemExit(f"{mutant.path}: the text to mutate is not there any more: {mutant.old!r}")
        target.write_text(text.replace(mutant.old, mutant.new))
        env = {**os.environ, "PATH": f"{copy / '.venv' / 'bin'}{os.pathsep}{os.environ['PATH']}"}
        done = subprocess.run(
            [
                str(copy / ".venv" / "bin" / "pytest"),
                "-x",
                "-q",
                "-rfE",
                "-p",
                "no:randomly",
                "-p",
                "no:cacheprovider",
                *mutant.tests,
            ],
            cwd=copy,
            env=env,
            capture_output=True,
            text=True,
        )
    verdict = {0: "SURVIVED", 1: "killed"}.get(done.returncode, f"error (pytest exit {done.returncode})")
    if done.returncode == 1:
        verdict += f" by {first_failure(done.stdout)}"
    return mutant, verdict, time.perf_counter() - started


def main(names: list[str]) -> int:
    chosen = [m for m in MUTANTS if not names or any(n in m.name for n in names)]
    print(f"{len(chosen)} SQL mutants, two at a time; each builds the demo city in a copy of the project")
    survived = 0
    with ThreadPoolExecutor(max_workers=2) as pool:
        for mutant, verdict, seconds in pool.map(run, chosen):
            survived += verdict.startswith("SURVIVED")
            print(f"  {seconds:4.0f} s  {mutant.name}\n          {verdict}")
    print(f"{len(chosen) - survived} of {len(chosen)} killed")
    return 1 if survived else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
