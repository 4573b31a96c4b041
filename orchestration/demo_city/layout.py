"""The demo city's shape: its year, time zone, beats and their areas, the planted divergence and
hot spot, and the weights that place records in areas (``build_areas``, ``area_weights``)."""

from __future__ import annotations

import numpy as np
import pandas as pd

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


def rng_for(seed: int, *keys: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence([seed, *keys]))


def build_areas(seed: int) -> pd.DataFrame:
    """Twenty beats in a 5 x 4 grid, one district per grid row, with populations and risk."""
    rng = rng_for(seed, 0)
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
