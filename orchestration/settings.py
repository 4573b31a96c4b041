"""Every setting of the project, read from the environment in one place (``read_environment``).

``Environment`` is the one typed list of the variables (its fields name them; the README's
Configuration tables describe them, and a test keeps the two lists equal). Nothing else in the
project reads ``os.environ``: each part takes the values it needs from an ``Environment``, which
is validated as a whole, so a bad value stops the definitions from loading with the variable
named (``PSW_DEMO_SCALE='big': Input should be a valid number``) instead of failing mid-run.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, model_validator

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DBT_PROJECT_DIR = PROJECT_ROOT / "dbt_project"

YES = ("1", "true", "yes", "on")
NO = ("0", "false", "no", "off")


class ConfigError(ValueError):
    """A setting that cannot be used, naming its environment variable."""


def _yes_no(value: object) -> bool:
    """The one reading of a yes/no setting: ``1 true yes on`` or ``0 false no off`` (any case)."""
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in YES:
        return True
    if text in NO:
        return False
    raise ValueError(f"must be one of {', '.join(YES)} (yes) or {', '.join(NO)} (no)")


def _time_zone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError("is not an IANA time zone name") from exc
    return value


YesNo = Annotated[bool, BeforeValidator(_yes_no)]
TimeZone = Annotated[str, BeforeValidator(_time_zone)]
Positive = Annotated[float, Field(gt=0)]


def _var(name: str, default=None, **kwargs):
    return Field(default, alias=name, **kwargs)


class Environment(BaseModel):
    """The project's environment variables, typed. An unset or empty variable takes its default.

    A plain pydantic model validated from a mapping (the process's environment, or a test's own
    dict), so a test's settings never pick up a value from the process around it."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    # where things are
    warehouse: str | None = _var("PSW_WAREHOUSE")
    landing_dir: str | None = _var("PSW_LANDING_DIR")
    profiles_dir: str | None = _var("PSW_PROFILES_DIR")
    dagster_home: str | None = _var("DAGSTER_HOME")
    rejected_dir: str | None = _var("PSW_REJECTED_DIR")
    serving_dir: str | None = _var("PSW_SERVING_DIR")
    report_dir: str | None = _var("PSW_REPORT_DIR")
    data_docs_dir: str | None = _var("PSW_DATA_DOCS_DIR")
    spark_raw_dir: str | None = _var("PSW_SPARK_RAW_DIR")
    spark_warehouse_dir: str | None = _var("PSW_SPARK_WAREHOUSE_DIR")
    # the demo city
    demo_scale: Positive = _var("PSW_DEMO_SCALE", 1.0)
    demo_seed: int = _var("PSW_DEMO_SEED", 20250101)
    # landing, build and gates
    dbt_target: Literal["duckdb", "postgres", "spark"] = _var("PSW_DBT_TARGET", "duckdb")
    landing_workers: int | None = _var("PSW_LANDING_WORKERS", None, ge=1)
    landing_memory_limit: str = _var("PSW_LANDING_MEMORY_LIMIT", "1GB")
    landing_max_line_bytes: int = _var("PSW_LANDING_MAX_LINE_BYTES", 2_000_000, ge=1024)
    gates_full: YesNo = _var("PSW_GATES_FULL", False)
    refresh_lock_wait_seconds: float | None = _var("PSW_REFRESH_LOCK_WAIT_SECONDS", None, ge=0)
    # the PostgreSQL engine target (dbt's profile reads the same variables)
    pg_host: str = _var("PSW_PG_HOST", "127.0.0.1")
    pg_port: int = _var("PSW_PG_PORT", 5432)
    pg_user: str = _var("PSW_PG_USER", "postgres")
    pg_password: str | None = _var("PSW_PG_PASSWORD")
    pg_database: str = _var("PSW_PG_DATABASE", "test")
    # publishing
    pg_dsn: str | None = _var("PSW_PG_DSN")
    libpq_host: str | None = _var("PGHOST")
    pg_readonly_role: str = _var("PSW_PG_READONLY_ROLE", "psw_reader")
    pg_readonly_password: str | None = _var("PSW_PG_READONLY_PASSWORD")
    serving_failpoint: str | None = _var("PSW_SERVING_FAILPOINT")
    serving_failpoint_file: str | None = _var("PSW_SERVING_FAILPOINT_FILE")
    # automation
    refresh_cron: str = _var("PSW_REFRESH_CRON", "0 5 * * *")
    refresh_timezone: TimeZone = _var("PSW_REFRESH_TIMEZONE", "America/Chicago")
    automation_default: Literal["running", "stopped"] = _var("PSW_AUTOMATION_DEFAULT", "running")
    landing_sensor_interval: int = _var("PSW_LANDING_SENSOR_INTERVAL", 60, ge=1)
    landing_settle_seconds: float = _var("PSW_LANDING_SETTLE_SECONDS", 30.0, ge=0)
    freshness_warn_hours: Positive = _var("PSW_FRESHNESS_WARN_HOURS", 26.0)
    freshness_fail_hours: Positive = _var("PSW_FRESHNESS_FAIL_HOURS", 48.0)
    # alerts
    alert_webhook_url: str | None = _var("PSW_ALERT_WEBHOOK_URL")
    alert_webhook_token: str | None = _var("PSW_ALERT_WEBHOOK_TOKEN")
    alert_slack_webhook_url: str | None = _var("PSW_ALERT_SLACK_WEBHOOK_URL")
    alert_smtp_host: str | None = _var("PSW_ALERT_SMTP_HOST")
    alert_smtp_port: int = _var("PSW_ALERT_SMTP_PORT", 25)
    alert_smtp_from: str = _var("PSW_ALERT_SMTP_FROM", "psw-alerts@localhost")
    alert_smtp_to: str = _var("PSW_ALERT_SMTP_TO", "")
    alert_smtp_user: str | None = _var("PSW_ALERT_SMTP_USER")
    alert_smtp_password: str | None = _var("PSW_ALERT_SMTP_PASSWORD")
    alert_smtp_starttls: YesNo = _var("PSW_ALERT_SMTP_STARTTLS", False)
    alert_smtp_ssl: YesNo = _var("PSW_ALERT_SMTP_SSL", False)
    alert_on_warn: YesNo = _var("PSW_ALERT_ON_WARN", False)
    dagster_base_url: str = _var("PSW_DAGSTER_BASE_URL", "http://127.0.0.1:3000")
    alert_timeout_seconds: Positive = _var("PSW_ALERT_TIMEOUT_SECONDS", 10.0)
    # the BI workspace (make bi): local use on loopback; the defaults are for one person's machine
    superset_port: int = _var("PSW_SUPERSET_PORT", 8088, ge=1, le=65535)
    superset_admin_user: str = _var("PSW_SUPERSET_ADMIN_USER", "admin")
    superset_admin_password: str = _var("PSW_SUPERSET_ADMIN_PASSWORD", "admin")
    superset_secret_key: str = _var("PSW_SUPERSET_SECRET_KEY", "psw-local-workspace-only-not-a-secret")
    superset_home: str | None = _var("PSW_SUPERSET_HOME")
    # what the workspace reads: PostgreSQL's published marts, or the serving DuckDB file read-only
    # (auto: PostgreSQL when publishing to it is configured, else the DuckDB file)
    superset_source: Literal["auto", "postgres", "duckdb"] = _var("PSW_SUPERSET_SOURCE", "auto")
    # set by `dagster dev` itself: the dbt manifest is parsed again when the code loads
    dagster_dev: YesNo = _var("DAGSTER_IS_DEV_CLI", False)
    # secrets a source profile names by variable (a Socrata app token): kept by name, never logged
    named: dict[str, str] = Field(default_factory=dict, exclude=True, repr=False)

    @model_validator(mode="after")
    def _windows_in_order(self) -> Environment:
        if not self.freshness_warn_hours < self.freshness_fail_hours:
            raise ValueError(
                f"PSW_FRESHNESS_WARN_HOURS ({self.freshness_warn_hours:g}) must be below "
                f"PSW_FRESHNESS_FAIL_HOURS ({self.freshness_fail_hours:g})"
            )
        return self

    def value(self, name: str) -> str | None:
        """A variable a source profile names (``app_token_env``), or None when unset."""
        return self.named.get(name)

    def resolve(self, value: str | None, default: Path) -> Path:
        """A path setting: as given when absolute, else from the project root; ``default`` when unset."""
        path = Path(value) if value else default
        return path if path.is_absolute() else (PROJECT_ROOT / path).resolve()

    def spark_raw_path(self) -> Path:
        """Where ``PSW_DBT_TARGET=spark`` writes the raw tables as Parquet."""
        return self.resolve(self.spark_raw_dir, PROJECT_ROOT / "data" / "spark_raw")

    def spark_warehouse_path(self) -> Path:
        """The Spark session's warehouse folder (its managed tables, and its Derby metastore)."""
        return self.resolve(self.spark_warehouse_dir, PROJECT_ROOT / "data" / "spark-warehouse")


