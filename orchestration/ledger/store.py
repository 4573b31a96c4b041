"""The ledger's tables in the warehouse, and reading and writing them.

- ``raw.batch_ledger``: one row per change of a batch's state (append-only: the history is kept).
- ``raw.batch_states``: a view, each batch's current state, one row per batch. A batch in
  ``raw.batches`` with no event yet is ``landed``. ``admitted_at`` is set while the batch is
  passed or released: staging reads those batches only, and the incremental models use it as
  their watermark (a batch released today is read today, whenever it landed).
- ``raw.refresh_requests``: a batch that leaves the admitted set (dropped, or judged again and
  held) took rows out from under the built tables; the next build is a full one and marks the
  request done.
- ``raw.city_verdicts``: the marts gates' verdict per city and run, which the serving assets read
  to hold back one city's publication and not the others'.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import duckdb

STATES = ("landed", "passed", "held", "released", "dropped", "superseded", "refused", "unmatched")
ADMITTED = ("passed", "released")
# States whose rows never reach staging again without a new file (or, for held, an operator).
FINAL = ("dropped", "superseded")

_DDL = (
    "CREATE SCHEMA IF NOT EXISTS raw",
    "CREATE SEQUENCE IF NOT EXISTS raw.batch_ledger_seq",
    """CREATE TABLE IF NOT EXISTS raw.batch_ledger (
        event_id BIGINT NOT NULL DEFAULT nextval('raw.batch_ledger_seq'),
        batch_id VARCHAR NOT NULL,
        source VARCHAR,
        source_profile VARCHAR,
        source_file VARCHAR,
        state VARCHAR NOT NULL,
        changed_at TIMESTAMP NOT NULL,
        actor VARCHAR NOT NULL,
        run_id VARCHAR,
        reason VARCHAR,
        detail VARCHAR
    )""",
    """CREATE TABLE IF NOT EXISTS raw.refresh_requests (
        requested_at TIMESTAMP NOT NULL,
        reason VARCHAR NOT NULL,
        done_at TIMESTAMP
    )""",
    """CREATE TABLE IF NOT EXISTS raw.city_verdicts (
        run_id VARCHAR,
        city VARCHAR NOT NULL,
        suite VARCHAR NOT NULL,
        verdict VARCHAR NOT NULL,
        reason VARCHAR,
        detail VARCHAR,
        judged_at TIMESTAMP NOT NULL
    )""",
    """CREATE OR REPLACE VIEW raw.batch_states AS
    WITH latest AS (
        SELECT * FROM raw.batch_ledger
        QUALIFY row_number() OVER (PARTITION BY batch_id ORDER BY event_id DESC) = 1
    )
    SELECT
        coalesce(b.batch_id, l.batch_id) AS batch_id,
        coalesce(b.source, l.source) AS source,
        coalesce(b.source_profile, l.source_profile) AS source_profile,
        coalesce(b.source_file, l.source_file) AS source_file,
        b.rows_read,
        b.rows_landed,
        b.rows_quarantined,
        b.loaded_at,
        coalesce(l.state, 'landed') AS state,
        coalesce(l.changed_at, b.loaded_at) AS state_changed_at,
        coalesce(l.actor, 'landing') AS actor,
        l.run_id,
        l.reason,
        l.detail,
        CASE WHEN l.state IN ('passed', 'released') THEN l.changed_at END AS admitted_at
    FROM raw.batches AS b
    FULL OUTER JOIN latest AS l ON b.batch_id = l.batch_id""",
)


def now() -> datetime:
    """Event time: naive UTC, to the microsecond (events of one run must be ordered)."""
    return datetime.now(UTC).replace(tzinfo=None)


def ensure_ledger(con: duckdb.DuckDBPyConnection) -> None:
    """Create the ledger's tables and view if they are missing (raw.batches first)."""
    from orchestration.landing.loader import ensure_raw_tables

    ensure_raw_tables(con, "calls_for_service")  # creates raw.batches and raw.quarantine too
    for statement in _DDL:
        con.execute(statement)


@dataclass(frozen=True)
class BatchState:
    batch_id: str
    source: str | None
    source_profile: str | None
    source_file: str | None
    rows_read: int | None
    rows_landed: int | None
    rows_quarantined: int | None
    loaded_at: datetime | None
    state: str
    state_changed_at: datetime | None
    actor: str
    run_id: str | None
    reason: str | None
    detail: dict[str, Any]
    admitted_at: datetime | None

    @property
    def admitted(self) -> bool:
        return self.state in ADMITTED


def after_every_event(con: duckdb.DuckDBPyConnection, at: datetime) -> datetime:
    """``at``, or a microsecond after the ledger's latest event when ``at`` is not later than it.

    Two admissions in the same microsecond, or a clock set back, would otherwise give a batch
    admitted after a build the time of one the build read; the incremental builds read what was
    admitted strictly after their watermark, and would miss it."""
    latest = con.execute("SELECT max(changed_at) FROM raw.batch_ledger").fetchone()[0]
    return at if latest is None or at > latest else latest + timedelta(microseconds=1)


def record_event(
    con: duckdb.DuckDBPyConnection,
    batch_id: str,
    state: str,
    *,
    actor: str,
    source: str | None = None,
    source_profile: str | None = None,
    source_file: str | None = None,
    run_id: str | None = None,
    reason: str | None = None,
    detail: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> None:
    """Append one change of state. A batch that leaves the admitted set asks for a full rebuild."""
    if state not in STATES:
        raise ValueError(f"{state!r} is not a batch state ({', '.join(STATES)})")
    before = current(con, batch_id)
    at = after_every_event(con, at or now())
    if before is not None:  # a known batch keeps its names when the event does not give them
        source, source_profile = source or before.source, source_profile or before.source_profile
        source_file = source_file or before.source_file
    con.execute(
        "INSERT INTO raw.batch_ledger (batch_id, source, source_profile, source_file, state, changed_at, actor, "
        "run_id, reason, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            batch_id,
            source,
            source_profile,
            source_file,
            state,
            at,
            actor,
            run_id,
            reason,
            json.dumps(detail, default=str) if detail else None,
        ],
    )
    if before is not None and before.admitted and state not in ADMITTED:
        request_full_rebuild(con, f"batch {batch_id} ({before.source_file}) went from {before.state} to {state}", at)


