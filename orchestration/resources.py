"""Dagster resources: the DuckDB warehouse and the landing folder, configured from the environment."""

from __future__ import annotations

import os
from collections.abc import Generator, Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
from dagster import ConfigurableResource, Failure, InitResourceContext

from orchestration.landing.profiles import SourceProfile, load_profiles
from orchestration.ledger.lock import RefreshBusy, refresh_lock


class WarehouseResource(ConfigurableResource):
    """The DuckDB file the pipeline writes. A connection is opened per use and closed after,
    so that the dbt subprocess (a separate writer) can take the file's lock in turn.

    While a run uses it, the run holds the warehouse's refresh lock (orchestration/ledger/lock.py):
    a second refresh waits ``PSW_REFRESH_LOCK_WAIT_SECONDS`` (default 10: the landing sensor
    reads the ledger under the lock for a moment) and then fails with who holds it, before it
    lands or builds anything."""

    path: str

    @contextmanager
    def yield_for_execution(self, context: InitResourceContext) -> Generator[WarehouseResource, None, None]:
        run = context.run.run_id if context.run else "a run"
        wait = float(os.environ.get("PSW_REFRESH_LOCK_WAIT_SECONDS") or 10)
        try:
            with refresh_lock(self.path, f"Dagster run {run}", wait):
                yield self
        except RefreshBusy as exc:
            raise Failure(description=str(exc)) from None

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
    # where the batch ledger is (the landing sensor leaves out files the ledger knows already)
    warehouse_path: str = ""

    def profiles(self) -> dict[str, SourceProfile]:
        return load_profiles(Path(self.profiles_dir))
