"""Command line: ``python -m orchestration.cli run`` is the main job end to end on the demo city.

run        generate the demo city (if missing), land it, build every model, print a summary
generate   (re)write the demo city's extracts into the landing folder
batches    the batch ledger: list, show, release, drop, supersede (``batches --help``)

``run`` exits 0 when everything landed, passed and was published, 2 when the refresh went on but
held back files or cities (the summary says which and why), 1 when it failed or another refresh
holds the warehouse.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import UTC, datetime

import duckdb

from orchestration.automation.alerts import AlertConfig
from orchestration.automation.run_alerts import execute_with_alerts
from orchestration.ledger import commands as batch_commands
from orchestration.ledger.lock import RefreshBusy, refresh_lock
from orchestration.run_console import log_path_for, output_to_log
from orchestration.run_summary import stage_lines
from orchestration.settings import Settings, load_settings, prepare_process


def ensure_demo_city(settings: Settings, regenerate: bool = False) -> dict:
    """Write the demo city unless the same scale and seed are already in the landing folder."""
    from orchestration.demo_city.generator import generate

    truth_path = settings.demo_dir / "truth.json"
    if truth_path.exists() and not regenerate:
        truth = json.loads(truth_path.read_text())
        if truth.get("scale") == settings.demo_scale and truth.get("seed") == settings.demo_seed:
            print(f"demo city: already in {settings.demo_dir} (scale {settings.demo_scale}, seed {settings.demo_seed})")
            return truth
    return generate(settings.demo_dir, settings.demo_scale, settings.demo_seed)


def warehouse_summary(path, schemas: tuple[str, ...] = ("marts",)) -> list[tuple[str, str, int]]:
    """(schema, table, rows) for every table and view of the given schemas. Only those: counting
    the staging and intermediate views would run their SQL over every call again (at ten million
    calls, 4.8 GB and seconds after the run had ended)."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        tables = con.execute(
            "SELECT table_schema, table_name FROM information_schema.tables "
            "WHERE list_contains(?, table_schema) ORDER BY 1, 2",
            [list(schemas)],
        ).fetchall()
        return [(s, t, con.execute(f'SELECT count(*) FROM "{s}"."{t}"').fetchone()[0]) for s, t in tables]
    finally:
        con.close()


def failing_rows(detail: str | None, most: int = 2) -> list[str]:
    """'line 6, call_id = 9900004 (expect_...)' for the first failing rows a gate kept as a sample."""
    shown = []
    for failure in (json.loads(detail) if detail else {}).get("failures", []):
        for row in (failure.get("sample") or [])[:most]:
            line = row.get("_row_number") or row.get("row_number")
            fields = ", ".join(f"{k} = {v}" for k, v in row.items() if not k.startswith("_") and k != "row_number")
            shown.append(f"{'line ' + str(line) + ': ' if line else ''}{fields} ({failure.get('expectation')})"[:150])
    return shown[:most]


def data_docs_index(warehouse_path) -> str | None:
    """The gates' Data Docs site, where every expectation's result is shown, if it was written."""
    from orchestration.checks.gx_docs import docs_dir

    index = docs_dir(warehouse_path) / "index.html"
    return str(index) if index.exists() else None


