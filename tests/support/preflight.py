"""Before any test: provide the two outside parts the suite needs, or stop naming what to install.

- A PostgreSQL server on 127.0.0.1:5432 (publishing, the read-only role, the PostgreSQL engine).
  Up already: nothing to do. Down with a Debian cluster configured: it is started. No cluster but
  the server binaries installed: a throwaway cluster is made under ``.tools/pgdata`` (trust
  authentication, loopback only) and started. Neither: stop with the command that installs it.
- Headless Chromium at /usr/bin/chromium (the report's and the BI workspace's browser tests).
  Missing, as root with apt-get: installed from Debian's packages. Otherwise: stop, naming it.

``make test`` runs this first, so a fresh machine either gets what it needs or hears at once,
before a forty-minute suite, what is missing. Run it alone: ``python -m tests.support.preflight``.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

PG_PORT = 5432
CHROMIUM = Path("/usr/bin/chromium")
PROJECT_ROOT = Path(__file__).resolve().parents[2]
THROWAWAY = PROJECT_ROOT / ".tools" / "pgdata"


class Missing(RuntimeError):
    """Something the suite needs that this script cannot provide; the message says how to."""


def dsn(port: int = PG_PORT, dbname: str = "postgres") -> str:
    return f"host=127.0.0.1 port={port} user=postgres dbname={dbname} connect_timeout=3"


def postgres_up(port: int = PG_PORT) -> bool:
    import psycopg

    try:
        with psycopg.connect(dsn(port)):
            return True
    except psycopg.OperationalError:
        return False


def _wait_for_postgres(port: int = PG_PORT, seconds: float = 30) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if postgres_up(port):
            return True
        time.sleep(0.5)
    return False


def _run(command: list[str], **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(command, capture_output=True, text=True, **kwargs)


def start_debian_cluster() -> str | None:
    """Start the machine's configured cluster (as ``pg_ctlcluster`` does), if there is one."""
    versions = sorted(os.listdir("/etc/postgresql")) if os.path.isdir("/etc/postgresql") else []
    if not versions or not shutil.which("pg_ctlcluster"):
        return None
    done = _run(["pg_ctlcluster", "--skip-systemctl-redirect", versions[-1], "main", "start"])
    return f"started the PostgreSQL {versions[-1]} cluster" if _wait_for_postgres() else done.stderr.strip()


def start_throwaway_cluster(data_dir: Path = THROWAWAY, port: int = PG_PORT) -> str | None:
    """A cluster of its own under .tools/pgdata, from the installed server binaries, if any."""
    binaries = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not binaries:
        return None
    bindir = Path(binaries[-1]).parent
    as_user: list[str] = []
    if os.geteuid() == 0:  # the server refuses to run as root: run it as the postgres user
        as_user = ["runuser", "-u", "postgres", "--"]
        data_dir.mkdir(parents=True, exist_ok=True)
        shutil.chown(data_dir, "postgres")
    if not (data_dir / "PG_VERSION").exists():
        done = _run([*as_user, str(bindir / "initdb"), "-D", str(data_dir), "-U", "postgres", "-A", "trust"])
        if done.returncode:
            return done.stderr.strip()
    options = f"-c listen_addresses=127.0.0.1 -c port={port} -k /tmp"
    log = data_dir / "server.log"
    _run([*as_user, str(bindir / "pg_ctl"), "-D", str(data_dir), "-o", options, "-l", str(log), "-w", "start"])
    if not _wait_for_postgres(port):
        return f"the throwaway cluster did not start: see {log}"
    import psycopg

    with psycopg.connect(dsn(port), autocommit=True) as admin:
        if not admin.execute("SELECT 1 FROM pg_database WHERE datname = 'test'").fetchone():
            admin.execute("CREATE DATABASE test")
    return f"started a throwaway PostgreSQL cluster in {data_dir} (stop it: pg_ctl -D {data_dir} stop)"


def ensure_postgres() -> str:
    if postgres_up():
        return "PostgreSQL: up on 127.0.0.1:5432"
    for start in (start_debian_cluster, start_throwaway_cluster):
        said = start()
        if said and postgres_up():
            return f"PostgreSQL: {said}"
    raise Missing(
        "PostgreSQL: no server answers on 127.0.0.1:5432 and none could be started here.\n"
        "  Install the server (Debian/Ubuntu: sudo apt-get install -y postgresql) and run make test again:\n"
        "  it starts the cluster, or makes a throwaway one under .tools/pgdata."
    )


def ensure_chromium() -> str:
    if CHROMIUM.exists():
        return f"Chromium: {CHROMIUM}"
    if os.geteuid() == 0 and shutil.which("apt-get"):
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        _run(["apt-get", "update", "-qq"], env=env)
        done = _run(["apt-get", "install", "-y", "-qq", "chromium"], env=env)
        if CHROMIUM.exists():
            return "Chromium: installed from Debian's packages"
        raise Missing(f"Chromium: apt-get install chromium failed:\n  {done.stderr.strip()[-400:]}")
    raise Missing(
        "Chromium: /usr/bin/chromium is missing (the browser tests drive it headless).\n"
        "  Install it (Debian/Ubuntu: sudo apt-get install -y chromium) and run make test again."
    )


def main() -> int:
    problems = []
    for ensure in (ensure_postgres, ensure_chromium):
        try:
            print(f"preflight: {ensure()}")
        except Missing as exc:
            problems.append(str(exc))
    for problem in problems:
        print(f"preflight: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
