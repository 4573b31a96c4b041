"""Publishing the marts to PostgreSQL for BI tools that expect a server.

One publish: load every mart of the serving copy into ``marts__loading`` (COPY from CSV that
DuckDB writes at engine speed), add the dbt docs as comments, grant the read-only role, then in
the SAME transaction rename ``marts`` to ``marts__previous`` (and take the role's access to it
away) and ``marts__loading`` to ``marts``, check the role, and commit. A reader sees the old
marts or the new ones, never a mix; a publish that dies before the commit leaves nothing behind
(PostgreSQL rolls the transaction back when the connection drops).

The old tables are dropped after the commit, in their own transaction with a lock timeout: a
dashboard query still running on them then delays only that clean-up, not the readers of the
new marts (a DROP waiting inside the swap transaction would queue every new reader behind it).
"""

from __future__ import annotations

import re
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
from psycopg import sql

from orchestration.serving.atomic import publish_lock
from orchestration.serving.catalog import MARTS_SCHEMA, Column, Table, list_tables, literal, quote
from orchestration.serving.config import ServingConfig, failpoint
from orchestration.serving.serving_copy import open_serving, read_refresh

LOADING_SCHEMA = f"{MARTS_SCHEMA}__loading"
PREVIOUS_SCHEMA = f"{MARTS_SCHEMA}__previous"
# Every schema this publisher creates says so in its comment; a ``marts`` schema without it
# belongs to someone else and is never replaced.
SCHEMA_MARK = "Public Safety Warehouse marts"
# pg_advisory_lock key: one publisher at a time per database.
ADVISORY_LOCK_KEY = 7_386_237_001
DROP_LOCK_TIMEOUT = "30s"
_TEMPORARY_PREFIX = ".postgres-load-"

_SIMPLE_TYPES = {
    "BOOLEAN": "boolean",
    "TINYINT": "smallint",
    "SMALLINT": "smallint",
    "UTINYINT": "smallint",
    "INTEGER": "integer",
    "USMALLINT": "integer",
    "BIGINT": "bigint",
    "UINTEGER": "bigint",
    "UBIGINT": "numeric(20,0)",
    "HUGEINT": "numeric(39,0)",
    "UHUGEINT": "numeric(39,0)",
    "BIGNUM": "numeric",
    "VARINT": "numeric",
    "FLOAT": "real",
    "DOUBLE": "double precision",
    "VARCHAR": "text",
    "DATE": "date",
    "TIME": "time",
    "TIME WITH TIME ZONE": "timetz",
    "TIMESTAMP": "timestamp",
    "TIMESTAMP_S": "timestamp",
    "TIMESTAMP_MS": "timestamp",
    "TIMESTAMP_NS": "timestamp",
    "TIMESTAMP WITH TIME ZONE": "timestamptz",
    "INTERVAL": "interval",
    "UUID": "uuid",
    "JSON": "jsonb",
    "BIT": "varbit",
}
_DECIMAL = re.compile(r"DECIMAL\((\d+),\s*(\d+)\)")
_NESTED = re.compile(r".*\[\d*\]$|^(STRUCT|MAP|UNION)\(.*")


def postgres_column(table: str, column: Column) -> tuple[str, str]:
    """(PostgreSQL type, DuckDB expression that exports the value as PostgreSQL reads it)."""
    name = quote(column.name)
    duck = column.data_type.upper()
    if duck in _SIMPLE_TYPES:
        return _SIMPLE_TYPES[duck], name
    if match := _DECIMAL.fullmatch(duck):
        return f"numeric({match[1]},{match[2]})", name
    if duck.startswith("ENUM("):
        return "text", f"CAST({name} AS VARCHAR)"
    if duck == "BLOB":
        return "bytea", f"'\\x' || hex({name})"
    if _NESTED.match(duck):
        return "jsonb", f"CAST(to_json({name}) AS VARCHAR)"
    raise ValueError(f"marts.{table}.{column.name}: DuckDB type {column.data_type} has no PostgreSQL mapping")


@dataclass
class PostgresPublish:
    refresh_id: str
    database: str
    role: str
    role_created: bool
    tables: dict[str, int] = field(default_factory=dict)
    previous_dropped: bool = True


