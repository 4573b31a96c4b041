"""Effects the demo generator can plant on request (each off by default), for the tests that must
find them: a KPI that drifts, a program that works, and two stop disparities. Each changes only
the records it names, with a random stream of its own, so the rest of the city is as without it."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
from astral import Observer
from astral.sun import sun


@dataclass(frozen=True)
class ResponseDrift:
    """From ``from_month`` on, calls of ``priority`` in ``district`` wait ``factor`` times as long for
    dispatch. It changes no random draw, only those calls' delays."""

    district: str = "3"
    priority: int = 1
    from_month: int = 10
    factor: float = 3.0


@dataclass(frozen=True)
class ProgramEffect:
    """From ``from_month`` on, only ``kept_share`` of the calls from the public of ``category`` in
    ``district`` reach the police; the rest are dropped, chosen with a random stream of their own."""

    district: str = "2"
    category: str = "mental_health_welfare"
    from_month: int = 7
    kept_share: float = 0.6


@dataclass(frozen=True)
class StopDisparities:
    """Two disparities against ``group`` (the reference group is white):
    - a lower search threshold in ``threshold_beat``: the group's stops there are searched with
      probability ``threshold_search_p`` and the searches find something with probability
      ``threshold_hit_p`` (the others' are as everywhere), so its hit rate is lower: the outcome test;
    - a daylight effect in ``daylight_beat``: while the sun is up, a stop's subject there is of the
      group with probability ``daylight_group_share`` (after sunset as everywhere): the veil-of-darkness test.
    """

    group: str = "black"
    threshold_beat: str = "1B"
    threshold_search_p: float = 0.25
    threshold_hit_p: float = 0.08
    daylight_beat: str = "4C"
    daylight_group_share: float = 0.55


def sun_is_up(local_times: pd.Series, latitude: float, longitude: float, timezone: str) -> np.ndarray:
    """Whether the sun is above the horizon (between sunrise and sunset) at each naive local time."""
    observer, tz = Observer(latitude, longitude), ZoneInfo(timezone)
    days = local_times.dt.normalize()
    bounds = {}
    for day in days.unique():
        events = sun(observer, date=pd.Timestamp(day).date(), tzinfo=tz)
        bounds[day] = (_naive(events["sunrise"]), _naive(events["sunset"]))
    rise = days.map(lambda d: bounds[d][0])
    fall = days.map(lambda d: bounds[d][1])
    return ((local_times >= rise) & (local_times < fall)).to_numpy()


def _naive(moment: dt.datetime) -> pd.Timestamp:
    return pd.Timestamp(moment.replace(tzinfo=None))


def plant_stop_disparities(
    frame: pd.DataFrame, plants: StopDisparities, rng: np.random.Generator, centre: tuple[float, float], timezone: str
) -> pd.DataFrame:
    """The stops of one month with the disparities planted (``frame`` as the generator makes it)."""
    frame = frame.copy()
    n = len(frame)
    beat = frame["beat"].astype(str).to_numpy()
    # daylight: the subject re-drawn for stops in the daylight beat while the sun is up
    draws = rng.random(n)
    daylight = (beat == plants.daylight_beat) & sun_is_up(frame["stop_datetime"], *centre, timezone)
    race = frame["subject_race"].astype(str).to_numpy()
    others = race != plants.group
    race = np.where(daylight & (draws < plants.daylight_group_share), plants.group, race)
    # a re-drawn stop not of the group keeps its own race (unless it was the group: then white)
    race = np.where(daylight & (draws >= plants.daylight_group_share) & ~others, "white", race)
    frame["subject_race"] = pd.Categorical(race, categories=frame["subject_race"].cat.categories)
    # threshold: the group's stops in the threshold beat searched more often, on less
    mine = (beat == plants.threshold_beat) & (race == plants.group)
    was_searched = frame["search_conducted"].astype(str).to_numpy() == "TRUE"
    was_found = frame["contraband_found"].astype(str).to_numpy() == "TRUE"
    searched = np.where(mine, rng.random(n) < plants.threshold_search_p, was_searched)
    found = np.where(mine, searched & (rng.random(n) < plants.threshold_hit_p), was_found)
    frame["search_conducted"] = pd.Categorical(np.where(searched, "TRUE", "FALSE"), categories=["FALSE", "TRUE"])
    frame["contraband_found"] = pd.Categorical(np.where(found, "TRUE", "FALSE"), categories=["FALSE", "TRUE"])
    return frame
