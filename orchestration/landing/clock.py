"""Local wall-clock times to UTC, with the daylight-saving edge cases decided once.

A CAD export usually writes local times without an offset. Twice a year that is ambiguous:

- **gap** (spring forward, e.g. 2025-03-09 02:30 in America/Chicago never happened): the time
  is read with the offset in force just before the change, which moves it forward by the size
  of the jump (02:30 CST = 08:30 UTC = 03:30 CDT). The row lands, flagged
  ``<field>: dst_gap_shifted_forward``.
- **repeat** (fall back, e.g. 2025-11-02 01:30 happened twice): the **first** occurrence is
  taken (01:30 CDT = 06:30 UTC; PEP 495's ``fold=0``). The row lands, flagged
  ``<field>: dst_repeat_first_occurrence``.

DuckDB's ICU conversion already treats a gap this way but picks the *second* occurrence of a
repeated time, so the transitions are computed here (from the IANA database through zoneinfo)
and handed to the SQL as session variables (lists indexed by the value's date): only values on a
transition date pay for the extra checks, and no join is needed (five joins, one per timestamp
column, cost more than the rest of the landing query together).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from orchestration.sql import quote_literal

FIRST_YEAR, LAST_YEAR = 1970, 2040


@dataclass(frozen=True)
class Transition:
    kind: str  # "gap" or "repeat"
    local_from: datetime  # naive local wall-clock times, [from, to)
    local_to: datetime
    offset_before: timedelta


@lru_cache(maxsize=64)
def transitions(tz_name: str) -> tuple[Transition, ...]:
    """Every change of UTC offset of the zone between 1970 and 2040, as local wall-clock ranges."""
    tz = ZoneInfo(tz_name)
    out: list[Transition] = []
    day = datetime(FIRST_YEAR, 1, 1, tzinfo=UTC)
    end = datetime(LAST_YEAR + 1, 1, 1, tzinfo=UTC)
    previous = day.astimezone(tz).utcoffset()
    while day < end:
        nxt = day + timedelta(days=1)
        offset = nxt.astimezone(tz).utcoffset()
        if offset != previous:
            lo, hi = day, nxt  # the change happened in (lo, hi]: bisect to the minute
            while hi - lo > timedelta(minutes=1):
                mid = lo + (hi - lo) / 2
                if mid.astimezone(tz).utcoffset() == previous:
                    lo = mid
                else:
                    hi = mid
            instant = hi.replace(second=0, microsecond=0, tzinfo=None)
            before, after = previous, offset
            if after > before:
                out.append(Transition("gap", instant + before, instant + after, before))
            else:
                out.append(Transition("repeat", instant + after, instant + before, before))
            previous = offset
        day = nxt
    return tuple(out)


FIRST_DAY = date(FIRST_YEAR, 1, 1)
DAYS = (date(LAST_YEAR + 1, 1, 1) - FIRST_DAY).days
# Session variables holding the lookup lists (DuckDB's SET VARIABLE / getvariable).
VARIABLES = ("psw_tz_index", "psw_tz_kind", "psw_tz_from", "psw_tz_to", "psw_tz_offset_before")


@lru_cache(maxsize=64)
def transition_lookup(tz_name: str) -> dict[str, list]:
    """Lists for the session variables: ``psw_tz_index`` has one entry per local date from 1970 to
    2040, the (1-based) transition of that date or NULL; the other lists describe each transition.
    A value finds its own day's transition by two list lookups, with no join."""
    index: list[int | None] = [None] * DAYS
    kind, local_from, local_to, offset_before = [], [], [], []
    for t in transitions(tz_name):
        kind.append(t.kind)
        local_from.append(t.local_from)
        local_to.append(t.local_to)
        offset_before.append(int(t.offset_before.total_seconds()))
        for day in {t.local_from.date(), (t.local_to - timedelta(seconds=1)).date()}:
            index[(day - FIRST_DAY).days] = len(kind)
    return dict(zip(VARIABLES, (index, kind, local_from, local_to, offset_before), strict=True))


VARIABLE_TYPES = ("INTEGER[]", "VARCHAR[]", "TIMESTAMP[]", "TIMESTAMP[]", "BIGINT[]")


def set_transition_variables(con, tz_name: str) -> None:
    """Put the zone's lookup lists in the connection's session variables (see transition_index_sql)."""
    for (name, values), sql_type in zip(transition_lookup(tz_name).items(), VARIABLE_TYPES, strict=True):
        con.execute(f"SET VARIABLE {name} = ?::{sql_type}", [values])


def transition_index_sql(naive_sql: str) -> str:
    """The transition of a naive local TIMESTAMP's own date (NULL if none or outside 1970-2040)."""
    return (
        f"(CASE WHEN {naive_sql} >= TIMESTAMP '{FIRST_DAY}' AND {naive_sql} < TIMESTAMP '{LAST_YEAR + 1}-01-01' "
        f"THEN getvariable('psw_tz_index')[(CAST({naive_sql} AS DATE) - DATE '{FIRST_DAY}') + 1] END)"
    )


def local_to_utc_sql(naive_sql: str, index_sql: str, tz_name: str) -> tuple[str, str]:
    """(UTC TIMESTAMP expression, flag expression) for a naive local TIMESTAMP expression, where
    ``index_sql`` is its transition (transition_index_sql; NULL on an ordinary day)."""
    tz_literal = quote_literal(tz_name)
    icu = f"timezone('UTC', timezone({tz_literal}, {naive_sql}))"

    def of(variable: str) -> str:
        return f"getvariable('{variable}')[{index_sql}]"

    within = f"{index_sql} IS NOT NULL AND {naive_sql} >= {of('psw_tz_from')} AND {naive_sql} < {of('psw_tz_to')}"
    utc = (
        f"(CASE WHEN {index_sql} IS NULL THEN {icu} "
        f"WHEN {of('psw_tz_kind')} = 'repeat' AND {within} "
        f"THEN {naive_sql} - to_seconds({of('psw_tz_offset_before')}) ELSE {icu} END)"
    )
    flag = (
        f"(CASE WHEN {within} THEN CASE {of('psw_tz_kind')} WHEN 'gap' THEN 'dst_gap_shifted_forward' "
        "ELSE 'dst_repeat_first_occurrence' END END)"
    )
    return utc, flag
