"""Run a suite through Great Expectations: GX's SQL datasource on the DuckDB warehouse file, one
query asset per batch (a landed file, or a city), every expectation of the suite validated on it
at once with ``batch.validate``, the profile's parameters passed as GX expectation parameters.

``mostly`` is GX's, judged by GX in each batch: one bad row in a big file passes, a file of bad
rows fails. The results are GX's ``ExpectationSuiteValidationResult`` (one per batch, kept on the
outcome for the Data Docs), added up per expectation for the ledger, the check and the alert.
GX is imported here, when a gate runs (see ``gx_duckdb``).
"""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass, replace
from typing import Any

import duckdb

from orchestration.checks import batches as b
from orchestration.checks.gx_duckdb import import_gx, quiet
from orchestration.checks.outcomes import ExpectationOutcome, SuiteOutcome
from orchestration.checks.suites import Suite

SAMPLE_SIZE = 5
_names = itertools.count()


def evaluate_suite(
    warehouse_path,
    suite: Suite,
    batches: frozenset[str] | None = None,
    whole: bool = False,
    sample_size: int = SAMPLE_SIZE,
    scopes: dict[str, tuple[str, int]] | None = None,
) -> SuiteOutcome:
    """Validate the suite on each batch of its table with GX; never raises for bad data.

    ``batches``: the values of the suite's ``batch_by`` to judge (the files the ledger says need
    judging); None judges every batch. ``whole``: one batch, the whole table. ``scopes``: per
    batch value, the condition keeping the rows to judge and how many they are (gate_scope.py);
    a batch without one is judged on every row."""
    started = time.perf_counter()
    with duckdb.connect(str(warehouse_path), read_only=True) as con:
        columns = b.table_columns(con, suite)
        if not columns:
            return SuiteOutcome(
                suite,
                [ExpectationOutcome(e, success=True, evaluated=False) for e in suite.expectations],
                skipped_reason=f"{suite.table} does not exist yet: the suite applies once it is there",
                elapsed_seconds=time.perf_counter() - started,
            )
        todo = b.list_batches(con, suite, columns, batches, whole)
        if scopes:
            todo = [replace(x, scope=scopes[x.key][0], rows=scopes[x.key][1]) if x.key in scopes else x for x in todo]
        params = b.resolve_parameters(con, suite, columns, sorted({x.profile for x in todo}, key=str))
        typed = b.typed_columns(con, suite, columns)
    show = [c for c in suite.show if c in columns]
    outcomes = [ExpectationOutcome(e, success=True, evaluated=False) for e in suite.expectations]
    runs: list[tuple[b.Batch, Any, set[int]]] = []  # (batch, GX result, expectations taken from it)
    gx_suite = None
    if todo:
        gx = import_gx()
        gx_suite = _gx_suite(gx, suite, typed)
        context = gx.get_context(mode="ephemeral")
        quiet(context)
        name = f"warehouse_{next(_names)}"
        source = context.data_sources.add_sql(
            name, connection_string=f"duckdb:///{warehouse_path}", kwargs={"connect_args": {"read_only": True}}
        )
        try:
            for profile, group in _by_profile(todo).items():
                skipped = _skipped(suite, profile, params[profile])
                for i, reason in skipped.items():
                    outcomes[i].skipped.append(reason)
                judge = [i for i in range(len(suite.expectations)) if i not in skipped]
                validate = GXRun(gx, source, suite, params[profile], typed, show, sample_size)
                if suite.boundary == "raw_to_staging" and len(group) > 1:
                    screen = b.together(group)
                    result = validate(screen, judge, screening=True)
                    clean = {i for i in judge if _found_nothing(suite.expectations[i], _result_of(result, i))}
                    if clean:
                        runs.append((screen, _taken(result, clean), clean))
                    judge = [i for i in judge if i not in clean]
                for batch in group if judge else []:
                    runs.append((batch, validate(batch, judge), set(judge)))
        finally:
            _close(source)  # the dbt step after the gate takes the file's write lock
            context.data_sources.delete(name)
    for batch, result, taken in runs:
        _add(outcomes, suite, batch, result, taken, typed, show, sample_size)
    used = set().union(*(e.parameters for e in suite.expectations))
    shown = {p or "table": {k: v for k, v in ps.items() if k in used} for p, ps in params.items()}
    return SuiteOutcome(
        suite,
        outcomes,
        rows=sum(x.rows for x in todo),
        batches=len(todo),
        parameters=shown if used else {},
        validation_results=[r.to_json_dict() for _, r, _ in runs],
        gx_results=[(batch.label, batch.key, r) for batch, r, _ in runs],
        gx_suite=gx_suite,
        elapsed_seconds=time.perf_counter() - started,
    )


