"""Reference queueing arithmetic for the staffing tests, written apart from the project's SQL:
Erlang B by its textbook recursion, Erlang C from it, and a discrete-event simulation of a
first-come first-served queue with a number of servers that can change by the hour."""

from __future__ import annotations

import heapq
import math
from collections.abc import Callable, Sequence


def erlang_b(servers: int, load: float) -> float:
    """B(0) = 1, B(k) = a B(k-1) / (k + a B(k-1))."""
    b = 1.0
    for k in range(1, servers + 1):
        b = load * b / (k + load * b)
    return b


def erlang_c(servers: int, load: float) -> float:
    """Probability that a call waits, M/M/c with offered load a = lambda / mu (1 when c <= a)."""
    if servers <= load:
        return 1.0
    b = erlang_b(servers, load)
    return servers * b / (servers - load * (1 - b))


def share_within(servers: int, arrivals_per_hour: float, hours_per_call: float, wait_hours: float) -> float:
    """P(wait <= t) = 1 - C exp(-(c mu - lambda) t)."""
    mu = 1.0 / hours_per_call
    if servers * mu <= arrivals_per_hour:
        return 0.0
    return 1 - erlang_c(servers, arrivals_per_hour * hours_per_call) * math.exp(
        -(servers * mu - arrivals_per_hour) * wait_hours
    )


def simulate_waits(
    arrivals: Sequence[float], services: Sequence[float], servers_at: Callable[[float], int]
) -> list[float]:
    """Waits of calls served first come, first served. ``arrivals`` (sorted) and ``services`` are
    in hours; ``servers_at(t)`` is the number of servers on duty at time t. A server that goes off
    duty finishes its call; a call waits until a server is free and on duty."""
    busy: list[float] = []  # end times of the calls in service
    waits = []
    last_start = -math.inf
    for arrival, service in zip(arrivals, services, strict=True):
        start = max(arrival, last_start)  # first come, first served: no call starts before an earlier one
        while True:
            while busy and busy[0] <= start:
                heapq.heappop(busy)
            if len(busy) < servers_at(start):
                break
            # wait for the next call to end, or for the next hour (more servers may come on duty)
            next_hour = math.floor(start) + 1.0
            start = min(busy[0], next_hour) if busy else next_hour
        heapq.heappush(busy, start + service)
        waits.append(start - arrival)
        last_start = start
    return waits
