"""Onboard a city: read a sample of its extract, match its columns to the canonical fields, and
write a draft source profile and the call types the taxonomy does not know yet.

    python -m orchestration.onboard <sample.csv> [--profile-name X] [--source calls_for_service]
                                    [--timezone America/Chicago] [--out DIR]

What it does, in order:
1. Sniffs the file: encoding (byte-order mark, UTF-8 or not, Windows-1252 or Latin-1),
   delimiter and quote character, line endings, the header.
2. Matches each canonical field of the source to a column, by name: the column names the
   shipped profiles already read (``orchestration/source_profiles``), then a list of common
   synonyms (``SYNONYMS``), then names that are close (difflib ratio >= 0.82).
3. Checks the matched columns' values: timestamps must parse with one of the known formats
   (the format found is written into the draft), numbers must be numbers, latitudes must look
   like degrees, yes/no columns must hold yes/no values. A column matched by name whose values
   do not fit is unmatched, with the reason (e.g. a ``dispatchtime`` that holds minutes).
4. Writes ``<out>/<profile>.yaml`` (a draft profile: check every TODO) and, for calls for
   service, ``<out>/<profile>_call_types.csv``: the call types of the sample that
   ``seeds/call_type_taxonomy.csv`` does not have for this profile, most frequent first, with the
   classification columns left blank for a person to fill.
5. Lands the sample with the draft profile into a throw-away in-memory warehouse and prints
   what would be landed and quarantined, and why.

Nothing is written into the project: copy the draft into orchestration/source_profiles and
the filled rows into seeds/call_type_taxonomy.csv when they are right (README: "Onboard your city").
"""

from __future__ import annotations

import argparse
import csv
import difflib
import json
import re
import sys
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import yaml

from orchestration.landing import csvfile
from orchestration.landing.canonical import CANONICAL_SOURCES
from orchestration.landing.dialect import sniff_dialect, sniff_encoding
from orchestration.landing.loader import LandingError, land_file
from orchestration.landing.profiles import (
    DEFAULT_FALSE,
    DEFAULT_TRUE,
    UNIT_GRAIN_FIELDS,
    ProfileError,
    load_profiles,
    parse_profile,
)
from orchestration.settings import PROJECT_ROOT
from orchestration.sql import quote_ident, quote_literal

