"""Dagster resources: the DuckDB warehouse and the landing folder, configured from the environment."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
from dagster import ConfigurableResource

from orchestration.landing.profiles import SourceProfile, load_profiles


class WarehouseResource(ConfigurableResource):
    """The DuckDB file the pipeline writes. A connection is opened per use and closed after,
    so that the dbt subprocess (a separate writer) can take the file's lock in turn."""

    path: str

    @contextmanager
    def connect(self, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
        Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        con = duckdb.connect(self.path, read_only=read_only)
        try:
            yield con
        finally:
            con.close()


class LandingResource(ConfigurableResource):
    """Where extracts arrive and where the source profiles that read them live."""

    landing_dir: str
    profiles_dir: str

    def profiles(self) -> dict[str, SourceProfile]:
        return load_profiles(Path(self.profiles_dir))
