"""Hostile profiles: every mistake is refused when the profile loads, naming the file, the key and
what was expected, and one bad profile disables only itself (issue 16)."""

from __future__ import annotations

import re
import shutil

import duckdb
import pytest
import yaml
from dagster import materialize

from orchestration.landing.assets import land_raw_extracts
from orchestration.landing.profiles import ProfileError, load_profiles, parse_profile
from orchestration.resources import LandingResource, WarehouseResource
from tests.conftest import MILWAUKEE_FILE, PROFILES_DIR

BASE = {
    "name": "x_calls",
    "source": "calls_for_service",
    "files": "x/*.csv",
    "columns": {"call_id": "id", "received_at": "t", "call_type": "c"},
}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"null_values": "NA"}, r"x_calls.yaml: null_values: input should be a list .*got 'NA'"),
        ({"columns": ["id", "t"]}, r"x_calls.yaml: columns: input should be a mapping .*got \['id', 't'\]"),
        ({"csv": "semicolon"}, r"x_calls.yaml: csv: input should be a mapping .*got 'semicolon'"),
        ({"csv": {"quote": "''"}}, r"x_calls.yaml: csv.quote \"''\": must be exactly one character"),
        ({"csv": {"delimiter": ";;"}}, r"csv.delimiter ';;': must be exactly one character"),
        ({"csv": {"encoding": "utf-9"}}, r"csv.encoding 'utf-9': is not an encoding Python knows"),
        ({"csv": {"delimter": ";"}}, r"unknown key 'csv.delimter'"),
        ({"timestamp_formats": {"default": "%Y-%m-%d %Q"}}, r"timestamp_formats: '%Y-%m-%d %Q' is not a strptime"),
        ({"timestamp_formats": ["%Y-%m-%d %H:%M:%"]}, r"is not a strptime format DuckDB reads: .*Trailing format"),
        ({"timezone": 5}, r"timezone: input should be a valid string, got 5"),
        ({"booleans": {"true": "yes"}}, r"booleans.true: input should be a list"),
        ({"columns": {**BASE["columns"], "call_type": 7}}, r"columns.call_type: expected a column name"),
        ({"columns": {**BASE["columns"], "call_type": {"colum": "c"}}}, r"unknown key 'columns.call_type.colum'"),
        ({"coordinates": {"missing": "0"}}, r"coordinates.missing: input should be a list"),
        (
            {"api": {"url": "http://x", "folder": "f", "updated_field": "u", "id_field": "i", "page_size": "ten"}},
            "page_size",
        ),
        ({"files": "../../etc/*"}, r"files '../../etc/\*': .* leaves the landing folder"),
        ({"files": ["ok/*.csv", "/etc/passwd"]}, r"'/etc/passwd' leaves the landing folder"),
    ],
)
def test_a_bad_profile_is_refused_at_load_naming_file_key_and_expectation(tmp_path, change, message):
    path = tmp_path / "x_calls.yaml"
    path.write_text(yaml.safe_dump({**BASE, **change}))
    profiles = load_profiles(tmp_path)
    assert not profiles
    [(bad, error)] = profiles.errors
    assert bad == path and isinstance(error, ProfileError)
    assert str(error).startswith(str(path)), error
    assert re.search(message, str(error)), error


def test_null_values_as_a_string_is_never_split_into_characters():
    with pytest.raises(ProfileError, match="null_values"):
        parse_profile({**BASE, "null_values": "NA"})
    assert parse_profile({**BASE, "null_values": ["NA"]}).null_values == ("NA",)


def test_every_shipped_profile_still_loads():
    profiles = load_profiles(PROFILES_DIR)
    assert profiles.errors == []
    assert len(profiles) == len(list(PROFILES_DIR.glob("*.yaml")))


def test_one_bad_profile_disables_only_itself_and_landing_goes_on(tmp_path):
    profiles_dir = tmp_path / "profiles"
    profiles_dir.mkdir()
    shutil.copy(PROFILES_DIR / "milwaukee_cfs.yaml", profiles_dir)
    (profiles_dir / "broken_city.yaml").write_text(yaml.safe_dump({**BASE, "name": "broken_city", "null_values": "NA"}))
    landing = tmp_path / "landing"
    (landing / "milwaukee").mkdir(parents=True)
    shutil.copy(MILWAUKEE_FILE, landing / "milwaukee" / MILWAUKEE_FILE.name)

    profiles = load_profiles(profiles_dir)
    assert list(profiles) == ["milwaukee_cfs"]
    assert [(p.name, "null_values" in str(e)) for p, e in profiles.errors] == [("broken_city.yaml", True)]

    warehouse = tmp_path / "w.duckdb"
    result = materialize(
        [land_raw_extracts],
        resources={
            "warehouse": WarehouseResource(database=str(warehouse)),
            "landing": LandingResource(landing_dir=str(landing), profiles_dir=str(profiles_dir)),
        },
        raise_on_error=False,
        selection="raw/calls_for_service",
    )
    calls = next(
        m
        for m in result.asset_materializations_for_node("land_raw_extracts")
        if m.asset_key.path == ["raw", "calls_for_service"]
    )
    assert calls.metadata["rows_landed"].value > 0
    disabled = calls.metadata["disabled_profiles"].value
    assert "broken_city.yaml" in disabled and "null_values" in disabled
    con = duckdb.connect(str(warehouse), read_only=True)
    assert con.execute("SELECT count(DISTINCT _source_profile) FROM raw.calls_for_service").fetchone() == (1,)
    con.close()