TAXONOMY = PROJECT_ROOT / "seeds" / "call_type_taxonomy.csv"
TAXONOMY_COLUMNS = [
    "source_profile",
    "call_type",
    "service_category",
    "is_criminal",
    "alternative_responder",
    "is_officer_initiated",
    "rationale",
]
SAMPLE_ROWS = 5000
SIMILARITY = 0.82
# Names cities use for the canonical fields, beyond the ones the shipped profiles read.
SYNONYMS: dict[str, list[str]] = {
    "call_id": [
        "incident_id",
        "incident_number",
        "event_number",
        "event_id",
        "cad_number",
        "call_number",
        "call_id",
        "cfs_number",
        "master_incident_number",
        "id",
    ],
    "call_source": ["call_source", "source", "call_origin", "how_received", "received_via"],
    "is_officer_initiated": [
        "officer_initiated",
        "officerinitiated",
        "self_initiated",
        "selfinitiated",
        "onview",
        "onview_flag",
        "proactive",
    ],
    "initial_call_type": [
        "initial_type",
        "initial_call_type",
        "original_call_type",
        "call_type_original",
        "initial_nature",
    ],
    "call_type": [
        "call_type",
        "type",
        "nature",
        "nature_of_call",
        "title",
        "nature_code",
        "incident_type",
        "final_type",
        "final_call_type",
        "event_type",
        "callcode",
        "call_code",
        "type_code",
        "problem",
    ],
    "call_type_description": [
        "call_type_desc",
        "call_type_description",
        "type_description",
        "type_text",
        "calldescription",
        "call_description",
        "nature_description",
        "final_type_desc",
    ],
    "priority": ["priority", "priority_code", "call_priority", "final_priority", "priority_final"],
    "received_at": [
        "date_time",
        "eventtime",
        "timestamp",
        "time_received",
        "received",
        "received_time",
        "call_received",
        "create_time",
        "call_time",
        "call_timestamp",
        "received_datetime",
        "call_datetime",
        "time_create",
        "entry_time",
        "call_date_time",
    ],
    "dispatched_at": ["dispatch_time", "time_dispatched", "dispatched", "dispatch_datetime", "first_dispatch_time"],
    "enroute_at": ["enroute_time", "time_enroute", "en_route_time", "enroute_datetime"],
    "arrived_at": [
        "arrival_time",
        "time_arrived",
        "arrived",
        "arrived_time",
        "onscene_time",
        "on_scene_time",
        "onscene_datetime",
        "arrive_time",
    ],
    "cleared_at": [
        "clear_time",
        "time_cleared",
        "cleared",
        "closed_time",
        "close_time",
        "close_datetime",
        "time_closed",
        "end_time",
    ],
    "disposition": [
        "disposition",
        "disposition_text",
        "disposition_code",
        "final_disposition",
        "clearance",
        "close_code",
    ],
    "beat": ["beat", "patrol_beat", "reporting_area", "post", "grid"],
    "district": ["district", "precinct", "police_district", "division", "station", "area"],
    "latitude": ["latitude", "lat", "geo_lat", "y_lat"],
    "longitude": ["longitude", "lon", "lng", "long", "geo_lon", "x_long"],
    "block_address": [
        "block_address",
        "block",
        "address",
        "addr",
        "incident_address",
        "street_address",
        "location_address",
    ],
    "units_assigned": ["units", "unit_count", "number_of_units", "units_assigned", "num_units"],
    "unit_id": ["unit", "unit_id", "unit_number", "unit_no", "unit_name", "responding_unit", "callsign"],
    "agency": ["agency", "discipline", "department", "agency_type", "service_type", "dept"],
    # other sources
    "incident_id": ["incident_id", "incident_number", "report_number", "case_number", "offense_id", "id"],
    "offence_code": ["offense_code", "offence_code", "nibrs_code", "ucr_code", "crime_code", "iucr"],
    "offence_description": ["offense_description", "offense", "offence", "crime_type", "description", "primary_type"],
    "reported_at": ["reported_date", "report_date", "date_reported", "reported_datetime", "date"],
    "occurred_at": ["occurred_date", "occurrence_date", "date_occurred", "offense_date", "from_date"],
    "arrest_made": ["arrest", "arrest_made", "arrested"],
    "stop_id": ["stop_id", "raw_row_number", "contact_id", "stop_number"],
    "stopped_at": ["stop_datetime", "stop_time", "date_time", "contact_date"],
    "stop_type": ["stop_type", "type"],
    "reason": ["reason_for_stop", "stop_reason", "reason", "violation"],
    "subject_age": ["subject_age", "age", "driver_age"],
    "subject_race": ["subject_race", "race", "driver_race"],
    "subject_sex": ["subject_sex", "sex", "gender", "driver_gender"],
    "search_conducted": ["search_conducted", "searched", "search"],
    "contraband_found": ["contraband_found", "contraband"],
    "outcome": ["outcome", "stop_outcome", "result"],
}
COMMON_FORMATS = [
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%dT%H:%M:%S.%g",
    "%Y-%m-%d %H:%M:%S.%g",
    "%Y-%m-%dT%H:%M:%S%z",
    "%Y-%m-%d %H:%M:%S%z",
    "%Y/%m/%d %H:%M:%S",
    "%Y/%m/%d %H:%M",
    "%m/%d/%Y %I:%M:%S %p",
    "%m/%d/%Y %I:%M %p",
    "%m/%d/%Y %H:%M:%S",
    "%m/%d/%Y %H:%M",
    "%d/%m/%Y %H:%M:%S",
    "%d/%m/%Y %H:%M",
    "%b %d %Y %I:%M:%S:%g%p",
    "%Y-%m-%d",
    "%m/%d/%Y",
]
EXTRA_TRUE, EXTRA_FALSE = ("y", "yes", "true", "t", "1"), ("n", "no", "false", "f", "0")


