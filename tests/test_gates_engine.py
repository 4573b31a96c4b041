"""The gate engine is Great Expectations: suites are valid GX suites, GX's SQL datasource gives the
right unexpected counts on DuckDB with the one fix (and none without it), each expectation type
fails on the rows that break it, ``mostly`` is judged by GX per landed file, parameters differ per
profile (GX expectation parameters), samples carry file and line, and the SQL route agrees with
GX's own pandas engine on the same rows."""

from __future__ import annotations

import duckdb
import pytest

from orchestration.checks.gates import build_gates
from orchestration.checks.gx_engine import evaluate_suite as evaluate_on_file
from orchestration.checks.suites import EXPECTATIONS_DIR, SuiteError, load_suites, parse_suite

RAW_COLUMNS = "call_id VARCHAR, received_at VARCHAR, cleared_at VARCHAR, beat VARCHAR, latitude VARCHAR, "
RAW_COLUMNS += "longitude VARCHAR, priority VARCHAR, _batch_id VARCHAR, _source_file VARCHAR, _row_number BIGINT, "
RAW_COLUMNS += "_source_profile VARCHAR"


def suite(expectations: list[dict], parameters: dict | None = None, **gate) -> object:
    return parse_suite(
        {
            "name": "raw_to_staging.test",
            "meta": {
                "gate": {
                    "asset": "raw/calls",
                    "table": "raw.calls",
                    "batch_by": "_batch_id",
                    "profile_column": "_source_profile",
                    "show": ["_source_file", "_row_number", "call_id"],
                    **gate,
                },
                "parameters": parameters or {},
            },
            "expectations": expectations,
        },
        boundary="raw_to_staging",
    )


class Warehouse:
    """A DuckDB file for GX to read: each statement in its own connection, closed before GX opens it."""

    def __init__(self, path):
        self.path = path

    def execute(self, sql: str, params=None):
        with duckdb.connect(str(self.path)) as c:
            c.execute(sql, params or [])

    def executemany(self, sql: str, rows):
        with duckdb.connect(str(self.path)) as c:
            c.executemany(sql, rows)


def evaluate_suite(con: Warehouse, suite, **kw):
    return evaluate_on_file(con.path, suite, **kw)


@pytest.fixture
def con(tmp_path):
    warehouse = Warehouse(tmp_path / "warehouse.duckdb")
    warehouse.execute("CREATE SCHEMA raw")
    warehouse.execute(f"CREATE TABLE raw.calls ({RAW_COLUMNS})")
    return warehouse


def add(con, rows: list[tuple]) -> None:
    con.executemany("INSERT INTO raw.calls VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)


def call(i, batch="b1", profile="city_a", received="2025-01-01 10:00:00", cleared="2025-01-01 11:00:00", **kw):
    return (
        kw.get("call_id", f"C{i}"),
        received,
        cleared,
        kw.get("beat", "1A"),
        kw.get("lat", "41.85"),
        kw.get("lon", "-87.70"),
        kw.get("priority", "2"),
        batch,
        f"{batch}.csv",
        i + 1,
        profile,
    )


def only(outcome):
    assert len(outcome.outcomes) == 1
    return outcome.outcomes[0]


def test_every_suite_file_is_a_valid_gx_suite_and_names_its_asset():
    from great_expectations.core import ExpectationSuite
    from great_expectations.expectations.expectation_configuration import ExpectationConfiguration

    suites = load_suites()
    assert {s.name for s in suites} >= {
        "raw_to_staging.calls_for_service",
        "raw_to_staging.quarantine",
        "marts_to_serving.mart_service_demand",
        "marts_to_serving.mart_kpi_scorecard",
    }
    for s in suites:
        gx_suite = ExpectationSuite(**s.to_gx_dict())
        assert len(gx_suite.expectations) == len(s.expectations), s.name
        for e in s.expectations:
            # builds the GX expectation class: kwargs are checked by GX itself
            ExpectationConfiguration(**e.to_gx_dict()).to_domain_obj()
        assert s.asset_path[0] == s.schema, f"{s.path}: the asset and the table should be in the same layer"


def test_a_suite_with_an_unknown_expectation_type_is_refused_naming_file_and_position(tmp_path):
    with pytest.raises(SuiteError, match=r"expectation 2: type 'expect_column_to_be_nice' is not supported"):
        parse_suite(
            {
                "name": "x",
                "meta": {"gate": {"asset": "raw/calls", "table": "raw.calls"}},
                "expectations": [
                    {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "a"}},
                    {"type": "expect_column_to_be_nice", "kwargs": {}},
                ],
            },
            path=tmp_path / "raw_to_staging" / "x.yaml",
        )


