"""Every promise of the README's configuration tables is kept, and each variable there is read by
the code and exercised by a test; the demo city's promises (size at scale 1.0, same seed, same
city) hold."""

from __future__ import annotations

import filecmp
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from orchestration.settings import PROJECT_ROOT, load_settings

README = PROJECT_ROOT / "README.md"
VARIABLE = re.compile(r"^\| `((?:PSW|DAGSTER)_[A-Z0-9_]+)`(?:, `((?:PSW|DAGSTER)_[A-Z0-9_]+)`)*")


def readme_variables() -> set[str]:
    """The variables the README's tables document (a row may name several)."""
    names = set()
    for line in README.read_text().splitlines():
        if VARIABLE.match(line):
            names |= set(re.findall(r"`((?:PSW|DAGSTER)_[A-Z0-9_]+)`", line.split("|")[1]))
    return names


def mentioned_in(folder: Path, name: str, suffixes: tuple[str, ...]) -> list[Path]:
    """Source files (not build output) under ``folder`` that name ``name``."""
    return [
        p
        for p in folder.rglob("*")
        if p.is_file() and p.suffix in suffixes and "target" not in p.parts and name in p.read_text(errors="ignore")
    ]


def set_in(folder: Path, name: str) -> list[Path]:
    """Test files that give ``name`` a value: a key of an environment mapping (``"NAME": value``),
    ``setenv("NAME", value)`` or ``env["NAME"] = value``; a file that only reads or names the
    variable does not exercise it."""
    setting = re.compile(rf"[\"']{name}[\"']\s*(?::|,|\]\s*=[^=])")
    return [p for p in folder.rglob("*.py") if setting.search(p.read_text(errors="ignore"))]


def test_every_documented_variable_is_read_by_the_code_and_exercised_by_a_test():
    variables = readme_variables()
    assert {"PSW_WAREHOUSE", "PSW_ALERT_SMTP_USER", "PSW_DUCKDB_MEMORY_LIMIT"} <= variables
    unread, untested = [], []
    for name in sorted(variables):
        code = mentioned_in(PROJECT_ROOT / "orchestration", name, (".py",))
        code += mentioned_in(PROJECT_ROOT / "dbt_project", name, (".yml", ".sql"))
        if name == "DAGSTER_HOME":  # read by Dagster itself
            code = code or [Path("dagster")]
        tests = set_in(PROJECT_ROOT / "tests", name)
        if not code:
            unread.append(name)
        if not tests:
            untested.append(name)
    assert unread == [], "documented but read nowhere"
    assert untested == [], "documented but no test sets it"


def test_every_variable_the_code_reads_is_in_the_readme():
    """The README's tables are the one list: nothing is configurable that they do not name."""
    named = re.compile(r"[\"'](PSW_[A-Z0-9_]+)[\"']|env_var\('(PSW_[A-Z0-9_]+)'")
    read = set()
    for folder, suffixes in ((PROJECT_ROOT / "orchestration", (".py",)), (PROJECT_ROOT / "dbt_project", (".yml",))):
        for path in folder.rglob("*"):
            if path.is_file() and path.suffix in suffixes and "target" not in path.parts:
                read |= {a or b for a, b in named.findall(path.read_text())}
    assert len(read) > 30
    assert sorted(read - readme_variables()) == []


def test_paths_from_the_environment_are_taken_from_the_project_root_or_as_given(tmp_path):
    env = {
        "PSW_WAREHOUSE": str(tmp_path / "w" / "warehouse.duckdb"),
        "PSW_LANDING_DIR": "some/landing",
        "PSW_PROFILES_DIR": str(tmp_path / "profiles"),
        "PSW_DEMO_SCALE": "0.25",
        "PSW_DEMO_SEED": "7",
    }
    settings = load_settings(env)
    assert settings.warehouse_path == tmp_path / "w" / "warehouse.duckdb"
    assert settings.landing_dir == PROJECT_ROOT / "some" / "landing"
    assert settings.profiles_dir == tmp_path / "profiles"
    assert (settings.demo_scale, settings.demo_seed) == (0.25, 7)
    defaults = load_settings({})
    assert defaults.warehouse_path == PROJECT_ROOT / "data" / "warehouse.duckdb"
    assert defaults.landing_dir == PROJECT_ROOT / "data" / "landing"
    assert defaults.profiles_dir == PROJECT_ROOT / "orchestration" / "source_profiles"
    assert (defaults.demo_scale, defaults.demo_seed) == (1.0, 20250101)


