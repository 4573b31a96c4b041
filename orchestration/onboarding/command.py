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
import re
import tempfile
from pathlib import Path

import duckdb
import yaml

from orchestration.landing import csvfile
from orchestration.landing.canonical import CANONICAL_SOURCES
from orchestration.landing.dialect import sniff_dialect, sniff_encoding
from orchestration.landing.loader import LandingError, land_file
from orchestration.landing.profiles import (
    UNIT_GRAIN_FIELDS,
    ProfileError,
    parse_profile,
)
from orchestration.onboarding.agency import agency_prefixes, agency_values
from orchestration.onboarding.bounds import robust_box
from orchestration.onboarding.draft import draft_profile
from orchestration.onboarding.matching import match_columns
from orchestration.onboarding.report import Report
from orchestration.onboarding.shipped import SHIPPED_PROFILES, shipped_profile_for
from orchestration.onboarding.taxonomy import new_call_types, write_taxonomy
from orchestration.settings import PROJECT_ROOT
from orchestration.sql import quote_ident, quote_literal

SAMPLE_ROWS = 5000


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
