"""`make test` provides what the suite needs from outside Python, or stops at once naming it."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile

import psycopg
import pytest

from orchestration.settings import PROJECT_ROOT
from tests.support import preflight


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_a_throwaway_postgres_cluster_is_made_and_started_from_the_installed_binaries():
    """The route a machine with the server binaries but no running cluster takes (here on a free
    port, beside the machine's own server)."""
    assert preflight.glob.glob("/usr/lib/postgresql/*/bin/initdb"), "the PostgreSQL server binaries are needed"
    port = free_port()
    assert not preflight.postgres_up(port)
    scratch = preflight.Path(tempfile.mkdtemp(prefix="psw-preflight-"))
    scratch.chmod(0o755)  # the server runs as the postgres user when the tests run as root
    data_dir = scratch / "pgdata"
    try:
        said = preflight.start_throwaway_cluster(data_dir, port)
        assert preflight.postgres_up(port), said
        assert said.startswith("started a throwaway PostgreSQL cluster"), said
        with psycopg.connect(preflight.dsn(port, "test")) as con:  # the database the tests use
            assert con.execute("SELECT current_setting('listen_addresses')").fetchone()[0] == "127.0.0.1"
    finally:
        as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        pg_ctl = preflight.Path(preflight.glob.glob("/usr/lib/postgresql/*/bin/pg_ctl")[-1])
        subprocess.run([*as_user, str(pg_ctl), "-D", str(data_dir), "-m", "immediate", "stop"], capture_output=True)
        shutil.rmtree(scratch, ignore_errors=True)
    assert not preflight.postgres_up(port)


def test_without_chromium_and_without_root_it_stops_naming_the_package(monkeypatch, tmp_path):
    monkeypatch.setattr(preflight, "CHROMIUM", tmp_path / "no-chromium")
    monkeypatch.setattr(preflight.os, "geteuid", lambda: 1000)
    with pytest.raises(preflight.Missing, match="apt-get install -y chromium"):
        preflight.ensure_chromium()


def test_the_preflight_passes_on_this_machine_and_says_what_it_found():
    done = subprocess.run(
        [sys.executable, "-m", "tests.support.preflight"], cwd=PROJECT_ROOT, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert "PostgreSQL: up on 127.0.0.1:5432" in done.stdout and "Chromium: /usr/bin/chromium" in done.stdout
