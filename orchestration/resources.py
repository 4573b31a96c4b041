"""Dagster resources: the DuckDB warehouse and the landing folder, configured from the environment."""

from __future__ import annotations

from collections.abc import Generator, Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
from dagster import ConfigurableResource, Failure, InitResourceContext
from dagster_duckdb import DuckDBResource

from orchestration.landing.profiles import SourceProfile, load_profiles
from orchestration.ledger.lock import RefreshBusy, refresh_lock


class WarehouseResource(DuckDBResource):
    """The DuckDB file the pipeline writes: dagster-duckdb's ``DuckDBResource`` (its ``database``
    is the file; its connection retries while another process holds the file's lock), with a
    read-only connection beside it and the warehouse's refresh lock around a run. A connection is
    opened per use and closed after, so that the dbt subprocess (a separate writer) can take the
    file's lock in turn.

    While a run uses it, the run holds the warehouse's refresh lock (orchestration/ledger/lock.py):
    a second refresh waits ``lock_wait_seconds`` (``PSW_REFRESH_LOCK_WAIT_SECONDS``, default 10:
    the landing sensor reads the ledger under the lock for a moment) and then fails with who holds
    it, before it lands or builds anything."""

    lock_wait_seconds: float = 10.0

    @property
    def path(self) -> str:
        return self.database

    @contextmanager
    def yield_for_execution(self, context: InitResourceContext) -> Generator[WarehouseResource, None, None]:
        run = context.run.run_id if context.run else "a run"
        try:
            with refresh_lock(self.database, f"Dagster run {run}", self.lock_wait_seconds):
                yield self
        except RefreshBusy as exc:
            raise Failure(description=str(exc)) from None

    @contextmanager
    def connect(self, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
        """A connection to the warehouse, closed when the block ends (also when it raises: the
        file's write lock must not outlive the step that took it)."""
        Path(self.database).parent.mkdir(parents=True, exist_ok=True)
        if read_only:
            con = duckdb.connect(self.database, read_only=True)
            try:
                yield con
            finally:
                con.close()
            return
        with self.get_connection() as con:
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