def test_not_null_and_unique_are_judged_per_file(con):
    # the same id in two files is a correction (allowed); twice in one file is not
    add(con, [call(0), call(1), call(2, batch="b2", call_id="C0"), call(3, batch="b2", call_id="C9")])
    add(con, [call(4, batch="b2", call_id="C9"), call(5, batch="b2", call_id=None)])
    out = evaluate_suite(
        con,
        suite(
            [
                {"type": "expect_column_values_to_be_unique", "kwargs": {"column": "call_id"}},
                {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "call_id"}},
            ]
        ),
    )
    unique, not_null = out.outcomes
    assert not unique.success and unique.unexpected_count == 2
    assert [b["file"] for b in unique.failing_batches] == ["b2.csv"]
    assert {r["_row_number"] for r in unique.sample} == {4, 5}
    assert not not_null.success and not_null.unexpected_count == 1 and not_null.sample[0]["_row_number"] == 6
    assert not out.success


def test_mostly_is_the_share_of_each_file_that_must_pass(con):
    # file b1: 1 bad of 20 (95 %); file b2: 2 bad of 20 (90 %)
    add(con, [call(i, priority="9" if i == 0 else "1") for i in range(20)])
    add(con, [call(i, batch="b2", priority="9" if i < 2 else "1") for i in range(20)])
    exp = {"type": "expect_column_values_to_be_in_set", "kwargs": {"column": "priority", "value_set": ["1", "2"]}}
    strict = only(evaluate_suite(con, suite([exp])))
    assert strict.unexpected_count == 3 and [b["file"] for b in strict.failing_batches] == ["b1.csv", "b2.csv"]
    exp["kwargs"]["mostly"] = 0.95
    loose = only(evaluate_suite(con, suite([exp])))
    assert loose.unexpected_count == 3 and [b["file"] for b in loose.failing_batches] == ["b2.csv"]
    exp["kwargs"]["mostly"] = 0.9
    assert only(evaluate_suite(con, suite([exp]))).success


def test_a_warning_does_not_fail_the_gate_but_is_reported(con):
    add(con, [call(0, priority="9"), call(1)])
    out = evaluate_suite(
        con,
        suite(
            [
                {
                    "type": "expect_column_values_to_be_in_set",
                    "kwargs": {"column": "priority", "value_set": ["1", "2"]},
                    "severity": "warning",
                }
            ]
        ),
    )
    assert out.success and len(out.failed("warning")) == 1 and out.failed("critical") == []


def test_timestamp_order_and_format(con):
    add(
        con,
        [
            call(0),
            call(1, cleared="2025-01-01 09:00:00"),  # cleared before received
            call(2, cleared=None),  # missing: not judged
            call(3, received="01/01/2025 10:00"),  # not UTC text
        ],
    )
    out = evaluate_suite(
        con,
        suite(
            [
                {
                    "type": "expect_column_pair_values_a_to_be_greater_than_b",
                    "kwargs": {
                        "column_A": "cleared_at",
                        "column_B": "received_at",
                        "or_equal": True,
                        "ignore_row_if": "either_value_is_missing",
                    },
                },
                {
                    "type": "expect_column_values_to_match_strftime_format",
                    "kwargs": {"column": "received_at", "strftime_format": "%Y-%m-%d %H:%M:%S"},
                },
            ]
        ),
    )
    order, fmt = out.outcomes
    assert order.considered == 3 and [r["_row_number"] for r in order.sample] == [2]
    assert fmt.unexpected_count == 1 and fmt.sample[0]["received_at"] == "01/01/2025 10:00"


