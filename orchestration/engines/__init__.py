"""Other dbt engines than the embedded DuckDB: how the raw tables reach them.

Landing always runs in DuckDB (its CSV reader keeps the bad lines for quarantine at engine
speed). When ``PSW_DBT_TARGET`` names another engine, the landed raw tables are then handed
to it, and dbt builds the same models there:

- ``postgres``: each raw table is copied into schema ``raw`` of the PostgreSQL database
  (replaced in one transaction per table) with PostgreSQL's own COPY.
- ``spark``: each raw table is written as Parquet under ``PSW_SPARK_RAW_DIR``; dbt's
  ``on-run-start`` hook registers them as tables of schema ``raw`` in the Spark session
  (macro ``register_raw_parquet``).

After the build, what dbt built there is taken back into the DuckDB warehouse
(``orchestration/engines/take_back.py``), so the gates, the Python marts, the report and the
serving outputs read that engine's results; the Python marts are copied into PostgreSQL too.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import duckdb

from orchestration.settings import read_environment

# DuckDB's type -> PostgreSQL's, spelt as PostgreSQL's information_schema spells it (so a table of
# the same shape, names and types, is kept and emptied). Anything else goes across as text.
PG_TYPES = {
    "VARCHAR": "text",
    "BIGINT": "bigint",
    "INTEGER": "integer",
    "SMALLINT": "smallint",
    "HUGEINT": "numeric",
    "DECIMAL": "numeric",
    "DOUBLE": "double precision",
    "FLOAT": "real",
    "BOOLEAN": "boolean",
    "DATE": "date",
    "TIMESTAMP": "timestamp without time zone",
    "TIMESTAMP WITH TIME ZONE": "timestamp with time zone",
    "JSON": "jsonb",
}


def pg_type(duckdb_type: str) -> str:
    return PG_TYPES.get(duckdb_type.split("(")[0], "text")


def current_target() -> str:
    return read_environment().dbt_target


def raw_tables(con: duckdb.DuckDBPyConnection) -> list[str]:
    rows = con.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'raw' ORDER BY 1"
    ).fetchall()
    return [r[0] for r in rows]


def pg_conninfo() -> str:
    e = read_environment()
    return f"host={e.pg_host} port={e.pg_port} user={e.pg_user} dbname={e.pg_database}" + (
        f" password={e.pg_password}" if e.pg_password else ""
    )


def copy_table_to_postgres(con: duckdb.DuckDBPyConnection, pg, schema: str, table: str, tmp: Path) -> int:
    """Replace PostgreSQL's ``schema.table`` with DuckDB's (one transaction); returns its rows."""
    columns = con.execute(
        "SELECT column_name, data_type FROM information_schema.columns "
        "WHERE table_schema = ? AND table_name = ? ORDER BY ordinal_position",
        [schema, table],
    ).fetchall()
    csv_path = tmp / f"{schema}.{table}.csv"
    con.execute(f"COPY (SELECT * FROM {schema}.{table}) TO '{csv_path}' (HEADER false, DELIMITER ',', QUOTE '\"')")
    wanted = [(name, pg_type(dtype)) for name, dtype in columns]
    body = ", ".join(f'"{name}" {dtype}' for name, dtype in wanted)
    existing = pg.execute(
        "SELECT column_name, data_type FROM information_schema.columns "
        "WHERE table_schema = %s AND table_name = %s ORDER BY ordinal_position",
        [schema, table],
    ).fetchall()
    pg.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
    with pg.transaction():
        if [tuple(c) for c in existing] == wanted:
            # Same shape: empty it in place, so the views that read it stay valid.
            pg.execute(f'TRUNCATE "{schema}"."{table}"')
        else:
            pg.execute(f'DROP TABLE IF EXISTS "{schema}"."{table}" CASCADE')
            pg.execute(f'CREATE TABLE "{schema}"."{table}" ({body})')
        with pg.cursor().copy(f'COPY "{schema}"."{table}" FROM STDIN (FORMAT csv)') as copy, csv_path.open("rb") as fh:
            while chunk := fh.read(1 << 20):
                copy.write(chunk)
    csv_path.unlink()
    return pg.execute(f'SELECT count(*) FROM "{schema}"."{table}"').fetchone()[0]


def replicate_to_postgres(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Copy every raw table into PostgreSQL schema ``raw``; returns rows per table."""
    import psycopg

    with psycopg.connect(pg_conninfo()) as pg, tempfile.TemporaryDirectory() as tmp:
        return {table: copy_table_to_postgres(con, pg, "raw", table, Path(tmp)) for table in raw_tables(con)}


def hand_table_to_target(con: duckdb.DuckDBPyConnection, schema: str, table: str, target: str | None = None) -> int:
    """A table built outside dbt (a Python mart), copied into the dbt target's engine too, so that
    engine holds every mart (PostgreSQL; a local Spark session's marts are read from the warehouse
    and the serving outputs, not from Spark). Rows copied, or 0."""
    if (target or current_target()) != "postgres":
        return 0
    import psycopg

    with psycopg.connect(pg_conninfo()) as pg, tempfile.TemporaryDirectory() as tmp:
        return copy_table_to_postgres(con, pg, schema, table, Path(tmp))


def export_for_spark(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Write every raw table as Parquet (one folder per table) for the Spark session to register."""
    out = read_environment().spark_raw_path()
    exported: dict[str, int] = {}
    for table in raw_tables(con):
        folder = out / table
        staging = out / f".{table}.new"
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(parents=True)
        # JSON is written as text: Spark has no JSON column type.
        has_original = con.execute(
            "SELECT 1 FROM information_schema.columns WHERE table_schema = 'raw' AND table_name = ? "
            "AND column_name = '_original'",
            [table],
        ).fetchone()
        replace = " REPLACE (CAST(_original AS VARCHAR) AS _original)" if has_original else ""
        con.execute(f"COPY (SELECT *{replace} FROM raw.{table}) TO '{staging / 'part-0.parquet'}' (FORMAT parquet)")
        shutil.rmtree(folder, ignore_errors=True)
        staging.rename(folder)
        exported[table] = con.execute(f"SELECT count(*) FROM raw.{table}").fetchone()[0]
    return exported


def hand_raw_to_target(con: duckdb.DuckDBPyConnection, target: str | None = None) -> dict[str, int]:
    """After landing: make the raw tables visible to the dbt target's engine (no-op on DuckDB)."""
    target = target or current_target()
    if target == "postgres":
        return replicate_to_postgres(con)
    if target == "spark":
        return export_for_spark(con)
    return {}
