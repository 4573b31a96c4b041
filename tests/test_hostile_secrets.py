"""No secret is ever written to disk (issue 16): the pipeline runs with a webhook token, a
PostgreSQL password in the DSN and a read-only role password, then every file it wrote (dbt's
target folder, the warehouse folder, DAGSTER_HOME, data docs, report and serving folders) is
searched for them. Real PostgreSQL on 127.0.0.1:5432."""

from __future__ import annotations

from pathlib import Path

from orchestration.settings import DBT_PROJECT_DIR

from .conftest import make_settings, run_pipeline
from .test_serving_support import scratch_postgres

SECRETS = {
    "PSW_ALERT_WEBHOOK_TOKEN": "webhook-token-7f3a9c1e5b",
    "pg_password": "pg-password-2d8e4b6a0c",
    "PSW_PG_READONLY_PASSWORD": "reader-password-9b1d3f5e7a",
}


def files_under(*folders: Path) -> list[Path]:
    return [p for folder in folders if folder.exists() for p in folder.rglob("*") if p.is_file() and not p.is_symlink()]


def test_no_secret_reaches_any_file_the_pipeline_writes(tmp_path, monkeypatch):
    from orchestration.demo_city.generator import generate
    from orchestration.transform.project import dbt_project

    settings = make_settings(tmp_path, scale=0.1)
    generate(settings.demo_dir, settings.demo_scale, settings.demo_seed, progress=lambda _m: None)
    target = DBT_PROJECT_DIR / "target"
    with scratch_postgres() as pg:
        user = pg.dsn.split("user=")[1].split()[0]
        # trust authentication: the server ignores the password, the project must not write it
        dsn = f"postgresql://{user}:{SECRETS['pg_password']}@127.0.0.1:5432/{pg.database}"
        env = {
            "PSW_PG_DSN": dsn,
            "PSW_PG_READONLY_ROLE": pg.role,
            "PSW_PG_READONLY_PASSWORD": SECRETS["PSW_PG_READONLY_PASSWORD"],
            "PSW_ALERT_WEBHOOK_URL": "http://127.0.0.1:9/nobody-listens",
            "PSW_ALERT_WEBHOOK_TOKEN": SECRETS["PSW_ALERT_WEBHOOK_TOKEN"],
            "PSW_WAREHOUSE": str(settings.warehouse_path),
            "DAGSTER_HOME": str(settings.dagster_home),
        }
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        dbt_project.preparer.prepare(dbt_project)  # dbt parse, as `make run` does, with the secrets set
        result = run_pipeline(settings)
        assert result.success, [e.message for e in result.all_events if e.is_failure]
        import psycopg

        with psycopg.connect(pg.dsn) as check:  # the secrets were really used: PostgreSQL was published
            assert (
                check.execute("SELECT count(*) FROM information_schema.tables WHERE table_schema = 'marts'").fetchone()[
                    0
                ]
                > 0
            )
    written = files_under(target, tmp_path)
    assert {"manifest.json", "partial_parse.msgpack"} <= {p.name for p in written}
    assert any(p.suffix == ".parquet" for p in written) and any(p.name.endswith(".duckdb") for p in written)
    leaks = []
    for path in written:
        data = path.read_bytes()
        for name, secret in SECRETS.items():
            if secret.encode() in data:
                leaks.append(f"{name} in {path}")
    assert leaks == []
