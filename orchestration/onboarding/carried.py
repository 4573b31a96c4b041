"""What a draft carries from the shipped profiles it cites: a field matched "as in profile X" keeps
X's value mapping for it (Chicago's fbi_code -> persons / property / society), and X's other
fields whose columns the sample has come along with their rules (the violent flag read from the
same fbi_code, Seattle's ONVIEW officer-initiated rule), so a draft never drops what a shipped
profile knows about the same layout."""

from __future__ import annotations

import json
from collections import Counter

from orchestration.landing.profiles import KEEP, FieldSource, SourceProfile
from orchestration.onboarding.report import Report
from orchestration.onboarding.shipped import shipped_profiles


def _text(value) -> str:
    return "null" if value is None else json.dumps(value)


def spec_lines(fld: str, spec: FieldSource, columns: tuple[str, ...], profile: SourceProfile, why: str) -> list[str]:
    """A field's mapping as the draft writes it: the sample's column(s), the cited profile's values."""
    values = spec.values if spec.values is not None else profile.values.get(fld)
    if not values and not spec.join and spec.otherwise == KEEP:
        return [f"  {fld}: {_text(columns[0])}  # {why}"]
    lines = [f"  {fld}:  # {why}" + (", with its value mapping" if values else "")]
    if spec.join:
        lines += [f"    join: [{', '.join(_text(c) for c in columns)}]", f"    separator: {_text(spec.separator)}"]
    else:
        lines.append(f"    column: {_text(columns[0])}")
    if spec.match != "exact":
        lines.append(f"    match: {spec.match}")
    if values:
        lines.append("    values:")
        lines += [f"      {_text(k)}: {_text(v)}" for k, v in values.items()]
    if spec.otherwise != KEEP:
        lines.append(f"    otherwise: {_text(spec.otherwise)}")
    return lines


def carried_fields(r: Report) -> dict[str, list[str]]:
    """field -> its draft lines, for every field the cited shipped profiles map on the sample's
    columns: the matched ones with their mappings, and the unmatched ones they read."""
    cited = {m.shipped_profile for m in r.matched.values() if m.shipped_profile}
    if not cited:
        return {}
    shipped = shipped_profiles()
    header = set(r.header)
    most = Counter(m.shipped_profile for m in r.matched.values() if m.shipped_profile).most_common(1)[0][0]
    if most in shipped:
        r.cited_timezone = (shipped[most].timezone, most)
        # what the layout always is (Rhode Island's stops are all vehicle stops)
        r.carried_constants = {f: v for f, v in shipped[most].constants.items() if f not in r.matched}
    out: dict[str, list[str]] = {}
    for fld, m in r.matched.items():
        profile = shipped.get(m.shipped_profile or "")
        spec = profile.columns.get(fld) if profile else None
        if spec is None or spec.line_number:
            continue
        columns = spec.resolve(header) if spec.join else (m.column,)
        if columns:  # a join the sample has every part of is carried whole
            out[fld] = spec_lines(fld, spec, columns, profile, m.why)
            r.unused_columns = [c for c in r.unused_columns if c not in columns]
            if spec.join and m.formats:  # the joined value is read as the cited profile reads it, not one part
                m.formats = []
                r.carried_formats[fld] = profile.formats_for(fld)
    for name in sorted(cited):
        profile = shipped.get(name)
        if profile is None or profile.source != r.source:
            continue
        for fld, spec in profile.columns.items():
            if fld in r.matched or fld in out or spec.line_number:
                continue
            columns = spec.resolve(header)
            if columns:  # the same column read for two fields is the profile's rule (fbi_code: category, violent)
                out[fld] = spec_lines(fld, spec, columns, profile, f"as in profile {name}")
                r.unused_columns = [c for c in r.unused_columns if c not in columns]
                if profile.canonical.fields[fld] in ("timestamp", "date"):
                    r.carried_formats[fld] = profile.formats_for(fld)
    return out
