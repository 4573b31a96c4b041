"""The boundaries gate: a file of areas is admitted only if its polygons are valid, its ids unique,
the areas neither overlap nor leave holes between them beyond a tolerance (a share of the city's
area: dbt var ``boundary_gap_overlap_tolerance``), and every beat the city's calls, crimes and
stops name has a polygon (codes with no polygon may carry at most the same share of the records:
stray codes, which placing re-places by coordinates). Each outcome names what failed (area ids, places) in plain words.

Gaps are holes enclosed by the areas (space no area covers, inside the city's outline): a city's
outer edge is not known without an outline, so a missing area on the edge is caught by the
"every beat present" check instead.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np
import shapely


@dataclass(frozen=True)
class GateOutcome:
    check: str
    passed: bool
    failing: int
    detail: str


def _valid(ids: list[str], geoms: np.ndarray) -> GateOutcome:
    bad = [(i, shapely.is_valid_reason(g)) for i, g in zip(ids, geoms, strict=True) if not shapely.is_valid(g)]
    detail = "; ".join(f"area {i}: {reason}" for i, reason in bad[:10]) or "every polygon is valid"
    return GateOutcome("valid_polygons", not bad, len(bad), detail)


def _unique(ids: list[str]) -> GateOutcome:
    repeated = sorted(i for i, n in Counter(ids).items() if n > 1)
    detail = f"areas given more than once: {', '.join(repeated[:20])}" if repeated else "every area id is unique"
    return GateOutcome("unique_area_ids", not repeated, len(repeated), detail)


def _overlaps(ids: list[str], geoms: np.ndarray, tolerance: float, total: float) -> GateOutcome:
    tree = shapely.STRtree(geoms)
    left, right = tree.query(geoms, predicate="overlaps")
    keep = left < right
    left, right = left[keep], right[keep]
    shared = shapely.area(shapely.intersection(geoms[left], geoms[right])) if len(left) else np.array([])
    share = float(shared.sum()) / total if total else 0.0
    worst = np.argsort(-shared)[:5] if len(shared) else []
    pairs = ", ".join(f"{ids[left[k]]} and {ids[right[k]]} ({shared[k] / total:.2%})" for k in worst)
    passed = share <= tolerance
    detail = f"areas overlap on {share:.3%} of the city's area (tolerance {tolerance:.3%})" + (
        f": {pairs}" if pairs else ""
    )
    return GateOutcome("no_overlaps", passed, int(len(left)) if not passed else 0, detail)


def _gaps(geoms: np.ndarray, tolerance: float, total: float) -> GateOutcome:
    union = shapely.union_all(geoms)
    parts = list(getattr(union, "geoms", [union]))
    # the areas' outline with every hole filled, less the areas: what lies inside the city but in no area
    filled = shapely.union_all([shapely.Polygon(p.exterior) for p in parts])
    uncovered = shapely.difference(filled, union)
    holes = [h for h in getattr(uncovered, "geoms", [uncovered]) if not h.is_empty and h.area > 0]
    share = float(uncovered.area) / total if total else 0.0
    passed = share <= tolerance
    where = ", ".join(
        f"near {h.centroid.y:.4f}, {h.centroid.x:.4f} ({h.area / total:.2%})"
        for h in sorted(holes, key=lambda h: -h.area)[:5]
    )
    detail = f"{len(holes)} hole(s) between areas, {share:.3%} of the city's area (tolerance {tolerance:.3%})" + (
        f": {where}" if where else ""
    )
    pieces = len(getattr(filled, "geoms", [filled]))
    if pieces > 1:
        detail += f"; the areas form {pieces} separate pieces"
    return GateOutcome("no_gaps", passed, len(holes) if not passed else 0, detail)


def _present(ids: list[str], expected: dict[str, int], tolerance: float) -> GateOutcome:
    """Fails when the records naming a code with no polygon exceed the tolerance (a share of the
    city's located records): a beat missing from the file, not a stray typo (those are re-placed)."""
    missing = {code: n for code, n in expected.items() if code not in set(ids)}
    share = sum(missing.values()) / max(1, sum(expected.values()))
    named = ", ".join(f"{c} ({n:,} records)" for c, n in sorted(missing.items(), key=lambda x: (-x[1], x[0]))[:20])
    passed = share <= tolerance
    detail = (
        f"{len(missing)} area code(s) named in the city's records have no polygon, {share:.3%} of the records "
        f"(tolerance {tolerance:.3%}): {named}"
        if missing
        else f"all {len(expected)} areas named in the city's records have a polygon"
    )
    return GateOutcome("every_area_present", passed, 0 if passed else len(missing), detail)


def judge(ids: list[str], geoms: np.ndarray, expected: dict[str, int], tolerance: float) -> list[GateOutcome]:
    """Every check on one file's areas (lon/lat polygons); ``expected`` counts the records naming each area code."""
    if len(geoms) == 0:
        return [GateOutcome("has_areas", False, 1, "the file holds no polygon")]
    outcomes = [_valid(ids, geoms), _unique(ids)]
    # overlaps and gaps are measured on repaired copies, so one bad polygon does not hide the others' faults
    usable = shapely.make_valid(geoms)
    total = float(shapely.area(shapely.union_all(usable)))
    outcomes += [_overlaps(ids, usable, tolerance, total), _gaps(usable, tolerance, total)]
    if expected:
        outcomes.append(_present(ids, expected, tolerance))
    return outcomes
