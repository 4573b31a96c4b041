"""Land lookup files (a profile's ``lookups``: a locations table, a code table) into
``raw.lookup_values``, one row per key x canonical field it fills, with lineage.

Like every source: a file is keyed by its content hash (the same file twice lands once); each
value keeps its file, line, load time and profile; a row that cannot be used (no key, a value
that does not parse, a wrong number of fields) goes to ``raw.quarantine`` with its reason; rows
read = landed + quarantined. ``raw.lookup_batches`` holds one row per file with its counts and
its verdict: the latest file of each profile's lookup passes when it has rows, at most 5 % of
them quarantined, and no key given two different values; staging joins the latest file that
passed, so a broken new file keeps the last good one. ``raw.lookup_fields`` says, per profile,
which record column holds each lookup's key and which fields it fills (rewritten at every
landing); a new passing file or a changed mapping asks the next build for a full refresh, so
records landed before it are joined again.

Lookup files are small (a city's locations or codes); they are read with Python's csv reader,
which gives each record's first line.
"""

from __future__ import annotations

import csv
import hashlib
import json
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pandas as pd

from orchestration.landing.field_sql import _Plan
from orchestration.landing.profiles import FieldSource, Lookup, SourceProfile, header_column
from orchestration.ledger.store import ensure_ledger, request_full_rebuild
from orchestration.sql import quote_ident

MAX_QUARANTINED_SHARE = 0.05
VALUE_COLUMNS = {
    "source_profile": "VARCHAR",
    "lookup_name": "VARCHAR",
    "lookup_key": "VARCHAR",
    "canonical_field": "VARCHAR",
    "value": "VARCHAR",
    "_batch_id": "VARCHAR",
    "_source_file": "VARCHAR",
    "_row_number": "BIGINT",
    "_loaded_at": "TIMESTAMP",
}
BATCH_COLUMNS = {
    "batch_id": "VARCHAR PRIMARY KEY",
    "source_profile": "VARCHAR",
    "lookup_name": "VARCHAR",
    "source_file": "VARCHAR",
    "rows_read": "BIGINT",
    "rows_landed": "BIGINT",
    "rows_quarantined": "BIGINT",
    "distinct_keys": "BIGINT",
    "conflicting_keys": "BIGINT",
    "loaded_at": "TIMESTAMP",
    "gate_passed": "BOOLEAN",
    "gate_reason": "VARCHAR",
}
FIELD_COLUMNS = {
    "source_profile": "VARCHAR",
    "source": "VARCHAR",
    "lookup_name": "VARCHAR",
    "record_column": "VARCHAR",
    "lookup_key_column": "VARCHAR",
    "canonical_field": "VARCHAR",
    "lookup_column": "VARCHAR",
}


@dataclass(frozen=True)
class LookupLanding:
    source_profile: str
    lookup_name: str
    source_file: str
    batch_id: str
    rows_read: int = 0
    rows_landed: int = 0
    rows_quarantined: int = 0
    already_landed: bool = False
    refused: str | None = None