def publish_postgres(config: ServingConfig) -> PostgresPublish:
    """Publish every mart of the current serving copy into the ``marts`` schema of the configured
    database, swapped in one transaction, readable by the read-only role and nothing else."""
    if config.pg_dsn is None:
        raise ValueError("PostgreSQL is not configured: set PSW_PG_DSN (or PGHOST)")
    role = config.pg_readonly_role
    with publish_lock(config.serving_dir):
        for stale in config.serving_dir.glob(f"{_TEMPORARY_PREFIX}*"):
            shutil.rmtree(stale, ignore_errors=True)
        duck = open_serving(config.serving_file)
        pg = psycopg.connect(config.pg_dsn, autocommit=True)
        try:
            duck.execute("SET TimeZone = 'UTC'")
            pg.execute("SET client_encoding = 'UTF8'")
            pg.execute("SELECT pg_advisory_lock(%s)", [ADVISORY_LOCK_KEY])
            stamp = read_refresh(duck)
            tables = list_tables(duck, "warehouse_serving", (MARTS_SCHEMA,))
            database = pg.execute("SELECT current_database()").fetchone()[0]
            _refuse_foreign_marts(pg, database)
            if not _drop_previous(pg):
                raise RuntimeError(
                    f"PostgreSQL {database}: schema {PREVIOUS_SCHEMA} of an earlier publish is still in use "
                    f"(a query holds its tables for more than {DROP_LOCK_TIMEOUT}); not publishing"
                )
            result = PostgresPublish(stamp.refresh_id, database, role, role_created=False)
            with pg.transaction(), tempfile.TemporaryDirectory(dir=config.serving_dir, prefix=_TEMPORARY_PREFIX) as tmp:
                result.role_created = _ensure_readonly_role(pg, role, config.pg_readonly_password, database)
                pg.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(LOADING_SCHEMA)))
                pg.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(LOADING_SCHEMA)))
                for table in tables:
                    _load_table(duck, pg, table, Path(tmp))
                    result.tables[table.name] = table.rows
                    failpoint("postgres_copy")
                _grant_and_swap(pg, role, stamp.refresh_id, stamp.refreshed_at.isoformat(), stamp.git_revision)
                problems = readonly_role_problems(pg, role)
                if problems:
                    raise RuntimeError(
                        f"PostgreSQL {database}: role {role} must read {MARTS_SCHEMA} and nothing else, but: "
                        + "; ".join(problems)
                    )
            result.previous_dropped = _drop_previous(pg)
            return result
        finally:
            pg.close()
            duck.close()


def _refuse_foreign_marts(pg: psycopg.Connection, database: str) -> None:
    comment = pg.execute(
        "SELECT obj_description(oid, 'pg_namespace') FROM pg_namespace WHERE nspname = %s", [MARTS_SCHEMA]
    ).fetchone()
    if comment is not None and not (comment[0] or "").startswith(SCHEMA_MARK):
        raise RuntimeError(
            f"PostgreSQL {database}: schema {MARTS_SCHEMA} exists and was not published by this warehouse "
            f"(its comment does not start with {SCHEMA_MARK!r}); refusing to replace it"
        )


def _drop_previous(pg: psycopg.Connection) -> bool:
    """Drop the tables of the publish before last; False if readers still hold them."""
    try:
        with pg.transaction():
            pg.execute(f"SET LOCAL lock_timeout = '{DROP_LOCK_TIMEOUT}'")
            pg.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(PREVIOUS_SCHEMA)))
    except psycopg.errors.LockNotAvailable:
        return False
    return True


def _ensure_readonly_role(pg: psycopg.Connection, role: str, password: str | None, database: str) -> bool:
    """Create the role (it can log in and do nothing else) unless it exists; True if created."""
    ident = sql.Identifier(role)
    created = False
    if pg.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role]).fetchone() is None:
        try:
            with pg.transaction():  # a savepoint: another database's publisher may create it first
                pg.execute(
                    sql.SQL(
                        "CREATE ROLE {} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS NOINHERIT"
                    ).format(ident)
                )
                pg.execute(sql.SQL("ALTER ROLE {} SET default_transaction_read_only = on").format(ident))
            created = True
        except psycopg.errors.DuplicateObject:
            pass
        except psycopg.errors.InsufficientPrivilege as exc:
            raise RuntimeError(
                f"PostgreSQL {database}: role {role} does not exist and this user may not create it "
                f"(ask an administrator to create it, or grant CREATEROLE): {exc}"
            ) from exc
    if password:
        pg.execute(sql.SQL("ALTER ROLE {} PASSWORD {}").format(ident, sql.Literal(password)))
    if not pg.execute("SELECT has_database_privilege(%s, current_database(), 'CONNECT')", [role]).fetchone()[0]:
        pg.execute(sql.SQL("GRANT CONNECT ON DATABASE {} TO {}").format(sql.Identifier(database), ident))
    _close_public_creation(pg, database)
    return created


