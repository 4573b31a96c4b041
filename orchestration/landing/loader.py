"""Land one extract file into schema ``raw`` through its source profile.

What happens to a file, in order (rows are never handled one by one in Python):
1. Its content hash is the batch id: a file landed before (under any name) is skipped.
2. The bytes are made readable: a byte-order mark is followed; an encoding DuckDB does not read
   itself (cp1252, utf-16, ...) is transcoded to a UTF-8 temporary file, streaming.
3. One streaming scan finds the header and where each record starts (``csvfile.scan_layout``),
   so that every row, landed or quarantined, carries the physical line it starts on.
4. The file is refused whole, with a message naming it, when it cannot be read as the profile
   says: a required column missing from the header (aliases tried in order), a delimiter or
   quote character that is not the file's, or quoting so broken that records cannot be told apart.
5. DuckDB's CSV reader reads the file once, in parallel, every field as text, into a work table
   in the file's order (so a row's table position is its place among the good records), and
   keeps the lines it cannot read (wrong column count, bytes not in the encoding) in a rejects
   table instead of failing. Every later step reads that table, on every core.
6. Each good row is mapped onto the canonical fields (see ``field_sql.py``). A row with a missing
   required value, a value that does not parse, or a timestamp more than a day after the load
   is quarantined with the field, the column and the reason. Rows that land but look wrong
   (daylight-saving edge, coordinates outside the city or swapped) are kept and flagged in
   ``_flags``.
7. Good rows go to ``raw.<source>`` with lineage and the row as received (``_original``); bad
   rows and unreadable records go to ``raw.quarantine``; one row per file to ``raw.batches``.
   Rows read = rows landed + rows quarantined is checked before the transaction commits.

Where the parts live: ``raw_tables.py`` (DDL), ``dialect.py`` (encoding, delimiter, quote),
``field_sql.py`` (the mapping compiler), ``line_numbers.py`` (physical lines), ``file_checks.py``
(which paths are read), ``work_area.py`` (temporary folder, memory cap), ``quarantine.py``
(what is kept of a refused row or record, and why), this module (one
file's landing transaction) and ``parallel.py`` (many files side by side, ``land_files``).
"""

from __future__ import annotations

import os
import re
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from orchestration.landing import csvfile
from orchestration.landing.canonical import CANONICAL_SOURCES
from orchestration.landing.clock import set_transition_variables
from orchestration.landing.dialect import _check_dialect, _dedupe, _readable
from orchestration.landing.errors import LandingError
from orchestration.landing.field_sql import _Plan
from orchestration.landing.file_checks import (  # noqa: F401  (refused_batch_id re-exported for importers)
    check_regular_file,
    refused_batch_id,
    shown_name,
)
from orchestration.landing.line_numbers import _check_layout, _file_order, _row_number_sql
from orchestration.landing.profiles import SourceProfile
from orchestration.landing.quarantine import (
    CONTROL_BYTES,
    control_byte_sql,
    quarantine_bad_values,
    quarantine_unreadable,
    tally,
)
from orchestration.landing.raw_tables import (
    BATCH_COLUMNS,
    BATCH_EXTRA_COLUMNS,
    LINEAGE_COLUMNS,
    RAW_SCHEMA,
    ensure_raw_tables,
)
from orchestration.landing.work_area import (  # noqa: F401  (clean_landing_temp re-exported for importers)
    clean_landing_temp,
    landing_temp_root,
    restore_memory_limit,
)
from orchestration.settings import read_environment
from orchestration.sql import quote_ident, quote_literal

__all__ = [
    "LandingError",
    "LandingResult",
    "RAW_SCHEMA",
    "ensure_raw_tables",
    "file_sha256",
    "land_file",
]

# DuckDB keeps to this much memory while landing and spills the rest to disk, so a file of any
# size streams through (measured in tests/test_robustness.py and orchestration/landing/benchmark.py).
_ENV = read_environment()
LANDING_MEMORY_LIMIT = _ENV.landing_memory_limit
# Files landed at once, each through its own cursor and transaction (a small file cannot keep
# every core busy alone; a refused file holds back only itself).
LANDING_WORKERS = _ENV.landing_workers or min(os.cpu_count() or 1, 4)
# The longest physical line the CSV reader takes (DuckDB's max_line_size, passed to it). A file
# with a longer line is refused whole, saying so, instead of being misread as broken quoting.
MAX_LINE_BYTES = _ENV.landing_max_line_bytes
# Header text shown in a refusal at most (a refusal never shows anything else of a file).
HEADER_SHOWN_CHARS = 300


