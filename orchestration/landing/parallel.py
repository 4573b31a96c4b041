"""Many files landed side by side, each through ``loader.land_file`` in its own cursor and
transaction (``land_files``)."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import duckdb

from orchestration.landing.errors import LandingError
from orchestration.landing.loader import (
    LANDING_MEMORY_LIMIT,
    LANDING_WORKERS,
    LandingResult,
    clean_landing_temp,
    land_file,
    restore_memory_limit,
)
from orchestration.landing.profiles import SourceProfile
from orchestration.landing.raw_tables import ensure_raw_tables


def land_files(
    con: duckdb.DuckDBPyConnection,
    files: list[tuple[Path, SourceProfile]],
    landing_dir: Path | None = None,
    workers: int = LANDING_WORKERS,
) -> Iterator[tuple[Path, SourceProfile, LandingResult | LandingError]]:
    """Land many files, ``workers`` at a time; yields each file's result (or the LandingError that
    refused it) in the order given, as soon as it and those before it are done.

    Each file lands through its own cursor in its own transaction, exactly as ``land_file`` alone
    would. Files of the same size land one after the other in one worker, so that two copies of
    the same content never land side by side: the second sees the first's batch and is a no-op.
    DuckDB's memory cap while landing is ``PSW_LANDING_MEMORY_LIMIT`` per worker, for the stage."""
    clean_landing_temp(con)  # what a killed run left behind
    for source in {profile.source for _, profile in files}:
        ensure_raw_tables(con, source)  # catalog changes before the workers, never between them
    chains: dict[int, list[int]] = {}
    for i, (path, _) in enumerate(files):
        chains.setdefault(Path(path).lstat().st_size, []).append(i)  # a link is refused, never followed
    workers = max(1, min(workers, len(chains)))
    outcomes: dict[int, Future] = {}

    def land_chain(indexes: list[int], cursor: duckdb.DuckDBPyConnection) -> None:
        try:
            for i in indexes:
                path, profile = files[i]
                try:
                    outcomes[i].set_result(land_file(cursor, path, profile, landing_dir, memory_limit=None))
                except LandingError as exc:
                    outcomes[i].set_result(exc)
        except BaseException as exc:  # the machine, not the file: every file not done yet fails with it
            for i in indexes:
                if not outcomes[i].done():
                    outcomes[i].set_exception(exc)
        finally:
            cursor.close()

    outcomes.update((i, Future()) for i in range(len(files)))
    previous_limit = con.execute("SELECT current_setting('memory_limit')").fetchone()[0]
    con.execute(f"SET memory_limit = '{_scaled_size(LANDING_MEMORY_LIMIT, workers)}'")
    try:
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="psw-landing") as pool:
            # the most bytes first, so that a big file does not start last
            for _, indexes in sorted(chains.items(), key=lambda c: c[0] * len(c[1]), reverse=True):
                pool.submit(land_chain, indexes, con.cursor())  # cursors made here: con is not thread-safe
            for i, (path, profile) in enumerate(files):
                yield path, profile, outcomes[i].result()
    finally:
        restore_memory_limit(con, previous_limit)


def _scaled_size(size: str, factor: int) -> str:
    """'1GB' x 2 -> '2048MB' (DuckDB's size units: KB, MB, GB, TB, KiB, MiB, GiB, TiB)."""
    number = "".join(ch for ch in size if ch.isdigit() or ch == ".")
    unit = size[len(number) :].strip() or "B"
    factors = {"B": 1, "KB": 1e3, "MB": 1e6, "GB": 1e9, "TB": 1e12, "KIB": 1 << 10, "MIB": 1 << 20}
    factors.update({"GIB": 1 << 30, "TIB": 1 << 40})
    if unit.upper() not in factors:
        raise ValueError(f"PSW_LANDING_MEMORY_LIMIT={size!r}: not a size DuckDB reads (e.g. 1GB, 512MB)")
    return f"{int(float(number) * factors[unit.upper()] * factor / 1e6)}MB"
