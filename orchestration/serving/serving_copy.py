"""The serving copy: a read-only DuckDB file for BI tools, replaced atomically after each refresh.

BI tools never open the working warehouse (a reader there would block the pipeline's writer).
After the marts are built and gated, the serving copy published last is copied beside itself,
the parts of its tables that changed are rewritten in that copy (a month of a large table, or a
whole small one; the first time, every table), and the file, in DuckDB 1.5's storage format, is
checkpointed and closed, flushed, and renamed over ``warehouse_serving.duckdb``. The published
file itself is never written to: DuckDB allows no writer beside a reader's open file, and the
rename is what keeps readers on one refresh. See docs/serving.md for why this is safe for them.
"""

from __future__ import annotations

import contextlib
import shutil
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
from orchestration.serving.parts import Parts, changed_parts, part_filter, store_parts, stored_parts, table_parts

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
    """Publish every table of ``marts`` and ``reference`` of the working warehouse (``con``) into a
    new serving file and swap it in. Returns the tables published.

    The new file starts as a copy of the one published last, and only the parts (months, or whole
    tables) whose fingerprint changed are rewritten in it (``parts.py``); the first publish, a copy
    that stored no fingerprints, a refresh holding a city, or a file more than half free space is
    written whole instead.

    ``held``: cities a marts gate held in this refresh (city -> reasons). Their rows are not
    copied from the warehouse; the serving copy keeps the figures it published for them last
    (or none, the first time), and ``serving.city_publication`` says which cities are current."""
    held = held or {}
    with publish_lock(config.serving_dir):
        remove_leftovers(config.serving_dir)
        temporary = config.serving_dir / f"{TEMPORARY_PREFIX}{stamp.refresh_id}"
        working = con.execute("SELECT current_database()").fetchone()[0]
        tables = with_descriptions(list_tables(con, working, PUBLISHED_SCHEMAS), descriptions)
        in_place = not held and config.serving_file.exists()
        if in_place:
            shutil.copyfile(config.serving_file, temporary)  # the published file is never written to
        in_place, mostly_free = _write(con, working, temporary, tables, stamp, held, config, in_place)
        if in_place and mostly_free:  # parts deleted over many refreshes left it half empty
            temporary.unlink()  # compact: write it whole
            _write(con, working, temporary, tables, stamp, held, config, in_place=False)
        wal = temporary.with_name(temporary.name + ".wal")
        if wal.exists():
            raise RuntimeError(f"{wal}: the serving copy was closed with a write-ahead log left; not publishing it")
        replace_atomically(temporary, config.serving_file)
    return tables


def _write(
    con, working: str, temporary: Path, tables: list[Table], stamp, held, config, in_place: bool
) -> tuple[bool, bool]:
    """Write the new serving file at ``temporary`` (updating the copy there when ``in_place``);
    returns whether it was updated in place, and whether more than half its blocks are free."""
    previous = _attach_previous(con, config) if held else None
    con.execute(f"ATTACH {literal(str(temporary))} AS {_NEW} (STORAGE_VERSION '{STORAGE_VERSION}')")
    try:
        before = stored_parts(con, _NEW, SERVING_SCHEMA) if in_place else None
        if in_place and before is None:  # a copy of an older layout: start from an empty file
            con.execute(f"DETACH {_NEW}")
            temporary.unlink()
            con.execute(f"ATTACH {literal(str(temporary))} AS {_NEW} (STORAGE_VERSION '{STORAGE_VERSION}')")
        in_place = before is not None
        con.execute("BEGIN TRANSACTION")
        if in_place:
            parts = {t.qualified: table_parts(con, working, t) for t in tables}
            copied, rewritten = _update_tables(con, working, tables, parts, before)
        else:
            copied = _copy_tables(con, working, tables, held, previous)
            # what the new file holds (with a held city, its old rows): fingerprinted there
            parts = {t.qualified: table_parts(con, _NEW, t) for t in tables}
            rewritten = {q: set(p.parts) for q, p in parts.items()}
        for qualified, table_parts_now in parts.items():
            kept = before.get(qualified) if before else None
            for key in table_parts_now.parts:
                fresh = not kept or key in rewritten.get(qualified, set(table_parts_now.parts))
                table_parts_now.written_in[key] = stamp.refresh_id if fresh else kept.written_in[key]
        _describe(con, tables)
        _write_stamp(con, tables, copied, parts, stamp, held, previous)
        con.execute("COMMIT")
        con.execute(f"CHECKPOINT {_NEW}")
        free, total = con.execute(
            "SELECT free_blocks, total_blocks FROM pragma_database_size() WHERE database_name = ?", [_NEW]
        ).fetchone()
    except BaseException:
        _rollback_quietly(con)
        con.execute(f"DETACH {_NEW}")
        temporary.unlink(missing_ok=True)
        raise
    finally:
        if previous:
            con.execute(f"DETACH {_OLD}")
    con.execute(f"DETACH {_NEW}")
    return in_place, total > 0 and 2 * free > total


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
    held: dict[str, list[str]] | None = None,
    previous: str | None = None,
) -> dict[str, int]:
    """Every table, whole, into the new (empty) file; rows copied by table."""
    for schema in (*PUBLISHED_SCHEMAS, SERVING_SCHEMA):
        con.execute(f"CREATE SCHEMA {_NEW}.{quote(schema)}")
    copied: dict[str, int] = {}
    for table in tables:
        target = f"{_NEW}.{quote(table.schema)}.{quote(table.name)}"
        copied[table.qualified] = _copy_table(con, working, table, target, held or {}, previous)
        failpoint("duckdb_copy")
    return copied