# What PostgreSQL lets every role (PUBLIC) create by default, even in a transaction opened READ
# WRITE: temporary tables, and large objects through these functions. Privileges add up, so they
# are revoked from PUBLIC in the BI database (the publisher's own rights and the owner's are not
# PUBLIC's); a publisher that may not do so is refused by the role check, which names what is left.
LARGE_OBJECT_CREATORS = ("lo_create(oid)", "lo_creat(integer)", "lo_from_bytea(oid,bytea)", "lo_import(text)")
LARGE_OBJECT_CREATORS += ("lo_import(text,oid)",)


def _close_public_creation(pg: psycopg.Connection, database: str) -> None:
    try:
        with pg.transaction():  # a savepoint: a publisher without the right leaves it to the check
            pg.execute(sql.SQL("REVOKE TEMPORARY ON DATABASE {} FROM PUBLIC").format(sql.Identifier(database)))
            for function in LARGE_OBJECT_CREATORS:
                pg.execute(sql.SQL("REVOKE EXECUTE ON FUNCTION {} FROM PUBLIC").format(sql.SQL(function)))
    except psycopg.errors.InsufficientPrivilege:
        pass


def _load_table(duck, pg: psycopg.Connection, table: Table, tmp: Path) -> None:
    """CREATE TABLE in the loading schema with PostgreSQL types, COPY the rows in, add the docs."""
    mapped = [postgres_column(table.name, c) for c in table.columns]
    target = sql.Identifier(LOADING_SCHEMA, table.name)
    columns = sql.SQL(", ").join(
        sql.SQL("{} {}").format(sql.Identifier(c.name), sql.SQL(pg_type))
        for c, (pg_type, _) in zip(table.columns, mapped, strict=True)
    )
    pg.execute(sql.SQL("CREATE TABLE {} ({})").format(target, columns))
    csv = tmp / f"{table.name}.csv"
    select = ", ".join(expression for _, expression in mapped)
    duck.execute(
        f"COPY (SELECT {select} FROM {quote(MARTS_SCHEMA)}.{quote(table.name)}) TO {literal(str(csv))} "
        "(FORMAT csv, HEADER false, FORCE_QUOTE *, NULLSTR '')"
    )
    names = sql.SQL(", ").join(sql.Identifier(c.name) for c in table.columns)
    copy_in = sql.SQL("COPY {} ({}) FROM STDIN (FORMAT csv)").format(target, names)
    with pg.cursor() as cur, cur.copy(copy_in) as copy, open(csv, "rb") as rows:
        while chunk := rows.read(1 << 20):
            copy.write(chunk)
    csv.unlink()
    loaded = pg.execute(sql.SQL("SELECT count(*) FROM {}").format(target)).fetchone()[0]
    if loaded != table.rows:
        raise RuntimeError(f"marts.{table.name}: {table.rows} rows in the serving copy, {loaded} loaded to PostgreSQL")
    if table.description:
        pg.execute(sql.SQL("COMMENT ON TABLE {} IS {}").format(target, sql.Literal(table.description)))
    for column in table.columns:
        if column.description:
            pg.execute(
                sql.SQL("COMMENT ON COLUMN {}.{} IS {}").format(
                    target, sql.Identifier(column.name), sql.Literal(column.description)
                )
            )


