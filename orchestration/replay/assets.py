"""marts.mart_dispatch_replay: each city's police response times replayed with each scenario's
calls moved to its responder (seeds/alternative_response_scenarios.csv), beside the replay with
nothing moved and the times observed. The model is in orchestration/replay/dispatch.py."""

import numpy as np
import pandas as pd
from dagster import AssetExecutionContext, AssetKey, MaterializeResult, MetadataValue, asset

from orchestration.python_marts import PythonMart
from orchestration.replay import dispatch
from orchestration.report.config import dbt_vars
from orchestration.resources import WarehouseResource

REPLAY_WEEKS = 8  # the latest complete weeks of each city: staffing changes over a year
NOTHING_MOVED = "nothing_moved"
CALLS_KEY = AssetKey(["marts", "fct_calls_for_service"])
SCENARIO_CALLS_KEY = AssetKey(["intermediate", "int_scenario_calls"])

COLUMNS = (
    ("city", "VARCHAR"),
    ("scenario", "VARCHAR"),
    ("priority", "VARCHAR"),
    ("window_start", "DATE"),
    ("window_end", "DATE"),
    ("calls_replayed", "BIGINT"),
    ("calls_moved", "BIGINT"),
    ("observed_median_minutes", "DOUBLE"),
    ("observed_p90_minutes", "DOUBLE"),
    ("replayed_median_minutes", "DOUBLE"),
    ("replayed_p90_minutes", "DOUBLE"),
    ("scenario_median_minutes", "DOUBLE"),
    ("scenario_p90_minutes", "DOUBLE"),
    ("change_median_minutes", "DOUBLE"),
    ("change_p90_minutes", "DOUBLE"),
    ("replay_reproduces_observed", "BOOLEAN"),
    ("units_on_duty_min", "INTEGER"),
    ("units_on_duty_max", "INTEGER"),
    ("units_on_duty_mean", "DOUBLE"),
    ("own_delays_drawn_share", "DOUBLE"),
    ("note", "VARCHAR"),
)
TABLE_DOC = (
    "Police response times (call to first unit on scene) replayed through a model of the city's dispatch queue, "
    f"over its latest {REPLAY_WEEKS} complete weeks: with nothing moved (the check against the observed times) and "
    "with each scenario's calls moved to its responder. Units on duty per hour of the week are the most seen busy "
    "at once; travel and time on a call are each call's own. Grain: city x scenario x priority."
)
COLUMN_DOCS = {
    "scenario": f"The scenario whose calls are moved, or '{NOTHING_MOVED}' (the check).",
    "window_start": "First day replayed (a Monday, local time).",
    "window_end": "Day after the last day replayed.",
    "calls_replayed": "Calls from the public of the priority kept with police, dispatched and reaching the scene.",
    "calls_moved": "Calls of the priority the scenario moves to its responder (not replayed).",
    "observed_median_minutes": "Median observed response time of the replayed calls.",
    "observed_p90_minutes": "90th percentile of the same.",
    "replayed_median_minutes": "Median response time of the same calls in the replay with nothing moved.",
    "replayed_p90_minutes": "90th percentile of the same.",
    "scenario_median_minutes": "Median response time of the same calls in the replay with the scenario's calls moved.",
    "scenario_p90_minutes": "90th percentile of the same.",
    "change_median_minutes": "scenario_median_minutes - replayed_median_minutes (negative: faster).",
    "change_p90_minutes": "scenario_p90_minutes - replayed_p90_minutes.",
    "replay_reproduces_observed": (
        f"True when, with nothing moved, every priority with enough calls replays within {dispatch.TOLERANCE:.0%} "
        f"or {dispatch.TOLERANCE_MINUTES:.0f} minute of its observed median and 90th percentile; the changes are "
        "published only then."
    ),
    "units_on_duty_min": "Fewest units on duty in an hour of the week (estimated: the most seen busy at once).",
    "units_on_duty_max": "Most units on duty in an hour of the week.",
    "units_on_duty_mean": "Mean units on duty over the 168 hours of the week.",
    "own_delays_drawn_share": (
        "Share of replayed calls that came in with every unit busy, whose own delay before dispatch is drawn from "
        "the same priority's calls that came in with a unit free."
    ),
    "note": "Why a row has no figures (too few calls, no complete week, a replay that does not match).",
}
REPLAY = PythonMart("mart_dispatch_replay", COLUMNS, TABLE_DOC, COLUMN_DOCS, module=__name__)
REPLAY_KEY = REPLAY.key

