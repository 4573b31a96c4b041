"""Serving settings, read from the environment when a publish runs, and the refresh stamp.

Its variables are listed, with their defaults, in the README's Configuration tables (the one list).

PostgreSQL publishing is off when neither PSW_PG_DSN nor PGHOST is set: the asset says so and
is skipped, so a fresh clone runs without a database server.
"""

from __future__ import annotations

import os
import subprocess
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from orchestration.settings import PROJECT_ROOT, Environment, read_environment

SERVING_FILE_NAME = "warehouse_serving.duckdb"
DEFAULT_READONLY_ROLE = "psw_reader"
# Test hook: PSW_SERVING_FAILPOINT=<stage> makes a publish stop at that stage (see failpoint()).
FAILPOINT_ENV = "PSW_SERVING_FAILPOINT"
FAILPOINT_FILE_ENV = "PSW_SERVING_FAILPOINT_FILE"


@dataclass(frozen=True)
class ServingConfig:
    serving_dir: Path
    pg_dsn: str | None
    pg_readonly_role: str
    pg_readonly_password: str | None

    @property
    def serving_file(self) -> Path:
        return self.serving_dir / SERVING_FILE_NAME

    @property
    def parquet_dir(self) -> Path:
        return self.serving_dir / "parquet"

    @property
    def postgres_configured(self) -> bool:
        return self.pg_dsn is not None


def serving_dir(e: Environment, warehouse_path: str | Path) -> Path:
    """The serving folder: PSW_SERVING_DIR, else ``serving/`` beside the warehouse."""
    return e.resolve(e.serving_dir, Path(warehouse_path).parent / "serving")


def load_serving_config(warehouse_path: str | Path, env: Mapping[str, str] | None = None) -> ServingConfig:
    """Settings for one publish. The serving folder defaults to ``serving/`` beside the warehouse,
    so a warehouse in a temporary folder (tests) publishes into that folder too."""
    e = read_environment(env)
    dsn = e.pg_dsn
    if dsn is None and e.libpq_host:
        dsn = ""  # libpq reads PGHOST, PGPORT, PGUSER, PGDATABASE, PGPASSWORD itself
    return ServingConfig(
        serving_dir=serving_dir(e, warehouse_path),
        pg_dsn=dsn,
        pg_readonly_role=e.pg_readonly_role,
        pg_readonly_password=e.pg_readonly_password,
    )


@dataclass(frozen=True)
class RefreshStamp:
    """What every published copy carries, so a reader can tell which refresh it is reading."""

    refresh_id: str
    refreshed_at: datetime
    git_revision: str

    @classmethod
    def new(cls, run_id: str | None = None) -> RefreshStamp:
        now = datetime.now(UTC)
        suffix = (run_id or uuid.uuid4().hex)[:8]
        return cls(f"{now:%Y%m%dT%H%M%SZ}-{suffix}", now, git_revision())


def git_revision(root: Path = PROJECT_ROOT) -> str:
    """``git rev-parse HEAD`` of the project, or "unknown" outside a git checkout."""
    try:
        done = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True, timeout=10, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    revision = done.stdout.strip()
    return revision if done.returncode == 0 and revision else "unknown"


def failpoint(stage: str) -> None:
    """Test hook: when PSW_SERVING_FAILPOINT names this stage, write the marker file named by
    PSW_SERVING_FAILPOINT_FILE and wait there, so a test can kill the publish mid-way."""
    e = read_environment()
    if e.serving_failpoint != stage:
        return
    marker = e.serving_failpoint_file
    if marker:
        Path(marker).write_text(f"{os.getpid()} {stage}\n")
    while True:  # until killed
        time.sleep(1)
