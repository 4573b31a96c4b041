"""What landing tells the ledger: new batches, corrected files that supersede held ones, files
refused whole, and files no profile reads. Each refusal is recorded (and alerted) once per file
content; it is reported again in every run's summary while the file stays in the landing folder."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from orchestration.ledger.store import batch_states, current, ensure_ledger, record_event


@dataclass
class LandingReport:
    landed: list[str] = field(default_factory=list)  # new batch ids
    superseded: list[tuple[str, str, str]] = field(default_factory=list)  # (old batch, new batch, file)
    refused: list[tuple[str, str, bool]] = field(default_factory=list)  # (file, reason, first time)
    unmatched: list[tuple[str, bool]] = field(default_factory=list)  # (file, first time)

    @property
    def new_problems(self) -> bool:
        return any(first for *_, first in self.refused) or any(first for _, first in self.unmatched)


def shown_path(path: Path, landing_dir: Path) -> str:
    path = Path(path)
    return str(path.relative_to(landing_dir)) if path.is_relative_to(landing_dir) else path.name


def record_landed(
    con: duckdb.DuckDBPyConnection, batch_id: str, source: str, profile: str, file: str, run_id: str | None
) -> list[tuple[str, str, str]]:
    """A new batch; a held batch of the same profile and file name is superseded by it."""
    ensure_ledger(con)
    record_event(
        con, batch_id, "landed", actor="landing", source=source, source_profile=profile, source_file=file, run_id=run_id
    )
    replaced = []
    for old in batch_states(
        con, "source_profile = ? AND source_file = ? AND state = 'held' AND batch_id <> ?", [profile, file, batch_id]
    ):
        record_event(
            con,
            old.batch_id,
            "superseded",
            actor="landing",
            run_id=run_id,
            reason=f"replaced by a corrected file under the same name (batch {batch_id})",
            detail={"superseded_by": batch_id},
        )
        replaced.append((old.batch_id, batch_id, file))
    return replaced


def record_refusal(
    con: duckdb.DuckDBPyConnection,
    batch_id: str,
    state: str,
    file: str,
    reason: str,
    run_id: str | None,
    source: str | None = None,
    profile: str | None = None,
) -> bool:
    """A file refused whole (``refused``) or read by no profile (``unmatched``); True the first time."""
    ensure_ledger(con)
    before = current(con, batch_id)
    if before is not None and before.state == state and before.reason == reason:
        return False
    if before is not None and before.state in ("dropped", "superseded"):
        return False  # an operator has dealt with it already
    record_event(
        con,
        batch_id,
        state,
        actor="landing",
        source=source,
        source_profile=profile,
        source_file=file,
        run_id=run_id,
        reason=reason,
    )
    return True