def test_text_columns_holding_numbers_compare_as_numbers(con):
    """Raw keeps text: '-87.6' < '-87.8' as text, but a beat box's east edge is east of its west edge."""
    con.execute("CREATE TABLE raw.areas (beat VARCHAR, min_longitude VARCHAR, max_longitude VARCHAR)")
    con.executemany(
        "INSERT INTO raw.areas VALUES (?, ?, ?)",
        [("1A", "-87.8", "-87.6"), ("1B", "-87.6", "-87.7"), ("1C", "9", "10")],
    )
    s = parse_suite(
        {
            "name": "raw_to_staging.areas",
            "meta": {"gate": {"asset": "raw/areas", "table": "raw.areas", "show": ["beat"]}},
            "expectations": [
                {
                    "type": "expect_column_pair_values_a_to_be_greater_than_b",
                    "kwargs": {"column_A": "max_longitude", "column_B": "min_longitude"},
                }
            ],
        },
        boundary="raw_to_staging",
    )
    out = only(evaluate_suite(con, s))
    # the sample shows the values GX compared: the typed copies, under their columns' names
    assert out.unexpected_count == 1 and out.sample == [{"beat": "1B", "max_longitude": -87.7, "min_longitude": -87.6}]


BOX = [
    {
        "type": "expect_column_values_to_be_between",
        "kwargs": {
            "column": "latitude",
            "min_value": {"$PARAMETER": "city_min_latitude"},
            "max_value": {"$PARAMETER": "city_max_latitude"},
        },
    }
]


def test_the_city_box_comes_from_the_areas_that_share_the_profiles_beats(con):
    con.execute(
        "CREATE TABLE raw.areas (beat VARCHAR, min_latitude VARCHAR, max_latitude VARCHAR, "
        "min_longitude VARCHAR, max_longitude VARCHAR, _source_profile VARCHAR)"
    )
    con.executemany(
        "INSERT INTO raw.areas VALUES (?, ?, ?, ?, ?, ?)",
        [
            ("1A", "41.80", "41.90", "-87.8", "-87.6", "city_a_areas"),
            ("2B", "41.90", "42.00", "-87.8", "-87.6", "city_a_areas"),
            ("Z1", "10.0", "11.0", "5", "6", "elsewhere_areas"),
        ],
    )
    add(con, [call(0, lat="41.95"), call(1, lat="41.70"), call(2, lat="41.81")])
    # city_b has no beat in any areas file: its coordinates cannot be judged
    add(con, [call(3, batch="b9", profile="city_b", beat=None, lat="0.5")])
    # city_c shares one beat name (1A) out of three with city_a's areas: not the same city
    add(con, [call(4 + i, batch="c1", profile="city_c", beat=b, lat="30.0") for i, b in enumerate(["1A", "7", "8"])])
    out = only(evaluate_suite(con, suite(BOX)))
    assert out.unexpected_count == 1 and out.sample[0]["latitude"] == 41.70  # box is 41.80 .. 42.00
    assert [r.split(":")[0] for r in out.skipped] == ["city_b", "city_c"]
    assert out.skipped[0].startswith("city_b: no value for city_max_latitude") and "raw.areas" in out.skipped[0]


def test_a_box_given_in_the_suite_applies_where_there_are_no_areas(con):
    add(con, [call(0, profile="mke", beat=None, lat="43.05"), call(1, profile="mke", beat=None, lat="47.37")])
    s = suite(BOX, parameters={"by_profile": {"mke": {"city_min_latitude": 42.9, "city_max_latitude": 43.2}}})
    out = only(evaluate_suite(con, s))
    assert out.unexpected_count == 1 and out.sample[0]["latitude"] == 47.37 and out.skipped == []


