"""The few lines ``make run`` prints after the job: one per stage, with its counts and time."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from pathlib import Path

import duckdb
from dagster import AssetCheckSeverity


def _seconds(stats, keys) -> float:
    spans = [s.end_time - s.start_time for s in stats if s.step_key in keys and s.start_time and s.end_time]
    return sum(spans)


def count_checks(evaluations) -> dict[str, list[int]]:
    """Per kind (gates, dbt tests): [passed, failed, warned]; a check that did not pass at warning
    severity warned (its city or file still published), it did not fail."""
    checks = defaultdict(lambda: [0, 0, 0])
    for evaluation in evaluations:
        kind = "gates" if evaluation.check_name.endswith("_gate") else "dbt tests"
        warned = not evaluation.passed and evaluation.severity == AssetCheckSeverity.WARN
        checks[kind][0 if evaluation.passed else 2 if warned else 1] += 1
    return checks


def stage_lines(result, instance, warehouse_path: Path, started_at: datetime) -> list[str]:
    """Land, gates, build and publish of one run of the refresh job, a line each."""
    stats = instance.get_run_step_stats(result.run_id)
    steps = {s.step_key for s in stats}
    checks = count_checks(result.get_asset_check_evaluations())
    built = defaultdict(int)
    for event in result.get_asset_materialization_events():
        built[event.asset_key.path[0]] += 1
    lines = []
    con = duckdb.connect(str(warehouse_path), read_only=True)
    try:
        files, rows, quarantined = con.execute(
            "SELECT count(*), coalesce(sum(rows_landed), 0), coalesce(sum(rows_quarantined), 0) "
            "FROM raw.batches WHERE loaded_at >= ?",
            [started_at.replace(tzinfo=None)],
        ).fetchone()
        states = dict(con.execute("SELECT state, count(*) FROM raw.batch_states GROUP BY 1").fetchall())
    finally:
        con.close()
    land_steps = {s for s in steps if s.startswith("land")}
    lines.append(
        f"  land     {files:,} new file(s): {rows:,} rows landed, {quarantined:,} quarantined{_took(stats, land_steps)}"
    )
    judged = ", ".join(f"{n:,} {state}" for state, n in sorted(states.items()))
    passed, failed, warned = checks["gates"]
    # files are held by the ledger (above); a gate check that holds a file still passes its asset
    gates = f"gate checks {passed} passed, {failed} failed" + (f", {warned} warned (published)" if warned else "")
    lines.append(f"  gates    files in the ledger: {judged or 'none'}; {gates}")
    dbt_passed, dbt_failed, dbt_warned = checks["dbt tests"]
    dbt_steps = {s for s in steps if "dbt" in s}
    layers = ", ".join(f"{n} {layer}" for layer, n in sorted(built.items()) if layer not in ("raw", "serving"))
    lines.append(
        f"  build    {layers or 'nothing built'}; dbt tests {dbt_passed} passed, {dbt_failed} failed"
        + (f", {dbt_warned} warned" if dbt_warned else "")
        + _took(stats, dbt_steps)
    )
    serving_steps = {s for s in steps if s.startswith(("serving", "warehouse_serving", "transparency"))}
    published = built.get("serving", 0)
    lines.append(f"  publish  {published} serving asset(s) written{_took(stats, serving_steps)}")
    return lines


def _took(stats, keys) -> str:
    seconds = _seconds(stats, keys)
    return f" · {seconds:.1f} s" if seconds else ""
