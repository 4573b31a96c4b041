"""Every landed or quarantined row names the physical line it starts on
(orchestration/landing/line_numbers.py): the step functions written into SQL give what Python's
reference gives, for any layout (hypothesis), and a file whose scan and reader disagree is refused.
Pure and fast, so landing's traceability is in the mutation run (`make mutation`)."""

from __future__ import annotations

import duckdb
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from orchestration.landing import line_numbers as ln
from orchestration.landing.csvfile import Layout, _step
from orchestration.landing.errors import LandingError

pytestmark = pytest.mark.pure


@st.composite
def step_functions(draw, max_start=60):
    starts = sorted(draw(st.sets(st.integers(1, max_start), max_size=12)))
    values = draw(st.lists(st.integers(0, 40), min_size=len(starts), max_size=len(starts)))
    return list(zip(starts, values, strict=True))


def evaluate(steps: list[tuple[int, int]], upto: int = 70) -> list[int]:
    con = duckdb.connect()
    value, join = ln._step_sql(con, "n.x", steps, "s")
    rows = con.execute(f"SELECT n.x, {value} FROM (SELECT range AS x FROM range(0, {upto})) n {join} ORDER BY n.x")
    return [v for _, v in rows.fetchall()]


@settings(max_examples=60, deadline=None)
@given(step_functions())
def test_the_step_function_in_sql_is_the_reference_one(steps):
    want = [_step(steps, x) for x in range(70)]
    assert evaluate(steps) == want
    offset = ln._breaks_lookup(steps)
    assert [offset(x) for x in range(70)] == want


@settings(max_examples=30, deadline=None)
@given(step_functions())
def test_a_long_step_function_is_joined_as_a_table_with_the_same_values(steps):
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(ln, "INLINE_STEPS", 1)
        assert evaluate(steps) == [_step(steps, x) for x in range(70)]


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 40).flatmap(lambda n: st.tuples(st.just(n), st.sets(st.integers(1, n)))), step_functions(40))
def test_good_rows_get_their_record_index_and_physical_line(records_and_rejects, physical):
    records, rejected = records_and_rejects
    good = [i for i in range(1, records + 1) if i not in rejected]
    con = duckdb.connect()
    index_sql, index_join, line_sql, line_join = ln._row_number_sql(
        con, Layout(physical_breaks=physical), sorted(rejected)
    )
    rows = con.execute(
        f"""
        WITH n AS (SELECT range AS _good_ordinal FROM range(1, {len(good) + 1})),
        i AS (SELECT n._good_ordinal, {index_sql} AS _record_index FROM n {index_join})
        SELECT i._good_ordinal, i._record_index, {line_sql} FROM i {line_join} ORDER BY i._good_ordinal
        """
    ).fetchall()
    assert [r[1] for r in rows] == good
    assert [r[2] for r in rows] == [i + _step(physical, i) for i in good]


def test_rejected_lines_map_back_to_their_records():
    # records 1-5; record 3 spans two lines, so the reader's line numbers shift by one from record 4
    layout = Layout(records=5, logical_breaks=[(4, 1)])
    assert ln._check_layout(layout, 3, [2, 5], "calls.csv") == [2, 4]
    assert ln._check_layout(layout, 3, [1, 3], "calls.csv") == [1, 3]  # the first record, the one spanning
    assert ln._check_layout(layout, 4, [6], "calls.csv") == [5]  # the last record
    assert ln._check_layout(layout, 5, [], "calls.csv") == []


def test_both_step_functions_as_tables_at_once():
    # a file with many multi-line records and many rejects: both steps become temp tables
    rejected, physical = [2, 3, 7], [(2, 1), (5, 3)]
    good = [1, 4, 5, 6, 8]
    con = duckdb.connect()
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(ln, "INLINE_STEPS", 1)
        index_sql, index_join, line_sql, line_join = ln._row_number_sql(con, Layout(physical_breaks=physical), rejected)
    rows = con.execute(
        f"""
        WITH n AS (SELECT range AS _good_ordinal FROM range(1, 6)),
        i AS (SELECT n._good_ordinal, {index_sql} AS _record_index FROM n {index_join})
        SELECT i._record_index, {line_sql} FROM i {line_join} ORDER BY i._good_ordinal
        """
    ).fetchall()
    assert rows == [(i, i + _step(physical, i)) for i in good]


@pytest.mark.parametrize(
    ("good", "rejects", "near"),
    [
        (4, [2, 5], " (the reader's first error is near line 2)"),  # one record too many
        (2, [2, 5], " (the reader's first error is near line 2)"),  # one too few
        (3, [2, 4], " (the reader's first error is near line 2)"),  # line 4 starts no record
        (3, [2, 9], " (the reader's first error is near line 2)"),  # past the last record
        (3, [0, 5], " (the reader's first error is near line 0)"),  # before the first
        (4, [], ""),
    ],
)
def test_a_file_whose_scan_and_reader_disagree_is_refused(good, rejects, near):
    layout = Layout(records=5, logical_breaks=[(4, 1)])
    with pytest.raises(LandingError) as refused:
        ln._check_layout(layout, good, rejects, "calls.csv")
    message = str(refused.value)
    assert message.startswith(f"calls.csv: refused, broken quoting: the CSV reader found {good + len(rejects)} records")
    assert message.endswith(
        f"where the line scan found 5{near}. A quote character opens a field that does not close where the "
        "reader expects; fix the quoting there (or set csv.quote) and land the file again."
    )
