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
5. DuckDB's CSV reader reads every field as text and keeps the lines it cannot read (wrong
   column count, bytes not in the encoding) in a rejects table instead of failing.
6. Each good row is mapped onto the canonical fields (see ``_FieldSql``). A row with a missing
   required value, a value that does not parse, or a timestamp more than a day after the load
   is quarantined with the field, the column and the reason. Rows that land but look wrong
   (daylight-saving edge, coordinates outside the city or swapped) are kept and flagged in
   ``_flags``.
7. Good rows go to ``raw.<source>`` with lineage and the row as received (``_original``); bad
   rows and unreadable records go to ``raw.quarantine``; one row per file to ``raw.batches``.
   Rows read = rows landed + rows quarantined is checked before the transaction commits.
"""

from __future__ import annotations

import bisect
import codecs
import csv
import os
import tempfile
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb

from orchestration.landing import csvfile
from orchestration.landing.canonical import CANONICAL_SOURCES
from orchestration.landing.clock import local_to_utc_sql, set_transition_variables, transition_index_sql
from orchestration.landing.profiles import KEEP, FieldSource, SourceProfile
from orchestration.landing.projection import PROJECTIONS

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
# Added after the first release: appended with ALTER TABLE so older warehouses keep working.
FLAG_COLUMNS = {"_flags": "VARCHAR"}
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
BATCH_EXTRA_COLUMNS = {"notes": "VARCHAR"}
# A timestamp later than the load time plus this is quarantined (clocks and time zones can put
# a genuine event a few hours ahead; a day is not a clock error any more).
FUTURE_TOLERANCE = timedelta(days=1)
# DuckDB keeps to this much memory while landing and spills the rest to disk, so a file of any
# size streams through (measured in tests/test_robustness.py and orchestration/landing/benchmark.py).
LANDING_MEMORY_LIMIT = os.environ.get("PSW_LANDING_MEMORY_LIMIT", "1GB")
# Files landed at once, each through its own cursor and transaction. Numbering a file's rows in
# order is a streaming window, one core per file, so files in parallel use the other cores.
LANDING_WORKERS = int(os.environ.get("PSW_LANDING_WORKERS") or 0) or min(os.cpu_count() or 1, 4)
REJECT_TEXT_LIMIT = 65_536
CANDIDATE_DELIMITERS = (",", ";", "\t", "|")
CANDIDATE_QUOTES = ('"', "'")


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
    flags: Counter = field(default_factory=Counter)
    unmapped_columns: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def quote_literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _sql_list(values) -> str:
    return "[" + ", ".join(quote_literal(v) for v in values) + "]"


def _sql_tuple(values) -> str:
    return "(" + ", ".join(quote_literal(v) for v in values) + ")"


def ensure_raw_tables(con: duckdb.DuckDBPyConnection, source: str) -> None:
    """Create ``raw.<source>``, ``raw.quarantine`` and ``raw.batches`` if they are missing."""
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {RAW_SCHEMA}")
    canonical = CANONICAL_SOURCES[source]
    cols = [f"{quote_ident(f)} VARCHAR" for f in canonical.fields]
    cols += [f"{c} {t}" for c, t in LINEAGE_COLUMNS.items()]
    con.execute(f"CREATE TABLE IF NOT EXISTS {RAW_SCHEMA}.{source} ({', '.join(cols)})")
    for c, t in FLAG_COLUMNS.items():
        con.execute(f"ALTER TABLE {RAW_SCHEMA}.{source} ADD COLUMN IF NOT EXISTS {c} {t}")
    for table, spec in (("quarantine", QUARANTINE_COLUMNS), ("batches", BATCH_COLUMNS)):
        body = ", ".join(f"{c} {t}" for c, t in spec.items())
        con.execute(f"CREATE TABLE IF NOT EXISTS {RAW_SCHEMA}.{table} ({body})")
    for c, t in BATCH_EXTRA_COLUMNS.items():
        con.execute(f"ALTER TABLE {RAW_SCHEMA}.batches ADD COLUMN IF NOT EXISTS {c} {t}")


file_sha256 = csvfile.file_sha256


# --------------------------------------------------------------------------------------------
# How each canonical field is computed, in SQL
# --------------------------------------------------------------------------------------------
@dataclass
class _FieldSql:
    """SQL for one canonical field, in steps: ``prepared`` columns (computed once from the
    file's columns), ``timed`` columns (local timestamps to UTC, with the day's daylight-saving
    transition found by date, see clock.py), then the canonical ``value``, ``problems`` and ``flags``."""

    prepared: dict[str, str]
    value: str
    problems: list[str]
    flags: list[str]
    timed: dict[str, str] = field(default_factory=dict)
    joins: list[str] = field(default_factory=list)


WKT_POINT = r"POINT\s*\(\s*(-?[0-9.]+)\s+(-?[0-9.]+)\s*\)"  # longitude latitude
GEOJSON_POINT = r'"coordinates"\s*:\s*\[\s*(-?[0-9.]+)\s*,\s*(-?[0-9.]+)'  # longitude, latitude
PAREN_LAT_LON = r"^\(\s*(-?[0-9.]+)\s*,\s*(-?[0-9.]+)\s*\)$"  # (latitude, longitude)
EMPTY = "CAST(NULL AS VARCHAR)"


def _problem_text(fld: str, value_sql: str, column: str, what: str) -> str:
    """SQL for: <field>: '<value>' (column <c>) <what>."""
    where = f" (column {column})" if column else ""
    return f"{quote_literal(fld + ': ' + chr(39))} || {value_sql} || {quote_literal(chr(39) + where + ' ' + what)}"


class _Plan:
    """The profile resolved against one file's header: which column feeds which field."""

    def __init__(self, profile: SourceProfile, header: list[str], now: datetime, source_file: str = ""):
        self.profile = profile
        self.source_file = source_file
        self.header = set(header)
        self.now = now
        # The file's columns are read as c1..cN (no clash with the names used here); the first
        # column of a repeated name is the one a profile reads.
        self.position = {}
        for i, name in enumerate(header, 1):
            self.position.setdefault(name, f"c{i}")
        self.used: dict[str, tuple[str, ...]] = {}
        self.missing_required: list[str] = []
        self.missing_optional: list[str] = []
        for fld, spec in profile.columns.items():
            found = spec.resolve(self.header)
            if found is not None:
                self.used[fld] = found
            elif fld in profile.canonical.required:
                self.missing_required.append(f"{spec.wanted()} (for {fld})")
            else:
                self.missing_optional.append(f"{spec.wanted()} (for {fld})")
        coords = profile.coordinates
        self.coordinate_columns: dict[str, str] = {}
        if coords:
            parts = {"point": coords.point} if coords.point else {"x": coords.x, "y": coords.y}
            for part, spec in parts.items():
                found = spec.resolve(self.header)
                if found:
                    self.coordinate_columns[part] = found[0]
                else:
                    self.missing_optional.append(f"{spec.wanted()} (for latitude/longitude)")
            if len(self.coordinate_columns) != len(parts):
                self.coordinate_columns = {}

    def used_columns(self) -> set[str]:
        return {c for found in self.used.values() for c in found} | set(self.coordinate_columns.values())

    def _clean(self, column: str, extra_nulls: tuple[str, ...] = ()) -> str:
        nulls = _sql_tuple(("",) + self.profile.null_values + extra_nulls)
        col = self.position[column]
        return f"(CASE WHEN trim({col}) IN {nulls} THEN NULL ELSE trim({col}) END)"

    def _source_value(self, fld: str) -> tuple[str, str]:
        """(SQL of the field's text before its kind is checked, the column(s) it came from)."""
        if fld in self.used:
            spec: FieldSource = self.profile.columns[fld]
            cols = self.used[fld]
            if spec.line_number:
                # _row_number is computed earlier in the same SELECT (DuckDB reads the alias)
                return f"{quote_literal(self.source_file + ':')} || CAST(_row_number AS VARCHAR)", "line number"
            value = (" || " + quote_literal(spec.separator) + " || ").join(self._clean(c) for c in cols)
            mapping = spec.values if spec.values is not None else self.profile.values.get(fld)
            if mapping:
                whens = " ".join(
                    f"WHEN {quote_literal(k)} THEN {'NULL' if v is None else quote_literal(v)}"
                    for k, v in mapping.items()
                )
                if spec.otherwise == KEEP:
                    other = value
                else:
                    other = "NULL" if spec.otherwise is None else quote_literal(spec.otherwise)
                value = f"(CASE WHEN ({value}) IS NULL THEN NULL ELSE (CASE {value} {whens} ELSE {other} END) END)"
            return value, " + ".join(cols)
        if fld in self.profile.constants:
            return quote_literal(self.profile.constants[fld]), ""
        return EMPTY, ""

    def field_sql(self, fld: str, kind: str) -> _FieldSql:
        source, column = self._source_value(fld)
        if source == EMPTY:  # the file does not have it: NULL, nothing to check
            return _FieldSql({}, EMPTY, [], [])
        v = quote_ident(f"_v_{fld}")
        prepared = {f"_v_{fld}": source}
        problems: list[str] = []
        flags: list[str] = []
        if fld in self.profile.canonical.required:
            where = f" (column {column})" if column else ""
            problems.append(f"CASE WHEN {v} IS NULL THEN {quote_literal(f'{fld}: missing required value{where}')} END")
        if kind == "timestamp":
            formats = self.profile.formats_for(fld)
            naive = [f for f in formats if "%z" not in f and "%Z" not in f]
            aware = [f for f in formats if f not in naive]
            parts, timed, joins = [], {}, []
            if naive:
                local = quote_ident(f"_l_{fld}")
                prepared[f"_l_{fld}"] = f"try_strptime({v}, {_sql_list(naive)})"
                index = quote_ident(f"_i_{fld}")
                prepared[f"_i_{fld}"] = transition_index_sql(local)
                utc_local, dst_flag = local_to_utc_sql(local, index, self.profile.timezone)
                parts.append(utc_local)
                timed[f"_d_{fld}"] = dst_flag
                flags.append(
                    f"CASE WHEN {quote_ident(f'_d_{fld}')} IS NOT NULL THEN '{fld}: ' || {quote_ident(f'_d_{fld}')} END"
                )
            if aware:
                # DuckDB's %z reads +hh:mm and +hhmm; an ISO 8601 'Z' means +00:00.
                zoned = f"regexp_replace({v}, '([0-9])Z$', '\\1+00:00')"
                parts.append(f"timezone('UTC', try_strptime({zoned}, {_sql_list(aware)}))")
            timed[f"_t_{fld}"] = parts[0] if len(parts) == 1 else f"coalesce({', '.join(parts)})"
            t = quote_ident(f"_t_{fld}")
            limit = self.now + FUTURE_TOLERANCE
            listed = ", ".join(formats)
            late = f"is later than the load time {self.now:%Y-%m-%d %H:%M} UTC + 1 day (read as "
            problems.append(
                f"CASE WHEN {v} IS NOT NULL AND {t} IS NULL THEN "
                f"{_problem_text(fld, v, column, 'does not match ' + listed)} "
                f"WHEN {t} > TIMESTAMP '{limit:%Y-%m-%d %H:%M:%S}' THEN "
                f"{_problem_text(fld, v, column, late)} || strftime({t}, '%Y-%m-%d %H:%M:%S') || ' UTC)' END"
            )
            return _FieldSql(prepared, f"strftime({t}, '%Y-%m-%d %H:%M:%S')", problems, flags, timed, joins)
        if kind == "date":
            prepared[f"_t_{fld}"] = f"CAST(try_strptime({v}, {_sql_list(self.profile.formats_for(fld))}) AS DATE)"
            t = quote_ident(f"_t_{fld}")
            problems.append(
                f"CASE WHEN {v} IS NOT NULL AND {t} IS NULL THEN {_problem_text(fld, v, column, 'is not a date')} END"
            )
            return _FieldSql(prepared, f"strftime({t}, '%Y-%m-%d')", problems, flags)
        if kind in ("number", "integer"):
            target = "DOUBLE" if kind == "number" else "BIGINT"
            what = "is not an integer" if kind == "integer" else "is not a number"
            problems.append(
                f"CASE WHEN {v} IS NOT NULL AND try_cast({v} AS {target}) IS NULL THEN "
                f"{_problem_text(fld, v, column, what)} END"
            )
            return _FieldSql(prepared, v, problems, flags)
        if kind == "boolean":
            normalised = (
                f"CASE WHEN lower({v}) IN {_sql_tuple(self.profile.true_values)} THEN 'true' "
                f"WHEN lower({v}) IN {_sql_tuple(self.profile.false_values)} THEN 'false' END"
            )
            problems.append(
                f"CASE WHEN {v} IS NOT NULL AND ({normalised}) IS NULL THEN "
                f"{_problem_text(fld, v, column, 'is not a yes/no value')} END"
            )
            return _FieldSql(prepared, normalised, problems, flags)
        return _FieldSql(prepared, v, problems, flags)

    def coordinates_sql(self) -> tuple[_FieldSql, _FieldSql]:
        """Latitude and longitude derived from projected x/y or from a point column."""
        coords = self.profile.coordinates
        if not self.coordinate_columns:
            return _FieldSql({}, EMPTY, [], []), _FieldSql({}, EMPTY, [], [])
        if coords.point:
            col = self.coordinate_columns["point"]
            prepared = {"_v_point": self._clean(col, coords.missing)}
            p = quote_ident("_v_point")

            def part(group_lon_first: int, group_lat_first: int) -> str:
                return (
                    f"coalesce(nullif(regexp_extract({p}, {quote_literal(WKT_POINT)}, {group_lon_first}), ''), "
                    f"nullif(regexp_extract({p}, {quote_literal(GEOJSON_POINT)}, {group_lon_first}), ''), "
                    f"nullif(regexp_extract({p}, {quote_literal(PAREN_LAT_LON)}, {group_lat_first}), ''))"
                )

            lat, lon = part(2, 1), part(1, 2)
            what = "is not a point: POINT (lon lat), GeoJSON or (lat, lon)"
            problem = (
                f"CASE WHEN {p} IS NOT NULL AND ({lat}) IS NULL THEN {_problem_text('latitude', p, col, what)} END"
            )
            return _FieldSql(prepared, lat, [problem], []), _FieldSql({}, lon, [], [])
        xcol, ycol = self.coordinate_columns["x"], self.coordinate_columns["y"]
        prepared = {"_v_x": self._clean(xcol, coords.missing), "_v_y": self._clean(ycol, coords.missing)}
        x, y = quote_ident("_v_x"), quote_ident("_v_y")
        lat, lon = PROJECTIONS[coords.projection].to_wgs84_sql(f"try_cast({x} AS DOUBLE)", f"try_cast({y} AS DOUBLE)")
        problems = [
            f"CASE WHEN {v} IS NOT NULL AND try_cast({v} AS DOUBLE) IS NULL THEN "
            f"{_problem_text('latitude', v, c, 'is not a number')} END"
            for v, c in ((x, xcol), (y, ycol))
        ]
        return (
            _FieldSql(prepared, f"CAST(round({lat}, 7) AS VARCHAR)", problems, []),
            _FieldSql({}, f"CAST(round({lon}, 7) AS VARCHAR)", [], []),
        )

    def coordinate_flag_sql(self, lat: str, lon: str) -> str:
        """A flag for coordinates outside the city (swapped ones named as such), or impossible ones."""
        la, lo = f"try_cast({lat} AS DOUBLE)", f"try_cast({lon} AS DOUBLE)"
        b = self.profile.bounds
        impossible = f"WHEN abs({la}) > 90 OR abs({lo}) > 180 THEN 'latitude/longitude: impossible (not on Earth)'"
        if b is None:
            return f"CASE WHEN {la} IS NULL OR {lo} IS NULL THEN NULL {impossible} END"
        lat_range = f"BETWEEN {b.min_latitude} AND {b.max_latitude}"
        lon_range = f"BETWEEN {b.min_longitude} AND {b.max_longitude}"
        return (
            f"CASE WHEN {la} IS NULL OR {lo} IS NULL THEN NULL "
            f"WHEN {la} {lat_range} AND {lo} {lon_range} THEN NULL "
            f"WHEN {lo} {lat_range} AND {la} {lon_range} "
            "THEN 'latitude/longitude: swapped (the values fit the city the other way round)' "
            f"{impossible} ELSE 'latitude/longitude: outside the city bounds' END"
        )


