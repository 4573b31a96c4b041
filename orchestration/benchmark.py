"""Benchmark: the whole pipeline at a chosen scale, stage by stage, against the bare engine.

    python -m orchestration.benchmark --scale 10 [--workdir DIR] [--out artifacts/benchmark.json]

It is not a test: it prints figures and writes them to a JSON file. In a scratch folder it
1. generates the demo city (wall time, peak memory);
2. runs the refresh job (land, build, gates, publish, report) in a child process, sampling
   the memory of the whole process tree; each Dagster step is put in a stage by its name;
3. adds one new day of calls and runs the job again (the incremental refresh);
4. runs the same compiled SQL of the dbt models directly in one DuckDB connection, with no
   orchestration (the SQL floor), and reads the same landing files with DuckDB's ``read_csv``
   into one table per source folder, every field as text with the file's name (the read floor:
   what landing keeps, read once);
5. prints each stage against its floor (land / read floor, build / SQL floor) and the whole job
   against both floors together, all measured in the same run.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import duckdb

from orchestration.bench_floors import engine_floor, read_floor
from orchestration.settings import DBT_PROJECT_DIR, PROJECT_ROOT

YEAR_AFTER = 2026  # the extra day is 1 January of the year after the demo year
STAGES = ("land", "build", "gates", "publish", "report", "other")


def stage_of(step_key: str) -> str:
    key = step_key.lower()
    if "land" in key:
        return "land"
    if "dbt" in key:
        return "build"
    if "gate" in key or "check" in key or "expect" in key:
        return "gates"
    if "report" in key:
        return "report"
    if any(word in key for word in ("serv", "postgres", "parquet", "publish")):
        return "publish"
    return "other"


class TreeMemorySampler:
    """Samples the resident memory of a process and all its descendants (Linux /proc)."""

    def __init__(self, pid: int, interval: float = 0.1):
        self.pid, self.interval = pid, interval
        self.samples: list[tuple[float, int]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    @staticmethod
    def _children(pid: int) -> list[int]:
        found = []
        for task in Path(f"/proc/{pid}/task").glob("*"):
            with contextlib.suppress(OSError):
                found += [int(c) for c in (task / "children").read_text().split()]
        return found

    @staticmethod
    def _rss(pid: int) -> int:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
        except OSError:
            pass
        return 0

    def tree_rss(self) -> int:
        total, stack = 0, [self.pid]
        while stack:
            pid = stack.pop()
            total += self._rss(pid)
            stack += self._children(pid)
        return total

    def _run(self) -> None:
        while not self._stop.is_set():
            self.samples.append((time.time(), self.tree_rss()))
            self._stop.wait(self.interval)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()

    def peak(self, start: float = 0.0, end: float = float("inf")) -> int:
        return max((rss for t, rss in self.samples if start <= t <= end), default=0)


def run_measured(cmd: list[str], env: dict[str, str]) -> tuple[float, TreeMemorySampler, int]:
    started = time.time()
    proc = subprocess.Popen(cmd, env=env, cwd=PROJECT_ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    with TreeMemorySampler(proc.pid) as sampler:
        _, err = proc.communicate()
    if proc.returncode:
        sys.stderr.write(err.decode(errors="replace")[-3000:])
    return time.time() - started, sampler, proc.returncode


def step_times(dagster_home: Path) -> list[tuple[str, float, float, str]]:
    """(step key, start, end, status) of the latest run recorded in this Dagster home."""
    os.environ["DAGSTER_HOME"] = str(dagster_home)
    from dagster import DagsterEventType, DagsterInstance

    with DagsterInstance.get() as instance:
        run = instance.get_runs(limit=1)[0]
        starts: dict[str, float] = {}
        steps = []
        for record in instance.all_logs(run.run_id):
            event = record.dagster_event
            if event is None or not record.step_key:
                continue
            if event.event_type == DagsterEventType.STEP_START:
                starts[record.step_key] = record.timestamp
            elif event.event_type in (DagsterEventType.STEP_SUCCESS, DagsterEventType.STEP_FAILURE):
                status = "ok" if event.event_type == DagsterEventType.STEP_SUCCESS else "failed"
                steps.append((record.step_key, starts.get(record.step_key, record.timestamp), record.timestamp, status))
        return steps


# the marts of the "what if" and "did it work" questions: they must not dominate the build
WHAT_IF_MODELS = (
    "int_scenario_calls",
    "mart_scenario_impact",
    "mart_alternative_staffing",
    "int_program_monthly_outcomes",
    "int_program_trust_change",
    "mart_program_evaluation",
    "mart_kpi_drift",
)
WHAT_IF_STEPS = ("mart_demand_forecast", "mart_dispatch_replay")


def model_seconds(target_dir: Path) -> dict[str, float]:
    """Each dbt node's execution time in the build whose artefacts are in ``target_dir``."""
    results = json.loads((target_dir / "run_results.json").read_text())
    return {r["unique_id"].split(".")[-1]: r["execution_time"] for r in results["results"]}