def _grant_and_swap(pg: psycopg.Connection, role: str, refresh_id: str, refreshed_at: str, git_revision: str) -> None:
    ident = sql.Identifier(role)
    loading, marts, previous = (sql.Identifier(s) for s in (LOADING_SCHEMA, MARTS_SCHEMA, PREVIOUS_SCHEMA))
    comment = f"{SCHEMA_MARK}: refresh {refresh_id} of {refreshed_at}, git revision {git_revision}"
    pg.execute(sql.SQL("GRANT USAGE ON SCHEMA {} TO {}").format(loading, ident))
    pg.execute(sql.SQL("GRANT SELECT ON ALL TABLES IN SCHEMA {} TO {}").format(loading, ident))
    pg.execute(sql.SQL("COMMENT ON SCHEMA {} IS {}").format(loading, sql.Literal(comment)))
    if pg.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", [MARTS_SCHEMA]).fetchone():
        pg.execute(sql.SQL("ALTER SCHEMA {} RENAME TO {}").format(marts, previous))
        pg.execute(sql.SQL("REVOKE ALL ON SCHEMA {} FROM {}").format(previous, ident))
    pg.execute(sql.SQL("ALTER SCHEMA {} RENAME TO {}").format(loading, marts))


def readonly_role_problems(pg: psycopg.Connection, role: str) -> list[str]:
    """Everything that lets ``role`` do more than read the tables of ``marts`` (empty: it is fine)."""
    problems = []
    attributes = pg.execute(
        "SELECT rolsuper, rolcreatedb, rolcreaterole, rolreplication, rolbypassrls FROM pg_roles WHERE rolname = %s",
        [role],
    ).fetchone()
    if attributes is None:
        return [f"role {role} does not exist"]
    names = ("SUPERUSER", "CREATEDB", "CREATEROLE", "REPLICATION", "BYPASSRLS")
    problems += [f"it has {name}" for name, has in zip(names, attributes, strict=True) if has]
    problems += [
        f"it is a member of role {r}"
        for (r,) in pg.execute(
            "SELECT g.rolname FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid "
            "JOIN pg_roles u ON u.oid = m.member WHERE u.rolname = %s",
            [role],
        ).fetchall()
    ]
    if pg.execute("SELECT has_database_privilege(%s, current_database(), 'CREATE')", [role]).fetchone()[0]:
        problems.append("it may create schemas in the database")
    if pg.execute("SELECT has_database_privilege(%s, current_database(), 'TEMPORARY')", [role]).fetchone()[0]:
        problems.append("it may create temporary tables in the database")
    problems += [
        f"it may create large objects ({function})"
        for function in LARGE_OBJECT_CREATORS
        if pg.execute("SELECT has_function_privilege(%s, %s, 'EXECUTE')", [role, function]).fetchone()[0]
    ]
    problems += [
        f"it may create objects in schema {s}"
        for (s,) in pg.execute(
            "SELECT nspname FROM pg_namespace WHERE has_schema_privilege(%s, oid, 'CREATE') "
            "AND nspname NOT LIKE 'pg\\_temp\\_%%' AND nspname NOT LIKE 'pg\\_toast\\_temp\\_%%'",
            [role],
        ).fetchall()
    ]
    if not pg.execute("SELECT has_schema_privilege(%s, %s, 'USAGE')", [role, MARTS_SCHEMA]).fetchone()[0]:
        problems.append(f"it cannot use schema {MARTS_SCHEMA}")
    relations = pg.execute(
        """
        SELECT n.nspname, c.relname, c.relkind,
               CASE WHEN c.relkind = 'S' THEN has_sequence_privilege(%(r)s, c.oid, 'SELECT, USAGE, UPDATE')
                    ELSE has_table_privilege(%(r)s, c.oid, 'SELECT') OR has_any_column_privilege(%(r)s, c.oid, 'SELECT')
               END AS can_read,
               CASE WHEN c.relkind = 'S' THEN false
                    ELSE has_table_privilege(%(r)s, c.oid, 'INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER')
                      OR has_any_column_privilege(%(r)s, c.oid, 'INSERT, UPDATE, REFERENCES')
               END AS can_write
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S')
          AND n.nspname NOT IN ('pg_catalog', 'information_schema')
          AND n.nspname NOT LIKE 'pg\\_toast%%' AND n.nspname NOT LIKE 'pg\\_temp\\_%%'
          AND has_schema_privilege(%(r)s, n.oid, 'USAGE')
        ORDER BY 1, 2
        """,
        {"r": role},
    ).fetchall()
    for schema, name, kind, can_read, can_write in relations:
        if schema == MARTS_SCHEMA:
            if kind in ("r", "p") and not can_read:
                problems.append(f"it cannot read {schema}.{name}")
            if can_write:
                problems.append(f"it may write to {schema}.{name}")
        elif can_read or can_write:
            problems.append(f"it may {'write to' if can_write else 'read'} {schema}.{name}")
    return problems