# --------------------------------------------------------------------------------------------
# Reading the file
# --------------------------------------------------------------------------------------------
def _readable(path: Path, profile: SourceProfile, workdir: Path, notes: list[str], shown: str) -> tuple[Path, str]:
    """(file DuckDB reads, DuckDB encoding name): the file itself, or a UTF-8 transcoded copy."""
    declared = profile.csv.encoding
    bom = csvfile.sniff_bom(path)
    encoding = declared
    if bom and codec_name(bom) != codec_name(declared) and not (bom == "utf-8" and codec_name(declared) == "utf-8"):
        notes.append(f"byte-order mark says {bom}; read as {bom} (the profile says {declared})")
        encoding = bom
    if not csvfile.needs_transcoding(encoding):
        return path, csvfile.NATIVE_ENCODINGS[encoding.lower()]
    out = workdir / (path.name + ".utf8.csv")
    try:
        csvfile.transcode_to_utf8(path, encoding, out)
    except UnicodeDecodeError as exc:
        raise LandingError(f"{shown}: refused, not {encoding}: {exc.reason}. Set csv.encoding in the profile.") from exc
    if codec_name(encoding) != "utf-16":
        notes.append(f"transcoded from {encoding} to UTF-8 while streaming")
    return out, "utf-8"


def codec_name(encoding: str) -> str:
    return codecs.lookup(encoding).name


