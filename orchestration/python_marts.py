"""Marts built by a Python asset rather than dbt (the demand forecast, the dispatch replay): written
into the marts schema with declared column types, and their documentation as the table's and
columns' comments, so that serving publishes and describes them like the dbt marts.

A mart is built in two steps: ``load`` reads its inputs from the warehouse, ``compute`` makes its
rows from them alone. A mart whose inputs and code are those it was last computed from is kept as
it is (orchestration/python_mart_inputs.py)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import duckdb
import pandas as pd
from dagster import AssetKey

from orchestration import python_mart_inputs
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
        con.execute("CREATE SCHEMA IF NOT EXISTS marts")
        columns = ", ".join(f"{c} {t}" for c, t in self.columns)
        con.execute(f"CREATE OR REPLACE TABLE marts.{self.name} ({columns})")
        con.from_df(frame.reindex(columns=self.column_names)).insert_into(f"marts.{self.name}")
        con.execute(f"COMMENT ON TABLE marts.{self.name} IS {quote_literal(self.comment)}")
        for column, doc in self.column_docs.items():
            con.execute(f"COMMENT ON COLUMN marts.{self.name}.{column} IS {quote_literal(doc)}")

    def code_fingerprint(self) -> str:
        return python_mart_inputs.code_fingerprint(self.module or __name__)

    def build(
        self,
        warehouse: WarehouseResource,
        load: Callable[[duckdb.DuckDBPyConnection], Any],
        compute: Callable[[Any], pd.DataFrame],
    ) -> Built:
        """Read the inputs from a read-only connection (so the computing holds no write lock); keep
        the mart when they and the code are those it was last computed from, otherwise compute it
        and write it with the inputs' fingerprint."""
        with warehouse.connect(read_only=True) as con:
            inputs = load(con)
            digest = python_mart_inputs.fingerprint(inputs, self.code_fingerprint())
            if python_mart_inputs.unchanged(con, self.name, digest):
                frame = con.execute(f"SELECT * FROM marts.{self.name}").df()
                return Built(frame, False, digest)
        frame = compute(inputs)
        with warehouse.connect() as con:
            con.begin()
            try:
                self.write(con, frame)
                python_mart_inputs.record(con, self.name, digest, len(frame))
                con.commit()
            except BaseException:
                con.rollback()  # the mart and its fingerprint as they were
                raise
            hand_table_to_target(con, "marts", self.name)  # the dbt target's engine holds every mart
        return Built(frame, True, digest)


@dataclass(frozen=True)
class Built:
    """A Python mart's rows, and whether they were computed in this run or kept."""

    frame: pd.DataFrame
    computed: bool
    fingerprint: str

    @property
    def metadata(self) -> dict:
        """For the asset's materialization: what a person reads in the Dagster UI."""
        return {
            "computed": self.computed,
            "inputs_fingerprint": self.fingerprint[:16],
            "how": (
                "computed from inputs that changed since the last build"
                if self.computed
                else "kept: the same inputs and code as the last build"
            ),
        }
