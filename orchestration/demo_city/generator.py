"""The demo city: a deterministic synthetic city whose extracts land like a real city's.

``generate(out_dir, scale, seed)`` writes one folder of CSV extracts (the way a city's
export would arrive: its own column names, local times, monthly files for the big
sources) and ``truth.json``, the machine-readable record of what was planted:

- a known call mix: the shares of non-criminal, alternative-eligible and officer-initiated
  calls follow from ``catalogue.CALL_TYPES``;
- a divergence area (beat ``3C``): stops run at five times its share of crime, and most of
  them end with at most a warning and find no contraband;
- a violent-crime hot spot (beat ``2B``): four times the violent-crime rate, with 30 % of
  its violent incidents on one block.

Scale 1.0 is 60,000 calls, 12,000 incidents, 8,000 stops and 20,000 311 requests in one
year. Each month is generated and written on its own, so memory stays bounded at any scale.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from orchestration.demo_city import catalogue as cat
from orchestration.demo_city.boundaries import BEATS_FILE, TRACTS_FILE, write_beat_boundaries, write_tracts
from orchestration.demo_city.plants import ProgramEffect, ResponseDrift, StopDisparities, plant_stop_disparities

YEAR = 2025
TIMEZONE = "America/Chicago"
BASE_ROWS = {
    "calls_for_service": 60_000,
    "incidents": 12_000,
    "stops": 8_000,
    "service_requests": 20_000,
}
DISTRICTS = ("1", "2", "3", "4")
BEAT_LETTERS = ("A", "B", "C", "D", "E")
BBOX = {
    "min_latitude": 41.80,
    "max_latitude": 41.96,
    "min_longitude": -87.80,
    "max_longitude": -87.55,
}
CENTRE = ((BBOX["min_latitude"] + BBOX["max_latitude"]) / 2, (BBOX["min_longitude"] + BBOX["max_longitude"]) / 2)
DIVERGENCE_BEAT = "3C"
DIVERGENCE_STOP_MULTIPLIER = 5.0
HOT_SPOT_BEAT = "2B"
HOT_SPOT_BLOCK = "1200 BLOCK W MADISON ST"
HOT_SPOT_VIOLENT_MULTIPLIER = 4.0
HOT_SPOT_BLOCK_SHARE = 0.30
# Every 40th crime report of a month (by report number) is geocoded but has no beat, as in many real
# crime extracts; placing it by its point puts it back in its beat (orchestration/boundaries/placing.py).
# No random draw changes: the point is drawn in the beat as before, only the beat is left out.
INCIDENT_WITHOUT_BEAT_EVERY = 40
SURVEY_WAVES = (
    ("2025-W1", "2025-03-01", "2025-03-31", 3.10),
    ("2025-W2", "2025-10-01", "2025-10-31", 3.40),
)
DIURNAL = np.array(
    [
        3,
        2.5,
        2,
        1.5,
        1.2,
        1.2,
        2,
        3,
        4,
        4.5,
        4.8,
        5,
        5.2,
        5.2,
        5.3,
        5.5,
        5.8,
        6,
        6,
        5.8,
        5.4,
        5,
        4.5,
        3.8,
    ]
)
DIURNAL = DIURNAL / DIURNAL.sum()
STOP_OUTCOMES = ("arrest", "citation", "warning", "none")
STOP_OUTCOME_P = {"normal": (0.05, 0.40, 0.30, 0.25), "divergence": (0.01, 0.07, 0.07, 0.85)}
SEARCH_P = {"normal": 0.07, "divergence": 0.10}
HIT_P = {"normal": 0.30, "divergence": 0.10}


def _rng(seed: int, *keys: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence([seed, *keys]))


def build_areas(seed: int) -> pd.DataFrame:
    """Twenty beats in a 5 x 4 grid, one district per grid row, with populations and risk."""
    rng = _rng(seed, 0)
    rows = []
    lat_step = (BBOX["max_latitude"] - BBOX["min_latitude"]) / len(DISTRICTS)
    lon_step = (BBOX["max_longitude"] - BBOX["min_longitude"]) / len(BEAT_LETTERS)
    for d_idx, district in enumerate(DISTRICTS):
        for b_idx, letter in enumerate(BEAT_LETTERS):
            beat = f"{district}{letter}"
            population = int(rng.integers(6_000, 24_000))
            risk = float(rng.uniform(0.6, 1.6))
            if beat == HOT_SPOT_BEAT:
                population, risk = 15_000, 1.2
            if beat == DIVERGENCE_BEAT:
                population, risk = 14_000, 0.8
            rows.append(
                {
                    "beat": beat,
                    "beat_name": f"Beat {beat}",
                    "district": district,
                    "district_name": f"District {district}",
                    "population": population,
                    "risk": risk,
                    "min_latitude": round(BBOX["min_latitude"] + d_idx * lat_step, 5),
                    "max_latitude": round(BBOX["min_latitude"] + (d_idx + 1) * lat_step, 5),
                    "min_longitude": round(BBOX["min_longitude"] + b_idx * lon_step, 5),
                    "max_longitude": round(BBOX["min_longitude"] + (b_idx + 1) * lon_step, 5),
                }
            )
    return pd.DataFrame(rows)


def area_weights(areas: pd.DataFrame) -> dict[str, np.ndarray]:
    """Probability of each beat for each kind of event (rows in ``areas`` order)."""
    crime = areas["population"].to_numpy() * areas["risk"].to_numpy()
    is_hot = (areas["beat"] == HOT_SPOT_BEAT).to_numpy()
    is_div = (areas["beat"] == DIVERGENCE_BEAT).to_numpy()
    violent = crime * np.where(is_hot, HOT_SPOT_VIOLENT_MULTIPLIER, 1.0)
    crime_share = crime / crime.sum()
    # Stops track crime everywhere except the divergence beat, where they run at 5x its crime share.
    stop_share = crime_share.copy()
    stop_share[is_div] = crime_share[is_div] * DIVERGENCE_STOP_MULTIPLIER
    stop_share[~is_div] *= (1 - stop_share[is_div].sum()) / stop_share[~is_div].sum()
    demand = areas["population"].to_numpy() * (0.5 + 0.5 * areas["risk"].to_numpy())
    return {
        "crime": crime_share,
        "violent": violent / violent.sum(),
        "stops": stop_share,
        "demand": demand / demand.sum(),
        "population": areas["population"].to_numpy() / areas["population"].sum(),
    }


def _month_counts(total: int) -> list[tuple[int, int]]:
    """(month, rows) with rows in proportion to the month's days, adding up to ``total``."""
    days = np.array([pd.Period(f"{YEAR}-{m:02d}").days_in_month for m in range(1, 13)])
    counts = np.floor(total * days / days.sum()).astype(int)
    counts[: total - counts.sum()] += 1
    return list(zip(range(1, 13), counts.tolist(), strict=True))


