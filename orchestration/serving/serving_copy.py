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
_OLD = "psw_serving_previous"


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
    con: duckdb.DuckDBPyConnection,
    config: ServingConfig,
    stamp: RefreshStamp,
    descriptions: Descriptions,
    held: dict[str, list[str]] | None = None,
) -> list[Table]:
    """Copy every table of ``marts`` and ``reference`` from the working warehouse (``con``) into a
    new serving file and swap it in. Returns the tables published.

    ``held``: cities a marts gate held in this refresh (city -> reasons). Their rows are not
    copied from the warehouse; the serving copy keeps the figures it published for them last
    (or none, the first time), and ``serving.city_publication`` says which cities are current."""
    held = held or {}
    with publish_lock(config.serving_dir):
        remove_leftovers(config.serving_dir)
        temporary = config.serving_dir / f"{TEMPORARY_PREFIX}{stamp.refresh_id}"
        working = con.execute("SELECT current_database()").fetchone()[0]
        tables = with_descriptions(list_tables(con, working, PUBLISHED_SCHEMAS), descriptions)
        previous = _attach_previous(con, config) if held else None
        con.execute(f"ATTACH {literal(str(temporary))} AS {_NEW} (STORAGE_VERSION '{STORAGE_VERSION}')")
        try:
            _copy_tables(con, working, tables, stamp, held, previous)
            con.execute(f"CHECKPOINT {_NEW}")
        except BaseException:
            _rollback_quietly(con)
            con.execute(f"DETACH {_NEW}")
            temporary.unlink(missing_ok=True)
            raise
        finally:
            if previous:
                con.execute(f"DETACH {_OLD}")
        con.execute(f"DETACH {_NEW}")
        wal = temporary.with_name(temporary.name + ".wal")
        if wal.exists():
            raise RuntimeError(f"{wal}: the serving copy was closed with a write-ahead log left; not publishing it")
        replace_atomically(temporary, config.serving_file)
    return tables


def _attach_previous(con: duckdb.DuckDBPyConnection, config: ServingConfig) -> str | None:
    """The serving copy published last (read-only), where a held city's last figures are; its refresh id."""
    if not config.serving_file.exists():
        return None
    con.execute(f"ATTACH {literal(str(config.serving_file))} AS {_OLD} (READ_ONLY)")
    return con.execute(f"SELECT refresh_id FROM {_OLD}.{SERVING_SCHEMA}.refresh").fetchone()[0]


def _city_rows(con, database: str, table: Table, working: str) -> tuple[str, str] | None:
    """(FROM clause, city expression) of a mart whose rows belong to a city, or None."""
    names = {c.name for c in table.columns}
    source = f"{quote(database)}.{quote(table.schema)}.{quote(table.name)}"
    if "city" in names:
        return f"{source} AS t", "t.city"
    if "source_profile" in names:
        mapping = f"{quote(working)}.{REFERENCE_SCHEMA}.city_source_profiles"
        return (
            f"{source} AS t LEFT JOIN {mapping} AS m ON t.source_profile = m.source_profile",
            "coalesce(m.city, t.source_profile)",
        )
    return None


def _same_columns(con, table: Table) -> bool:
    rows = con.execute(
        "SELECT column_name FROM duckdb_columns() WHERE database_name = ? AND schema_name = ? AND table_name = ? "
        "ORDER BY column_index",
        [_OLD, table.schema, table.name],
    ).fetchall()
    return [r[0] for r in rows] == [c.name for c in table.columns]


def _copy_table(con, working: str, table: Table, target: str, held: dict, previous: str | None) -> int:
    """The table's rows, the held cities' ones from the previous serving copy (when it has them)."""
    source = f"{quote(working)}.{quote(table.schema)}.{quote(table.name)}"
    by_city = _city_rows(con, working, table, working) if held and table.schema == MARTS_SCHEMA else None
    if by_city is None:
        con.execute(f"CREATE TABLE {target} AS SELECT * FROM {source}")
        expected = table.rows
    else:
        held_list = "(" + ", ".join(literal(c) for c in sorted(held)) + ")"
        current, city = by_city
        new_rows = f"{city} NOT IN {held_list}"
        con.execute(f"CREATE TABLE {target} AS SELECT t.* FROM {current} WHERE {new_rows}")
        expected = con.execute(f"SELECT count(*) FROM {current} WHERE {new_rows}").fetchone()[0]
        if previous and _same_columns(con, table):
            kept, old_city = _city_rows(con, _OLD, table, working)
            old_rows = f"{old_city} IN {held_list}"
            con.execute(f"INSERT INTO {target} SELECT t.* FROM {kept} WHERE {old_rows}")
            expected += con.execute(f"SELECT count(*) FROM {kept} WHERE {old_rows}").fetchone()[0]
    copied = con.execute(f"SELECT count(*) FROM {target}").fetchone()[0]
    if copied != expected:
        raise RuntimeError(f"{table.qualified}: {expected} rows to publish, {copied} copied")
    return copied


def _copy_tables(
    con: duckdb.DuckDBPyConnection,
    working: str,
    tables: list[Table],
    stamp: RefreshStamp,
    held: dict[str, list[str]] | None = None,
    previous: str | None = None,
) -> None:
    """One transaction: a consistent snapshot of the working warehouse, and the refresh stamp."""
    held = held or {}
    con.execute("BEGIN TRANSACTION")
    for schema in (*PUBLISHED_SCHEMAS, SERVING_SCHEMA):
        con.execute(f"CREATE SCHEMA {_NEW}.{quote(schema)}")
    copied: dict[str, int] = {}
    for table in tables:
        target = f"{_NEW}.{quote(table.schema)}.{quote(table.name)}"
        copied[table.qualified] = _copy_table(con, working, table, target, held, previous)
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
            [[t.schema, t.name, copied[t.qualified], len(t.columns), t.description] for t in tables],
        )
    con.execute(f"COMMENT ON TABLE {_NEW}.{SERVING_SCHEMA}.refresh IS 'Which refresh this file holds (one row).'")
    con.execute(
        f"""CREATE TABLE {_NEW}.{SERVING_SCHEMA}.city_publication (
            city VARCHAR NOT NULL, status VARCHAR NOT NULL, figures_from_refresh VARCHAR, reason VARCHAR)"""
    )
    for city, reasons in sorted(held.items()):
        status = "held: last published figures kept" if previous else "held: withheld (nothing published before)"
        con.execute(
            f"INSERT INTO {_NEW}.{SERVING_SCHEMA}.city_publication VALUES (?, ?, ?, ?)",
            [city, status, previous, "; ".join(reasons)[:2000]],
        )
    con.execute(
        f"COMMENT ON TABLE {_NEW}.{SERVING_SCHEMA}.city_publication IS "
        "'Cities a marts quality gate held in this refresh: their figures are from an earlier refresh, or none.'"
    )
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
