"""The draft profile written from a report: every field matched, its formats and mappings, the
city box, and a TODO wherever a person has to decide."""

from __future__ import annotations

import json

from orchestration.landing.canonical import CANONICAL_SOURCES
from orchestration.onboarding.agency import guess_agency
from orchestration.onboarding.codes import MAX_CODES
from orchestration.onboarding.report import Report


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


def timezone_line(r: Report, timezone: str | None) -> str:
    if timezone:
        return f"timezone: {timezone}"
    if r.cited_timezone:
        zone, profile = r.cited_timezone
        return f"timezone: {zone}  # TODO check: the time zone of profile {profile}, whose layout this is"
    return "timezone: UTC  # TODO: the city's IANA time zone, e.g. America/Chicago (local times are read in it)"


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
        timezone_line(r, timezone),
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
    if stamped or r.carried_formats:
        lines.append("timestamp_formats:")
        for fld, m in stamped.items():
            todo = f"  # TODO: {m.note}" if m.note.startswith("formats") else ""
            lines.append(f"  {fld}: {_scalar(m.formats[0])}{todo}")
        for fld, formats in r.carried_formats.items():
            lines.append(f"  {fld}: [{', '.join(_scalar(f) for f in formats)}]  # as the cited profile reads it")
    if r.bounds:
        lines.append(
            "# TODO check: the sample's points within 3 interquartile ranges of their quartiles (a robust spread);"
            " rows outside are flagged"
        )
        lines.append("bounds: {" + ", ".join(f"{k}: {v}" for k, v in r.bounds.items()) + "}")
    lines += accepted_values_lines(r)
    if r.point_column:
        lines.append("coordinates:  # its values are points (latitude and longitude in one column)")
        lines.append(f"  point: {_scalar(r.point_column)}")
    lines.append("columns:")
    for fld in canonical.fields:
        if fld in r.carried:
            lines += r.carried[fld]
        elif fld == "agency" and r.agency_values:
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
    if r.carried_constants:
        lines.append(f"constants:  # as profile {r.cited_timezone[1]} says of this layout")
        lines += [f"  {fld}: {_scalar(v)}" for fld, v in r.carried_constants.items()]
    lines += lookup_lines(r)
    if r.missing:
        lines.append("# Not found in the sample (they land empty; say why in notes: if you know):")
        for fld in r.missing:
            reason = r.rejected.get(fld)
            lines.append(f"#   {fld}" + (f": {reason}" if reason else ""))
    return "\n".join(lines) + "\n"


# A discipline written before the call type: "EMS: BACK PAINS/INJURY", "Fire: GAS-ODOR/LEAK".


def accepted_values_lines(r: Report) -> list[str]:
    """The coded fields' codes found in the sample, proposed as the profile's accepted_values (the
    raw gate then holds a file with any other); a field with too many codes is left to the person."""
    proposed = {fld: codes for fld, codes in r.codes.items() if codes}
    lines = [
        f"# {fld}: more than {MAX_CODES} distinct values in the sample; list the city's codes under"
        f" accepted_values: {{{fld}: [...]}} to have the raw gate check them"
        for fld, codes in r.codes.items()
        if codes is None
    ]
    if proposed:
        lines.append("# TODO check: the codes found in the sample (rows); the raw gate holds a file with any other")
        lines.append("accepted_values:")
        for fld, codes in proposed.items():
            seen = ", ".join(f"{code} {n:,}" for code, n in codes)
            lines.append(f"  {fld}: [{', '.join(_scalar(code) for code, _n in codes)}]  # {seen}")
    return lines


def lookup_lines(r: Report) -> list[str]:
    """The draft's lookups: each file whose key was found and that fills a field the records lack."""
    usable = [f for f in r.lookups if not f.problem]
    if not usable:
        return []
    lines = ["lookups:"]
    for f in usable:
        share = f.records_joined / f.records_with_key
        lines += [
            f"  {f.name}:  # TODO check: {f.records_joined:,} of {f.records_with_key:,} sampled records"
            f" naming a key join ({share:.0%}); from {f.path.name}",
            f'    files: "{r.profile_name}/{f.name}*.csv"',
            f"    key: {_scalar(f.key)}",
            f"    record_column: {_scalar(f.record_column)}",
            "    columns:",
        ]
        lines += [f"      {fld}: {_scalar(m.column)}  # {m.why}" for fld, m in f.columns.items()]
    return lines
