"""Landing a large file: time and peak memory (RSS), to show that a file is streamed, not loaded.

    python -m orchestration.landing.benchmark --gigabytes 2 --workdir /tmp/psw_bench

writes a Milwaukee-shaped calls-for-service CSV of about that size (streaming, a few MB of
memory; an existing file of that size in the workdir is reused), lands it into a fresh DuckDB
file in a child process, and prints rows, seconds and the child's peak resident memory. Set
PSW_LANDING_MEMORY_LIMIT to try another DuckDB memory cap. The tests run the same code at 16 and
128 MB (tests/test_robustness.py); this script is for the real 2 GB measurement, kept out of the suite.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import subprocess
import sys
import time
from pathlib import Path

from orchestration.settings import read_environment

HEADER = "id,time,location,latitude,longitude,district,nature,status\n"
NATURES = ("TRAFFIC STOP", "BUSINESS CHECK", "TRBL W/SUBJ", "RETURN STATION", "FOLLOW UP", "WELFARE CITIZEN", "PATROL")
STATUSES = ("Service in Progress", "Advised", "Unable to Locate Complainant", "Assignment Completed")
PROFILE = {
    "name": "benchmark_calls",
    "source": "calls_for_service",
    "files": "*.csv",
    "timezone": "America/Chicago",
    "columns": {
        "call_id": "id",
        "received_at": "time",
        "block_address": "location",
        "latitude": "latitude",
        "longitude": "longitude",
        "district": "district",
        "call_type": "nature",
        "disposition": "status",
    },
}


def write_calls(path: Path, target_bytes: int, seed: int = 1) -> int:
    """Write about ``target_bytes`` of calls (ids 1..n, one per line); returns the row count."""
    rnd = random.Random(seed)
    rows = 0
    with path.open("w", encoding="utf-8", newline="") as fh:
        fh.write(HEADER)
        written = len(HEADER)
        lines = []
        while written < target_bytes:
            rows += 1
            minute = rows % 525_600
            line = (
                f"{rows},2018-{1 + minute // 43_800 % 12:02d}-{1 + minute // 1_440 % 28:02d} "
                f"{minute // 60 % 24:02d}:{minute % 60:02d}:{rows % 60:02d},"
                f'"{rnd.randint(100, 9999)} N {rnd.randint(1, 99)}TH ST,MKE",'
                f"{43.0 + rnd.random() * 0.15:.7f},{-87.9 - rnd.random() * 0.1:.7f},{rnd.randint(1, 7)},"
                f"{rnd.choice(NATURES)},{rnd.choice(STATUSES)}\n"
            )
            lines.append(line)
            written += len(line)
            if len(lines) == 10_000:
                fh.write("".join(lines))
                lines.clear()
        fh.write("".join(lines))
    return rows


def land_and_measure(csv_path: Path, warehouse: Path) -> dict:
    """Land ``csv_path`` in a child process; returns its counts, seconds and peak RSS (MiB)."""
    code = (
        "import json, resource, sys, time, duckdb\n"
        "from orchestration.landing.loader import land_file\n"
        "from orchestration.landing.profiles import parse_profile\n"
        f"profile = parse_profile(json.loads({json.dumps(json.dumps(PROFILE))}))\n"
        f"con = duckdb.connect({str(warehouse)!r})\n"
        "started = time.perf_counter()\n"
        f"r = land_file(con, {str(csv_path)!r}, profile)\n"
        "elapsed = time.perf_counter() - started\n"
        "con.close()\n"
        "peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024\n"
        "print(json.dumps({'rows_read': r.rows_read, 'rows_landed': r.rows_landed, "
        "'rows_quarantined': r.rows_quarantined, 'seconds': round(elapsed, 1), 'peak_rss_mib': round(peak)}))\n"
    )
    root = Path(__file__).resolve().parents[2]
    out = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def baseline_rss_mib() -> int:
    """Peak RSS of a child that only imports the landing code and opens DuckDB (the fixed cost)."""
    code = (
        "import resource, duckdb\nimport orchestration.landing.loader\nduckdb.connect()\n"
        "print(round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024))\n"
    )
    root = Path(__file__).resolve().parents[2]
    return int(subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True).stdout)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--gigabytes", type=float, default=2.0)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/psw_landing_benchmark"))
    args = parser.parse_args(argv)
    args.workdir.mkdir(parents=True, exist_ok=True)
    csv_path = args.workdir / "calls_benchmark.csv"
    warehouse = args.workdir / "benchmark.duckdb"
    for p in (warehouse, Path(str(warehouse) + ".wal")):
        p.unlink(missing_ok=True)
    target = int(args.gigabytes * (1 << 30))
    if csv_path.exists() and target <= csv_path.stat().st_size < target + (1 << 20):
        print(f"reusing {csv_path} ({csv_path.stat().st_size / (1 << 20):,.0f} MiB)")
    else:
        started = time.perf_counter()
        rows = write_calls(csv_path, target)
        print(
            f"wrote {csv_path} ({csv_path.stat().st_size / (1 << 20):,.0f} MiB, {rows:,} rows) "
            f"in {time.perf_counter() - started:.0f} s; writer peak RSS "
            f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MiB"
        )
    print(f"DuckDB memory limit while landing: {read_environment().landing_memory_limit}")
    print(f"baseline (imports + DuckDB) peak RSS: {baseline_rss_mib()} MiB")
    result = land_and_measure(csv_path, warehouse)
    print(f"landed: {json.dumps(result)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
