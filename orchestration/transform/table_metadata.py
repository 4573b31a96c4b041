"""Row counts and column schemas on the dbt assets, so the catalog shows what each table holds.

dagster-dbt can fetch these itself (``fetch_row_counts``, ``fetch_column_metadata``), but it
queries the warehouse while dbt is still building, and a DuckDB file takes one writer: the dbt
subprocess holds it until it ends. So the build's events are kept until dbt has finished, then
each built model and seed gets its column schema (from the warehouse's catalog) and, for tables,
its row count (views are not counted: counting one runs its query over all of raw).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import duckdb
from dagster import Output, TableColumn, TableSchema


def _relation(node: Mapping[str, Any]) -> tuple[str, str]:
    return node["schema"], node.get("alias") or node["name"]


def describe_relations(con: duckdb.DuckDBPyConnection, relations: set[tuple[str, str]]) -> dict[tuple, dict]:
    """(schema, name) -> {"type", "columns", "rows"} for the relations that exist."""
    found: dict[tuple, dict] = {}
    for schema, name, kind in con.execute(
        "SELECT table_schema, table_name, table_type FROM information_schema.tables"
    ).fetchall():
        if (schema, name) in relations:
            found[(schema, name)] = {"type": kind, "columns": []}
    for schema, name, column, data_type in con.execute(
        "SELECT table_schema, table_name, column_name, data_type FROM information_schema.columns "
        "ORDER BY table_schema, table_name, ordinal_position"
    ).fetchall():
        if (schema, name) in found:
            found[(schema, name)]["columns"].append(TableColumn(name=column, type=data_type))
    for (schema, name), info in found.items():
        if info["type"] == "BASE TABLE":
            info["rows"] = con.execute(f'SELECT count(*) FROM "{schema}"."{name}"').fetchone()[0]
    return found


def with_table_metadata(events: Iterable, connect, manifest: Mapping[str, Any]) -> Iterator:
    """The build's events, the outputs of built models and seeds with their schema and row count.
    ``connect``: a context manager giving a connection to the warehouse (the resource's)."""
    held = list(events)  # dbt has ended: the warehouse file is free to read
    nodes = manifest["nodes"]
    ids = {str(e.metadata["unique_id"].value) for e in held if isinstance(e, Output) and "unique_id" in e.metadata}
    relations = {_relation(nodes[uid]) for uid in ids if uid in nodes}
    with connect() as con:
        described = describe_relations(con, relations)  # none when the models live in another engine
    for event in held:
        is_output = isinstance(event, Output) and "unique_id" in event.metadata
        uid = str(event.metadata["unique_id"].value) if is_output else None
        info = described.get(_relation(nodes[uid])) if uid in nodes else None
        if info is None:
            yield event
            continue
        extra: dict[str, Any] = {"dagster/column_schema": TableSchema(columns=info["columns"])}
        if "rows" in info:
            extra["dagster/row_count"] = info["rows"]
        yield event.with_metadata({**event.metadata, **extra})
