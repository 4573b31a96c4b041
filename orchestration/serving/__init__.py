"""Serving: what BI tools and readers get (serving DuckDB copy, PostgreSQL, Parquet, report)."""

from dagster import AssetsDefinition

SERVING_ASSETS: list[AssetsDefinition] = []