CALLS_SQL = """
SELECT coalesce(c.city, f.source_profile) AS city, f.call_key, coalesce(f.priority, 'unknown') AS priority,
       NOT f.is_officer_initiated AS public, greatest(coalesce(f.units_on_call, 1), 1) AS units,
       f.received_at_local,
       epoch(f.dispatched_at_utc) - epoch(f.received_at_utc) AS to_dispatched,
       epoch(f.arrived_at_utc) - epoch(f.received_at_utc) AS to_arrived,
       epoch(f.cleared_at_utc) - epoch(f.received_at_utc) AS to_cleared
FROM marts.fct_calls_for_service AS f
LEFT JOIN reference.city_source_profiles AS c ON f.source_profile = c.source_profile
WHERE f.received_at_local >= ? AND f.received_at_local < ? AND coalesce(c.city, f.source_profile) = ?
ORDER BY f.received_at_local, f.call_key  -- the draws of own delays follow this order: the same calls, the same mart
"""
SPANS_SQL = """
SELECT coalesce(c.city, f.source_profile) AS city, min(f.received_at_local) AS first, max(f.received_at_local) AS last
FROM marts.fct_calls_for_service AS f
LEFT JOIN reference.city_source_profiles AS c ON f.source_profile = c.source_profile
WHERE f.received_at_local IS NOT NULL
GROUP BY 1 ORDER BY 1
"""
MOVED_SQL = """
SELECT s.scenario, s.call_key
FROM intermediate.int_scenario_calls AS s
LEFT JOIN reference.city_source_profiles AS c ON s.source_profile = c.source_profile
WHERE s.scenario_outcome = 'moved' AND coalesce(c.city, s.source_profile) = ?
  AND s.received_at_local >= ? AND s.received_at_local < ?
"""
SCENARIOS_SQL = "SELECT scenario FROM reference.alternative_response_scenarios ORDER BY scenario"


def replay_window(first: pd.Timestamp, last: pd.Timestamp) -> tuple[pd.Timestamp, pd.Timestamp] | None:
    """The latest ``REPLAY_WEEKS`` complete weeks (Monday to Sunday) the calls cover, fewer if the
    calls cover fewer; None without one complete week."""
    end = last.normalize() + pd.Timedelta(days=1)
    end -= pd.Timedelta(days=end.weekday())  # the Monday after the last complete week
    earliest = first.normalize() + pd.Timedelta(days=(7 - first.weekday()) % 7)  # the first whole week's Monday
    start = max(end - pd.Timedelta(weeks=REPLAY_WEEKS), earliest)
    return (start, end) if start < end else None


def priority_ranks(priorities: pd.Series) -> np.ndarray:
    """0 for the most urgent: priorities that are numbers by their value (1 before 2), then the others
    by name ('unknown' last)."""
    names = sorted(
        priorities.unique(),
        key=lambda p: (0, float(p), "") if _is_number(p) else (1 + (p == "unknown"), 0.0, p),
    )
    return priorities.map({p: i for i, p in enumerate(names)}).to_numpy(dtype=np.int64)


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _calls(frame: pd.DataFrame, start: pd.Timestamp) -> dispatch.Calls:
    received = (pd.to_datetime(frame["received_at_local"]) - start).dt.total_seconds().to_numpy()
    return dispatch.Calls(
        received=received,
        dispatched=received + frame["to_dispatched"].to_numpy(dtype=float),
        arrived=received + frame["to_arrived"].to_numpy(dtype=float),
        cleared=received + frame["to_cleared"].to_numpy(dtype=float),
        units=frame["units"].to_numpy(dtype=float),
        priority_rank=priority_ranks(frame["priority"]),
        public=frame["public"].to_numpy(dtype=bool),
    )


