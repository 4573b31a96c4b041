"""What ``make run`` shows a person: one line per stage, a progress line while it works, and every
log (Dagster's events, dbt's output) in a log file instead of the terminal.

The job's own output goes to ``<warehouse folder>/logs/run-<time>.log`` by redirecting the
process's standard output and error at the file-descriptor level, so the dbt subprocess's output
lands there too. While the job runs, a ticker reads that log and shows the current step (and dbt's
``N of M``) on the terminal, on one line rewritten in place when the terminal is interactive,
and one line per step otherwise (a CI log).
"""

from __future__ import annotations

import os
import re
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

STEP_START = re.compile(r" - ([\w.\[\]-]+) - STEP_START - ")
DBT_PROGRESS = re.compile(r"(\d+) of (\d+) (?:START|OK|PASS|FAIL|ERROR|WARN|SKIP)")
# What each of the job's steps is, in words (the rest are the gates and dbt's checks).
STAGES = {
    "land_raw_extracts": "landing the extracts",
    "warehouse_dbt_assets": "building and testing the dbt models",
}


def log_path_for(warehouse_path: Path) -> Path:
    """A new log file for one run: ``logs/run-<UTC time>.log`` beside the warehouse."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    folder = Path(warehouse_path).parent / "logs"
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"run-{stamp}.log"


def describe(step: str) -> str:
    if step in STAGES:
        return STAGES[step]
    if "gate" in step:
        return "judging the quality gates"
    if step.startswith(("serving", "warehouse_serving", "transparency", "parquet", "postgres")):
        return "publishing"
    return step


class Ticker(threading.Thread):
    """Reads the log as it grows and shows what the job is doing on the terminal."""

    def __init__(self, log: Path, terminal, interactive: bool):
        super().__init__(daemon=True)
        self.log, self.terminal, self.interactive = log, terminal, interactive
        self.stop = threading.Event()
        self.started = time.perf_counter()
        self.step, self.dbt = "starting", ""

    def _read(self, handle) -> None:
        for line in handle.readlines():
            if m := STEP_START.search(line):
                step = describe(m.group(1))
                if step != self.step:
                    self.step = step
                    if not self.interactive:
                        self.terminal.write(f"  ... {step}\n")
                        self.terminal.flush()
            elif m := DBT_PROGRESS.search(line):
                self.dbt = f" (dbt {m.group(1)}/{m.group(2)})"

    def run(self) -> None:
        while not self.log.exists() and not self.stop.is_set():
            time.sleep(0.2)
        with self.log.open(errors="replace") as handle:
            while not self.stop.wait(0.5):
                self._read(handle)
                if self.interactive:
                    elapsed = time.perf_counter() - self.started
                    dbt = self.dbt if "dbt" in self.step else ""
                    self.terminal.write(f"\r  {self.step}{dbt} · {elapsed:.0f} s\033[K")
                    self.terminal.flush()
        if self.interactive:
            self.terminal.write("\r\033[K")
            self.terminal.flush()


@contextmanager
def output_to_log(log: Path) -> Iterator[None]:
    """Send everything this process and its children print to ``log`` while the block runs; show
    progress on the terminal meanwhile."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved_out, saved_err = os.dup(1), os.dup(2)
    terminal = os.fdopen(os.dup(saved_out), "w", buffering=1)
    fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    ticker = Ticker(log, terminal, terminal.isatty())
    try:
        os.dup2(fd, 1)
        os.dup2(fd, 2)
        ticker.start()
        yield
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os.dup2(saved_out, 1)
        os.dup2(saved_err, 2)
        for handle in (fd, saved_out, saved_err):
            os.close(handle)
        ticker.stop.set()
        ticker.join(timeout=5)
        terminal.close()