def _dedupe(header: list[str]) -> list[str]:
    """Column names DuckDB can take: empty names numbered, repeated names suffixed _2, _3, ..."""
    seen: Counter = Counter()
    out = []
    for i, name in enumerate(header, 1):
        name = name or f"column_{i}"
        seen[name] += 1
        out.append(name if seen[name] == 1 else f"{name}_{seen[name]}")
    return out


def _check_dialect(readable: Path, encoding: str, profile: SourceProfile, header: list[str], shown: str) -> None:
    """Refuse a file whose delimiter or quote character is not the profile's, naming what was found."""
    sample = csvfile.sample_records(readable, "latin-1" if encoding == "latin-1" else "utf-8")
    delim, quote = profile.csv.delimiter, profile.csv.quote
    width, fit = csvfile.dialect_fit(sample, delim, quote)
    fits = {(d, q): csvfile.dialect_fit(sample, d, q) for d in CANDIDATE_DELIMITERS for q in CANDIDATE_QUOTES}
    wanted = profile.source_columns()
    if width <= 1 or not (set(header) & wanted):
        for (d, _q), (w, f) in sorted(fits.items(), key=lambda kv: (-kv[1][1], -kv[1][0])):
            split = next(iter(csv.reader([sample.splitlines()[0]], delimiter=d)), []) if sample else []
            if d != delim and w > 1 and f >= 0.9 and set(c.strip() for c in split) & wanted:
                shown_cols = ", ".join(c.strip() for c in split[:8]) + (", ..." if len(split) > 8 else "")
                raise LandingError(
                    f"{shown}: refused, wrong delimiter: the header has no {delim!r} (the profile's csv.delimiter) "
                    f"but splits on {d!r} into {w} columns ({shown_cols}). Set csv.delimiter: {d!r} in "
                    f"{profile.path or profile.name}, or re-export the file with {delim!r}."
                )
    if fit < 0.5:
        best = max(((q, f) for (d, q), (w, f) in fits.items() if d == delim and w == width), key=lambda x: x[1])
        if best[0] != quote and best[1] >= 0.9:
            raise LandingError(
                f"{shown}: refused, wrong quote character: only {fit:.0%} of the first records have {width} fields "
                f"when quoted with {quote!r} (the profile's csv.quote), {best[1]:.0%} with {best[0]!r}. "
                f"Set csv.quote: {best[0]!r} in {profile.path or profile.name}."
            )


