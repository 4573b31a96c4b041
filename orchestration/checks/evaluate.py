"""Evaluate a suite inside DuckDB: each GX expectation becomes SQL, and a gate on millions of rows
costs one or two table scans, not a copy of the table into pandas.

Why not GX's own engine: its SQL datasource returns no rows on DuckDB as shipped (see
STACK_NOTES), and its pandas route copies the table out and costs ~3 s of import per process.
The semantics follow GX's (``mostly`` over non-missing values, the same ``ignore_row_if``
defaults); ``tests/test_gates_engine.py`` runs GX's own pandas engine on the same rows and
checks that both give the same success and unexpected counts.

Row-level ("map") expectations are judged per batch (``meta.gate.batch_by``: one landed file
for raw tables), so ``mostly`` means "in each file": one bad row in a big file passes, a file
of bad rows fails. All map expectations of a suite are computed in one grouped query.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import duckdb

from orchestration.checks.suites import Expectation, Suite

SAMPLE_SIZE = 5
CITY_BOX = ("city_min_latitude", "city_max_latitude", "city_min_longitude", "city_max_longitude")
TABLE_LEVEL = {"expect_table_columns_to_match_set", "expect_table_row_count_to_be_between"}
WINDOWED = {"expect_column_values_to_be_unique", "expect_compound_columns_to_be_unique"}


@dataclass
class ExpectationOutcome:
    expectation: Expectation
    success: bool
    element_count: int = 0
    considered: int = 0
    unexpected_count: int = 0
    observed: Any = None
    sample: list[dict[str, Any]] = field(default_factory=list)
    failing_batches: list[dict[str, Any]] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    error: str | None = None
    evaluated: bool = True

    @property
    def unexpected_percent(self) -> float | None:
        return round(100.0 * self.unexpected_count / self.considered, 4) if self.considered else None

    def to_gx_dict(self) -> dict[str, Any]:
        """One GX ExpectationValidationResult, as JSON."""
        result: dict[str, Any] = {
            "element_count": self.element_count,
            "unexpected_count": self.unexpected_count,
            "unexpected_percent": self.unexpected_percent,
            "partial_unexpected_list": self.sample,
            "details": {"failing_batches": self.failing_batches, "skipped": self.skipped},
        }
        if self.observed is not None:
            result["observed_value"] = self.observed
        return {
            "success": self.success,
            "expectation_config": self.expectation.to_gx_dict(),
            "result": result,
            "exception_info": {
                "raised_exception": self.error is not None,
                "exception_message": self.error,
                "exception_traceback": None,
            },
            "meta": {"evaluated": self.evaluated},
        }


@dataclass
class SuiteOutcome:
    suite: Suite
    outcomes: list[ExpectationOutcome]
    rows: int = 0
    batches: int = 0
    elapsed_seconds: float = 0.0
    skipped_reason: str | None = None
    parameters: dict[str, dict[str, Any]] = field(default_factory=dict)
    validated_at: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))

    def failed(self, severity: str | None = None) -> list[ExpectationOutcome]:
        return [o for o in self.outcomes if not o.success and (severity is None or o.expectation.severity == severity)]

    @property
    def success(self) -> bool:
        """The gate holds: no critical expectation failed (warnings are reported, not blocking)."""
        return not self.failed("critical")

    @property
    def evaluated(self) -> list[ExpectationOutcome]:
        return [o for o in self.outcomes if o.evaluated]

    def to_gx_dict(self, run_id: str | None = None) -> dict[str, Any]:
        """A GX ExpectationSuiteValidationResult, as JSON (what the data docs page shows)."""
        evaluated = self.evaluated
        ok = sum(o.success for o in evaluated)
        return {
            "success": self.success,
            "suite_name": self.suite.name,
            "results": [o.to_gx_dict() for o in self.outcomes],
            "statistics": {
                "evaluated_expectations": len(evaluated),
                "successful_expectations": ok,
                "unsuccessful_expectations": len(evaluated) - ok,
                "success_percent": round(100.0 * ok / len(evaluated), 2) if evaluated else None,
            },
            "meta": {
                "run_id": run_id,
                "validation_time": self.validated_at,
                "table": self.suite.table,
                "asset": "/".join(self.suite.asset_path),
                "rows": self.rows,
                "batches": self.batches,
                "elapsed_seconds": round(self.elapsed_seconds, 3),
                "skipped_reason": self.skipped_reason,
                "parameters": self.parameters,
                "engine": "duckdb-sql",
            },
        }


# ---------------------------------------------------------------------------------------------
# SQL helpers


def ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def literal(value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int | float):
        return repr(value)
    return "'" + str(value).replace("'", "''") + "'"


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat(sep=" ") if isinstance(value, datetime) else value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, float) and value != value:  # NaN
        return None
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    return value


def _rows(cursor) -> list[dict[str, Any]]:
    names = [d[0] for d in cursor.description]
    return [{n: _jsonable(v) for n, v in zip(names, row, strict=True)} for row in cursor.fetchall()]


# ---------------------------------------------------------------------------------------------
# Parameters


def city_boxes(con: duckdb.DuckDBPyConnection, suite: Suite, columns: dict[str, str]) -> dict[str, dict]:
    """The city's bounding box for each source profile, from ``raw.areas``.

    A profile's city is the areas file that shares the most beats with it (at least half of the
    profile's beats); its box is the union of that file's beat boxes. Profiles without such an
    areas file get no box (their coordinate expectations are skipped, and the result says so).
    """
    if not suite.profile_column or "beat" not in columns or not _table_exists(con, "raw", "areas"):
        return {}
    p = ident(suite.profile_column)
    rows = con.execute(
        f"""
        WITH areas AS (
            SELECT _source_profile AS areas_profile, beat,
                   try_cast(min_latitude AS DOUBLE) AS min_lat, try_cast(max_latitude AS DOUBLE) AS max_lat,
                   try_cast(min_longitude AS DOUBLE) AS min_lon, try_cast(max_longitude AS DOUBLE) AS max_lon
            FROM raw.areas
        ),
        used AS (SELECT DISTINCT {p} AS profile, beat FROM {suite.table} WHERE beat IS NOT NULL),
        links AS (
            SELECT profile, areas_profile, count(DISTINCT beat) AS shared
            FROM used JOIN areas USING (beat) GROUP BY ALL
        ),
        beats AS (SELECT profile, count(*) AS beats FROM used GROUP BY profile),
        city AS (
            SELECT profile, arg_max(areas_profile, shared) AS areas_profile, max(shared) AS shared
            FROM links GROUP BY profile
        )
        SELECT profile, min(min_lat), max(max_lat), min(min_lon), max(max_lon)
        FROM city JOIN beats USING (profile) JOIN areas USING (areas_profile)
        -- another city that happens to use some of the same beat names is not this city
        WHERE city.shared >= 0.5 * beats.beats
        GROUP BY profile
        """
    ).fetchall()
    return {profile: dict(zip(CITY_BOX, box, strict=True)) for profile, *box in rows if all(v is not None for v in box)}


def resolve_parameters(
    con: duckdb.DuckDBPyConnection, suite: Suite, columns: dict[str, str], profiles: list[str | None]
) -> dict[str | None, dict[str, Any]]:
    """Suite parameters per profile: the suite's defaults, then what the data says (the city's
    box from raw.areas), then the suite's own values for that profile."""
    wanted = set().union(*(e.parameters for e in suite.expectations))
    derived = city_boxes(con, suite, columns) if wanted & set(CITY_BOX) else {}
    out: dict[str | None, dict[str, Any]] = {}
    for profile in profiles:
        params = dict(suite.defaults)
        params.update(derived.get(profile or "", {}))
        params.update(suite.by_profile.get(profile or "", {}))
        out[profile] = params
    return out


