"""The outcome test (Becker; Knox, Lowe and Mummolo; the Stanford Open Policing Project): if a
group's searches find contraband less often than the reference group's, the group was searched on
less evidence. Compared within each area, so that where people are searched does not pass for
how; pooled over the areas by Mantel-Haenszel.

Input: one row per city x year x area x race with the searches and hits *as published* by
mart_stop_equity (None where withheld). A test uses published counts only, so it discloses
nothing the marts do not already: an area is tested where both groups' searches and hits are
published and each group has at least ``min_searches`` searches; the pooled test uses those areas.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import fisher_exact
from statsmodels.stats.contingency_tables import StratifiedTable, Table2x2
from statsmodels.stats.multitest import multipletests

FALSE_DISCOVERY_RATE = 0.05
RESULT_COLUMNS = (
    "city", "year", "group", "reference_group", "area_id", "odds_ratio", "odds_ratio_low", "odds_ratio_high",
    "p_value", "areas_pooled", "heterogeneity_p_value", "method", "note",
)  # fmt: skip


def flag_discoveries(frame: pd.DataFrame, family: list[str]) -> pd.DataFrame:
    """``q_value`` and ``is_discovery``: Benjamini-Hochberg at ``FALSE_DISCOVERY_RATE`` over each
    family of tests (the rows sharing ``family``, the city row with its areas); untested rows none."""
    frame = frame.copy()
    frame["q_value"], frame["is_discovery"] = None, None
    tested = frame[frame["p_value"].notna()]
    for _, rows in tested.groupby(family, dropna=False):
        flags, adjusted, *_ = multipletests(rows["p_value"].to_numpy(), FALSE_DISCOVERY_RATE, "fdr_bh")
        frame.loc[rows.index, "q_value"] = adjusted
        frame.loc[rows.index, "is_discovery"] = flags
    return frame


def _table(row) -> np.ndarray:
    """[[group hits, group misses], [reference hits, reference misses]]."""
    return np.array(
        [
            [row.group_hits, row.group_searches - row.group_hits],
            [row.reference_hits, row.reference_searches - row.reference_hits],
        ],
        dtype=float,
    )


def paired(counts: pd.DataFrame, group: str, reference: str) -> pd.DataFrame:
    """The group's and the reference group's counts side by side, per city x year x area."""
    keys = ["city", "year", "area_id"]
    mine = counts[counts["race"] == group].set_index(keys)[["searches", "hits"]]
    theirs = counts[counts["race"] == reference].set_index(keys)[["searches", "hits"]]
    both = mine.add_prefix("group_").join(theirs.add_prefix("reference_"), how="outer")
    return both.reset_index()


def outcome_tests(counts: pd.DataFrame, group: str, reference: str, min_searches: int) -> pd.DataFrame:
    """Per city x year: one row per area, and one pooled row (area 'all'), with the odds ratio of a
    search finding something (group against reference), its 95 % interval and a p-value."""
    rows = []
    pairs = paired(counts, group, reference)
    for (city, year), areas in pairs.groupby(["city", "year"], sort=True):
        areas = areas[areas["area_id"] != "all"]
        published = areas.dropna(subset=["group_searches", "group_hits", "reference_searches", "reference_hits"])
        testable = published[
            (published["group_searches"] >= min_searches) & (published["reference_searches"] >= min_searches)
        ]
        base = {"city": city, "year": int(year), "group": group, "reference_group": reference}
        tested = []
        for area in sorted(areas["area_id"].unique()):
            row = {**base, "area_id": area}
            found = testable[testable["area_id"] == area]
            if found.empty:
                rows.append(
                    {**row, "note": f"not tested: searches or hits not published, or fewer than {min_searches}"}
                )
                continue
            table = _table(next(found.itertuples()))
            odds = Table2x2(table)  # adds 0.5 to every cell where one is 0
            low, high = odds.oddsratio_confint()
            tested.append(
                {
                    **row,
                    "odds_ratio": float(odds.oddsratio),
                    "odds_ratio_low": float(low),
                    "odds_ratio_high": float(high),
                    "p_value": float(fisher_exact(table).pvalue),
                    "method": "odds ratio (Woolf interval), Fisher's exact test",
                }
            )
        rows.extend(tested)
        rows.append({**base, "area_id": "all", **_pooled(testable)})
    return pd.DataFrame(rows).reindex(columns=list(RESULT_COLUMNS))


def _pooled(testable: pd.DataFrame) -> dict:
    strata = [_table(r) for r in testable.itertuples()]
    strata = [t for t in strata if t[0].sum() > 0 and t[1].sum() > 0]
    if len(strata) == 0:
        return {"note": "not tested: no area with both groups' searches and hits published"}
    pooled = StratifiedTable(strata)
    low, high = pooled.oddsratio_pooled_confint()
    return {
        "odds_ratio": float(pooled.oddsratio_pooled),
        "odds_ratio_low": float(low),
        "odds_ratio_high": float(high),
        "p_value": float(pooled.test_null_odds(correction=True).pvalue),
        "areas_pooled": len(strata),
        "heterogeneity_p_value": float(pooled.test_equal_odds().pvalue) if len(strata) > 1 else None,
        "method": "Mantel-Haenszel pooled odds ratio over the tested areas, Cochran-Mantel-Haenszel test",
    }
