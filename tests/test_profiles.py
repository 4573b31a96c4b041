"""Each shipped profile lands its fixture; canonical values of several rows are checked by hand.

Timestamps: the fixture's local time, converted by hand with the city's offset on that date
(CDT = UTC-5, CST = UTC-6, PDT = UTC-7, EDT = UTC-4, EST = UTC-5).
"""

from __future__ import annotations

import csv

import duckdb
import pytest

from orchestration.landing.coverage import write_coverage
from orchestration.landing.loader import land_file
from orchestration.landing.profiles import ProfileError, load_profiles, parse_profile
from orchestration.landing.projection import PROJECTIONS
from orchestration.settings import PROJECT_ROOT

from .conftest import FIXTURES, PROFILES_DIR


@pytest.fixture(scope="module")
def profiles():
    return load_profiles(PROFILES_DIR)


@pytest.fixture
def con(tmp_path):
    connection = duckdb.connect(str(tmp_path / "w.duckdb"))
    yield connection
    connection.close()


def land(con, profiles, name, *files):
    return [land_file(con, FIXTURES / f, profiles[name], FIXTURES) for f in files]


def row(con, table, id_column, id_value, columns):
    return con.execute(f"SELECT {columns} FROM raw.{table} WHERE {id_column} = ?", [id_value]).fetchone()


def test_new_orleans_both_column_spellings_and_state_plane_coordinates(con, profiles):
    r2018, r2019 = land(
        con,
        profiles,
        "new_orleans_cfs",
        "new_orleans/calls_for_service_2018_sample.csv",
        "new_orleans/calls_for_service_2019_sample.csv",
    )
    assert (r2018.rows_read, r2018.rows_landed, r2018.rows_quarantined) == (6, 6, 0)
    assert (r2019.rows_read, r2019.rows_landed, r2019.rows_quarantined) == (2, 2, 0)
    # E0000118,21,COMPLAINT OTHER,1H,...,3680432,529910,05/01/2018 12:00:42 AM,... (CDT)
    got = row(
        con,
        "calls_for_service",
        "call_id",
        "E0000118",
        "call_type, call_type_description, priority, received_at, dispatched_at, arrived_at, cleared_at, "
        "is_officer_initiated, disposition, beat, district, block_address, latitude, longitude, _row_number",
    )
    assert got[:12] == (
        "21",
        "COMPLAINT OTHER",
        "1H",
        "2018-05-01 05:00:42",
        "2018-05-01 05:05:10",
        "2018-05-01 05:19:33",
        "2018-05-01 06:02:14",
        "false",
        "NECESSARY ACTION TAKEN",
        "8B02",
        "8",
        "001XX Canal St",
    )
    # MapX/MapY were computed with PROJ from 29.9511 N, 90.0715 W and rounded to whole feet
    assert float(got[12]) == pytest.approx(29.9511, abs=1e-5)
    assert float(got[13]) == pytest.approx(-90.0715, abs=1e-5)
    assert got[14] == 2
    # the 2019 file says Type_ and TimeArrival: same canonical fields (01:00 CST = 06:00 UTC)
    assert row(con, "calls_for_service", "call_id", "A0000119", "call_type, arrived_at, received_at") == (
        "94F",
        "2019-01-01 06:31:05",
        "2019-01-01 06:00:12",
    )
    # self-initiated, no arrival time; MapX/MapY of 0 is no location, not a point in Texas
    assert row(con, "calls_for_service", "call_id", "E0000318", "is_officer_initiated, arrived_at") == ("true", None)
    assert row(con, "calls_for_service", "call_id", "E0000518", "latitude, longitude, _flags") == (None, None, None)


