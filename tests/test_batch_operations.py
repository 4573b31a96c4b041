"""Operators release, drop and supersede batches with a command; each is followed by a refresh
whose marts equal a full rebuild from the admitted batches. A batch landed between a run's gates
and its build is not built until a gate passes it.

The city: the small demo city and the real one-beat Seattle extract, plus a Seattle file with
repeated call ids (held by the raw gate).
"""

from __future__ import annotations

import duckdb
import pytest

from orchestration.cli import main as cli
from orchestration.landing.loader import land_file
from orchestration.landing.profiles import load_profiles
from orchestration.ledger.landing import record_landed
from orchestration.ledger.store import batch_states, pending_rebuilds
from orchestration.transform.dbt_assets import warehouse_dbt_assets
from tests.conftest import PROFILES_DIR, make_settings, run_pipeline
from tests.support.ledger import SEATTLE_FILE, csv_rows, marts_differing_from_a_full_rebuild, write_rows

SCALE = 0.02
UNIT_ROWS = "seattle/seattle_unit_rows.csv"


def state_of(settings, file: str) -> str:
    con = duckdb.connect(str(settings.warehouse_path), read_only=True)
    try:
        return {s.source_file: s.state for s in batch_states(con)}.get(file)
    finally:
        con.close()


def staged_ids(settings, ids: list[str]) -> list[tuple]:
    con = duckdb.connect(str(settings.warehouse_path), read_only=True)
    try:
        return con.execute(
            "SELECT call_id, call_type FROM staging.stg_calls_for_service WHERE call_id IN ? ORDER BY 1", [ids]
        ).fetchall()
    finally:
        con.close()


@pytest.fixture(scope="module")
def city(tmp_path_factory):
    from orchestration.demo_city.generator import generate

    root = tmp_path_factory.mktemp("batch_operations")
    settings = make_settings(root, scale=SCALE)
    generate(settings.demo_dir, SCALE, settings.demo_seed, progress=lambda _m: None)
    header, rows = csv_rows(SEATTLE_FILE)
    write_rows(settings.landing_dir / "seattle" / SEATTLE_FILE.name, header, rows)
    # 20 calls of ids no other file has, the first 5 on a second row with another final call type
    unit = [[f"77{i:011d}", *r[1:]] for i, r in enumerate(rows[:20])]
    final = header.index("Final Call Type")
    again = [[*r[:final], "--DISTURBANCE - NOISE", *r[final + 1 :]] for r in unit[:5]]
    write_rows(settings.landing_dir / UNIT_ROWS, header, unit + again)
    first = run_pipeline(settings)
    assert first.success, [e.message for e in first.all_events if e.is_failure]
    return {"settings": settings, "header": header, "unit": unit, "ids": [r[0] for r in unit]}


@pytest.fixture
def env(city, monkeypatch):
    """The CLI reads its paths from the environment, as an operator's shell would give them."""
    settings = city["settings"]
    monkeypatch.setenv("PSW_WAREHOUSE", str(settings.warehouse_path))
    monkeypatch.setenv("PSW_LANDING_DIR", str(settings.landing_dir))
    return settings


def test_the_file_with_repeated_ids_is_held_and_not_built(city):
    settings = city["settings"]
    assert state_of(settings, UNIT_ROWS) == "held"
    assert state_of(settings, f"seattle/{SEATTLE_FILE.name}") == "passed"
    assert staged_ids(settings, city["ids"]) == []


def test_a_batch_landed_between_the_gates_and_the_build_is_not_built(city, tmp_path):
    """Exactly the ordering of two overlapping refreshes: a file lands (as another run's landing
    would) after this run's gates judged, and before its dbt build."""
    settings = city["settings"]
    header, rows = csv_rows(SEATTLE_FILE)
    late = [[f"55{i:011d}", *r[1:]] for i, r in enumerate(rows[:12])]
    path = write_rows(settings.landing_dir / "seattle" / "seattle_late.csv", header, late)
    profile = load_profiles(PROFILES_DIR)["seattle_cfs"]
    con = duckdb.connect(str(settings.warehouse_path))
    result = land_file(con, path, profile, settings.landing_dir)
    record_landed(con, result.batch_id, "calls_for_service", "seattle_cfs", result.source_file, None)
    con.close()
    assert result.rows_landed == 12

    build_only = run_pipeline(settings, selection=list(warehouse_dbt_assets.keys))

    assert build_only.success
    assert state_of(settings, "seattle/seattle_late.csv") == "landed"  # no gate has judged it ...
    assert staged_ids(settings, [r[0] for r in late]) == []  # ... so it is not built
    refresh = run_pipeline(settings)
    assert refresh.success
    assert state_of(settings, "seattle/seattle_late.csv") == "passed"
    assert len(staged_ids(settings, [r[0] for r in late])) == 12