def _bind(value: Any, params: dict[str, Any]) -> tuple[bool, Any]:
    if isinstance(value, dict) and "$PARAMETER" in value:
        name = value["$PARAMETER"]
        return (name in params and params[name] is not None), params.get(name)
    return True, value


def _skip_reason(profile: str | None, missing: set[str]) -> str:
    why = f"{profile or 'table'}: no value for {', '.join(sorted(missing))}"
    if missing & set(CITY_BOX):
        why += " (no raw.areas rows share this profile's beats, and the suite gives no box for it)"
    return why


# ---------------------------------------------------------------------------------------------
# Map expectations -> SQL


def _value(column: str, columns: dict[str, str], as_type: str) -> str:
    """The column as a number or timestamp; raw tables keep text, so text is cast (NULL if it cannot be)."""
    col = ident(column)
    if columns.get(column, "").upper().startswith("VARCHAR"):
        return f"try_cast({col} AS {as_type})"
    return col


def _compare(a: str, b: str, op: str, columns: dict[str, str], text_as: dict[str, str]) -> str:
    """a op b. Raw tables keep text: text columns are compared as the type their values hold
    (``text_as``, from a probe of the data), and a value that does not cast makes the row unexpected."""
    ca, cb = ident(a), ident(b)
    if not (_is_text(columns, a) and _is_text(columns, b)):
        return f"{ca} {op} {cb}"
    kind = text_as.get(a) if text_as.get(a) == text_as.get(b) else "VARCHAR"
    if kind in (None, "VARCHAR"):
        return f"{ca} {op} {cb}"
    return f"try_cast({ca} AS {kind}) {op} try_cast({cb} AS {kind})"