def test_seattle_two_timestamp_formats_and_onview(con, profiles):
    (result,) = land(con, profiles, "seattle_cfs", "seattle/call_data_2018-05_sample.csv")
    assert (result.rows_read, result.rows_landed) == (5, 5)
    # 05/01/2018 01:23:45 AM and May 01 2018 01:31:07:000AM, both PDT (UTC-7)
    assert row(
        con,
        "calls_for_service",
        "call_id",
        "2018000155613",
        "received_at, arrived_at, call_source, is_officer_initiated, call_type, initial_call_type, district, beat",
    ) == (
        "2018-05-01 08:23:45",
        "2018-05-01 08:31:07",
        "911",
        "false",
        "--THEFT - ALL OTHER",
        "THEFT - ALL OTHER",
        "WEST",
        "K2",
    )
    assert row(con, "calls_for_service", "call_id", "2018000155620", "call_source, is_officer_initiated") == (
        "officer-initiated",
        "true",
    )
    # 01:44:12:000PM is 13:44 PDT; "IN PERSON COMPLAINT" is none of the canonical call sources
    assert row(con, "calls_for_service", "call_id", "2018000156010", "arrived_at, call_source") == (
        "2018-05-01 20:44:12",
        None,
    )
    assert row(con, "calls_for_service", "call_id", "2018000155702", "call_source") == ("non-emergency",)
    assert row(con, "calls_for_service", "call_id", "2018000155771", "arrived_at, call_source") == (None, "alarm")


def test_san_francisco_points_and_onview_flag(con, profiles):
    (result,) = land(con, profiles, "san_francisco_cfs", "san_francisco/dispatched_calls_2023-05_sample.csv")
    assert (result.rows_read, result.rows_landed) == (5, 5)
    # POINT (-122.41857 37.78235): longitude first; 2023-05-01T00:03:11.000 PDT
    assert row(
        con,
        "calls_for_service",
        "call_id",
        "231210001",
        "latitude, longitude, received_at, enroute_at, arrived_at, cleared_at, is_officer_initiated, district",
    ) == (
        "37.78235",
        "-122.41857",
        "2023-05-01 07:03:11",
        "2023-05-01 07:10:02",
        "2023-05-01 07:18:30",
        "2023-05-01 07:31:56",
        "false",
        "TENDERLOIN",
    )
    assert row(con, "calls_for_service", "call_id", "231210005", "is_officer_initiated, call_source, call_type") == (
        "true",
        "officer-initiated",
        "586",
    )
    assert row(con, "calls_for_service", "call_id", "231210004", "latitude, longitude") == (None, None)


def test_cincinnati(con, profiles):
    (result,) = land(con, profiles, "cincinnati_cfs", "cincinnati/calls_for_service_2018-05_sample.csv")
    assert (result.rows_read, result.rows_landed) == (4, 4)
    # 05/01/2018 12:01:33 AM EDT (UTC-4)
    assert row(
        con,
        "calls_for_service",
        "call_id",
        "CPD180501000012",
        "received_at, dispatched_at, arrived_at, cleared_at, call_type, call_type_description, beat, district, "
        "latitude, is_officer_initiated",
    ) == (
        "2018-05-01 04:01:33",
        "2018-05-01 04:04:50",
        "2018-05-01 04:11:22",
        "2018-05-01 04:40:09",
        "DISTRB",
        "DISTURBANCE",
        "BEAT 3",
        "DISTRICT 1",
        "39.1128",
        None,
    )
    assert row(con, "calls_for_service", "call_id", "CPD180501000103", "arrived_at") == (None,)


def test_stanford_open_policing_standard_stops(con, profiles):
    (result,) = land(con, profiles, "stanford_open_policing_stops", "stanford_open_policing/stops_sample.csv")
    assert (result.rows_read, result.rows_landed, result.rows_quarantined) == (5, 4, 1)
    # 2017-03-05 01:05:00 EST (UTC-5); merged source rows keep their joined raw_row_number as the id
    assert row(
        con,
        "stops",
        "stop_id",
        "1003|1004",
        "stopped_at, stop_type, subject_age, subject_race, subject_sex, search_conducted, contraband_found, outcome",
    ) == ("2017-03-05 06:05:00", "pedestrian", "31", "hispanic", "male", "true", "true", "arrest")
    # NA is missing, not the text "NA"
    assert row(con, "stops", "stop_id", "1002", "subject_age, contraband_found, outcome") == (None, None, "warning")
    assert row(con, "stops", "stop_id", "1006", "outcome") == ("citation",)  # a summons
    # the stop with time NA has no stopped_at: quarantined, naming the field and both columns
    assert con.execute("SELECT row_number, error_type, field, reason FROM raw.quarantine").fetchall() == [
        (5, "MISSING REQUIRED", "stopped_at", "stopped_at: missing required value (column date + time)")
    ]


