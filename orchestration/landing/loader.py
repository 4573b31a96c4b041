"""Land one extract file into schema ``raw`` through its source profile.

What happens to each row, all inside DuckDB (no row-by-row Python):
1. DuckDB's CSV reader reads every field as text and keeps the lines it cannot read
   (wrong column count, bytes that are not in the file's encoding, broken quoting)
   in a rejects table instead of failing.
2. Each good row is mapped onto the canonical fields: trimmed, code values mapped,
   timestamps parsed with the profile's formats in its time zone and written as UTC,
   numbers and booleans checked. A row with a missing required value or a value that
   does not parse is quarantined with the field and the reason.
3. Good rows go to ``raw.<source>`` with lineage columns and the row as received
   (``_original``); bad rows and unreadable lines go to ``raw.quarantine``.
4. The file's content hash is the batch id: a file landed before is skipped, so landing
   the same file twice changes nothing. Rows read = rows landed + rows quarantined,
   checked before the transaction commits.
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from orchestration.landing.canonical import CANONICAL_SOURCES
from orchestration.landing.profiles import SourceProfile

RAW_SCHEMA = "raw"
LINEAGE_COLUMNS = {
    "_batch_id": "VARCHAR",
    "_source_file": "VARCHAR",
    "_row_number": "BIGINT",
    "_loaded_at": "TIMESTAMP",
    "_source_profile": "VARCHAR",
    "_timezone": "VARCHAR",
    "_original": "JSON",
}
QUARANTINE_COLUMNS = {
    "batch_id": "VARCHAR",
    "source": "VARCHAR",
    "source_profile": "VARCHAR",
    "source_file": "VARCHAR",
    "row_number": "BIGINT",
    "error_type": "VARCHAR",
    "field": "VARCHAR",
    "reason": "VARCHAR",
    "record": "VARCHAR",
    "loaded_at": "TIMESTAMP",
}
BATCH_COLUMNS = {
    "batch_id": "VARCHAR PRIMARY KEY",
    "source": "VARCHAR",
    "source_profile": "VARCHAR",
    "source_file": "VARCHAR",
    "file_sha256": "VARCHAR",
    "file_bytes": "BIGINT",
    "rows_read": "BIGINT",
    "rows_landed": "BIGINT",
    "rows_quarantined": "BIGINT",
    "loaded_at": "TIMESTAMP",
}


class LandingError(ValueError):
    """A file refused as a whole (e.g. a required column is missing); nothing of it is landed."""


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
    unmapped_columns: list[str] = field(default_factory=list)


def quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def quote_literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _sql_list(values) -> str:
    return "[" + ", ".join(quote_literal(v) for v in values) + "]"


def ensure_raw_tables(con: duckdb.DuckDBPyConnection, source: str) -> None:
    """Create ``raw.<source>``, ``raw.quarantine`` and ``raw.batches`` if they are missing."""
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {RAW_SCHEMA}")
    canonical = CANONICAL_SOURCES[source]
    cols = [f"{quote_ident(f)} VARCHAR" for f in canonical.fields]
    cols += [f"{c} {t}" for c, t in LINEAGE_COLUMNS.items()]
    con.execute(f"CREATE TABLE IF NOT EXISTS {RAW_SCHEMA}.{source} ({', '.join(cols)})")
    for table, spec in (("quarantine", QUARANTINE_COLUMNS), ("batches", BATCH_COLUMNS)):
        body = ", ".join(f"{c} {t}" for c, t in spec.items())
        con.execute(f"CREATE TABLE IF NOT EXISTS {RAW_SCHEMA}.{table} ({body})")


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def read_header(path: Path, profile: SourceProfile) -> list[str]:
    """The file's column names (a UTF-8 byte-order mark is dropped)."""
    encoding = "utf-8-sig" if profile.csv.encoding.lower() in ("utf-8", "utf8") else profile.csv.encoding
    with path.open("r", encoding=encoding, errors="replace", newline="") as fh:
        first = fh.readline()
    if not first.strip():
        return []
    row = next(csv.reader(io.StringIO(first), delimiter=profile.csv.delimiter, quotechar=profile.csv.quote))
    return [c.strip() for c in row]