@dataclass
class LandingResult:
    source_file: str
    source_profile: str
    batch_id: str
    rows_read: int = 0
    rows_landed: int = 0
    rows_quarantined: int = 0
    already_landed: bool = False
    quarantine_reasons: Counter = field(default_factory=Counter)
    flags: Counter = field(default_factory=Counter)
    unmapped_columns: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


file_sha256 = csvfile.file_sha256


def _header_shown(header: list[str]) -> str:
    """The header for a refusal: control bytes written \\xNN, cut at HEADER_SHOWN_CHARS."""
    text = re.sub(CONTROL_BYTES, lambda m: f"\\x{ord(m.group()):02x}", ", ".join(header))
    return text if len(text) <= HEADER_SHOWN_CHARS else text[:HEADER_SHOWN_CHARS] + f" ... ({len(header)} columns)"


def land_file(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    profile: SourceProfile,
    landing_dir: Path | None = None,
    now: datetime | None = None,
    memory_limit: str | None = LANDING_MEMORY_LIMIT,
) -> LandingResult:
    """Land one file; returns the counts. Raises LandingError when the file is refused whole.

    ``memory_limit`` caps DuckDB while the file lands (restored after); None leaves it to the
    caller, as ``land_files`` does for files landing side by side."""
    path = Path(path)
    shown = shown_name(path, landing_dir)
    check_regular_file(path, landing_dir, shown)
    sha = csvfile.file_sha256(path)
    batch_id = f"{profile.name}:{sha[:16]}"
    result = LandingResult(source_file=shown, source_profile=profile.name, batch_id=batch_id)
    ensure_raw_tables(con, profile.source)
    if con.execute(f"SELECT 1 FROM {RAW_SCHEMA}.batches WHERE batch_id = ?", [batch_id]).fetchone():
        result.already_landed = True
        return result
    now = (now or datetime.now(UTC)).replace(tzinfo=None)
    size = path.stat().st_size
    temp_root = landing_temp_root(con)
    if temp_root is not None:
        temp_root.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="psw_landing_", dir=temp_root) as tmp:
        layout, readable, encoding, header = None, path, "utf-8", []
        if size == 0:
            result.notes.append("empty file (0 bytes): no header, no rows")
        else:
            readable, encoding = _readable(path, profile, Path(tmp), result.notes, shown)
            layout = csvfile.scan_layout(readable, profile.csv.delimiter, profile.csv.quote)
            if layout.header_line and layout.crlf_lines and layout.lf_lines:
                # DuckDB's reader stops on a file mixing line endings: read a copy with LF only.
                result.notes.append(
                    f"mixed line endings ({layout.crlf_lines} CR LF, {layout.lf_lines} LF): read with LF only"
                )
                normalised = Path(tmp) / (path.name + ".lf.csv")
                csvfile.normalise_line_endings(readable, normalised)
                readable = normalised
                layout = csvfile.scan_layout(readable, profile.csv.delimiter, profile.csv.quote)
            if layout.longest_line_bytes > MAX_LINE_BYTES:
                raise LandingError(
                    f"{shown}: refused, line {layout.longest_line:,} is {layout.longest_line_bytes:,} bytes long, "
                    f"more than the CSV reader's limit of {MAX_LINE_BYTES:,} bytes (setting "
                    "PSW_LANDING_MAX_LINE_BYTES). A line that long is usually a file without line breaks "
                    "or a field that swallowed the rest of the file: fix the file, or raise the setting."
                )
            if layout.header_line == 0:
                result.notes.append("only blank lines: no header, no rows")
                layout = None
        if layout is not None:
            header = _dedupe(
                csvfile.parse_header(layout.header_bytes, encoding, profile.csv.delimiter, profile.csv.quote)
            )
            plan = _Plan(profile, header, now, shown)
            if plan.missing_required:
                _check_dialect(readable, encoding, profile, header, shown)
                raise LandingError(
                    f"{shown}: refused, required column(s) missing from the header: "
                    f"{', '.join(plan.missing_required)}. Header found: {_header_shown(header)}. "
                    f"Fix the file or the profile {profile.path or profile.name}."
                )
            _check_dialect(readable, encoding, profile, header, shown)
            if plan.missing_optional:
                result.notes.append("columns not in this file (fields land empty): " + ", ".join(plan.missing_optional))
            result.unmapped_columns = [c for c in header if c not in plan.used_columns()]
            if layout.blank_lines:
                sample = ", ".join(map(str, layout.blank_line_sample))
                more = ", ..." if layout.blank_lines > len(layout.blank_line_sample) else ""
                result.notes.append(f"{layout.blank_lines} blank line(s) skipped (line {sample}{more})")
            if layout.header_line > 1:
                result.notes.append(f"header on line {layout.header_line} (blank lines before it)")
            if layout.records == 0:
                result.notes.append("header only: no rows")
        previous_limit = con.execute("SELECT current_setting('memory_limit')").fetchone()[0]
        if memory_limit:
            con.execute(f"SET memory_limit = {quote_literal(memory_limit)}")
        con.execute("BEGIN TRANSACTION")
        try:
            if layout is not None:
                _land_rows(con, readable, encoding, profile, header, plan, layout, result, now)
            if result.rows_read != result.rows_landed + result.rows_quarantined:
                raise LandingError(
                    f"{shown}: counts do not reconcile: read {result.rows_read}, "
                    f"landed {result.rows_landed}, quarantined {result.rows_quarantined}"
                )
            con.execute(
                f"INSERT INTO {RAW_SCHEMA}.batches ({', '.join(BATCH_COLUMNS)}, {', '.join(BATCH_EXTRA_COLUMNS)}) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    batch_id,
                    profile.source,
                    profile.name,
                    shown,
                    sha,
                    size,
                    result.rows_read,
                    result.rows_landed,
                    result.rows_quarantined,
                    now,
                    "; ".join(result.notes) or None,
                ],
            )
            con.execute("COMMIT")
        except Exception:
            con.execute("ROLLBACK")
            raise
        finally:
            for t in _WORK_TABLES:
                con.execute(f"DROP TABLE IF EXISTS {t}")
            if memory_limit:
                restore_memory_limit(con, previous_limit)
    return result