def _local_times(rng: np.random.Generator, month: int, n: int) -> np.ndarray:
    """Local wall-clock times in the month, following the daily rhythm of demand."""
    start = np.datetime64(f"{YEAR}-{month:02d}-01T00:00:00")
    days = pd.Period(f"{YEAR}-{month:02d}").days_in_month
    day = rng.integers(0, days, n)
    hour = rng.choice(24, size=n, p=DIURNAL)
    second = rng.integers(0, 3600, n)
    return start + (day * 86400 + hour * 3600 + second).astype("timedelta64[s]")


def _points(rng: np.random.Generator, areas: pd.DataFrame, beat_idx: np.ndarray):
    lat = rng.uniform(areas["min_latitude"].to_numpy()[beat_idx], areas["max_latitude"].to_numpy()[beat_idx])
    lon = rng.uniform(areas["min_longitude"].to_numpy()[beat_idx], areas["max_longitude"].to_numpy()[beat_idx])
    return np.round(lat, 6), np.round(lon, 6)


def _pick(labels, codes) -> pd.Categorical:
    """Labels by code, as a categorical: far cheaper than building millions of strings."""
    return pd.Categorical.from_codes(np.asarray(codes, dtype="int32"), categories=list(labels))


def _flag(mask: np.ndarray, labels=("FALSE", "TRUE")) -> pd.Categorical:
    return _pick(labels, mask.astype("int8"))


