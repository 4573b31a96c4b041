"""Lookup files given with ``--lookup``: a locations table, a code table. The key is found by
content: a column of the lookup file whose values are unique, and the column of the records whose
values are most often among them (a shared name breaks ties); the lookup's other columns are
matched to the fields a lookup may fill that the records lack, by name and then by content."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb

from orchestration.landing.profiles import LOOKUP_FIELDS
from orchestration.onboarding.bounds import box_of_columns
from orchestration.onboarding.matching import match_columns
from orchestration.onboarding.report import LookupFinding, Match
from orchestration.onboarding.sample import read_sample
from orchestration.onboarding.vocabulary import normalise
from orchestration.sql import quote_ident

# the least share of the records' keys a column pair must join to be taken as the key
MIN_JOINED_SHARE = 0.3
# a key column's distinct values over its filled rows: a few repeated rows (the same location
# twice) are allowed; landing judges whether repeats agree
MIN_DISTINCT_SHARE = 0.9


def lookup_name(path: Path) -> str:
    """A lookup's name from its file name: 'Locations 2025.csv' -> locations."""
    words = re.sub(r"[^a-z]+", "_", Path(path).stem.lower()).strip("_")
    return words or "lookup"


def _unique_columns(con, table: str, header: list[str]) -> list[str]:
    """The columns whose filled values are (nearly) all different: candidate keys."""
    t = quote_ident(table)
    found = []
    for column in header:
        c = quote_ident(column)
        filled, distinct = con.execute(
            f"SELECT count(nullif(trim({c}), '')), count(DISTINCT nullif(trim({c}), '')) FROM {t}"
        ).fetchone()
        if filled and distinct >= MIN_DISTINCT_SHARE * filled:
            found.append(column)
    return found


def find_key(
    con, records: str, record_columns: list[str], lookup: str, lookup_header: list[str]
) -> tuple[str, str, int, int] | None:
    """(lookup key column, records' column, records naming a key, of them joined) of the best pair."""
    best = None
    for key in _unique_columns(con, lookup, lookup_header):
        k = quote_ident(key)
        for column in record_columns:
            c = quote_ident(column)
            named, joined = con.execute(
                f"SELECT count(nullif(trim(r.{c}), '')), count(l.k) FROM {quote_ident(records)} AS r "
                f"LEFT JOIN (SELECT DISTINCT trim({k}) AS k FROM {quote_ident(lookup)}) AS l ON trim(r.{c}) = l.k"
            ).fetchone()
            if not named or joined < MIN_JOINED_SHARE * named:
                continue
            rank = (joined / named, normalise(key) == normalise(column), joined)
            if best is None or rank > best[0]:
                best = (rank, key, column, named, joined)
    return None if best is None else best[1:]


def read_lookup(
    con: duckdb.DuckDBPyConnection, path: Path, source: str, index: int, unused: list[str], matched: dict[str, Match]
) -> LookupFinding:
    """What one lookup file can do for the records in table ``sample`` (``unused``: their columns
    not matched to a field, where the key is looked for first)."""
    table = f"lookup_{index}"
    sampled = read_sample(con, path, table)
    finding = LookupFinding(lookup_name(path), Path(path), sampled.header, sampled.rows)
    if source not in LOOKUP_FIELDS:
        finding.problem = f"lookups are joined for {', '.join(LOOKUP_FIELDS)} only"
        return finding
    columns = con.execute("SELECT name FROM pragma_table_info('sample')").fetchall()
    record_columns = unused + [c for (c,) in columns if c not in unused]
    key = find_key(con, "sample", record_columns, table, sampled.header)
    if key is None:
        finding.problem = (
            f"no column of the records holds this file's keys (no unique column of it joins at least "
            f"{MIN_JOINED_SHARE:.0%} of a column of the records)"
        )
        return finding
    finding.key, finding.record_column, finding.records_with_key, finding.records_joined = key
    wanted = {f for f in LOOKUP_FIELDS[source] if f not in matched}
    others = [h for h in sampled.header if h != finding.key]
    finding.columns, finding.rejected = match_columns(con, source, others, table=table, fields=wanted)
    if not finding.columns:
        finding.problem = f"none of its columns is a field the records lack ({', '.join(sorted(wanted))})"
    if "latitude" in finding.columns and "longitude" in finding.columns:
        finding.bounds = box_of_columns(
            con, finding.columns["latitude"].column, finding.columns["longitude"].column, table
        )
    return finding
