"""What gets published: the tables of the published schemas, found at run time, with their dbt docs.

Marts are added by several engineers over time, so nothing here names a mart: every table (or
view) in schema ``marts`` is published, and the descriptions come from the dbt manifest.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from pathlib import Path

import duckdb

from orchestration.sql import quote_ident, quote_literal

MARTS_SCHEMA = "marts"
# The serving DuckDB copy also carries the seeds (taxonomy, targets, ...) dashboards label with.
REFERENCE_SCHEMA = "reference"


@dataclass(frozen=True)
class Column:
    name: str
    data_type: str
    description: str | None = None


@dataclass(frozen=True)
class Table:
    schema: str
    name: str
    columns: tuple[Column, ...]
    rows: int
    description: str | None = None

    @property
    def qualified(self) -> str:
        return f"{self.schema}.{self.name}"


def quote(identifier: str) -> str:
    """A DuckDB (and PostgreSQL) quoted identifier."""
    return quote_ident(identifier)


def literal(text: str) -> str:
    """A SQL string literal (for statements that take no parameters, such as COMMENT ON)."""
    return quote_literal(text)


def list_tables(con: duckdb.DuckDBPyConnection, database: str, schemas: tuple[str, ...]) -> list[Table]:
    """Every table and view of the given schemas of one attached database, with columns, row
    counts and the comments DuckDB holds (dbt's persist_docs writes them)."""
    found = con.execute(
        """
        SELECT schema_name, table_name, comment FROM duckdb_tables()
        WHERE database_name = ? AND list_contains(?, schema_name) AND NOT temporary
        UNION ALL
        SELECT schema_name, view_name, comment FROM duckdb_views()
        WHERE database_name = ? AND list_contains(?, schema_name) AND NOT temporary AND NOT internal
        ORDER BY 1, 2
        """,
        [database, list(schemas), database, list(schemas)],
    ).fetchall()
    tables = []
    for schema, name, comment in found:
        columns = con.execute(
            "SELECT column_name, data_type, comment FROM duckdb_columns() "
            "WHERE database_name = ? AND schema_name = ? AND table_name = ? ORDER BY column_index",
            [database, schema, name],
        ).fetchall()
        rows = con.execute(f"SELECT count(*) FROM {quote(database)}.{quote(schema)}.{quote(name)}").fetchone()[0]
        tables.append(
            Table(
                schema=schema,
                name=name,
                columns=tuple(Column(c, t, d or None) for c, t, d in columns),
                rows=rows,
                description=comment or None,
            )
        )
    return tables


Descriptions = dict[tuple[str, str], tuple[str | None, dict[str, str]]]


def load_dbt_descriptions(manifest_path: Path) -> Descriptions:
    """(schema, table) -> (table description, {column: description}) from dbt's manifest.json;
    empty when the manifest is missing (the DuckDB comments are used then)."""
    if not manifest_path.exists():
        return {}
    manifest = json.loads(manifest_path.read_text())
    descriptions: Descriptions = {}
    for node in manifest.get("nodes", {}).values():
        if node.get("resource_type") not in ("model", "seed", "snapshot"):
            continue
        name = node.get("alias") or node["name"]
        columns = {c: d["description"] for c, d in node.get("columns", {}).items() if d.get("description")}
        descriptions[(node["schema"], name)] = (node.get("description") or None, columns)
    return descriptions


def with_descriptions(tables: list[Table], descriptions: Descriptions) -> list[Table]:
    """The tables with the dbt docs' descriptions, falling back to what the warehouse holds."""
    documented = []
    for table in tables:
        table_doc, column_docs = descriptions.get((table.schema, table.name), (None, {}))
        documented.append(
            replace(
                table,
                description=table_doc or table.description,
                columns=tuple(replace(c, description=column_docs.get(c.name) or c.description) for c in table.columns),
            )
        )
    return documented
