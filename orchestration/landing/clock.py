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
and written into the SQL: only values on a transition date pay for the extra checks.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

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


def transition_days(tz_name: str) -> list[tuple]:
    """Rows (day, kind, local_from, local_to, offset_before_seconds) for a lookup table keyed by
    local date: a value is checked against the transition of its own day only."""
    rows = []
    for t in transitions(tz_name):
        days = {t.local_from.date(), (t.local_to - timedelta(seconds=1)).date()}
        for day in sorted(days):
            rows.append((day, t.kind, t.local_from, t.local_to, int(t.offset_before.total_seconds())))
    return rows


def local_to_utc_sql(naive_sql: str, transition_alias: str, tz_name: str) -> tuple[str, str]:
    """(UTC TIMESTAMP expression, flag expression) for a naive local TIMESTAMP expression, where
    ``transition_alias`` is the transition table joined on the value's local date (NULL columns if none)."""
    tz_literal = "'" + tz_name.replace("'", "''") + "'"
    icu = f"timezone('UTC', timezone({tz_literal}, {naive_sql}))"
    a = transition_alias
    within = f"{naive_sql} >= {a}.local_from AND {naive_sql} < {a}.local_to"
    utc = (
        f"(CASE WHEN {a}.kind = 'repeat' AND {within} "
        f"THEN {naive_sql} - to_seconds({a}.offset_before_seconds) ELSE {icu} END)"
    )
    flag = (
        f"(CASE WHEN {within} THEN CASE {a}.kind WHEN 'gap' THEN 'dst_gap_shifted_forward' "
        "ELSE 'dst_repeat_first_occurrence' END END)"
    )
    return utc, flag
