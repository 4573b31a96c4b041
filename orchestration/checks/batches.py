"""What GX is given to validate: one batch per landed file (raw) or per city (marts), the suite
parameters of each batch's source profile, and the batch's query with typed values.

Nothing here judges a row: these are the lookups that set up GX's batches (which batches, their
rows, their profile, the city box from ``raw.areas``), made with one short read-only DuckDB
connection before GX opens its own.

Raw tables keep every value as text. Where an expectation compares numbers or times
(``expect_column_values_to_be_between``, ``expect_column_pair_values_a_to_be_greater_than_b``,
a numeric ``value_set``), the batch's query adds a typed copy of the text column,
``try_cast(col AS DOUBLE)`` (or ``TIMESTAMP`` for a pair whose values are timestamps) named
``col__typed``, and the expectation runs on it; the text column stays as it is for the format
expectations. A value that does not cast is missing in the typed copy, so the comparison leaves it
out, and the column's format expectation (or landing's quarantine) is what catches it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from orchestration.checks.suites import Expectation, Suite

CITY_BOX = ("city_min_latitude", "city_max_latitude", "city_min_longitude", "city_max_longitude")
# Given (1.0) for a profile of one row per call; absent for one of one row per responding unit
# (landing names each row's unit), whose ids repeat by design: the expectation that uses it is
# skipped there, and (call_id, unit_id) is checked instead.
ONE_ROW_PER_CALL = "one_row_per_call"
# a parameter <field>_values: the codes a source profile accepts for that field (accepted_values)
VALUES_SUFFIX = "_values"
TYPED_SUFFIX = "__typed"


@dataclass(frozen=True)
class Batch:
    """One GX batch: the rows of one value of the suite's ``batch_by`` (or the whole table)."""

    key: str | None  # the batch_by value (batch id, profile, city); None: the whole table
    label: str  # what a person reads: the file, the city, the table
    profile: str | None
    rows: int
    together: tuple[str, ...] = ()  # several batches' keys read as one (the screening pass)
    scope: str | None = None  # a condition keeping the rows to judge (gate_scope.py); None: every row


def together(batches: list[Batch], what: str = "files") -> Batch:
    """Several batches of one profile read as one GX batch."""
    return Batch(
        None,
        f"{len(batches)} {what} together",
        batches[0].profile,
        sum(x.rows for x in batches),
        tuple(x.key for x in batches),
    )


def ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def literal(value: Any) -> str:
    if value is None:
        return "NULL"
    return "'" + str(value).replace("'", "''") + "'"


def jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, float) and value != value:  # NaN
        return None
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    return value


def table_columns(con, suite: Suite) -> dict[str, str]:
    return dict(
        con.execute(
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = ? AND table_name = ? ORDER BY ordinal_position",
            [suite.schema, suite.relation],
        ).fetchall()
    )


def table_exists(con, schema: str, table: str) -> bool:
    return bool(
        con.execute(
            "SELECT 1 FROM information_schema.tables WHERE table_schema = ? AND table_name = ?", [schema, table]
        ).fetchone()
    )


def list_batches(
    con, suite: Suite, columns: dict[str, str], wanted: frozenset[str] | None, whole: bool = False
) -> list[Batch]:
    """The batches to validate: each value of ``batch_by`` (restricted to ``wanted``), with its
    label, profile and row count; the whole table when the suite has no batch column, when
    ``whole``, or when the table is empty (so that a row-count expectation still judges it)."""
    by = suite.batch_by if suite.batch_by in columns and not whole else None
    label = "_source_file" if by and "_source_file" in columns else by
    profile = suite.profile_column if suite.profile_column in columns else None
    if by:
        rows = con.execute(
            f"SELECT {ident(by)}, any_value({ident(label)}), {f'any_value({ident(profile)})' if profile else 'NULL'}, "
            f"count(*) FROM {suite.table} WHERE {ident(by)} IS NOT NULL GROUP BY 1 ORDER BY 2, 1"
        ).fetchall()
        batches = [Batch(str(k), str(lab), p, n) for k, lab, p, n in rows if wanted is None or str(k) in wanted]
        if batches or wanted is not None:
            return batches
    n = con.execute(f"SELECT count(*) FROM {suite.table}").fetchone()[0]
    profiles = [None]
    if profile:
        profiles = [r[0] for r in con.execute(f"SELECT DISTINCT {ident(profile)} FROM {suite.table}").fetchall()]
    return [Batch(None, suite.table, profiles[0] if len(profiles) == 1 else None, n)]


