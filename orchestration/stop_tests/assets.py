"""marts.mart_stop_disparity_tests: the outcome test within area (orchestration/stop_tests/outcome.py)
and the veil-of-darkness test (orchestration/stop_tests/darkness.py), per city, for each group
against the reference group, with intervals, p-values and false-discovery-rate flags over areas."""

import pandas as pd
from dagster import AssetExecutionContext, AssetKey, MaterializeResult, MetadataValue, asset

from orchestration.python_marts import PythonMart
from orchestration.report.config import dbt_vars
from orchestration.resources import WarehouseResource
from orchestration.stop_tests.darkness import veil_of_darkness
from orchestration.stop_tests.outcome import FALSE_DISCOVERY_RATE, flag_discoveries, outcome_tests

COMPARISONS = (("black", "white"), ("hispanic", "white"))  # (group, reference group)
STOP_EQUITY_KEY = AssetKey(["marts", "mart_stop_equity"])
STOPS_KEY = AssetKey(["staging", "stg_stops"])

COLUMNS = (
    ("city", "VARCHAR"),
    ("test", "VARCHAR"),
    ("group_value", "VARCHAR"),
    ("reference_group", "VARCHAR"),
    ("area_id", "VARCHAR"),
    ("period_start", "DATE"),
    ("period_end", "DATE"),
    ("odds_ratio", "DOUBLE"),
    ("odds_ratio_low", "DOUBLE"),
    ("odds_ratio_high", "DOUBLE"),
    ("p_value", "DOUBLE"),
    ("q_value", "DOUBLE"),
    ("is_discovery", "BOOLEAN"),
    ("areas_pooled", "INTEGER"),
    ("heterogeneity_p_value", "DOUBLE"),
    ("stops_in_window", "BIGINT"),
    ("verdict", "VARCHAR"),
    ("method", "VARCHAR"),
    ("note", "VARCHAR"),
)
TABLE_DOC = (
    "Stop disparity tests per city: the outcome test (do the group's searches find something as often as the "
    "reference group's, within each area and pooled by Mantel-Haenszel) per year, and the veil-of-darkness test "
    "(is the group's share of stops lower after dark at the same clock time) over the stops' whole period. "
    f"Areas are flagged at a false discovery rate of {FALSE_DISCOVERY_RATE:.0%} (Benjamini-Hochberg). "
    "Grain: city x test x group x area x period."
)
COLUMN_DOCS = {
    "test": "'outcome' or 'veil_of_darkness'.",
    "group_value": "The group compared (race as recorded).",
    "reference_group": "The group it is compared with.",
    "area_id": "The area, or 'all' for the city (outcome: pooled over the tested areas; darkness: area fixed effects).",
    "odds_ratio": (
        "Outcome: odds that a search of the group finds something, over the reference group's (below 1: searched "
        "on less evidence). Darkness: odds that a stop's subject is of the group after dark, over in daylight "
        "(below 1: fewer of the group stopped when race is harder to see)."
    ),
    "odds_ratio_low": "Lower end of its 95 % interval.",
    "odds_ratio_high": "Upper end of its 95 % interval.",
    "p_value": (
        "Fisher's exact test (an area's outcome), Cochran-Mantel-Haenszel (pooled), the model's Wald test (darkness)."
    ),
    "q_value": (
        "Benjamini-Hochberg adjusted p-value over the family: the city row and its areas, per test, group and period."
    ),
    "is_discovery": f"True when q_value is at most {FALSE_DISCOVERY_RATE}: a difference the test finds.",
    "areas_pooled": "Areas in the Mantel-Haenszel pool (outcome, city row).",
    "heterogeneity_p_value": "Breslow-Day test that the areas share one odds ratio (outcome, city row).",
    "stops_in_window": (
        "Stops of the two groups in the inter-twilight window (darkness; withheld below min_cell_count)."
    ),
    "verdict": "What the test says, in words.",
    "method": "How it was computed.",
    "note": "Why a row has no test (counts not published, too few stops, no coordinates or times).",
}
TESTS = PythonMart("mart_stop_disparity_tests", COLUMNS, TABLE_DOC, COLUMN_DOCS, module=__name__)
TESTS_KEY = TESTS.key

