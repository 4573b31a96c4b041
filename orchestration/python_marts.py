"""Marts built by a Python asset rather than dbt (the demand forecast, the dispatch replay): written
into the marts schema with declared column types, and their documentation as the table's and
columns' comments, so that serving publishes and describes them like the dbt marts."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import duckdb
import pandas as pd
from dagster import AssetKey

from orchestration.engines import hand_table_to_target
from orchestration.resources import WarehouseResource
from orchestration.sql import quote_literal


@dataclass(frozen=True)
class PythonMart:
    name: str
    columns: tuple[tuple[str, str], ...]  # (name, DuckDB type), in order
    table_doc: str
    column_docs: dict[str, str] = field(default_factory=dict)
    module: str = ""  # the module that builds it (its __name__), named in the table's comment

    @property
    def key(self) -> AssetKey:
        return AssetKey(["marts", self.name])

    @property
    def comment(self) -> str:
        """The table's description, with where it is built."""
        if not self.module:
            return self.table_doc
        return f"{self.table_doc} Built by a Python asset: {self.module.replace('.', '/')}.py."

    @property
    def column_names(self) -> list[str]:
        return [c for c, _ in self.columns]

    def write(self, con: duckdb.DuckDBPyConnection, frame: pd.DataFrame) -> None:
        """Replace the table with ``frame`` (its columns in the declared order). Typed as declared: a
        column of a frame that is all None would be typed NULL, which no other engine (PostgreSQL
        publishing) can hold."""
        con.register("python_mart_frame", frame.reindex(columns=self.column_names))
        try:
            con.execute("CREATE SCHEMA IF NOT EXISTS marts")
            columns = ", ".join(f"{c} {t}" for c, t in self.columns)
            con.execute(f"CREATE OR REPLACE TABLE marts.{self.name} ({columns})")
            con.execute(f"INSERT INTO marts.{self.name} SELECT * FROM python_mart_frame")
            con.execute(f"COMMENT ON TABLE marts.{self.name} IS {quote_literal(self.comment)}")
            for column, doc in self.column_docs.items():
                con.execute(f"COMMENT ON COLUMN marts.{self.name}.{column} IS {quote_literal(doc)}")
        finally:
            con.unregister("python_mart_frame")

    def build(
        self, warehouse: WarehouseResource, compute: Callable[[duckdb.DuckDBPyConnection], pd.DataFrame]
    ) -> pd.DataFrame:
        """Compute the mart from a read-only connection (so the computing holds no write lock),
        then write it; returns the frame written."""
        with warehouse.connect(read_only=True) as con:
            frame = compute(con)
        with warehouse.connect() as con:
            self.write(con, frame)
            hand_table_to_target(con, "marts", self.name)  # the dbt target's engine holds every mart
        return frame