def _is_text(columns: dict[str, str], column: str) -> bool:
    return columns.get(column, "").upper().startswith("VARCHAR")


def probe_text_types(con, table: str, text_columns: list[str], sample: int = 1000) -> dict[str, str]:
    """DOUBLE or TIMESTAMP for text columns whose values (90 % of a sample) are numbers or
    timestamps, else VARCHAR; one small query per column, so a comparison casts once."""
    kinds = {}
    for column in text_columns:
        c = ident(column)
        n, numbers, stamps = con.execute(
            f"SELECT count(*), count(try_cast({c} AS DOUBLE)), count(try_cast({c} AS TIMESTAMP)) "
            f"FROM (SELECT {c} FROM {table} WHERE {c} IS NOT NULL LIMIT {sample})"
        ).fetchone()
        kinds[column] = "DOUBLE" if n and numbers >= 0.9 * n else "TIMESTAMP" if n and stamps >= 0.9 * n else "VARCHAR"
    return kinds


def map_predicates(
    exp: Expectation, columns: dict[str, str], batch_by: str | None, text_as: dict[str, str] | None = None
) -> tuple[str, str]:
    """(domain, unexpected) SQL for a row-level expectation with its parameters already bound."""
    k = exp.kwargs
    t = exp.type
    partition = [ident(batch_by)] if batch_by else []
    if t == "expect_column_values_to_not_be_null":
        return "TRUE", f"{ident(k['column'])} IS NULL"
    if t == "expect_compound_columns_to_be_unique":
        cols = [ident(c) for c in k["column_list"]]
        how = k.get("ignore_row_if", "all_values_are_missing")
        joiner = " AND " if how == "all_values_are_missing" else " OR "
        domain = "TRUE" if how == "never" else "NOT (" + joiner.join(f"{c} IS NULL" for c in cols) + ")"
        over = ", ".join(partition + cols)
        return domain, f"count(*) OVER (PARTITION BY {over}) > 1"
    if t == "expect_column_pair_values_a_to_be_greater_than_b":
        a, b = ident(k["column_A"]), ident(k["column_B"])
        how = k.get("ignore_row_if", "both_values_are_missing")
        domain = {
            "both_values_are_missing": f"NOT ({a} IS NULL AND {b} IS NULL)",
            "either_value_is_missing": f"{a} IS NOT NULL AND {b} IS NOT NULL",
            "neither": "TRUE",
        }[how]
        op = ">=" if k.get("or_equal") else ">"
        compared = _compare(k["column_A"], k["column_B"], op, columns, text_as or {})
        return domain, f"coalesce(NOT ({compared}), TRUE)"
    col = ident(k["column"])
    domain = f"{col} IS NOT NULL"
    if t == "expect_column_values_to_be_unique":
        over = ", ".join(partition + [col])
        return domain, f"count(*) OVER (PARTITION BY {over}) > 1"
    if t == "expect_column_values_to_be_in_set":
        values = list(k["value_set"])
        if values and all(isinstance(v, int | float) and not isinstance(v, bool) for v in values):
            number = _value(k["column"], columns, "DOUBLE")
            return domain, f"coalesce(NOT ({number} IN ({', '.join(map(literal, values))})), TRUE)"
        return domain, f"NOT (CAST({col} AS VARCHAR) IN ({', '.join(literal(str(v)) for v in values) or 'NULL'}))"
    if t == "expect_column_values_to_be_between":
        v = _value(k["column"], columns, "DOUBLE")
        bad = [f"{v} IS NULL"]
        if k.get("min_value") is not None:
            bad.append(f"{v} {'<=' if k.get('strict_min') else '<'} {literal(k['min_value'])}")
        if k.get("max_value") is not None:
            bad.append(f"{v} {'>=' if k.get('strict_max') else '>'} {literal(k['max_value'])}")
        return domain, "(" + " OR ".join(bad) + ")"
    if t == "expect_column_values_to_match_strftime_format":
        return domain, f"try_strptime(CAST({col} AS VARCHAR), {literal(k['strftime_format'])}) IS NULL"
    if t == "expect_column_values_to_match_regex":
        return domain, f"NOT regexp_matches(CAST({col} AS VARCHAR), {literal(k['regex'])})"
    raise ValueError(f"{t} is not a row-level expectation")