def _minutes(values: np.ndarray, q: float) -> float:
    return float(np.quantile(values, q) / 60.0)


def _within(replayed: float, observed: float) -> bool:
    return abs(replayed - observed) <= max(dispatch.TOLERANCE * observed, dispatch.TOLERANCE_MINUTES)


def replay_city(
    city: str, frame: pd.DataFrame, window: tuple[pd.Timestamp, pd.Timestamp], moved: dict[str, set], k: int
) -> list[dict]:
    """The mart's rows for one city: a warm-up day before the window fills the units already busy
    when it opens; only calls received in the window are reported."""
    start, end = window
    calls = _calls(frame, start - pd.Timedelta(days=1))
    in_window = calls.received >= dispatch.HOUR * 24
    measured = calls.replayable & np.isfinite(calls.arrived) & in_window
    base = {"city": city, "window_start": start.date(), "window_end": end.date()}
    if not measured.any():
        return [
            {
                **base,
                "scenario": NOTHING_MOVED,
                "note": "not available: no call from the public has dispatch, on-scene and clear times to replay",
            }
        ]
    duty = dispatch.units_on_duty(calls)
    own, drawn = dispatch.own_delays(calls, duty)
    baseline = dispatch.replay(calls, duty, own, np.zeros(len(calls), bool))
    observed_response = calls.arrived - calls.received
    base |= {
        "units_on_duty_min": int(duty.min()),
        "units_on_duty_max": int(duty.max()),
        "units_on_duty_mean": float(duty.mean()),
        "own_delays_drawn_share": float(drawn[measured].mean()),
    }
    travel = calls.arrived - calls.dispatched
    replayed_response = baseline - calls.received + travel
    priorities = frame["priority"].to_numpy()
    checks = []
    rows = []
    for scenario in [NOTHING_MOVED, *sorted(moved)]:
        is_moved = frame["call_key"].isin(moved.get(scenario, set())).to_numpy()  # hashed, not sorted
        scenario_dispatch = baseline if scenario == NOTHING_MOVED else dispatch.replay(calls, duty, own, is_moved)
        scenario_response = scenario_dispatch - calls.received + travel
        for priority in sorted(set(priorities[measured]), key=lambda p: calls.priority_rank[priorities == p][0]):
            mine = measured & (priorities == priority) & ~is_moved
            row = {
                **base,
                "scenario": scenario,
                "priority": priority,
                "calls_replayed": int(mine.sum()),
                "calls_moved": int((is_moved & in_window & (priorities == priority)).sum()),
            }
            if mine.sum() < k:
                rows.append({**row, "note": f"not available: fewer than {k} calls of the priority to replay"})
                continue
            figures = {
                "observed_median_minutes": _minutes(observed_response[mine], 0.5),
                "observed_p90_minutes": _minutes(observed_response[mine], 0.9),
                "replayed_median_minutes": _minutes(replayed_response[mine], 0.5),
                "replayed_p90_minutes": _minutes(replayed_response[mine], 0.9),
                "scenario_median_minutes": _minutes(scenario_response[mine], 0.5),
                "scenario_p90_minutes": _minutes(scenario_response[mine], 0.9),
            }
            if scenario == NOTHING_MOVED:
                checks.append(
                    _within(figures["replayed_median_minutes"], figures["observed_median_minutes"])
                    and _within(figures["replayed_p90_minutes"], figures["observed_p90_minutes"])
                )
            rows.append({**row, **figures})
    reproduces = bool(checks) and all(checks)
    for row in rows:
        row["replay_reproduces_observed"] = reproduces
        if "scenario_median_minutes" not in row:
            continue
        if reproduces:
            row["change_median_minutes"] = row["scenario_median_minutes"] - row["replayed_median_minutes"]
            row["change_p90_minutes"] = row["scenario_p90_minutes"] - row["replayed_p90_minutes"]
        else:
            row["note"] = (
                "not available: with nothing moved the replay does not reproduce the observed response times "
                f"within {dispatch.TOLERANCE:.0%} or {dispatch.TOLERANCE_MINUTES:.0f} minute"
            )
    return rows


