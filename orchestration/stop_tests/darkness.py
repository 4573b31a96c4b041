"""The veil-of-darkness test (Grogger and Ridgeway 2006; the Stanford Open Policing Project): after
dark an officer can less easily see a driver's race before the stop. Compare stops made at the same
clock time on days when it is light and days when it is dark: if the group's share of stops is
lower in the dark, its stops in daylight were in part decided by what the officer could see.

- Dusk (the end of civil twilight) and sunset for each stop's date at the city's centre (the mean
  of its stops' coordinates), from astral, in the city's time zone, offline.
- Only stops in the inter-twilight window: clock times between the earliest and the latest dusk of
  the period, so each clock time is light on some days and dark on others; stops between sunset
  and dusk (neither light nor dark) are left out.
- A logistic model of "the subject is of the group" (against the reference group) on darkness,
  with a natural-ish spline of the clock time (a B-spline, 6 degrees of freedom) and, city-wide,
  the area as a fixed effect. The odds ratio of darkness below 1 is the signal.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import statsmodels.formula.api as smf
from astral import Observer
from astral.sun import sun

MIN_STOPS = 200  # stops of the two groups in the window, for one model
SPLINE_DF = 6


def twilight(days: pd.Series, latitude: float, longitude: float, timezone: str) -> pd.DataFrame:
    """Sunset and dusk (naive local times) of each distinct day."""
    observer, tz = Observer(latitude, longitude), ZoneInfo(timezone)
    rows = []
    for day in pd.to_datetime(days.unique()):
        events = sun(observer, date=day.date(), tzinfo=tz)
        rows.append(
            {
                "day": day,
                "sunset": pd.Timestamp(events["sunset"].replace(tzinfo=None)),
                "dusk": pd.Timestamp(events["dusk"].replace(tzinfo=None)),
            }
        )
    return pd.DataFrame(rows)


def in_window(stops: pd.DataFrame, latitude: float, longitude: float, timezone: str) -> pd.DataFrame:
    """The stops of the inter-twilight window, with ``is_dark`` and ``minute`` (of the day)."""
    stops = stops.assign(day=stops["stopped_at_local"].dt.normalize())
    times = twilight(stops["day"], latitude, longitude, timezone)
    stops = stops.merge(times, on="day", how="left")
    minute = stops["stopped_at_local"].dt.hour * 60 + stops["stopped_at_local"].dt.minute
    dusk_minute = times["dusk"].dt.hour * 60 + times["dusk"].dt.minute
    window = minute.between(dusk_minute.min(), dusk_minute.max())
    ambiguous = (stops["stopped_at_local"] >= stops["sunset"]) & (stops["stopped_at_local"] < stops["dusk"])
    kept = stops[window & ~ambiguous].copy()
    kept["minute"] = minute[window & ~ambiguous].astype(float)
    kept["is_dark"] = (kept["stopped_at_local"] >= kept["dusk"]).astype(float)
    return kept


def _fit(frame: pd.DataFrame, with_areas: bool) -> dict:
    formula = f"is_group ~ is_dark + bs(minute, df={SPLINE_DF})" + (" + C(area_id)" if with_areas else "")
    model = smf.logit(formula, data=frame).fit(disp=False, maxiter=200)
    low, high = model.conf_int().loc["is_dark"]
    return {
        "odds_ratio": float(np.exp(model.params["is_dark"])),
        "odds_ratio_low": float(np.exp(low)),
        "odds_ratio_high": float(np.exp(high)),
        "p_value": float(model.pvalues["is_dark"]),
    }


def _judged(frame: pd.DataFrame, with_areas: bool) -> dict:
    dark = int(frame["is_dark"].sum())
    if len(frame) < MIN_STOPS or dark == 0 or dark == len(frame):
        return {
            "note": f"not tested: fewer than {MIN_STOPS} stops of the two groups in the window, or none light or dark"
        }
    try:
        return _fit(frame, with_areas)
    except Exception as exc:  # noqa: BLE001 (a model that cannot be fitted is reported, not raised)
        return {"note": f"not tested: the model could not be fitted ({type(exc).__name__})"}


def veil_of_darkness(stops: pd.DataFrame, group: str, reference: str, timezone: str | None, city: str) -> list[dict]:
    """One city's rows: city-wide (area 'all', with area fixed effects) and per area (with the
    Benjamini-Hochberg discoveries over the tested areas). ``stops``: area_id, race,
    stopped_at_local, latitude, longitude."""
    base = {
        "city": city,
        "group": group,
        "reference_group": reference,
        "method": "logistic model, darkness + B-spline of the clock time (+ area)",
    }
    stops = stops[stops["race"].isin([group, reference]) & stops["stopped_at_local"].notna()]
    if stops.empty:
        return [{**base, "area_id": "all", "note": "not available: no stops of the two groups with a time"}]
    placed = stops.dropna(subset=["latitude", "longitude"])
    if placed.empty:
        return [{**base, "area_id": "all", "note": "not available: no stop has coordinates to find sunset and dusk"}]
    if not timezone:
        return [{**base, "area_id": "all", "note": "not available: the city's time zone is not known"}]
    frame = in_window(stops, float(placed["latitude"].mean()), float(placed["longitude"].mean()), timezone)
    frame["is_group"] = (frame["race"] == group).astype(float)
    period = {
        "period_start": stops["stopped_at_local"].min().date(),
        "period_end": stops["stopped_at_local"].max().date(),
    }
    rows = [{**base, **period, "area_id": "all", "stops_in_window": len(frame), **_judged(frame, True)}]
    for area, mine in frame.groupby("area_id", sort=True):
        rows.append({**base, **period, "area_id": area, "stops_in_window": len(mine), **_judged(mine, False)})
    return rows
