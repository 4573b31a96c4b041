"""Onboard a city: read a sample of its extract, match its columns to the canonical fields, and
write a draft source profile and the call types the taxonomy does not know yet.

    python -m orchestration.onboard <sample.csv> [--profile-name X] [--source calls_for_service]
                                    [--timezone America/Chicago] [--out DIR] [--lookup FILE ...]

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
   With ``--lookup``: finds the key a second file is joined by (by content) and the fields its
   columns fill (orchestration/onboarding/lookups.py), for the draft's ``lookups`` section.
5. Lands the sample with the draft profile into a throw-away in-memory warehouse and prints
   what would be landed and quarantined, and why.

Nothing is written into the project: copy the draft into orchestration/source_profiles and
the filled rows into seeds/call_type_taxonomy.csv when they are right (README: "Onboard your city").
"""

from __future__ import annotations

import argparse
import re
import shutil
import tempfile
from pathlib import Path

import duckdb
import yaml

from orchestration.landing.canonical import CANONICAL_SOURCES
from orchestration.landing.loader import LandingError, land_file
from orchestration.landing.lookups import land_lookups
from orchestration.landing.profiles import (
    UNIT_GRAIN_FIELDS,
    ProfileError,
    parse_profile,
)
from orchestration.onboarding.agency import agency_prefixes, agency_values
from orchestration.onboarding.bounds import box_of_columns, robust_box
from orchestration.onboarding.carried import carried_fields
from orchestration.onboarding.codes import sample_codes
from orchestration.onboarding.draft import draft_profile
from orchestration.onboarding.lookups import read_lookup
from orchestration.onboarding.matching import match_columns
from orchestration.onboarding.points import call_type_from_description, place_points, point_parts
from orchestration.onboarding.report import LookupFinding, Report
from orchestration.onboarding.sample import read_sample
from orchestration.onboarding.screen import render
from orchestration.onboarding.shipped import SHIPPED_PROFILES, shipped_profile_for
from orchestration.onboarding.taxonomy import new_call_types, write_taxonomy
from orchestration.settings import PROJECT_ROOT
from orchestration.sql import quote_ident


def _dry_run_lookups(con, profile, lookups: list[LookupFinding]) -> str:
    """Land the lookup files as the draft names them, and count the records that join."""
    text = ""
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / profile.name
        folder.mkdir()
        for finding in lookups:
            if finding.name in profile.lookups:
                shutil.copyfile(finding.path, folder / f"{finding.name}.csv")
        landed, judged = land_lookups(con, {profile.name: profile}, Path(tmp))
    for outcome in landed:
        if outcome.refused:
            text += f"\n    lookup {outcome.lookup_name}: refused: {outcome.refused}"
            continue
        lookup = profile.lookups[outcome.lookup_name]
        named, joined = con.execute(
            f"SELECT count(nullif(trim(r._original ->> $1), '')), count(v.lookup_key) FROM raw.{profile.source} AS r "
            "LEFT JOIN (SELECT DISTINCT lookup_key FROM raw.lookup_values WHERE lookup_name = $2) AS v "
            "ON trim(r._original ->> $1) = v.lookup_key",
            [lookup.record_column, lookup.name],
        ).fetchone()
        verdict = next((reason for _p, n, _f, reason in judged if n == lookup.name), None)
        text += (
            f"\n    lookup {lookup.name}: read {outcome.rows_read:,}, landed {outcome.rows_landed:,}, quarantined "
            f"{outcome.rows_quarantined:,}; {joined:,} of {named:,} records naming a key join"
            + (f"; not joined: {verdict}" if verdict else "")
        )
    return text


def keep_lookup_keys_apart(r: Report) -> None:
    """A column found to hold a lookup's keys is not a field matched by a close name
    (LocationKey is not a block address); the fields lookups fill are not missing."""
    for finding in r.lookups:
        if finding.problem:
            continue
        for fld, m in list(r.matched.items()):
            if m.column == finding.record_column and m.score < 1:
                del r.matched[fld]
                r.missing.append(fld)
                r.rejected[fld] = f"{m.column}: the key of lookup {finding.name}, not a {fld} ({m.why})"
                r.unused_columns.append(m.column)
        r.missing = [f for f in r.missing if f not in finding.columns]
    order = list(CANONICAL_SOURCES[r.source].fields)
    r.missing.sort(key=order.index)