def test_rejected_and_report_folders_follow_the_environment(tmp_path, monkeypatch):
    from orchestration.report.config import load_report_config

    settings = load_settings({"PSW_LANDING_DIR": str(tmp_path / "landing")})
    assert settings.rejected_dir == tmp_path / "rejected"  # beside the landing folder by default
    settings = load_settings({"PSW_LANDING_DIR": str(tmp_path / "landing"), "PSW_REJECTED_DIR": "elsewhere"})
    assert settings.rejected_dir == PROJECT_ROOT / "elsewhere"
    # read once: the settings a process was given do not change under it
    monkeypatch.setenv("PSW_REJECTED_DIR", str(tmp_path / "later"))
    assert settings.rejected_dir == PROJECT_ROOT / "elsewhere"
    report = load_report_config(tmp_path / "w.duckdb", {"PSW_REPORT_DIR": str(tmp_path / "site")})
    assert report.report_dir == tmp_path / "site"
    assert load_report_config(tmp_path / "w.duckdb", {}).report_dir == tmp_path / "report"


def _landing_constants(env: dict[str, str]) -> dict:
    code = (
        "import json, os; from orchestration.landing import loader as l; "
        "print(json.dumps({'workers': l.LANDING_WORKERS, 'memory': l.LANDING_MEMORY_LIMIT, 'cores': os.cpu_count()}))"
    )
    clean = {k: v for k, v in os.environ.items() if not k.startswith("PSW_LANDING")}
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=PROJECT_ROOT, env={**clean, **env}, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_landing_workers_default_to_the_cores_at_most_four_and_follow_the_environment():
    default = _landing_constants({})
    assert default["workers"] == min(default["cores"], 4)
    assert _landing_constants({"PSW_LANDING_WORKERS": "3", "PSW_LANDING_MEMORY_LIMIT": "256MB"}) == {
        "workers": 3,
        "memory": "256MB",
        "cores": default["cores"],
    }


def test_the_dbt_build_takes_its_memory_limit_from_the_environment(tmp_path):
    """dbt's DuckDB session is capped at PSW_DUCKDB_MEMORY_LIMIT (1500MB unless set)."""
    from orchestration.transform.project import dbt_executable

    def limit(extra: dict[str, str]) -> str:
        env = {k: v for k, v in os.environ.items() if k != "PSW_DUCKDB_MEMORY_LIMIT"}
        env.update({"PSW_WAREHOUSE": str(tmp_path / "w.duckdb"), "PSW_DBT_TARGET": "duckdb", **extra})
        done = subprocess.run(
            [
                dbt_executable(),
                "show",
                "--inline",
                "select current_setting('memory_limit') as memory_limit",
                "--project-dir",
                ".",
                "--profiles-dir",
                ".",
                "--target",
                "duckdb",
                "--output",
                "json",
                "--log-format",
                "json",
                "--target-path",
                str(tmp_path / "dbt_target"),
            ],
            cwd=PROJECT_ROOT / "dbt_project",
            env=env,
            capture_output=True,
            text=True,
        )
        assert done.returncode == 0, done.stdout[-2000:]
        return re.search(r'memory_limit\\?": \\?"([^"\\]+)', done.stdout).group(1)

    assert limit({"PSW_DUCKDB_MEMORY_LIMIT": "512MB"}) == "488.2 MiB"  # DuckDB shows 512 MB in MiB
    assert limit({}) == "1.3 GiB"  # 1500 MB (1.397 GiB, shown truncated)


@pytest.fixture(scope="module")
def city_at_scale_one(tmp_path_factory):
    from orchestration.demo_city.generator import generate

    out = tmp_path_factory.mktemp("scale_one")
    return out, generate(out, 1.0, 20250101, progress=lambda _m: None)


def test_the_demo_city_at_scale_one_has_the_sizes_the_readme_gives(city_at_scale_one):
    out, truth = city_at_scale_one
    promised = re.search(
        r"1\.0 = ([\d,]+) calls, ([\d,]+) incidents, ([\d,]+) stops, ([\d,]+) 311 requests", README.read_text()
    )
    calls, incidents, stops, requests = (int(g.replace(",", "")) for g in promised.groups())
    written = {source: sum(files.values()) for source, files in truth["files"].items()}
    assert (written["calls_for_service"], written["incidents"], written["stops"], written["service_requests"]) == (
        calls,
        incidents,
        stops,
        requests,
    )
    lines = sum(sum(1 for _ in p.open()) - 1 for p in (out / "calls_for_service").glob("*.csv"))
    assert lines == calls  # the files hold what the truth says (no quoted line breaks in the demo)


