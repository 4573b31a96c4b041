"""Start the BI workspace (`make bi`): Apache Superset on loopback, opened on the marts published to
PostgreSQL as the read-only role (or, without PostgreSQL, on the serving DuckDB file opened
read-only), with the starter dashboard imported from its export bundle.

    python -m orchestration.bi.workspace            # set up (idempotent), then serve
    python -m orchestration.bi.workspace --no-serve # set up only (the browser test serves it itself)

Superset lives in its own environment (.tools/superset: it needs SQLAlchemy 1.4) and keeps its own
metadata (users, charts) in SQLite under PSW_SUPERSET_HOME (default: superset/ beside the
warehouse), with the configuration this module writes there from the settings. The bundle in
orchestration/bi/bundle/ is Superset's own export format; its database file is written at start
with the connection of this machine's publishing settings.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path
from urllib.parse import quote

import psycopg
import yaml

from orchestration.serving.config import SERVING_FILE_NAME, serving_dir
from orchestration.settings import PROJECT_ROOT, Environment, read_environment

BI_DIR = Path(__file__).parent
BUNDLE_DIR = BI_DIR / "bundle"
SUPERSET_ENV = PROJECT_ROOT / ".tools" / "superset"
DASHBOARD_SLUG = "public-safety"
# Superset's configuration, written into its home at each start from the settings (Superset reads
# it as a Python file; nothing else in it reads the environment).
SUPERSET_CONFIG = """# Written by orchestration/bi/workspace.py at each start; edits here are overwritten.
SECRET_KEY = {secret_key!r}
SQLALCHEMY_DATABASE_URI = {metadata!r}
WTF_CSRF_ENABLED = True
# nothing is fetched from the network: no telemetry
SCARF_ANALYTICS = False
ROW_LIMIT = 50000
"""


class WorkspaceError(RuntimeError):
    """What stops the workspace, in words a person can act on."""


def superset_executable() -> Path:
    found = SUPERSET_ENV / "bin" / "superset"
    if not found.exists():
        raise WorkspaceError(f"Superset is not installed in {SUPERSET_ENV}: run `make bi` (it installs it first)")
    return found


def warehouse_path(e: Environment) -> Path:
    return e.resolve(e.warehouse, PROJECT_ROOT / "data" / "warehouse.duckdb")


def superset_home(e: Environment) -> Path:
    return e.resolve(e.superset_home, warehouse_path(e).parent / "superset")


def reads_postgres(e: Environment) -> bool:
    """Whether the workspace reads the marts published to PostgreSQL (else the serving DuckDB file)."""
    if e.superset_source == "auto":
        return e.pg_dsn is not None or bool(e.libpq_host)
    return e.superset_source == "postgres"


def postgres_uri(e: Environment) -> str:
    """The read-only role's SQLAlchemy URI for the published marts: the server and database of
    PSW_PG_DSN (or libpq's PGHOST and friends), as a connection to them reports them."""
    if e.pg_dsn is None and not e.libpq_host:
        raise WorkspaceError(
            "PSW_SUPERSET_SOURCE=postgres reads the marts published to PostgreSQL: set PSW_PG_DSN (and "
            "PSW_PG_READONLY_PASSWORD), then `make run` to publish them"
        )
    try:
        with psycopg.connect(e.pg_dsn or "", connect_timeout=10) as con:
            host, port, database = con.info.host, con.info.port, con.info.dbname
    except psycopg.OperationalError as problem:
        raise WorkspaceError(f"cannot reach the PostgreSQL server the marts are published to: {problem}") from None
    password = f":{quote(e.pg_readonly_password, safe='')}" if e.pg_readonly_password else ""
    return f"postgresql+psycopg2://{quote(e.pg_readonly_role, safe='')}{password}@{host}:{port}/{database}"


def duckdb_file(e: Environment) -> Path:
    """The serving DuckDB file the publish writes (never the working warehouse file)."""
    found = serving_dir(e, warehouse_path(e)) / SERVING_FILE_NAME
    if not found.exists():
        raise WorkspaceError(f"no serving DuckDB file at {found}: run `make run` first, it publishes one")
    return found


def connection(e: Environment) -> tuple[str, dict]:
    """The bundle's database connection on this machine: its SQLAlchemy URI and engine parameters.
    The DuckDB file is opened read-only (a read-write open would take its lock from the publish)
    and never installs a DuckDB extension (nothing is downloaded at run time)."""
    if reads_postgres(e):
        return postgres_uri(e), {}
    config = {"autoinstall_known_extensions": False, "autoload_known_extensions": False}
    return f"duckdb:///{duckdb_file(e)}", {"connect_args": {"read_only": True, "config": config}}


def describe(uri: str, e: Environment) -> str:
    if uri.startswith("postgresql"):
        return f"the marts as {e.pg_readonly_role}"
    return "the serving DuckDB file, read-only"


def write_config(e: Environment, home: Path) -> Path:
    config = home / "superset_config.py"
    metadata = "sqlite:///" + str(home / "superset.db")
    config.write_text(SUPERSET_CONFIG.format(secret_key=e.superset_secret_key, metadata=metadata))
    config.chmod(0o600)  # it holds the secret key
    return config


def process_env(e: Environment, home: Path) -> dict[str, str]:
    """Superset's processes: the caller's environment, with Superset's home and configuration."""
    return {
        **os.environ,
        "SUPERSET_HOME": str(home),
        "SUPERSET_CONFIG_PATH": str(home / "superset_config.py"),
        "FLASK_APP": "superset",
    }


def bundle_zip(uri: str, engine_params: dict, into: Path) -> Path:
    """The export bundle as Superset imports it (one folder in a zip), with this machine's connection."""
    target = into / "psw_dashboard.zip"
    with zipfile.ZipFile(target, "w") as archive:
        for path in sorted(BUNDLE_DIR.rglob("*.yaml")):
            text = path.read_text()
            if path.parent.name == "databases":
                database = yaml.safe_load(text)
                database["sqlalchemy_uri"] = uri
                database["extra"]["engine_params"] = engine_params
                text = yaml.safe_dump(database, sort_keys=False)
            elif path.parent.parent.name == "datasets":
                # a dataset exported with its catalog (PostgreSQL's database) would query the
                # database it was exported from: it reads the connection's own database instead
                dataset = yaml.safe_load(text)
                dataset["catalog"] = None
                text = yaml.safe_dump(dataset, sort_keys=False)
            archive.writestr(f"psw_dashboard/{path.relative_to(BUNDLE_DIR)}", text)
    return target


def _superset(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    done = subprocess.run([str(superset_executable()), *args], env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise WorkspaceError(f"`superset {' '.join(args[:2])}` failed:\n{(done.stdout + done.stderr)[-3000:]}")
    return done


def prepare(e: Environment, say=print) -> Path:
    """Superset's metadata upgraded, the admin user, roles and permissions, and the starter
    dashboard imported with this machine's connection. Safe to run again."""
    uri, engine_params = connection(e)
    home = superset_home(e)
    home.mkdir(parents=True, exist_ok=True)
    write_config(e, home)
    env = process_env(e, home)
    say(f"superset: metadata in {home}")
    _superset(env, "db", "upgrade")
    admin = e.superset_admin_user
    found = _superset(env, "fab", "list-users").stdout
    if f"username:{admin}" not in found.replace(" ", ""):
        _superset(
            env,
            "fab",
            "create-admin",
            "--username",
            admin,
            "--firstname",
            "Workspace",
            "--lastname",
            "Admin",
            "--email",
            f"{admin}@localhost",
            "--password",
            e.superset_admin_password,
        )
    say("superset: roles and permissions")
    _superset(env, "init")
    with tempfile.TemporaryDirectory() as tmp:
        bundle = bundle_zip(uri, engine_params, Path(tmp))
        _superset(env, "import-dashboards", "--path", str(bundle), "--username", admin)
    say(f"superset: starter dashboard imported ({describe(uri, e)})")
    return home


def serve_command(e: Environment, port: int | None = None) -> list[str]:
    return [str(superset_executable()), "run", "-h", "127.0.0.1", "-p", str(port or e.superset_port), "--with-threads"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-serve", action="store_true", help="set up only")
    args = parser.parse_args(argv)
    e = read_environment()
    try:
        home = prepare(e)
    except WorkspaceError as problem:
        print(f"make bi: {problem}", file=sys.stderr)
        return 2
    if args.no_serve:
        return 0
    url = f"http://127.0.0.1:{e.superset_port}/superset/dashboard/{DASHBOARD_SLUG}/"
    print(f"superset: {url}  (user {e.superset_admin_user}; the local default password is documented in the README)")
    os.execvpe(serve_command(e)[0], serve_command(e), process_env(e, home))
    return 0  # not reached


if __name__ == "__main__":
    sys.exit(main())