def _update_tables(
    con: duckdb.DuckDBPyConnection,
    working: str,
    tables: list[Table],
    parts: dict[str, Parts],
    before: dict[str, Parts],
) -> tuple[dict[str, int], dict[str, set[str]]]:
    """Rewrite, in the copy of the last published file, the parts whose fingerprint changed; a
    table whose columns changed (or that is new) is written whole, a table gone is dropped.
    Returns the rows of each table and the parts rewritten."""
    held_before = {
        f"{s}.{t}"
        for s, t in con.execute(
            "SELECT schema_name, table_name FROM duckdb_tables() "
            "WHERE database_name = ? AND list_contains(?, schema_name)",
            [_NEW, list(PUBLISHED_SCHEMAS)],
        ).fetchall()
    }
    copied: dict[str, int] = {}
    rewritten: dict[str, set[str]] = {}
    for table in tables:
        target = f"{_NEW}.{quote(table.schema)}.{quote(table.name)}"
        source = f"{quote(working)}.{quote(table.schema)}.{quote(table.name)}"
        new, old = parts[table.qualified], before.get(table.qualified)
        whole = f"CREATE OR REPLACE TABLE {target} AS SELECT * FROM {source}"
        todo = changed_parts(old, new)
        rewritten[table.qualified] = set(todo) & set(new.parts)
        if table.qualified not in held_before or _columns(con, table) != [(c.name, c.data_type) for c in table.columns]:
            con.execute(f"CREATE SCHEMA IF NOT EXISTS {_NEW}.{quote(table.schema)}")
            con.execute(whole)
            rewritten[table.qualified] = set(new.parts)
        elif old is None or old.column != new.column or new.column is None:
            if todo:
                con.execute(whole)
                rewritten[table.qualified] = set(new.parts)
        elif todo:
            con.execute(f"DELETE FROM {target} WHERE {part_filter(new.column, todo)}")
            con.execute(f"INSERT INTO {target} SELECT * FROM {source} WHERE {part_filter(new.column, todo)}")
        copied[table.qualified] = n = con.execute(f"SELECT count(*) FROM {target}").fetchone()[0]
        if n != table.rows:
            raise RuntimeError(f"{table.qualified}: {table.rows} rows to publish, {n} in the copy")
        failpoint("duckdb_copy")
    for gone in sorted(held_before - set(copied)):
        schema, name = gone.split(".", 1)
        con.execute(f"DROP TABLE {_NEW}.{quote(schema)}.{quote(name)}")
    return copied, rewritten


def _columns(con, table: Table) -> list[tuple[str, str]]:
    return con.execute(
        "SELECT column_name, data_type FROM duckdb_columns() WHERE database_name = ? AND schema_name = ? "
        "AND table_name = ? ORDER BY column_index",
        [_NEW, table.schema, table.name],
    ).fetchall()


def _describe(con, tables: list[Table]) -> None:
    """The tables' and columns' comments (all of them: a description removed is removed)."""
    for table in tables:
        target = f"{_NEW}.{quote(table.schema)}.{quote(table.name)}"
        con.execute(f"COMMENT ON TABLE {target} IS {_comment(table.description)}")
        for column in table.columns:
            con.execute(f"COMMENT ON COLUMN {target}.{quote(column.name)} IS {_comment(column.description)}")


def _comment(text: str | None) -> str:
    return literal(text) if text else "NULL"


def _write_stamp(con, tables, copied, parts, stamp: RefreshStamp, held, previous: str | None) -> None:
    """The serving schema: which refresh the file holds, its tables, its cities, its parts."""
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {_NEW}.{SERVING_SCHEMA}")
    con.execute(
        f"""CREATE OR REPLACE TABLE {_NEW}.{SERVING_SCHEMA}.refresh (
            refresh_id VARCHAR NOT NULL, refreshed_at TIMESTAMP WITH TIME ZONE NOT NULL,
            git_revision VARCHAR NOT NULL, tables INTEGER NOT NULL)"""
    )
    con.execute(
        f"INSERT INTO {_NEW}.{SERVING_SCHEMA}.refresh VALUES (?, ?, ?, ?)",
        [stamp.refresh_id, stamp.refreshed_at, stamp.git_revision, len(tables)],
    )
    con.execute(
        f"""CREATE OR REPLACE TABLE {_NEW}.{SERVING_SCHEMA}.published_tables (
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
        f"""CREATE OR REPLACE TABLE {_NEW}.{SERVING_SCHEMA}.city_publication (
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
    store_parts(con, f"{_NEW}.{SERVING_SCHEMA}", parts)


def _rollback_quietly(con: duckdb.DuckDBPyConnection) -> None:
    with contextlib.suppress(duckdb.Error):  # no transaction was open
        con.execute("ROLLBACK")


def read_refresh(con: duckdb.DuckDBPyConnection) -> RefreshStamp:
    """The refresh stamp of an open serving copy."""
    refresh_id, refreshed_at, git_revision = con.execute(
        f"SELECT refresh_id, refreshed_at, git_revision FROM {SERVING_SCHEMA}.refresh"
    ).fetchone()
    return RefreshStamp(refresh_id, refreshed_at, git_revision)