def _block_parts(rng: np.random.Generator, n: int) -> tuple[np.ndarray, pd.Categorical]:
    """(hundreds, street) of a block address, written as '<hundreds>00 BLOCK <street>'."""
    return rng.integers(1, 60, n), _pick(cat.STREETS, rng.integers(0, len(cat.STREETS), n))


BLOCK_SQL = "CAST(_block_no * 100 AS VARCHAR) || ' BLOCK ' || _street"


def _id_sql(column: str, prefix: str, width: int) -> str:
    """Ids are written as a prefix and a zero-padded sequence number, composed in SQL."""
    return f"'{prefix}' || lpad(CAST(\"{column}\" AS VARCHAR), {width}, '0')"


def _minutes(values: np.ndarray) -> np.ndarray:
    return (values * 60).astype("int64").astype("timedelta64[s]")


def _write(
    frame: pd.DataFrame, path: Path, time_columns: dict[str, str], expressions: dict[str, str] | None = None
) -> int:
    """Write a frame as CSV through DuckDB: timestamps formatted the way the city does, ids and
    block addresses composed in SQL, helper columns (named ``_...``) left out."""
    path.parent.mkdir(parents=True, exist_ok=True)
    expressions = expressions or {}

    def column_sql(c: str) -> str:
        if c in expressions:
            return f'{expressions[c]} AS "{c}"'
        if c in time_columns:
            return f'strftime("{c}", \'{time_columns[c]}\') AS "{c}"'
        return f'"{c}"'

    cols = [column_sql(c) for c in frame.columns if not c.startswith("_")]
    con = duckdb.connect()
    con.register("frame", frame)
    con.execute(f"COPY (SELECT {', '.join(cols)} FROM frame) TO '{path}' (HEADER, DELIMITER ',')")
    con.close()
    return len(frame)


# A call from the public is cancelled before anyone arrives this often; the others end with one
# of these dispositions (a cancelled call's disposition is CANCELLED).
CANCELLED_SHARE = 0.04
DISPOSITION_SHARES = {
    "REPORT TAKEN": 0.25,
    "ADVISED": 0.3,
    "ARREST": 0.05,
    "CITATION": 0.1,
    "GONE ON ARRIVAL": 0.1,
    "NO ACTION": 0.2,
}