def replay_inputs(con, k: int) -> dict:
    """What the replay is given: per city, its window and the window's calls (with the warm-up
    day), and each scenario's calls moved in it; the scenarios and the disclosure threshold."""
    scenarios = [r[0] for r in con.execute(SCENARIOS_SQL).fetchall()]
    cities = []
    for city, first, last in con.execute(SPANS_SQL).fetchall():
        window = replay_window(pd.Timestamp(first), pd.Timestamp(last))
        if window is None:
            cities.append((city, None, None, None))
            continue
        start, end = window
        frame = con.execute(CALLS_SQL, [start - pd.Timedelta(days=1), end, city]).df()
        moved: dict[str, set] = {s: set() for s in scenarios}
        for scenario, key in con.execute(MOVED_SQL, [city, start, end]).fetchall():
            moved[scenario].add(key)
        cities.append((city, window, frame, moved))
    return {"k": k, "cities": cities}


def replay_frame(inputs: dict) -> pd.DataFrame:
    rows = []
    for city, window, frame, moved in inputs["cities"]:
        if window is None:
            rows.append({"city": city, "scenario": NOTHING_MOVED, "note": "not available: no complete week of calls"})
            continue
        try:
            rows.extend(replay_city(city, frame, window, moved, inputs["k"]))
        except Exception as exc:  # noqa: BLE001 (one city's replay that fails stops no other city's)
            note = f"not available: the replay failed ({type(exc).__name__}: {exc})"[:300]
            rows.append({"city": city, "scenario": NOTHING_MOVED, "note": note})
    return pd.DataFrame(rows).reindex(columns=REPLAY.column_names)


@asset(
    key=REPLAY_KEY,
    deps=[CALLS_KEY, SCENARIO_CALLS_KEY],
    group_name="marts",
    owners=["team:analytics"],
    description=(
        "Police response times per priority replayed through the city's dispatch queue with each scenario's "
        "calls moved to its responder, beside the replay with nothing moved and the observed times."
    ),
)
def mart_dispatch_replay(context: AssetExecutionContext, warehouse: WarehouseResource) -> MaterializeResult:
    k = int(dbt_vars()["min_cell_count"])
    built = REPLAY.build(warehouse, lambda con: replay_inputs(con, k), replay_frame)
    frame = built.frame
    checks = frame[frame["scenario"] == NOTHING_MOVED].drop_duplicates("city")
    context.log.info(
        f"{len(checks)} cities replayed; {int(checks['replay_reproduces_observed'].eq(True).sum())} "
        "reproduce their observed response times"
    )
    shown = frame[frame["scenario"] == NOTHING_MOVED].dropna(subset=["observed_median_minutes"])
    return MaterializeResult(
        metadata={
            **built.metadata,
            "rows": len(frame),
            "check": MetadataValue.md(
                "| city | priority | observed median | replayed | observed p90 | replayed |\n"
                "|---|---|---:|---:|---:|---:|\n"
                + "".join(
                    f"| {r.city} | {r.priority} | {r.observed_median_minutes:.1f} | {r.replayed_median_minutes:.1f} "
                    f"| {r.observed_p90_minutes:.1f} | {r.replayed_p90_minutes:.1f} |\n"
                    for r in shown.itertuples()
                )
            ),
        }
    )
