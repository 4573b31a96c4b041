"""A Python mart is computed again only when what it is computed from changed: its inputs' rows and
values, or its package's code. The fingerprint is kept in the warehouse with the mart, written in
the same transaction, and a full build forgets it.

Each test builds a small mart on a real DuckDB file and counts how often its computing step runs.
"""

from __future__ import annotations

import importlib
import sys

import duckdb
import pandas as pd
import pytest

from orchestration import python_mart_inputs
from orchestration.python_marts import PythonMart
from orchestration.resources import WarehouseResource

MART = PythonMart("mart_inputs_probe", (("area", "VARCHAR"), ("calls", "BIGINT")), "A probe.", module=__name__)


class Counting:
    """The mart's computing step: the calls per area of its input, counted each time it runs."""

    def __init__(self):
        self.runs = 0

    def __call__(self, inputs) -> pd.DataFrame:
        self.runs += 1
        frame, k = inputs
        counts = frame.groupby("area", as_index=False).size().rename(columns={"size": "calls"})
        return counts[counts["calls"] >= k]


def load(k: int = 1):
    return lambda con: (con.execute("SELECT area, call_key FROM raw.calls ORDER BY call_key").df(), k)


@pytest.fixture
def warehouse(tmp_path):
    path = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute("CREATE SCHEMA raw")
        con.execute("CREATE TABLE raw.calls AS SELECT 'A' || (i % 3) AS area, 'C' || i AS call_key FROM range(30) t(i)")
    return WarehouseResource(database=str(path))


def execute(warehouse: WarehouseResource, sql: str) -> None:
    with warehouse.connect() as con:
        con.execute(sql)


def rows(warehouse: WarehouseResource) -> list[tuple]:
    with warehouse.connect(read_only=True) as con:
        return con.execute(f"SELECT * FROM marts.{MART.name} ORDER BY area").fetchall()


def test_the_same_inputs_keep_the_mart_and_a_changed_row_computes_it_again(warehouse):
    compute = Counting()
    first = MART.build(warehouse, load(), compute)
    assert first.computed and compute.runs == 1
    assert rows(warehouse) == [("A0", 10), ("A1", 10), ("A2", 10)]

    again = MART.build(warehouse, load(), compute)
    assert not again.computed and compute.runs == 1  # kept, not computed
    assert again.fingerprint == first.fingerprint
    assert sorted(map(tuple, again.frame.to_numpy().tolist())) == rows(warehouse)
    assert again.metadata["how"].startswith("kept")

    execute(warehouse, "UPDATE raw.calls SET area = 'A1' WHERE call_key = 'C0'")  # one row moved
    changed = MART.build(warehouse, load(), compute)
    assert changed.computed and compute.runs == 2
    assert rows(warehouse) == [("A0", 9), ("A1", 11), ("A2", 10)]


def test_a_changed_value_or_a_row_more_computes_it_again(warehouse):
    compute = Counting()
    MART.build(warehouse, load(k=1), compute)
    assert MART.build(warehouse, load(k=11), compute).computed  # the threshold is an input
    assert rows(warehouse) == []
    execute(warehouse, "INSERT INTO raw.calls VALUES ('A0', 'C99')")
    assert MART.build(warehouse, load(k=11), compute).computed
    assert rows(warehouse) == [("A0", 11)]
    assert compute.runs == 3


def test_a_mart_table_that_lost_rows_or_is_gone_is_computed_again(warehouse):
    compute = Counting()
    MART.build(warehouse, load(), compute)
    execute(warehouse, f"DELETE FROM marts.{MART.name} WHERE area = 'A0'")
    assert MART.build(warehouse, load(), compute).computed
    assert len(rows(warehouse)) == 3
    execute(warehouse, f"DROP TABLE marts.{MART.name}")
    assert MART.build(warehouse, load(), compute).computed
    assert compute.runs == 3


def test_a_full_build_forgets_every_fingerprint(warehouse):
    compute = Counting()
    MART.build(warehouse, load(), compute)
    with warehouse.connect() as con:
        assert python_mart_inputs.forget_all(con) == 1
    assert MART.build(warehouse, load(), compute).computed
    assert compute.runs == 2


def test_a_write_that_fails_leaves_the_mart_and_its_fingerprint_as_they_were(warehouse):
    compute = Counting()
    kept = MART.build(warehouse, load(), compute)
    execute(warehouse, "INSERT INTO raw.calls VALUES ('A0', 'C99')")

    def broken(inputs) -> pd.DataFrame:
        return pd.DataFrame({"area": ["A0"], "calls": ["not a count"]})

    with pytest.raises(duckdb.ConversionException):
        MART.build(warehouse, load(), broken)
    assert rows(warehouse) == [("A0", 10), ("A1", 10), ("A2", 10)]
    with warehouse.connect(read_only=True) as con:
        stored = con.execute("SELECT fingerprint, row_count FROM raw.python_mart_inputs").fetchall()
    assert stored == [(kept.fingerprint, 3)]
    assert MART.build(warehouse, load(), compute).computed  # the new row is still to be counted
    assert rows(warehouse)[0] == ("A0", 11)


def test_the_fingerprint_follows_rows_their_order_types_values_and_index():
    frame = pd.DataFrame({"a": [1, 2], "b": ["x", "y"]})

    def digest(value):
        return python_mart_inputs.fingerprint(value, "code")

    assert digest((frame, 1)) == digest((frame.copy(), 1))
    assert digest((frame, 1)) != digest((frame, 2))
    assert digest(frame) != digest(frame.iloc[::-1].reset_index(drop=True))  # the computing may follow the order
    assert digest(frame) != digest(frame.astype({"a": "float64"}))
    assert digest(frame) != digest(frame.rename(columns={"b": "c"}))
    assert digest({"s": {"k1", "k2"}}) == digest({"s": {"k2", "k1"}})
    assert digest({"s": {"k1", "k2"}}) != digest({"s": {"k1"}})
    series = pd.Series([3, 4], index=pd.to_datetime(["2025-01-06", "2025-01-07"]))
    assert digest(series) != digest(series.set_axis(pd.to_datetime(["2025-01-13", "2025-01-14"])))
    assert digest(frame) != python_mart_inputs.fingerprint(frame, "other code")


def test_a_change_to_any_module_of_the_marts_package_changes_its_code_fingerprint(tmp_path, monkeypatch):
    package = tmp_path / "probe_mart_package"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "assets.py").write_text("NAME = 'probe'\n")
    (package / "model.py").write_text("def fit(x):\n    return x\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    importlib.invalidate_caches()
    try:
        before = python_mart_inputs.code_fingerprint("probe_mart_package.assets")
        assert before == python_mart_inputs.code_fingerprint("probe_mart_package.assets")
        (package / "model.py").write_text("def fit(x):\n    return x + 1\n")  # a module the asset calls
        assert python_mart_inputs.code_fingerprint("probe_mart_package.assets") != before
    finally:
        for name in [n for n in sys.modules if n.startswith("probe_mart_package")]:
            del sys.modules[name]
