"""The codes of a coded field (priority) in the sample, to propose as the profile's accepted_values."""

from __future__ import annotations

from orchestration.onboarding.report import Match
from orchestration.sql import quote_ident

# Fields whose values are a city's own short code list, judged by the raw gate against the codes
# its profile accepts (expectations/raw_to_staging: the parameter <field>_values).
CODED_FIELDS = ("priority",)
# More distinct values than this in a sample is not a code list (free text, or a typing error
# in the column's choice): the draft proposes nothing and says so.
MAX_CODES = 12


def sample_codes(con, matched: dict[str, Match]) -> dict[str, list[tuple[str, int]] | None]:
    """Per coded field matched to a column: its codes in the sample with their rows (numbers in
    numeric order, the others after, alphabetically), or None when there are more than MAX_CODES."""
    out: dict[str, list[tuple[str, int]] | None] = {}
    for fld in CODED_FIELDS:
        m = matched.get(fld)
        if m is None or not m.column:
            continue
        col = quote_ident(m.column)
        rows = con.execute(
            f"SELECT trim({col}) AS code, count(*) FROM sample WHERE trim({col}) <> '' GROUP BY 1 "
            f"ORDER BY try_cast(code AS DOUBLE) NULLS LAST, code LIMIT {MAX_CODES + 1}"
        ).fetchall()
        out[fld] = None if len(rows) > MAX_CODES else [(str(code), n) for code, n in rows]
    return out
