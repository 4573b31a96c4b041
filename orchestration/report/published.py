"""The report reads what was published: the marts and reference tables of the serving copy (so a
city a marts gate held shows its last published figures, as every BI tool does), and from the
working warehouse only what is not published (the quarantine, the batch ledger)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from orchestration.serving.catalog import literal, quote

PUBLISHED = ("marts", "reference", "serving")
FROM_WAREHOUSE = (("staging", "stg_quarantine"), ("raw", "quarantine"), ("raw", "batch_states"))


@contextmanager
def published_connection(warehouse_path: Path, serving_file: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """An in-memory connection whose ``marts``, ``reference`` and ``serving`` schemas are views of
    the serving copy, and whose ``staging``/``raw`` views read the warehouse (both read-only)."""
    con = duckdb.connect()
    try:
        con.execute(f"ATTACH {literal(str(warehouse_path))} AS psw_working (READ_ONLY)")
        source = "psw_working"
        if serving_file.exists():
            con.execute(f"ATTACH {literal(str(serving_file))} AS psw_published (READ_ONLY)")
            source = "psw_published"
        for schema, name, db in (
            con.execute(
                "SELECT schema_name, table_name, database_name FROM duckdb_tables() WHERE database_name = ? "
                "AND list_contains(?, schema_name) UNION ALL SELECT schema_name, view_name, database_name "
                "FROM duckdb_views() WHERE database_name = 'psw_working' AND NOT internal AND "
                "list_contains(?, schema_name || '.' || view_name)",
                [source, list(PUBLISHED), [f"{s}.{t}" for s, t in FROM_WAREHOUSE]],
            ).fetchall()
            + con.execute(
                "SELECT schema_name, table_name, database_name FROM duckdb_tables() "
                "WHERE database_name = 'psw_working' AND list_contains(?, schema_name || '.' || table_name)",
                [[f"{s}.{t}" for s, t in FROM_WAREHOUSE]],
            ).fetchall()
        ):
            con.execute(f"CREATE SCHEMA IF NOT EXISTS memory.{quote(schema)}")
            con.execute(
                f"CREATE VIEW memory.{quote(schema)}.{quote(name)} AS SELECT * FROM {db}.{quote(schema)}.{quote(name)}"
            )
        con.execute("USE memory")
        yield con
    finally:
        con.close()