def _record_texts(path: Path, encoding: str, ranges: list[tuple[int, int]]) -> dict[int, str]:
    """Text of physical lines [first, last] for each range (rejected records, as received)."""
    wanted = sorted(ranges)
    out: dict[int, list[bytes]] = {}
    if not wanted:
        return {}
    k = 0
    with Path(path).open("rb") as fh:
        for line_no, line in enumerate(fh, 1):
            while k < len(wanted) and wanted[k][1] < line_no:
                k += 1
            if k >= len(wanted):
                break
            first, last = wanted[k]
            if first <= line_no <= last:
                buf = out.setdefault(first, [])
                if sum(map(len, buf)) < REJECT_TEXT_LIMIT:
                    buf.append(line)
    codec = "latin-1" if encoding == "latin-1" else "utf-8"
    texts = {}
    for first, parts in out.items():
        raw = b"".join(parts).rstrip(b"\r\n")
        texts[first] = raw[:REJECT_TEXT_LIMIT].decode(codec, errors="backslashreplace").lstrip("\ufeff")
    return texts


def _breaks_lookup(breaks: list[tuple[int, int]]):
    starts = [s for s, _ in breaks]

    def offset(index: int) -> int:
        k = bisect.bisect_right(starts, index) - 1
        return breaks[k][1] if k >= 0 else 0

    return offset