def _field_sql(profile: SourceProfile, fld: str, kind: str, header: set[str]) -> tuple[str, str]:
    """(normalised value expression, problem expression) for one canonical field."""
    if fld in profile.columns and profile.columns[fld] in header:
        value = f"nullif(trim({quote_ident(profile.columns[fld])}), '')"
    elif fld in profile.constants:
        value = quote_literal(profile.constants[fld])
    else:
        value = "CAST(NULL AS VARCHAR)"
    mapping = profile.values.get(fld)
    if mapping:
        whens = " ".join(
            f"WHEN {quote_literal(k)} THEN {'NULL' if v is None else quote_literal(v)}" for k, v in mapping.items()
        )
        value = f"(CASE {value} {whens} ELSE {value} END)"

    problems: list[str] = []
    shown = f"'{fld}: ' || "
    if fld in profile.canonical.required:
        problems.append(f"CASE WHEN {value} IS NULL THEN '{fld}: missing required value' END")
    if kind == "timestamp":
        formats = profile.formats_for(fld)
        naive = [f for f in formats if "%z" not in f and "%Z" not in f]
        aware = [f for f in formats if f not in naive]
        parts = []
        if naive:
            parts.append(f"timezone({quote_literal(profile.timezone)}, try_strptime({value}, {_sql_list(naive)}))")
        if aware:
            parts.append(f"try_strptime({value}, {_sql_list(aware)})")
        parsed = parts[0] if len(parts) == 1 else f"coalesce({', '.join(parts)})"
        normalised = f"strftime(timezone('UTC', {parsed}), '%Y-%m-%d %H:%M:%S')"
        problems.append(
            f"CASE WHEN {value} IS NOT NULL AND {parsed} IS NULL THEN "
            f"{shown}'''' || {value} || ''' does not match {', '.join(formats).replace(chr(39), '')}' END"
        )
        return normalised, " , ".join(problems)
    if kind == "date":
        parsed = f"CAST(try_strptime({value}, {_sql_list(profile.formats_for(fld))}) AS DATE)"
        problems.append(
            f"CASE WHEN {value} IS NOT NULL AND {parsed} IS NULL THEN {shown}'''' || {value} || ''' is not a date' END"
        )
        return f"strftime({parsed}, '%Y-%m-%d')", " , ".join(problems)
    if kind in ("number", "integer"):
        target = "DOUBLE" if kind == "number" else "BIGINT"
        problems.append(
            f"CASE WHEN {value} IS NOT NULL AND try_cast({value} AS {target}) IS NULL THEN "
            f"{shown}'''' || {value} || ''' is not a{'n integer' if kind == 'integer' else ' number'}' END"
        )
        return value, " , ".join(problems)
    if kind == "boolean":
        lowered = f"lower({value})"
        normalised = (
            f"CASE WHEN {lowered} IN {tuple(profile.true_values)!r} THEN 'true' "
            f"WHEN {lowered} IN {tuple(profile.false_values)!r} THEN 'false' END"
        )
        normalised = normalised.replace("',)", "')")
        problems.append(
            f"CASE WHEN {value} IS NOT NULL AND ({normalised}) IS NULL THEN "
            f"{shown}'''' || {value} || ''' is not a yes/no value' END"
        )
        return normalised, " , ".join(problems)
    return value, " , ".join(problems)


def land_file(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    profile: SourceProfile,
    landing_dir: Path | None = None,
) -> LandingResult:
    """Land one file; returns the counts. Raises LandingError when the file is refused whole."""
    path = Path(path)
    source = profile.source
    canonical = CANONICAL_SOURCES[source]
    shown_name = str(path.relative_to(landing_dir)) if landing_dir and path.is_relative_to(landing_dir) else path.name
    sha = file_sha256(path)
    batch_id = f"{profile.name}:{sha[:16]}"
    result = LandingResult(source_file=shown_name, source_profile=profile.name, batch_id=batch_id)
    ensure_raw_tables(con, source)
    if con.execute(f"SELECT 1 FROM {RAW_SCHEMA}.batches WHERE batch_id = ?", [batch_id]).fetchone():
        result.already_landed = True
        return result

    header = read_header(path, profile) if path.stat().st_size else []
    header_set = set(header)
    mapped_sources = {fld: col for fld, col in profile.columns.items()}
    missing_required = [
        f"{col} (for {fld})"
        for fld, col in mapped_sources.items()
        if fld in canonical.required and col not in header_set
    ]
    if header and missing_required:
        raise LandingError(
            f"{shown_name}: refused, required column(s) missing from the header: "
            f"{', '.join(missing_required)}. Header found: {', '.join(header)}. "
            f"Fix the file or the profile {profile.path or profile.name}."
        )
    result.unmapped_columns = [c for c in header if c not in set(mapped_sources.values())]

    con.execute("BEGIN TRANSACTION")
    try:
        if header:
            _land_rows(con, path, profile, header_set, result)
        con.execute(
            f"INSERT INTO {RAW_SCHEMA}.batches VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, now()::TIMESTAMP)",
            [
                batch_id,
                source,
                profile.name,
                shown_name,
                sha,
                path.stat().st_size,
                result.rows_read,
                result.rows_landed,
                result.rows_quarantined,
            ],
        )
        if result.rows_read != result.rows_landed + result.rows_quarantined:
            raise LandingError(
                f"{shown_name}: counts do not reconcile: read {result.rows_read}, "
                f"landed {result.rows_landed}, quarantined {result.rows_quarantined}"
            )
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise
    return result