def columns_of(exp: Expectation) -> list[str]:
    k = exp.kwargs
    if "column" in k:
        return [k["column"]]
    if "column_list" in k:
        return list(k["column_list"])
    if "column_A" in k:
        return [k["column_A"], k["column_B"]]
    return []


def _bound(exp: Expectation, params: dict[str, Any]) -> tuple[Expectation | None, set[str]]:
    kwargs, missing = {}, set()
    for key, value in exp.kwargs.items():
        ok, bound = _bind(value, params)
        if not ok:
            missing.add(value["$PARAMETER"])
        kwargs[key] = bound
    if missing:
        return None, missing
    return Expectation(exp.type, kwargs, exp.severity, exp.meta, exp.description), set()


# ---------------------------------------------------------------------------------------------
# The suite


def _table_exists(con, schema: str, table: str) -> bool:
    return bool(
        con.execute(
            "SELECT 1 FROM information_schema.tables WHERE table_schema = ? AND table_name = ?", [schema, table]
        ).fetchone()
    )


def _table_columns(con, suite: Suite) -> dict[str, str]:
    return dict(
        con.execute(
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = ? AND table_name = ? ORDER BY ordinal_position",
            [suite.schema, suite.relation],
        ).fetchall()
    )


def evaluate_suite(
    con: duckdb.DuckDBPyConnection,
    suite: Suite,
    sample_size: int = SAMPLE_SIZE,
    batches: frozenset[str] | None = None,
) -> SuiteOutcome:
    """Run every expectation of the suite against its table; never raises for bad data.

    ``batches``: the batches (values of the suite's ``batch_by``) to judge; None judges every row.
    Row-level expectations and ``{batch}`` queries read those batches' rows only, so a day's
    refresh judges the day's file, not ten million rows of history; table-level expectations
    (columns, row counts) and queries that name their tables still read everything."""
    started = time.perf_counter()
    con.execute("SET enable_progress_bar = false")  # a check's log is not a terminal
    columns = _table_columns(con, suite)
    if not columns:
        outcome = SuiteOutcome(
            suite,
            [ExpectationOutcome(e, success=True, evaluated=False) for e in suite.expectations],
            skipped_reason=f"{suite.table} does not exist yet: the suite applies once it is there",
        )
        outcome.elapsed_seconds = time.perf_counter() - started
        return outcome

    profile_col = suite.profile_column if suite.profile_column in columns else None
    profiles: list[str | None] = (
        [r[0] for r in con.execute(f"SELECT DISTINCT {ident(profile_col)} FROM {suite.table} ORDER BY 1").fetchall()]
        if profile_col
        else [None]
    )
    batch_by = suite.batch_by if suite.batch_by in columns else None
    whole = suite
    if batch_by and batches is not None:
        judged = ", ".join(literal(b) for b in sorted(batches)) or "NULL"
        suite = replace(suite, table=f"(SELECT * FROM {suite.table} WHERE {ident(batch_by)} IN ({judged}))")
    params = resolve_parameters(con, suite, columns, profiles)

    outcomes: dict[int, ExpectationOutcome] = {}
    map_exps: list[tuple[int, Expectation]] = []
    for i, exp in enumerate(suite.expectations):
        if exp.type in TABLE_LEVEL:
            outcomes[i] = _table_level(con, whole, exp, columns)
        elif exp.type == "unexpected_rows_expectation":
            outcomes[i] = _unexpected_rows(con, suite, exp, sample_size, batch_by)
        else:
            absent = [c for c in columns_of(exp) if c not in columns]
            if absent:
                outcomes[i] = ExpectationOutcome(
                    exp, success=False, error=f"column(s) {', '.join(absent)} not in {suite.table}"
                )
            else:
                map_exps.append((i, exp))

    rows, batches = _map_expectations(
        con, suite, map_exps, columns, profiles, profile_col, params, batch_by, sample_size, outcomes
    )
    used = set().union(*(e.parameters for e in suite.expectations))
    outcome = SuiteOutcome(
        whole,
        [outcomes[i] for i in range(len(suite.expectations))],
        rows=rows,
        batches=batches,
        parameters={p or "table": {k: v for k, v in params[p].items() if k in used} for p in profiles if used},
    )
    outcome.elapsed_seconds = time.perf_counter() - started
    return outcome


