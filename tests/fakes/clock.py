"""The tests' one clock: the simulated clock the demo and the benchmarks run on (time moves only
when a test moves it; a rate limit's pause moves simulated time, never real time)."""

from __future__ import annotations

from datetime import timedelta

from worker.sandbox.clock import SimulatedClock


class Clock(SimulatedClock):
    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


class Sleeps(list[float]):
    """A clock that moves only when the client sleeps: pacing is tested without waiting."""

    now = 0.0

    def __call__(self, seconds: float) -> None:
        self.append(seconds)
        self.now += seconds

    def clock(self) -> float:
        return self.now