def read_environment(env: Mapping[str, str] | None = None) -> Environment:
    """The settings from ``env`` (the process's environment when None): the one place that reads
    it. Empty values count as unset; a value that cannot be used raises ``ConfigError`` naming it."""
    source = os.environ if env is None else env
    values = {k: v.strip() for k, v in source.items() if isinstance(v, str) and v.strip()}
    try:
        return Environment.model_validate({**values, "named": values})
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            name = str(error["loc"][0]) if error["loc"] else ""
            message = str(error["msg"]).removeprefix("Value error, ")
            problems.append(f"{name}={values.get(name)!r}: {message}" if name else message)
        raise ConfigError("; ".join(problems)) from None


@dataclass(frozen=True)
class Settings:
    """Where this warehouse's files are, and the rest of its environment (``env``)."""

    warehouse_path: Path
    landing_dir: Path
    profiles_dir: Path
    dagster_home: Path
    demo_scale: float
    demo_seed: int
    env: Environment = field(default_factory=read_environment, compare=False, repr=False)

    @property
    def demo_dir(self) -> Path:
        return self.landing_dir / "demo_city"

    @property
    def rejected_dir(self) -> Path:
        """Where ``batches drop`` moves a dropped batch's file (beside the landing folder, so no
        profile pattern can match it again): ``PSW_REJECTED_DIR``, else ``<landing>/../rejected``."""
        return self.env.resolve(self.env.rejected_dir, self.landing_dir.parent / "rejected")


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    """Settings from the environment; relative paths are taken from the project root."""
    e = read_environment(env)
    return Settings(
        warehouse_path=e.resolve(e.warehouse, PROJECT_ROOT / "data" / "warehouse.duckdb"),
        landing_dir=e.resolve(e.landing_dir, PROJECT_ROOT / "data" / "landing"),
        profiles_dir=e.resolve(e.profiles_dir, PROJECT_ROOT / "orchestration" / "source_profiles"),
        dagster_home=e.resolve(e.dagster_home, PROJECT_ROOT / ".dagster_home"),
        demo_scale=e.demo_scale,
        demo_seed=e.demo_seed,
        env=e,
    )


