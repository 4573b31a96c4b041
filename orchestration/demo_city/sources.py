"""One builder per demo source (calls, incidents, stops, 311 requests, budget, survey): each
returns a month's (or the year's) records as a frame, and ``write_csv`` writes a frame as the city's
CSV. ``generator.generate`` calls them month by month."""

from __future__ import annotations

from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from orchestration.demo_city import catalogue as cat
from orchestration.demo_city.layout import (
    BEAT_LETTERS,
    CENTRE,
    DISTRICTS,
    DIURNAL,
    DIVERGENCE_BEAT,
    HIT_P,
    HOT_SPOT_BEAT,
    HOT_SPOT_BLOCK,
    HOT_SPOT_BLOCK_SHARE,
    INCIDENT_WITHOUT_BEAT_EVERY,
    SEARCH_P,
    STOP_OUTCOME_P,
    STOP_OUTCOMES,
    SURVEY_WAVES,
    TIMEZONE,
    YEAR,
    rng_for,
)
from orchestration.demo_city.plants import ProgramEffect, ResponseDrift, StopDisparities, plant_stop_disparities


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


def id_sql(column: str, prefix: str, width: int) -> str:
    """Ids are written as a prefix and a zero-padded sequence number, composed in SQL."""
    return f"'{prefix}' || lpad(CAST(\"{column}\" AS VARCHAR), {width}, '0')"


def _minutes(values: np.ndarray) -> np.ndarray:
    return (values * 60).astype("int64").astype("timedelta64[s]")


def write_csv(
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


def build_calls(
    seed: int,
    areas: pd.DataFrame,
    weights: dict,
    month: int,
    n: int,
    drift: ResponseDrift | None = None,
    program: ProgramEffect | None = None,
) -> tuple[pd.DataFrame, dict]:
    rng = rng_for(seed, 1, month)
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
    sql = {"incident_number": id_sql("incident_number", f"C{YEAR}{month:02d}", 7), "block": BLOCK_SQL}
    if program is not None and month >= program.from_month:
        category = np.array([t.category for t in types])[t_idx]
        taken = (category == program.category) & ~oi & (frame["district"].to_numpy() == program.district)
        dropped = taken & (rng_for(seed, 97, month).random(n) >= program.kept_share)
        frame = frame[~dropped]
    return frame.sort_values("time_received", kind="stable"), sql


def build_incidents(seed: int, areas: pd.DataFrame, weights: dict, month: int, n: int) -> tuple[pd.DataFrame, dict]:
    rng = rng_for(seed, 2, month)
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
    sql = {"report_no": id_sql("report_no", f"R{YEAR}{month:02d}", 6), "block_address": BLOCK_SQL}
    return frame.sort_values("reported_date", kind="stable"), sql


def build_stops(
    seed: int, areas: pd.DataFrame, weights: dict, month: int, n: int, disparities: StopDisparities | None = None
) -> tuple[pd.DataFrame, dict]:
    rng = rng_for(seed, 3, month)
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
        frame = plant_stop_disparities(frame, disparities, rng_for(seed, 98, month), CENTRE, TIMEZONE)
    return frame.sort_values("stop_datetime", kind="stable"), {"stop_id": id_sql("stop_id", f"S{YEAR}{month:02d}", 6)}


def build_service_requests(
    seed: int, areas: pd.DataFrame, weights: dict, month: int, n: int
) -> tuple[pd.DataFrame, dict]:
    rng = rng_for(seed, 4, month)
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
    sql = {"sr_number": id_sql("sr_number", f"SR{YEAR}{month:02d}", 6)}
    return frame.sort_values("created_date", kind="stable"), sql


def build_budget(seed: int) -> pd.DataFrame:
    rng = rng_for(seed, 5)
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


def build_survey(seed: int, areas: pd.DataFrame, weights: dict, scale: float) -> pd.DataFrame:
    rng = rng_for(seed, 6)
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
