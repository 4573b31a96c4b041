"""What a Python mart was last computed from, kept in the warehouse: a mart whose inputs did not
change is not computed again.

A Python mart reads its inputs in one step (DataFrames from the warehouse and a few values, such
as the disclosure threshold) and computes from them in another (orchestration/python_marts.py).
The inputs' fingerprint is a SHA-256 of everything the computing step is given: each DataFrame's
column names, types and rows in their order (pandas' ``hash_pandas_object``; a Series with its
index), each value's
``repr``, the source of the package that computes the mart, and the versions of the numerical
libraries they call. It goes to ``raw.python_mart_inputs`` with the mart's row count, in the
transaction that writes the mart. Before the next computing, the fingerprint of the new inputs is
compared with it: equal, and the mart's table still holds that many rows, the mart is kept.

A day of new calls leaves the stop tests' inputs as they were, and the dispatch replay's too
until a week is complete; the forecast and the concentration intervals change only when their
counts do. A full build (``cli run --full-refresh``, or dbt's checksums asking for one) forgets
every fingerprint, so every Python mart is computed again with it. The state lives in the
warehouse: a warehouse made anew has none, and computes every mart.
"""

from __future__ import annotations

import hashlib
import importlib
from collections.abc import Mapping
from importlib import metadata
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from orchestration.checks.batches import table_exists

STATE_TABLE = "raw.python_mart_inputs"
# the libraries the marts' models compute with: an upgrade can change a figure
LIBRARIES = ("numpy", "pandas", "scipy", "statsmodels", "astral", "tzdata")


def _update(digest, value: Any) -> None:
    if isinstance(value, pd.DataFrame):
        digest.update(repr([(str(c), str(t)) for c, t in value.dtypes.items()]).encode())
        digest.update(pd.util.hash_pandas_object(value, index=False).to_numpy().tobytes())
    elif isinstance(value, pd.Series):  # its index is part of it (a day's count is counted for that day)
        digest.update(f"{value.name!r}:{value.dtype}".encode())
        digest.update(pd.util.hash_pandas_object(value, index=True).to_numpy().tobytes())
    elif isinstance(value, Mapping):
        for key in sorted(value, key=repr):
            digest.update(repr(key).encode())
            _update(digest, value[key])
    elif isinstance(value, set | frozenset):
        digest.update(repr(sorted(value, key=repr)).encode())
    elif isinstance(value, list | tuple):
        digest.update(f"[{len(value)}".encode())
        for item in value:
            _update(digest, item)
    else:
        digest.update(f"{type(value).__name__}:{value!r};".encode())


def code_fingerprint(module: str) -> str:
    """The source of every module of the package that computes a mart (``orchestration/replay/``
    for the replay), of this module and of ``python_marts.py``, and the numerical libraries'
    versions."""
    digest = hashlib.sha256()
    package = Path(importlib.import_module(module).__file__).parent
    here = Path(__file__).parent
    for path in [here / "python_marts.py", Path(__file__), *sorted(package.glob("*.py"))]:
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    for library in LIBRARIES:
        try:
            digest.update(f"{library}=={metadata.version(library)}".encode())
        except metadata.PackageNotFoundError:
            digest.update(f"{library} absent".encode())
    return digest.hexdigest()


def fingerprint(inputs: Any, code: str) -> str:
    """SHA-256 of a mart's inputs (DataFrames, mappings, sequences, values) and its code's fingerprint."""
    digest = hashlib.sha256(code.encode())
    _update(digest, inputs)
    return digest.hexdigest()


def ensure_state(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("CREATE SCHEMA IF NOT EXISTS raw")
    con.execute(
        f"CREATE TABLE IF NOT EXISTS {STATE_TABLE} (mart VARCHAR PRIMARY KEY, fingerprint VARCHAR NOT NULL, "
        "row_count BIGINT NOT NULL, computed_at TIMESTAMP NOT NULL)"
    )


def unchanged(con: duckdb.DuckDBPyConnection, mart: str, digest: str) -> bool:
    """True when ``marts.<mart>`` was computed from inputs of this fingerprint and still holds the
    rows it was written with."""
    if not (table_exists(con, "raw", "python_mart_inputs") and table_exists(con, "marts", mart)):
        return False
    stored = con.execute(f"SELECT fingerprint, row_count FROM {STATE_TABLE} WHERE mart = ?", [mart]).fetchone()
    if stored is None or stored[0] != digest:
        return False
    return con.execute(f"SELECT count(*) FROM marts.{mart}").fetchone()[0] == stored[1]


def record(con: duckdb.DuckDBPyConnection, mart: str, digest: str, rows: int) -> None:
    ensure_state(con)
    con.execute(
        f"INSERT OR REPLACE INTO {STATE_TABLE} VALUES (?, ?, ?, current_localtimestamp())", [mart, digest, rows]
    )


def forget_all(con: duckdb.DuckDBPyConnection) -> int:
    """A full build: every Python mart is computed again. The fingerprints forgotten."""
    if not table_exists(con, "raw", "python_mart_inputs"):
        return 0
    return con.execute(f"DELETE FROM {STATE_TABLE}").fetchone()[0]
