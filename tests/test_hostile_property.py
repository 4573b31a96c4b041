"""Property test (issue 16): a few hundred generated malformed CSV files (random bytes, broken
quotes, random encodings, random column counts, line endings) landed one after another into one
warehouse. For each: landing either refuses it with a LandingError naming the file, or lands it
with rows read = landed + quarantined (and the tables agree); and no other file's rows change."""

from __future__ import annotations

import itertools

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from orchestration.landing.loader import LandingError, land_file
from orchestration.landing.profiles import parse_profile

COLUMNS = ["call_no", "received", "type", "beat"]
PROFILE = {
    "name": "prop_calls",
    "source": "calls_for_service",
    "files": "*.csv",
    "timezone": "America/Chicago",
    "columns": {"call_id": "call_no", "received_at": "received", "call_type": "type", "beat": "beat"},
}
ENCODINGS = ["utf-8", "cp1252", "latin-1", "utf-16", "utf-16-le"]

text = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=12)
good_cell = st.sampled_from(["1", "A1", "THEFT", "2025-01-01 10:00:00", "", "x y", "Ünïcødé", "€"])
cell = st.one_of(good_cell, text, st.just('"'), st.just('a"b'), st.just('"open'), st.just("\x00"))


@st.composite
def row(draw) -> str:
    width = draw(st.one_of(st.just(len(COLUMNS)), st.integers(0, 8)))
    cells = draw(st.lists(cell, min_size=width, max_size=width))
    if draw(st.booleans()):
        cells = [f'"{c}"' if '"' not in c else c for c in cells]
    return ",".join(cells)


@st.composite
def csv_file(draw) -> tuple[bytes, str]:
    """(bytes of the file, encoding its profile declares)."""
    declared = draw(st.sampled_from(ENCODINGS))
    if draw(st.integers(0, 9)) == 0:  # sometimes nothing but random bytes
        return draw(st.binary(max_size=400)), declared
    header = ",".join(draw(st.permutations(COLUMNS)))
    if draw(st.integers(0, 5)) == 0:
        header = ",".join(draw(st.lists(st.sampled_from([*COLUMNS, "other", ""]), max_size=6)))
    lines = [header] + draw(st.lists(row(), max_size=12))
    ending = draw(st.sampled_from(["\n", "\r\n", "mixed"]))
    body = "".join(
        line + ("\r\n" if ending == "mixed" and i % 2 else "\n" if ending == "mixed" else ending)
        for i, line in enumerate(lines)
    )
    written_as = draw(st.sampled_from([declared, declared, *ENCODINGS]))  # mostly as declared, sometimes not
    data = body.encode(written_as, errors="replace")
    if draw(st.integers(0, 4)) == 0:  # a few random bytes spliced in
        at = draw(st.integers(0, len(data)))
        data = data[:at] + draw(st.binary(min_size=1, max_size=6)) + data[at:]
    return data, declared


CONTROL = "call_no,received,type,beat\n" + "".join(f"C{i},2025-01-01 10:00:00,THEFT,B{i}\n" for i in range(5))


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory):
    root = tmp_path_factory.mktemp("property")
    landing = root / "landing"
    landing.mkdir()
    con = duckdb.connect(str(root / "w.duckdb"))
    control = landing / "control.csv"
    control.write_text(CONTROL)
    result = land_file(con, control, parse_profile(PROFILE), landing)
    assert result.rows_landed == 5
    yield con, landing, itertools.count()
    con.close()


def snapshot(con) -> dict:
    """Every batch's rows (landed and quarantined), as content hashes."""
    landed = dict(
        con.execute(
            "SELECT _batch_id, sum(hash(_original::VARCHAR, _row_number)) FROM raw.calls_for_service GROUP BY 1"
        ).fetchall()
    )
    quarantined = dict(
        con.execute("SELECT batch_id, sum(hash(record, row_number, reason)) FROM raw.quarantine GROUP BY 1").fetchall()
    )
    return {"landed": landed, "quarantined": quarantined}


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
@given(csv_file())
def test_malformed_files_are_refused_by_name_or_reconcile_and_touch_no_other_file(warehouse, generated):
    con, landing, counter = warehouse
    data, declared = generated
    path = landing / f"f{next(counter)}.csv"
    path.write_bytes(data)
    profile = parse_profile({**PROFILE, "csv": {"encoding": declared}})
    before = snapshot(con)
    try:
        result = land_file(con, path, profile, landing)
    except LandingError as refused:
        assert str(refused).startswith(f"{path.name}: "), refused
        assert snapshot(con) == before, "a refused file changed the warehouse"
        return
    after = snapshot(con)
    assert result.rows_read == result.rows_landed + result.rows_quarantined
    if result.already_landed:
        assert after == before
        return
    landed = con.execute(
        "SELECT count(*) FROM raw.calls_for_service WHERE _batch_id = ?", [result.batch_id]
    ).fetchone()[0]
    quarantined = con.execute("SELECT count(*) FROM raw.quarantine WHERE batch_id = ?", [result.batch_id]).fetchone()[0]
    assert (landed, quarantined) == (result.rows_landed, result.rows_quarantined)
    others = {k: {b: v for b, v in after[k].items() if b != result.batch_id} for k in after}
    assert others == before, "landing one file changed another file's rows"
    # no control byte reaches a landed value
    bad = con.execute(
        "SELECT count(*) FROM raw.calls_for_service WHERE _batch_id = ? AND "
        "regexp_matches(concat_ws('|', call_id, call_type, beat), '[\\x00-\\x08\\x0b\\x0c\\x0e-\\x1f\\x7f]')",
        [result.batch_id],
    ).fetchone()[0]
    assert bad == 0