# --------------------------------------------------------------------------------------------
# Landing
# --------------------------------------------------------------------------------------------
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
    shown = str(path.relative_to(landing_dir)) if landing_dir and path.is_relative_to(landing_dir) else path.name
    sha = csvfile.file_sha256(path)
    batch_id = f"{profile.name}:{sha[:16]}"
    result = LandingResult(source_file=shown, source_profile=profile.name, batch_id=batch_id)
    ensure_raw_tables(con, profile.source)
    if con.execute(f"SELECT 1 FROM {RAW_SCHEMA}.batches WHERE batch_id = ?", [batch_id]).fetchone():
        result.already_landed = True
        return result
    now = (now or datetime.now(UTC)).replace(tzinfo=None, microsecond=0)
    size = path.stat().st_size
    with tempfile.TemporaryDirectory(prefix="psw_landing_") as tmp:
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
                    f"{', '.join(plan.missing_required)}. Header found: {', '.join(header)}. "
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


def land_files(
    con: duckdb.DuckDBPyConnection,
    files: list[tuple[Path, SourceProfile]],
    landing_dir: Path | None = None,
    workers: int = LANDING_WORKERS,
) -> Iterator[tuple[Path, SourceProfile, LandingResult | LandingError]]:
    """Land many files, ``workers`` at a time; yields each file's result (or the LandingError that
    refused it) in the order given, as soon as it and those before it are done.

    Each file lands through its own cursor in its own transaction, exactly as ``land_file`` alone
    would. Files of the same size land one after the other in one worker, so that two copies of
    the same content never land side by side: the second sees the first's batch and is a no-op.
    DuckDB's memory cap while landing is ``PSW_LANDING_MEMORY_LIMIT`` per worker, for the stage."""
    for source in {profile.source for _, profile in files}:
        ensure_raw_tables(con, source)  # catalog changes before the workers, never between them
    chains: dict[int, list[int]] = {}
    for i, (path, _) in enumerate(files):
        chains.setdefault(Path(path).stat().st_size, []).append(i)
    workers = max(1, min(workers, len(chains)))
    outcomes: dict[int, Future] = {}

    def land_chain(indexes: list[int], cursor: duckdb.DuckDBPyConnection) -> None:
        try:
            for i in indexes:
                path, profile = files[i]
                try:
                    outcomes[i].set_result(land_file(cursor, path, profile, landing_dir, memory_limit=None))
                except LandingError as exc:
                    outcomes[i].set_result(exc)
        except BaseException as exc:  # the machine, not the file: every file not done yet fails with it
            for i in indexes:
                if not outcomes[i].done():
                    outcomes[i].set_exception(exc)
        finally:
            cursor.close()

    outcomes.update((i, Future()) for i in range(len(files)))
    previous_limit = con.execute("SELECT current_setting('memory_limit')").fetchone()[0]
    con.execute(f"SET memory_limit = '{_scaled_size(LANDING_MEMORY_LIMIT, workers)}'")
    try:
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="psw-landing") as pool:
            # the most bytes first, so that a big file does not start last
            for _, indexes in sorted(chains.items(), key=lambda c: c[0] * len(c[1]), reverse=True):
                pool.submit(land_chain, indexes, con.cursor())  # cursors made here: con is not thread-safe
            for i, (path, profile) in enumerate(files):
                yield path, profile, outcomes[i].result()
    finally:
        restore_memory_limit(con, previous_limit)


