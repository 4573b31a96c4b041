"""Row counts and column schemas on the dbt assets, so the catalog shows what each table holds.

dagster-dbt can fetch these itself (``fetch_row_counts``, ``fetch_column_metadata``), but it
queries the warehouse while dbt is still building, and a DuckDB file takes one writer: the dbt
subprocess holds it until it ends. So dbt reports them itself: a post-hook on every model and seed
(``report_table_metadata``, dbt_project/macros/table_metadata.sql) logs the relation's columns
and, for a table, its row count, as a line ``psw.table_metadata {json}`` in dbt's log, before the
node's own result. Each built model's output gets that metadata as its result streams in, so
Dagster records the build's events while dbt runs, not all of them after it ends (about 520
events at the demo city: 8 s after dbt on a slow day, when they were held for the warehouse).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from dagster import AssetMaterialization, Output, TableColumn, TableSchema

PREFIX = "psw.table_metadata "


def reported_metadata(raw_event: dict[str, Any]) -> dict[str, Any] | None:
    """The payload of a ``psw.table_metadata`` line of dbt's log, or None for any other event."""
    info = raw_event.get("info") or {}
    message = info.get("msg")
    if info.get("name") != "JinjaLogInfo" or not isinstance(message, str) or not message.startswith(PREFIX):
        return None
    return json.loads(message[len(PREFIX) :])


def with_reported_metadata(event: Any, reported: dict[str, dict[str, Any]]) -> Any:
    """A model's or seed's output (a materialization outside an asset) with the columns and row
    count its post-hook reported."""
    if not isinstance(event, Output | AssetMaterialization) or "unique_id" not in event.metadata:
        return event
    payload = reported.get(str(event.metadata["unique_id"].value))
    if payload is None:  # nothing reported (Spark; a node without the hook)
        return event
    extra: dict[str, Any] = {
        "dagster/column_schema": TableSchema(columns=[TableColumn(name=n, type=t) for n, t in payload["columns"]])
    }
    if "rows" in payload:
        extra["dagster/row_count"] = payload["rows"]
    return event.with_metadata({**event.metadata, **extra})


def stream_with_table_metadata(invocation) -> Iterator:
    """dagster-dbt's events of a dbt invocation as they happen (as ``DbtCliInvocation.stream``
    makes them), each model's and seed's output with the metadata reported for it."""
    reported: dict[str, dict[str, Any]] = {}
    for event in invocation.stream_raw_events():
        payload = reported_metadata(event.raw_event)
        if payload is not None:
            reported[payload["unique_id"]] = payload
            continue
        for dagster_event in event.to_default_asset_events(
            manifest=invocation.manifest,
            dagster_dbt_translator=invocation.dagster_dbt_translator,
            context=invocation.context,
            target_path=invocation.target_path,
            project=invocation.project,
        ):
            yield with_reported_metadata(dagster_event, reported)
