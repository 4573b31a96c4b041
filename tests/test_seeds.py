"""The seed files load on every engine: each row has as many fields as the header (an unquoted comma
in a label shifts the row, and dbt refuses the seed), and no value holds an apostrophe (dbt-spark's
seed loader writes values into SQL literals without escaping them)."""

from __future__ import annotations

import csv

import pytest

from orchestration.settings import PROJECT_ROOT

SEEDS = sorted((PROJECT_ROOT / "seeds").glob("*.csv"))


@pytest.mark.parametrize("seed", SEEDS, ids=[s.stem for s in SEEDS])
def test_every_row_of_a_seed_fits_its_header_and_loads_on_spark(seed):
    with seed.open(newline="", encoding="utf-8") as fh:
        header, *rows = list(csv.reader(fh))
    short_or_long = [(line, len(row)) for line, row in enumerate(rows, 2) if len(row) != len(header)]
    assert not short_or_long, f"{seed.name}: rows (line, fields) against {len(header)} columns: {short_or_long}"
    quoted = [(line, v) for line, row in enumerate(rows, 2) for v in row if "'" in v]
    assert not quoted, f"{seed.name}: values with an apostrophe (dbt-spark cannot load them): {quoted}"


def test_the_seed_check_sees_a_shifted_row(tmp_path):
    """The check above on a label with an unquoted comma (the mistake it is for)."""
    bad = tmp_path / "kpi.csv"
    bad.write_text("kpi,label,target\nshare,Calls left unclassified, or listed as other,0.05\n")
    with pytest.raises(AssertionError, match=r"rows \(line, fields\) against 3 columns: \[\(2, 4\)\]"):
        test_every_row_of_a_seed_fits_its_header_and_loads_on_spark(bad)