def restore_memory_limit(con: duckdb.DuckDBPyConnection, previous: str) -> None:
    """Put DuckDB's memory cap back as it was: its default exactly when it was the default (the
    setting reads back rounded, '18.7 GiB', so setting the text again would change it)."""
    con.execute("RESET memory_limit")
    if con.execute("SELECT current_setting('memory_limit')").fetchone()[0] != previous:
        con.execute(f"SET memory_limit = {quote_literal(previous)}")


def _scaled_size(size: str, factor: int) -> str:
    """'1GB' x 2 -> '2048MB' (DuckDB's size units: KB, MB, GB, TB, KiB, MiB, GiB, TiB)."""
    number = "".join(ch for ch in size if ch.isdigit() or ch == ".")
    unit = size[len(number) :].strip() or "B"
    factors = {"B": 1, "KB": 1e3, "MB": 1e6, "GB": 1e9, "TB": 1e12, "KIB": 1 << 10, "MIB": 1 << 20}
    factors.update({"GIB": 1 << 30, "TIB": 1 << 40})
    if unit.upper() not in factors:
        raise ValueError(f"PSW_LANDING_MEMORY_LIMIT={size!r}: not a size DuckDB reads (e.g. 1GB, 512MB)")
    return f"{int(float(number) * factors[unit.upper()] * factor / 1e6)}MB"