def test_missing_table_is_skipped_and_says_so_and_missing_column_fails(con):
    s = parse_suite(
        {
            "name": "marts_to_serving.kpi",
            "meta": {"gate": {"asset": "marts/kpi", "table": "marts.kpi"}},
            "expectations": [{"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "value"}}],
        },
        boundary="marts_to_serving",
    )
    out = evaluate_suite(con, s)
    assert out.success and "does not exist yet" in out.skipped_reason and out.evaluated == []
    con.execute("CREATE SCHEMA marts")
    con.execute("CREATE TABLE marts.kpi (kpi VARCHAR, period VARCHAR)")
    out = evaluate_suite(con, s)
    assert not out.success and "value" in only(out).error


def test_the_kpi_scorecard_suite_applies_once_the_table_exists_and_finds_a_missing_period(con):
    kpi_suite = next(s for s in load_suites() if s.name == "marts_to_serving.mart_kpi_scorecard")
    assert evaluate_suite(con, kpi_suite).skipped_reason
    con.execute("CREATE SCHEMA marts")
    con.execute(
        "CREATE TABLE marts.mart_kpi_scorecard (city VARCHAR, kpi VARCHAR, period_grain VARCHAR, period VARCHAR, "
        "value DOUBLE, target DOUBLE, status VARCHAR, note VARCHAR)"
    )
    rows = [
        ("demo", k, "month", p, 1.0, 1.0, "on track", None) for k in ("calls", "trust") for p in ("2025-01", "2025-02")
    ]
    rows += [("demo", "cost", "fiscal_year", "FY2024", None, 1.0, "no data", "no calls loaded for this year")]
    con.executemany("INSERT INTO marts.mart_kpi_scorecard VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows)
    assert evaluate_suite(con, kpi_suite).success  # an empty value with its reason is fine
    con.execute("DELETE FROM marts.mart_kpi_scorecard WHERE kpi = 'trust' AND period = '2025-02'")
    con.execute("UPDATE marts.mart_kpi_scorecard SET value = NULL WHERE kpi = 'calls' AND period = '2025-01'")
    failed = {o.expectation.meta.get("name"): o for o in evaluate_suite(con, kpi_suite).failed()}
    assert failed["a_kpi_row_for_every_period"].sample == [
        {"city": "demo", "kpi": "trust", "missing_period": "2025-02"}
    ]
    no_reason = failed["a_kpi_value_for_every_period_or_a_reason"]
    assert no_reason.unexpected_count == 1 and no_reason.sample[0]["period"] == "2025-01"
    assert set(failed) == {"a_kpi_row_for_every_period", "a_kpi_value_for_every_period_or_a_reason"}


def test_a_gate_is_attached_only_to_assets_in_the_graph():
    from dagster import AssetKey

    suites = load_suites()
    keys = {AssetKey(["raw", "calls_for_service"]), AssetKey(["marts", "mart_kpi_scorecard"])}
    checks = build_gates(keys, suites)
    names = {k.to_user_string() for c in checks for k in c.check_keys}
    assert names == {
        "raw/calls_for_service:raw_to_staging_gate",
        "marts/mart_kpi_scorecard:marts_to_serving_gate",
    }


# ---------------------------------------------------------------------------------------------
# Parity with Great Expectations' own engine

PARITY_ROWS = [
    # call_id, received, cleared, lat, priority, batch
    ("A1", "2025-01-01 10:00:00", "2025-01-01 11:00:00", 41.85, "1", "b1"),
    ("A1", "2025-01-01 12:00:00", "2025-01-01 11:00:00", 41.85, "2", "b1"),
    ("A3", "2025-01-02 10:00:00", None, 47.10, "7", "b1"),
    ("A4", None, "2025-01-02 10:00:00", None, "1", "b1"),
    ("A5", "2025-01-03 10:00:00", "2025-01-03 10:00:00", 41.90, None, "b1"),
    ("A6", "2025-01-03 11:00:00", "2025-01-03 12:30:00", 40.00, "3", "b1"),
    ("A7", "2025-01-04 11:00:00", "2025-01-04 10:30:00", 41.82, "3", "b1"),
    (None, "bad", "2025-01-04 10:30:00", 41.83, "4", "b1"),
]
PARITY_EXPECTATIONS = [
    {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "call_id"}},
    {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "latitude", "mostly": 0.8}},
    {"type": "expect_column_values_to_be_unique", "kwargs": {"column": "call_id"}},
    {"type": "expect_compound_columns_to_be_unique", "kwargs": {"column_list": ["call_id", "priority"]}},
    {"type": "expect_column_values_to_be_in_set", "kwargs": {"column": "priority", "value_set": ["1", "2", "3"]}},
    {
        "type": "expect_column_values_to_be_in_set",
        "kwargs": {"column": "priority", "value_set": ["1", "2", "3", "4"], "mostly": 0.8},
    },
    {
        "type": "expect_column_values_to_be_between",
        "kwargs": {"column": "latitude", "min_value": 41.8, "max_value": 42},
    },
    {
        "type": "expect_column_values_to_be_between",
        "kwargs": {"column": "latitude", "min_value": 41.8, "max_value": 41.9, "strict_max": True, "mostly": 0.5},
    },
    {
        "type": "expect_column_values_to_match_strftime_format",
        "kwargs": {"column": "received_at", "strftime_format": "%Y-%m-%d %H:%M:%S"},
    },
    {"type": "expect_column_values_to_match_regex", "kwargs": {"column": "call_id", "regex": "^A[0-5]$"}},
    # GX's own engines differ where one value of the pair is missing and such rows are not ignored
    # (pandas counts the row unexpected, SQL does not): the suites ignore them
    {
        "type": "expect_column_pair_values_a_to_be_greater_than_b",
        "kwargs": {
            "column_A": "cleared_at",
            "column_B": "received_at",
            "or_equal": True,
            "ignore_row_if": "either_value_is_missing",
        },
    },
    {
        "type": "expect_column_pair_values_a_to_be_greater_than_b",
        "kwargs": {
            "column_A": "cleared_at",
            "column_B": "received_at",
            "or_equal": False,
            "ignore_row_if": "either_value_is_missing",
        },
    },
]


def test_gx_on_duckdb_agrees_with_gx_on_pandas_for_the_same_rows(tmp_path):
    """The same expectations through GX's SQL datasource on the DuckDB file (the gates' route) and
    through GX's pandas engine: same success, same unexpected and element counts; regex and strftime
    run on DuckDB as unexpected-rows queries and count the same rows GX's pandas versions do."""
    import pandas as pd

    from orchestration.checks.gx_duckdb import import_gx

    gx = import_gx()  # GX imported as the gates import it (see import_gx)
    from great_expectations.expectations.expectation_configuration import ExpectationConfiguration

    con = Warehouse(tmp_path / "parity.duckdb")
    con.execute("CREATE SCHEMA raw")
    con.execute(
        "CREATE TABLE raw.calls (call_id VARCHAR, received_at VARCHAR, cleared_at VARCHAR, latitude DOUBLE, "
        "priority VARCHAR, _batch_id VARCHAR)"
    )
    con.executemany("INSERT INTO raw.calls VALUES (?, ?, ?, ?, ?, ?)", PARITY_ROWS)
    ours = evaluate_suite(
        con, parse_suite({**_parity_suite(), "expectations": PARITY_EXPECTATIONS}, boundary="raw_to_staging")
    )

    frame = pd.DataFrame(PARITY_ROWS, columns=["call_id", "received_at", "cleared_at", "latitude", "priority", "b"])
    context = gx.get_context(mode="ephemeral")
    batch = (
        context.data_sources.add_pandas("parity")
        .add_dataframe_asset("calls")
        .add_batch_definition_whole_dataframe("all")
        .get_batch(batch_parameters={"dataframe": frame})
    )
    for spec, mine in zip(PARITY_EXPECTATIONS, ours.outcomes, strict=True):
        theirs = batch.validate(ExpectationConfiguration(**spec).to_domain_obj(), result_format="COMPLETE")
        label = mine.expectation.label
        assert mine.error is None, (label, mine.error)
        assert mine.success == theirs.success, label
        assert mine.unexpected_count == theirs.result["unexpected_count"], label
        if mine.expectation.gx_type == mine.expectation.type:  # an unexpected-rows query has no element count
            assert mine.element_count == theirs.result["element_count"], label
    # the cases above do break: both engines see failures, not a row of passes
    assert sum(not o.success for o in ours.outcomes) >= 8
    assert {o.expectation.gx_type for o in ours.outcomes if "match" in o.expectation.type} == {
        "unexpected_rows_expectation"
    }


def _parity_suite() -> dict:
    return {
        "name": "raw_to_staging.parity",
        "meta": {"gate": {"asset": "raw/calls", "table": "raw.calls", "batch_by": "_batch_id"}},
    }


def test_the_expectations_folder_mirrors_the_layer_boundaries():
    assert sorted(p.name for p in EXPECTATIONS_DIR.iterdir() if p.is_dir()) == ["marts_to_serving", "raw_to_staging"]


def test_gx_reads_duckdb_rows_only_with_the_fix(tmp_path):
    """GX's SQL datasource on a DuckDB file: with the fix, GX's own counts are right (2 nulls, 3
    values outside the range, of 10); as GX ships, it reads no rows and every expectation fails."""
    from orchestration.checks.gx_duckdb import apply_duckdb_fix, import_gx, undo_duckdb_fix

    import_gx()
    import great_expectations.expectations as gxe

    path = tmp_path / "w.duckdb"
    with duckdb.connect(str(path)) as c:
        c.execute("CREATE TABLE t AS SELECT CASE WHEN i < 2 THEN NULL ELSE i END AS v FROM range(10) r(i)")
    gx = import_gx()

    def validate():
        context = gx.get_context(mode="ephemeral")
        source = context.data_sources.add_sql("w", connection_string=f"duckdb:///{path}")
        batch = source.add_query_asset("t", query="SELECT * FROM t").add_batch_definition_whole_table("b").get_batch()
        suite = gx.ExpectationSuite(
            name="fix",
            expectations=[
                gxe.ExpectColumnValuesToNotBeNull(column="v"),
                gxe.ExpectColumnValuesToBeBetween(column="v", min_value=0, max_value=6),
            ],
        )
        result = batch.validate(suite, result_format="SUMMARY")
        source.get_execution_engine().close()
        return [(r.success, r.result.get("unexpected_count")) for r in result.results]

    try:
        undo_duckdb_fix()
        assert validate() == [(False, None), (False, None)]  # GX as shipped: no rows, nothing counted
    finally:
        apply_duckdb_fix()
    assert validate() == [(False, 2), (False, 3)]


def test_gx_reads_a_query_batchs_columns_without_running_the_query(tmp_path):
    """A query batch whose rows cannot be computed (error() on every row): GX, with the fix, still
    gets its column names (LIMIT 0 runs no row); as GX ships, it runs the whole query to learn
    them, so a batch of ten million rows was read whole, and held, once more per validation."""
    import sqlalchemy as sa

    from orchestration.checks.gx_duckdb import apply_duckdb_fix, import_gx, undo_duckdb_fix

    import_gx()
    from great_expectations.expectations.metrics import util

    path = tmp_path / "w.duckdb"
    duckdb.connect(str(path)).close()
    engine = sa.create_engine(f"duckdb:///{path}")
    query = sa.text("SELECT i, CASE WHEN i >= 0 THEN error('the whole query ran') END AS boom FROM range(5) r(i)")
    try:
        columns = util.column_reflection_fallback(query, engine.dialect, engine)
        assert [c["name"] for c in columns] == ["i", "boom"]
        undo_duckdb_fix()
        with pytest.raises(Exception, match="the whole query ran"):
            util.column_reflection_fallback(query, engine.dialect, engine)
    finally:
        apply_duckdb_fix()
        engine.dispose()


def test_regex_runs_as_an_unexpected_rows_query_and_shows_file_and_line(con):
    add(con, [call(0), call(1, call_id="C-1"), call(2, batch="b2", call_id="X9")])
    exp = {"type": "expect_column_values_to_match_regex", "kwargs": {"column": "call_id", "regex": "^C[0-9]{1,3}$"}}
    out = only(evaluate_suite(con, suite([exp])))
    assert out.expectation.gx_type == "unexpected_rows_expectation"
    assert out.unexpected_count == 2 and sorted(b["file"] for b in out.failing_batches) == ["b1.csv", "b2.csv"]
    assert sorted((r["_source_file"], r["_row_number"], r["call_id"]) for r in out.sample) == [
        ("b1.csv", 2, "C-1"),
        ("b2.csv", 3, "X9"),
    ]
    with pytest.raises(SuiteError, match="without mostly"):
        suite([{**exp, "kwargs": {**exp["kwargs"], "mostly": 0.9}}])


def test_priorities_are_judged_with_each_profiles_own_set(con):
    """One suite, two cities: GX gets each file's profile's value set as an expectation parameter."""
    add(con, [call(0, priority="1"), call(1, priority="E")])
    add(con, [call(2, batch="b2", profile="city_b", priority="E"), call(3, batch="b2", profile="city_b")])
    exp = {
        "type": "expect_column_values_to_be_in_set",
        "kwargs": {"column": "priority", "value_set": {"$PARAMETER": "p"}},
    }
    params = {"by_profile": {"city_a": {"p": ["1", "2"]}, "city_b": {"p": ["E", "2"]}}}
    out = only(evaluate_suite(con, suite([exp], parameters=params)))
    assert out.unexpected_count == 1 and [b["file"] for b in out.failing_batches] == ["b1.csv"]
    assert out.sample == [{"_source_file": "b1.csv", "_row_number": 2, "call_id": "C1", "priority": "E"}]


def test_a_citys_beats_are_judged_against_its_own_areas_file_not_anothers(con):
    """beats_are_known_areas: city_a's calls use beats 1A-1C, all in city_a's areas file; beat 2B
    is only in city_b's file, so for city_a it is unknown; a city whose beats are in no areas file
    (city_c) is not judged."""
    calls_suite = next(s for s in load_suites() if s.name == "marts_to_serving.fct_calls_for_service")
    con.execute("CREATE SCHEMA marts")
    con.execute("CREATE SCHEMA staging")
    con.execute("CREATE TABLE staging.stg_areas (source_profile VARCHAR, beat VARCHAR)")
    areas = [("city_a_areas", b) for b in ("1A", "1B", "1C")] + [("city_b_areas", b) for b in ("1A", "2B")]
    con.executemany("INSERT INTO staging.stg_areas VALUES (?, ?)", areas)
    con.execute(
        "CREATE TABLE marts.fct_calls_for_service (source_profile VARCHAR, area_level VARCHAR, area_id VARCHAR)"
    )

    def beats_failing(calls):
        con.execute("DELETE FROM marts.fct_calls_for_service")
        con.executemany("INSERT INTO marts.fct_calls_for_service VALUES (?, 'beat', ?)", calls)
        out = evaluate_suite(con, calls_suite)
        named = {o.expectation.meta.get("name"): o for o in out.evaluated}
        outcome = named["beats_are_known_areas"]
        return sorted((r["source_profile"], r["beat"]) for r in outcome.sample) if not outcome.success else []

    good = [("city_a", b) for b in ("1A", "1B", "1C", "1C")] + [("city_c", "9Z")]
    assert beats_failing(good) == []
    assert beats_failing([*good, ("city_a", "2B")]) == [("city_a", "2B")]
    assert beats_failing([*good, ("city_a", "7Q")]) == [("city_a", "7Q")]


def _calls_profile(name: str, **extra) -> object:
    from orchestration.landing.profiles import parse_profile

    columns = {"call_id": "id", "received_at": "time", "call_type": "type", "priority": "pri"}
    return parse_profile(
        {"name": name, "source": "calls_for_service", "files": [f"{name}/*.csv"], "columns": columns, **extra}, None
    )


def test_a_profiles_accepted_values_are_the_gates_value_set_and_a_profile_without_is_skipped_saying_so(con):
    """The codes a source profile lists (accepted_values) reach GX through raw.source_profiles, as
    written at landing; a profile that lists none is not judged on them, and the gate says why."""
    from orchestration.landing.coverage import write_coverage

    profiles = {"city_a": _calls_profile("city_a", accepted_values={"priority": ["1", "2"]}), "city_b": None}
    profiles["city_b"] = _calls_profile("city_b")
    with duckdb.connect(str(con.path)) as landing:
        write_coverage(landing, profiles)
    add(con, [call(0, priority="1"), call(1, priority="E")])
    add(con, [call(2, batch="b2", profile="city_b", priority="anything")])
    exp = {
        "type": "expect_column_values_to_be_in_set",
        "kwargs": {"column": "priority", "value_set": {"$PARAMETER": "priority_values"}},
    }
    out = only(evaluate_suite(con, suite([exp])))
    assert out.unexpected_count == 1 and [b["file"] for b in out.failing_batches] == ["b1.csv"]
    assert out.sample[0]["priority"] == "E"
    assert out.skipped == [
        "city_b: no value for priority_values (its source profile lists no accepted_values for priority)"
    ]


def test_accepted_values_name_a_field_the_profile_fills():
    from orchestration.landing.profiles import ProfileError

    with pytest.raises(ProfileError, match="accepted_values.district: not a field this profile fills"):
        _calls_profile("city_a", accepted_values={"district": ["1"]})
    with pytest.raises(ProfileError, match="accepted_values"):
        _calls_profile("city_a", accepted_values={"priority": []})
