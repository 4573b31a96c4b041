"""Quality gates in the pipeline: for each gate and each kind of break, the check fails, the asset
downstream is not materialised and the alert reaches a real webhook with the right fields; on
the demo city every gate passes.

Break runs use a small demo city (scale 0.02) and only the extracts a case needs: a raw gate that
fails stops the run before dbt, so each break costs landing plus the gates, a few seconds.
"""

from __future__ import annotations

import csv
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest
from dagster import AssetCheckKey, AssetKey, AssetSelection, Definitions, define_asset_job

from orchestration.landing.canonical import CANONICAL_SOURCES
from orchestration.ledger.store import batch_states
from orchestration.serving.config import load_serving_config
from orchestration.serving.serving_copy import open_serving

from .conftest import TEST_SEED, make_settings, run_pipeline
from .support.ledger import SEATTLE_FILE
from .test_alerts_support import http_receiver  # noqa: F401 (fixture)

SMALL = 0.02
# how GX's Data Docs mark a failed validation: on its page, and on a row of the index
GX_PAGE_FAILED = re.compile(r"Status:</span>\s*<i [^>]*></i>\s*Failed")
GX_INDEX_FAILED = "'_validation_success_text': 'Failed'"
WEBHOOK = "/gates"
RAW_KEYS = [AssetKey(["raw", s]) for s in CANONICAL_SOURCES] + [AssetKey(["raw", "quarantine"])]
SOURCE_PATHS = {
    "calls_for_service": "calls_for_service",
    "incidents": "incidents",
    "stops": "stops",
    "service_requests": "service_requests",
    "budget": "budget.csv",
    "survey_responses": "survey_responses.csv",
    "areas": "areas.csv",
}


# ---------------------------------------------------------------------------------------------
# helpers


def read_csv(path: Path) -> tuple[list[str], list[dict]]:
    with path.open(newline="") as fh:
        reader = csv.DictReader(fh)
        return list(reader.fieldnames), list(reader)


def write_csv(path: Path, header: list[str], rows: list[dict]) -> None:
    with path.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=header)
        writer.writeheader()
        writer.writerows(rows)


def edit_csv(path: Path, edit) -> list[dict]:
    """Apply ``edit(rows) -> rows`` to an extract; returns the rows written."""
    header, rows = read_csv(path)
    rows = edit(rows)
    write_csv(path, header, rows)
    return rows


def gates(result) -> dict[str, object]:
    """Gate evaluations by asset ("raw/calls_for_service")."""
    return {
        e.asset_key.to_user_string(): e for e in result.get_asset_check_evaluations() if e.check_name.endswith("_gate")
    }


def materialised(result) -> set[str]:
    return {e.asset_key.to_user_string() for e in result.get_asset_materialization_events()}


def failed_expectations(evaluation) -> dict[str, int]:
    """Failed expectation -> unexpected count, from the check's metadata."""
    return {label: f["unexpected"] for label, f in evaluation.metadata["failures"].value.items()}


@pytest.fixture(scope="session")
def small_city(tmp_path_factory) -> Path:
    """The demo city's extracts at scale 0.02, written once; each test copies what it needs."""
    from orchestration.demo_city.generator import generate

    root = tmp_path_factory.mktemp("gates_small_city")
    settings = make_settings(root, scale=SMALL)
    generate(settings.demo_dir, SMALL, TEST_SEED, progress=lambda _m: None)
    return settings.demo_dir


def city_with(small_city: Path, root: Path, sources: list[str]):
    """Settings for a fresh warehouse whose landing folder holds the areas and the given sources."""
    settings = make_settings(root, scale=SMALL)
    settings.demo_dir.mkdir(parents=True)
    for source in dict.fromkeys(["areas", *sources]):
        src = small_city / SOURCE_PATHS[source]
        (shutil.copytree if src.is_dir() else shutil.copy)(src, settings.demo_dir / SOURCE_PATHS[source])
    return settings


@pytest.fixture
def alerts_on(http_receiver, monkeypatch):  # noqa: F811
    monkeypatch.setenv("PSW_ALERT_WEBHOOK_URL", http_receiver.url(WEBHOOK))
    monkeypatch.setenv("PSW_DAGSTER_BASE_URL", "http://dagster.example:3000")
    for name in ("PSW_ALERT_SLACK_WEBHOOK_URL", "PSW_ALERT_SMTP_HOST", "PSW_ALERT_ON_WARN"):
        monkeypatch.delenv(name, raising=False)
    return http_receiver


