"""Erlang C (M/M/N queue): pure functions, no I/O.

`traffic` A is the offered load in Erlangs: arrivals per hour × handle time (hours). With N agents
(N > A) a contact waits with probability C(N, A) (Erlang's C formula); the share answered within
t seconds is 1 - C(N, A)·exp(-(N - A)·t / AHT) and the average speed of answer is
C(N, A)·AHT / (N - A). Erlang B is computed with its stable recurrence
B(0) = 1, B(n) = A·B(n-1) / (n + A·B(n-1)), and C from it: C = N·B / (N - A·(1 - B)).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

MAX_AGENTS = 10_000  # a search bound, far beyond any contact centre this serves


def traffic(arrivals_per_hour: float, handle_seconds: float) -> float:
    """Offered load in Erlangs."""
    if arrivals_per_hour < 0 or handle_seconds < 0:
        raise ValueError("arrivals and handle time must not be negative")
    return arrivals_per_hour * handle_seconds / 3600.0


def erlang_b(agents: int, load: float) -> float:
    """Probability that all `agents` are busy in a loss system (Erlang B)."""
    if agents < 0 or load < 0:
        raise ValueError("agents and load must not be negative")
    b = 1.0
    for n in range(1, agents + 1):
        b = load * b / (n + load * b)
    return b


def wait_probability(agents: int, load: float) -> float:
    """Erlang C: probability that a contact has to wait (1.0 when the queue is unstable, N <= A)."""
    if load <= 0:
        return 0.0
    if agents <= load:
        return 1.0
    b = erlang_b(agents, load)
    return agents * b / (agents - load * (1.0 - b))


def service_level(agents: int, load: float, handle_seconds: float, answer_seconds: float) -> float:
    """Share of contacts answered within `answer_seconds`."""
    if load <= 0:
        return 1.0
    if agents <= load:
        return 0.0
    pw = wait_probability(agents, load)
    return 1.0 - pw * math.exp(-(agents - load) * answer_seconds / handle_seconds)


def average_speed_of_answer(agents: int, load: float, handle_seconds: float) -> float:
    """Mean wait in seconds over all contacts (inf when N <= A)."""
    if load <= 0:
        return 0.0
    if agents <= load:
        return math.inf
    return wait_probability(agents, load) * handle_seconds / (agents - load)


@dataclass(frozen=True)
class Requirement:
    agents: int  # on the queue at once (before shrinkage)
    staff: int  # to schedule: agents / (1 - shrinkage), rounded up
    service_level: float  # achieved with `agents`, within the answer time
    wait_probability: float
    asa_seconds: float
    occupancy: float  # load / agents
    binding: str  # what decided `agents`: none | service_level | occupancy


def agents_needed(
    arrivals_per_hour: float,
    handle_seconds: float,
    *,
    target: float,
    answer_seconds: float,
    max_occupancy: float = 1.0,
    shrinkage: float = 0.0,
) -> Requirement:
    """The fewest agents that answer `target` of the contacts within `answer_seconds` with an
    occupancy (load / agents) of at most `max_occupancy`; `staff` adds shrinkage (breaks,
    training, absence: the share of scheduled time not spent on the queue)."""
    if not 0 < target < 1:
        raise ValueError("target must be between 0 and 1")
    if not 0 < max_occupancy <= 1:
        raise ValueError("max_occupancy must be in (0, 1]")
    if not 0 <= shrinkage < 1:
        raise ValueError("shrinkage must be in [0, 1)")
    if answer_seconds < 0:
        raise ValueError("answer_seconds must not be negative")
    load = traffic(arrivals_per_hour, handle_seconds)
    if load <= 0:
        return Requirement(0, 0, 1.0, 0.0, 0.0, 0.0, "none")
    by_occupancy = max(1, math.ceil(load / max_occupancy - 1e-9))
    n = max(1, math.floor(load) + 1)  # the queue is stable only with N > A
    while service_level(n, load, handle_seconds, answer_seconds) < target:
        n += 1
        if n > MAX_AGENTS:
            raise ValueError("load too high")
    binding = "service_level"
    if by_occupancy > n:
        n, binding = by_occupancy, "occupancy"
        if n <= load:  # max_occupancy = 1 and an integral load
            n = math.floor(load) + 1
    return Requirement(
        agents=n,
        staff=math.ceil(n / (1.0 - shrinkage) - 1e-9),
        service_level=service_level(n, load, handle_seconds, answer_seconds),
        wait_probability=wait_probability(n, load),
        asa_seconds=average_speed_of_answer(n, load, handle_seconds),
        occupancy=load / n,
        binding=binding,
    )