def test_socrata_crime_incidents_violent_and_property_from_fbi_code(con, profiles):
    (result,) = land(con, profiles, "socrata_crime_incidents", "socrata_crime_incidents/crimes_2018-05_sample.csv")
    assert (result.rows_read, result.rows_landed) == (6, 6)
    got = {
        r[0]: r[1:]
        for r in con.execute(
            "SELECT incident_id, offence_code, offence_category, is_violent, arrest_made FROM raw.incidents"
        ).fetchall()
    }
    assert got["11318511"] == ("0486", "persons", "false", "false")  # 08B simple battery: not violent crime (FBI)
    assert got["11318622"] == ("0820", "property", "false", "false")  # 06 larceny
    assert got["11318795"] == ("031A", "property", "true", "false")  # 03 robbery: violent only, in staging
    assert got["11319001"] == ("1811", "society", "false", "true")  # 18 drug abuse
    assert got["11319240"] == ("2825", None, "false", "false")  # 26 miscellaneous: no category
    # 09:05 PM CDT is 02:05 UTC the next day; one date in the export feeds both timestamps
    assert row(con, "incidents", "incident_id", "11319377", "reported_at, occurred_at, offence_description") == (
        "2018-05-02 02:05:00",
        "2018-05-02 02:05:00",
        "HOMICIDE - FIRST DEGREE MURDER",
    )
    assert row(con, "incidents", "incident_id", "11319240", "latitude, longitude") == (None, None)


def test_every_profile_says_what_it_lacks_in_raw_source_profiles(con, profiles):
    written = write_coverage(con, profiles)
    # every canonical field of each profile, but a unit per row only for extracts of one row per unit
    assert written == sum(
        len(p.canonical.fields) - ("unit_id" in p.canonical.fields and p.grain == "call") for p in profiles.values()
    )
    lacks = {
        (p, f)
        for p, f in con.execute(
            "SELECT source_profile, canonical_field FROM raw.source_profiles WHERE is_provided = 'false'"
        ).fetchall()
    }
    assert ("milwaukee_cfs", "arrived_at") in lacks
    assert ("seattle_cfs", "latitude") in lacks
    assert ("seattle_cfs", "arrived_at") not in lacks
    assert ("cincinnati_cfs", "is_officer_initiated") in lacks
    assert {f for p, f in lacks if p == "new_orleans_cfs"} == {"call_source", "enroute_at", "units_assigned"}
    provided = dict(
        ((p, f), (how, cols))
        for p, f, how, cols in con.execute(
            "SELECT source_profile, canonical_field, provided_by, source_columns FROM raw.source_profiles"
        ).fetchall()
    )
    assert provided[("new_orleans_cfs", "call_type")] == ("column (first of its aliases found)", "Type | Type_")
    assert provided[("new_orleans_cfs", "latitude")] == (
        "projected x/y converted at landing",
        "MapX / MapY (louisiana_south_ftus, EPSG:3452)",
    )
    assert provided[("stanford_open_policing_stops", "stopped_at")] == ("columns joined", "date + time")
    assert (
        provided[("seattle_cfs", "is_officer_initiated")][0]
        == "column (first of its aliases found), values mapped (others: false)"
    )
    # written whole each run: a second write does not add rows
    assert write_coverage(con, profiles) == written
    assert con.execute("SELECT count(*) FROM raw.source_profiles").fetchone()[0] == written