def _calls(
    seed: int,
    areas: pd.DataFrame,
    weights: dict,
    month: int,
    n: int,
    drift: ResponseDrift | None = None,
    program: ProgramEffect | None = None,
) -> tuple[pd.DataFrame, dict]:
    rng = _rng(seed, 1, month)
    types = cat.CALL_TYPES
    p = np.array([t.weight for t in types])
    t_idx = rng.choice(len(types), size=n, p=p / p.sum())
    oi = np.array([t.officer_initiated for t in types])[t_idx]
    beat_idx = np.where(
        oi,
        rng.choice(len(areas), size=n, p=weights["stops"]),
        rng.choice(len(areas), size=n, p=weights["demand"]),
    )
    pri_table = np.array([t.priorities for t in types])
    cum = pri_table[t_idx].cumsum(axis=1)
    priority = (rng.random(n)[:, None] > cum).sum(axis=1) + 1
    received = _local_times(rng, month, n)
    dispatch_mean = np.array([0, 1.5, 4, 12, 25])[priority]
    if drift is not None and month >= drift.from_month:
        drifting = (priority == drift.priority) & (np.array(DISTRICTS)[beat_idx // len(BEAT_LETTERS)] == drift.district)
        dispatch_mean = np.where(drifting, dispatch_mean * drift.factor, dispatch_mean)
    travel_mean = np.array([0, 5, 8, 12, 15])[priority]
    scene_mean = np.array([t.minutes_on_scene for t in types])[t_idx]
    dispatched = received + _minutes(rng.exponential(dispatch_mean))
    enroute = dispatched + _minutes(rng.exponential(0.5, n))
    arrived = enroute + _minutes(rng.gamma(3.0, travel_mean / 3.0))
    cancelled = (~oi) & (rng.random(n) < CANCELLED_SHARE)
    # Officer-initiated events start on scene: received = dispatched = arrived.
    dispatched = np.where(oi, received, dispatched)
    enroute = np.where(oi, received, enroute)
    arrived = np.where(oi, received, arrived)
    cleared = arrived + _minutes(rng.gamma(2.0, scene_mean / 2.0))
    cleared = np.where(cancelled, dispatched + _minutes(np.full(n, 10.0)), cleared)
    units = np.where(priority == 1, rng.integers(2, 4, n), np.where(priority == 2, rng.integers(1, 3, n), 1))
    codes = [t.code for t in types]
    alarm = codes.index("ALARM")
    source = np.where(oi, 0, np.where(rng.random(n) < 0.65, 1, 2))
    source = np.where(t_idx == alarm, 3, source)
    dispositions = (*DISPOSITION_SHARES, "CANCELLED")
    disposition = rng.choice(6, size=n, p=list(DISPOSITION_SHARES.values()))
    disposition = np.where(cancelled, 6, disposition)
    lat, lon = _points(rng, areas, beat_idx)
    no_point = rng.random(n) < 0.01
    # Calls change type between intake and close about 8 % of the time; the final type counts.
    initial = np.where(rng.random(n) < 0.08, rng.integers(0, len(types), n), t_idx)
    block_no, street = _block_parts(rng, n)
    frame = pd.DataFrame(
        {
            "incident_number": np.arange(n),
            "call_source": _pick(("officer-initiated", "911", "non-emergency", "alarm"), source),
            "self_initiated": _flag(oi, ("N", "Y")),
            "initial_type": _pick(codes, initial),
            "final_type": _pick(codes, t_idx),
            "final_type_desc": _pick([t.description for t in types], t_idx),
            "priority": priority,
            "time_received": received,
            "time_dispatched": dispatched,
            "time_enroute": np.where(oi, np.datetime64("NaT"), enroute),
            "time_arrived": np.where(cancelled, np.datetime64("NaT"), arrived),
            "time_cleared": cleared,
            "disposition": _pick(dispositions, disposition),
            "beat": _pick(areas["beat"], beat_idx),
            "district": _pick(DISTRICTS, beat_idx // len(BEAT_LETTERS)),
            "lat": np.where(no_point, np.nan, lat),
            "lon": np.where(no_point, np.nan, lon),
            "block": 0,
            "units": units,
            "_block_no": block_no,
            "_street": street,
        }
    )
    sql = {"incident_number": _id_sql("incident_number", f"C{YEAR}{month:02d}", 7), "block": BLOCK_SQL}
    if program is not None and month >= program.from_month:
        category = np.array([t.category for t in types])[t_idx]
        taken = (category == program.category) & ~oi & (frame["district"].to_numpy() == program.district)
        dropped = taken & (_rng(seed, 97, month).random(n) >= program.kept_share)
        frame = frame[~dropped]
    return frame.sort_values("time_received", kind="stable"), sql


def _incidents(seed: int, areas: pd.DataFrame, weights: dict, month: int, n: int) -> tuple[pd.DataFrame, dict]:
    rng = _rng(seed, 2, month)
    offences = cat.OFFENCES
    p = np.array([o.weight for o in offences])
    o_idx = rng.choice(len(offences), size=n, p=p / p.sum())
    violent = np.array([o.violent for o in offences])[o_idx]
    beat_idx = np.where(
        violent,
        rng.choice(len(areas), size=n, p=weights["violent"]),
        rng.choice(len(areas), size=n, p=weights["crime"]),
    )
    beats = areas["beat"].to_numpy()[beat_idx]
    block_no, street = _block_parts(rng, n)
    on_hot_block = violent & (beats == HOT_SPOT_BEAT) & (rng.random(n) < HOT_SPOT_BLOCK_SHARE)
    hot_no, hot_street = HOT_SPOT_BLOCK.split(" BLOCK ")
    block_no = np.where(on_hot_block, int(hot_no) // 100, block_no)
    street = _pick(cat.STREETS, np.where(on_hot_block, cat.STREETS.index(hot_street), street.codes))
    reported = _local_times(rng, month, n)
    occurred = reported - _minutes(rng.exponential(240, n))
    lat, lon = _points(rng, areas, beat_idx)
    arrest = rng.random(n) < np.array([o.arrest_rate for o in offences])[o_idx]
    without_beat = np.arange(n) % INCIDENT_WITHOUT_BEAT_EVERY == INCIDENT_WITHOUT_BEAT_EVERY - 1
    frame = pd.DataFrame(
        {
            "report_no": np.arange(n),
            "nibrs_code": _pick([o.code for o in offences], o_idx),
            "offense": _pick([o.description for o in offences], o_idx),
            "crime_against": np.array([o.category for o in offences])[o_idx],
            "violent": _flag(violent),
            "reported_date": reported,
            "occurred_date": occurred,
            "beat": _pick(areas["beat"], np.where(without_beat, -1, beat_idx)),
            "_beat": _pick(areas["beat"], beat_idx),
            "district": _pick(DISTRICTS, beat_idx // len(BEAT_LETTERS)),
            "latitude": lat,
            "longitude": lon,
            "block_address": 0,
            "arrest": _flag(arrest),
            "_block_no": block_no,
            "_street": street,
        }
    )
    sql = {"report_no": _id_sql("report_no", f"R{YEAR}{month:02d}", 6), "block_address": BLOCK_SQL}
    return frame.sort_values("reported_date", kind="stable"), sql


def _stops(
    seed: int, areas: pd.DataFrame, weights: dict, month: int, n: int, disparities: StopDisparities | None = None
) -> tuple[pd.DataFrame, dict]:
    rng = _rng(seed, 3, month)
    beat_idx = rng.choice(len(areas), size=n, p=weights["stops"])
    div = areas["beat"].to_numpy()[beat_idx] == DIVERGENCE_BEAT
    u = rng.random(n)
    outcome_idx = np.where(
        div,
        (u[:, None] > np.cumsum(STOP_OUTCOME_P["divergence"])[None, :]).sum(axis=1),
        (u[:, None] > np.cumsum(STOP_OUTCOME_P["normal"])[None, :]).sum(axis=1),
    )
    searched = rng.random(n) < np.where(div, SEARCH_P["divergence"], SEARCH_P["normal"])
    found = searched & (rng.random(n) < np.where(div, HIT_P["divergence"], HIT_P["normal"]))
    lat, lon = _points(rng, areas, beat_idx)
    frame = pd.DataFrame(
        {
            "stop_id": np.arange(n),
            "stop_datetime": _local_times(rng, month, n),
            "beat": _pick(areas["beat"], beat_idx),
            "district": _pick(DISTRICTS, beat_idx // len(BEAT_LETTERS)),
            "lat": lat,
            "lng": lon,
            "type": _flag(rng.random(n) < 0.75, ("pedestrian", "vehicular")),
            "reason_for_stop": _pick(
                ("moving violation", "equipment", "suspicious behaviour", "call for service"),
                rng.choice(4, size=n, p=[0.5, 0.2, 0.2, 0.1]),
            ),
            "subject_age": rng.integers(16, 80, n),
            "subject_race": _pick(cat.RACES, rng.choice(len(cat.RACES), size=n, p=cat.RACE_SHARES)),
            "subject_sex": _flag(rng.random(n) < 0.68, ("female", "male")),
            "search_conducted": _flag(searched),
            "contraband_found": _flag(found),
            "outcome": _pick(STOP_OUTCOMES, outcome_idx),
        }
    )
    if disparities is not None:
        frame = plant_stop_disparities(frame, disparities, _rng(seed, 98, month), CENTRE, TIMEZONE)
    return frame.sort_values("stop_datetime", kind="stable"), {"stop_id": _id_sql("stop_id", f"S{YEAR}{month:02d}", 6)}


def _service_requests(seed: int, areas: pd.DataFrame, weights: dict, month: int, n: int) -> tuple[pd.DataFrame, dict]:
    rng = _rng(seed, 4, month)
    names = [s for s, _ in cat.SERVICE_REQUEST_TYPES]
    p = np.array([w for _, w in cat.SERVICE_REQUEST_TYPES], dtype=float)
    beat_idx = rng.choice(len(areas), size=n, p=weights["population"])
    created = _local_times(rng, month, n)
    open_ = rng.random(n) < 0.12
    closed = created + _minutes(rng.exponential(60 * 24 * 4, n))
    lat, lon = _points(rng, areas, beat_idx)
    service = rng.choice(len(names), size=n, p=p / p.sum())
    is_211 = np.array(["(211)" in s for s in names])[service]
    channel = np.where(is_211, 3, rng.choice(3, size=n, p=[0.5, 0.3, 0.2]))
    frame = pd.DataFrame(
        {
            "sr_number": np.arange(n),
            "channel": _pick(("phone", "app", "web", "211"), channel),
            "sr_type": _pick(names, service),
            "created_date": created,
            "closed_date": np.where(open_, np.datetime64("NaT"), closed),
            "status": _flag(open_, ("Closed", "Open")),
            "beat": _pick(areas["beat"], beat_idx),
            "district": _pick(DISTRICTS, beat_idx // len(BEAT_LETTERS)),
            "latitude": lat,
            "longitude": lon,
        }
    )
    sql = {"sr_number": _id_sql("sr_number", f"SR{YEAR}{month:02d}", 6)}
    return frame.sort_values("created_date", kind="stable"), sql


def _budget(seed: int) -> pd.DataFrame:
    rng = _rng(seed, 5)
    rows = []
    for fy, growth in ((YEAR - 1, 0.96), (YEAR, 1.0)):
        for i, (dept, program, area, amount, fte) in enumerate(cat.BUDGET_PROGRAMS, start=1):
            budgeted = round(amount * growth, -3)
            rows.append(
                {
                    "line_id": f"FY{fy}-{i:02d}",
                    "fiscal_year": fy,
                    "department": dept,
                    "program": program,
                    "service_area": area,
                    "adopted_budget": budgeted,
                    "actual_spend": round(budgeted * rng.uniform(0.93, 1.06), 2),
                    "fte": fte,
                }
            )
    return pd.DataFrame(rows)


def _survey(seed: int, areas: pd.DataFrame, weights: dict, scale: float) -> pd.DataFrame:
    rng = _rng(seed, 6)
    frames = []
    n = max(200, int(round(1_200 * scale)))
    for wave, start, _end, trust_mean in SURVEY_WAVES:
        beat_idx = rng.choice(len(areas), size=n, p=weights["population"])
        risk = areas["risk"].to_numpy()[beat_idx]

        def likert(mean, size=n):
            return np.clip(np.rint(rng.normal(mean, 1.0, size)), 1, 5).astype(int)

        day = np.datetime64(start) + rng.integers(0, 28, n).astype("timedelta64[D]")
        frames.append(
            pd.DataFrame(
                {
                    "response_id": [f"{wave}-{i:05d}" for i in range(n)],
                    "wave": wave,
                    "response_date": pd.to_datetime(day).strftime("%m/%d/%Y"),
                    "beat": areas["beat"].to_numpy()[beat_idx],
                    "q1_safe_day": likert(4.3 - 0.5 * risk),
                    "q2_safe_night": likert(3.6 - 0.7 * risk),
                    "q3_trust_police": likert(np.full(n, trust_mean)),
                    "q4_treated_fairly": likert(np.full(n, trust_mean - 0.1)),
                    "weight": np.round(rng.uniform(0.5, 2.0, n), 3),
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def planted_call_shares() -> dict[str, float]:
    """The call mix's planted shares, straight from the catalogue's weights."""
    total = sum(t.weight for t in cat.CALL_TYPES)
    by_category: dict[str, float] = {}
    for t in cat.CALL_TYPES:
        by_category[t.category] = by_category.get(t.category, 0) + t.weight / total
    return {
        "non_criminal": sum(t.weight for t in cat.CALL_TYPES if not t.criminal) / total,
        "alternative_eligible": sum(t.weight for t in cat.CALL_TYPES if t.alternative != "none") / total,
        "officer_initiated": sum(t.weight for t in cat.CALL_TYPES if t.officer_initiated) / total,
        "by_category": {k: round(v, 6) for k, v in sorted(by_category.items())},
    }


def planted_alternative_calls() -> dict[str, dict[str, float]]:
    """Per alternative responder: the share of all calls it could take, and of those the share
    outside priority 1 and outside priorities 1-2 (a scenario keeps those with police), and the
    chance a call from the public ends in an arrest (a scenario keeps those too)."""
    total = sum(t.weight for t in cat.CALL_TYPES)
    planted: dict[str, dict[str, float]] = {}
    for t in cat.CALL_TYPES:
        if t.alternative == "none" or t.officer_initiated:
            continue
        entry = planted.setdefault(t.alternative, {"share": 0.0, "share_not_p1": 0.0, "share_not_p1_p2": 0.0})
        entry["share"] += t.weight / total
        entry["share_not_p1"] += t.weight / total * (1 - t.priorities[0])
        entry["share_not_p1_p2"] += t.weight / total * (1 - t.priorities[0] - t.priorities[1])
    arrest = (1 - CANCELLED_SHARE) * DISPOSITION_SHARES["ARREST"]
    return {r: {**{k: round(v, 6) for k, v in e.items()}, "arrest_share": arrest} for r, e in sorted(planted.items())}


def generate(
    out_dir: Path,
    scale: float = 1.0,
    seed: int = 20250101,
    progress=print,
    drift: ResponseDrift | None = None,
    program: ProgramEffect | None = None,
    disparities: StopDisparities | None = None,
) -> dict:
    """Write the demo city's extracts and truth.json into ``out_dir``; returns the truth."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    areas = build_areas(seed)
    weights = area_weights(areas)
    files: dict[str, dict[str, int]] = {}
    without_beat: dict[str, int] = {}  # records written without their beat, by the beat their point is in

    def record(source: str, path: Path, rows: int) -> None:
        files.setdefault(source, {})[path.name] = rows

    record(
        "areas",
        out_dir / "areas.csv",
        _write(areas.drop(columns=["risk"]), out_dir / "areas.csv", {}),
    )
    # the beats' polygons (landed by their own profile, source_profiles/boundaries/, not a batch of raw.batches)
    boundaries = write_beat_boundaries(areas, out_dir / BEATS_FILE)
    tracts = write_tracts(areas, out_dir / TRACTS_FILE)
    builders = {
        "calls_for_service": (
            _calls,
            {
                c: "%Y-%m-%dT%H:%M:%S"
                for c in (
                    "time_received",
                    "time_dispatched",
                    "time_enroute",
                    "time_arrived",
                    "time_cleared",
                )
            },
        ),
        "incidents": (
            _incidents,
            {"reported_date": "%m/%d/%Y %I:%M:%S %p", "occurred_date": "%m/%d/%Y %I:%M:%S %p"},
        ),
        "stops": (_stops, {"stop_datetime": "%Y-%m-%d %H:%M:%S"}),
        "service_requests": (
            _service_requests,
            {"created_date": "%Y-%m-%d %H:%M:%S", "closed_date": "%Y-%m-%d %H:%M:%S"},
        ),
    }
    for source, (builder, time_columns) in builders.items():
        total = max(12, int(round(BASE_ROWS[source] * scale)))
        progress(f"demo city: writing {total:,} {source.replace('_', ' ')} ...")
        for month, n in _month_counts(total):
            path = out_dir / source / f"{source}_{YEAR}-{month:02d}.csv"
            extra = {"drift": drift, "program": program} if builder is _calls else {}
            extra = {"disparities": disparities} if builder is _stops else extra
            frame, expressions = builder(seed, areas, weights, month, n, **extra)
            if "_beat" in frame:
                for beat, count in frame.loc[frame["beat"].isna(), "_beat"].value_counts().items():
                    if count:
                        without_beat[str(beat)] = without_beat.get(str(beat), 0) + int(count)
            record(source, path, _write(frame, path, time_columns, expressions))
    record("budget", out_dir / "budget.csv", _write(_budget(seed), out_dir / "budget.csv", {}))
    survey = _survey(seed, areas, weights, scale)
    record(
        "survey_responses",
        out_dir / "survey_responses.csv",
        _write(survey, out_dir / "survey_responses.csv", {}),
    )

    truth = {
        "seed": seed,
        "scale": scale,
        "year": YEAR,
        "timezone": TIMEZONE,
        "bounding_box": BBOX,
        "files": files,
        "rows": {source: sum(f.values()) for source, f in files.items()},
        "planted": {
            "call_shares": planted_call_shares(),
            "alternative_calls": planted_alternative_calls(),
            "response_drift": asdict(drift) if drift is not None else None,
            "program_effect": asdict(program) if program is not None else None,
            "stop_disparities": asdict(disparities) if disparities is not None else None,
            "call_types": [asdict(t) for t in cat.CALL_TYPES],
            "divergence_area": {
                "beat": DIVERGENCE_BEAT,
                "stop_share_over_crime_share": DIVERGENCE_STOP_MULTIPLIER,
                "outcome_probabilities": dict(zip(STOP_OUTCOMES, STOP_OUTCOME_P["divergence"], strict=True)),
                "periods": [f"{YEAR}-{m:02d}" for m in range(1, 13)],
            },
            "normal_stop_outcome_probabilities": dict(zip(STOP_OUTCOMES, STOP_OUTCOME_P["normal"], strict=True)),
            "violent_hot_spot": {
                "beat": HOT_SPOT_BEAT,
                "block": HOT_SPOT_BLOCK,
                "violent_rate_multiplier": HOT_SPOT_VIOLENT_MULTIPLIER,
                "block_share_of_beat_violence": HOT_SPOT_BLOCK_SHARE,
            },
            "survey_trust_police_mean": {w: m for w, _s, _e, m in SURVEY_WAVES},
            "boundaries": {"file": BEATS_FILE, "level": "beat", "areas": boundaries},
            "incidents_without_beat": {
                "every": INCIDENT_WITHOUT_BEAT_EVERY,
                "rows": sum(without_beat.values()),
                "by_beat": dict(sorted(without_beat.items())),
            },
            "tracts": {"file": TRACTS_FILE, "population": tracts},
            "beats": {
                r.beat: {
                    "population": r.population,
                    "crime_share": round(float(c), 6),
                    "stop_share": round(float(s), 6),
                }
                for r, c, s in zip(areas.itertuples(), weights["crime"], weights["stops"], strict=True)
            },
        },
    }
    (out_dir / "truth.json").write_text(json.dumps(truth, indent=2))
    # the answer key is not an extract: landing's report of files no profile reads leaves it out
    (out_dir / ".landingignore").write_text(
        "# the demo city's record of what it planted (not an extract)\ntruth.json\n"
    )
    progress(
        f"demo city: {sum(truth['rows'].values()):,} rows in {sum(len(f) for f in files.values())} files "
        f"under {out_dir}"
    )
    return truth


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Write the demo city's extracts and truth file.")
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=20250101)
    args = parser.parse_args(argv)
    generate(args.out_dir, args.scale, args.seed)


if __name__ == "__main__":
    main()
