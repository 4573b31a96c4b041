"""Expectation suites as data: Great Expectations suites written as YAML under ``expectations/``.

A suite file has GX's own suite fields (``name``, ``expectations`` with ``type``, ``kwargs``,
``severity``, ``meta``; ``notes``) plus, under ``meta.gate``, what the gate guards:

    meta:
      gate:
        asset: raw/calls_for_service     # the Dagster asset the blocking check is attached to
        table: raw.calls_for_service     # what the expectations read
        batch_by: _batch_id              # judge each landed file on its own (omit: the whole table)
        profile_column: _source_profile  # suite parameters can differ per source profile
        show: [_source_file, _row_number, call_id]   # shown beside each failing value
        scope: {column: admitted_at, key: call_key}  # marts: judge only rows admitted since the
                                         # batch last passed, and rows sharing their keys
                                         # (orchestration/checks/gate_scope.py)
      parameters:                        # values for {"$PARAMETER": name} in kwargs
        defaults: {...}
        by_profile: {profile_name: {...}}

Loading a suite needs no Great Expectations import (it costs seconds); the tests load every
suite into GX's ``ExpectationSuite`` to prove the files are valid GX suites. Two expectation types
GX cannot run on DuckDB are converted when the suite loads into GX's own
``unexpected_rows_expectation`` with DuckDB SQL (``Expectation.gx_type`` / ``gx_kwargs``):
``expect_column_values_to_match_regex`` (GX: "Regex is not supported for dialect duckdb") and
``expect_column_values_to_match_strftime_format`` (implemented by GX for pandas and Spark only).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from orchestration.settings import PROJECT_ROOT

EXPECTATIONS_DIR = PROJECT_ROOT / "expectations"
BOUNDARIES = {
    "raw_to_staging": "raw -> staging: a landed extract is fit to be typed and deduplicated",
    "marts_to_serving": "marts -> serving: a mart is fit to be published",
}
SEVERITIES = ("critical", "warning", "info")

# Expectation types the gates run (through GX), with the kwargs each needs.
SUPPORTED: dict[str, tuple[str, ...]] = {
    "expect_table_columns_to_match_set": ("column_set",),
    "expect_table_row_count_to_be_between": (),
    "expect_column_values_to_not_be_null": ("column",),
    "expect_column_values_to_be_unique": ("column",),
    "expect_compound_columns_to_be_unique": ("column_list",),
    "expect_column_values_to_be_in_set": ("column", "value_set"),
    "expect_column_values_to_be_between": ("column",),
    "expect_column_values_to_match_strftime_format": ("column", "strftime_format"),
    "expect_column_values_to_match_regex": ("column", "regex"),
    "expect_column_pair_values_a_to_be_greater_than_b": ("column_A", "column_B"),
    "unexpected_rows_expectation": ("unexpected_rows_query",),
}


class SuiteError(ValueError):
    """A suite file that cannot be used, naming the file and the expectation at fault."""


def _sql_text(value: str) -> str:
    """A DuckDB string literal inside an unexpected-rows query (braces doubled: GX formats the
    query with ``{batch}``)."""
    return "'" + value.replace("'", "''").replace("{", "{{").replace("}", "}}") + "'"


# Types GX cannot run on DuckDB -> the DuckDB condition that makes a (non-missing) value unexpected.
AS_UNEXPECTED_ROWS = {
    "expect_column_values_to_match_regex": lambda col, k: (
        f"NOT regexp_matches(CAST({col} AS VARCHAR), {_sql_text(k['regex'])})"
    ),
    "expect_column_values_to_match_strftime_format": lambda col, k: (
        f"try_strptime(CAST({col} AS VARCHAR), {_sql_text(k['strftime_format'])}) IS NULL"
    ),
}


def as_gx(etype: str, kwargs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """The expectation as GX runs it on DuckDB: itself, or an ``unexpected_rows_expectation``
    whose query returns the batch's rows that break it (missing values are not judged, as in GX)."""
    if etype == "unexpected_rows_expectation":
        # GX puts the batch's query where {batch} is, as "(...) AS subselect": wrapped, a suite's
        # query can give {batch} an alias of its own ("FROM {batch} AS f")
        query = kwargs["unexpected_rows_query"].replace("{batch}", "(SELECT * FROM {batch})")
        return etype, {**kwargs, "unexpected_rows_query": query}
    if etype not in AS_UNEXPECTED_ROWS:
        return etype, kwargs
    col = '"' + kwargs["column"].replace('"', '""') + '"'
    query = f"SELECT * FROM {{batch}} WHERE {col} IS NOT NULL AND {AS_UNEXPECTED_ROWS[etype](col, kwargs)}"
    return "unexpected_rows_expectation", {"unexpected_rows_query": query}


