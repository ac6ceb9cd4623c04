"""Detection latency: from a ticket's creation to the worker's first note on it.

Cancellation tickets arrive at random moments; the worker polls every 60 s (the default
`schedule.poll_seconds`) and sweeps every 5 min, against the fake with Zendesk's real limits.
The incremental export leaves out the last minute (docs/zendesk.md, fact 6c), so a ticket is
seen by the first poll at least 60 s after it changed: the latency is that horizon plus the wait
for the next poll plus the poll's own work, between 60 and 120 s when nothing queues.
"""

from __future__ import annotations

import random
import statistics
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bench.sim import ENTERPRISE, TICKET_PUT, add_holder, new_account
from bench.zendesk import table
from worker.config import Config

HOURS = 6.0
PER_HOUR = 60  # on average one new cancellation ticket a minute
SEED = 20261207
EXPORT_HORIZON = timedelta(seconds=60)  # Zendesk's (and the fake's): docs/zendesk.md, fact 6c


@dataclass
class Latency:
    poll_seconds: int
    created: dict[str, datetime] = field(default_factory=dict)
    noted: dict[str, datetime] = field(default_factory=dict)
    polls: int = 0
    requests: int = 0
    throttled: int = 0
    wall: float = 0.0

    @property
    def seconds(self) -> list[float]:
        done = [t for t in self.created if t in self.noted]
        return sorted((self.noted[t] - self.created[t]).total_seconds() for t in done)


def measure(hours: float = HOURS, per_hour: int = PER_HOUR, seed: int = SEED) -> Latency:
    config = Config()
    poll_every = timedelta(seconds=config.schedule.poll_seconds)
    sweep_every = config.schedule.sweep_seconds // config.schedule.poll_seconds
    result = Latency(config.schedule.poll_seconds)

    def observe(method: str, path: str, status: int) -> None:
        result.requests += 1
        result.throttled += status == 429
        if method == "PUT" and status == 200 and path.startswith(TICKET_PUT):
            ticket_id = path.removeprefix(TICKET_PUT).removesuffix(".json")
            result.noted.setdefault(ticket_id, account.clock.now)

    account, stop = new_account(config, ENTERPRISE, observe=observe)
    wall = time.perf_counter()
    rng = random.Random(seed)
    start = account.clock.now + timedelta(minutes=1)
    span = timedelta(hours=hours)
    count = round(hours * per_hour)
    moments = sorted(start + span * rng.random() for _ in range(count))
    next_poll = start
    n = 0
    end = start + span + EXPORT_HORIZON + 5 * poll_every
    while next_poll <= end or len(result.noted) < n:
        while n < count and moments[n] < next_poll:
            account.clock.now = max(account.clock.now, moments[n])
            ticket_id = add_holder(account.fake, n)
            result.created[str(ticket_id)] = account.clock.now
            n += 1
        account.clock.now = max(account.clock.now, next_poll)
        next_poll = account.clock.now + poll_every
        account.worker.poll(account.clock())
        if result.polls % sweep_every == 0:
            account.worker.sweep(account.clock())
        result.polls += 1
        if result.polls > 10 * count + 100:
            break
    result.wall = time.perf_counter() - wall
    stop()
    return result


def run(hours: float = HOURS) -> Latency:
    result = measure(hours)
    values = result.seconds
    missing = len(result.created) - len(values)
    horizon = EXPORT_HORIZON.total_seconds()
    every = result.poll_seconds

    def pct(q: int) -> float:
        return statistics.quantiles(values, n=100, method="inclusive")[q - 1]

    rows = [
        [
            "measured",
            f"{len(values)}",
            f"{values[0]:.1f}",
            f"{statistics.median(values):.1f}",
            f"{pct(95):.1f}",
            f"{values[-1]:.1f}",
            f"{sum(v <= horizon + every for v in values) / len(values):.0%}",
        ],
        [
            "expected (horizon + U(0, interval))",
            "",
            f"{horizon:.1f}",
            f"{horizon + every / 2:.1f}",
            f"{horizon + 0.95 * every:.1f}",
            f"{horizon + every:.1f}",
            "100%",
        ],
    ]
    print()
    print("== Detection latency ==")
    table(
        f"8. Seconds from a ticket's creation to its first note: {len(result.created)} tickets at "
        f"random moments over {hours:g} h, a poll every {every} s",
        ["", "tickets", "min", "median", "p95", "max", f"<= {horizon + every:.0f} s"],
        rows,
    )
    print(
        f"   {result.polls} polls (and a sweep every "
        f"{Config().schedule.sweep_seconds // 60} min), {result.requests} requests, "
        f"{result.throttled} 429s, {result.wall:.1f} s wall. The export leaves out the last "
        f"{horizon:.0f} s, so a\n"
        "   ticket waits for the first poll past that horizon; a shorter poll interval narrows "
        "the second term only."
        + (
            f"\n   min < {horizon:.0f} s: the export compares whole seconds (a ticket created at"
            " :30.7 counts as :30)."
            if values[0] < horizon
            else ""
        )
        + (f"\n   WARNING: {missing} tickets never got a note." if missing else "")
    )
    return result