def _table_level(con, suite: Suite, exp: Expectation, columns: dict[str, str]) -> ExpectationOutcome:
    k = exp.kwargs
    if exp.type == "expect_table_columns_to_match_set":
        wanted = list(k["column_set"])
        missing = [c for c in wanted if c not in columns]
        extra = [c for c in columns if c not in wanted] if k.get("exact_match", True) else []
        return ExpectationOutcome(
            exp,
            success=not missing and not extra,
            element_count=len(wanted),
            considered=len(wanted),
            unexpected_count=len(missing) + len(extra),
            observed=list(columns),
            sample=[{"missing_column": c} for c in missing] + [{"unexpected_column": c} for c in extra],
        )
    n = con.execute(f"SELECT count(*) FROM {suite.table}").fetchone()[0]
    low, high = k.get("min_value"), k.get("max_value")
    ok = (low is None or n >= low) and (high is None or n <= high)
    return ExpectationOutcome(exp, success=ok, element_count=n, observed=n)


# Columns of an unexpected-rows result that name the batch a row belongs to, besides batch_by.
BATCH_COLUMNS = ("_batch_id", "batch_id")


def _unexpected_rows(
    con, suite: Suite, exp: Expectation, sample_size: int, batch_by: str | None = None
) -> ExpectationOutcome:
    query = exp.kwargs["unexpected_rows_query"].replace("{batch}", f"(SELECT * FROM {suite.table})")
    try:
        cursor = con.execute(f"SELECT *, count(*) OVER () AS _unexpected_rows FROM ({query}) AS q LIMIT {sample_size}")
        sample = _rows(cursor)
    except duckdb.Error as exc:
        return ExpectationOutcome(exp, success=False, error=f"{type(exc).__name__}: {exc}")
    n = sample[0]["_unexpected_rows"] if sample else 0
    for row in sample:
        row.pop("_unexpected_rows", None)
    failing = []
    names = [d[0] for d in cursor.description]
    by = next((c for c in ((batch_by,) if batch_by else ()) + BATCH_COLUMNS if c in names), None)
    if n and by:  # which batches the unexpected rows belong to: they hold those batches only
        failing = [
            {"batch": b, "file": b, "considered": None, "unexpected": k}
            for b, k in con.execute(
                f"SELECT {ident(by)}, count(*) FROM ({query}) AS q GROUP BY 1 ORDER BY 1"
            ).fetchall()
        ]
    return ExpectationOutcome(
        exp, success=n == 0, unexpected_count=n, observed=n, sample=sample, failing_batches=failing
    )