@dataclass(frozen=True)
class Expectation:
    type: str
    kwargs: dict[str, Any]
    severity: str = "critical"
    meta: dict[str, Any] = field(default_factory=dict)
    description: str | None = None
    # what GX runs: the same, or the unexpected-rows form of a type GX cannot run on DuckDB
    gx_type: str = ""
    gx_kwargs: dict[str, Any] = field(default_factory=dict)

    @property
    def label(self) -> str:
        """A short readable name: the type and the columns it looks at."""
        k = self.kwargs
        if "column" in k:
            target = k["column"]
        elif "column_A" in k:
            target = f"{k['column_A']} >{'=' if k.get('or_equal') else ''} {k['column_B']}"
        elif "column_list" in k:
            target = ", ".join(k["column_list"])
        else:
            target = self.meta.get("name", "")
        return f"{self.type}({target})" if target else self.type

    @property
    def parameters(self) -> set[str]:
        """Names of the suite parameters ({"$PARAMETER": name}) in the kwargs, and those its meta
        ``requires`` (a profile without a value for one skips the expectation, saying why)."""
        used = {v["$PARAMETER"] for v in self.kwargs.values() if isinstance(v, dict) and "$PARAMETER" in v}
        return used | set(self.meta.get("requires", ()))

    def to_gx_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": self.type, "kwargs": self.kwargs, "meta": self.meta, "severity": self.severity}
        if self.description:
            out["description"] = self.description
        return out


@dataclass(frozen=True)
class Suite:
    name: str
    boundary: str
    asset_path: tuple[str, ...]
    table: str
    expectations: tuple[Expectation, ...]
    batch_by: str | None = None
    profile_column: str | None = None
    show: tuple[str, ...] = ()
    scope_column: str | None = None  # when a row was admitted: a batch that passed is judged from then on
    scope_key: str | None = None  # rows sharing a key with a row in scope are judged with it
    defaults: dict[str, Any] = field(default_factory=dict)
    by_profile: dict[str, dict[str, Any]] = field(default_factory=dict)
    notes: str = ""
    path: Path | None = None

    @property
    def check_name(self) -> str:
        """The Dagster check's name: one gate per asset, named by its boundary."""
        return f"{self.boundary}_gate"

    @property
    def schema(self) -> str:
        return self.table.split(".", 1)[0]

    @property
    def relation(self) -> str:
        return self.table.split(".", 1)[1]

    def to_gx_dict(self) -> dict[str, Any]:
        """The suite in GX's JSON shape (``ExpectationSuite(**suite.to_gx_dict())`` loads it)."""
        return {
            "name": self.name,
            "expectations": [e.to_gx_dict() for e in self.expectations],
            "meta": {
                "gate": {"asset": "/".join(self.asset_path), "table": self.table, "batch_by": self.batch_by},
                "parameters": {"defaults": self.defaults, "by_profile": self.by_profile},
            },
            "notes": self.notes or None,
        }


