"""Run every gate's suite through GX against the warehouse and print what each costs.

    python -m orchestration.checks            # PSW_WAREHOUSE (read-only), every suite, seconds per gate
    python -m orchestration.checks --docs     # ... and write GX's Data Docs beside the warehouse

The gates are the same code the Dagster checks run (GX's SQL datasource on the warehouse, one batch
per file or city; raw suites screen all files together first); this measures them without a
Dagster run around them. The first suite's time includes ``import great_expectations``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time

from orchestration.checks.gx_docs import write_data_docs
from orchestration.checks.gx_engine import evaluate_suite
from orchestration.checks.suites import load_suites
from orchestration.settings import load_settings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m orchestration.checks", description=__doc__.split("\n")[0])
    parser.add_argument("--docs", action="store_true", help="write GX's Data Docs too")
    parser.add_argument("--repeat", type=int, default=3, help="evaluations per suite; the median is shown")
    args = parser.parse_args(argv)
    settings = load_settings()
    failed = 0
    total = 0.0
    print(f"warehouse: {settings.warehouse_path}")
    print(f"{'suite':<48} {'rows':>11} {'batches':>7} {'exp.':>4} {'failed':>6} {'seconds':>8}")
    started = time.perf_counter()
    for suite in load_suites():
        runs = [evaluate_suite(settings.warehouse_path, suite) for _ in range(max(1, args.repeat))]
        outcome = runs[-1]
        seconds = statistics.median(r.elapsed_seconds for r in runs)
        total += seconds
        status = "n/a" if outcome.skipped_reason else str(len(outcome.failed()))
        failed += not outcome.success
        print(
            f"{suite.name:<48} {outcome.rows:>11,} {outcome.batches:>7,} {len(outcome.evaluated):>4} "
            f"{status:>6} {seconds:>8.3f}"
        )
        if args.docs:
            write_data_docs(outcome, settings.warehouse_path)
    print(f"{'all gates (sum of medians)':<48} {'':>11} {'':>7} {'':>4} {'':>6} {total:>8.3f}")
    print(f"wall time incl. repeats: {time.perf_counter() - started:.1f} s; gates failing: {failed}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