def _land_rows(con, path: Path, profile: SourceProfile, header: set[str], result: LandingResult) -> None:
    source = profile.source
    canonical = CANONICAL_SOURCES[source]
    csv_opts = (
        f"header=true, all_varchar=true, delim={quote_literal(profile.csv.delimiter)}, "
        f"quote={quote_literal(profile.csv.quote)}, encoding={quote_literal(profile.csv.encoding)}, "
        "store_rejects=true, rejects_table='_landing_rejects', rejects_scan='_landing_scan', "
        "null_padding=false, strict_mode=true"
    )
    for t in ("_landing_in", "_landing_rejects", "_landing_scan", "_landing_checked"):
        con.execute(f"DROP TABLE IF EXISTS {t}")
    con.execute(f"CREATE TEMP TABLE _landing_in AS SELECT * FROM read_csv({quote_literal(str(path))}, {csv_opts})")
    # One rejected line can be reported once per bad column: keep one row per line.
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _landing_rej AS SELECT line, "
        "string_agg(DISTINCT error_type, ', ') AS error_type, "
        "first(column_name) AS column_name, first(error_message) AS message, "
        "first(csv_line) AS csv_line FROM _landing_rejects GROUP BY line"
    )
    good = con.execute("SELECT count(*) FROM _landing_in").fetchone()[0]
    bad_lines = con.execute("SELECT count(*) FROM _landing_rej").fetchone()[0]
    result.rows_read = good + bad_lines

    selects, problems = [], []
    for fld, kind in canonical.fields.items():
        expr, problem = _field_sql(profile, fld, kind, header)
        selects.append(f"{expr} AS {quote_ident(fld)}")
        if problem:
            problems.append(problem)
    problems_sql = f"list_filter([{', '.join(problems)}], lambda p: p IS NOT NULL)" if problems else "[]"
    # The k-th good row sits on the k-th file line that was not rejected (line 1 is the header).
    con.execute(
        f"""
        CREATE TEMP TABLE _landing_checked AS
        WITH ordinals AS (
            SELECT line, row_number() OVER (ORDER BY line) - 1 AS ordinal
            FROM range(2, {result.rows_read} + 2) AS r(line)
            WHERE line NOT IN (SELECT line FROM _landing_rej)
        ),
        numbered AS (SELECT row_number() OVER (ORDER BY rowid) - 1 AS ordinal, * FROM _landing_in)
        SELECT o.line AS _row_number, {", ".join(selects)},
               {problems_sql} AS _problems,
               to_json(numbered) AS _original
        FROM numbered JOIN ordinals o USING (ordinal)
        """
    )
    fields_sql = ", ".join(quote_ident(f) for f in canonical.fields)
    con.execute(
        f"""
        INSERT INTO {RAW_SCHEMA}.{source}
        SELECT {fields_sql}, ?, ?, _row_number, now()::TIMESTAMP, ?, ?,
               json_merge_patch(_original, '{{"ordinal": null}}')
        FROM _landing_checked WHERE len(_problems) = 0
        """,
        [result.batch_id, result.source_file, profile.name, profile.timezone],
    )
    con.execute(
        f"""
        INSERT INTO {RAW_SCHEMA}.quarantine
        SELECT ?, ?, ?, ?, _row_number,
               CASE WHEN list_bool_or(list_transform(_problems, lambda p: p LIKE '%missing required%'))
                    THEN 'MISSING REQUIRED' ELSE 'INVALID VALUE' END,
               split_part(_problems[1], ':', 1), array_to_string(_problems, '; '),
               json_merge_patch(_original, '{{"ordinal": null}}')::VARCHAR, now()::TIMESTAMP
        FROM _landing_checked WHERE len(_problems) > 0
        """,
        [result.batch_id, source, profile.name, result.source_file],
    )
    con.execute(
        f"""
        INSERT INTO {RAW_SCHEMA}.quarantine
        SELECT ?, ?, ?, ?, line, error_type, column_name, message, csv_line, now()::TIMESTAMP
        FROM _landing_rej
        """,
        [result.batch_id, source, profile.name, result.source_file],
    )
    result.rows_landed = con.execute("SELECT count(*) FROM _landing_checked WHERE len(_problems) = 0").fetchone()[0]
    result.rows_quarantined = (
        con.execute("SELECT count(*) FROM _landing_checked WHERE len(_problems) > 0").fetchone()[0] + bad_lines
    )
    for error_type, n in con.execute(
        f"SELECT error_type, count(*) FROM {RAW_SCHEMA}.quarantine WHERE batch_id = ? GROUP BY 1",
        [result.batch_id],
    ).fetchall():
        result.quarantine_reasons[error_type] = n
    for t in (
        "_landing_in",
        "_landing_rejects",
        "_landing_scan",
        "_landing_checked",
        "_landing_rej",
    ):
        con.execute(f"DROP TABLE IF EXISTS {t}")