def parse_suite(data: Any, path: Path | None = None, boundary: str | None = None) -> Suite:
    """Check a suite's content and build it; errors name the file and the expectation."""
    where = str(path) if path else "<suite>"
    if not isinstance(data, dict):
        raise SuiteError(f"{where}: a suite is a mapping with name, meta.gate and expectations")
    for key in ("name", "expectations"):
        if key not in data:
            raise SuiteError(f"{where}: missing key '{key}'")
    meta = data.get("meta") or {}
    gate = meta.get("gate") or {}
    for key in ("asset", "table"):
        if key not in gate:
            raise SuiteError(f"{where}: missing key 'meta.gate.{key}'")
    if "." not in gate["table"]:
        raise SuiteError(f"{where}: meta.gate.table must be schema.table, got {gate['table']!r}")
    boundary = boundary or (path.parent.name if path else None) or str(data["name"]).split(".", 1)[0]
    if boundary not in BOUNDARIES:
        raise SuiteError(f"{where}: boundary {boundary!r} is not one of {sorted(BOUNDARIES)}")
    params = meta.get("parameters") or {}
    expectations = []
    for i, raw in enumerate(data["expectations"] or [], start=1):
        at = f"{where}: expectation {i}"
        if not isinstance(raw, dict) or "type" not in raw:
            raise SuiteError(f"{at}: needs a 'type'")
        etype = raw["type"]
        if etype not in SUPPORTED:
            raise SuiteError(f"{at}: type {etype!r} is not supported here; supported: {', '.join(SUPPORTED)}")
        kwargs = dict(raw.get("kwargs") or {})
        if etype == "unexpected_rows_expectation" and isinstance(kwargs.get("unexpected_rows_query"), str):
            kwargs["unexpected_rows_query"] = _with_parameters(
                kwargs["unexpected_rows_query"], params.get("defaults") or {}, at
            )
        missing = [k for k in SUPPORTED[etype] if k not in kwargs]
        if missing:
            raise SuiteError(f"{at} ({etype}): missing kwargs {', '.join(missing)}")
        severity = raw.get("severity", "critical")
        if severity not in SEVERITIES:
            raise SuiteError(f"{at} ({etype}): severity {severity!r} is not one of {', '.join(SEVERITIES)}")
        mostly = kwargs.get("mostly", 1)
        if not isinstance(mostly, int | float) or not 0 <= mostly <= 1:
            raise SuiteError(f"{at} ({etype}): mostly must be a number between 0 and 1, got {mostly!r}")
        if etype in AS_UNEXPECTED_ROWS and "mostly" in kwargs:
            raise SuiteError(f"{at} ({etype}): runs as GX's unexpected_rows_expectation on DuckDB, without mostly")
        gx_type, gx_kwargs = as_gx(etype, kwargs)
        expectations.append(
            Expectation(
                type=etype,
                kwargs=kwargs,
                severity=severity,
                meta=dict(raw.get("meta") or {}),
                description=raw.get("description"),
                gx_type=gx_type,
                gx_kwargs=gx_kwargs,
            )
        )
    if not expectations:
        raise SuiteError(f"{where}: a suite needs at least one expectation")
    scope = gate.get("scope") or {}
    if scope and (not isinstance(scope, dict) or not scope.get("column") or not gate.get("batch_by")):
        raise SuiteError(f"{where}: meta.gate.scope is {{column: ..., key: ...}} and needs meta.gate.batch_by")
    return Suite(
        name=str(data["name"]),
        boundary=boundary,
        asset_path=tuple(str(gate["asset"]).split("/")),
        table=str(gate["table"]),
        expectations=tuple(expectations),
        batch_by=gate.get("batch_by"),
        profile_column=gate.get("profile_column"),
        show=tuple(gate.get("show") or ()),
        scope_column=scope.get("column"),
        scope_key=scope.get("key"),
        defaults=dict(params.get("defaults") or {}),
        by_profile={str(k): dict(v or {}) for k, v in (params.get("by_profile") or {}).items()},
        notes=str(data.get("notes") or "").strip(),
        path=path,
    )


QUERY_PARAMETER = re.compile(r"\$\{(\w+)\}")


def _with_parameters(query: str, defaults: dict[str, Any], at: str) -> str:
    """``${name}`` in an unexpected-rows query is the suite parameter ``name`` (its default), so a
    threshold is written once, under ``meta.parameters.defaults``, for queries and kwargs alike."""

    def value(match: re.Match) -> str:
        name = match.group(1)
        if name not in defaults:
            raise SuiteError(f"{at}: query parameter ${{{name}}} is not in meta.parameters.defaults")
        v = defaults[name]
        if not isinstance(v, int | float) or isinstance(v, bool):
            raise SuiteError(f"{at}: query parameter ${{{name}}} must be a number, got {v!r}")
        return repr(v)

    return QUERY_PARAMETER.sub(value, query)


def load_suite(path: Path) -> Suite:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise SuiteError(f"{path}: not valid YAML: {exc}") from exc
    return parse_suite(data, path)


def load_suites(root: Path = EXPECTATIONS_DIR) -> list[Suite]:
    """Every suite under ``expectations/<boundary>/*.yaml``; one suite per asset."""
    suites: list[Suite] = []
    seen: dict[tuple[str, ...], Path | None] = {}
    for boundary in BOUNDARIES:
        for path in sorted((root / boundary).glob("*.yaml")):
            suite = load_suite(path)
            if suite.asset_path in seen:
                asset = "/".join(suite.asset_path)
                raise SuiteError(f"{path}: asset {asset} already has a suite in {seen[suite.asset_path]}")
            seen[suite.asset_path] = path
            suites.append(suite)
    return suites