def city_boxes(con, suite: Suite, columns: dict[str, str]) -> dict[str, dict]:
    """The city's bounding box for each source profile, from ``raw.areas``.

    A profile's city is the areas file that shares the most beats with it (at least half of the
    profile's beats); its box is the union of that file's beat boxes. Profiles without such an
    areas file get no box (their coordinate expectations are skipped, and the result says so).
    """
    if not suite.profile_column or "beat" not in columns or not table_exists(con, "raw", "areas"):
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
    con, suite: Suite, columns: dict[str, str], profiles: list[str | None]
) -> dict[str | None, dict[str, Any]]:
    """GX's expectation parameters per profile: the suite's defaults, then what the data says (the
    city's box from raw.areas), then the suite's own values for that profile."""
    wanted = set().union(*(e.parameters for e in suite.expectations))
    derived = city_boxes(con, suite, columns) if wanted & set(CITY_BOX) else {}
    for profile, declared in declared_values(con, wanted).items():
        derived.setdefault(profile, {}).update(declared)
    by_unit = unit_row_profiles(con, suite, columns, profiles) if ONE_ROW_PER_CALL in wanted else set()
    out: dict[str | None, dict[str, Any]] = {}
    for profile in profiles:
        params = dict(suite.defaults)
        params.update(derived.get(profile or "", {}))
        if ONE_ROW_PER_CALL in wanted and profile not in by_unit:
            params[ONE_ROW_PER_CALL] = 1.0
        params.update(suite.by_profile.get(profile or "", {}))
        out[profile] = {k: v for k, v in params.items() if v is not None}
    return out


def declared_values(con, wanted: set[str]) -> dict[str, dict[str, list[str]]]:
    """Parameters ``<field>_values`` from the codes each source profile accepts for that field
    (its ``accepted_values``, kept in raw.source_profiles at landing): profile -> {parameter: codes}."""
    fields = {name.removesuffix(VALUES_SUFFIX): name for name in wanted if name.endswith(VALUES_SUFFIX)}
    has_column = con.execute(
        "SELECT 1 FROM information_schema.columns WHERE table_schema = 'raw' AND table_name = 'source_profiles' "
        "AND column_name = 'accepted_values'"
    ).fetchone()
    if not fields or not has_column:
        return {}
    marks = ", ".join("?" for _ in fields)
    rows = con.execute(
        "SELECT source_profile, canonical_field, accepted_values FROM raw.source_profiles "
        f"WHERE accepted_values IS NOT NULL AND canonical_field IN ({marks})",
        list(fields),
    ).fetchall()
    out: dict[str, dict[str, list[str]]] = {}
    for profile, fld, codes in rows:
        out.setdefault(profile, {})[fields[fld]] = json.loads(codes)
    return out


def unit_row_profiles(con, suite: Suite, columns: dict[str, str], profiles: list[str | None]) -> set[str | None]:
    """The profiles whose landed rows name a unit: one row per responding unit (grain unit)."""
    if not suite.profile_column or "unit_id" not in columns:
        return set()
    p = ident(suite.profile_column)
    named = [x for x in profiles if x is not None]
    if not named:
        return set()
    marks = ", ".join("?" for _ in named)
    rows = con.execute(
        f"SELECT DISTINCT {p} FROM {suite.table} WHERE {p} IN ({marks}) AND unit_id IS NOT NULL", named
    ).fetchall()
    return {r[0] for r in rows}


