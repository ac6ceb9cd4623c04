"""The sandbox's clock: real time, moved by an offset that the admin endpoint can set or advance,
so a rehearsal with `run --now` can put the account on the same day as the worker."""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta


class SandboxClock:
    def __init__(
        self,
        start: datetime | None = None,
        real: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.real = real
        self.offset = timedelta(0)
        self._lock = threading.Lock()
        if start is not None:
            self.set(start)

    def __call__(self) -> datetime:
        return self.real() + self.offset

    def set(self, moment: datetime) -> None:
        """From now on the clock reads `moment` and runs on from there."""
        if moment.tzinfo is None:
            raise ValueError("the sandbox clock needs a UTC offset, e.g. 2026-12-07T09:00:00-03:00")
        with self._lock:
            self.offset = moment - self.real()

    def advance(self, seconds: float) -> None:
        with self._lock:
            self.offset += timedelta(seconds=seconds)


class SimulatedClock:
    """One clock for a fake, the worker and the client's pacing, as tests, the demo and the
    benchmarks run them: time moves only when told to, and a pause for a rate limit moves
    simulated time, never real time."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def monotonic(self) -> float:
        return self.now.timestamp()

    def sleep(self, seconds: float) -> None:
        """Rounded up to the microsecond: a wait of a fraction of one still moves time, so a
        pacing loop always ends."""
        if seconds > 0:
            self.now += timedelta(microseconds=math.ceil(seconds * 1_000_000))