def _state(row: tuple) -> BatchState:
    values = list(row)
    values[13] = json.loads(values[13]) if values[13] else {}
    return BatchState(*values)


_COLUMNS = (
    "batch_id, source, source_profile, source_file, rows_read, rows_landed, rows_quarantined, loaded_at, state, "
    "state_changed_at, actor, run_id, reason, detail, admitted_at"
)


def batch_states(con: duckdb.DuckDBPyConnection, where: str = "TRUE", params: list | None = None) -> list[BatchState]:
    """Current state of every batch matching ``where`` (SQL over raw.batch_states), oldest first."""
    rows = con.execute(
        f"SELECT {_COLUMNS} FROM raw.batch_states WHERE {where} ORDER BY coalesce(loaded_at, state_changed_at), "
        "source_file, batch_id",
        params or [],
    ).fetchall()
    return [_state(r) for r in rows]


def current(con: duckdb.DuckDBPyConnection, batch_id: str) -> BatchState | None:
    found = batch_states(con, "batch_id = ?", [batch_id])
    return found[0] if found else None


def find(con: duckdb.DuckDBPyConnection, prefix: str) -> list[BatchState]:
    """Batches whose id starts with ``prefix`` or whose file is ``prefix`` (what an operator types)."""
    return batch_states(con, "starts_with(batch_id, ?) OR source_file = ?", [prefix, prefix])


def history(con: duckdb.DuckDBPyConnection, batch_id: str) -> list[tuple[datetime, str, str, str | None]]:
    """(when, state, actor, reason) of every change of one batch, oldest first."""
    return con.execute(
        "SELECT changed_at, state, actor, reason FROM raw.batch_ledger WHERE batch_id = ? ORDER BY event_id",
        [batch_id],
    ).fetchall()


def request_full_rebuild(con: duckdb.DuckDBPyConnection, reason: str, at: datetime | None = None) -> None:
    con.execute("INSERT INTO raw.refresh_requests VALUES (?, ?, NULL)", [at or now(), reason])


def pending_rebuilds(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Why the next build must be a full one (batches that left the admitted set), oldest first."""
    if not table_exists(con, "refresh_requests"):
        return []
    return [
        r[0]
        for r in con.execute(
            "SELECT reason FROM raw.refresh_requests WHERE done_at IS NULL ORDER BY requested_at"
        ).fetchall()
    ]


def mark_rebuilt(con: duckdb.DuckDBPyConnection, started_at: datetime) -> None:
    """A full build that started at ``started_at`` answered every request made before it."""
    if table_exists(con, "refresh_requests"):
        con.execute(
            "UPDATE raw.refresh_requests SET done_at = ? WHERE done_at IS NULL AND requested_at <= ?",
            [now(), started_at],
        )


def record_city_verdicts(con: duckdb.DuckDBPyConnection, run_id: str | None, suite: str, verdicts: dict) -> None:
    """``verdicts``: city -> (verdict 'passed'/'held', reason, detail)."""
    if not verdicts:
        return
    at = now()
    con.executemany(
        "INSERT INTO raw.city_verdicts VALUES (?, ?, ?, ?, ?, ?, ?)",
        [
            [run_id, city, suite, verdict, reason, json.dumps(detail, default=str) if detail else None, at]
            for city, (verdict, reason, detail) in sorted(verdicts.items())
        ],
    )


def held_cities(con: duckdb.DuckDBPyConnection, run_id: str | None) -> dict[str, list[str]]:
    """City -> the reasons the marts gates of this run held it (every suite that held it)."""
    if not table_exists(con, "city_verdicts"):
        return {}
    held: dict[str, list[str]] = {}
    for city, suite, reason in con.execute(
        "SELECT city, suite, reason FROM raw.city_verdicts WHERE run_id IS NOT DISTINCT FROM ? AND verdict = 'held' "
        "ORDER BY city, suite",
        [run_id],
    ).fetchall():
        held.setdefault(city, []).append(f"{suite}: {reason}")
    return held


def table_exists(con: duckdb.DuckDBPyConnection, table: str) -> bool:
    return bool(
        con.execute(
            "SELECT 1 FROM information_schema.tables WHERE table_schema = 'raw' AND table_name = ?", [table]
        ).fetchone()
    )


def known_batch_ids(warehouse_path) -> set[str] | None:
    """Every batch id the ledger knows (landed, judged, refused, dropped, ...), or None when the
    warehouse cannot be read now (no file yet, or a refresh holds it: a reader would block its
    writer, so nothing waits for it)."""
    from pathlib import Path

    from orchestration.ledger.lock import RefreshBusy, refresh_lock

    if not Path(warehouse_path).exists():
        return None
    try:
        with refresh_lock(warehouse_path, "landing sensor: reading the ledger"):
            con = duckdb.connect(str(warehouse_path), read_only=True)
            try:
                if not table_exists(con, "batch_states"):
                    return set()
                return {r[0] for r in con.execute("SELECT batch_id FROM raw.batch_states").fetchall()}
            finally:
                con.close()
    except (RefreshBusy, duckdb.IOException):
        return None
