"""The read-only PostgreSQL role can create nothing at all, large objects and temporary tables
included, even in a transaction it opens READ WRITE; the publisher's role check verifies it
(issue 16). Real server on 127.0.0.1:5432."""

from __future__ import annotations

import pytest
from psycopg import errors

from orchestration.serving.postgres import publish_postgres, readonly_role_problems

from .test_postgres_publish import pg, setup  # noqa: F401 (fixtures)

CREATIONS = [
    "SELECT lo_from_bytea(0, 'payload'::bytea)",
    "SELECT lo_create(0)",
    "SELECT lo_creat(-1)",
    "CREATE TEMP TABLE mine (i int)",
    "CREATE TABLE public.mine (i int)",
    "CREATE SCHEMA mine",
]


@pytest.mark.parametrize("statement", CREATIONS)
def test_the_readonly_role_creates_nothing_even_in_a_read_write_transaction(setup, pg, statement):  # noqa: F811
    config, refresh = setup
    refresh(1)
    publish_postgres(config)
    with pg.connect(pg.role) as reader:
        reader.execute("BEGIN READ WRITE")
        with pytest.raises(errors.InsufficientPrivilege):
            reader.execute(statement)
        reader.rollback()
    with pg.connect(autocommit=True) as admin:
        assert admin.execute("SELECT count(*) FROM pg_largeobject_metadata").fetchone()[0] == 0


def test_the_role_check_refuses_a_role_that_may_create_large_objects_or_temporary_tables(setup, pg):  # noqa: F811
    config, refresh = setup
    refresh(1)
    publish_postgres(config)
    with pg.connect(autocommit=True) as admin:
        assert readonly_role_problems(admin, pg.role) == []
        admin.execute(f"GRANT EXECUTE ON FUNCTION lo_from_bytea(oid, bytea) TO {pg.role}")
        admin.execute(f"GRANT TEMPORARY ON DATABASE {pg.database} TO {pg.role}")
        assert readonly_role_problems(admin, pg.role) == [
            "it may create temporary tables in the database",
            "it may create large objects (lo_from_bytea(oid,bytea))",
        ]
    refresh(2)
    with pytest.raises(RuntimeError, match=r"it may create large objects"):
        publish_postgres(config)