def ensure_lookup_tables(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("CREATE SCHEMA IF NOT EXISTS raw")
    for table, spec in (("lookup_values", VALUE_COLUMNS), ("lookup_batches", BATCH_COLUMNS)):
        body = ", ".join(f"{c} {t}" for c, t in spec.items())
        con.execute(f"CREATE TABLE IF NOT EXISTS raw.{table} ({body})")


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class LookupFileError(ValueError):
    """A lookup file refused whole (unreadable, or without a column its lookup reads)."""


def _read(path: Path, profile: SourceProfile, lookup: Lookup, shown: str) -> tuple[list[str], list[tuple[int, list]]]:
    """(header, [(first line of the record, its fields)])."""
    fmt = profile.csv
    try:
        with path.open(encoding=fmt.encoding, newline="") as f:
            reader = csv.reader(f, delimiter=fmt.delimiter, quotechar=fmt.quote)
            header = [h.strip().lstrip("\ufeff") for h in next(reader, [])]
            records, line = [], reader.line_num
            for fields in reader:
                if fields:
                    records.append((line + 1, fields))
                line = reader.line_num
    except (UnicodeDecodeError, csv.Error) as exc:
        raise LookupFileError(f"{shown}: cannot be read as {fmt.encoding} CSV: {exc}") from None
    wanted = [lookup.key, *lookup.columns.values()]
    lacking = [c for c in wanted if header_column(c, set(header)) is None]
    if lacking:
        raise LookupFileError(
            f"{shown}: lookup '{lookup.name}' of profile {profile.name} reads column(s) "
            f"{', '.join(lacking)}, not in the header ({', '.join(header) or 'empty'})"
        )
    return header, records


def _values_sql(profile: SourceProfile, lookup: Lookup, header: list[str], now: datetime) -> str:
    """SQL over the table ``_lookup_rows`` (c1..cN, _row_number): each row's key, every filled
    field's value (the profile's value mappings and null values applied, as for a record) and
    the first problem that quarantines the row."""
    columns = {fld: FieldSource(candidates=(col,)) for fld, col in lookup.columns.items()}
    as_records = replace(
        profile, columns=columns, constants={}, coordinates=None, grain="call", missing_values={}, lookups={}
    )
    plan = _Plan(as_records, header, now)
    key = plan._clean(header_column(lookup.key, set(header)))
    prepared, values, problems = {}, {}, [f"CASE WHEN {key} IS NULL THEN 'key: missing (column {lookup.key})' END"]
    for fld in lookup.columns:
        sql = plan.field_sql(fld, profile.canonical.fields[fld])
        prepared.update(sql.prepared)
        values[fld] = sql.value
        problems += sql.problems
    inner = ", ".join(f"{expr} AS {quote_ident(name)}" for name, expr in prepared.items())
    outer = ", ".join(f"{expr} AS {quote_ident('f_' + fld)}" for fld, expr in values.items())
    return (
        f"SELECT _row_number, {key} AS lookup_key, {outer}, coalesce({', '.join(problems)}) AS problem "
        f"FROM (SELECT *, {inner} FROM _lookup_rows)"
    )


def _land_file(con, profile: SourceProfile, lookup: Lookup, path: Path, shown: str) -> LookupLanding:
    batch_id = "lookup-" + _sha256(path)
    landing = LookupLanding(profile.name, lookup.name, shown, batch_id)
    if con.execute("SELECT 1 FROM raw.lookup_batches WHERE batch_id = ?", [batch_id]).fetchone():
        return replace(landing, already_landed=True)
    try:
        header, records = _read(path, profile, lookup, shown)
    except LookupFileError as exc:
        return replace(landing, refused=str(exc))
    now = datetime.now(UTC).replace(tzinfo=None)
    width = len(header)
    rows = pd.DataFrame(
        [fields + [line] for line, fields in records if len(fields) == width],
        columns=[f"c{i}" for i in range(1, width + 1)] + ["_row_number"],
        dtype=object,
    )
    rows["_row_number"] = rows["_row_number"].astype("int64")
    quarantined = [
        (line, "WRONG COLUMN COUNT", None, f"{len(fields)} fields where the header has {width}", fields)
        for line, fields in records
        if len(fields) != width
    ]
    con.register("_lookup_rows", rows)
    try:
        checked = con.execute(_values_sql(profile, lookup, header, now)).df()
    finally:
        con.unregister("_lookup_rows")
    bad = checked[checked["problem"].notna()]
    by_line = {line: fields for line, fields in records}
    for line, problem in zip(bad["_row_number"], bad["problem"], strict=True):
        fld = problem.split(":", 1)[0]
        kind = "MISSING KEY" if fld == "key" else "INVALID VALUE"
        quarantined.append((int(line), kind, fld, problem, by_line[int(line)]))
    good = checked[checked["problem"].isna()]
    values = pd.DataFrame(
        [
            (profile.name, lookup.name, key, fld, value, batch_id, shown, int(line), now)
            for fld in lookup.columns
            for key, value, line in zip(good["lookup_key"], good["f_" + fld], good["_row_number"], strict=True)
        ],
        columns=list(VALUE_COLUMNS),
    )
    by_key = good.groupby("lookup_key")[[f"f_{f}" for f in lookup.columns]].nunique(dropna=False)
    conflicting = int((by_key > 1).any(axis=1).sum())
    quarantine_rows = pd.DataFrame(
        [
            (batch_id, "lookup", profile.name, shown, line, kind, fld, f"{reason}, {shown} line {line}",
             json.dumps(dict(zip(header, fields, strict=False))), now)
            for line, kind, fld, reason, fields in quarantined
        ],
        columns=["batch_id", "source", "source_profile", "source_file", "row_number", "error_type", "field",
                 "reason", "record", "loaded_at"],
    )  # fmt: skip
    read, landed = len(records), len(good)
    if landed + len(quarantine_rows) != read:
        raise RuntimeError(f"{shown}: {read} rows read but {landed + len(quarantine_rows)} kept")
    con.execute("BEGIN TRANSACTION")
    try:
        con.register("_lookup_values", values)
        con.execute("INSERT INTO raw.lookup_values BY NAME SELECT * FROM _lookup_values")
        con.unregister("_lookup_values")
        if len(quarantine_rows):
            con.register("_lookup_quarantine", quarantine_rows)
            con.execute("INSERT INTO raw.quarantine BY NAME SELECT * FROM _lookup_quarantine")
            con.unregister("_lookup_quarantine")
        con.execute(
            "INSERT INTO raw.lookup_batches VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, NULL)",
            [batch_id, profile.name, lookup.name, shown, read, landed, len(quarantine_rows),
             int(good["lookup_key"].nunique()), conflicting, now],
        )  # fmt: skip
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise
    return replace(landing, rows_read=read, rows_landed=landed, rows_quarantined=len(quarantine_rows))


def verdict(rows_read: int, rows_landed: int, rows_quarantined: int, conflicting_keys: int) -> str | None:
    """Why a lookup file cannot be joined, or None when it passes."""
    if rows_landed == 0:
        return "no row could be landed"
    if rows_quarantined > MAX_QUARANTINED_SHARE * rows_read:
        return f"{rows_quarantined} of {rows_read} rows quarantined (more than {MAX_QUARANTINED_SHARE:.0%})"
    if conflicting_keys:
        return f"{conflicting_keys} key(s) given different values on different rows"
    return None


def judge_latest(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str, str, str | None]]:
    """Judge each profile's lookup's latest file: (profile, lookup, file, reason it fails or None)."""
    latest = con.execute(
        "SELECT batch_id, source_profile, lookup_name, source_file, rows_read, rows_landed, rows_quarantined, "
        "conflicting_keys, gate_passed FROM raw.lookup_batches "
        "QUALIFY row_number() OVER (PARTITION BY source_profile, lookup_name "
        "ORDER BY loaded_at DESC, batch_id DESC) = 1"
    ).fetchall()
    judged = []
    for batch_id, prof, name, shown, read, landed, quarantined, conflicting, passed_before in latest:
        reason = verdict(read, landed, quarantined, conflicting)
        if passed_before is None:
            con.execute(
                "UPDATE raw.lookup_batches SET gate_passed = ?, gate_reason = ? WHERE batch_id = ?",
                [reason is None, reason, batch_id],
            )
            if reason is None:
                request_full_rebuild(con, f"lookup file {shown} ({prof}.{name}) passed: records are joined to it again")
        judged.append((prof, name, shown, reason))
    return judged