def _by_profile(todo: list[b.Batch]) -> dict[str | None, list[b.Batch]]:
    groups: dict[str | None, list[b.Batch]] = {}
    for batch in todo:
        groups.setdefault(batch.profile, []).append(batch)
    return groups


def _skipped(suite: Suite, profile: str | None, params: dict[str, Any]) -> dict[int, str]:
    """Expectations whose parameters this profile has no value for: not run, and said so."""
    out = {}
    for i, e in enumerate(suite.expectations):
        missing = e.parameters - set(params)
        if missing:
            out[i] = b.skip_reason(profile, missing)
    return out


def _result_of(result, i: int):
    return next(r for r in result.results if r.expectation_config.meta["gate_index"] == i)


def _taken(result, clean: set[int]):
    """The screening's GX result reduced to what the gate took from it: the expectations GX found
    nothing for in the files together (the others are GX's verdicts on each file)."""
    from great_expectations.core import ExpectationSuiteValidationResult

    kept = [r for r in result.results if r.expectation_config.meta["gate_index"] in clean]
    return ExpectationSuiteValidationResult(
        success=True,
        results=kept,
        suite_name=result.suite_name,
        suite_parameters=result.suite_parameters,
        statistics={
            "evaluated_expectations": len(kept),
            "successful_expectations": len(kept),
            "unsuccessful_expectations": 0,
            "success_percent": 100.0,
        },
        meta={**result.meta, "screened": "the expectations GX found nothing for in these files together"},
    )


def _found_nothing(e, r) -> bool:
    """GX found no unexpected value (or row) for the files together, so none in any one of them.
    A row count is judged per file whatever (a file may be short while the files together are not)."""
    res = r.result or {}
    if not r.success or _error(r.exception_info) or e.gx_type == "expect_table_row_count_to_be_between":
        return False
    if e.gx_type == "unexpected_rows_expectation":
        return int(res.get("observed_value") or 0) == 0
    return int(res.get("unexpected_count") or 0) == 0


def _close(source) -> None:
    """Close every DuckDB connection GX opened: its execution engine's and the datasource's own."""
    engine = source.get_execution_engine()
    if engine._connection is not None:
        engine._connection.close()
        engine._connection = None
    engine.engine.dispose()
    source.get_engine().dispose()


def _gx_suite(gx, suite: Suite, typed: dict[str, str], indexes=None):
    """The suite as GX runs it (converted types, typed columns, ``$PARAMETER`` placeholders)."""
    from great_expectations.expectations.expectation_configuration import ExpectationConfiguration

    expectations = []
    for i, e in enumerate(suite.expectations):
        if indexes is None or i in indexes:
            config = ExpectationConfiguration(
                type=e.gx_type,
                kwargs=b.run_kwargs(e, typed),
                meta={**e.meta, "gate_index": i, "gate_label": e.label},
                severity=e.severity,
                description=e.description,
            )
            expectations.append(config.to_domain_obj())
    return gx.ExpectationSuite(name=suite.name, expectations=expectations, notes=suite.notes or None)


@dataclass
class GXRun:
    """Validates expectations of one suite with one profile's parameters, one batch at a time."""

    gx: Any
    source: Any
    suite: Suite
    params: dict[str, Any]
    typed: dict[str, str]
    show: list[str]
    sample_size: int

    def __call__(self, batch: b.Batch, which: list[int], screening: bool = False):
        return gx_batch_validate(self, batch, which, screening)


def gx_batch_validate(run: GXRun, batch: b.Batch, which: list[int], screening: bool = False):
    """GX validates the given expectations of the suite on one batch (a query asset), at once.

    ``screening``: the files together, only to learn which expectations find nothing in any of
    them; GX's BASIC result (the unexpected counts) is enough, and spares the queries that list
    every unexpected row's file and line (those are asked of each file that found something)."""
    gx, source, suite, params, typed, show, sample_size = (
        run.gx,
        run.source,
        run.suite,
        run.params,
        run.typed,
        run.show,
        run.sample_size,
    )
    asset = source.add_query_asset(
        f"{suite.table}:{batch.label}:{batch.key}", query=b.batch_query(suite, batch, typed, ordered=not screening)
    )
    gx_batch = asset.add_batch_definition_whole_table("batch").get_batch()
    result_format = (
        {"result_format": "BASIC", "partial_unexpected_count": 0}
        if screening
        else {
            "result_format": "SUMMARY",
            "unexpected_index_column_names": show,
            "partial_unexpected_count": sample_size,
        }
    )
    result = gx_batch.validate(
        _gx_suite(gx, suite, typed, set(which)), expectation_parameters=params, result_format=result_format
    )
    # the rows an unexpected-rows query returned, for the failing ones only (GX lists them in COMPLETE)
    failed_queries = {
        r.expectation_config.meta["gate_index"]
        for r in result.results
        if not r.success and r.expectation_config.type == "unexpected_rows_expectation"
    }
    if failed_queries:
        complete = gx_batch.validate(
            _gx_suite(gx, suite, typed, failed_queries), expectation_parameters=params, result_format="COMPLETE"
        )
        for r in complete.results:
            rows = (r.result.get("details") or {}).get("unexpected_rows") or []
            summary = _result_of(result, r.expectation_config.meta["gate_index"])
            summary.result.setdefault("details", {})["unexpected_rows"] = rows[:sample_size]
    return result


