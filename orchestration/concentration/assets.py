"""marts.mart_violence_concentration_intervals: mart_violence_concentration's Gini index and top-10 %
share with their 95 % intervals, beside what a random spread of the same crimes over the same places
gives (orchestration/concentration/measures.py). With few crimes over many places the Gini is high by
sparsity alone; this says how much of it chance would give."""

import zlib

import numpy as np
import pandas as pd
from dagster import AssetExecutionContext, AssetKey, MaterializeResult, MetadataValue, asset

from orchestration.concentration import measures
from orchestration.python_marts import PythonMart
from orchestration.report.config import dbt_vars
from orchestration.resources import WarehouseResource

CONCENTRATION_KEY = AssetKey(["marts", "mart_violence_concentration"])
PLACES_KEY = AssetKey(["intermediate", "int_violent_places"])
TOP_FRACTION = 0.10
MEASURES = ("gini_index", "top_10pct_share")
CONCENTRATED = "more concentrated than a random spread of the same crimes"
CHANCE = "no more concentrated than a random spread of the same crimes"

COLUMNS = (
    ("city", "VARCHAR"),
    ("period_type", "VARCHAR"),
    ("period_start", "DATE"),
    ("period_label", "VARCHAR"),
    ("place_level", "VARCHAR"),
    ("places", "BIGINT"),
    ("violent_crimes", "BIGINT"),
    *(
        (f"{prefix}{measure}{suffix}", "DOUBLE")
        for measure in MEASURES
        for prefix in ("", "random_spread_")
        for suffix in ("", "_low", "_high")
    ),
    ("verdict", "VARCHAR"),
    ("method", "VARCHAR"),
    ("note", "VARCHAR"),
)
METHOD = (
    f"95 % intervals: parametric bootstrap, the period's violent crimes drawn {measures.DRAWS:,} times over the "
    "places from each place's risk (its count shrunk toward the mean: gamma-Poisson empirical Bayes); the draws' "
    "central 95 % around their mean, placed around the observed value. Random spread: the same number of crimes "
    f"placed uniformly at random over the same places, {measures.DRAWS:,} times; its mean and central 95 %."
)
TABLE_DOC = (
    "How concentrated violent crime is, with its uncertainty and against chance: mart_violence_concentration's "
    "Gini index and top-10 % share over the fixed universe of places, their 95 % intervals, and the same measures "
    "when the same crimes fall on the same places at random (a Gini of 0.7 from 300 crimes over 1,000 blocks is "
    "mostly sparsity). Grain: city x period_type x period_start x place_level."
)
COLUMN_DOCS = {
    "places": "The fixed universe of places of the level (every area; every block with an incident in any period).",
    "violent_crimes": "Violent crimes placed at this level in the period (withheld below min_cell_count).",
    "gini_index": "Gini index over all places (mart_violence_concentration.gini_index).",
    "gini_index_low": "Lower end of its 95 % bootstrap interval (see method).",
    "gini_index_high": "Upper end of its 95 % bootstrap interval (see method).",
    "random_spread_gini_index": "Mean Gini index when the same crimes fall on the same places at random.",
    "random_spread_gini_index_low": "2.5th percentile of the random spreads' Gini index.",
    "random_spread_gini_index_high": "97.5th percentile of the random spreads' Gini index.",
    "top_10pct_share": (
        "Share of violent crime in the top 10 % of places (only where 10 % of the places is more than one place)."
    ),
    "top_10pct_share_low": "Lower end of its 95 % bootstrap interval (see method).",
    "top_10pct_share_high": "Upper end of its 95 % bootstrap interval (see method).",
    "random_spread_top_10pct_share": "Mean top-10 % share under a random spread.",
    "random_spread_top_10pct_share_low": "2.5th percentile of the random spreads' top-10 % share.",
    "random_spread_top_10pct_share_high": "97.5th percentile of the random spreads' top-10 % share.",
    "verdict": (
        "Whether the Gini index lies above the 97.5th percentile of the random spreads' (a one-sided test at 2.5 %)."
    ),
    "method": "How the intervals and the random spread were drawn.",
    "note": "Why a row has no measures.",
}
INTERVALS = PythonMart("mart_violence_concentration_intervals", COLUMNS, TABLE_DOC, COLUMN_DOCS, module=__name__)
INTERVALS_KEY = INTERVALS.key

