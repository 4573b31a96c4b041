"""Mixed feeds: the disciplines a county 911 feed's call types start with, or the values of an
agency column, and what each is (police, fire, ems, other)."""

from __future__ import annotations

from orchestration.onboarding.report import Match
from orchestration.sql import quote_ident

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
