"""Physical line numbers for landed and rejected rows, as step functions in SQL.

``csvfile.scan_layout`` records where each record starts; the reader numbers good rows in order.
These helpers turn the two into the physical line each row starts on (see csvfile.py), and
refuse a file whose scan and reader disagree on the record count."""

from __future__ import annotations

import bisect

from orchestration.landing import csvfile
from orchestration.landing.errors import LandingError


def _check_layout(layout: csvfile.Layout, good: int, reject_lines: list[int], shown: str) -> list[int]:
    """Record index of each rejected record; refuses the file if the scan and the reader disagree."""
    logical = sorted((start + off, off) for start, off in layout.logical_breaks)
    starts = [s for s, _ in logical]
    indices = []
    for line in reject_lines:
        k = bisect.bisect_right(starts, line) - 1
        index = line - (logical[k][1] if k >= 0 else 0)
        if not (1 <= index <= layout.records) or layout.logical_line(index) != line:
            indices = None
            break
        indices.append(index)
    if indices is None or layout.records != good + len(reject_lines):
        first = f" (the reader's first error is near line {reject_lines[0]})" if reject_lines else ""
        raise LandingError(
            f"{shown}: refused, broken quoting: the CSV reader found {good + len(reject_lines)} records where the line "
            f"scan found {layout.records}{first}. A quote character opens a field that does not close where "
            "the reader expects; fix the quoting there (or set csv.quote) and land the file again."
        )
    return indices


# Step functions with at most this many steps are written into the SQL (a balanced CASE tree,
# log2(steps) comparisons a row); longer ones (a file where most records span several lines,
# or thousands of rejects) become a small table joined with ASOF, which sorts the rows first.
INLINE_STEPS = 4096


def _step_sql(con, expr: str, steps: list[tuple[int, int]], name: str) -> tuple[str, str]:
    """(SQL of the step function's value at ``expr``, join clause it needs or '')."""
    if not steps:
        return "0", ""
    if len(steps) <= INLINE_STEPS:
        return _case_tree(expr, steps, 0), ""
    table = f"_landing_steps_{name}"
    con.execute(
        f"CREATE TEMP TABLE {table} AS SELECT unnest(?::BIGINT[]) AS start, unnest(?::BIGINT[]) AS value",
        [[s for s, _ in steps], [v for _, v in steps]],
    )
    return f"coalesce({name}.value, 0)", f"ASOF LEFT JOIN {table} {name} ON {expr} >= {name}.start"


def _case_tree(expr: str, steps: list[tuple[int, int]], below: int) -> str:
    """Value of the step function over ``steps`` (sorted starts), ``below`` before the first start."""
    if len(steps) == 1:
        start, value = steps[0]
        return f"(CASE WHEN {expr} >= {start} THEN {value} ELSE {below} END)"
    mid = len(steps) // 2
    left = _case_tree(expr, steps[:mid], below)
    right = _case_tree(expr, steps[mid:], steps[mid - 1][1])
    return f"(CASE WHEN {expr} >= {steps[mid][0]} THEN {right} ELSE {left} END)"


def _row_number_sql(con, layout: csvfile.Layout, reject_index: list[int]) -> tuple[str, str, str, str]:
    """SQL for the physical line of the good row ``_good_ordinal``: (record index expression and
    its join, line expression over ``_record_index`` and its join).

    The k-th good row is record index k + (rejected records before it); a record's physical
    line is its index + the offset of its step in ``layout.physical_breaks`` (see csvfile.py).
    """
    good_from, shift = [], []
    for k, j in enumerate(sorted(reject_index), 1):
        g = j - k + 1
        if good_from and good_from[-1] == g:
            shift[-1] = k
        else:
            good_from.append(g)
            shift.append(k)
    index_shift, index_join = _step_sql(con, "n._good_ordinal", list(zip(good_from, shift, strict=True)), "g")
    line_offset, line_join = _step_sql(con, "i._record_index", layout.physical_breaks, "p")
    return f"n._good_ordinal + {index_shift}", index_join, f"i._record_index + {line_offset}", line_join


def _breaks_lookup(breaks: list[tuple[int, int]]):
    starts = [s for s, _ in breaks]

    def offset(index: int) -> int:
        k = bisect.bisect_right(starts, index) - 1
        return breaks[k][1] if k >= 0 else 0

    return offset


def _file_order(con, shown: str) -> tuple[int, int]:
    """(good rows read, the work table's first row id). DuckDB keeps a file's order when it
    writes the rows of a parallel scan into a table (``preserve_insertion_order``, its default),
    so the k-th good row of the file has row id first + k - 1. Checked, not assumed: the ids must
    run without a gap, or the file is refused rather than numbered wrongly."""
    order = con.execute("SELECT current_setting('preserve_insertion_order')").fetchone()[0]
    good, first, last = con.execute("SELECT count(*), min(rowid), max(rowid) FROM _landing_rows").fetchone()
    if good and (not order or last - first + 1 != good):
        raise LandingError(
            f"{shown}: not landed, the engine did not keep the file's row order (preserve_insertion_order "
            f"is {order}; row ids {first}..{last} for {good} rows), so rows cannot be given their lines"
        )
    return good, first or 0
