"""Matching a sample's columns to canonical fields: by name (shipped profiles' names, usual
names, close names), then by content (timestamps that parse, numbers, degrees, yes/no)."""

from __future__ import annotations

import difflib
import re
from collections import Counter

import duckdb

from orchestration.landing.canonical import CANONICAL_SOURCES
from orchestration.landing.field_sql import EPOCH_LIMIT
from orchestration.landing.profiles import (
    DEFAULT_FALSE,
    DEFAULT_TRUE,
    EPOCH_FORMATS,
    load_profile,
)
from orchestration.onboarding.report import Match
from orchestration.onboarding.shipped import known_aliases, known_formats, shipped_profile_for
from orchestration.onboarding.vocabulary import EXTRA_FALSE, EXTRA_TRUE, SYNONYMS, normalise
from orchestration.sql import quote_ident

SIMILARITY = 0.82
EPOCH_1980 = 315532800  # 1980-01-01 in seconds: a smaller count is not taken for a time


def name_candidates(source: str, header: list[str]) -> list[Match]:
    canonical = CANONICAL_SOURCES[source]
    aliases = known_aliases(source)
    # a shipped profile that reads this very layout: its names win over every other rule
    layout = shipped_profile_for(source, header)
    own: dict[str, set[str]] = {}
    if layout:
        for f, spec in load_profile(layout.path).columns.items():
            own[f] = {normalise(c) for c in spec.source_columns}
    found = []
    for fld, kind in canonical.fields.items():
        synonyms = {normalise(s) for s in SYNONYMS.get(fld, [])} | {normalise(fld)}
        for column in header:
            n = normalise(column)
            if n in own.get(fld, ()):
                found.append(Match(fld, kind, column, 1.1, f"as in profile {layout.name}", shipped_profile=layout.name))
            elif n == normalise(fld):
                # the field's own name wins over another field's alias (Seattle reads "Call Type" as the
                # call's source; a CallType column elsewhere is the call type)
                found.append(Match(fld, kind, column, 1.05, "the field's own name"))
            elif n in aliases.get(fld, {}):
                found.append(
                    Match(fld, kind, column, 1.0, f"as in profile {aliases[fld][n]}", shipped_profile=aliases[fld][n])
                )
            elif n in synonyms:
                found.append(Match(fld, kind, column, 0.95, "a usual name for it"))
            else:
                names = set(aliases.get(fld, {})) | synonyms
                best = max(names, key=lambda a: difflib.SequenceMatcher(None, n, a).ratio())
                ratio = difflib.SequenceMatcher(None, n, best).ratio()
                if ratio >= SIMILARITY:
                    found.append(Match(fld, kind, column, round(ratio, 2), f"close to '{best}' ({ratio:.2f})"))
    return found


def epoch_format(values: list[str]) -> str | None:
    """epoch_seconds or epoch_milliseconds when (nearly) every value is a count of them that falls
    in 1980-2100 (ArcGIS exports and JSON APIs write times so), else None."""
    numbers = [float(v) for v in values if re.fullmatch(r"[0-9]+(\.[0-9]+)?", v)]
    if len(numbers) < 0.9 * len(values):
        return None
    for name, divisor in EPOCH_FORMATS.items():
        if all(EPOCH_1980 <= n / divisor <= EPOCH_LIMIT for n in numbers):
            return name
    return None


def check_values(con: duckdb.DuckDBPyConnection, m: Match, formats: list[str], table: str = "sample") -> str | None:
    """Why the column's values do not fit the field (None if they do); records the timestamp format."""
    col = quote_ident(m.column)
    values = [
        r[0] for r in con.execute(f"SELECT trim({col}) FROM {quote_ident(table)} WHERE trim({col}) <> ''").fetchall()
    ]
    if not values:
        m.note = "empty in the sample"
        return None
    example = ", ".join(repr(v) for v in list(dict.fromkeys(values))[:3])
    if m.kind == "timestamp":
        epoch = epoch_format(values)
        if epoch:
            m.formats = [epoch]
            return None
    if m.kind in ("timestamp", "date"):
        shares = []
        for fmt in formats:
            ok = con.execute(
                "SELECT count(*) FILTER (WHERE try_strptime(v, ?) IS NOT NULL) FROM unnest(?::VARCHAR[]) t(v)",
                [fmt, values],
            ).fetchone()[0]
            if ok:
                shares.append((ok / len(values), fmt))
        shares.sort(key=lambda s: -s[0])
        if not shares or shares[0][0] < 0.9:
            return f"its values are not timestamps in a known format (e.g. {example})"
        best = shares[0][0]
        m.formats = [f for share, f in shares if share == best][:2]
        if len(m.formats) > 1:
            m.note = f"formats {' and '.join(m.formats)} both read every value: check which is meant (day/month?)"
        return None
    if m.kind in ("number", "integer"):
        target = "DOUBLE" if m.kind == "number" else "BIGINT"
        parsed = [
            r[0]
            for r in con.execute(f"SELECT try_cast(v AS {target}) FROM unnest(?::VARCHAR[]) t(v)", [values]).fetchall()
        ]
        good = [p for p in parsed if p is not None]
        if len(good) < 0.9 * len(values):
            return f"its values are not numbers (e.g. {example})"
        limit = {"latitude": 90, "longitude": 180}.get(m.field)
        if limit and max(abs(g) for g in good) > limit:
            return (
                f"its values are not degrees (e.g. {example}): projected x/y? Use a coordinates block with a "
                "projection (README of the source profiles)"
            )
        return None
    if m.kind == "boolean":
        known = set(DEFAULT_TRUE + DEFAULT_FALSE + EXTRA_TRUE + EXTRA_FALSE)
        odd = Counter(v for v in values if v.lower() not in known)
        if sum(odd.values()) > 0.1 * len(values):
            shown = ", ".join(repr(v) for v, _ in odd.most_common(3))
            return f"its values are not yes/no ({shown}): map them with values: in the profile"
        return None
    if m.kind == "id":
        repeated = len(values) - len(set(values))
        if repeated:
            m.note = f"{repeated} repeated value(s) in the sample (corrections? one row per unit?)"
    return None


def match_columns(
    con, source: str, header: list[str], table: str = "sample", fields: set[str] | None = None
) -> tuple[dict[str, Match], dict[str, str]]:
    """Each field's column (the best name whose values fit), and why a name match was dropped;
    only ``fields`` when given (a lookup file fills a few)."""
    formats = known_formats()
    matched: dict[str, Match] = {}
    rejected: dict[str, str] = {}
    used: set[str] = set()
    for m in sorted(name_candidates(source, header), key=lambda m: (-m.score, header.index(m.column))):
        if m.field in matched or m.column in used or (fields is not None and m.field not in fields):
            continue
        why_not = check_values(con, m, formats, table)
        if why_not:
            rejected.setdefault(m.field, f"{m.column}: matched by name ({m.why}), but {why_not}")
            continue
        matched[m.field] = m
        used.add(m.column)
    for fld in matched:
        rejected.pop(fld, None)
    return matched, rejected