def _map_expectations(
    con,
    suite: Suite,
    map_exps: list[tuple[int, Expectation]],
    columns: dict[str, str],
    profiles: list[str | None],
    profile_col: str | None,
    params: dict[str | None, dict[str, Any]],
    batch_by: str | None,
    sample_size: int,
    outcomes: dict[int, ExpectationOutcome],
) -> tuple[int, int]:
    """All row-level expectations in one grouped scan (duplicates: one hash aggregate each);
    then a sample of each one's failing rows."""
    label_col = "_source_file" if batch_by and "_source_file" in columns else batch_by
    batch_expr = ident(batch_by) if batch_by else literal(suite.table)
    pair_columns = {
        c
        for _, e in map_exps
        if e.type == "expect_column_pair_values_a_to_be_greater_than_b"
        for c in columns_of(e)
        if _is_text(columns, c)
    }
    text_as = probe_text_types(con, suite.table, sorted(pair_columns))
    flags: dict[int, tuple[str, str]] = {}
    skipped: dict[int, list[str]] = {}
    for i, exp in map_exps:
        per_profile: dict[str | None, tuple[str, str]] = {}
        skipped[i] = []
        for profile in profiles:
            bound, missing = _bound(exp, params[profile])
            if bound is None:
                skipped[i].append(_skip_reason(profile, missing))
                continue
            per_profile[profile] = map_predicates(bound, columns, batch_by, text_as)
        if not per_profile:
            flags[i] = ("FALSE", "FALSE")
        elif len(set(per_profile.values())) == 1 and len(per_profile) == len(profiles):
            flags[i] = next(iter(per_profile.values()))
        else:
            p = ident(profile_col)
            dom = " ".join(f"WHEN {literal(pr)} THEN ({d})" for pr, (d, _u) in per_profile.items())
            unx = " ".join(f"WHEN {literal(pr)} THEN ({u})" for pr, (_d, u) in per_profile.items())
            flags[i] = (f"coalesce(CASE {p} {dom} END, FALSE)", f"CASE {p} {unx} END")

    # counts[batch] = [label, rows, considered and unexpected per expectation...]; the flags are
    # computed in one projection, so a cast shared by several expectations is computed once
    projections = [f"{batch_expr} AS _gate_batch", f"{ident(label_col) if label_col else literal(suite.table)} AS _l"]
    aggregates = ["_gate_batch", "any_value(_l)", "count(*)"]
    for i, exp in map_exps:
        domain, unexpected = flags[i]
        windowed = exp.type in WINDOWED
        projections.append(f"({domain}) AS _d{i}")
        projections.append("FALSE" if windowed else f"(({domain}) AND coalesce(({unexpected}), FALSE)) AS _u{i}")
        aggregates += [f"count_if(_d{i})", "0" if windowed else f"count_if(_u{i})"]
    query = f"SELECT {', '.join(aggregates)} FROM (SELECT {', '.join(projections)} FROM {suite.table}) GROUP BY 1"
    counts = {r[0]: list(r[1:]) for r in con.execute(query + " ORDER BY 2, 1").fetchall()}
    for n, (i, exp) in enumerate(map_exps):
        if exp.type in WINDOWED:  # rows whose value (or values) repeat within the batch
            cols = ", ".join(ident(c) for c in columns_of(exp))
            for batch, duplicated in con.execute(
                f"SELECT _gate_batch, sum(n) FROM (SELECT {batch_expr} AS _gate_batch, {cols}, count(*) AS n "
                f"FROM {suite.table} WHERE {flags[i][0]} GROUP BY ALL HAVING count(*) > 1) GROUP BY 1"
            ).fetchall():
                counts[batch][3 + 2 * n] = int(duplicated)
    rows = sum(c[1] for c in counts.values())

    for n, (i, exp) in enumerate(map_exps):
        mostly = float(exp.kwargs.get("mostly", 1))
        considered = unexpected = 0
        failing = []
        for batch, c in counts.items():
            d, u = c[2 + 2 * n], c[3 + 2 * n]
            considered += d
            unexpected += u
            if d and (d - u) / d < mostly:
                failing.append({"batch": batch, "file": c[0], "considered": d, "unexpected": u})
        outcome = ExpectationOutcome(
            exp,
            success=not failing,
            element_count=rows,
            considered=considered,
            unexpected_count=unexpected,
            failing_batches=failing,
            skipped=skipped[i],
            evaluated=len(skipped[i]) < len(profiles),
        )
        if unexpected:
            domain, unexp = flags[i]
            shown = list(dict.fromkeys([c for c in suite.show if c in columns] + columns_of(exp)))
            order = ", ".join(ident(c) for c in shown if c in suite.show) or "1"
            # only the batches that have unexpected rows (a landed file is stored together: cheap to find)
            where = ""
            if batch_by:
                with_unexpected = [b for b, c in counts.items() if c[3 + 2 * n]]
                where = f" WHERE {ident(batch_by)} IN ({', '.join(literal(b) for b in with_unexpected)})"
            cursor = con.execute(
                f"SELECT {', '.join(ident(c) for c in shown)} FROM "
                f"(SELECT *, ({domain}) AND coalesce(({unexp}), FALSE) AS _gate_unexpected FROM {suite.table}{where}) "
                f"WHERE _gate_unexpected ORDER BY {order} LIMIT {sample_size}"
            )
            outcome.sample = _rows(cursor)
        outcomes[i] = outcome
    return rows, len(counts)


def outcome_json(outcome: SuiteOutcome, run_id: str | None = None) -> str:
    return json.dumps(outcome.to_gx_dict(run_id), indent=2, default=str)