def what_if_seconds(target_dir: Path, steps) -> dict[str, float]:
    """Seconds of the what-if marts: dbt models from the build's run results, the Python marts
    from their Dagster steps."""
    models = model_seconds(target_dir)
    found = {name: round(models[name], 2) for name in WHAT_IF_MODELS if name in models}
    for key, start, end, _status in steps:
        for name in WHAT_IF_STEPS:
            if key.endswith(name):
                found[name] = round(end - start, 2)
    return found


def by_stage(steps, sampler: TreeMemorySampler) -> dict[str, dict]:
    stages: dict[str, dict] = {}
    for key, start, end, status in steps:
        entry = stages.setdefault(stage_of(key), {"seconds": 0.0, "peak_rss_mb": 0.0, "steps": []})
        entry["seconds"] += end - start
        entry["peak_rss_mb"] = max(entry["peak_rss_mb"], sampler.peak(start, end) / 2**20)
        entry["steps"].append({"step": key, "seconds": round(end - start, 2), "status": status})
    for entry in stages.values():
        entry["seconds"] = round(entry["seconds"], 2)
        entry["peak_rss_mb"] = round(entry["peak_rss_mb"], 1)
    return stages


def peak_place(steps, sampler: TreeMemorySampler) -> dict:
    """When the run's memory peaked, and in which step (None: outside every step, in the job's
    start-up or its summary)."""
    if not sampler.samples:
        return {"seconds_after_start": None, "step": None}
    t, _ = max(sampler.samples, key=lambda sample: sample[1])
    active = [key for key, start, end, _status in steps if start <= t <= end]
    return {"seconds_after_start": round(t - sampler.samples[0][0], 1), "step": active[0] if active else None}


def add_one_day(landing_dir: Path, day_rows: int, seed: int) -> Path:
    """A new day's extract of calls (1 January of the next year), ids that do not collide."""
    import numpy as np

    from orchestration.demo_city import layout, sources

    areas = layout.build_areas(seed)
    frame, expressions = sources.build_calls(seed + 1, areas, layout.area_weights(areas), 1, day_rows)
    # Every call moved to 1 January (its time of day kept): the extract covers one day.
    received = frame["time_received"].to_numpy().astype("datetime64[s]")
    shift = np.datetime64(f"{YEAR_AFTER}-01-01", "s") - received.astype("datetime64[D]").astype("datetime64[s]")
    for col in ("time_received", "time_dispatched", "time_enroute", "time_arrived", "time_cleared"):
        frame[col] = frame[col].to_numpy().astype("datetime64[s]") + shift
    expressions["incident_number"] = sources.id_sql("incident_number", f"C{layout.YEAR + 1}0101D", 7)
    assert layout.YEAR + 1 == YEAR_AFTER
    path = landing_dir / "demo_city" / "calls_for_service" / f"calls_for_service_{YEAR_AFTER}-01-01.csv"
    fmt = {c: "%Y-%m-%dT%H:%M:%S" for c in frame.columns if c.startswith("time_")}
    sources.write_csv(frame, path, fmt, expressions)
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument(
        "--scales", type=str, default=None, help="several scales, comma-separated (a scaling table): 1,10,166.67"
    )
    parser.add_argument("--seed", type=int, default=20250101)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/psw-benchmark"))
    parser.add_argument("--out", type=Path, default=PROJECT_ROOT / "artifacts" / "benchmark.json")
    parser.add_argument("--keep", action="store_true", help="reuse generated files in workdir")
    args = parser.parse_args(argv)
    scales = [float(x) for x in args.scales.split(",")] if args.scales else [args.scale]
    runs = []
    for scale in scales:
        work = args.workdir if len(scales) == 1 else args.workdir / f"scale-{scale:g}"
        runs.append(measure(scale, args.seed, work, args.keep))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(runs[0] if len(runs) == 1 else {"scales": runs}, indent=2))
    if len(runs) > 1:
        print(scaling_table(runs))
    print(f"figures written to {args.out}")
    return 0