def normalise(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


@dataclass
class Match:
    field: str
    kind: str
    column: str
    score: float
    why: str
    formats: list[str] = field(default_factory=list)
    note: str = ""


@dataclass
class Report:
    path: Path
    source: str
    profile_name: str
    encoding: str
    delimiter: str
    quote: str
    line_endings: str
    header: list[str]
    rows_sampled: int
    matched: dict[str, Match]
    missing: list[str]
    rejected: dict[str, str]  # field -> why the name match was dropped
    unused_columns: list[str]
    null_values: list[str]
    bounds: dict[str, float] | None = None
    new_call_types: list[tuple[str, int, str]] = field(default_factory=list)  # type, count, description
    draft_path: Path | None = None
    taxonomy_path: Path | None = None
    dry_run: str = ""
    # one row per responding unit: the sample's call ids repeat (rows, distinct ids)
    grain: str = "call"
    id_repeats: tuple[int, int] | None = None
    # a mixed feed: the call types start with a discipline ("EMS: ...", "Fire: ..."): (prefix, rows)
    agency_prefixes: list[tuple[str, int]] = field(default_factory=list)
    # the values of a column matched as the agency (DPD, DFD, EMS): (value, rows)
    agency_values: list[tuple[str, int]] = field(default_factory=list)
    # a shipped profile that already reads this file, and its dry run
    shipped: ShippedMatch | None = None
    shipped_dry_run: str = ""

    @property
    def taxonomy_profile(self) -> str:
        """The profile whose call types the taxonomy is checked against: the shipped one that reads
        the file, else the new one."""
        return self.shipped.name if self.shipped else self.profile_name

    @property
    def fields(self) -> list[str]:
        """The canonical fields this extract is matched against: a unit only in a unit-row file,
        where landing counts one unit per row unless a units column is matched."""
        return [f for f in CANONICAL_SOURCES[self.source].fields if f in self.matched or f in self.missing]


# -- sniffing -------------------------------------------------------------------------------------


SHIPPED_PROFILES = PROJECT_ROOT / "orchestration" / "source_profiles"
# a shipped profile "reads" a file whose header has every required column and this share of the rest
SHIPPED_MATCH = 0.8


@dataclass(frozen=True)
class ShippedMatch:
    name: str
    path: Path
    files: tuple[str, ...]
    found: int
    mapped: int


def shipped_profile_for(source: str, header: list[str]) -> ShippedMatch | None:
    """The shipped profile that already reads a file with this header (its aliases included):
    every required field's column found and most of the others; the best such, or None."""
    columns = set(header)
    best = None
    for profile in load_profiles(SHIPPED_PROFILES).values():
        if profile.source != source:
            continue
        resolved = {fld: spec.resolve(columns) for fld, spec in profile.columns.items()}
        if any(resolved.get(f) is None for f in profile.canonical.required if f in profile.columns):
            continue
        found = sum(r is not None for r in resolved.values())
        if found >= SHIPPED_MATCH * len(resolved) and (
            best is None or found / len(resolved) > best.found / best.mapped
        ):
            best = ShippedMatch(profile.name, profile.path, profile.files, found, len(resolved))
    return best


def known_aliases(source: str) -> dict[str, dict[str, str]]:
    """canonical field -> {normalised column name: profile that reads it} over the shipped profiles."""
    aliases: dict[str, dict[str, str]] = {}
    for profile in load_profiles(SHIPPED_PROFILES).values():
        if profile.source != source:
            continue
        for fld, spec in profile.columns.items():
            for column in spec.source_columns:
                aliases.setdefault(fld, {}).setdefault(normalise(column), profile.name)
    return aliases


def known_formats() -> list[str]:
    formats = list(COMMON_FORMATS)
    for profile in load_profiles(SHIPPED_PROFILES).values():
        for fmts in profile.timestamp_formats.values():
            formats += [f for f in fmts if f not in formats]
    return formats


# Outlier fences: a point more than this many interquartile ranges beyond the quartiles is a
# geocoding error (a city's points spread over its extent, whose quartiles are about half of it,
# so every genuine point lies well inside; a point in another state does not).
FENCE_IQR = 3.0


def robust_box(con, la: str, lo: str) -> dict[str, float] | None:
    """The sample's city box, drawn from a robust spread: the quartiles widened by FENCE_IQR
    interquartile ranges, but never past the points themselves (widened by 0.01 degree), so
    real points at the city's edge are inside and a stray geocode far away is not."""
    row = con.execute(
        f"""
        SELECT quantile_cont({la}, 0.25), quantile_cont({la}, 0.75), min({la}), max({la}),
               quantile_cont({lo}, 0.25), quantile_cont({lo}, 0.75), min({lo}), max({lo})
        FROM sample WHERE {la} <> 0 AND {lo} <> 0 AND abs({la}) <= 90 AND abs({lo}) <= 180
        """
    ).fetchone()
    if row is None or None in row:
        return None
    box = {}
    for name, (q1, q3, low, high) in (("latitude", row[:4]), ("longitude", row[4:])):
        spread = q3 - q1
        box[f"min_{name}"] = round(max(low, q1 - FENCE_IQR * spread) - 0.01, 2)
        box[f"max_{name}"] = round(min(high, q3 + FENCE_IQR * spread) + 0.01, 2)
    return box


# -- matching -------------------------------------------------------------------------------------


def name_candidates(source: str, header: list[str]) -> list[Match]:
    canonical = CANONICAL_SOURCES[source]
    aliases = known_aliases(source)
    found = []
    for fld, kind in canonical.fields.items():
        synonyms = {normalise(s) for s in SYNONYMS.get(fld, [])} | {normalise(fld)}
        for column in header:
            n = normalise(column)
            if n in aliases.get(fld, {}):
                found.append(Match(fld, kind, column, 1.0, f"as in profile {aliases[fld][n]}"))
            elif n in synonyms:
                found.append(Match(fld, kind, column, 0.95, "a usual name for it"))
            else:
                names = set(aliases.get(fld, {})) | synonyms
                best = max(names, key=lambda a: difflib.SequenceMatcher(None, n, a).ratio())
                ratio = difflib.SequenceMatcher(None, n, best).ratio()
                if ratio >= SIMILARITY:
                    found.append(Match(fld, kind, column, round(ratio, 2), f"close to '{best}' ({ratio:.2f})"))
    return found


def check_values(con: duckdb.DuckDBPyConnection, m: Match, formats: list[str]) -> str | None:
    """Why the column's values do not fit the field (None if they do); records the timestamp format."""
    col = quote_ident(m.column)
    values = [r[0] for r in con.execute(f"SELECT trim({col}) FROM sample WHERE trim({col}) <> ''").fetchall()]
    if not values:
        m.note = "empty in the sample"
        return None
    example = ", ".join(repr(v) for v in list(dict.fromkeys(values))[:3])
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


def match_columns(con, source: str, header: list[str]) -> tuple[dict[str, Match], dict[str, str]]:
    formats = known_formats()
    matched: dict[str, Match] = {}
    rejected: dict[str, str] = {}
    used: set[str] = set()
    for m in sorted(name_candidates(source, header), key=lambda m: (-m.score, header.index(m.column))):
        if m.field in matched or m.column in used:
            continue
        why_not = check_values(con, m, formats)
        if why_not:
            rejected.setdefault(m.field, f"{m.column}: matched by name ({m.why}), but {why_not}")
            continue
        matched[m.field] = m
        used.add(m.column)
    for fld in matched:
        rejected.pop(fld, None)
    return matched, rejected


# -- drafts ---------------------------------------------------------------------------------------


def _scalar(value: str) -> str:
    """A YAML double-quoted scalar (JSON's string syntax is valid YAML)."""
    return json.dumps(value)


CITY_SUFFIXES = ("_cfs", "_calls", "_911", "_cad", "_incidents", "_crime", "_stops", "_requests", "_311")


def city_id(profile_name: str) -> str:
    """The city's id guessed from a profile name: dallas_cfs -> dallas."""
    for suffix in CITY_SUFFIXES:
        if profile_name.endswith(suffix) and len(profile_name) > len(suffix):
            return profile_name[: -len(suffix)]
    return profile_name


def draft_profile(r: Report, timezone: str | None) -> str:
    canonical = CANONICAL_SOURCES[r.source]
    lines = [
        f"# DRAFT written by `python -m orchestration.onboard {r.path.name}`: check every TODO, then copy",
        "# this file into orchestration/source_profiles/ (README: Onboard your city).",
        f"# Header of the sample: {', '.join(r.header)}",
        f"name: {r.profile_name}",
        f"source: {r.source}",
        "description: >",
        f"  TODO: the city, the system it comes from, what it lacks. Sampled from {r.path.name}.",
        "files:",
        f'  - "{r.profile_name}/*.csv"',
        f"timezone: {timezone or 'UTC'}"
        + (
            "" if timezone else "  # TODO: the city's IANA time zone, e.g. America/Chicago (local times are read in it)"
        ),
        f"city: {city_id(r.profile_name)}  # TODO: the city's id; the profiles of one city share it (one scorecard)",
        f"city_name: {_scalar(city_id(r.profile_name).replace('_', ' ').title())}"
        "  # TODO: the city's name as the report shows it",
    ]
    csv_keys = {}
    if r.delimiter != ",":
        csv_keys["delimiter"] = r.delimiter
    if r.quote != '"':
        csv_keys["quote"] = r.quote
    if r.encoding not in ("utf-8",):
        csv_keys["encoding"] = r.encoding
    if csv_keys:
        lines.append("csv:")
        lines += [f"  {k}: {_scalar(v)}" for k, v in csv_keys.items()]
    if r.null_values:
        lines.append(f"null_values: [{', '.join(_scalar(v) for v in r.null_values)}]")
    if r.id_repeats:
        rows, calls = r.id_repeats
        lines.append(f"# the sample has {rows:,} rows for {calls:,} call ids: one row per responding unit")
        lines.append("grain: unit")
    stamped = {f: m for f, m in r.matched.items() if m.formats}
    if stamped:
        lines.append("timestamp_formats:")
        for fld, m in stamped.items():
            todo = f"  # TODO: {m.note}" if m.note.startswith("formats") else ""
            lines.append(f"  {fld}: {_scalar(m.formats[0])}{todo}")
    if r.bounds:
        lines.append(
            "# TODO check: the sample's points within 3 interquartile ranges of their quartiles (a robust spread);"
            " rows outside are flagged"
        )
        lines.append("bounds: {" + ", ".join(f"{k}: {v}" for k, v in r.bounds.items()) + "}")
    lines.append("columns:")
    for fld in canonical.fields:
        if fld == "agency" and r.agency_values:
            # the feed's own codes mapped onto police/fire/ems/other: only police enters police figures
            lines.append(f"  agency:  # {r.matched[fld].why}; TODO check each value (police, fire, ems, other)")
            lines.append(f"    column: {_scalar(r.matched[fld].column)}")
            lines.append("    values:")
            lines += [f"      {_scalar(v)}: {guess_agency(v)}  # {n:,} rows" for v, n in r.agency_values]
            lines.append("    otherwise: other")
        elif fld in r.matched:
            m = r.matched[fld]
            lines.append(f"  {fld}: {_scalar(m.column)}  # {m.why}")
    if r.agency_prefixes:
        shares = ", ".join(f"{p} {n}" for p, n in r.agency_prefixes[:6])
        lines.append(f"  # the call types start with a discipline ({shares} rows): a mixed police/fire/EMS feed.")
        lines.append("  # Only police records enter the police marts; TODO check each value (police, fire, ems, other)")
        lines.append("  agency:")
        lines.append(f"    column: {_scalar(r.matched['call_type'].column)}")
        lines.append("    match: prefix")
        lines.append("    values:")
        for prefix, _n in r.agency_prefixes:
            lines.append(f"      {_scalar(prefix)}: {guess_agency(prefix)}")
        lines.append("    otherwise: other")
    missing_required = [f for f in canonical.required if f not in r.matched]
    for fld in missing_required:
        if fld == canonical.id_field:
            # no id column: each record is named by its file and line (stable while the file is)
            lines.append(f"  {fld}: {{line_number: true}}  # TODO check: no id column found; named by its line")
        else:
            lines.append(f"  {fld}: TODO  # required: name the column that holds it")
    if r.missing:
        lines.append("# Not found in the sample (they land empty; say why in notes: if you know):")
        for fld in r.missing:
            reason = r.rejected.get(fld)
            lines.append(f"#   {fld}" + (f": {reason}" if reason else ""))
    return "\n".join(lines) + "\n"


# A discipline written before the call type: "EMS: BACK PAINS/INJURY", "Fire: GAS-ODOR/LEAK".
PREFIX = r"^([A-Za-z][A-Za-z /&-]{1,24}):"
AGENCY_WORDS = {"ems": "ems", "medical": "ems", "ambulance": "ems", "fire": "fire", "police": "police"}
AGENCY_WORDS |= {"traffic": "police", "law": "police", "sheriff": "police"}


def agency_prefixes(con, matched: dict[str, Match]) -> list[tuple[str, int]]:
    """The disciplines the call types start with, when at least two of them start 80 % of the
    sample's call types (a county feed of police, fire and EMS records); else none."""
    m = matched.get("call_type")
    if m is None or "agency" in matched:
        return []
    col = quote_ident(m.column)
    rows = con.execute(
        f"SELECT regexp_extract(trim({col}), '{PREFIX}', 1) AS p, count(*) FROM sample "
        f"WHERE trim({col}) <> '' GROUP BY 1 ORDER BY 2 DESC, 1"
    ).fetchall()
    total = sum(n for _, n in rows)
    prefixed = [(f"{p}:", n) for p, n in rows if p]
    if len(prefixed) >= 2 and sum(n for _, n in prefixed) >= 0.8 * total:
        return prefixed
    return []


def guess_agency(value: str) -> str:
    """police, fire, ems or other for a discipline as a feed writes it (EMS:, Fire:, DPD, DFD)."""
    words = value.lower().replace(":", " ").split()
    found = next((AGENCY_WORDS[w] for w in words if w in AGENCY_WORDS), None)
    if found:
        return found
    code = value.strip().upper()
    if code.endswith("PD") or code in ("PD", "SO"):
        return "police"
    if code.endswith("FD") or code == "FD":
        return "fire"
    return "ems" if "EMS" in code else "other"


def agency_values(con, matched: dict[str, Match]) -> list[tuple[str, int]]:
    """The values of a column matched as the agency, most frequent first (for the draft's mapping)."""
    m = matched.get("agency")
    if m is None:
        return []
    col = quote_ident(m.column)
    return con.execute(
        f"SELECT trim({col}), count(*) FROM sample WHERE trim({col}) <> '' GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 20"
    ).fetchall()


def new_call_types(con, r: Report) -> list[tuple[str, int, str]]:
    m = r.matched.get("call_type")
    if m is None:
        return []
    known = set()
    if TAXONOMY.exists():
        with TAXONOMY.open(encoding="utf-8", newline="") as fh:
            known = {row["call_type"] for row in csv.DictReader(fh) if row["source_profile"] == r.taxonomy_profile}
    col = quote_ident(m.column)
    desc = r.matched.get("call_type_description")
    desc_sql = f"any_value(trim({quote_ident(desc.column)}))" if desc else "NULL"
    rows = con.execute(
        f"SELECT upper(trim({col})) AS t, count(*) AS n, {desc_sql} FROM sample "
        f"WHERE trim({col}) <> '' GROUP BY 1 ORDER BY n DESC, t"
    ).fetchall()
    return [(t, n, d or "") for t, n, d in rows if t not in known]


def write_taxonomy(path: Path, profile_name: str, types: list[tuple[str, int, str]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(TAXONOMY_COLUMNS)
        for call_type, _n, _desc in types:
            writer.writerow([profile_name, call_type, "", "", "", "", ""])


def dry_run(sample: Path, draft: Path) -> str:
    try:
        profile = parse_profile(yaml.safe_load(draft.read_text()), draft)
    except ProfileError as exc:
        return f"not tried: the draft does not load yet ({exc})"
    con = duckdb.connect()
    try:
        result = land_file(con, sample, profile)
    except LandingError as exc:
        return f"the sample would be refused: {exc}"
    reasons = con.execute(
        "SELECT error_type, field, count(*), min(row_number) FROM raw.quarantine GROUP BY 1, 2 ORDER BY 3 DESC LIMIT 5"
    ).fetchall()
    text = f"read {result.rows_read:,}, landed {result.rows_landed:,}, quarantined {result.rows_quarantined:,}"
    if profile.source == "calls_for_service":
        rows, calls = con.execute("SELECT count(*), count(DISTINCT call_id) FROM raw.calls_for_service").fetchone()
        if profile.grain == "unit":
            text += f" ({rows:,} unit rows = {calls:,} calls)"
        elif calls < rows:
            text += (
                f"\n    call ids repeat: {calls:,} ids on {rows:,} rows; the raw gate holds such a file."
                " If it has one row per responding unit, add grain: unit (and map the unit column to unit_id)"
            )
    for error, fld, n, first in reasons:
        text += f"\n    {n:>6,} {error} {fld or ''} (first on line {first})"
    for flag, n in result.flags.most_common(5):
        text += f"\n    {n:>6,} landed and flagged: {flag}"
    for note in result.notes:
        text += f"\n    note: {note}"
    con.close()
    return text


# -- the command ----------------------------------------------------------------------------------


def onboard(path: Path, source: str, profile_name: str, out: Path, timezone: str | None = None) -> Report:
    path = Path(path)
    encoding = sniff_encoding(path)
    sample_text = csvfile.sample_records(path, encoding if encoding != "utf-16" else "utf-16")
    delimiter, quote = sniff_dialect(sample_text)
    header = [h.strip() for h in next(csv.reader([sample_text.splitlines()[0]], delimiter=delimiter, quotechar=quote))]
    with path.open("rb") as fh:
        head = fh.read(1 << 20)
    endings = "CR LF" if b"\r\n" in head else "LF"
    con = duckdb.connect()
    with tempfile.TemporaryDirectory() as tmp:
        readable = path
        if csvfile.needs_transcoding(encoding):
            readable = Path(tmp) / "sample_utf8.csv"
            csvfile.transcode_to_utf8(path, encoding, readable)
        duck_encoding = "latin-1" if encoding == "latin-1" else "utf-8"
        columns = "{" + ", ".join(f"{quote_literal(h)}: 'VARCHAR'" for h in header) + "}"
        con.execute(
            f"CREATE TABLE sample AS SELECT * FROM read_csv(?, header=true, auto_detect=false, columns={columns}, "
            f"delim=?, quote=?, escape=?, encoding='{duck_encoding}', ignore_errors=true, null_padding=true) "
            f"LIMIT {SAMPLE_ROWS}",
            [str(readable), delimiter, quote, quote],
        )
    rows_sampled = con.execute("SELECT count(*) FROM sample").fetchone()[0]
    matched, rejected = match_columns(con, source, header)
    canonical = CANONICAL_SOURCES[source]
    grain, id_repeats = "call", None
    if "unit_id" in canonical.fields and canonical.id_field in matched:
        ids = quote_ident(matched[canonical.id_field].column)
        rows, distinct = con.execute(f"SELECT count({ids}), count(DISTINCT {ids}) FROM sample").fetchone()
        if distinct < rows:
            grain, id_repeats = "unit", (rows, distinct)
    if grain == "call":
        matched.pop("unit_id", None)
        rejected.pop("unit_id", None)
    prefixes = agency_prefixes(con, matched) if source == "calls_for_service" else []
    nulls = []
    for candidate in ("NA", "NULL", "N/A", "null", "None"):
        cells = " + ".join(f"count(*) FILTER (WHERE trim(\"{h}\") = '{candidate}')" for h in header)
        if con.execute(f"SELECT {cells} FROM sample").fetchone()[0] > 0:
            nulls.append(candidate)
    bounds = None
    if "latitude" in matched and "longitude" in matched:
        la, lo = (f'try_cast("{matched[f].column}" AS DOUBLE)' for f in ("latitude", "longitude"))
        bounds = robust_box(con, la, lo)
    report = Report(
        path=path,
        source=source,
        profile_name=profile_name,
        encoding=encoding,
        delimiter=delimiter,
        quote=quote,
        line_endings=endings,
        header=header,
        rows_sampled=rows_sampled,
        matched=matched,
        # in a unit-row extract, landing names each row's unit and counts one unit per row itself
        missing=[
            f
            for f in canonical.fields
            if f not in matched
            and (f not in UNIT_GRAIN_FIELDS if grain == "unit" else f != "unit_id")
            and f != "agency"  # not said: a police feed (the draft maps it when the feed looks mixed)
        ],
        rejected=rejected,
        unused_columns=[h for h in header if h not in {m.column for m in matched.values()}],
        null_values=nulls,
        bounds=bounds,
        grain=grain,
        id_repeats=id_repeats,
        agency_prefixes=prefixes,
        agency_values=agency_values(con, matched) if source == "calls_for_service" else [],
    )
    out.mkdir(parents=True, exist_ok=True)
    report.draft_path = out / f"{profile_name}.yaml"
    report.draft_path.write_text(draft_profile(report, timezone), encoding="utf-8")
    report.shipped = shipped_profile_for(source, header)
    if source == "calls_for_service":
        report.new_call_types = new_call_types(con, report)
        report.taxonomy_path = out / f"{profile_name}_call_types.csv"
        write_taxonomy(report.taxonomy_path, report.taxonomy_profile, report.new_call_types)
    con.close()
    report.dry_run = dry_run(path, report.draft_path)
    if report.shipped:
        report.shipped_dry_run = dry_run(path, report.shipped.path)
    return report


def render(r: Report) -> str:
    canonical = CANONICAL_SOURCES[r.source]
    out = [
        f"sample        : {r.path} ({r.rows_sampled:,} rows read)",
        f"encoding      : {r.encoding}",
        f"delimiter     : {r.delimiter!r}   quote: {r.quote!r}   line endings: {r.line_endings}",
        f"columns       : {len(r.header)}",
        f"source        : {r.source}   profile name: {r.profile_name}",
        "",
        f"MATCHED ({len(r.matched)} of {len(r.fields)} canonical fields)",
    ]
    if r.agency_prefixes:
        shares = ", ".join(f"{p} {n:,}" for p, n in r.agency_prefixes[:6])
        out.insert(
            -2,
            f"agency        : a mixed feed? the call types start with a discipline ({shares} rows):"
            " the draft maps them to agency (only police records enter the police marts)",
        )
    if r.id_repeats:
        rows, calls = r.id_repeats
        out.insert(
            -2,
            f"grain         : one row per responding unit ({rows:,} rows for {calls:,} call ids in the sample):"
            " the draft says grain: unit",
        )
    width = max(len(f) for f in r.fields)
    for fld in r.fields:
        if fld in r.matched:
            m = r.matched[fld]
            extra = f"  format {m.formats[0]}" if m.formats else ""
            note = f"  [{m.note}]" if m.note else ""
            out.append(f"  {fld:<{width}} <- {m.column}  ({m.why}){extra}{note}")
    out += ["", f"MISSING ({len(r.missing)})"]
    for fld in r.missing:
        required = "  REQUIRED: the profile will not load without it" if fld in canonical.required else ""
        if fld == canonical.id_field:
            required = "  REQUIRED: no id column found; the draft names each record by its file and line"
        out.append(f"  {fld:<{width}}{required}".rstrip())
        if fld in r.rejected:
            out.append(f"  {'':<{width}}   {r.rejected[fld]}")
    if r.unused_columns:
        out += ["", "COLUMNS NOT USED (kept in _original): " + ", ".join(r.unused_columns)]
    if r.null_values:
        out += ["", f"values that look like 'missing': {', '.join(r.null_values)} (written as null_values)"]
    if r.taxonomy_path is not None:
        out += ["", f"CALL TYPES NOT IN seeds/call_type_taxonomy.csv for {r.taxonomy_profile}: {len(r.new_call_types)}"]
        for call_type, n, desc in r.new_call_types[:15]:
            out.append(f"  {n:>7,}  {call_type}" + (f"  ({desc})" if desc else ""))
        if len(r.new_call_types) > 15:
            out.append(f"  ... and {len(r.new_call_types) - 15} more in the file below")
    out += ["", f"DRY RUN with the draft profile: {r.dry_run}", "", "WRITTEN"]
    out.append(f"  draft profile : {r.draft_path}")
    if r.taxonomy_path is not None:
        out.append(f"  call types    : {r.taxonomy_path} (fill service_category ... rationale)")
    if r.shipped:
        m = r.shipped
        folders = " or ".join(f"data/landing/{f}" for f in m.files)
        at = next(i for i, line in enumerate(out) if line.startswith("MATCHED"))
        out[at:at] = [
            f"SHIPPED PROFILE {m.name} already reads this file ({m.found} of its {m.mapped} columns found,"
            " aliases included): use it rather than the draft, which has none of its value mappings and rules",
            f"  dry run with {m.name}: {r.shipped_dry_run}",
            "",
        ]
        out += ["", "NEXT", f"  put the extract where {m.name} reads it ({folders}) and run: make run"]
        return "\n".join(out)
    out += [
        "",
        "NEXT",
        f"  1. check the TODOs in {r.draft_path.name}; copy it to orchestration/source_profiles/",
        "  2. fill the call types and append them to seeds/call_type_taxonomy.csv",
        f"  3. name the city: check city and city_name in {r.draft_path.name} (the profiles of one city share"
        " its id, so its calls, survey and budget meet in one scorecard)",
        f"  4. put the extract in data/landing/{r.profile_name}/ (the draft's files pattern) and run: make run",
    ]
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m orchestration.onboard",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("sample", type=Path, help="a sample of the city's extract (CSV)")
    parser.add_argument("--profile-name", help="lower_snake_case name of the new profile (default: from the file name)")
    parser.add_argument("--source", default="calls_for_service", choices=sorted(CANONICAL_SOURCES))
    parser.add_argument("--timezone", help="the city's IANA time zone (e.g. America/Chicago)")
    parser.add_argument("--out", type=Path, help="where to write the drafts (default: data/onboarding/<profile>/)")
    args = parser.parse_args(argv)
    if not args.sample.is_file():
        parser.error(f"{args.sample}: no such file")
    name = args.profile_name or re.sub(r"[^a-z0-9]+", "_", args.sample.stem.lower()).strip("_")
    if not re.match(r"^[a-z][a-z0-9_]*$", name):
        name = f"city_{name}"
    if (SHIPPED_PROFILES / f"{name}.yaml").exists():
        parser.error(
            f"{name} is the name of a shipped profile ({SHIPPED_PROFILES / name}.yaml): a new profile never"
            " replaces one; choose another --profile-name"
        )
    out = args.out or PROJECT_ROOT / "data" / "onboarding" / name
    print(render(onboard(args.sample, args.source, name, out, args.timezone)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
