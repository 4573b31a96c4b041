"""What the onboarding command prints: one screen a person can act on (what was found, what is
missing and why, the call types to classify, lookups, the dry run, and the next steps)."""

from __future__ import annotations

import textwrap

from orchestration.landing.canonical import CANONICAL_SOURCES
from orchestration.onboarding.report import Report


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
    extra = [f for f in r.carried if f not in r.matched]
    if extra:
        out.append(
            f"  {'carried':<{width}} <- {', '.join(extra)}: read as the shipped profile the matches cite reads them"
        )
    if r.point_column:
        out.append(f"  {'latitude/longitude':<{width}} <- {r.point_column}  (its values are points)")
    # one screen: the fields simply not there share wrapped lines; a required one or one with a
    # reason (a column of the right name but the wrong values) has lines of its own
    plain = [f for f in r.missing if f not in canonical.required and f not in r.rejected]
    out += ["", f"MISSING ({len(r.missing)})"]
    out += textwrap.wrap(", ".join(plain), width=100, initial_indent="  ", subsequent_indent="  ")
    for fld in [f for f in r.missing if f not in plain]:
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
    if r.taxonomy_path is not None and "call_type" not in r.matched:
        out += ["", "CALL TYPES: no call-type column found, so none could be checked against the taxonomy"]
    elif r.taxonomy_path is not None:
        out += ["", f"CALL TYPES NOT IN seeds/call_type_taxonomy.csv for {r.taxonomy_profile}: {len(r.new_call_types)}"]
        for call_type, n, desc in r.new_call_types[:15]:
            out.append(f"  {n:>7,}  {call_type}" + (f"  ({desc})" if desc else ""))
        if len(r.new_call_types) > 15:
            out.append(f"  ... and {len(r.new_call_types) - 15} more in the file below")
    out += lookup_section(r)
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
            " aliases included): use it rather than a new profile (the draft carries its mappings and rules,"
            " but the shipped profile is the one kept up to date)",
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
        f"  4. put the extract in data/landing/{r.profile_name}/ (the draft's files pattern)"
        + "".join(f" and {f.path.name} as {f.name}*.csv beside it" for f in r.lookups if not f.problem)
        + ", and run: make run",
    ]
    return "\n".join(out)


def lookup_section(r: Report) -> list[str]:
    out = []
    for f in r.lookups:
        out += ["", f"LOOKUP {f.path.name} ({f.rows:,} rows read) as lookup '{f.name}'"]
        if f.key:
            share = f.records_joined / f.records_with_key
            out.append(
                f"  key           : its {f.key} <- the records' {f.record_column} "
                f"({f.records_joined:,} of {f.records_with_key:,} sampled records naming a key join, {share:.0%})"
            )
        for fld, m in f.columns.items():
            out.append(f"  fills {fld:<13} <- {m.column}  ({m.why})")
        for fld, why in f.rejected.items():
            out.append(f"  not {fld}: {why}")
        used = {f.key, *(m.column for m in f.columns.values())}
        unused = [h for h in f.header if h not in used]
        if f.key and unused:
            out.append(f"  columns not used: {', '.join(unused)}")
        if f.problem:
            out.append(f"  NOT USED: {f.problem}")
    return out