def dry_run(sample: Path, draft: Path, lookups: list[LookupFinding] | None = None) -> str:
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
    if lookups and profile.lookups:
        text += _dry_run_lookups(con, profile, lookups)
    con.close()
    return text


def onboard(
    path: Path,
    source: str,
    profile_name: str,
    out: Path,
    timezone: str | None = None,
    lookups: list[Path] | None = None,
) -> Report:
    path = Path(path)
    con = duckdb.connect()
    sampled = read_sample(con, path)
    encoding, delimiter, quote, header = sampled.encoding, sampled.delimiter, sampled.quote, sampled.header
    endings, rows_sampled = sampled.line_endings, sampled.rows
    matched, rejected = match_columns(con, source, header)
    point = place_points(con, header, matched, rejected) if "latitude" in CANONICAL_SOURCES[source].fields else None
    if point:  # the fields the point column was taken for are matched again among the other columns
        matched, again = match_columns(con, source, [h for h in header if h != point])
        rejected = {**again, **{f: why for f, why in rejected.items() if f not in matched}}
    if source == "calls_for_service":
        call_type_from_description(matched)
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
        bounds = box_of_columns(con, matched["latitude"].column, matched["longitude"].column)
    elif point:
        bounds = robust_box(con, *point_parts(point))
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
            and not (point and f in ("latitude", "longitude"))
        ],
        rejected=rejected,
        unused_columns=[h for h in header if h not in {m.column for m in matched.values()} and h != point],
        point_column=point,
        null_values=nulls,
        bounds=bounds,
        grain=grain,
        id_repeats=id_repeats,
        agency_prefixes=prefixes,
        agency_values=agency_values(con, matched) if source == "calls_for_service" else [],
        codes=sample_codes(con, matched),
    )
    report.lookups = [
        read_lookup(con, lookup, source, i, report.unused_columns, matched) for i, lookup in enumerate(lookups or [])
    ]
    keep_lookup_keys_apart(report)
    report.carried = carried_fields(report)
    report.missing = [f for f in report.missing if f not in report.carried and f not in report.carried_constants]
    if report.bounds is None:  # the places are in the lookup file
        report.bounds = next((f.bounds for f in report.lookups if f.bounds and not f.problem), None)
    out.mkdir(parents=True, exist_ok=True)
    report.draft_path = out / f"{profile_name}.yaml"
    report.draft_path.write_text(draft_profile(report, timezone), encoding="utf-8")
    report.shipped = shipped_profile_for(source, header)
    if source == "calls_for_service":
        report.new_call_types = new_call_types(con, report)
        report.taxonomy_path = out / f"{profile_name}_call_types.csv"
        write_taxonomy(report.taxonomy_path, report.taxonomy_profile, report.new_call_types)
    con.close()
    report.dry_run = dry_run(path, report.draft_path, report.lookups)
    if report.shipped:
        report.shipped_dry_run = dry_run(path, report.shipped.path)
    return report


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
    parser.add_argument(
        "--lookup",
        type=Path,
        action="append",
        default=[],
        help="a second file the records name by a key (a locations table, a code table); may be repeated",
    )
    args = parser.parse_args(argv)
    for given in (args.sample, *args.lookup):
        if not given.is_file():
            parser.error(f"{given}: no such file")
    name = args.profile_name or re.sub(r"[^a-z0-9]+", "_", args.sample.stem.lower()).strip("_")
    if not re.match(r"^[a-z][a-z0-9_]*$", name):
        name = f"city_{name}"
    if (SHIPPED_PROFILES / f"{name}.yaml").exists():
        parser.error(
            f"{name} is the name of a shipped profile ({SHIPPED_PROFILES / name}.yaml): a new profile never"
            " replaces one; choose another --profile-name"
        )
    out = args.out or PROJECT_ROOT / "data" / "onboarding" / name
    print(render(onboard(args.sample, args.source, name, out, args.timezone, args.lookup)))
    return 0