def test_same_seed_same_city_and_another_seed_another(tmp_path):
    from orchestration.demo_city.generator import generate

    quiet = {"progress": lambda _m: None}
    generate(tmp_path / "a", 0.05, 11, **quiet)
    generate(tmp_path / "b", 0.05, 11, **quiet)
    generate(tmp_path / "c", 0.05, 12, **quiet)
    files = sorted(str(p.relative_to(tmp_path / "a")) for p in (tmp_path / "a").rglob("*.csv"))
    assert len(files) > 10
    _, mismatch, errors = filecmp.cmpfiles(tmp_path / "a", tmp_path / "b", files, shallow=False)
    assert mismatch == [] and errors == []
    _, changed, _ = filecmp.cmpfiles(tmp_path / "a", tmp_path / "c", files, shallow=False)
    assert len(changed) >= len(files) // 2


def test_data_docs_folder_and_automation_timings_follow_the_environment(tmp_path):
    from orchestration.automation.config import AutomationConfig, AutomationConfigError
    from orchestration.report.config import load_report_config

    report = load_report_config(tmp_path / "w.duckdb", {"PSW_DATA_DOCS_DIR": str(tmp_path / "docs")})
    assert report.data_docs_dir == tmp_path / "docs"
    config = AutomationConfig.from_env(
        {
            "PSW_LANDING_SENSOR_INTERVAL": "15",
            "PSW_LANDING_SETTLE_SECONDS": "5",
            "PSW_FRESHNESS_WARN_HOURS": "2",
            "PSW_FRESHNESS_FAIL_HOURS": "3",
        }
    )
    assert (config.landing_sensor_interval, config.landing_settle_seconds) == (15, 5.0)
    assert (config.freshness_warn_hours, config.freshness_fail_hours) == (2.0, 3.0)
    with pytest.raises(AutomationConfigError, match="PSW_FRESHNESS_FAIL_HOURS"):
        AutomationConfig.from_env({"PSW_FRESHNESS_WARN_HOURS": "5", "PSW_FRESHNESS_FAIL_HOURS": "4"})


def test_the_postgres_engine_target_connects_where_its_variables_say(tmp_path):
    """PSW_PG_HOST, _PORT, _USER, _PASSWORD and _DATABASE reach dbt's postgres target (this server
    trusts loopback, so the password is passed but not checked; a wrong port fails)."""
    import uuid

    import psycopg

    from orchestration.transform.project import dbt_executable

    role = f"psw_cfg_{uuid.uuid4().hex[:8]}"
    admin_dsn = "host=127.0.0.1 port=5432 user=postgres dbname=postgres"
    with psycopg.connect(admin_dsn, autocommit=True) as admin:
        admin.execute(f"CREATE ROLE {role} LOGIN PASSWORD 'pw'")
    try:

        def show(port: str) -> subprocess.CompletedProcess:
            env = {**os.environ, "PSW_WAREHOUSE": str(tmp_path / "w.duckdb")}
            env.update(
                {
                    "PSW_PG_HOST": "127.0.0.1",
                    "PSW_PG_PORT": port,
                    "PSW_PG_USER": role,
                    "PSW_PG_PASSWORD": "pw",
                    "PSW_PG_DATABASE": "postgres",
                }
            )
            return subprocess.run(
                [
                    dbt_executable(),
                    "show",
                    "--inline",
                    "select current_user as who, current_database() as db",
                    "--project-dir",
                    ".",
                    "--profiles-dir",
                    ".",
                    "--target",
                    "postgres",
                    "--output",
                    "json",
                    "--log-format",
                    "json",
                    "--target-path",
                    str(tmp_path / "dbt_target"),
                ],
                cwd=PROJECT_ROOT / "dbt_project",
                env=env,
                capture_output=True,
                text=True,
            )

        done = show("5432")
        assert done.returncode == 0, done.stdout[-2000:]
        assert re.search(rf'who\\?": \\?"{role}', done.stdout) and re.search(r'db\\?": \\?"postgres', done.stdout)
        assert show("1").returncode != 0  # nothing listens there: the port is used, not a default
    finally:
        with psycopg.connect(admin_dsn, autocommit=True) as admin:
            admin.execute(f"DROP ROLE IF EXISTS {role}")


