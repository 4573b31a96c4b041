"""The serving copy: a read-only DuckDB file for BI tools, replaced atomically after each refresh.

BI tools never open the working warehouse (a reader there would block the pipeline's writer).
After the marts are built and gated, they are copied into a new file beside the serving copy,
written in DuckDB 1.5's storage format, checkpointed and closed, flushed, and renamed over
``warehouse_serving.duckdb``. See docs/serving.md for why this is safe for open readers.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

import duckdb

from orchestration.serving.atomic import publish_lock, replace_atomically
from orchestration.serving.catalog import (
    MARTS_SCHEMA,
    REFERENCE_SCHEMA,
    Descriptions,
    Table,
    list_tables,
    literal,
    quote,
    with_descriptions,
)
from orchestration.serving.config import SERVING_FILE_NAME, RefreshStamp, ServingConfig, failpoint

# Files written with this compatibility version open in DuckDB 1.5 and later (BI drivers embed
# older DuckDB than the pipeline's 2.0, whose default format they cannot read).
STORAGE_VERSION = "v1.5.0"
SERVING_SCHEMA = "serving"
PUBLISHED_SCHEMAS = (MARTS_SCHEMA, REFERENCE_SCHEMA)
TEMPORARY_PREFIX = f"{SERVING_FILE_NAME}.tmp-"
_NEW = "psw_serving_new"


def open_serving(path: Path | str) -> duckdb.DuckDBPyConnection:
    """A read-only connection to the serving copy as it is now.

    ``duckdb.connect(path)`` reuses a database already open in this process (and so an older
    refresh); attaching the file to a fresh in-memory database always opens the current file.
    """
    if not Path(path).exists():
        raise FileNotFoundError(f"{path}: no serving copy has been published yet (run serving/warehouse_serving)")
    con = duckdb.connect()
    con.execute(f"ATTACH {literal(str(path))} AS warehouse_serving (READ_ONLY)")
    con.execute("USE warehouse_serving")
    return con


def remove_leftovers(serving_dir: Path) -> list[Path]:
    """Temporary files of publishes that died before their rename (call under the publish lock)."""
    leftovers = sorted(serving_dir.glob(f"{TEMPORARY_PREFIX}*"))
    for path in leftovers:
        path.unlink(missing_ok=True)
    return leftovers


def publish_serving_copy(
    con: duckdb.DuckDBPyConnection, config: ServingConfig, stamp: RefreshStamp, descriptions: Descriptions
) -> list[Table]:
    """Copy every table of ``marts`` and ``reference`` from the working warehouse (``con``) into a
    new serving file and swap it in. Returns the tables published."""
    with publish_lock(config.serving_dir):
        remove_leftovers(config.serving_dir)
        temporary = config.serving_dir / f"{TEMPORARY_PREFIX}{stamp.refresh_id}"
        working = con.execute("SELECT current_database()").fetchone()[0]
        tables = with_descriptions(list_tables(con, working, PUBLISHED_SCHEMAS), descriptions)
        con.execute(f"ATTACH {literal(str(temporary))} AS {_NEW} (STORAGE_VERSION '{STORAGE_VERSION}')")
        try:
            _copy_tables(con, working, tables, stamp)
            con.execute(f"CHECKPOINT {_NEW}")
        except BaseException:
            _rollback_quietly(con)
            con.execute(f"DETACH {_NEW}")
            temporary.unlink(missing_ok=True)
            raise
        con.execute(f"DETACH {_NEW}")
        wal = temporary.with_name(temporary.name + ".wal")
        if wal.exists():
            raise RuntimeError(f"{wal}: the serving copy was closed with a write-ahead log left; not publishing it")
        replace_atomically(temporary, config.serving_file)
    return tables


def _copy_tables(con: duckdb.DuckDBPyConnection, working: str, tables: list[Table], stamp: RefreshStamp) -> None:
    """One transaction: a consistent snapshot of the working warehouse, and the refresh stamp."""
    con.execute("BEGIN TRANSACTION")
    for schema in (*PUBLISHED_SCHEMAS, SERVING_SCHEMA):
        con.execute(f"CREATE SCHEMA {_NEW}.{quote(schema)}")
    for table in tables:
        source = f"{quote(working)}.{quote(table.schema)}.{quote(table.name)}"
        target = f"{_NEW}.{quote(table.schema)}.{quote(table.name)}"
        con.execute(f"CREATE TABLE {target} AS SELECT * FROM {source}")
        copied = con.execute(f"SELECT count(*) FROM {target}").fetchone()[0]
        if copied != table.rows:
            raise RuntimeError(f"{table.qualified}: {table.rows} rows in the warehouse, {copied} copied")
        if table.description:
            con.execute(f"COMMENT ON TABLE {target} IS {literal(table.description)}")
        for column in table.columns:
            if column.description:
                con.execute(f"COMMENT ON COLUMN {target}.{quote(column.name)} IS {literal(column.description)}")
        failpoint("duckdb_copy")
    con.execute(
        f"""CREATE TABLE {_NEW}.{SERVING_SCHEMA}.refresh (
            refresh_id VARCHAR NOT NULL, refreshed_at TIMESTAMP WITH TIME ZONE NOT NULL,
            git_revision VARCHAR NOT NULL, tables INTEGER NOT NULL)"""
    )
    con.execute(
        f"INSERT INTO {_NEW}.{SERVING_SCHEMA}.refresh VALUES (?, ?, ?, ?)",
        [stamp.refresh_id, stamp.refreshed_at, stamp.git_revision, len(tables)],
    )
    con.execute(
        f"""CREATE TABLE {_NEW}.{SERVING_SCHEMA}.published_tables (
            table_schema VARCHAR NOT NULL, table_name VARCHAR NOT NULL, row_count BIGINT NOT NULL,
            column_count INTEGER NOT NULL, description VARCHAR)"""
    )
    if tables:
        con.executemany(
            f"INSERT INTO {_NEW}.{SERVING_SCHEMA}.published_tables VALUES (?, ?, ?, ?, ?)",
            [[t.schema, t.name, t.rows, len(t.columns), t.description] for t in tables],
        )
    con.execute(f"COMMENT ON TABLE {_NEW}.{SERVING_SCHEMA}.refresh IS 'Which refresh this file holds (one row).'")
    con.execute("COMMIT")


def _rollback_quietly(con: duckdb.DuckDBPyConnection) -> None:
    with contextlib.suppress(duckdb.Error):  # no transaction was open
        con.execute("ROLLBACK")


def read_refresh(con: duckdb.DuckDBPyConnection) -> RefreshStamp:
    """The refresh stamp of an open serving copy."""
    refresh_id, refreshed_at, git_revision = con.execute(
        f"SELECT refresh_id, refreshed_at, git_revision FROM {SERVING_SCHEMA}.refresh"
    ).fetchone()
    return RefreshStamp(refresh_id, refreshed_at, git_revision)
