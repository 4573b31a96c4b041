"""Publishing the marts to the real PostgreSQL server (127.0.0.1:5432): the read-only role reads
every mart exactly as published, cannot write, cannot read anything outside ``marts``; the swap
is one transaction; a role with more rights, or a ``marts`` schema that is not ours, is refused."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from decimal import Decimal

import duckdb
import psycopg
import pytest
from psycopg import errors

from orchestration.serving import postgres
from orchestration.serving.catalog import load_dbt_descriptions
from orchestration.serving.config import RefreshStamp, load_serving_config
from orchestration.serving.postgres import publish_postgres, readonly_role_problems
from orchestration.serving.serving_copy import open_serving, publish_serving_copy

from .test_serving_support import MART_DESCRIPTIONS, make_marts_warehouse, scratch_postgres, write_manifest


@pytest.fixture
def pg():
    with scratch_postgres() as scratch:
        yield scratch


@pytest.fixture
def setup(tmp_path, pg):
    """A warehouse of test marts at generation 1, its serving copy, and the PostgreSQL settings."""
    warehouse = tmp_path / "warehouse.duckdb"
    config = load_serving_config(warehouse, {"PSW_PG_DSN": pg.dsn, "PSW_PG_READONLY_ROLE": pg.role})
    descriptions = load_dbt_descriptions(write_manifest(tmp_path / "manifest.json"))

    def refresh(generation: int) -> RefreshStamp:
        make_marts_warehouse(warehouse, generation)
        stamp = RefreshStamp.new()
        con = duckdb.connect(str(warehouse))
        try:
            publish_serving_copy(con, config, stamp, descriptions)
        finally:
            con.close()
        return stamp

    return config, refresh


def canonical(value):
    """One comparable form for a value read from DuckDB or from PostgreSQL."""
    if isinstance(value, float):
        return "NaN" if math.isnan(value) else repr(value)
    if isinstance(value, int | Decimal) and not isinstance(value, bool):
        return str(Decimal(value).normalize())
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone(UTC).isoformat()
    return repr(value)


def rows_of(cursor_rows) -> list[tuple]:
    return sorted((tuple(canonical(v) for v in row) for row in cursor_rows), key=repr)


def mart_generation(pg, role=None) -> set[int]:
    with pg.connect(role, autocommit=True) as con:
        return {g for (g,) in con.execute("SELECT DISTINCT generation FROM marts.mart_calls_by_beat").fetchall()}


def test_the_readonly_role_reads_every_mart_exactly_as_published(setup, pg):
    config, refresh = setup
    stamp = refresh(1)
    published = publish_postgres(config)
    assert published.role_created and published.refresh_id == stamp.refresh_id
    served = open_serving(config.serving_file)
    listed = served.execute("SELECT table_name FROM duckdb_tables() WHERE schema_name = 'marts'").fetchall()
    marts = sorted(n for (n,) in listed)
    assert marts == ["mart_calls_by_beat", "mart_generation", "mart_kpi_scorecard"]
    with pg.connect(pg.role, autocommit=True) as reader:
        assert reader.info.parameter_status("session_authorization") == pg.role
        in_postgres = reader.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'marts' ORDER BY 1"
        ).fetchall()
        assert [n for (n,) in in_postgres] == marts
        for name in marts:
            expected = rows_of(served.execute(f"SELECT * FROM marts.{name}").fetchall())
            assert rows_of(reader.execute(f"SELECT * FROM marts.{name}").fetchall()) == expected, name
        # Types a BI tool sees: not everything as text.
        types = dict(
            reader.execute(
                "SELECT column_name, data_type FROM information_schema.columns "
                "WHERE table_schema = 'marts' AND table_name = 'mart_kpi_scorecard'"
            ).fetchall()
        )
        schema_comment = reader.execute("SELECT obj_description('marts'::regnamespace, 'pg_namespace')").fetchone()[0]
    served.close()
    assert types == {
        "kpi": "text",
        "generation": "integer",
        "value": "double precision",
        "target": "numeric",
        "measured_at": "timestamp with time zone",
        "period": "date",
        "on_target": "boolean",
        "samples": "bigint",
        "big": "numeric",
        "tags": "jsonb",
        "raw": "bytea",
        "spent": "interval",
        "status": "text",
    }
    assert stamp.refresh_id in schema_comment


def test_column_comments_are_the_dbt_docs(setup, pg):
    config, refresh = setup
    refresh(1)
    publish_postgres(config)
    with pg.connect(pg.role, autocommit=True) as reader:
        table_doc = reader.execute("SELECT obj_description('marts.mart_calls_by_beat'::regclass, 'pg_class')")
        assert table_doc.fetchone()[0] == MART_DESCRIPTIONS["mart_calls_by_beat"][0]
        columns = dict(
            reader.execute(
                "SELECT a.attname, col_description(a.attrelid, a.attnum) FROM pg_attribute a "
                "WHERE a.attrelid = 'marts.mart_calls_by_beat'::regclass AND a.attnum > 0"
            ).fetchall()
        )
    assert columns == {
        "beat": "Police beat.",
        "calls": "Calls counted, it's a test.",
        "generation": "Which test generation wrote the row.",  # not in dbt: the warehouse's comment
    }


@pytest.mark.parametrize("read_only_default", [True, False])
def test_the_readonly_role_cannot_write_anything(setup, pg, read_only_default):
    config, refresh = setup
    refresh(1)
    publish_postgres(config)
    attempts = [
        "INSERT INTO marts.mart_calls_by_beat VALUES ('B9', 1, 1)",
        "UPDATE marts.mart_calls_by_beat SET calls = 0",
        "DELETE FROM marts.mart_calls_by_beat",
        "TRUNCATE marts.mart_calls_by_beat",
        "DROP TABLE marts.mart_calls_by_beat",
        "ALTER TABLE marts.mart_calls_by_beat ADD COLUMN x int",
        "CREATE TABLE marts.mine (i int)",
        "CREATE TABLE public.mine (i int)",
        "CREATE SCHEMA mine",
        "CREATE VIEW marts.mine AS SELECT 1",
    ]
    # With the role's default (read-only transactions) every write is refused by that first; with
    # it switched off (a role may) the privileges alone must refuse every one.
    expected = errors.ReadOnlySqlTransaction if read_only_default else errors.InsufficientPrivilege
    with pg.connect(pg.role, autocommit=True) as reader:
        if not read_only_default:
            reader.execute("SET default_transaction_read_only = off")
        for statement in attempts:
            with pytest.raises(expected):
                reader.execute(statement)
        assert reader.execute("SELECT count(*) FROM marts.mart_calls_by_beat").fetchone()[0] == 10


def test_the_readonly_role_cannot_read_outside_marts(setup, pg):
    config, refresh = setup
    refresh(1)
    publish_postgres(config)
    with pg.connect(autocommit=True) as admin:
        admin.execute("CREATE SCHEMA private")
        admin.execute("CREATE TABLE private.secret AS SELECT 'officer 123' AS who")
        admin.execute("CREATE TABLE public.budget_lines AS SELECT 1 AS line")
        assert readonly_role_problems(admin, pg.role) == []
    with pg.connect(pg.role, autocommit=True) as reader:
        for statement in ("SELECT * FROM private.secret", "SELECT * FROM public.budget_lines"):
            with pytest.raises(errors.InsufficientPrivilege):
                reader.execute(statement)
        schemas = {s for (s,) in reader.execute("SELECT nspname FROM pg_namespace").fetchall()}
    assert "staging" not in schemas and "reference" not in schemas, "only the marts are published"


def test_a_publish_swaps_in_while_a_reader_holds_the_marts_and_the_old_marts_are_closed_to_it(setup, pg, monkeypatch):
    config, refresh = setup
    refresh(1)
    publish_postgres(config)
    monkeypatch.setattr(postgres, "DROP_LOCK_TIMEOUT", "1s")
    # A dashboard in the middle of a transaction on the old tables.
    holder = pg.connect(pg.role)
    assert holder.execute("SELECT count(*) FROM marts.mart_calls_by_beat").fetchone()[0] == 10
    try:
        stamp = refresh(2)
        second = publish_postgres(config)
        assert second.refresh_id == stamp.refresh_id
        assert not second.previous_dropped, "the old tables are still held: dropped later, not waited for"
        assert mart_generation(pg, pg.role) == {2}
        with pg.connect(pg.role, autocommit=True) as reader, pytest.raises(errors.InsufficientPrivilege):
            reader.execute("SELECT * FROM marts__previous.mart_calls_by_beat")
    finally:
        holder.close()
    third = publish_postgres(config)
    assert third.previous_dropped
    with pg.connect(autocommit=True) as admin:
        schemas = {s for (s,) in admin.execute("SELECT nspname FROM pg_namespace WHERE nspname LIKE 'marts%'")}
    assert schemas == {"marts"}


def test_a_role_that_can_read_more_is_refused_and_the_published_marts_stay(setup, pg):
    config, refresh = setup
    refresh(1)
    publish_postgres(config)
    with pg.connect(autocommit=True) as admin:
        admin.execute("CREATE TABLE public.budget_lines AS SELECT 1 AS line")
        admin.execute(f"GRANT SELECT ON public.budget_lines TO {pg.role}")
    refresh(2)
    with pytest.raises(RuntimeError, match=rf"role {pg.role} must read marts and nothing else.*public\.budget_lines"):
        publish_postgres(config)
    assert mart_generation(pg, pg.role) == {1}
    with pg.connect(autocommit=True) as admin:
        admin.execute(f"ALTER ROLE {pg.role} CREATEDB")
        admin.execute(f"REVOKE SELECT ON public.budget_lines FROM {pg.role}")
    with pytest.raises(RuntimeError, match="it has CREATEDB"):
        publish_postgres(config)
    assert mart_generation(pg) == {1}


def test_a_marts_schema_that_was_not_published_here_is_never_replaced(setup, pg):
    config, refresh = setup
    refresh(1)
    with pg.connect(autocommit=True) as admin:
        admin.execute("CREATE SCHEMA marts")
        admin.execute("CREATE TABLE marts.someone_elses AS SELECT 1 AS keep")
    with pytest.raises(RuntimeError, match="schema marts exists and was not published by this warehouse"):
        publish_postgres(config)
    with pg.connect(autocommit=True) as admin:
        assert admin.execute("SELECT keep FROM marts.someone_elses").fetchone() == (1,)


def test_the_role_is_created_once_with_read_only_transactions(setup, pg):
    config, refresh = setup
    refresh(1)
    assert publish_postgres(config).role_created
    assert not publish_postgres(config).role_created
    with pg.connect(autocommit=True) as admin:
        login, config_settings = admin.execute(
            "SELECT rolcanlogin, rolconfig FROM pg_roles WHERE rolname = %s", [pg.role]
        ).fetchone()
    assert login and "default_transaction_read_only=on" in config_settings


def test_a_missing_server_fails_loudly(tmp_path):
    config = load_serving_config(tmp_path / "w.duckdb", {"PSW_PG_DSN": "host=127.0.0.1 port=1 connect_timeout=5"})
    make_marts_warehouse(tmp_path / "w.duckdb", 1)
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    publish_serving_copy(con, config, RefreshStamp.new(), {})
    con.close()
    with pytest.raises(psycopg.OperationalError):
        publish_postgres(config)
