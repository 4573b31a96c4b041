"""Every file gets its own verdict: a warehouse of several cities where some files are bad.

One run over the demo city, the real Milwaukee extract and the real Seattle one-beat extract,
plus three bad files: a Milwaukee file with repeated call ids, a Milwaukee file without its call
type column, and a file no profile reads. The bad files are held or refused with their reasons;
every other city is built and published; counts reconcile file -> raw -> staging; held rows are
in no mart.
"""

from __future__ import annotations

import shutil

import duckdb
import pytest

from orchestration.ledger.store import batch_states
from orchestration.serving.config import load_serving_config
from orchestration.serving.serving_copy import open_serving
from tests.conftest import MILWAUKEE_FILE, make_settings, run_pipeline
from tests.support.ledger import SEATTLE_FILE, csv_rows, write_rows

DUPLICATE_IDS = "milwaukee/mke_unit_rows.csv"
MISSING_COLUMN = "milwaukee/mke_no_nature.csv"
UNMATCHED = "unknown_city/calls.csv"


@pytest.fixture(scope="module")
def several_cities(tmp_path_factory):
    from orchestration.demo_city.generator import generate

    root = tmp_path_factory.mktemp("several_cities")
    settings = make_settings(root, scale=0.1)
    generate(settings.demo_dir, settings.demo_scale, settings.demo_seed, progress=lambda _m: None)
    landing = settings.landing_dir
    (landing / "milwaukee").mkdir(parents=True)
    shutil.copy(MILWAUKEE_FILE, landing / "milwaukee" / MILWAUKEE_FILE.name)
    (landing / "seattle").mkdir()
    shutil.copy(SEATTLE_FILE, landing / "seattle" / SEATTLE_FILE.name)
    header, rows = csv_rows(MILWAUKEE_FILE)
    # 40 calls of ids no other file has, ten of them on a second row (one row per responding unit)
    unit_rows = [[f"99{i:05d}", *r[1:]] for i, r in enumerate(rows[:40])]
    write_rows(landing / DUPLICATE_IDS, header, unit_rows + unit_rows[:10])
    nature = header.index("nature")
    write_rows(
        landing / MISSING_COLUMN,
        [c for c in header if c != "nature"],
        [[v for k, v in enumerate(r) if k != nature] for r in rows[100:130]],
    )
    (landing / "unknown_city").mkdir()
    (landing / UNMATCHED).write_text("a,b\n1,2\n")
    result = run_pipeline(settings)
    return settings, result, unit_rows


def states(settings) -> dict[str, str]:
    con = duckdb.connect(str(settings.warehouse_path), read_only=True)
    try:
        return {s.source_file: s for s in batch_states(con)}
    finally:
        con.close()


def test_the_run_succeeds_and_says_which_files_it_held(several_cities):
    settings, result, _ = several_cities
    assert result.success, [e.message for e in result.all_events if e.is_failure]
    by_file = states(settings)
    assert by_file[DUPLICATE_IDS].state == "held"
    assert "expect_column_values_to_be_unique(call_id)" in by_file[DUPLICATE_IDS].reason
    # GX counts every row of a repeated value: ten ids on two rows each
    assert "20 unexpected of 50" in by_file[DUPLICATE_IDS].reason
    assert by_file[MISSING_COLUMN].state == "refused"
    assert "nature (for call_type)" in by_file[MISSING_COLUMN].reason
    assert by_file[UNMATCHED].state == "unmatched"
    good = [f for f in by_file if f not in (DUPLICATE_IDS, MISSING_COLUMN, UNMATCHED)]
    assert {by_file[f].state for f in good} == {"passed"}
    assert f"milwaukee/{MILWAUKEE_FILE.name}" in good and f"seattle/{SEATTLE_FILE.name}" in good
    # the gate's check says it in the UI: held files, failing with WARN, the run went on
    checks = {
        (e.asset_check_evaluation_data.asset_key.to_user_string(), e.asset_check_evaluation_data.check_name): e
        for e in result.all_events
        if e.event_type_value == "ASSET_CHECK_EVALUATION"
    }
    gate = checks[("raw/calls_for_service", "raw_to_staging_gate")].asset_check_evaluation_data
    assert not gate.passed and gate.severity.value == "WARN"
    assert "held 1 of" in gate.description and DUPLICATE_IDS in gate.description