_WORK_TABLES = tuple(
    f"_landing_{name}"
    for name in (
        "rows",
        "rejects",
        "rejects_scan",
        "rej",
        "steps_g",
        "steps_p",
    )
)


def _land_rows(
    con,
    readable: Path,
    encoding: str,
    profile: SourceProfile,
    header: list[str],
    plan: _Plan,
    layout: csvfile.Layout,
    result: LandingResult,
    now: datetime,
) -> None:
    """DuckDB reads the file once, in parallel, into a work table (``_landing_rows``, every field
    as text, in the file's order; the reader's rejects beside it). The good rows are mapped and
    inserted from that table, the bad ones quarantined from it: every step after the read runs
    on every core, where numbering the rows in a streaming window held each file to one."""
    source = profile.source
    canonical = CANONICAL_SOURCES[source]
    columns = "{" + ", ".join(f"'c{i}': 'VARCHAR'" for i in range(1, len(header) + 1)) + "}"
    file_columns = ", ".join(f"c{i}" for i in range(1, len(header) + 1))
    # The row as received, under the file's own column names (repeated names made unique).
    original = "json_object(" + ", ".join(f"{quote_literal(name)}, c{i}" for i, name in enumerate(header, 1)) + ")"
    quote = profile.csv.quote
    read_csv = (
        f"read_csv({quote_literal(str(readable))}, header=true, auto_detect=false, columns={columns}, "
        f"skip={layout.header_line - 1}, delim={quote_literal(profile.csv.delimiter)}, "
        f"quote={quote_literal(quote)}, escape={quote_literal(quote)}, encoding={quote_literal(encoding)}, "
        "store_rejects=true, rejects_table='_landing_rejects', rejects_scan='_landing_rejects_scan', "
        f"null_padding=false, strict_mode=true, max_line_size={MAX_LINE_BYTES + 2})"
    )

    for t in _WORK_TABLES:
        con.execute(f"DROP TABLE IF EXISTS {t}")
    try:
        con.execute(f"CREATE TEMP TABLE _landing_rows AS SELECT * FROM {read_csv}")
    except duckdb.InvalidInputException as exc:  # the file, not the machine (memory errors propagate)
        message = str(exc).strip().splitlines()[0]
        raise LandingError(f"{result.source_file}: refused, the CSV reader could not read it: {message}") from exc
    good, first_rowid = _file_order(con, result.source_file)
    # One rejected record can be reported once per bad column: keep one row per record.
    con.execute(
        "CREATE TEMP TABLE _landing_rej AS SELECT line, "
        "string_agg(DISTINCT error_type, ', ' ORDER BY error_type) AS error_type, "
        "first(column_name ORDER BY byte_position) AS column_name, "
        "first(error_message ORDER BY byte_position) AS message FROM _landing_rejects GROUP BY line"
    )
    reject_lines = [r[0] for r in con.execute("SELECT line FROM _landing_rej ORDER BY line").fetchall()]
    result.rows_read = good + len(reject_lines)
    reject_index = _check_layout(layout, good, reject_lines, result.source_file)

    prepared: dict[str, str] = {}
    timed: dict[str, str] = {}
    joins: list[str] = []
    selects, problems, flags = [], [], []
    coords = plan.coordinates_sql() if profile.coordinates else None
    for fld, kind in canonical.fields.items():
        if coords and fld in ("latitude", "longitude"):
            sql = coords[0] if fld == "latitude" else coords[1]
        else:
            sql = plan.field_sql(fld, kind)
        prepared.update(sql.prepared)
        timed.update(sql.timed)
        joins += sql.joins
        selects.append(f"{sql.value} AS {quote_ident(fld)}")
        problems += sql.problems
        flags += sql.flags
    coordinate_flag = (
        plan.coordinate_flag_sql('"latitude"', '"longitude"') if "latitude" in canonical.fields else "NULL"
    )
    # 0, 0 is no place (a geocoder's "not found"): read as missing, and flagged
    no_place = (
        " REPLACE (CASE WHEN try_cast(latitude AS DOUBLE) = 0 AND try_cast(longitude AS DOUBLE) = 0 THEN NULL "
        "ELSE latitude END AS latitude, CASE WHEN try_cast(latitude AS DOUBLE) = 0 "
        "AND try_cast(longitude AS DOUBLE) = 0 THEN NULL ELSE longitude END AS longitude)"
        if "latitude" in canonical.fields
        else ""
    )
    problems_sql = f"list_filter([{', '.join(problems)}], lambda p: p IS NOT NULL)" if problems else "[]"
    # A row with a control byte is quarantined for that alone (its other problems would quote it).
    problems_sql = f"CASE WHEN _control IS NOT NULL THEN [_control] ELSE {problems_sql} END"
    prepared["_control"] = control_byte_sql(header, result.source_file)
    prepared_sql = "".join(f", {expr} AS {quote_ident(name)}" for name, expr in prepared.items())
    timed_sql = "".join(f", {expr} AS {quote_ident(name)}" for name, expr in timed.items())
    set_transition_variables(con, profile.timezone)
    index_sql, index_join, line_sql, line_join = _row_number_sql(con, layout, reject_index)

    def checked(keep: str) -> str:
        return f"""
        WITH numbered AS (
            SELECT rowid - {first_rowid} + 1 AS _good_ordinal, * FROM _landing_rows
        ),
        indexed AS (
            SELECT n.*, {index_sql} AS _record_index FROM numbered n {index_join}
        ),
        prepared AS (
            SELECT {line_sql} AS _row_number, {file_columns}{prepared_sql} FROM indexed i {line_join}
        ),
        timed AS (
            SELECT p.*{timed_sql} FROM prepared p {" ".join(joins)}
        ),
        mapped AS (
            SELECT _row_number, {", ".join(selects)}, {problems_sql} AS _problems, {file_columns},
                   [{", ".join(flags) or "NULL"}]::VARCHAR[] AS _field_flags
            FROM timed
        )
        SELECT * EXCLUDE (_field_flags, {file_columns}){no_place},
               list_filter(_field_flags || [{coordinate_flag}], lambda f: f IS NOT NULL) AS _flag_list,
               {original} AS _original
        FROM mapped
        WHERE {keep}
        """

    fields_sql = ", ".join(quote_ident(f) for f in canonical.fields)
    lineage = ", ".join(LINEAGE_COLUMNS)
    result.rows_landed = con.execute(
        f"""
        INSERT INTO {RAW_SCHEMA}.{source} ({fields_sql}, {lineage}, _flags)
        SELECT {fields_sql}, ?, ?, _row_number, ?, ?, ?, _original, nullif(array_to_string(_flag_list, '; '), '')
        FROM ({checked("len(_problems) = 0")})
        """,
        [result.batch_id, result.source_file, now, profile.name, profile.timezone],
    ).fetchone()[0]
    # Every readable row is either landed or has a problem: the third pass only when some have one.
    bad_values = 0
    if result.rows_landed < good:
        bad_values = quarantine_bad_values(con, checked("len(_problems) > 0"), result, profile, now)
    quarantine_unreadable(con, readable, encoding, layout, reject_lines, reject_index, result, profile, now, header)
    result.rows_quarantined = bad_values + len(reject_lines)
    tally(con, result, source)
    if any("INVALID ENCODING" in e for e in result.quarantine_reasons):
        result.notes.append(
            f"lines with bytes that are not {encoding}: if the file is Windows-1252 or Latin-1, set csv.encoding"
        )


def __getattr__(name: str):
    # land_files lives in parallel.py (which imports this module); importable from here too.
    if name == "land_files":
        from orchestration.landing.parallel import land_files

        return land_files
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
