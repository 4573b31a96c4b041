"""One refresh at a time: an exclusive lock on the warehouse, held by a whole run.

A refresh lands, judges, builds and publishes: a second one started meanwhile (a sensor run
beside a CLI run, two CLI runs, an operator's ``batches drop``) would land a batch between the
first one's gates and its build, or fight over DuckDB's single writer. The lock is an OS file
lock (``flock``) on ``<warehouse>.refresh.lock``; the file says who holds it. It dies with its
process (kill -9 included), so a crashed run never leaves the warehouse locked. Within one
process it is re-entrant: the CLI takes it, and the Dagster run it starts takes it again.
"""

from __future__ import annotations

import fcntl
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

_held: dict[Path, tuple[int, object]] = {}  # lock file -> (depth, open file) in this process
_guard = threading.Lock()


class RefreshBusy(RuntimeError):
    """Another refresh holds the warehouse; says since when and which process."""


def lock_path(warehouse_path: str | Path) -> Path:
    path = Path(warehouse_path).resolve()
    return path.with_name(path.name + ".refresh.lock")


def holder(warehouse_path: str | Path) -> str:
    """Who holds (or last held) the lock, as its file says."""
    try:
        return lock_path(warehouse_path).read_text().strip() or "unknown"
    except OSError:
        return "unknown"


@contextmanager
def refresh_lock(warehouse_path: str | Path, what: str = "refresh", wait_seconds: float = 0.0) -> Iterator[None]:
    """Hold the warehouse for one refresh (or operator command); RefreshBusy if another holds it
    for longer than ``wait_seconds``."""
    path = lock_path(warehouse_path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with _guard:
        if path in _held:
            depth, fh = _held[path]
            _held[path] = (depth + 1, fh)
            reentered = True
        else:
            reentered = False
    if reentered:
        try:
            yield
        finally:
            with _guard:
                depth, fh = _held[path]
                _held[path] = (depth - 1, fh)
        return
    fh = path.open("a+")
    deadline = time.monotonic() + wait_seconds
    while True:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
            break
        except BlockingIOError:
            if time.monotonic() >= deadline:
                fh.close()
                raise RefreshBusy(
                    f"a refresh is running since {holder(warehouse_path)}: the warehouse "
                    f"{Path(warehouse_path).name} takes one at a time. Wait for it to end (or set "
                    "PSW_REFRESH_LOCK_WAIT_SECONDS to wait) and try again."
                ) from None
            time.sleep(0.2)
    fh.seek(0)
    fh.truncate()
    fh.write(f"{datetime.now(UTC):%Y-%m-%d %H:%M:%S} UTC, pid {os.getpid()} ({what})\n")
    fh.flush()
    with _guard:
        _held[path] = (1, fh)
    try:
        yield
    finally:
        with _guard:
            depth, _ = _held.pop(path)
        fcntl.flock(fh, fcntl.LOCK_UN)
        fh.close()