def _sample(rows: list[dict[str, Any]], e, typed: dict[str, str], show: list[str]) -> list[dict[str, Any]]:
    """Sample rows as a person reads them: file, line and id first, typed copies under their column's name."""
    out = []
    for row in rows:
        row = {k.removesuffix(b.TYPED_SUFFIX) if k.endswith(b.TYPED_SUFFIX) else k: v for k, v in row.items()}
        if e.type != e.gx_type:  # converted into an unexpected-rows query that returns whole rows
            keep = show + [e.kwargs["column"]]
            row = {k: row.get(k) for k in dict.fromkeys(keep)}
        ordered = {k: row[k] for k in show if k in row}
        ordered.update({k: v for k, v in row.items() if k not in ordered})
        out.append(b.jsonable(ordered))
    return out


def _error(info) -> str | None:
    """GX's exception message, if computing the expectation raised (GX keys it by metric, or not)."""
    infos = [info] if info and "raised_exception" in info else list((info or {}).values())
    for i in infos:
        if isinstance(i, dict) and i.get("raised_exception"):
            message = str(i.get("exception_message") or "GX raised an exception")
            return message.split("\n[SQL:")[0][:500]
    return None


def _add(outcomes, suite: Suite, batch: b.Batch, result, taken: set[int], typed, show, sample_size) -> None:
    """Add one batch's GX results (those of the expectations ``taken`` from it) to each outcome."""
    for r in result.results:
        i = r.expectation_config.meta["gate_index"]
        if i not in taken:
            continue
        o, e, res = outcomes[i], suite.expectations[i], r.result or {}
        o.evaluated = True
        error = _error(r.exception_info)
        if error:
            o.success = False
            o.error = error
            continue
        mismatched = (res.get("details") or {}).get("mismatched") or {}
        if e.gx_type == "expect_table_columns_to_match_set":
            extra = (mismatched.get("unexpected") or []) if e.kwargs.get("exact_match", True) else []
            unexpected = len(extra) + len(mismatched.get("missing") or [])
            considered = len(e.kwargs["column_set"])
            rows = [{"missing_column": c} for c in mismatched.get("missing") or []]
            rows += [{"unexpected_column": c} for c in extra]
        elif e.gx_type == "unexpected_rows_expectation":
            unexpected, considered = int(res.get("observed_value") or 0), None
            rows = _sample((res.get("details") or {}).get("unexpected_rows") or [], e, typed, show)
        elif e.gx_type == "expect_table_row_count_to_be_between":
            unexpected, considered, rows = 0, None, []
            o.element_count += int(res.get("observed_value") or 0)
        else:
            unexpected = int(res.get("unexpected_count") or 0)
            considered = int(res.get("element_count") or 0) - int(res.get("missing_count") or 0)
            o.element_count += int(res.get("element_count") or 0)
            rows = _sample(res.get("partial_unexpected_index_list") or [], e, typed, show)
        if e.gx_type == "expect_table_columns_to_match_set":  # one table: its columns, not a sum over batches
            o.unexpected_count, o.considered = max(o.unexpected_count, unexpected), considered
        else:
            o.unexpected_count += unexpected
            o.considered += considered or 0
        o.observed = res.get("observed_value", o.observed)
        if rows and len(o.sample) < sample_size:
            o.sample += rows[: sample_size - len(o.sample)]
        if not r.success:
            o.success = False
            if batch.key is None:  # the whole table: nothing says which file or city
                continue
            o.failing_batches.append(
                {
                    "batch": batch.key,
                    "file": batch.label,
                    "considered": considered,
                    "unexpected": unexpected,
                    "sample": rows[:sample_size],
                }
            )
