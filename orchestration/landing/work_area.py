"""Where landing works beside the warehouse: its folder of temporary files, cleaned after a
killed run, and DuckDB's memory cap put back after a landing changed it."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb

from orchestration.sql import quote_literal

# Landing's temporary files (transcoded copies) live in this folder beside the warehouse file;
# each landing run empties it first, so a killed run leaves nothing behind for good.
TEMP_FOLDER_SUFFIX = ".landing-tmp"


def landing_temp_root(con: duckdb.DuckDBPyConnection) -> Path | None:
    """``<warehouse file>.landing-tmp``, where landing writes its temporary files (None for an
    in-memory database: the system's temporary folder is used)."""
    row = con.execute("SELECT path FROM duckdb_databases() WHERE database_name = current_database()").fetchone()
    if not row or not row[0]:
        return None
    return Path(row[0] + TEMP_FOLDER_SUFFIX)


def clean_landing_temp(con: duckdb.DuckDBPyConnection) -> list[Path]:
    """Remove what an earlier landing run left in the warehouse's temporary folder (a run killed
    with SIGKILL cannot clean up after itself); returns what was removed. Safe while this
    connection holds the warehouse: no other process can be landing into it."""
    root = landing_temp_root(con)
    removed = []
    if root is not None and root.is_dir():
        for child in root.iterdir():
            if child.is_dir() and not child.is_symlink():
                shutil.rmtree(child, ignore_errors=True)
            else:
                child.unlink(missing_ok=True)
            removed.append(child)
    return removed


def restore_memory_limit(con: duckdb.DuckDBPyConnection, previous: str) -> None:
    """Put DuckDB's memory cap back as it was: its default exactly when it was the default (the
    setting reads back rounded, '18.7 GiB', so setting the text again would change it)."""
    con.execute("RESET memory_limit")
    if con.execute("SELECT current_setting('memory_limit')").fetchone()[0] != previous:
        con.execute(f"SET memory_limit = {quote_literal(previous)}")
