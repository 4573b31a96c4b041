"""Great Expectations on DuckDB: the fix GX needs, and one for speed, applied once, where GX is imported.

GX 1.x's ``SqlAlchemyExecutionEngine.execute_query`` runs a query inside ``with
self.get_connection()`` and returns the cursor after that block has closed the connection.
Most drivers keep the rows; ``duckdb_engine`` does not, so every metric GX computes on DuckDB
comes back empty and every expectation fails with "list index out of range" (GX issues #10738
and #11579, unfixed upstream; STACK_NOTES.md). The fix: materialise the result while the
connection is open (``.freeze()``) and hand GX a result that replays those rows (calling the
frozen result). For speed: GX reads a query batch's column names with ``LIMIT 0`` rather than
by running the whole query (``_columns_without_rows``). Nothing else of GX is changed;
``tests/test_gates_engine.py`` shows GX's own unexpected counts on DuckDB with the fix, that
without it GX sees no rows, and that the column names come without running the query.

``import great_expectations`` costs seconds, so it is imported here, when a gate runs, never
when the Dagster definitions load. Usage analytics are off (``GX_ANALYTICS_ENABLED=False``).
"""

from __future__ import annotations

import os
import sys
from types import ModuleType

_ORIGINAL_EXECUTE_QUERY = None


def _execute_query_materialised(self, query):
    """GX's ``execute_query``, returning the rows read while the connection is still open."""
    with self.get_connection() as connection:
        return self._execute_query_with_recovery(connection, query).freeze()()


def _columns_without_rows(original):
    """GX's ``column_reflection_fallback``, given a query that returns no row. For a query asset
    GX reads the batch's column names by running the batch's whole query (a text clause) and
    looking at the result's keys: on ten million rows DuckDB reads and holds them all (30 s and
    14 GB for the calls of the benchmark city). The same names come from ``LIMIT 0``."""

    def reflect(selectable, dialect, sqlalchemy_engine, schema_name=None):
        import sqlalchemy as sa

        if isinstance(selectable, sa.TextClause):
            selectable = sa.text(f"SELECT * FROM ({selectable.text}) AS batch_columns LIMIT 0")
        return original(selectable, dialect, sqlalchemy_engine, schema_name)

    reflect.original = original
    return reflect


def apply_duckdb_fix() -> None:
    """Patch ``SqlAlchemyExecutionEngine.execute_query`` and the column reflection (idempotent)."""
    global _ORIGINAL_EXECUTE_QUERY
    from great_expectations.execution_engine.sqlalchemy_execution_engine import SqlAlchemyExecutionEngine
    from great_expectations.expectations.metrics import util

    if _ORIGINAL_EXECUTE_QUERY is None:
        _ORIGINAL_EXECUTE_QUERY = SqlAlchemyExecutionEngine.execute_query
        SqlAlchemyExecutionEngine.execute_query = _execute_query_materialised
    if not hasattr(util.column_reflection_fallback, "original"):
        util.column_reflection_fallback = _columns_without_rows(util.column_reflection_fallback)


def undo_duckdb_fix() -> None:
    """GX as shipped again (for the tests that show what the fixes are for)."""
    global _ORIGINAL_EXECUTE_QUERY
    from great_expectations.execution_engine.sqlalchemy_execution_engine import SqlAlchemyExecutionEngine
    from great_expectations.expectations.metrics import util

    if _ORIGINAL_EXECUTE_QUERY is not None:
        SqlAlchemyExecutionEngine.execute_query = _ORIGINAL_EXECUTE_QUERY
        _ORIGINAL_EXECUTE_QUERY = None
    if hasattr(util.column_reflection_fallback, "original"):
        util.column_reflection_fallback = util.column_reflection_fallback.original


def import_gx() -> ModuleType:
    """``great_expectations``, with analytics off and the DuckDB fix applied."""
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
    # GX probes pyspark's Spark Connect on import (pyspark is installed for the dbt-spark target).
    # Spark Connect needs pyarrow, which is not installed; in a process whose __main__ module has
    # no file (a pytest-xdist worker, an embedded interpreter) pyspark takes that probe for its own
    # doctest run and calls sys.exit(0) in the middle of the gate. Spark Connect is never used
    # here: it is marked absent, so GX's probe gets the ImportError it handles.
    if "pyspark.sql.connect" not in sys.modules:
        sys.modules["pyspark.sql.connect"] = None  # type: ignore[assignment]
    import great_expectations

    apply_duckdb_fix()
    return great_expectations


def quiet(context) -> None:
    """No progress bars from a GX context (they would fill a check's log)."""
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context.variables.progress_bars = ProgressBarsConfig(globally=False)