@pytest.mark.parametrize(
    "value, expected",
    [
        ("1", True),
        ("TRUE", True),
        (" yes ", True),
        ("on", True),
        ("0", False),
        ("false", False),
        ("Off", False),
        ("", False),  # unset
        (None, False),
        ("2", "PSW_ALERT_ON_WARN='2': must be one of"),  # a typo is named, not read as "no"
        ("ture", "PSW_ALERT_ON_WARN='ture'"),
    ],
)
def test_one_reading_of_a_yes_no_setting(value, expected):
    from orchestration.automation.alerts import AlertConfig
    from orchestration.settings import ConfigError

    env = {"PSW_ALERT_ON_WARN": value or ""}
    if isinstance(expected, bool):
        assert AlertConfig.from_env(env).alert_on_warn is expected
    else:
        with pytest.raises(ConfigError, match=re.escape(expected)):
            AlertConfig.from_env(env)


def test_nothing_but_the_settings_module_reads_the_environment():
    """One reader: every other module takes its values from an ``Environment``."""
    readers = []
    for path in sorted((PROJECT_ROOT / "orchestration").rglob("*.py")):
        if path.name == "settings.py" and path.parent.name == "orchestration":
            continue
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if re.search(r"os\.environ\.get|os\.getenv|os\.environ\[[^]]+\](?!\s*=)", line):
                readers.append(f"{path.relative_to(PROJECT_ROOT)}:{number}")
    assert readers == []


def test_every_variable_of_the_readme_is_a_field_of_the_one_settings_object():
    from orchestration.settings import Environment

    fields = {f.alias for f in Environment.model_fields.values() if f.alias}
    # read by dbt's profile itself (dbt_project/profiles.yml), not by Python
    by_dbt = {"PSW_DUCKDB_MEMORY_LIMIT"}
    assert sorted(readme_variables() - fields - by_dbt) == []
    assert sorted(fields - readme_variables() - {"PGHOST", "DAGSTER_IS_DEV_CLI"}) == []


@pytest.mark.parametrize(
    "env, named",
    [
        ({"PSW_DEMO_SCALE": "big"}, "PSW_DEMO_SCALE='big'"),
        ({"PSW_DEMO_SCALE": "-1"}, "PSW_DEMO_SCALE='-1'"),
        ({"PSW_LANDING_WORKERS": "0"}, "PSW_LANDING_WORKERS='0'"),
        ({"PSW_DBT_TARGET": "oracle"}, "PSW_DBT_TARGET='oracle'"),
        ({"PSW_ALERT_SMTP_PORT": "smtp"}, "PSW_ALERT_SMTP_PORT='smtp'"),
        ({"PSW_REFRESH_LOCK_WAIT_SECONDS": "-5"}, "PSW_REFRESH_LOCK_WAIT_SECONDS='-5'"),
    ],
)
def test_a_value_that_cannot_be_used_stops_the_definitions_naming_its_variable(env, named):
    from orchestration.definitions import build_definitions
    from orchestration.settings import ConfigError

    with pytest.raises(ConfigError, match=re.escape(named)):
        build_definitions(load_settings(env))


def test_the_definitions_take_their_settings_from_the_one_object(tmp_path):
    """The resources, the schedule and the sensors are wired from the settings given, not from
    the process's environment read again somewhere else."""
    from orchestration.definitions import build_definitions

    env = {
        "PSW_WAREHOUSE": str(tmp_path / "w.duckdb"),
        "PSW_REFRESH_LOCK_WAIT_SECONDS": "0",
        "PSW_REFRESH_CRON": "15 3 * * 1",
        "PSW_REFRESH_TIMEZONE": "Europe/Berlin",
        "PSW_AUTOMATION_DEFAULT": "stopped",
        "PSW_LANDING_SENSOR_INTERVAL": "17",
    }
    defs = build_definitions(load_settings(env))
    warehouse = defs.resources["warehouse"]
    assert (warehouse.database, warehouse.lock_wait_seconds) == (str(tmp_path / "w.duckdb"), 0.0)
    schedule = defs.resolve_schedule_def("daily_refresh")
    assert (schedule.cron_schedule, schedule.execution_timezone) == ("15 3 * * 1", "Europe/Berlin")
    assert schedule.default_status.value == "STOPPED"
    assert defs.resolve_sensor_def("new_extract_sensor").minimum_interval_seconds == 17
    assert build_definitions(load_settings({})).resources["warehouse"].lock_wait_seconds == 10.0
