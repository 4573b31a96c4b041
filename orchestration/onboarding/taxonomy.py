"""The call types of the sample the taxonomy does not have yet, written for a person to classify."""

from __future__ import annotations

import csv
from pathlib import Path

from orchestration.onboarding.report import Report
from orchestration.settings import PROJECT_ROOT
from orchestration.sql import quote_ident

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
