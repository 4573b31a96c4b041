"""Command line: ``python -m orchestration.cli run`` is the main job end to end on the demo city.

run        generate the demo city (if missing), land it, build every model, print a summary
generate   (re)write the demo city's extracts into the landing folder
"""

from __future__ import annotations

import argparse
import json
import sys
import time

import duckdb

from orchestration.settings import Settings, export_for_subprocesses, load_settings

# Only warnings and errors on the console; the full event log is in the Dagster UI.
QUIET_RUN = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}


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


def warehouse_summary(path) -> list[tuple[str, str, int]]:
    """(schema, table, rows) for every table and view in the warehouse."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        tables = con.execute(
            "SELECT table_schema, table_name FROM information_schema.tables "
            "WHERE table_schema NOT IN ('information_schema', 'pg_catalog') ORDER BY 1, 2"
        ).fetchall()
        return [(s, t, con.execute(f'SELECT count(*) FROM "{s}"."{t}"').fetchone()[0]) for s, t in tables]
    finally:
        con.close()


def run(regenerate: bool = False) -> int:
    settings = load_settings()
    export_for_subprocesses(settings)
    started = time.perf_counter()
    ensure_demo_city(settings, regenerate)

    from dagster import DagsterInstance

    from orchestration.transform.project import ensure_manifest

    ensure_manifest(force=True)
    from orchestration.definitions import build_definitions

    defs = build_definitions(settings)
    print("dagster: running job refresh_warehouse (land, build, test) ...")
    with DagsterInstance.get() as instance:
        result = defs.resolve_job_def("refresh_warehouse").execute_in_process(
            instance=instance, raise_on_error=False, run_config=QUIET_RUN
        )
    elapsed = time.perf_counter() - started
    rows = warehouse_summary(settings.warehouse_path)
    width = max(len(f"{s}.{t}") for s, t, _ in rows)
    print("\nWarehouse tables")
    for schema, table, n in rows:
        print(f"  {schema + '.' + table:<{width}}  {n:>10,}")
    from orchestration.serving.refresh_ids import published_refresh_ids, refresh_summary

    ids = published_refresh_ids(settings.warehouse_path)
    if ids:
        print("\nPublished refresh")
        print("\n".join(refresh_summary(ids)))
    print(f"\nwarehouse file : {settings.warehouse_path}")
    print(f"run            : {result.run_id} ({'succeeded' if result.success else 'FAILED'}) in {elapsed:.1f} s")
    print(f"Dagster UI     : make ui   (then open http://127.0.0.1:3000; run history is in {settings.dagster_home})")
    if not result.success:
        for event in result.all_events:
            if event.is_step_failure:
                print(
                    f"failed step {event.step_key}: {event.event_specific_data.error.message.strip()}",
                    file=sys.stderr,
                )
        return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="psw", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="command", required=True)
    run_p = sub.add_parser("run", help="generate, land, build and test the demo city")
    run_p.add_argument("--regenerate", action="store_true", help="rewrite the demo city even if present")
    sub.add_parser("generate", help="(re)write the demo city's extracts")
    args = parser.parse_args(argv)
    if args.command == "run":
        return run(args.regenerate)
    if args.command == "generate":
        ensure_demo_city(load_settings(), regenerate=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