def held_back(path, run_id: str) -> list[str]:
    """Lines for what this warehouse keeps out of the marts: files held, refused or unread, and
    cities whose published figures are older than this refresh."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        lines = []
        if con.execute("SELECT 1 FROM information_schema.tables WHERE table_name = 'batch_states'").fetchone():
            for file, state, reason, detail in con.execute(
                "SELECT source_file, state, reason, detail FROM raw.batch_states "
                "WHERE state IN ('held', 'refused', 'unmatched') ORDER BY state, source_file"
            ).fetchall():
                lines.append(f"  {state:<9} {file}: {(reason or '')[:160]}")
                lines += [f"            {where}" for where in failing_rows(detail)]
        if con.execute("SELECT 1 FROM information_schema.tables WHERE table_name = 'city_verdicts'").fetchone():
            for city, reasons in con.execute(
                "SELECT city, string_agg(suite || ': ' || coalesce(reason, ''), '; ') FROM raw.city_verdicts "
                "WHERE run_id = ? AND verdict = 'held' GROUP BY city ORDER BY city",
                [run_id],
            ).fetchall():
                lines.append(f"  city      {city}: not published, its last figures kept ({reasons[:160]})")
        return lines
    finally:
        con.close()


def run(regenerate: bool = False, full_refresh: bool = False) -> int:
    settings = load_settings()
    prepare_process(settings)
    try:
        wait = settings.env.refresh_lock_wait_seconds or 0.0
        with refresh_lock(settings.warehouse_path, "make run", wait):
            return _run(settings, regenerate, full_refresh)
    except RefreshBusy as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


def _run(settings: Settings, regenerate: bool, full_refresh: bool = False) -> int:
    started = time.perf_counter()
    started_at = datetime.now(UTC)
    ensure_demo_city(settings, regenerate)
    log = log_path_for(settings.warehouse_path)
    print(f"refresh: land, gate, build, test and publish (full log: {log})")
    with output_to_log(log):
        from dagster import DagsterInstance

        from orchestration.definitions import build_definitions
        from orchestration.transform.dbt_assets import refresh_run_config
        from orchestration.transform.project import prepare_manifest

        prepare_manifest(force=True)
        defs = build_definitions(settings)
        instance = DagsterInstance.get()
        result, sent = execute_with_alerts(
            defs.resolve_job_def("refresh_warehouse"),
            instance,
            AlertConfig.from_environment(settings.env),
            raise_on_error=False,
            run_config=refresh_run_config(full_refresh, log_level="DEBUG"),
        )
    elapsed = time.perf_counter() - started
    if result.success:
        print("\n".join(stage_lines(result, instance, settings.warehouse_path, started_at)))
    instance.dispose()
    if sent:
        print("\n".join(s.line() for s in sent))
    try:
        marts = [(t, n) for _, t, n in warehouse_summary(settings.warehouse_path)]
        print(
            f"\nmarts    {len(marts)} tables, {sum(n for _, n in marts):,} rows (every table: `batches list`, the UI)"
        )
    except duckdb.IOException as exc:  # a step's dbt process outlived its failed step and still holds the file
        print(
            "\nmarts    not counted: the warehouse is still held by another process "
            f"({str(exc).split(':')[-1].strip()})"
        )
    from orchestration.serving.refresh_ids import published_refresh_ids, refresh_summary

    ids = published_refresh_ids(settings.warehouse_path)
    if ids:
        print("\n".join(refresh_summary(ids)))
    print(f"\nwarehouse file : {settings.warehouse_path}")
    print(f"run            : {result.run_id} ({'succeeded' if result.success else 'FAILED'}) in {elapsed:.1f} s")
    print(f"full log       : {log}")
    print(f"Dagster UI     : make ui   (then open http://127.0.0.1:3000; run history is in {settings.dagster_home})")
    if not result.success:
        for event in result.all_events:
            if event.is_step_failure:
                print(
                    f"failed step {event.step_key}: {event.event_specific_data.error.message.strip()[:600]}",
                    file=sys.stderr,
                )
        print(f"the whole story is in {log}", file=sys.stderr)
        return 1
    from orchestration.landing.profiles import load_profiles

    held = [
        f"  profile   {path.name}: disabled, {str(error).removeprefix(f'{path}: ')[:160]}"
        for path, error in load_profiles(settings.profiles_dir).errors
    ] + held_back(settings.warehouse_path, result.run_id)
    if held:
        print("\nHeld back (the rest was built and published; `python -m orchestration.cli batches list`):")
        print("\n".join(held))
        print("What to do (docs/quality_gates.md has a table per kind of failure):")
        print("  python -m orchestration.cli batches show FILE      the failing rows, line by line")
        print("  python -m orchestration.cli batches release FILE --reason '...'   admit it as it is")
        print("  or drop a corrected file under the same name into the landing folder: it replaces the held one")
        docs = data_docs_index(settings.warehouse_path)
        if docs:
            print(f"  Data Docs: {docs}")
        return 2
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="psw", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="command", required=True)
    run_p = sub.add_parser("run", help="generate, land, build and test the demo city")
    run_p.add_argument("--regenerate", action="store_true", help="rewrite the demo city even if present")
    run_p.add_argument("--full-refresh", action="store_true", help="rebuild every incremental model from all of raw")
    sub.add_parser("generate", help="(re)write the demo city's extracts")
    batch_commands.add_parser(sub)
    args = parser.parse_args(argv)
    if args.command == "run":
        return run(args.regenerate, args.full_refresh)
    if args.command == "batches":
        return batch_commands.run(args, load_settings())
    if args.command == "generate":
        ensure_demo_city(load_settings(), regenerate=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
