"""The one place the report checks a count against the small-cell threshold
(orchestration/report/format.count_cell), and the number formats beside it."""

from __future__ import annotations

import math

import pytest

from orchestration.report import format as fmt

pytestmark = pytest.mark.pure


@pytest.mark.parametrize("value", [1, 2, 10, 10.0, "10"])
def test_a_count_from_one_to_the_threshold_less_one_is_never_shown(value):
    html = fmt.count_cell(value, 11, " calls")
    assert html == '<span class="count suppressed">fewer than 11 calls</span>'
    assert "data-count" not in html


@pytest.mark.parametrize("value", [None, float("nan"), "<NA>", "nan", "NaT"])
def test_a_withheld_count_reads_fewer_than_the_threshold(value):
    assert fmt.is_missing(value)
    assert fmt.count_cell(value, 11) == '<span class="count suppressed">fewer than 11</span>'


@pytest.mark.parametrize(("value", "shown"), [(0, "0"), (11, "11"), (12_345, "12,345"), (11.0, "11")])
def test_zero_and_counts_from_the_threshold_are_shown_with_their_data_count(value, shown):
    n = int(value)
    assert fmt.count_cell(value, 11, "<b>") == f'<span class="count" data-count="{n}">{shown}&lt;b&gt;</span>'


def test_nothing_else_is_missing():
    assert not any(fmt.is_missing(v) for v in (0, 0.0, "", "0", False))
    assert fmt.is_missing(math.nan)


@pytest.mark.parametrize(
    ("value", "unit", "by_unit", "change"),
    [
        (7.25, "minutes", "7.2 min", "+7.2 min"),
        (0.5, "minutes", "0.5 min", "+0.5 min"),
        (-0.0425, "share", "-4.2 %", "−4.2 pts"),
        (3.456, "score", "3.46 / 5", "+3.46"),
        (-1234.5, "dollars", "$-1,234", "−$1,234"),
        (1234.567, "ratio", "1,234.57", "+1,234.57"),
        (0, "share", "0.0 %", "±0.0 pts"),
        (None, "share", "—", "—"),
    ],
)
def test_a_kpi_reads_in_its_unit(value, unit, by_unit, change):
    assert fmt.by_unit(value, unit) == by_unit
    assert fmt.change(value, unit) == change


def test_the_plain_formats():
    assert [fmt.pct(0.2316), fmt.minutes(9.96), fmt.dollars(1234.5), fmt.millions(2_450_000), fmt.score(3.14159)] == [
        "23.2 %",
        "10.0 min",
        "$1,234",
        "$2.5 M",
        "3.14",
    ]
    assert {fmt.pct(None), fmt.minutes(None), fmt.dollars(None), fmt.millions(None), fmt.score(None)} == {"—"}