def prepare_process(settings: Settings) -> None:
    """For a process that runs the job itself (the CLI): its Dagster home (``DAGSTER_HOME``, with
    a ``dagster.yaml``) and the warehouse's folder. Loading the definitions writes nothing."""
    from orchestration.instance import ensure_dagster_yaml

    os.environ["DAGSTER_HOME"] = str(settings.dagster_home)
    ensure_dagster_yaml(settings.dagster_home)
    settings.warehouse_path.parent.mkdir(parents=True, exist_ok=True)


@contextmanager
def dbt_environment(warehouse_path: str | Path) -> Iterator[None]:
    """While a dbt subprocess is started: ``PSW_WAREHOUSE`` names this run's warehouse (dbt's
    profile reads it; dagster-dbt hands the subprocess a copy of the environment when it starts
    it). The earlier value is put back after, so the process's environment is left as it was."""
    e = read_environment()
    values = {
        "PSW_WAREHOUSE": str(Path(warehouse_path).resolve()),
        # Spark's folders as absolute paths: dbt runs in dbt_project/, the settings resolve from the root.
        "PSW_SPARK_RAW_DIR": str(e.spark_raw_path()),
        "PSW_SPARK_WAREHOUSE_DIR": str(e.spark_warehouse_path()),
    }
    before = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in before.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