def field_rows(profiles: dict[str, SourceProfile]) -> list[tuple]:
    return sorted(
        (p.name, p.source, lk.name, lk.record_column, lk.key, fld, col)
        for p in profiles.values()
        for lk in p.lookups.values()
        for fld, col in lk.columns.items()
    )


def write_lookup_fields(con: duckdb.DuckDBPyConnection, profiles: dict[str, SourceProfile]) -> bool:
    """Replace ``raw.lookup_fields``; True (and a full refresh asked for) when the mapping changed."""
    body = ", ".join(f"{c} {t}" for c, t in FIELD_COLUMNS.items())
    con.execute(f"CREATE TABLE IF NOT EXISTS raw.lookup_fields ({body})")
    rows = field_rows(profiles)
    before = sorted(con.execute("SELECT * FROM raw.lookup_fields").fetchall())
    if before == rows:
        return False
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute("DELETE FROM raw.lookup_fields")
        if rows:
            con.executemany(f"INSERT INTO raw.lookup_fields VALUES ({', '.join('?' * len(FIELD_COLUMNS))})", rows)
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise
    if before:
        request_full_rebuild(con, "a profile's lookups changed: records are joined again")
    return True


def land_lookups(
    con: duckdb.DuckDBPyConnection, profiles: dict[str, SourceProfile], landing_dir: Path
) -> tuple[list[LookupLanding], list[tuple[str, str, str, str | None]]]:
    """Land every lookup file not landed yet, then judge each lookup's latest file."""
    ensure_lookup_tables(con)
    ensure_ledger(con)
    write_lookup_fields(con, profiles)
    landed = []
    for profile in profiles.values():
        for lookup in profile.lookups.values():
            for path in lookup.matching_files(landing_dir):
                shown = path.relative_to(landing_dir).as_posix()
                landed.append(_land_file(con, profile, lookup, path, shown))
    return landed, judge_latest(con)
