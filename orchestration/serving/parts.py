"""Which parts of a published table changed since the last publish: a fingerprint per month.

A table with a month column (a DATE named ``month`` or ``..._month``; the first one, in column
order) and at least one Parquet row group of rows (122,880, DuckDB's default) is published in
parts, one per month; any other table is one part (``all``): below a row group, a file per month
costs more than rewriting the table. Each part's
fingerprint is computed from its rows: the count and the sum of DuckDB's ``hash`` of every row
(an order-free sum, so the same rows in another order give the same fingerprint), with the
table's column names and types. Equal fingerprints mean equal rows, barring a 64-bit hash
collision that also keeps the sum and the count. The serving copy stores them
(``serving.published_parts``); a publish rewrites the parts whose fingerprint differs from the
stored one and keeps the rest, in the serving copy and in the Parquet export.

Nothing here names a mart: a new mart with a month column is published by month without code.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import duckdb

from orchestration.serving.catalog import Table, literal, quote

WHOLE = "all"  # the one part of a table published whole
NO_MONTH = "none"  # the part of rows whose month is NULL
PARTS_TABLE = "published_parts"  # in the serving copy's schema ``serving``
MIN_ROWS_TO_CUT = 122_880  # one Parquet row group (DuckDB's ROW_GROUP_SIZE default)


@dataclass(frozen=True)
class Parts:
    """A table's parts: the month column they are cut by (None: one part) and, per part key,
    (rows, fingerprint) and the refresh that last wrote the part into the serving copy."""

    column: str | None
    parts: dict[str, tuple[int, str]]
    written_in: dict[str, str] = field(default_factory=dict, compare=False)


def month_column(table: Table) -> str | None:
    for column in table.columns:
        name = column.name.lower()
        if (name == "month" or name.endswith("_month")) and column.data_type.upper() == "DATE":
            return column.name
    return None


def part_key(column: str | None) -> str:
    """The SQL expression of a row's part key (text)."""
    if column is None:
        return literal(WHOLE)
    return f"coalesce(strftime({quote(column)}, '%Y-%m'), {literal(NO_MONTH)})"


def part_filter(column: str | None, keys: list[str]) -> str:
    """A WHERE condition selecting the rows of the given parts."""
    if column is None:
        return "true" if WHOLE in keys else "false"
    return f"{part_key(column)} IN ({', '.join(literal(k) for k in keys) or 'NULL'})"


def signature(table: Table) -> str:
    return ", ".join(f"{c.name} {c.data_type}" for c in table.columns)


def table_parts(con: duckdb.DuckDBPyConnection, database: str, table: Table) -> Parts:
    """Fingerprint every part of one table of an attached database (one parallel scan)."""
    column = month_column(table) if table.rows >= MIN_ROWS_TO_CUT else None
    relation = f"{quote(database)}.{quote(table.schema)}.{quote(table.name)}"
    found = con.execute(
        f"SELECT {part_key(column)} AS part, count(*), CAST(sum(CAST(hash(t) AS HUGEINT)) AS VARCHAR) "
        f"FROM {relation} AS t GROUP BY ALL ORDER BY part"
    ).fetchall()
    if not found:  # an empty table is one empty part, so it is still published (with its columns)
        column, found = None, [(WHOLE, 0, "0")]
    shape = signature(table)
    return Parts(
        column=column,
        parts={
            key: (rows, hashlib.sha256(f"{shape}\n{key}\n{rows}\n{total}".encode()).hexdigest()[:16])
            for key, rows, total in found
        },
    )


def changed_parts(before: Parts | None, after: Parts) -> list[str]:
    """The parts to rewrite: new, changed or gone (all of them when the cut changed)."""
    if before is None or before.column != after.column:
        return sorted({*(before.parts if before else {}), *after.parts})
    keys = {*before.parts, *after.parts}
    return sorted(k for k in keys if before.parts.get(k) != after.parts.get(k))


def store_parts(con: duckdb.DuckDBPyConnection, schema: str, parts: dict[str, Parts]) -> None:
    """(Re)write ``<schema>.published_parts`` of an attached serving copy: one row per part."""
    con.execute(
        f"""CREATE OR REPLACE TABLE {schema}.{PARTS_TABLE} (
            table_schema VARCHAR NOT NULL, table_name VARCHAR NOT NULL, part_column VARCHAR,
            part VARCHAR NOT NULL, row_count BIGINT NOT NULL, fingerprint VARCHAR NOT NULL,
            written_in_refresh VARCHAR NOT NULL)"""
    )
    rows = [
        [*qualified.split(".", 1), p.column, key, n, fingerprint, p.written_in[key]]
        for qualified, p in sorted(parts.items())
        for key, (n, fingerprint) in p.parts.items()
    ]
    if rows:
        con.executemany(f"INSERT INTO {schema}.{PARTS_TABLE} VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
    con.execute(
        f"COMMENT ON TABLE {schema}.{PARTS_TABLE} IS 'Each published table''s parts (months, or the whole table) "
        "with their row counts, their fingerprints (what the next publish compares to know what changed) and "
        "the refresh that last wrote them.'"
    )


def stored_parts(con: duckdb.DuckDBPyConnection, database: str, schema: str) -> dict[str, Parts] | None:
    """The parts a serving copy (attached as ``database``) stored, by schema.table; None when it
    stored none (a copy of an older release)."""
    exists = con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE database_name = ? AND schema_name = ? AND table_name = ?",
        [database, schema, PARTS_TABLE],
    ).fetchone()[0]
    return read_parts(con, f"{quote(database)}.{schema}.{PARTS_TABLE}") if exists else None


def read_parts(con: duckdb.DuckDBPyConnection, relation: str) -> dict[str, Parts]:
    found: dict[str, Parts] = {}
    for schema, name, column, key, rows, fingerprint, written_in in con.execute(
        "SELECT table_schema, table_name, part_column, part, row_count, fingerprint, written_in_refresh "
        f"FROM {relation} ORDER BY ALL"
    ).fetchall():
        entry = found.setdefault(f"{schema}.{name}", Parts(column, {}))
        entry.parts[key] = (rows, fingerprint)
        entry.written_in[key] = written_in
    return found