COUNTS_SQL = """
SELECT city, extract(year FROM period_start) AS year, area_id, group_value AS race, searches, search_hits AS hits
FROM marts.mart_stop_equity
WHERE period_type = 'year' AND group_type = 'race'
ORDER BY ALL
"""
STOPS_SQL = """
SELECT coalesce(c.city, s.source_profile) AS city, coalesce(s.beat, s.district, 'unknown') AS area_id,
       s.subject_race AS race, s.stopped_at_local, s.latitude, s.longitude, p.timezone
FROM staging.stg_stops AS s
LEFT JOIN reference.city_source_profiles AS c ON s.source_profile = c.source_profile
LEFT JOIN (SELECT DISTINCT source_profile, timezone FROM staging.stg_source_profiles) AS p
    ON s.source_profile = p.source_profile
ORDER BY s.stop_key  -- the models are fitted on the rows in one order: the same stops, the same mart
"""


def verdict(row: dict) -> str | None:
    """Words for a tested row: a difference only where it is a discovery."""
    if pd.isna(row["odds_ratio"]):
        return None
    if not row["is_discovery"]:
        return "no difference the data can tell"
    if row["test"] == "outcome":
        return (
            "the group's searches find something less often: searched on less evidence"
            if row["odds_ratio"] < 1
            else "the group's searches find something more often"
        )
    return (
        "the group's share of stops falls after dark: stops in daylight partly decided by what could be seen"
        if row["odds_ratio"] < 1
        else "the group's share of stops rises after dark"
    )


def stop_tests_frame(counts: pd.DataFrame, stops: pd.DataFrame, k: int) -> pd.DataFrame:
    rows: list[dict] = []
    for group, reference in COMPARISONS:
        outcome = outcome_tests(counts, group, reference, k)
        for r in outcome.to_dict("records"):
            year = int(r.pop("year"))
            rows.append(
                {
                    **r,
                    "test": "outcome",
                    "period_start": pd.Timestamp(year, 1, 1).date(),
                    "period_end": pd.Timestamp(year, 12, 31).date(),
                }
            )
        for city, mine in stops.groupby("city", sort=True):
            zone = mine["timezone"].dropna()
            for r in veil_of_darkness(mine, group, reference, zone.iloc[0] if len(zone) else None, city):
                rows.append({**r, "test": "veil_of_darkness"})
    frame = pd.DataFrame(rows).rename(columns={"group": "group_value"}).reindex(columns=TESTS.column_names)
    frame = flag_discoveries(frame, ["city", "test", "group_value", "period_start"])
    frame["verdict"] = [verdict(r) for r in frame.to_dict("records")]
    # a count of stops below the disclosure threshold is never published
    frame.loc[frame["stops_in_window"] < k, "stops_in_window"] = None
    return frame


@asset(
    key=TESTS_KEY,
    deps=[STOP_EQUITY_KEY, STOPS_KEY],
    group_name="marts",
    owners=["team:analytics"],
    description=(
        "The outcome test within area (Mantel-Haenszel pooled) and the veil-of-darkness test per city and group, "
        "with 95 % intervals and false-discovery-rate flags over areas."
    ),
)
def mart_stop_disparity_tests(context: AssetExecutionContext, warehouse: WarehouseResource) -> MaterializeResult:
    k = int(dbt_vars()["min_cell_count"])
    built = TESTS.build(
        warehouse,
        lambda con: (con.execute(COUNTS_SQL).df(), con.execute(STOPS_SQL).df(), k),
        lambda inputs: stop_tests_frame(*inputs),
    )
    frame = built.frame
    found = frame[frame["verdict"].notna() & (frame["verdict"] != "no difference the data can tell")]
    context.log.info(f"{frame['odds_ratio'].notna().sum()} tests run; {len(found)} find a difference")
    return MaterializeResult(
        metadata={
            **built.metadata,
            "rows": len(frame),
            "tests_run": int(frame["odds_ratio"].notna().sum()),
            "differences": MetadataValue.md(
                "| city | test | group | area | odds ratio | verdict |\n|---|---|---|---|---:|---|\n"
                + "".join(
                    f"| {r.city} | {r.test} | {r.group_value} | {r.area_id} | {r.odds_ratio:.2f} | {r.verdict} |\n"
                    for r in found.itertuples()
                )
            ),
        }
    )
