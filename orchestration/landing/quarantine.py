"""What is kept of a row or record that does not land, and why: ``raw.quarantine``.

Two kinds of refusal, both kept whole with the physical line they start on:
- a readable row whose values break the profile (a missing required value, a value that does not
  parse, a timestamp after the load, a control byte): its problems, the field at fault, and the
  row as received (``_original``), classed by the worst problem it has;
- a record DuckDB's CSV reader could not read (wrong column count, bytes not in the encoding): the
  reader's error, the column it names, and the text of its lines as received (control bytes shown
  as ``\\xNN``, at most ``REJECT_TEXT_LIMIT`` characters).
Then the file's tally: quarantined rows per reason, and landed rows per flag, on its batch result.
"""

from __future__ import annotations

import re
from pathlib import Path

from orchestration.landing.line_numbers import _breaks_lookup
from orchestration.landing.raw_tables import QUARANTINE_COLUMNS, RAW_SCHEMA
from orchestration.sql import quote_literal

REJECT_TEXT_LIMIT = 65_536
# Control bytes no row may carry into a published copy (tab, LF and CR are CSV's own). A row with
# one is quarantined whole rather than cleaned: the byte is a sign of a corrupt or binary extract,
# and a silently altered value would be worse than a visible, counted quarantine.
CONTROL_BYTES = r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]"


def quarantine_bad_values(con, rows_sql: str, result, profile, now) -> int:
    """Insert the readable rows with problems (``rows_sql`` gives them, each with ``_problems``),
    classed by the worst: a control byte, then a missing required value, then any other invalid
    value; a row whose only problem is a future timestamp is 'FUTURE TIMESTAMP'. Rows inserted."""
    return con.execute(
        f"""
        INSERT INTO {RAW_SCHEMA}.quarantine ({", ".join(QUARANTINE_COLUMNS)})
        SELECT ?, ?, ?, ?, _row_number,
               CASE WHEN list_bool_or(list_transform(_problems, lambda p: p LIKE '%: control byte 0x%'))
                    THEN 'CONTROL BYTE'
                    WHEN list_bool_or(list_transform(_problems, lambda p: p LIKE '%missing required value%'))
                    THEN 'MISSING REQUIRED'
                    WHEN list_bool_or(list_transform(_problems, lambda p: p NOT LIKE '%later than the load time%'))
                    THEN 'INVALID VALUE'
                    ELSE 'FUTURE TIMESTAMP' END,
               split_part(_problems[1], ':', 1), array_to_string(_problems, '; '),
               _original::VARCHAR, ?
        FROM ({rows_sql})
        """,
        [result.batch_id, profile.source, profile.name, result.source_file, now],
    ).fetchone()[0]


def tally(con, result, source: str) -> None:
    """The file's quarantined rows per reason and landed rows per flag, onto its result."""
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


def control_byte_sql(header: list[str], source_file: str) -> str:
    """SQL: why the row is refused for a control byte (the first column with one), or NULL."""
    pattern = quote_literal(CONTROL_BYTES)
    whens = " ".join(
        f"WHEN regexp_matches(c{i}, {pattern}) THEN {quote_literal(name + ': control byte ')} || "
        f"printf('0x%02X', ord(regexp_extract(c{i}, {pattern}))) || "
        f"CASE WHEN ord(regexp_extract(c{i}, {pattern})) = 0 THEN ' (NUL)' ELSE '' END || "
        f"{quote_literal(f' in column {name}, {source_file} line ')} || CAST(_row_number AS VARCHAR) || "
        "'; the row is quarantined whole, never landed or published'"
        for i, name in enumerate(header, 1)
    )
    every = " || ".join(f"coalesce(c{i}, '')" for i in range(1, len(header) + 1))
    return f"(CASE WHEN regexp_matches({every}, {pattern}) THEN (CASE {whens} END) END)"


def quarantine_unreadable(
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
        text = raw[:REJECT_TEXT_LIMIT].decode(codec, errors="backslashreplace").lstrip("\ufeff")
        # control bytes shown as \xNN: no copy of the warehouse ever receives one
        texts[first] = re.sub(CONTROL_BYTES, lambda m: f"\\x{ord(m.group()):02x}", text)
    return texts