@pytest.mark.parametrize(
    ("name", "x", "y", "lat", "lon"),
    [
        # reference points: PROJ 9 (pyproj), EPSG:4326 -> EPSG:3452 / EPSG:2276, recorded here
        ("louisiana_south_ftus", 3680431.581402399, 529909.5917900706, 29.9511, -90.0715),
        ("louisiana_south_ftus", 3718560.1215020427, 559044.4431969287, 30.03, -89.95),
        ("louisiana_south_ftus", 3665154.4003418316, 522070.950866146, 29.93, -90.12),
        ("texas_north_central_ftus", 2491875.04089828, 6969751.329151296, 32.7767, -96.797),
        ("texas_north_central_ftus", 2551271.6556024677, 7033826.94789522, 32.95, -96.6),
    ],
)
def test_state_plane_to_latitude_longitude_matches_proj(name, x, y, lat, lon):
    projection = PROJECTIONS[name]
    lat_sql, lon_sql = projection.to_wgs84_sql(repr(x), repr(y))
    got_lat, got_lon = duckdb.connect().execute(f"SELECT {lat_sql}, {lon_sql}").fetchone()
    assert got_lat == pytest.approx(lat, abs=1e-8)  # about a millimetre
    assert got_lon == pytest.approx(lon, abs=1e-8)
    assert projection.forward(lat, lon) == pytest.approx((x, y), abs=1e-3)


def test_profile_format_mistakes_name_the_key():
    base = {"name": "x", "source": "calls_for_service", "files": "x/*.csv"}
    cols = {"call_id": "id", "received_at": "t", "call_type": "c"}
    with pytest.raises(ProfileError, match="unknown key.*colums"):
        parse_profile({**base, "colums": cols, "columns": cols})
    with pytest.raises(ProfileError, match=r"columns.call_type: give either 'column'"):
        parse_profile({**base, "columns": {**cols, "call_type": {"values": {"a": "b"}}}})
    with pytest.raises(ProfileError, match="projection.*not one of"):
        parse_profile({**base, "columns": cols, "coordinates": {"x": "X", "y": "Y", "projection": "mars"}})
    with pytest.raises(ProfileError, match="latitude also mapped under columns"):
        parse_profile({**base, "columns": {**cols, "latitude": "lat"}, "coordinates": {"point": "p"}})
    with pytest.raises(ProfileError, match="each min must be below its max"):
        parse_profile(
            {
                **base,
                "columns": cols,
                "bounds": {"min_latitude": 43, "max_latitude": 42, "min_longitude": -88, "max_longitude": -87},
            }
        )
    with pytest.raises(ProfileError, match="csv.encoding 'klingon'"):
        parse_profile({**base, "columns": cols, "csv": {"encoding": "klingon"}})


def test_a_profile_names_its_city_and_the_seed_agrees_with_the_shipped_ones(profiles):
    base = {"name": "x", "source": "calls_for_service", "files": "x/*.csv"}
    cols = {"call_id": "id", "received_at": "t", "call_type": "c"}
    named = parse_profile({**base, "columns": cols, "city": "st_louis", "city_name": "St. Louis"})
    assert (named.city, named.city_name) == ("st_louis", "St. Louis")
    with pytest.raises(ProfileError, match="city_name names the city given by 'city'"):
        parse_profile({**base, "columns": cols, "city_name": "St. Louis"})
    with pytest.raises(ProfileError, match="city: string should match pattern"):
        parse_profile({**base, "columns": cols, "city": "St Louis"})
    # the fallback seed never contradicts a shipped profile that names its city
    with (PROJECT_ROOT / "seeds" / "city_names.csv").open(encoding="utf-8") as f:
        seeded = {r["source_profile"]: (r["city"], r["city_name"]) for r in csv.DictReader(f)}
    disagree = {
        name: (seeded[name], (p.city, p.city_name))
        for name, p in profiles.items()
        if p.city and name in seeded and seeded[name] != (p.city, p.city_name)
    }
    assert not disagree
    assert profiles["milwaukee_cfs"].city_name == "Milwaukee"