def test_every_other_city_is_built_and_published(several_cities):
    settings, _, _ = several_cities
    con = open_serving(load_serving_config(settings.warehouse_path).serving_file)
    try:
        published = dict(
            con.execute("SELECT source_profile, sum(calls) FROM marts.mart_service_demand GROUP BY 1").fetchall()
        )
        held = con.execute("SELECT count(*) FROM serving.city_publication").fetchone()[0]
    finally:
        con.close()
    _, seattle_rows = csv_rows(SEATTLE_FILE)
    assert published["seattle_cfs"] == len(seattle_rows) == 222  # a one-beat city with tiny months
    assert published["milwaukee_cfs"] == 33_968 - 4_939  # its 4,939 unit status events are not calls
    assert published["demo_city_calls"] == 6_000
    assert held == 0  # no city was held back


def test_counts_reconcile_file_to_raw_to_staging_for_passed_batches(several_cities):
    settings, _, _ = several_cities
    con = duckdb.connect(str(settings.warehouse_path), read_only=True)
    try:
        for s in batch_states(con, "state = 'passed' AND source = 'calls_for_service'"):
            _, rows = csv_rows(settings.landing_dir / s.source_file)
            assert s.rows_read == len(rows) == s.rows_landed + s.rows_quarantined, s.source_file
            staged = con.execute(
                "SELECT count(*) FROM staging.stg_calls_for_service WHERE batch_id = ?", [s.batch_id]
            ).fetchone()[0]
            distinct = con.execute(
                "SELECT count(DISTINCT call_id) FROM raw.calls_for_service WHERE _batch_id = ?", [s.batch_id]
            ).fetchone()[0]
            assert staged == distinct, s.source_file
    finally:
        con.close()


def test_held_rows_are_in_no_mart(several_cities):
    settings, _, unit_rows = several_cities
    ids = sorted({r[0] for r in unit_rows})
    con = duckdb.connect(str(settings.warehouse_path), read_only=True)
    try:
        assert con.execute("SELECT count(*) FROM raw.calls_for_service WHERE call_id IN ?", [ids]).fetchone()[0] == 50
        for table in (
            "staging.stg_calls_for_service",
            "intermediate.int_calls_classified",
            "marts.fct_calls_for_service",
        ):
            n = con.execute(f"SELECT count(*) FROM {table} WHERE call_id IN ?", [ids]).fetchone()[0]
            assert n == 0, table
    finally:
        con.close()


def test_the_report_lists_the_files_kept_out(several_cities):
    from orchestration.report.config import load_report_config

    settings, _, _ = several_cities
    page = (load_report_config(settings.warehouse_path).report_dir / "index.html").read_text()
    kept_out = page[page.index("Files held back") :]
    for file in (DUPLICATE_IDS, MISSING_COLUMN, UNMATCHED):
        assert file in kept_out
    assert "held by a quality gate" in kept_out and "no source profile matches it" in kept_out


def test_a_city_with_arrival_times_but_too_few_a_month_is_told_apart_from_one_without_times(several_cities):
    """Seattle's one-beat extract records 186 arrivals, but at most 9 timed calls from the public in
    any month (counted by hand from the file): its response times are not available for that reason,
    not for want of times; Milwaukee records no arrival at all."""
    from orchestration.report.config import load_report_config

    settings, _, _ = several_cities
    page = (load_report_config(settings.warehouse_path).report_dir / "index.html").read_text()
    section = page[page.index('id="response-times"') :].split("</section>")[0]

    def city(name: str) -> str:
        return section[section.index(f"<h3>{name}</h3>") :].split("<h3>")[1]

    assert "it records arrival times, but no month has 11 or more timed calls" in city("Seattle")
    assert "records when a call was received but not when a unit was dispatched or arrived" in city("Milwaukee")
