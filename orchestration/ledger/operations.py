"""What an operator does to a batch, with a command, never with SQL typed by hand.

- ``release``: a held batch is admitted as it is (the operator's name and reason recorded); the
  next refresh builds it.
- ``drop``: the batch's rows leave ``raw.<source>`` and ``raw.quarantine`` (its ``raw.batches``
  row stays, so landing the same content again is still a no-op), its file moves from the
  landing folder to the rejected folder (so it is not landed again), and, if it had been
  admitted, the next refresh rebuilds every table from the admitted batches.
- A corrected file landed under the same name supersedes a held batch by itself (landing does
  it); ``supersede`` does the same for a corrected file under another name.

Each takes the refresh lock: it never runs while a refresh is landing or building.
"""

from __future__ import annotations

import getpass
import shutil
from dataclasses import dataclass
from pathlib import Path

import duckdb

from orchestration.landing.canonical import CANONICAL_SOURCES
from orchestration.landing.loader import file_sha256
from orchestration.ledger.store import BatchState, current, ensure_ledger, find, record_event, table_exists


class LedgerError(ValueError):
    """An operator command that cannot be done as asked (names the batch and why)."""


def operator() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "operator"


def resolve(con: duckdb.DuckDBPyConnection, key: str) -> BatchState:
    """One batch from what an operator types: a batch id, its first characters, or a file name."""
    found = find(con, key)
    if not found:
        raise LedgerError(f"no batch {key!r}: list them with `python -m orchestration.cli batches list`")
    if len(found) > 1:
        names = ", ".join(f"{b.batch_id} ({b.source_file}, {b.state})" for b in found[:5])
        raise LedgerError(f"{key!r} names {len(found)} batches ({names}): give more of the batch id")
    return found[0]


def release(con: duckdb.DuckDBPyConnection, key: str, reason: str, by: str | None = None) -> BatchState:
    ensure_ledger(con)
    batch = resolve(con, key)
    if batch.state != "held":
        raise LedgerError(
            f"{batch.batch_id} ({batch.source_file}) is {batch.state}, not held: only a held batch is released"
        )
    if not reason.strip():
        raise LedgerError("a release needs a reason (--reason): it is recorded with your name")
    record_event(con, batch.batch_id, "released", actor=f"operator {by or operator()}", reason=reason.strip())
    return current(con, batch.batch_id)


@dataclass
class Dropped:
    batch: BatchState
    rows_removed: int
    quarantine_removed: int
    moved_to: Path | None


def drop(
    con: duckdb.DuckDBPyConnection,
    key: str,
    reason: str,
    landing_dir: Path,
    rejected_dir: Path,
    by: str | None = None,
) -> Dropped:
    ensure_ledger(con)
    batch = resolve(con, key)
    if batch.state in ("dropped",):
        raise LedgerError(f"{batch.batch_id} ({batch.source_file}) was dropped already")
    if not reason.strip():
        raise LedgerError("a drop needs a reason (--reason): it is recorded with your name")
    rows = quarantined = 0
    con.execute("BEGIN TRANSACTION")
    try:
        if batch.source in CANONICAL_SOURCES and table_exists(con, batch.source):
            rows = con.execute(f"DELETE FROM raw.{batch.source} WHERE _batch_id = ?", [batch.batch_id]).fetchone()[0]
        quarantined = con.execute("DELETE FROM raw.quarantine WHERE batch_id = ?", [batch.batch_id]).fetchone()[0]
        record_event(
            con,
            batch.batch_id,
            "dropped",
            actor=f"operator {by or operator()}",
            reason=reason.strip(),
            detail={"rows_removed": rows, "quarantine_removed": quarantined},
        )
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return Dropped(current(con, batch.batch_id), rows, quarantined, _move_file(batch, landing_dir, rejected_dir))


def supersede(con: duckdb.DuckDBPyConnection, key: str, by_key: str, who: str | None = None) -> BatchState:
    """A held batch replaced by a corrected file landed under another name."""
    ensure_ledger(con)
    old, new = resolve(con, key), resolve(con, by_key)
    if old.state != "held":
        raise LedgerError(f"{old.batch_id} ({old.source_file}) is {old.state}: only a held batch is superseded")
    if new.batch_id == old.batch_id or new.state in ("dropped", "superseded", "refused", "unmatched"):
        raise LedgerError(f"{new.batch_id} ({new.source_file}) is {new.state}: it cannot replace another batch")
    record_event(
        con,
        old.batch_id,
        "superseded",
        actor=f"operator {who or operator()}",
        reason=f"replaced by {new.source_file} (batch {new.batch_id})",
        detail={"superseded_by": new.batch_id},
    )
    return current(con, old.batch_id)


def _move_file(batch: BatchState, landing_dir: Path, rejected_dir: Path) -> Path | None:
    """Move the batch's file out of the landing folder, if it is still there with the same content."""
    if not batch.source_file:
        return None
    path = landing_dir / batch.source_file
    if not path.is_file() or path.is_symlink():
        return None
    digest = batch.batch_id.rsplit(":", 1)[-1]
    if not file_sha256(path).startswith(digest):
        return None  # another file has taken its name since: leave it
    target = rejected_dir / batch.source_file
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.exists():
        target = target.with_name(f"{target.name}.{digest}")
    shutil.move(str(path), target)
    return target
