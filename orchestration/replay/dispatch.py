"""A replay of a city's police dispatch queue: what its response times would have been had some
calls gone to another responder. Pure arithmetic on arrays (no warehouse, no Dagster); the asset
in orchestration/replay/assets.py feeds it the city's calls.

The model, per city, over a window of its latest complete weeks:
- **Units busy.** Every police call occupies its units (``units``) from dispatch to clear; an
  officer-initiated event from its start to its clear. Those times are the city's own.
- **Units on duty** in each hour of the week: the most units seen busy at once in that hour of the
  week over the window. Idle units leave no trace in a CAD extract, so this is the fewest that
  could have been on duty; the replay's check against the observed times (below) says whether it
  is enough to reproduce them.
- **A call's own delay** before dispatch (taking the call, finding its priority): the observed
  delay where the call came in with a unit free, since then no part of it was a queue; where every
  unit was busy, a draw from the delays of the same priority's calls that came in with a unit
  free (the observed delay then holds a wait the replay works out itself).
- **The queue.** A call ready for dispatch takes a free unit at once; when every unit on duty is
  busy it waits, the most urgent priority first, then first come first served. Travel (dispatch
  to on scene) and time on the call are the call's own.
- **The check.** With nothing moved, the replayed median and 90th-percentile response times per
  priority must match the observed ones within ``TOLERANCE`` (a share) or ``TOLERANCE_MINUTES``,
  whichever is larger; where they do not, the replay reports no change for that city.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass

import numpy as np

HOUR = 3600.0
WEEK_HOURS = 168
TOLERANCE = 0.10
TOLERANCE_MINUTES = 1.0


@dataclass(frozen=True)
class Calls:
    """One city's calls in the window, times in seconds from any origin that starts on a Monday
    00:00 local time (so that ``hour_of_week`` is ``floor(t / 3600) % 168``). NaN where a time is
    missing. ``public`` is False for an officer-initiated event (its start is ``received``)."""

    received: np.ndarray
    dispatched: np.ndarray
    arrived: np.ndarray
    cleared: np.ndarray
    units: np.ndarray
    priority_rank: np.ndarray  # 0 = most urgent
    public: np.ndarray

    def __len__(self) -> int:
        return len(self.received)

    @property
    def busy_start(self) -> np.ndarray:
        return np.where(self.public, self.dispatched, self.received)

    @property
    def occupies(self) -> np.ndarray:
        """Whether a call holds units in the replay: it has a start and a clear, in that order."""
        start, end = self.busy_start, self.cleared
        return np.isfinite(start) & np.isfinite(end) & (end >= start)

    @property
    def replayable(self) -> np.ndarray:
        """Calls from the public the queue replays: a dispatch after the call and a clear after it."""
        return self.public & self.occupies & (self.dispatched >= self.received)


def _busy_steps(calls: Calls, keep: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The observed count of busy units as a step function: (times, count from each time on).
    At equal times, units are freed before they are taken."""
    held = keep & calls.occupies
    starts, ends, units = calls.busy_start[held], calls.cleared[held], calls.units[held]
    times = np.concatenate([ends, starts])
    deltas = np.concatenate([-units, units])
    order = np.lexsort((deltas, times))  # ends (negative) first at equal times
    return times[order], np.cumsum(deltas[order])


def units_on_duty(calls: Calls) -> np.ndarray:
    """The most units busy at once in each of the 168 hours of the week, over the window (at least 1)."""
    times, counts = _busy_steps(calls, np.ones(len(calls), bool))
    duty = np.ones(WEEK_HOURS, dtype=np.int64)
    if len(times) == 0:
        return duty
    hours = np.floor(times / HOUR).astype(np.int64)
    # the count within an hour: after each of its events, and what was carried in at its start
    carried = np.concatenate([[0], counts[:-1]])
    for values in (counts, carried):
        np.maximum.at(duty, hours % WEEK_HOURS, values.astype(np.int64))
    return duty


