"""A county 911 feed of police, fire and EMS records, in the layout of Montgomery County's (PA)
published 911 calls (`lat,lng,desc,zip,title,timeStamp,twp,addr,e`, the discipline as the start of
`title`: `EMS: BACK PAINS/INJURY`, `Fire: GAS-ODOR/LEAK`, `Traffic: VEHICLE ACCIDENT -`).

The profile maps the title's prefix onto the agency; every record lands and is counted, and only
the police records (Traffic) enter the police marts, hours and costs. Counts are of the rows below.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from orchestration.landing.loader import land_file
from orchestration.landing.profiles import ProfileError, parse_profile
from tests.support.dbt import dbt_build
from tests.support.ledger import admit_every_batch

HEADER = "lat,lng,desc,zip,title,timeStamp,twp,addr,e\n"
# 4 EMS, 2 fire, 3 police (Traffic), 1 whose prefix the profile does not list (other)
ROWS = [
    ("EMS: BACK PAINS/INJURY", "2025-03-01 10:00:00"),
    ("EMS: CARDIAC EMERGENCY", "2025-03-01 10:05:00"),
    ("EMS: FALL VICTIM", "2025-03-01 11:00:00"),
    ("EMS: RESPIRATORY EMERGENCY", "2025-03-01 12:00:00"),
    ("Fire: GAS-ODOR/LEAK", "2025-03-01 13:00:00"),
    ("Fire: FIRE ALARM", "2025-03-01 14:00:00"),
    ("Traffic: VEHICLE ACCIDENT -", "2025-03-01 15:00:00"),
    ("Traffic: DISABLED VEHICLE -", "2025-03-01 16:00:00"),
    ("Traffic: VEHICLE ACCIDENT -", "2025-03-01 17:00:00"),
    ("Public Works: ROAD OBSTRUCTION", "2025-03-01 18:00:00"),
]
PROFILE = {
    "name": "montgomery_county_911",
    "source": "calls_for_service",
    "files": "*.csv",
    "timezone": "America/New_York",
    "columns": {
        "call_id": {"line_number": True},
        "received_at": "timeStamp",
        "call_type": "title",
        "latitude": "lat",
        "longitude": "lng",
        "block_address": "addr",
        "agency": {
            "column": "title",
            "match": "prefix",
            "values": {"EMS:": "ems", "Fire:": "fire", "Traffic:": "police"},
            "otherwise": "other",
        },
    },
}


def write_feed(path: Path) -> Path:
    lines = [f'40.29,-75.58,desc,19525,"{title}",{stamp},NEW HANOVER,REINDEER CT,1\n' for title, stamp in ROWS]
    path.write_text(HEADER + "".join(lines))
    return path


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    root = tmp_path_factory.mktemp("mixed_feed")
    warehouse = root / "w.duckdb"
    con = duckdb.connect(str(warehouse))
    land_file(con, write_feed(root / "montco_911.csv"), parse_profile(PROFILE))
    admit_every_batch(con)
    con.close()
    dbt_build(warehouse, root, ["+fct_calls_for_service", "+mart_classification_coverage"])
    con = duckdb.connect(str(warehouse), read_only=True)
    yield con
    con.close()


def test_the_title_prefix_gives_each_record_its_agency_at_landing(built):
    agencies = built.execute("SELECT agency, count(*) FROM raw.calls_for_service GROUP BY 1 ORDER BY 1").fetchall()
    assert agencies == [("ems", 4), ("fire", 2), ("other", 1), ("police", 3)]


def test_only_police_records_enter_the_police_fact_and_every_record_is_counted(built):
    police = built.execute("SELECT call_type FROM marts.fct_calls_for_service ORDER BY received_at_utc").fetchall()
    assert [r[0] for r in police] == [
        "TRAFFIC: VEHICLE ACCIDENT -",
        "TRAFFIC: DISABLED VEHICLE -",
        "TRAFFIC: VEHICLE ACCIDENT -",
    ]
    coverage = built.execute(
        "SELECT sum(calls), sum(other_agency_records), sum(calls_not_in_taxonomy) "
        "FROM marts.mart_classification_coverage"
    ).fetchone()
    # 3 police calls, 7 records of other agencies; only the police types are looked up in the taxonomy
    assert coverage == (3, 7, 3)
    staged = built.execute("SELECT count(*) FROM staging.stg_calls_for_service").fetchone()[0]
    assert staged == len(ROWS)  # nothing lost: file -> raw -> staging
    classes = built.execute(
        "SELECT service_category, count(*) FROM intermediate.int_calls_classified "
        "WHERE agency <> 'police' GROUP BY 1 ORDER BY 1"
    ).fetchall()
    assert classes == [("ems", 4), ("fire", 2), ("other_agency", 1)]


def test_a_prefix_match_needs_a_value_mapping():
    spec = {"column": "title", "match": "prefix"}
    with pytest.raises(ProfileError, match="match: prefix applies to a value mapping"):
        parse_profile({**PROFILE, "columns": {**PROFILE["columns"], "agency": spec}})
