"""A marts gate judges what changed since a city last passed, not the whole history again.

A suite with ``meta.gate.scope: {column: admitted_at, key: call_key}`` names the column that says
when each row was admitted. After a gate judges a batch (a source profile's rows), the gate keeps
in ``raw.gate_scopes``, per suite and batch: whether it passed, the newest admission it judged
(``judged_through``), a fingerprint of the rows admitted before then (their count and the sum of
DuckDB's ``hash`` of every whole row, an order-free sum), and what the warehouse was built from
(a digest of dbt's checksums in ``raw.dbt_build_state``: models, seeds, macros, vars and the
beat boundaries).

The next time, a batch is judged only on the rows admitted at or after ``judged_through`` (the
newest admission it judged is judged again, so an unexpected-rows query that compares the batch
with another table, such as every staged call being in the fact, reads everything admitted since
it last looked), and on every row sharing a key with them (so a new row repeating an old key is
caught by the uniqueness expectation), when all of these hold:

- it passed last time, under the same suite (the suite file's digest);
- the warehouse is built from the same models, seeds, macros and vars (a new taxonomy or new
  beat boundaries can fail old rows that did not change);
- the rows admitted before ``judged_through`` have the same fingerprint now: not one of them was
  changed, removed or added since they passed (a full build that changes a value, a correction, a
  row edited by hand: each changes the fingerprint, and the whole batch is judged again);
- no row lacks an admission time, and some row is in scope;
- ``PSW_GATES_FULL`` is not set.

Otherwise the whole batch is judged, and the check says why. The fingerprint costs one scan of
the mart; the expectations then read the newest files' rows instead of every row, each.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from orchestration.checks.batches import ident, literal, table_exists
from orchestration.checks.suites import Suite

STATE_TABLE = "raw.gate_scopes"


@dataclass(frozen=True)
class Mark:
    """A batch's rows as a gate leaves them: the newest admission, and the rows admitted before it."""

    judged_through: datetime | None
    rows_before: int
    hash_before: str


@dataclass(frozen=True)
class Plan:
    """What to judge of each batch (its scope, or every row), why, and the marks to keep."""

    scopes: dict[str, str]
    built_from: str
    reasons: dict[str, str]
    marks: dict[str, Mark]
    rows_in_scope: dict[str, int]


def ensure_state(con) -> None:
    con.execute("CREATE SCHEMA IF NOT EXISTS raw")
    con.execute(
        f"CREATE TABLE IF NOT EXISTS {STATE_TABLE} (suite VARCHAR NOT NULL, batch VARCHAR NOT NULL, "
        "suite_digest VARCHAR NOT NULL, passed BOOLEAN NOT NULL, judged_through TIMESTAMP, "
        "rows_before BIGINT NOT NULL, hash_before VARCHAR NOT NULL, built_from VARCHAR NOT NULL, run_id VARCHAR, "
        "judged_at TIMESTAMP NOT NULL, PRIMARY KEY (suite, batch))"
    )


def _stored(con, suite: Suite) -> dict[str, tuple]:
    if not table_exists(con, "raw", "gate_scopes"):
        return {}
    rows = con.execute(
        f"SELECT batch, suite_digest, passed, judged_through, rows_before, hash_before, built_from FROM {STATE_TABLE} "
        "WHERE suite = ?",
        [suite.name],
    ).fetchall()
    return {r[0]: r[1:] for r in rows}


def _timestamp(value: datetime | None) -> str:
    return "CAST(NULL AS TIMESTAMP)" if value is None else f"CAST({literal(value.isoformat(sep=' '))} AS TIMESTAMP)"


def built_from(con) -> str:
    """A digest of what the warehouse was last built from (dbt's checksums; '' when it has none)."""
    if not table_exists(con, "raw", "dbt_build_state"):
        return ""
    rows = con.execute("SELECT unique_id, checksum FROM raw.dbt_build_state ORDER BY unique_id").fetchall()
    return hashlib.sha256(repr(rows).encode()).hexdigest()[:16]


def _new_keys(suite: Suite, batch: str, since: datetime) -> str:
    by, column, key = ident(suite.batch_by), ident(suite.scope_column), ident(suite.scope_key)
    return f"SELECT {key} FROM {suite.table} WHERE {by} = {literal(batch)} AND {column} >= {_timestamp(since)}"


def _shares_keys(con, suite: Suite, batch: str, since: datetime) -> bool:
    """Whether a row admitted before ``since`` shares its key with one admitted since (read once
    here, so that GX's queries of a batch that shares none need not look for them again)."""
    if not suite.scope_key:
        return False
    by, column, key = ident(suite.batch_by), ident(suite.scope_column), ident(suite.scope_key)
    return bool(
        con.execute(
            f"SELECT count(*) FROM {suite.table} WHERE {by} = {literal(batch)} AND {column} < {_timestamp(since)} "
            f"AND {key} IN ({_new_keys(suite, batch, since)})"
        ).fetchone()[0]
    )