def scaling_table(runs: list[dict]) -> str:
    """Seconds and peak memory per stage at each scale, with each stage's floor (a Markdown table)."""
    lines = [
        "| scale | calls | land (read floor) | build (SQL floor) | gates | publish | whole job (both floors) | peak |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in runs:
        stages = r["full"]["stages"]

        def sec(name: str, stages=stages) -> str:
            return f"{stages[name]['seconds']:.1f} s" if name in stages else "-"

        lines.append(
            f"| {r['scale']:g} | {r['generate']['rows']['calls_for_service']:,} "
            f"| {sec('land')} ({r['read_floor_seconds']:.1f} s) | {sec('build')} ({r['engine_floor_seconds']:.1f} s) "
            f"| {sec('gates')} | {sec('publish')} "
            f"| {r['full']['seconds']:.1f} s ({r['whole_job_floor_seconds']:.1f} s) "
            f"| {r['full']['peak_rss_mb'] / 1024:.2f} GB |"
        )
    return "\n".join(lines)


def measure(scale: float, seed: int, work: Path, keep: bool) -> dict:
    """One scale: generate (or keep), the full job, one new day on top, and both floors."""
    if work.exists() and not keep:
        shutil.rmtree(work)
    work.mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "PSW_WAREHOUSE": str(work / "warehouse.duckdb"),
        "PSW_LANDING_DIR": str(work / "landing"),
        "DAGSTER_HOME": str(work / "dagster_home"),
        "PSW_DEMO_SCALE": str(scale),
        "PSW_DEMO_SEED": str(seed),
        "PSW_SERVING_DIR": str(work / "serving"),
        "PSW_REPORT_DIR": str(work / "report"),
    }
    (work / "dagster_home").mkdir(exist_ok=True)
    python = sys.executable
    results: dict = {
        "scale": scale,
        "cores": os.cpu_count(),
        "machine": platform.platform(),
        "duckdb": duckdb.__version__,
    }

    print(f"benchmark at scale {scale} in {work} ({os.cpu_count()} cores)")
    truth_path = work / "landing" / "demo_city" / "truth.json"
    kept = None
    if keep and truth_path.exists():
        kept = json.loads(truth_path.read_text())
        if (kept.get("scale"), kept.get("seed")) != (scale, seed):
            sys.exit(f"{work} holds scale {kept.get('scale')} seed {kept.get('seed')}: run without --keep")
        print("  generate     (kept from an earlier run: --keep)")
        stale_names = ("warehouse.duckdb", "warehouse.duckdb.wal", "dagster_home", "serving", "report", "data_docs")
        for stale in (*stale_names, "gx", "warehouse.duckdb.gate-state.json", "warehouse.duckdb.build-state.json"):
            target = work / stale
            shutil.rmtree(target) if target.is_dir() else target.unlink(missing_ok=True)
        (work / "dagster_home").mkdir()
        for extra in (work / "landing" / "demo_city" / "calls_for_service").glob(f"*_{YEAR_AFTER}-01-01.csv"):
            extra.unlink()  # the extra day of an earlier benchmark
    if kept is None:
        seconds, sampler, _ = run_measured(
            [
                python,
                "-m",
                "orchestration.demo_city.generator",
                str(work / "landing" / "demo_city"),
                "--scale",
                str(scale),
                "--seed",
                str(seed),
            ],
            env,
        )
        truth = json.loads(truth_path.read_text())
        results["generate"] = {
            "seconds": round(seconds, 2),
            "peak_rss_mb": round(sampler.peak() / 2**20, 1),
            "rows": truth["rows"],
        }
        print(
            f"  generate     {seconds:8.1f} s  peak {sampler.peak() / 2**20:8.0f} MB  "
            f"({truth['rows']['calls_for_service']:,} calls)"
        )
    else:
        truth = kept
        results["generate"] = {"kept": True, "rows": truth["rows"]}

    for label in ("full", "incremental"):
        if label == "incremental":
            day_rows = max(1, truth["rows"]["calls_for_service"] // 365)
            add_one_day(work / "landing", day_rows, seed)
            results["incremental_day_rows"] = day_rows
        seconds, sampler, rc = run_measured([python, "-m", "orchestration.cli", "run"], env)
        steps = step_times(work / "dagster_home")
        stages = by_stage(steps, sampler)
        peak_at = peak_place(steps, sampler)
        results[label] = {
            "seconds": round(seconds, 2),
            "peak_rss_mb": round(sampler.peak() / 2**20, 1),
            "peak_at": peak_at,
            "succeeded": rc == 0,
            "stages": stages,
        }
        print(
            f"  {label:<12} {seconds:8.1f} s  peak {sampler.peak() / 2**20:8.0f} MB  {'ok' if rc == 0 else 'FAILED'}"
            f"  (peak at {peak_at['seconds_after_start']} s, {peak_at['step'] or 'outside every step'})"
        )
        if rc != 0:  # no floor to compare with: the build's compiled SQL is incomplete
            raise SystemExit(f"the {label} run failed at scale {scale}: see the run's log under {work / 'logs'}")
        if label == "full":
            # dbt writes each run's compiled SQL to its own folder under target/: keep the full build's
            full_run_target = max((DBT_PROJECT_DIR / "target").glob("*/manifest.json"), key=lambda p: p.stat().st_mtime)
            full_run_target = full_run_target.parent
            what_if = what_if_seconds(full_run_target, step_times(work / "dagster_home"))
            results["what_if_seconds"] = what_if
            build_seconds = stages.get("build", {}).get("seconds") or 0.0
            in_dbt = sum(v for k, v in what_if.items() if k in WHAT_IF_MODELS)
            print(f"    what-if   {in_dbt:8.1f} s of dbt model time (build stage {build_seconds:.1f} s wall)")
            for name in WHAT_IF_STEPS:
                if name in what_if:
                    print(f"    {name:<24} {what_if[name]:8.1f} s (a Python asset)")
        for name in STAGES:
            if name in stages:
                print(f"    {name:<10} {stages[name]['seconds']:8.1f} s  peak {stages[name]['peak_rss_mb']:8.0f} MB")

    floor = engine_floor(work / "warehouse.duckdb", full_run_target, work)
    reading, rows_read = read_floor(work / "landing", work)
    stages = results["full"]["stages"]
    build = stages.get("build", {}).get("seconds")
    land = stages.get("land", {}).get("seconds")
    whole = results["full"]["seconds"]
    results["engine_floor_seconds"] = round(floor, 2)
    results["read_floor_seconds"] = round(reading, 2)
    results["read_floor_rows"] = rows_read
    results["whole_job_floor_seconds"] = round(floor + reading, 2)
    results["overhead_ratio_build_over_floor"] = round(build / floor, 2) if build else None
    results["ratio_land_over_read_floor"] = round(land / reading, 2) if land else None
    results["ratio_whole_over_floors"] = round(whole / (floor + reading), 2)
    print(f"  read floor   {reading:8.1f} s  (read_csv of every landing file, as text, {rows_read:,} rows)")
    print(f"  SQL floor    {floor:8.1f} s  (compiled model and test SQL in one DuckDB connection)")
    if land:
        print(f"  land         {land / reading:8.2f} x  the read floor")
    if build:
        print(f"  build        {build / floor:8.2f} x  the SQL floor")
    print(f"  whole job    {whole / (floor + reading):8.2f} x  both floors ({floor + reading:.1f} s)")
    full = results["full"]["seconds"]
    incr = results["incremental"]["seconds"]
    print(f"  incremental / full = {incr / full:.2f}")
    return results


if __name__ == "__main__":
    sys.exit(main())
