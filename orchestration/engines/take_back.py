"""What dbt built in PostgreSQL or Spark, taken back into the DuckDB warehouse after the build.

With ``PSW_DBT_TARGET=postgres`` (or ``spark``) dbt builds staging, intermediate, reference and
marts in that engine. Everything after the build (the staging and marts gates, the Python marts,
the report, the serving copy, the Parquet files and the PostgreSQL publish) reads the DuckDB
warehouse, so each table and view dbt built there is copied back into the same schema of the
warehouse as a table: the figures published are the other engine's.

Each relation goes through PostgreSQL's own ``COPY ... TO STDOUT`` as CSV, typed from
PostgreSQL's catalogue (an unconstrained ``numeric`` whose values are all whole numbers comes back
as ``HUGEINT``, the type DuckDB gives the same sums; else ``DOUBLE``).

From Spark, a process of its own (``orchestration/engines/spark_export.py``) opens dbt's catalogue
after the build and writes each relation as Parquet (a Spark view is SQL, not files), which the
warehouse then reads, typed as Spark typed it.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

import duckdb

from orchestration.engines import current_target, pg_conninfo
from orchestration.engines.spark_export import BUILT_SCHEMAS
from orchestration.settings import PROJECT_ROOT
from orchestration.sql import quote_ident, quote_literal

# PostgreSQL's type, as information_schema spells it -> DuckDB's
DUCKDB_TYPES = {
    "text": "VARCHAR",
    "character varying": "VARCHAR",
    "character": "VARCHAR",
    "bigint": "BIGINT",
    "integer": "INTEGER",
    "smallint": "SMALLINT",
    "double precision": "DOUBLE",
    "real": "FLOAT",
    "boolean": "BOOLEAN",
    "date": "DATE",
    "timestamp without time zone": "TIMESTAMP",
    "timestamp with time zone": "TIMESTAMPTZ",
    "interval": "INTERVAL",
    "jsonb": "JSON",
    "json": "JSON",
}


def _duckdb_types(pg, schema: str, table: str, columns: list[tuple[str, str]]) -> dict[str, str]:
    """DuckDB's type of each column; the numeric ones judged by their values, in one query."""
    numeric = [name for name, data_type in columns if data_type == "numeric"]
    whole: tuple = ()
    if numeric:
        checks = ", ".join(f"coalesce(bool_and({quote_ident(c)} = trunc({quote_ident(c)})), true)" for c in numeric)
        whole = pg.execute(f"SELECT {checks} FROM {quote_ident(schema)}.{quote_ident(table)}").fetchone()
    is_whole = dict(zip(numeric, whole, strict=True))
    return {
        name: ("HUGEINT" if is_whole[name] else "DOUBLE")
        if name in is_whole
        else DUCKDB_TYPES.get(data_type, "VARCHAR")
        for name, data_type in columns
    }


def _replace(con: duckdb.DuckDBPyConnection, schema: str, table: str, select: str) -> None:
    """Replace ``schema.table`` in the warehouse (a table or a view there) with ``select``."""
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
    kind = con.execute(
        "SELECT table_type FROM information_schema.tables WHERE table_schema = ? AND table_name = ?",
        [schema, table],
    ).fetchone()
    if kind and kind[0] == "VIEW":
        con.execute(f"DROP VIEW {schema}.{quote_ident(table)}")
    con.execute(f"CREATE OR REPLACE TABLE {schema}.{quote_ident(table)} AS {select}")


def take_back_from_postgres(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Copy every relation of the built schemas from PostgreSQL into the warehouse; rows per table."""
    import psycopg

    taken: dict[str, int] = {}
    with psycopg.connect(pg_conninfo(), autocommit=True) as pg, tempfile.TemporaryDirectory() as tmp:
        relations = pg.execute(
            "SELECT table_schema, table_name FROM information_schema.tables WHERE table_schema = ANY(%s) ORDER BY 1, 2",
            [list(BUILT_SCHEMAS)],
        ).fetchall()
        for schema, table in relations:
            columns = pg.execute(
                "SELECT column_name, data_type FROM information_schema.columns "
                "WHERE table_schema = %s AND table_name = %s ORDER BY ordinal_position",
                [schema, table],
            ).fetchall()
            path = Path(tmp) / f"{schema}.{table}.csv"
            with (
                path.open("wb") as fh,
                pg.cursor().copy(
                    f"COPY (SELECT * FROM {quote_ident(schema)}.{quote_ident(table)}) TO STDOUT (FORMAT csv)"
                ) as copy,
            ):
                for chunk in copy:
                    fh.write(chunk)
            types = _duckdb_types(pg, schema, table, columns)
            spec = "{" + ", ".join(f"'{name}': '{dtype}'" for name, dtype in types.items()) + "}"
            # PostgreSQL writes NULL as an empty field and an empty string as "": only the first is NULL
            _replace(
                con,
                schema,
                table,
                f"SELECT * FROM read_csv('{path}', columns = {spec}, header = false, quote = '\"', "
                "escape = '\"', nullstr = '', allow_quoted_nulls = false, auto_detect = false)",
            )
            rows = con.execute(f"SELECT count(*) FROM {schema}.{quote_ident(table)}").fetchone()[0]
            taken[f"{schema}.{table}"] = rows
            path.unlink()
    return taken


def take_back_from_spark(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Every relation of the built schemas from the Spark session's catalogue into the warehouse."""
    taken: dict[str, int] = {}
    with tempfile.TemporaryDirectory() as tmp:
        done = subprocess.run(
            [sys.executable, "-m", "orchestration.engines.spark_export", tmp],
            cwd=PROJECT_ROOT,
            capture_output=True,
            text=True,
        )
        if done.returncode != 0:
            raise RuntimeError(f"reading the Spark build back failed:\n{done.stderr[-3000:]}")
        written = json.loads(done.stdout.strip().splitlines()[-1])
        for name, folder in sorted(written.items()):
            schema, table = name.split(".", 1)
            _replace(con, schema, table, f"SELECT * FROM read_parquet({quote_literal(folder + '/*.parquet')})")
            taken[name] = con.execute(f"SELECT count(*) FROM {schema}.{quote_ident(table)}").fetchone()[0]
    return taken


def take_back_from_target(con: duckdb.DuckDBPyConnection, target: str | None = None) -> dict[str, int]:
    """After the dbt build: the target's built tables in the warehouse (no-op on DuckDB)."""
    target = target or current_target()
    if target == "postgres":
        return take_back_from_postgres(con)
    if target == "spark":
        return take_back_from_spark(con)
    return {}
