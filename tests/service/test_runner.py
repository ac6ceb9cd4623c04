"""The long-running loop's decisions, without waiting: when it stops by itself, and how it
backs off while the helpdesk is down."""

from __future__ import annotations

import itertools
import threading
from datetime import datetime

from tests.fakes.world import World
from worker.config import Schedule
from worker.ports import CredentialsRejected, HelpdeskError
from worker.runner import MAX_BACKOFF, Runner
from worker.service import PollReport


class Times:
    now = 0.0

    def __call__(self) -> float:
        return self.now


def test_rejected_credentials_stop_the_worker_with_the_reason() -> None:
    world = World()

    def poll(now: datetime) -> PollReport:
        raise CredentialsRejected("401 Couldn't authenticate you")

    world.worker.poll = poll  # type: ignore[method-assign]
    runner = Runner(world.app, Schedule())
    thread = threading.Thread(target=runner.run_forever)
    thread.start()
    thread.join(timeout=20)
    assert not thread.is_alive()
    assert runner.fatal is not None and "401" in runner.fatal


def test_an_unreachable_helpdesk_is_retried_with_a_growing_pause() -> None:
    world = World()
    calls: list[float] = []
    times = Times()

    def poll(now: datetime) -> PollReport:
        calls.append(times.now)
        raise HelpdeskError("cannot reach")

    world.worker.poll = poll  # type: ignore[method-assign]
    runner = Runner(world.app, Schedule(), monotonic=times)
    for _ in range(200):  # a poll job every 60 simulated seconds for 200 minutes
        runner.poll_job()
        times.now += 60
    gaps = [later - earlier for earlier, later in itertools.pairwise(calls)]
    assert gaps[:4] == [60, 120, 240, 480]
    assert max(gaps) <= MAX_BACKOFF.total_seconds() + 60
    assert runner.fatal is None


def test_a_stop_request_ends_run_forever_promptly() -> None:
    world = World()
    runner = Runner(world.app, Schedule())
    thread = threading.Thread(target=runner.run_forever)
    thread.start()
    runner.request_stop()
    thread.join(timeout=10)
    assert not thread.is_alive()