def skip_reason(profile: str | None, missing: set[str]) -> str:
    if missing == {ONE_ROW_PER_CALL}:
        return f"{profile}: one row per responding unit (grain unit): a call's id repeats once per unit by design"
    why = f"{profile or 'table'}: no value for {', '.join(sorted(missing))}"
    if missing & set(CITY_BOX):
        why += " (no raw.areas rows share this profile's beats, and the suite gives no box for it)"
    listed = sorted(m.removesuffix(VALUES_SUFFIX) for m in missing if m.endswith(VALUES_SUFFIX))
    if listed:
        why += f" (its source profile lists no accepted_values for {', '.join(listed)})"
    return why


def _is_text(columns: dict[str, str], column: str) -> bool:
    return columns.get(column, "").upper().startswith("VARCHAR")


def _numeric_set(value_set: Any) -> bool:
    return (
        isinstance(value_set, list)
        and bool(value_set)
        and all(isinstance(v, int | float) and not isinstance(v, bool) for v in value_set)
    )


def typed_columns(con, suite: Suite, columns: dict[str, str]) -> dict[str, str]:
    """Text column -> the type its typed copy gets, for the columns an expectation compares."""
    typed: dict[str, str] = {}
    pair: set[str] = set()
    for e in suite.expectations:
        k = e.kwargs
        if e.type == "expect_column_values_to_be_between" or (
            e.type == "expect_column_values_to_be_in_set" and _numeric_set(k.get("value_set"))
        ):
            if _is_text(columns, k["column"]):
                typed[k["column"]] = "DOUBLE"
        elif e.type == "expect_column_pair_values_a_to_be_greater_than_b" and all(
            _is_text(columns, k[side]) for side in ("column_A", "column_B")
        ):
            pair |= {k["column_A"], k["column_B"]}
    for column in sorted(pair - set(typed)):
        c = ident(column)
        n, numbers, stamps = con.execute(
            f"SELECT count(*), count(try_cast({c} AS DOUBLE)), count(try_cast({c} AS TIMESTAMP)) "
            f"FROM (SELECT {c} FROM {suite.table} WHERE {c} IS NOT NULL LIMIT 1000)"
        ).fetchone()
        if n and numbers >= 0.9 * n:
            typed[column] = "DOUBLE"
        elif n and stamps >= 0.9 * n:
            typed[column] = "TIMESTAMP"
    return typed


def batch_query(suite: Suite, batch: Batch, typed: dict[str, str], ordered: bool = True) -> str:
    """The query asset's SQL for one batch: its rows in file order, with typed copies. Unordered
    (``ordered=False``) when no row is shown from it: every metric GX asks of the batch would sort
    it again (4 of the 6 seconds of a timestamp-order expectation on ten million calls)."""
    extra = "".join(f", try_cast({ident(c)} AS {t}) AS {ident(c + TYPED_SUFFIX)}" for c, t in typed.items())
    where = ""
    if batch.key is not None:
        where = f" WHERE {ident(suite.batch_by)} = {literal(batch.key)}"
    elif batch.together:
        where = f" WHERE {ident(suite.batch_by)} IN ({', '.join(literal(k) for k in batch.together)})"
    if batch.scope:
        where += f" AND ({batch.scope})" if where else f" WHERE {batch.scope}"
    order = [c for c in suite.show if c in ("_source_file", "_row_number", "source_file", "row_number")]
    order_by = f" ORDER BY {', '.join(ident(c) for c in order)}" if order and ordered else ""
    return f"SELECT *{extra} FROM {suite.table}{where}{order_by}"


def run_kwargs(exp: Expectation, typed: dict[str, str]) -> dict[str, Any]:
    """The expectation's kwargs as GX runs them: compared columns read from their typed copies."""
    kwargs = dict(exp.gx_kwargs)
    if exp.gx_type in ("expect_column_values_to_be_between", "expect_column_values_to_be_in_set"):
        if kwargs["column"] in typed:
            kwargs["column"] += TYPED_SUFFIX
    elif exp.gx_type == "expect_column_pair_values_a_to_be_greater_than_b":
        a, b = kwargs["column_A"], kwargs["column_B"]
        if a in typed and b in typed and typed[a] == typed[b]:
            kwargs["column_A"], kwargs["column_B"] = a + TYPED_SUFFIX, b + TYPED_SUFFIX
    return kwargs