def test_release_admits_the_held_batch_and_the_marts_equal_a_full_rebuild(city, env, tmp_path, monkeypatch, capsys):
    settings = city["settings"]
    assert cli(["batches", "release", UNIT_ROWS, "--reason", "unit rows, checked by hand", "--by", "ana"]) == 0
    assert "released" in capsys.readouterr().out
    assert state_of(settings, UNIT_ROWS) == "released"
    assert cli(["batches", "release", UNIT_ROWS, "--reason", "again"]) == 1  # only a held batch is released
    assert "is released, not held" in capsys.readouterr().out

    refresh = run_pipeline(settings)

    assert refresh.success
    staged = staged_ids(settings, city["ids"])
    assert len(staged) == 20  # one row per call: the later row of a repeated id wins
    assert dict(staged)[city["ids"][0]] == "--DISTURBANCE - NOISE"
    copy = make_settings(tmp_path / "full", scale=SCALE)
    assert marts_differing_from_a_full_rebuild(settings, copy, run_pipeline, monkeypatch) == []


def test_supersede_by_a_corrected_file_under_the_same_name(city, env, tmp_path, monkeypatch):
    settings = city["settings"]
    header, rows = csv_rows(SEATTLE_FILE)
    broken = [[f"66{i:011d}", *r[1:]] for i, r in enumerate(rows[30:40])]
    path = write_rows(settings.landing_dir / "seattle" / "seattle_correct_me.csv", header, broken + broken[:2])
    assert run_pipeline(settings).success
    assert state_of(settings, "seattle/seattle_correct_me.csv") == "held"
    write_rows(path, header, broken)  # the corrected file, dropped in under the same name

    refresh = run_pipeline(settings)

    assert refresh.success
    con = duckdb.connect(str(settings.warehouse_path), read_only=True)
    versions = [
        (s.state, s.rows_read) for s in batch_states(con, "source_file = ?", ["seattle/seattle_correct_me.csv"])
    ]
    con.close()
    assert versions == [("superseded", 12), ("passed", 10)]
    assert len(staged_ids(settings, [r[0] for r in broken])) == 10
    copy = make_settings(tmp_path / "full", scale=SCALE)
    assert marts_differing_from_a_full_rebuild(settings, copy, run_pipeline, monkeypatch) == []


def test_drop_takes_a_built_batch_out_of_raw_and_every_mart(city, env, tmp_path, monkeypatch, capsys):
    settings = city["settings"]
    dropped = f"seattle/{SEATTLE_FILE.name}"
    assert cli(["batches", "drop", dropped, "--reason", "wrong beat exported"]) == 0
    out = capsys.readouterr().out
    assert "222 rows left raw" in out and "moved to" in out
    assert not (settings.landing_dir / dropped).exists()
    assert (settings.rejected_dir / dropped).exists()  # out of the landing folder: not landed again
    con = duckdb.connect(str(settings.warehouse_path), read_only=True)
    assert pending_rebuilds(con) and "went from passed to dropped" in pending_rebuilds(con)[0]
    con.close()

    refresh = run_pipeline(settings)

    assert refresh.success
    assert state_of(settings, dropped) == "dropped"
    con = duckdb.connect(str(settings.warehouse_path), read_only=True)
    original_ids = [r[0] for r in csv_rows(SEATTLE_FILE)[1]]
    for table in ("raw.calls_for_service", "staging.stg_calls_for_service", "marts.fct_calls_for_service"):
        column = "call_id"
        n = con.execute(f"SELECT count(*) FROM {table} WHERE {column} IN ?", [original_ids]).fetchone()[0]
        assert n == 0, table
    assert pending_rebuilds(con) == []  # the full rebuild answered the request
    con.close()
    copy = make_settings(tmp_path / "full", scale=SCALE)
    assert marts_differing_from_a_full_rebuild(settings, copy, run_pipeline, monkeypatch) == []


def test_list_and_show_fit_on_a_screen(city, env, capsys):
    assert cli(["batches", "list"]) == 0
    listing = capsys.readouterr().out.splitlines()
    assert listing[0].startswith("batches: ") and "dropped" in listing[0]
    assert all(len(line) <= 160 for line in listing) and len(listing) < 40
    assert cli(["batches", "show", "seattle/seattle_correct_me.csv"]) == 1  # two batches by that name
    assert "give more of the batch id" in capsys.readouterr().out
    assert cli(["batches", "show", UNIT_ROWS]) == 0
    shown = capsys.readouterr().out
    assert "released" in shown and "operator ana: unit rows, checked by hand" in shown and "held" in shown