_WORK_TABLES = tuple(
    f"_landing_{name}"
    for name in (
        "rejects",
        "rejects_scan",
        "rejects_good",
        "rejects_good_scan",
        "rejects_bad",
        "rejects_bad_scan",
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
    """Three streaming passes over the file, nothing of it materialised: (1) count the good rows
    and collect the reader's rejects, (2) insert the good rows, (3) insert the bad ones."""
    source = profile.source
    canonical = CANONICAL_SOURCES[source]
    columns = "{" + ", ".join(f"'c{i}': 'VARCHAR'" for i in range(1, len(header) + 1)) + "}"
    file_columns = ", ".join(f"c{i}" for i in range(1, len(header) + 1))
    # The row as received, under the file's own column names (repeated names made unique).
    original = "json_object(" + ", ".join(f"{quote_literal(name)}, c{i}" for i, name in enumerate(header, 1)) + ")"
    quote = profile.csv.quote

    def read_csv(rejects: str) -> str:
        return (
            f"read_csv({quote_literal(str(readable))}, header=true, auto_detect=false, columns={columns}, "
            f"skip={layout.header_line - 1}, delim={quote_literal(profile.csv.delimiter)}, "
            f"quote={quote_literal(quote)}, escape={quote_literal(quote)}, encoding={quote_literal(encoding)}, "
            f"store_rejects=true, rejects_table='{rejects}', rejects_scan='{rejects}_scan', "
            "null_padding=false, strict_mode=true)"
        )

    for t in _WORK_TABLES:
        con.execute(f"DROP TABLE IF EXISTS {t}")
    try:
        # hash(s) makes the reader decode every column (count(*) alone skips the encoding check).
        good = con.execute(f"SELECT count(hash(s)) FROM {read_csv('_landing_rejects')} s").fetchone()[0]
    except duckdb.InvalidInputException as exc:  # the file, not the machine (memory errors propagate)
        message = str(exc).strip().splitlines()[0]
        raise LandingError(f"{result.source_file}: refused, the CSV reader could not read it: {message}") from exc
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
    problems_sql = f"list_filter([{', '.join(problems)}], lambda p: p IS NOT NULL)" if problems else "[]"
    prepared_sql = "".join(f", {expr} AS {quote_ident(name)}" for name, expr in prepared.items())
    timed_sql = "".join(f", {expr} AS {quote_ident(name)}" for name, expr in timed.items())
    set_transition_variables(con, profile.timezone)
    index_sql, index_join, line_sql, line_join = _row_number_sql(con, layout, reject_index)

    def checked(pass_name: str, keep: str) -> str:
        # row_number() OVER () numbers the good rows in the file's order (the scan keeps its order).
        return f"""
        WITH numbered AS (
            SELECT row_number() OVER () AS _good_ordinal, * FROM {read_csv(pass_name)}
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
        SELECT * EXCLUDE (_field_flags, {file_columns}),
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
        FROM ({checked("_landing_rejects_good", "len(_problems) = 0")})
        """,
        [result.batch_id, result.source_file, now, profile.name, profile.timezone],
    ).fetchone()[0]
    # Every readable row is either landed or has a problem: the third pass only when some have one.
    bad_values = 0
    if result.rows_landed < good:
        bad_values = con.execute(
            f"""
        INSERT INTO {RAW_SCHEMA}.quarantine ({", ".join(QUARANTINE_COLUMNS)})
        SELECT ?, ?, ?, ?, _row_number,
               CASE WHEN list_bool_or(list_transform(_problems, lambda p: p LIKE '%missing required value%'))
                    THEN 'MISSING REQUIRED'
                    WHEN list_bool_or(list_transform(_problems, lambda p: p NOT LIKE '%later than the load time%'))
                    THEN 'INVALID VALUE'
                    ELSE 'FUTURE TIMESTAMP' END,
               split_part(_problems[1], ':', 1), array_to_string(_problems, '; '),
               _original::VARCHAR, ?
        FROM ({checked("_landing_rejects_bad", "len(_problems) > 0")})
        """,
            [result.batch_id, source, profile.name, result.source_file, now],
        ).fetchone()[0]
    _quarantine_unreadable(con, readable, encoding, layout, reject_lines, reject_index, result, profile, now, header)
    result.rows_quarantined = bad_values + len(reject_lines)
    for error_type, n in con.execute(
        f"SELECT error_type, count(*) FROM {RAW_SCHEMA}.quarantine WHERE batch_id = ? GROUP BY 1",
        [result.batch_id],
    ).fetchall():
        result.quarantine_reasons[error_type] = n
    for flag, n in con.execute(
        f"SELECT regexp_replace(f, ' \\(.*$', '') AS flag, count(*) FROM (SELECT unnest(string_split(_flags, '; ')) "
        f"AS f FROM {RAW_SCHEMA}.{source} WHERE _batch_id = ? AND _flags IS NOT NULL) GROUP BY 1",
        [result.batch_id],
    ).fetchall():
        result.flags[flag] = n
    if any("INVALID ENCODING" in e for e in result.quarantine_reasons):
        result.notes.append(
            f"lines with bytes that are not {encoding}: if the file is Windows-1252 or Latin-1, set csv.encoding"
        )


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


def _quarantine_unreadable(
    con, readable, encoding, layout, reject_lines, reject_index, result, profile, now, header
) -> None:
    """Records the CSV reader could not read: physical line, reader's error, and the text as received."""
    if not reject_lines:
        return
    physical = _breaks_lookup(layout.physical_breaks)
    ranges, by_line = [], {}
    for line, index in zip(reject_lines, reject_index, strict=True):
        first = index + physical(index)
        last = (index + 1 + physical(index + 1) - 1) if index < layout.records else 1 << 62
        ranges.append((first, last))
        by_line[line] = first
    texts = _record_texts(readable, encoding, ranges)
    lines = list(by_line)
    con.execute(
        f"""
        INSERT INTO {RAW_SCHEMA}.quarantine ({", ".join(QUARANTINE_COLUMNS)})
        SELECT ?, ?, ?, ?, t.first_line, r.error_type,
               CASE WHEN r.column_name SIMILAR TO 'c[0-9]+'
                    THEN (?::VARCHAR[])[CAST(substr(r.column_name, 2) AS BIGINT)] ELSE r.column_name END,
               r.message, t.record, ?
        FROM _landing_rej r
        JOIN (SELECT unnest(?::BIGINT[]) AS line, unnest(?::BIGINT[]) AS first_line, unnest(?::VARCHAR[]) AS record) t
          USING (line)
        """,
        [
            result.batch_id,
            profile.source,
            profile.name,
            result.source_file,
            header,
            now,
            lines,
            [by_line[line] for line in lines],
            [texts.get(by_line[line], "") for line in lines],
        ],
    )
