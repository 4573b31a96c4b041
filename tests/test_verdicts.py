"""The gate's verdict per batch (orchestration/checks/verdicts.py): a critical failure holds the
batches it names and only those; one that names none holds every batch judged; warnings never hold.
Built from outcome objects as GX's results fill them, so each rule is judged on its own (and the
module can be mutation-tested in seconds: `make mutation`)."""

from __future__ import annotations

from pathlib import Path

import pytest

from orchestration.checks.outcomes import ExpectationOutcome, SuiteOutcome
from orchestration.checks.suites import Expectation, Suite
from orchestration.checks.verdicts import SAMPLE_ROWS, judge, outcome_label, suite_digest

NOT_NULL = Expectation("expect_column_values_to_not_be_null", {"column": "call_id"})
WARNING = Expectation("expect_column_values_to_be_between", {"column": "priority"}, severity="warning")
PAIR = Expectation(
    "expect_column_pair_values_a_to_be_greater_than_b",
    {"column_A": "cleared", "column_B": "received", "or_equal": True},
)
JUDGED = {"b1": "calls_2025-01.csv", "b2": "calls_2025-02.csv", "b3": "calls_2025-03.csv"}

pytestmark = pytest.mark.pure


def suite(*expectations: Expectation, path: Path | None = None) -> Suite:
    return Suite(
        "raw_to_staging.calls", "raw_to_staging", ("raw", "calls"), "raw.calls", tuple(expectations), path=path
    )


def outcome(*results: ExpectationOutcome) -> SuiteOutcome:
    return SuiteOutcome(suite(*(r.expectation for r in results)), list(results))


def test_a_critical_failure_holds_only_the_batches_it_names():
    failed = ExpectationOutcome(
        NOT_NULL,
        success=False,
        unexpected_count=7,
        failing_batches=[
            {
                "batch": "b2",
                "file": JUDGED["b2"],
                "unexpected": 4,
                "considered": 1000,
                "sample": [{"row": i} for i in range(9)],
            },
            {"batch": "elsewhere", "file": "other.csv", "unexpected": 3, "considered": 10},
        ],
    )
    verdicts = judge([outcome(failed)], JUDGED)
    assert set(verdicts) == set(JUDGED)
    assert [k for k, v in verdicts.items() if v.held] == ["b2"]
    (failure,) = verdicts["b2"].failures
    assert failure["suite"] == "raw_to_staging.calls"
    assert failure["expectation"] == "expect_column_values_to_not_be_null(call_id)"
    assert (failure["unexpected"], failure["considered"]) == (4, 1000)
    assert failure["sample"] == [{"row": i} for i in range(SAMPLE_ROWS)]
    assert verdicts["b2"].reason() == "expect_column_values_to_not_be_null(call_id) (4 unexpected of 1,000)"
    assert verdicts["b1"].reason() == "" and verdicts["b1"].label == JUDGED["b1"]
    assert {k: v.key for k, v in verdicts.items()} == {k: k for k in JUDGED}


def test_a_count_without_its_total_reads_alone():
    failed = ExpectationOutcome(NOT_NULL, success=False, failing_batches=[{"batch": "b1", "unexpected": 4}])
    assert (
        judge([outcome(failed)], JUDGED)["b1"].reason() == "expect_column_values_to_not_be_null(call_id) (4 unexpected)"
    )


def test_a_failure_that_names_no_batch_holds_every_batch_judged():
    broken = ExpectationOutcome(NOT_NULL, success=False, error="Binder Error: column call_id not found")
    counted = ExpectationOutcome(PAIR, success=False, unexpected_count=12, considered=300, sample=[{"r": 1}] * 8)
    verdicts = judge([outcome(broken, counted)], JUDGED)
    assert all(v.held for v in verdicts.values())
    first, second = verdicts["b3"].failures
    assert first["unexpected"] is None and first["error"].startswith("Binder Error")
    assert (second["unexpected"], second["considered"], len(second["sample"])) == (12, 300, SAMPLE_ROWS)
    assert verdicts["b3"].reason() == (
        "expect_column_values_to_not_be_null(call_id): Binder Error: column call_id not found; "
        "expect_column_pair_values_a_to_be_greater_than_b(cleared >= received) (12 unexpected of 300)"
    )


def test_warnings_and_passes_never_hold():
    warned = ExpectationOutcome(WARNING, success=False, unexpected_count=50, failing_batches=[{"batch": "b1"}])
    passed = ExpectationOutcome(NOT_NULL, success=True)
    verdicts = judge([outcome(warned, passed)], JUDGED)
    assert not any(v.held for v in verdicts.values())
    assert outcome_label(warned) == "expect_column_values_to_be_between(priority) [warning]"
    assert outcome_label(passed) == "expect_column_values_to_not_be_null(call_id)"


@pytest.mark.parametrize(
    ("column", "by"),
    [
        ("_batch_id", "batch"),
        ("batch_id", "batch"),
        ("source_profile", "batch"),
        ("city", "batch"),
        ("_source_file", "file"),
        ("source_file", "file"),
    ],
)
def test_without_its_own_sample_a_batch_gets_the_rows_that_say_they_are_its_own(column, by):
    mine = {"batch": "b1", "file": "a.csv"}
    values = [mine[by], "other", mine[by], "other"]
    rows = [{column: v, "_row_number": n} for n, v in enumerate(values)]
    failed = ExpectationOutcome(NOT_NULL, success=False, sample=rows, failing_batches=[{**mine, "unexpected": 2}])
    assert judge([outcome(failed)], {"b1": "a.csv"})["b1"].failures[0]["sample"] == [rows[0], rows[2]]


def test_a_sample_of_one_row_or_without_a_batch_column_is_kept_whole():
    one = [{"_source_file": "a.csv", "_row_number": 3}]
    failed = ExpectationOutcome(NOT_NULL, success=False, sample=one, failing_batches=[{"batch": "b1", "file": "a.csv"}])
    assert judge([outcome(failed)], {"b1": "a.csv"})["b1"].failures[0]["sample"] == one
    anonymous = [{"value": 1}, {"value": 2}]
    failed = ExpectationOutcome(
        NOT_NULL, success=False, sample=anonymous, failing_batches=[{"batch": "b1", "file": "x"}]
    )
    assert judge([outcome(failed)], {"b1": "x"})["b1"].failures[0]["sample"] == anonymous


def test_a_reason_is_cut_at_a_thousand_characters():
    long_error = "x" * 2000
    failed = ExpectationOutcome(NOT_NULL, success=False, error=long_error)
    assert len(judge([outcome(failed)], {"b1": "f"})["b1"].reason()) == 1000


def test_the_suite_digest_follows_the_suite_file(tmp_path):
    path = tmp_path / "calls.yaml"
    path.write_text("name: raw_to_staging.calls\n")
    first = suite_digest(suite(NOT_NULL, path=path))
    assert first == suite_digest(suite(NOT_NULL, path=path)) and len(first) == 16
    path.write_text("name: raw_to_staging.calls\n# one more line\n")
    assert suite_digest(suite(NOT_NULL, path=path)) != first
    # a suite with no file is judged by its content
    assert suite_digest(suite(NOT_NULL)) != suite_digest(suite(WARNING))