def busy_when_received(calls: Calls) -> np.ndarray:
    """Units busy (observed) the moment before each call came in."""
    times, counts = _busy_steps(calls, np.ones(len(calls), bool))
    if len(times) == 0:
        return np.zeros(len(calls), dtype=np.int64)
    position = np.searchsorted(times, calls.received, side="left") - 1
    return np.where(position >= 0, counts[np.clip(position, 0, None)], 0)


def own_delays(calls: Calls, duty: np.ndarray, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Each replayable call's own delay before dispatch (seconds), and whether it was drawn (the
    call came in with every unit busy) rather than observed."""
    delay = calls.dispatched - calls.received
    hour = (np.floor(calls.received / HOUR).astype(np.int64)) % WEEK_HOURS
    free = busy_when_received(calls) < duty[hour]
    replayable = calls.replayable
    drawn = replayable & ~free
    rng = np.random.default_rng(seed)
    own = np.where(replayable, delay, np.nan)
    for rank in np.unique(calls.priority_rank[drawn]):
        pool = delay[replayable & free & (calls.priority_rank == rank)]
        if len(pool) == 0:  # no call of the priority came in with a unit free: keep what was seen
            continue
        mine = drawn & (calls.priority_rank == rank)
        own[mine] = rng.choice(pool, size=int(mine.sum()))
    return own, drawn


def replay(calls: Calls, duty: np.ndarray, own_delay: np.ndarray, moved: np.ndarray) -> np.ndarray:
    """Dispatch times (seconds) of the replayable calls not moved, NaN for the others. ``moved``
    calls hold no unit and are not dispatched."""
    n = len(calls)
    dispatch = np.full(n, np.nan)
    queued = calls.replayable & ~moved
    fixed = calls.occupies & ~calls.public & ~moved  # officer-initiated: at their own times
    ready = calls.received + np.where(queued, own_delay, 0.0)
    hold = calls.cleared - calls.dispatched  # dispatch to clear, the call's own

    ready_order = np.flatnonzero(queued)[np.argsort(ready[queued], kind="stable")]
    fixed_order = np.flatnonzero(fixed)[np.argsort(calls.received[fixed], kind="stable")]
    ready_times = ready[ready_order].tolist()
    fixed_times = calls.received[fixed_order].tolist()
    ready_ids, fixed_ids = ready_order.tolist(), fixed_order.tolist()
    units = calls.units.astype(np.int64).tolist()
    rank = calls.priority_rank.tolist()
    received = calls.received.tolist()
    cleared = calls.cleared.tolist()
    hold_list = hold.tolist()
    duty_list = duty.tolist()

    ends: list[tuple[float, int]] = []  # (time a call frees its units, units)
    waiting: list[tuple[int, float, int]] = []  # (priority rank, received, call)
    busy = 0
    r = f = 0
    n_ready, n_fixed = len(ready_ids), len(fixed_ids)
    now_hour = 0
    inf = float("inf")
    push, pop = heapq.heappush, heapq.heappop
    while True:
        now = ready_times[r] if r < n_ready else inf
        if f < n_fixed and fixed_times[f] < now:
            now = fixed_times[f]
        if ends and ends[0][0] < now:
            now = ends[0][0]
        if waiting and (now_hour + 1) * HOUR < now:  # more units may come on duty at the next hour
            now = (now_hour + 1) * HOUR
        if now == inf:
            break
        while ends and ends[0][0] <= now:
            busy -= pop(ends)[1]
        while f < n_fixed and fixed_times[f] <= now:
            i = fixed_ids[f]
            busy += units[i]
            push(ends, (cleared[i], units[i]))
            f += 1
        while r < n_ready and ready_times[r] <= now:
            i = ready_ids[r]
            push(waiting, (rank[i], received[i], i))
            r += 1
        now_hour = int(now // HOUR)
        on_duty = duty_list[now_hour % WEEK_HOURS]
        while waiting and busy < on_duty:
            i = pop(waiting)[2]
            dispatch[i] = now
            busy += units[i]
            push(ends, (now + hold_list[i], units[i]))
    return dispatch