SOURCE_SQL = """
SELECT c.city, c.period_type, c.period_start, c.period_label, c.place_level, c.places, p.violent_crimes
FROM marts.mart_violence_concentration AS c
LEFT JOIN intermediate.int_violent_places AS p
    ON c.city = p.city AND c.period_type = p.period_type AND c.period_start = p.period_start
    AND c.place_level = p.place_level AND p.violent_crimes > 0
ORDER BY c.city, c.period_type, c.period_start, c.place_level, p.violent_crimes DESC, p.place_id
"""
KEYS = ["city", "period_type", "period_start", "period_label", "place_level", "places"]


def _measured(counts: np.ndarray, places: int, seed: str) -> dict:
    """The measures of one city, period and level, their intervals and their random-spread benchmark."""
    rng = np.random.default_rng(zlib.crc32(seed.encode()))
    observed = measures.universe_counts(counts, places)
    resampled = measures.bootstrap(observed, rng)
    spread = measures.random_spread(int(observed.sum()), places, rng)
    row: dict = {}
    for measure, compute in (
        ("gini_index", measures.gini),
        ("top_10pct_share", lambda x: measures.top_share(x, TOP_FRACTION)),
    ):
        if measure == "top_10pct_share" and places * TOP_FRACTION <= 1:
            continue  # the top 10 % would be the top place alone (mart_violence_concentration's rule)
        row[measure] = float(compute(observed))
        row[f"{measure}_low"], row[f"{measure}_high"] = measures.interval_around(row[measure], compute(resampled))
        chance = compute(spread)
        row[f"random_spread_{measure}"] = float(np.mean(chance))
        row[f"random_spread_{measure}_low"], row[f"random_spread_{measure}_high"] = measures.interval(chance)
    row["verdict"] = CONCENTRATED if row["gini_index"] > row["random_spread_gini_index_high"] else CHANCE
    row["method"] = METHOD
    return row


def intervals_frame(source: pd.DataFrame, k: int) -> pd.DataFrame:
    rows = []
    for key, group in source.groupby(KEYS, sort=True, dropna=False):
        row = dict(zip(KEYS, key, strict=True))
        counts = group["violent_crimes"].dropna().to_numpy(dtype=np.int64)
        total = int(counts.sum())
        row["violent_crimes"] = total if total == 0 or total >= k else None
        if total == 0:
            row["note"] = "no violent crime placed in the period"
        elif total < k:
            row["note"] = f"fewer than {k} violent crimes: not published"
        else:
            row.update(_measured(counts, int(row["places"]), "|".join(map(str, key))))
        rows.append(row)
    return pd.DataFrame(rows).reindex(columns=INTERVALS.column_names)


@asset(
    key=INTERVALS_KEY,
    deps=[CONCENTRATION_KEY, PLACES_KEY],
    group_name="marts",
    owners=["team:analytics"],
    description=(
        "The violence concentration measures with 95 % bootstrap intervals, beside what a random spread of the "
        "same crimes over the same places gives."
    ),
)
def mart_violence_concentration_intervals(
    context: AssetExecutionContext, warehouse: WarehouseResource
) -> MaterializeResult:
    k = int(dbt_vars()["min_cell_count"])
    built = INTERVALS.build(
        warehouse, lambda con: (con.execute(SOURCE_SQL).df(), k), lambda inputs: intervals_frame(*inputs)
    )
    frame = built.frame
    judged = frame[frame["verdict"].notna()]
    concentrated = judged[judged["verdict"] == CONCENTRATED]
    context.log.info(f"{len(judged)} periods judged; {len(concentrated)} more concentrated than chance")
    latest = judged[judged["period_type"] == "year"]
    return MaterializeResult(
        metadata={
            **built.metadata,
            "rows": len(frame),
            "judged": len(judged),
            "more_concentrated_than_chance": len(concentrated),
            "years": MetadataValue.md(
                "| city | year | level | Gini (95 %) | random spread (95 %) |\n|---|---|---|---|---|\n"
                + "".join(
                    f"| {r.city} | {r.period_label} | {r.place_level} | {r.gini_index:.3f} "
                    f"({r.gini_index_low:.3f}-{r.gini_index_high:.3f}) | {r.random_spread_gini_index:.3f} "
                    f"({r.random_spread_gini_index_low:.3f}-{r.random_spread_gini_index_high:.3f}) |\n"
                    for r in latest.itertuples()
                )
            ),
        }
    )
