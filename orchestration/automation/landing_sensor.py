"""Start a refresh when a new extract appears in the landing folder.

The sensor looks for files matching any source profile's patterns. Its cursor remembers each
file it has requested a run for (path, size and modification time), so a file triggers one run
only; a file that changes (same name, new content) triggers again. A file whose content the
batch ledger knows already (landed, held, refused, dropped: its batch id is the profile and the
content's hash) requests no run either, so a lost cursor or a file touched again does not start
a refresh that lands nothing. Files modified in the last ``PSW_LANDING_SETTLE_SECONDS`` are left
for the next tick: they may still be being copied. All files new at one tick go into one run:
DuckDB takes one writer at a time, so two landing runs side by side would fight over the file.
"""

from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path

from dagster import (
    DefaultSensorStatus,
    RunRequest,
    SensorDefinition,
    SensorEvaluationContext,
    SensorResult,
    SkipReason,
    sensor,
)

from orchestration.automation.config import AutomationConfig
from orchestration.automation.schedule import REFRESH_JOB
from orchestration.landing.loader import file_sha256
from orchestration.ledger.store import known_batch_ids
from orchestration.resources import LandingResource

MAX_FILES_IN_TAG = 5


def file_signature(path: Path) -> str:
    stat = path.stat()
    return f"{stat.st_size}:{stat.st_mtime_ns}"


def extract_files(landing: LandingResource) -> dict[str, tuple[Path, str, str]]:
    """Every file a profile would land: relative path -> (path, source, profile name)."""
    root = Path(landing.landing_dir)
    found: dict[str, tuple[Path, str, str]] = {}
    if not root.is_dir():
        return found
    for profile in landing.profiles().values():
        for path in profile.matching_files(root):
            found.setdefault(str(path.relative_to(root)), (path, profile.source, profile.name))
    return found


def new_extracts(
    landing: LandingResource, cursor: str | None, settle_seconds: float, now: float | None = None
) -> tuple[list[tuple[str, str]], dict[str, str]]:
    """(new files as (relative path, source), the updated cursor's files)."""
    seen: dict[str, str] = json.loads(cursor)["files"] if cursor else {}
    now = time.time() if now is None else now
    new: list[tuple[str, str]] = []
    updated: dict[str, str] = {}  # files no longer in the folder drop out, so the cursor stays small
    known: set[str] | None = None
    for rel, (path, source, profile) in sorted(extract_files(landing).items()):
        signature = file_signature(path)
        if seen.get(rel) == signature:
            updated[rel] = signature
            continue
        if now - path.stat().st_mtime < settle_seconds:
            continue  # still arriving: look again at the next tick
        updated[rel] = signature
        if landing.warehouse_path and known is None:
            known = known_batch_ids(landing.warehouse_path) or set()
        if known and f"{profile}:{file_sha256(path)[:16]}" in known:
            continue  # the ledger has this content already: a run would land nothing
        new.append((rel, source))
    return new, updated


def build_landing_sensor(config: AutomationConfig) -> SensorDefinition:
    @sensor(
        name="new_extract_sensor",
        job_name=REFRESH_JOB,
        minimum_interval_seconds=config.landing_sensor_interval,
        default_status=DefaultSensorStatus.RUNNING if config.running_by_default else DefaultSensorStatus.STOPPED,
        description=(
            "Starts refresh_warehouse when a new extract (a file matching a source profile) appears in the "
            "landing folder (PSW_LANDING_DIR); each file triggers one run only."
        ),
    )
    def new_extract_sensor(context: SensorEvaluationContext, landing: LandingResource):
        new, files = new_extracts(landing, context.cursor, config.landing_settle_seconds)
        cursor = json.dumps({"files": files}, sort_keys=True)
        if not new:
            return SensorResult(skip_reason=SkipReason("no new extract in the landing folder"), cursor=cursor)
        listing = [rel for rel, _ in new]
        key = hashlib.sha256("\n".join(f"{rel}={files[rel]}" for rel in listing).encode()).hexdigest()[:20]
        shown = ", ".join(listing[:MAX_FILES_IN_TAG]) + (
            f" and {len(listing) - MAX_FILES_IN_TAG} more" if len(listing) > MAX_FILES_IN_TAG else ""
        )
        context.log.info(f"{len(listing)} new extract(s): {shown}")
        return SensorResult(
            run_requests=[
                RunRequest(
                    run_key=f"new-extracts-{key}",
                    tags={
                        "psw/trigger": "new_extract",
                        "psw/new_files": shown,
                        "psw/new_file_count": str(len(listing)),
                        "psw/sources": ",".join(sorted({source for _, source in new})),
                    },
                )
            ],
            cursor=cursor,
        )

    return new_extract_sensor
