"""Lookup files: calls that name a location key, and a separate locations table (as St. Louis
publishes them), joined in staging.

The calls file has 10 calls: 6 name a key the locations file has (L1, L2 twice, L3, L7, L40),
3 name keys it lacks (L99 twice, L98) and 1 names none. The locations file has 43 rows: L1..L40,
one without a key and one whose latitude is not a number (both quarantined, 2 of 43 = 4.7 %,
under the 5 % a lookup file may lose), and L2 repeated with the same values. Counts below are of
these rows.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
import yaml

from orchestration.landing.coverage import write_coverage
from orchestration.landing.loader import land_file
from orchestration.landing.lookups import land_lookups
from orchestration.landing.profiles import ProfileError, parse_profile
from orchestration.landing.raw_tables import ensure_raw_tables
from orchestration.ledger.store import pending_rebuilds
from tests.support.dbt import dbt_build
from tests.support.ledger import admit_every_batch, write_rows

PROFILE = {
    "name": "st_louis_cfs",
    "source": "calls_for_service",
    "files": "st_louis/calls*.csv",
    "timezone": "America/Chicago",
    "city": "st_louis",
    "city_name": "St. Louis",
    "columns": {"call_id": "EventID", "received_at": "DateTime", "call_type": "CallType"},
    "lookups": {
        "locations": {
            "files": "st_louis/locations*.csv",
            "key": "LocationKey",
            "record_column": "LocationKey",
            "columns": {"beat": "Neighborhood", "district": "District", "latitude": "Lat", "longitude": "Lon"},
        }
    },
}
CALL_KEYS = ["L1", "L2", "L2", "L3", "L7", "L40", "L99", "L99", "L98", ""]


def location(n: int) -> list[str]:
    return [f"L{n}", f"N{n}", str(1 + n % 6), f"{38.6 + n / 1000:.3f}", f"{-90.2 - n / 1000:.3f}"]


def write_calls(folder: Path) -> Path:
    rows = [[f"E{i}", f"2025-03-0{1 + i % 5} 1{i}:00:00", "DISTURBANCE", key] for i, key in enumerate(CALL_KEYS)]
    return write_rows(folder / "calls_2025-03.csv", ["EventID", "DateTime", "CallType", "LocationKey"], rows)


def write_locations(folder: Path, numbers: range, name: str = "locations.csv", broken: bool = True) -> Path:
    rows = [location(n) for n in numbers]
    if broken:
        rows.insert(5, ["", "NOWHERE", "1", "38.6", "-90.2"])  # line 7: no key
        rows.insert(9, ["L77", "N77", "1", "north", "-90.2"])  # line 11: latitude not a number
        rows.append(location(2))  # L2 again, same values
    return write_rows(folder / name, ["LocationKey", "Neighborhood", "District", "Lat", "Lon"], rows)


@pytest.fixture(scope="module")
def landed(tmp_path_factory):
    root = tmp_path_factory.mktemp("lookups")
    landing = root / "landing"
    write_calls(landing / "st_louis")
    write_locations(landing / "st_louis", range(1, 41))
    profile = parse_profile(PROFILE)
    warehouse = root / "w.duckdb"
    con = duckdb.connect(str(warehouse))
    files = profile.matching_files(landing)
    assert [f.name for f in files] == ["calls_2025-03.csv"]  # the lookup file is not a calls file
    land_file(con, files[0], profile, landing_dir=landing)
    outcomes, judged = land_lookups(con, {profile.name: profile}, landing)
    ensure_raw_tables(con, "incidents")  # the coverage mart reads incidents too: none landed here
    write_coverage(con, {profile.name: profile})
    admit_every_batch(con)
    con.close()
    dbt_build(warehouse, root, ["+stg_calls_for_service", "+mart_lookup_coverage", "+city_source_profiles"])
    yield root, landing, warehouse, profile, outcomes, judged


@pytest.fixture
def con(landed):
    connection = duckdb.connect(str(landed[2]), read_only=True)
    yield connection
    connection.close()


def test_the_lookup_file_lands_with_its_lines_and_quarantines_what_it_cannot_use(landed, con):
    outcomes, judged = landed[4], landed[5]
    assert [(o.rows_read, o.rows_landed, o.rows_quarantined) for o in outcomes] == [(43, 41, 2)]
    assert judged == [("st_louis_cfs", "locations", "st_louis/locations.csv", None)]
    quarantined = con.execute(
        "SELECT row_number, error_type, field FROM raw.quarantine WHERE source = 'lookup' ORDER BY row_number"
    ).fetchall()
    assert quarantined == [(7, "MISSING KEY", "key"), (11, "INVALID VALUE", "latitude")]
    # each value keeps the line it came from: L3 is on line 4 (header, L1, L2, L3)
    assert con.execute(
        "SELECT _row_number, value FROM raw.lookup_values WHERE lookup_key = 'L3' AND canonical_field = 'beat'"
    ).fetchall() == [(4, "N3")]
    assert con.execute("SELECT distinct_keys, conflicting_keys FROM raw.lookup_batches").fetchall() == [(40, 0)]


def test_staging_fills_the_place_of_matched_calls_and_counts_the_unmatched(con):
    rows = con.execute(
        "SELECT call_id, beat, district, latitude, lookup_keys, lookup_keys_unmatched, unmatched_lookup_keys "
        "FROM staging.stg_calls_for_service ORDER BY call_id"
    ).fetchall()
    by_id = {r[0]: r[1:] for r in rows}
    assert by_id["E0"] == ("N1", "2", 38.601, 1, 0, None)
    assert by_id["E5"] == ("N40", "5", 38.64, 1, 0, None)
    assert by_id["E6"] == (None, None, None, 1, 1, "locations: L99")
    assert by_id["E9"] == (None, None, None, 0, 0, None)  # names no key: not unmatched
    assert sum(1 for r in rows if r[1] is not None) == 6


def test_the_coverage_mart_counts_what_joined(con):
    row = con.execute(
        "SELECT records, records_naming_a_key, records_without_a_key, records_matched, records_unmatched, "
        "round(unmatched_share, 4), distinct_unmatched_keys, most_frequent_unmatched_keys, joined_lookup_files "
        "FROM marts.mart_lookup_coverage WHERE record_source = 'calls_for_service'"
    ).fetchone()
    assert row == (10, 9, 1, 6, 3, 0.3333, 2, "locations: L99 (2), locations: L98 (1)", "st_louis/locations.csv")


def test_a_complete_new_lookup_file_replaces_the_old_and_asks_for_a_rebuild(landed, tmp_path):
    root, landing, warehouse, profile = landed[:4]
    copy = tmp_path / "w.duckdb"
    copy.write_bytes(warehouse.read_bytes())
    write_locations(landing / "st_louis", range(1, 100), name="locations_2025-04.csv", broken=False)
    with duckdb.connect(str(copy)) as con:
        outcomes, judged = land_lookups(con, {profile.name: profile}, landing)
        assert [o.already_landed for o in outcomes] == [True, False]  # the first file is not landed twice
        assert judged == [("st_louis_cfs", "locations", "st_louis/locations_2025-04.csv", None)]
        assert any("locations_2025-04.csv" in r for r in pending_rebuilds(con))
    dbt_build(copy, tmp_path, ["+stg_calls_for_service", "+mart_lookup_coverage"], full_refresh=True)
    with duckdb.connect(str(copy), read_only=True) as con:
        assert con.execute(
            "SELECT records_unmatched, joined_lookup_files FROM marts.mart_lookup_coverage"
        ).fetchall() == [(0, "st_louis/locations_2025-04.csv")]
        assert con.execute("SELECT beat FROM staging.stg_calls_for_service WHERE call_id = 'E6'").fetchone() == ("N99",)


def test_a_broken_new_lookup_file_keeps_the_last_good_one(landed, tmp_path):
    root, landing, warehouse, profile = landed[:4]
    copy = tmp_path / "w.duckdb"
    copy.write_bytes(warehouse.read_bytes())
    folder = tmp_path / "landing" / "st_louis"
    write_locations(folder, range(1, 41))
    bad = write_locations(folder, range(1, 11), name="locations_bad.csv", broken=False)
    bad.write_text(bad.read_text().replace("N1,", "N1,1,north,x\nL1,N1x,"))  # L1 twice, with other values
    with duckdb.connect(str(copy)) as con:
        _, judged = land_lookups(con, {profile.name: profile}, tmp_path / "landing")
        assert judged[0][2] == "st_louis/locations_bad.csv"
        assert "given different values" in judged[0][3] or "quarantined" in judged[0][3]
    dbt_build(copy, tmp_path, ["+stg_calls_for_service", "+mart_lookup_coverage"], full_refresh=True)
    with duckdb.connect(str(copy), read_only=True) as con:
        assert con.execute("SELECT joined_lookup_files FROM marts.mart_lookup_coverage").fetchone() == (
            "st_louis/locations.csv",
        )


def test_a_lookup_file_without_the_key_column_is_refused_whole(tmp_path):
    profile = parse_profile(PROFILE)
    folder = tmp_path / "st_louis"
    write_rows(folder / "locations.csv", ["Key", "Neighborhood", "District", "Lat", "Lon"], [location(1)])
    with duckdb.connect(str(tmp_path / "w.duckdb")) as con:
        outcomes, judged = land_lookups(con, {profile.name: profile}, tmp_path)
        assert "reads column(s) LocationKey, not in the header" in outcomes[0].refused
        assert judged == [] and con.execute("SELECT count(*) FROM raw.lookup_values").fetchone() == (0,)


@pytest.mark.parametrize(
    ("columns", "message"),
    [
        ({"call_type": "Type"}, "must come from the record itself"),
        ({"received_at": "When"}, "must come from the record itself"),
        ({"shoe_size": "Size"}, "not a canonical field"),
    ],
)
def test_a_lookup_fills_only_optional_place_and_description_fields(columns, message):
    data = {**PROFILE, "lookups": {"codes": {"files": "x/*.csv", "key": "K", "record_column": "K", "columns": columns}}}
    with pytest.raises(ProfileError, match=message):
        parse_profile(data)


def test_the_staging_join_fills_the_fields_profiles_may_name():
    """The fields staging coalesces from a lookup are those a profile may name (LOOKUP_FIELDS)."""
    from orchestration.landing.profiles import LOOKUP_FIELDS
    from orchestration.settings import DBT_PROJECT_DIR

    for source, model in (("calls_for_service", "stg_calls_for_service"), ("incidents", "stg_incidents")):
        sql = (DBT_PROJECT_DIR / "models" / "staging" / f"{model}.sql").read_text()
        for fld in LOOKUP_FIELDS[source]:
            assert f"lookup_{fld})" in sql, (model, fld)


def test_the_city_named_in_the_profile_is_the_city_of_its_records(con):
    assert con.execute(
        "SELECT city, city_name FROM reference.city_source_profiles WHERE source_profile = 'st_louis_cfs'"
    ).fetchall() == [("st_louis", "St. Louis")]
    # the shipped profiles the seed names keep their city (the seed is the fallback)
    assert con.execute(
        "SELECT city FROM reference.city_source_profiles WHERE source_profile = 'milwaukee_cfs'"
    ).fetchone() == ("milwaukee",)


def test_onboarding_finds_the_key_and_drafts_a_lookup_that_lands_and_joins_end_to_end(tmp_path):
    """A city whose calls name a location key, onboarded with its locations file: the command finds
    the key by content (the records' LocationKey values among the file's unique LocationKey), maps
    the columns it can fill, says LocationKey is no block address, and its draft, used as it is,
    lands both files and joins 6 of the 9 calls that name a key."""
    samples = tmp_path / "samples"
    calls = write_calls(samples)
    rows = [location(n) for n in range(1, 41)]
    rows.insert(5, ["", "NOWHERE", "1", "38.6", "-90.2"])  # no key
    rows.append(location(2))
    locations = write_rows(samples / "Locations.csv", ["LocationKey", "Neighborhood", "District", "Latitude",
                                                       "Longitude"], rows)  # fmt: skip
    out = tmp_path / "drafts"
    completed = subprocess.run(
        [sys.executable, "-m", "orchestration.onboard", str(calls), "--profile-name", "st_louis_cfs",
         "--timezone", "America/Chicago", "--lookup", str(locations), "--out", str(out)],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    stdout = completed.stdout
    assert "key           : its LocationKey <- the records' LocationKey (6 of 9 sampled records" in stdout
    assert "LocationKey: the key of lookup locations, not a block_address" in stdout
    assert "lookup locations: read 42, landed 41, quarantined 1; 6 of 9 records naming a key join" in stdout
    assert "and Locations.csv as locations*.csv beside it" in stdout
    draft = yaml.safe_load((out / "st_louis_cfs.yaml").read_text())
    assert draft["columns"] == {"call_id": "EventID", "call_type": "CallType", "received_at": "DateTime"}
    assert draft["lookups"] == {
        "locations": {
            "files": "st_louis_cfs/locations*.csv",
            "key": "LocationKey",
            "record_column": "LocationKey",
            "columns": {"district": "District", "latitude": "Latitude", "longitude": "Longitude"},
        }
    }
    # as the README's next steps say: both files in the profile's folder, landed and built
    profile = parse_profile(draft)
    landing = tmp_path / "landing" / "st_louis_cfs"
    landing.mkdir(parents=True)
    shutil.copyfile(calls, landing / calls.name)
    shutil.copyfile(locations, landing / "locations.csv")
    warehouse = tmp_path / "w.duckdb"
    with duckdb.connect(str(warehouse)) as con:
        (only,) = profile.matching_files(landing.parent)
        land_file(con, only, profile, landing_dir=landing.parent)
        land_lookups(con, {profile.name: profile}, landing.parent)
        ensure_raw_tables(con, "incidents")
        admit_every_batch(con)
    dbt_build(warehouse, tmp_path, ["+mart_lookup_coverage"])
    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert con.execute(
            "SELECT records, records_naming_a_key, records_matched, records_unmatched FROM marts.mart_lookup_coverage"
        ).fetchall() == [(10, 9, 6, 3)]
        assert con.execute(
            "SELECT district, latitude FROM staging.stg_calls_for_service WHERE call_id = 'E3'"
        ).fetchone() == ("4", 38.603)


def test_the_coverage_gate_warns_at_a_third_unmatched_and_holds_a_city_over_half(landed, tmp_path):
    """The gate (GX, expectations/marts_to_serving/mart_lookup_coverage.yaml) on the built mart: 3
    of 9 unmatched is a warning and no hold; with most keys unmatched the city fails the limit."""
    from orchestration.checks.gx_engine import evaluate_suite
    from orchestration.checks.suites import load_suite
    from orchestration.settings import PROJECT_ROOT

    suite = load_suite(PROJECT_ROOT / "expectations" / "marts_to_serving" / "mart_lookup_coverage.yaml")
    copy = tmp_path / "w.duckdb"
    copy.write_bytes(landed[2].read_bytes())
    with duckdb.connect(str(copy)) as con:  # 20 keyed records, so the share is judged
        con.execute("UPDATE marts.mart_lookup_coverage SET records_naming_a_key = 20, records_unmatched = 7, "
                    "unmatched_share = 0.35")  # fmt: skip

    def failing(name):
        outcome = evaluate_suite(copy, suite)
        found = next(o for o in outcome.outcomes if o.expectation.meta.get("name") == name)
        return [b["batch"] for b in found.failing_batches]

    assert failing("unmatched_lookup_keys_under_the_warning_line") == ["st_louis_cfs"]
    assert failing("unmatched_lookup_keys_at_most_the_limit") == []
    with duckdb.connect(str(copy)) as con:
        con.execute("UPDATE marts.mart_lookup_coverage SET records_unmatched = 15, unmatched_share = 0.75")
    assert failing("unmatched_lookup_keys_at_most_the_limit") == ["st_louis_cfs"]