# ---------------------------------------------------------------------------------------------
# raw -> staging: one case per kind of break


@dataclass
class Break:
    id: str
    source: str
    expectation: str  # the failing expectation's label
    edit: object  # edit(demo_dir) -> (expected unexpected count, expected file or None, an id in the sample or None)
    gate: str = ""
    after_landing: str | None = None  # SQL run on the warehouse after a first, clean landing
    table_break: bool = False  # the raw table itself is broken (not a file): staging cannot build

    @property
    def asset(self) -> str:
        """The suite whose expectation breaks."""
        return self.gate or f"raw/{self.source}"

    @property
    def holding_gate(self) -> str:
        """The gate that holds the file: its source's (which runs the quarantine suite on it too)."""
        return f"raw/{self.source}"

    @property
    def downstream(self) -> str:
        return f"staging/stg_{self.source}"


def duplicate_ids(d: Path):
    path = d / "calls_for_service" / "calls_for_service_2025-03.csv"
    rows = edit_csv(path, lambda rows: rows + rows[:3])
    return 6, path.name, rows[0]["incident_number"]


def cleared_before_received(d: Path):
    from datetime import datetime, timedelta

    path = d / "calls_for_service" / "calls_for_service_2025-04.csv"

    def edit(rows):
        for row in rows[:20]:
            received = datetime.strptime(row["time_received"], "%Y-%m-%dT%H:%M:%S")
            row["time_cleared"] = (received - timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M:%S")
        return rows

    rows = edit_csv(path, edit)
    return 20, path.name, rows[0]["incident_number"]


def swapped_coordinates(d: Path):
    path = d / "calls_for_service" / "calls_for_service_2025-05.csv"

    def edit(rows):
        for row in rows:
            row["lat"], row["lon"] = row["lon"], row["lat"]
        return rows

    rows = edit_csv(path, edit)
    return sum(1 for r in rows if r["lat"]), path.name, rows[0]["incident_number"]


def unknown_priority(d: Path):
    path = d / "calls_for_service" / "calls_for_service_2025-06.csv"

    def edit(rows):
        for row in rows[:5]:
            row["priority"] = "9"
        return rows

    rows = edit_csv(path, edit)
    return 5, path.name, rows[0]["incident_number"]


def truncated_extract(d: Path):
    header, rows = read_csv(d / "calls_for_service" / "calls_for_service_2025-12.csv")
    short = [dict(r, incident_number=f"X{i}") for i, r in enumerate(rows[:3])]
    path = d / "calls_for_service" / "calls_for_service_2026-01.csv"
    write_csv(path, header, short)
    return 1, path.name, None  # one load out of band: that file is held


def occurred_after_reported(d: Path):
    path = d / "incidents" / "incidents_2025-02.csv"

    def edit(rows):
        for row in rows:
            row["reported_date"], row["occurred_date"] = row["occurred_date"], row["reported_date"]
        return rows

    rows = edit_csv(path, edit)
    moved = sum(1 for r in rows if r["reported_date"] != r["occurred_date"])
    return moved, path.name, rows[0]["report_no"]


def unknown_outcome(d: Path):
    path = d / "stops" / "stops_2025-09.csv"

    def edit(rows):
        for row in rows[:4]:
            row["outcome"] = "jailed"
        return rows

    rows = edit_csv(path, edit)
    return 4, path.name, rows[0]["stop_id"]


def closed_before_created(d: Path):
    from datetime import datetime, timedelta

    path = d / "service_requests" / "service_requests_2025-10.csv"

    def edit(rows):
        for row in rows:
            if row["closed_date"]:
                created = datetime.strptime(row["created_date"], "%Y-%m-%d %H:%M:%S")
                row["closed_date"] = (created - timedelta(days=1)).strftime("%Y-%m-%d %H:%M:%S")
        return rows

    rows = edit_csv(path, edit)
    return sum(1 for r in rows if r["closed_date"]), path.name, None


def negative_spend(d: Path):
    def edit(rows):
        rows[2]["actual_spend"] = "-125000.00"
        return rows

    rows = edit_csv(d / "budget.csv", edit)
    return 1, "budget.csv", rows[2]["line_id"]


def likert_out_of_scale(d: Path):
    def edit(rows):
        for row in rows[:3]:
            row["q3_trust_police"] = "7"
        return rows

    rows = edit_csv(d / "survey_responses.csv", edit)
    return 3, "survey_responses.csv", rows[0]["response_id"]


def inverted_beat_box(d: Path):
    def edit(rows):
        rows[0]["min_latitude"], rows[0]["max_latitude"] = rows[0]["max_latitude"], rows[0]["min_latitude"]
        return rows

    rows = edit_csv(d / "areas.csv", edit)
    return 1, "areas.csv", rows[0]["beat"]


def mostly_unreadable_times(d: Path):
    path = d / "calls_for_service" / "calls_for_service_2025-07.csv"

    def edit(rows):
        for row in rows[:12]:
            row["time_received"] = "yesterday evening"
        return rows

    edit_csv(path, edit)
    return 1, path.name, None  # one file over the quarantine limit: that file is held


def nothing(_d: Path):
    return 1, None, None


RAW_BREAKS = [
    Break("duplicate_ids", "calls_for_service", "expect_column_values_to_be_unique(call_id)", duplicate_ids),
    Break(
        "timestamps_out_of_order",
        "calls_for_service",
        "expect_column_pair_values_a_to_be_greater_than_b(cleared_at >= received_at)",
        cleared_before_received,
    ),
    Break(
        "coordinates_outside_city",
        "calls_for_service",
        "expect_column_values_to_be_between(latitude)",
        swapped_coordinates,
    ),
    Break(
        "unknown_priority_code", "calls_for_service", "expect_column_values_to_be_in_set(priority)", unknown_priority
    ),
    Break(
        "volume_out_of_band",
        "calls_for_service",
        "unexpected_rows_expectation(volume_within_band_of_recent_loads)",
        truncated_extract,
    ),
    Break(
        "required_column_missing",
        "calls_for_service",
        "expect_table_columns_to_match_set",
        nothing,
        after_landing="ALTER TABLE raw.calls_for_service DROP COLUMN priority",
        table_break=True,
    ),
    Break(
        "required_value_missing",
        "calls_for_service",
        "expect_column_values_to_not_be_null(call_id)",
        nothing,
        after_landing="INSERT INTO raw.calls_for_service BY NAME "
        "SELECT * REPLACE (NULL AS call_id) FROM raw.calls_for_service LIMIT 1",
    ),
    Break(
        "timestamp_does_not_parse",
        "calls_for_service",
        "expect_column_values_to_match_strftime_format(received_at)",
        nothing,
        after_landing="INSERT INTO raw.calls_for_service BY NAME "
        "SELECT * REPLACE ('31/12/2025 10:00' AS received_at, 'Z1' AS call_id) FROM raw.calls_for_service LIMIT 1",
    ),
    Break(
        "offence_reported_before_it_occurred",
        "incidents",
        "expect_column_pair_values_a_to_be_greater_than_b(reported_at >= occurred_at)",
        occurred_after_reported,
    ),
    Break("unknown_stop_outcome", "stops", "expect_column_values_to_be_in_set(outcome)", unknown_outcome),
    Break(
        "request_closed_before_created",
        "service_requests",
        "expect_column_pair_values_a_to_be_greater_than_b(closed_at >= created_at)",
        closed_before_created,
    ),
    Break("negative_spend", "budget", "expect_column_values_to_be_between(actual)", negative_spend),
    Break(
        "likert_answer_out_of_scale",
        "survey_responses",
        "expect_column_values_to_be_between(trust_police)",
        likert_out_of_scale,
    ),
    Break(
        "beat_box_inverted",
        "areas",
        "expect_column_pair_values_a_to_be_greater_than_b(max_latitude > min_latitude)",
        inverted_beat_box,
    ),
    Break(
        "file_mostly_quarantined",
        "calls_for_service",
        "unexpected_rows_expectation(quarantined_share_of_each_file_at_most_5_percent)",
        mostly_unreadable_times,
        gate="raw/quarantine",
    ),
]


def ledger(settings) -> dict[str, str]:
    """File -> its batch's state in the ledger."""
    con = duckdb.connect(str(settings.warehouse_path), read_only=True)
    try:
        return {s.source_file: s.state for s in batch_states(con)}
    finally:
        con.close()


@pytest.mark.parametrize("case", RAW_BREAKS, ids=[c.id for c in RAW_BREAKS])
def test_a_raw_gate_holds_the_broken_file_and_alerts(case: Break, small_city, tmp_path, alerts_on, monkeypatch):
    settings = city_with(small_city, tmp_path, [case.source])
    expected, broken_file, broken_id = case.edit(settings.demo_dir)
    if case.after_landing:
        clean = run_pipeline(settings, selection=RAW_KEYS)
        assert all(e.passed for e in gates(clean).values()), "the extracts land cleanly before the break"
        con = duckdb.connect(str(settings.warehouse_path))
        con.execute(case.after_landing)
        con.close()
        monkeypatch.setenv("PSW_GATES_FULL", "1")  # the files were judged already: judge them again

    result = run_pipeline(settings)

    if not case.table_break:
        assert result.success, [e.message for e in result.all_events if e.is_failure]  # the run goes on
    evaluations = gates(result)
    gate = evaluations[case.holding_gate]
    assert not gate.passed and gate.severity.value == "WARN"
    failed = failed_expectations(gate)
    assert case.expectation in failed, failed
    assert failed[case.expectation] == expected
    assert gate.metadata["expectations_evaluated"].value >= 1
    assert gate.metadata["failing_sample"].value  # the failing rows are shown
    if broken_id:
        assert broken_id in gate.metadata["failing_sample"].value
    states = ledger(settings)
    source_files = {f: st for f, st in states.items() if f.startswith(f"demo_city/{SOURCE_PATHS[case.source]}")}
    held = {f for f, st in source_files.items() if st == "held"}
    if broken_file:  # that file is held, and the source's other files passed
        assert [Path(f).name for f in held] == [broken_file]
        assert broken_file in gate.metadata["verdicts"].value and broken_file in gate.description
        assert set(source_files.values()) == {"held", "passed"} or len(source_files) == 1
    elif case.table_break:  # nothing says which file: every file the gate judged is held
        assert held == set(source_files)
    else:  # a row put into one landed file: that file is held
        assert len(held) == 1 and len(source_files) > 1
    # no other gate held anything: the break held back only its own files
    others = [
        a
        for a, e in evaluations.items()
        if a != case.holding_gate and "files_held" in e.metadata and e.metadata["files_held"].value
    ]
    assert others == []
    if case.table_break:  # the raw table itself lost a column: staging cannot be built from it at all
        assert not result.success and held and case.downstream not in materialised(result)
        return
    # staging was built, from the passed files only
    done = materialised(result)
    assert case.downstream in done and "serving/warehouse_serving" in done
    con = duckdb.connect(str(settings.warehouse_path), read_only=True)
    held_ids = [b for b, st in ((s.batch_id, s.state) for s in batch_states(con)) if st == "held"]
    staged = con.execute(f"SELECT count(*) FROM staging.stg_{case.source} WHERE batch_id IN ?", [held_ids]).fetchone()
    con.close()
    assert staged[0] == 0

    # one alert from the raw gates (a city of one source also has empty marts, which their gates hold)
    alerts = [a for a in alerts_on.bodies(WEBHOOK, run_id=result.run_id) if a["asset"].startswith("raw/")]
    assert len(alerts) == 1
    alert = alerts[0]
    assert alert["event"] == "gate_held" and alert["severity"] == "HELD"
    assert alert["asset"] == case.holding_gate and alert["check"] == "raw_to_staging_gate"
    assert alert["run_url"] == f"http://dagster.example:3000/runs/{result.run_id}"
    counts = [f["unexpected_count"] for f in alert["failures"] if f["expectation"].endswith(case.expectation)]
    assert max(counts) == expected
    assert alert["counts"]["held"] == len(held)
    if broken_file:
        assert any(broken_file in f for a in alert["failures"] for f in a["files"])
    # GX's Data Docs page of the failed validation says so
    page = Path(gate.metadata["data_docs"].value)
    assert page.exists() and GX_PAGE_FAILED.search(page.read_text())


def test_the_raw_breaks_cover_every_raw_gate():
    from orchestration.checks.suites import load_suites

    raw_gates = {"/".join(s.asset_path) for s in load_suites() if s.boundary == "raw_to_staging"}
    assert {c.asset for c in RAW_BREAKS} == raw_gates


# ---------------------------------------------------------------------------------------------
# the demo city passes


@pytest.fixture(scope="session")
def small_city_run(small_city, tmp_path_factory, http_receiver):  # noqa: F811
    """The whole small demo city through the whole job, with alerts on: the clean baseline."""
    import os

    root = tmp_path_factory.mktemp("gates_clean_run")
    settings = make_settings(root, scale=SMALL)
    shutil.copytree(small_city, settings.demo_dir)
    os.environ["PSW_ALERT_WEBHOOK_URL"] = http_receiver.url("/clean")
    try:
        result = run_pipeline(settings)
    finally:
        del os.environ["PSW_ALERT_WEBHOOK_URL"]
    return settings, result


def test_every_gate_passes_on_the_small_demo_city_and_serving_is_published(small_city_run, http_receiver):  # noqa: F811
    settings, result = small_city_run
    assert result.success, [e.message for e in result.all_events if e.is_failure]
    evaluations = gates(result)
    expected = {f"raw/{s}" for s in CANONICAL_SOURCES} | {
        "raw/quarantine",
        "marts/fct_calls_for_service",
        "marts/mart_service_demand",
        "marts/mart_classification_coverage",
    }
    assert expected <= set(evaluations)
    # the boundary gate (polygons, not a GX suite) judged the demo city's beat and tract files
    boundaries = evaluations.pop("raw/area_boundaries")
    assert boundaries.check_name == "boundaries_gate" and boundaries.passed
    assert boundaries.metadata["files_judged"].value >= 2
    for asset, evaluation in evaluations.items():
        assert evaluation.passed, (asset, evaluation.metadata.get("failed_expectations"))
        assert evaluation.metadata["expectations_evaluated"].value >= 3, asset
        assert "skipped" not in evaluation.metadata or asset.startswith("marts/"), asset
    assert "serving/warehouse_serving" in materialised(result)
    assert http_receiver.bodies("/clean") == []  # nothing failed, nobody was paged
    index = (settings.warehouse_path.parent / "data_docs" / "index.html").read_text()
    assert GX_INDEX_FAILED not in index and "raw_to_staging.calls_for_service" in index


def test_every_gate_passes_on_the_demo_city_at_test_scale(demo_city):
    """The shared session run: the demo city at half scale with Milwaukee's real extract beside it.
    Nothing blocks; the only warning is Milwaukee's mis-geocoded calls."""
    _settings, _truth, result = demo_city
    evaluations = gates(result)
    assert len(evaluations) >= 12
    assert [a for a, e in evaluations.items() if not e.passed and e.severity.value == "ERROR"] == []
    warned = {a: e for a, e in evaluations.items() if not e.passed}
    assert set(warned) <= {"raw/calls_for_service"}
    for evaluation in warned.values():
        failures = evaluation.metadata["failures"].value
        assert {f["severity"] for f in failures.values()} == {"warning"}
        assert {file for f in failures.values() for file in f["files"]} == {
            "milwaukee/milwaukee_calls_for_service_2018-05.csv"
        }


@pytest.mark.parametrize("alert_on_warn", [False, True], ids=["warnings-quiet", "PSW_ALERT_ON_WARN"])
def test_the_coordinate_gate_warns_but_does_not_block_milwaukee(tmp_path, alerts_on, monkeypatch, alert_on_warn):
    """Milwaukee's real file has ~1.5 % of calls geocoded far outside the city (id 1211471 in Idaho):
    the strict expectation warns with the strays, the 95 % one holds, and staging is built. A warning
    pages nobody, unless PSW_ALERT_ON_WARN asks for it: then one alert names the warning."""
    from .conftest import FIXTURES

    if alert_on_warn:
        monkeypatch.setenv("PSW_ALERT_ON_WARN", "yes")
    settings = make_settings(tmp_path, scale=SMALL)
    (settings.landing_dir / "milwaukee").mkdir(parents=True)
    shutil.copy(FIXTURES / "milwaukee" / "milwaukee_calls_for_service_2018-05.csv", settings.landing_dir / "milwaukee")
    # stg_areas too: the staging tests check the calls' beats against it
    selection = [["raw", "calls_for_service"], ["raw", "areas"], ["staging", "stg_calls_for_service"]]
    result = run_pipeline(settings, selection=[AssetKey(k) for k in [*selection, ["staging", "stg_areas"]]])
    assert result.success
    gate = gates(result)["raw/calls_for_service"]
    assert not gate.passed and gate.severity.value == "WARN"
    counts = gate.metadata["unexpected_counts"].value
    assert counts["expect_column_values_to_be_between(latitude) [warning]"] > 400
    assert gate.metadata["expectations_failed_critical"].value == 0
    sample = gate.metadata["failing_sample"].value
    assert "1211471" in sample and "47.3744541" in sample
    assert "staging/stg_calls_for_service" in materialised(result)
    sent = alerts_on.bodies(WEBHOOK, run_id=result.run_id)
    if not alert_on_warn:
        assert sent == []  # a warning does not page anyone by default
        return
    assert [(b["event"], b["severity"], b["asset"]) for b in sent] == [("gate_warned", "WARN", "raw/calls_for_service")]
    failure = {f["expectation"]: f for f in sent[0]["failures"]}
    assert failure["expect_column_values_to_be_between(latitude) [warning]"]["unexpected_count"] > 400


# ---------------------------------------------------------------------------------------------
# marts -> serving


def gate_then_serve(settings, mart: str):
    """The mart's gate and the serving assets, on the warehouse as it is (dbt does not run)."""
    from orchestration.definitions import build_definitions

    check = AssetCheckKey(AssetKey(["marts", mart]), "marts_to_serving_gate")
    job = define_asset_job("gate_then_serve", selection=AssetSelection.checks(check) | AssetSelection.groups("serving"))
    defs = Definitions.merge(build_definitions(settings), Definitions(jobs=[job]))
    from dagster import DagsterInstance

    from orchestration.automation.run_alerts import execute_with_alerts

    with DagsterInstance.ephemeral() as instance:
        return execute_with_alerts(
            defs.resolve_job_def("gate_then_serve"),
            instance,
            raise_on_error=False,
            run_config={"loggers": {"console": {"config": {"log_level": "WARNING"}}}},
        )[0]


def serving_downstream_of(settings, mart: str) -> set[str]:
    """The serving assets that read the mart (directly or through another asset)."""
    from orchestration.definitions import build_definitions

    graph = build_definitions(settings).resolve_asset_graph()
    below = AssetSelection.assets(AssetKey(["marts", mart])).downstream().resolve(graph)
    return {k.to_user_string() for k in below if k.path[0] == "serving"}


@dataclass
class MartBreak:
    id: str
    mart: str
    expectation: str
    sql: str
    expected: int


# fct_calls_for_service is a view of int_calls_classified: its breaks are made in the stored rows.
MART_BREAKS = [
    MartBreak(
        "negative_duration",
        "fct_calls_for_service",
        "expect_column_values_to_be_between(time_on_call_minutes)",
        "UPDATE intermediate.int_calls_classified SET time_on_call_minutes = -5 "
        "WHERE call_key IN (SELECT call_key FROM marts.fct_calls_for_service ORDER BY call_key LIMIT 3)",
        3,
    ),
    MartBreak(
        "negative_cost",
        "fct_calls_for_service",
        "expect_column_values_to_be_between(estimated_cost)",
        "UPDATE intermediate.int_calls_classified SET estimated_cost = -1 "
        "WHERE call_key IN (SELECT call_key FROM marts.fct_calls_for_service ORDER BY call_key LIMIT 2)",
        2,
    ),
    MartBreak(
        "staged_calls_missing_from_the_fact",
        "fct_calls_for_service",
        "unexpected_rows_expectation(every_staged_call_is_in_the_fact)",
        "DELETE FROM intermediate.int_calls_classified "
        "WHERE call_key IN (SELECT call_key FROM marts.fct_calls_for_service ORDER BY call_key LIMIT 4)",
        4,
    ),
    MartBreak(
        "duplicate_call",
        "fct_calls_for_service",
        "expect_column_values_to_be_unique(call_key)",
        "INSERT INTO intermediate.int_calls_classified SELECT * FROM intermediate.int_calls_classified "
        "ORDER BY call_key LIMIT 1",
        2,
    ),
    MartBreak(
        "shares_do_not_sum_to_one",
        "mart_service_demand",
        "unexpected_rows_expectation(shares_sum_to_one_per_city_and_month)",
        "UPDATE marts.mart_service_demand SET share_of_calls = share_of_calls * 1.5 "
        "WHERE call_month = (SELECT min(call_month) FROM marts.mart_service_demand)",
        1,
    ),
    MartBreak(
        "calls_do_not_reconcile_with_the_fact",
        "mart_service_demand",
        "unexpected_rows_expectation(calls_reconcile_with_the_fact)",
        "UPDATE marts.mart_service_demand SET calls = calls + 1 "
        "WHERE rowid = (SELECT min(rowid) FROM marts.mart_service_demand)",
        1,
    ),
]


def published(settings, sql: str, params=None) -> list[tuple]:
    con = open_serving(load_serving_config(settings.warehouse_path).serving_file)
    try:
        return sorted(con.execute(sql, params or []).fetchall(), key=repr)
    finally:
        con.close()


@pytest.mark.parametrize("case", MART_BREAKS, ids=[c.id for c in MART_BREAKS])
def test_a_mart_gate_holds_the_city_and_keeps_its_last_figures(case: MartBreak, small_city_run, tmp_path, alerts_on):
    clean_settings, clean = small_city_run
    assert clean.success
    settings = make_settings(tmp_path, scale=SMALL)
    settings.warehouse_path.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(clean_settings.warehouse_path, settings.warehouse_path)
    old = load_serving_config(clean_settings.warehouse_path).serving_dir
    shutil.copytree(old, load_serving_config(settings.warehouse_path).serving_dir)
    figures = f"SELECT * FROM marts.{case.mart}"
    before = published(settings, figures)
    con = duckdb.connect(str(settings.warehouse_path))
    con.execute(case.sql)
    con.close()

    result = gate_then_serve(settings, case.mart)

    assert result.success, [e.message for e in result.all_events if e.is_failure]
    gate = gates(result)[f"marts/{case.mart}"]
    assert not gate.passed and gate.severity.value == "WARN"
    failed = failed_expectations(gate)
    assert failed.get(case.expectation) == case.expected, failed
    assert gate.metadata["cities_held"].value == 1 and "demo_city" in gate.description
    # serving was published, and the held city's figures are the ones published before the break
    assert "serving/warehouse_serving" in materialised(result)
    assert published(settings, figures) == before
    (status,) = published(settings, "SELECT city, status FROM serving.city_publication")
    assert status == ("demo_city", "held: last published figures kept")
    (alert,) = alerts_on.bodies(WEBHOOK, run_id=result.run_id)
    assert alert["event"] == "gate_held" and alert["counts"] == {"judged": 1, "held": 1}
    assert alert["asset"] == f"marts/{case.mart}" and alert["check"] == "marts_to_serving_gate"
    counts = {f["expectation"]: f["unexpected_count"] for f in alert["failures"]}
    assert counts[f"demo_city: {case.expectation}"] == case.expected


def test_a_clean_mart_gate_lets_serving_publish(small_city_run, tmp_path):
    """The same job on the untouched warehouse: the gate passes and every city is current (so the
    breaks above are what held the city back)."""
    clean_settings, _ = small_city_run
    settings = make_settings(tmp_path, scale=SMALL)
    settings.warehouse_path.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(clean_settings.warehouse_path, settings.warehouse_path)
    result = gate_then_serve(settings, "fct_calls_for_service")
    assert result.success and gates(result)["marts/fct_calls_for_service"].passed
    assert "serving/warehouse_serving" in materialised(result)
    assert published(settings, "SELECT count(*) FROM serving.city_publication") == [(0,)]


def test_a_city_over_the_unclassified_limit_holds_only_itself(small_city, tmp_path, alerts_on):
    """A month whose call types the taxonomy does not know: raw and staging are fine, the marts are
    built, the coverage gate holds the demo city from publishing, and the real one-beat Seattle
    extract beside it (months of 1 to 9 calls, two of its 222 calls unclassified) is published."""
    settings = city_with(small_city, tmp_path, list(SOURCE_PATHS))
    path = settings.demo_dir / "calls_for_service" / "calls_for_service_2025-08.csv"
    (settings.landing_dir / "seattle").mkdir(parents=True)
    shutil.copy(SEATTLE_FILE, settings.landing_dir / "seattle")

    def edit(rows):
        for row in rows[: int(len(rows) * 0.6)]:
            row["final_type"] = "ZZ NEW CODE"
        return rows

    edit_csv(path, edit)
    result = run_pipeline(settings)

    assert result.success, [e.message for e in result.all_events if e.is_failure]
    evaluations = gates(result)
    assert all(e.passed for a, e in evaluations.items() if a.startswith("raw/") and a != "raw/calls_for_service")
    gate = evaluations["marts/mart_classification_coverage"]
    assert not gate.passed and gate.severity.value == "WARN"
    failed = failed_expectations(gate)
    assert failed["unexpected_rows_expectation(unclassified_share_at_most_the_limit)"] == 1  # one month over 20 %
    assert "2025-08" in gate.metadata["failing_sample"].value
    assert "seattle_cfs" not in gate.metadata["failing_sample"].value  # a one-beat city's small months pass
    done = materialised(result)
    assert "marts/mart_classification_coverage" in done and "serving/warehouse_serving" in done
    by_city = dict(published(settings, "SELECT source_profile, sum(calls) FROM marts.mart_service_demand GROUP BY 1"))
    assert by_city == {"seattle_cfs": 222}  # the demo city is withheld (nothing published for it before)
    assert published(settings, "SELECT city, status FROM serving.city_publication") == [
        ("demo_city", "held: withheld (nothing published before)")
    ]
    (alert,) = alerts_on.bodies(WEBHOOK, run_id=result.run_id)
    assert alert["asset"] == "marts/mart_classification_coverage" and alert["counts"]["held"] == 1


def test_tiny_months_are_pooled_not_judged_one_by_one(tmp_path):
    """The coverage gate's rule on one city of small months: a month of 3 calls with one unclassified
    (33 %) is not judged alone, nor in a pool of small months smaller than the minimum."""
    from orchestration.checks.gx_engine import evaluate_suite
    from orchestration.checks.suites import load_suite
    from orchestration.settings import PROJECT_ROOT

    suite = load_suite(PROJECT_ROOT / "expectations" / "marts_to_serving" / "mart_classification_coverage.yaml")
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    con.execute("CREATE SCHEMA marts")
    con.execute(
        "CREATE TABLE marts.mart_classification_coverage AS SELECT * FROM (VALUES "
        "('tiny', DATE '2020-01-01', 3, 1, 3.0, 1.0), ('tiny', DATE '2020-02-01', 57, 0, 40.0, 0.0), "
        "('big', DATE '2020-01-01', 100, 30, 90.0, 20.0)) "
        "t(source_profile, call_month, calls, unclassified_calls, officer_hours, unclassified_officer_hours)"
    )
    con.execute(
        "CREATE VIEW marts.fct_calls_for_service AS SELECT source_profile, call_month FROM "
        "marts.mart_classification_coverage, range(calls)"
    )
    con.execute(
        "ALTER TABLE marts.mart_classification_coverage ADD COLUMN unclassified_share DOUBLE; "
        "UPDATE marts.mart_classification_coverage SET unclassified_share = unclassified_calls / calls; "
        "ALTER TABLE marts.mart_classification_coverage ADD COLUMN unclassified_hours_share DOUBLE; "
        "UPDATE marts.mart_classification_coverage "
        "SET unclassified_hours_share = unclassified_officer_hours / officer_hours"
    )
    con.close()  # GX opens the file itself
    outcome = evaluate_suite(tmp_path / "w.duckdb", suite)
    limit = next(
        o for o in outcome.outcomes if o.expectation.meta.get("name") == "unclassified_share_at_most_the_limit"
    )
    assert [b["batch"] for b in limit.failing_batches] == ["big"]  # 30 % of 100 calls: judged and over
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    # judged as 1 of 3 the tiny city would fail; pooled it is 1 of 60, and its 57-call month is 0 of 57
    con.execute("UPDATE marts.mart_classification_coverage SET calls = 50, unclassified_calls = 20 WHERE calls = 57")
    con.execute("UPDATE marts.mart_classification_coverage SET unclassified_share = unclassified_calls / calls")
    con.close()
    outcome = evaluate_suite(tmp_path / "w.duckdb", suite)
    limit = next(
        o for o in outcome.outcomes if o.expectation.meta.get("name") == "unclassified_share_at_most_the_limit"
    )
    assert sorted(b["batch"] for b in limit.failing_batches) == ["big", "tiny"]  # a real share over 20 % (20/50)