def scope_condition(suite: Suite, batch: str, since: datetime, shares_keys: bool = True) -> str:
    """The rows of ``batch`` admitted at or after ``since``, and every row of it sharing a key with
    them (when ``shares_keys``: with none, the condition is the admission alone)."""
    newer = f"{ident(suite.scope_column)} >= {_timestamp(since)}"
    if not suite.scope_key or not shares_keys:
        return newer
    return f"{newer} OR {ident(suite.scope_key)} IN ({_new_keys(suite, batch, since)})"


def plan(con, suite: Suite, digest: str, allow_scope: bool = True) -> Plan:
    """Each batch's scope (or why it is judged whole) and the marks to keep once it is judged: one
    scan of the table."""
    by, column = ident(suite.batch_by), ident(suite.scope_column)
    stored = _stored(con, suite)
    built = built_from(con)
    earlier = {k: v[2] for k, v in stored.items() if v[2] is not None}
    values = ", ".join(f"({literal(k)}, {_timestamp(t)})" for k, t in earlier.items())
    earlier_cte = (
        f"SELECT * FROM (VALUES {values}) AS e(batch, judged_through)"
        if values
        else "SELECT CAST(NULL AS VARCHAR) AS batch, CAST(NULL AS TIMESTAMP) AS judged_through WHERE false"
    )
    rows = con.execute(
        f"""
        WITH earlier AS ({earlier_cte}),
        newest AS (SELECT CAST({by} AS VARCHAR) AS batch, max({column}) AS newest FROM {suite.table}
                   WHERE {by} IS NOT NULL GROUP BY 1),
        hashed AS (SELECT CAST(t.{by} AS VARCHAR) AS batch, t.{column} AS admitted, hash(t) AS row_hash
                   FROM {suite.table} AS t WHERE t.{by} IS NOT NULL)
        SELECT n.batch, n.newest, e.judged_through,
               count(*) FILTER (WHERE h.admitted < e.judged_through),
               CAST(coalesce(sum(h.row_hash) FILTER (WHERE h.admitted < e.judged_through), 0) AS VARCHAR),
               count(*) FILTER (WHERE h.admitted >= e.judged_through),
               count(*) FILTER (WHERE h.admitted IS NULL),
               count(*) FILTER (WHERE h.admitted < n.newest),
               CAST(coalesce(sum(h.row_hash) FILTER (WHERE h.admitted < n.newest), 0) AS VARCHAR)
        FROM hashed AS h
        JOIN newest AS n ON h.batch = n.batch
        LEFT JOIN earlier AS e ON e.batch = n.batch
        GROUP BY n.batch, n.newest, e.judged_through
        """
    ).fetchall()
    scopes, reasons, marks, in_scope = {}, {}, {}, {}
    for batch, newest, since, n_before, h_before, n_since, n_null, n_new, h_new in rows:
        marks[batch] = Mark(newest, n_new, h_new)
        last = stored.get(batch)
        if not allow_scope:
            reasons[batch] = "every row: PSW_GATES_FULL is set"
        elif last is None:
            reasons[batch] = "every row: judged for the first time"
        elif last[0] != digest:
            reasons[batch] = "every row: the suite changed since it was last judged"
        elif not last[1]:
            reasons[batch] = "every row: it did not pass last time"
        elif last[5] != built:
            reasons[batch] = "every row: the warehouse was built from other models, seeds, macros or vars since"
        elif since is None or (n_before, h_before) != (last[3], last[4]):
            reasons[batch] = "every row: rows it passed with have changed since (a rebuild, a correction or an edit)"
        elif n_null:
            reasons[batch] = f"every row: {n_null} row(s) have no {suite.scope_column}"
        elif not n_since:
            reasons[batch] = f"every row: no row admitted at or after {since:%Y-%m-%d %H:%M:%S} (rows were removed)"
        else:
            scopes[batch] = scope_condition(suite, batch, since, _shares_keys(con, suite, batch, since))
            in_scope[batch] = n_since
            reasons[batch] = (
                f"{n_since:,} row(s) admitted at or after {since:%Y-%m-%d %H:%M:%S} and any sharing their "
                f"{suite.scope_key or 'key'}; the {n_before:,} before are those that passed"
            )
    return Plan(scopes, built, reasons, marks, in_scope)


def record(con, suite: Suite, digest: str, plan: Plan, passed: dict[str, bool], run_id) -> None:
    """After judging: each judged batch's verdict and its mark (a batch that was not judged keeps none)."""
    rows = [
        [suite.name, batch, digest, passed[batch], *_values(m), plan.built_from, run_id]
        for batch, m in plan.marks.items()
        if batch in passed
    ]
    ensure_state(con)
    if rows:  # an empty mart judged no batch
        con.executemany(
            f"INSERT OR REPLACE INTO {STATE_TABLE} VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, current_localtimestamp())", rows
        )


def _values(mark: Mark) -> list:
    return [mark.judged_through, mark.rows_before, mark.hash_before]


def scope_markdown(plan: Plan) -> str:
    return "| batch | judged |\n|---|---|\n" + "".join(f"| {b} | {why} |\n" for b, why in sorted(plan.reasons.items()))
