"""kill -9 of the worker at random points of a step, and a restart (PROCEDURE §8, CONTRACT 5):
every e-mail exists exactly once and every step has exactly one note, whatever the worker was
doing when it died.

The step under test is the third `#tentativa`: the call's note, then the contact e-mail and its
note, three updates (PUTs) in one run. The worker is killed at its n-th update (n random), in one
of three ways (`PutTrap`): before the update is applied, while it is applied but not answered,
or after it was answered. The seed makes every run of this test kill at the same points; every
(update, way) pair comes up twice, in a random order.
"""

from __future__ import annotations

import random
import signal
import threading
import time

import pytest

from tests.fakes.sandbox import SENT_TAG, THIRD_CALL_STEPS, WAITING, PutTrap, Run, Sandbox, kill

pytestmark = pytest.mark.e2e

SEED = 20261207


def kill_at(sandbox: Sandbox, trap: PutTrap, *args: str) -> None:
    """Start the worker (`run ARGS`), SIGKILL it where the trap holds it, and let the held
    request go (applied or refused) before anything else reaches the sandbox."""
    sandbox.hooks[:] = [trap]
    process = sandbox.start(*args)
    try:
        assert trap.arrived.wait(timeout=60), f"the worker never made update {trap.n}"
        assert trap.caught is not None
        comments = len(sandbox.comments(trap.caught))  # the worker waits: nothing moves
        died = kill(process)
    finally:
        process.kill()
        sandbox.hooks.clear()
        trap.release.set()
    assert died.returncode == -signal.SIGKILL, died.tail()
    assert died.personal_data() == []
    assert trap.returned.wait(timeout=10)
    if trap.way == "during":
        deadline = time.monotonic() + 10
        while len(sandbox.comments(trap.caught)) == comments:
            assert time.monotonic() < deadline, "the held update was never applied"
            time.sleep(0.01)


def test_kill_9_at_random_points_of_the_third_call_then_restart(sandbox: Sandbox) -> None:
    rng = random.Random(SEED)
    plan = [(n, way) for n in (1, 2, 3) for way in PutTrap.WAYS] * 2
    rng.shuffle(plan)
    tickets = sandbox.two_calls_down(len(plan))

    for iteration, (ticket, (n, way)) in enumerate(zip(tickets, plan, strict=True)):
        context = f"iteration {iteration}: ticket {ticket} killed at update {n} ({way})"
        sandbox.agent_says(ticket, "#tentativa")
        sandbox.later(minutes=2)
        kill_at(sandbox, PutTrap(n, way, ticket=ticket), "--once")
        # Died where it was meant to: the updates before the n-th were applied, the n-th too
        # unless killed before it; the e-mail is the second.
        written = n - (way == "before")
        assert len(sandbox.comments(ticket)) == 6 + written, context
        assert len(sandbox.emails(ticket)) == (1 if written >= 2 else 0), context

        sandbox.run()

        assert sandbox.steps(ticket) == THIRD_CALL_STEPS, context
        assert sandbox.email_steps(ticket) == ["email-contato"], context
        assert len(sandbox.emails(ticket)) == 1, context
        assert not [t for t in sandbox.tags(ticket) if SENT_TAG.match(t)], context
        assert sandbox.status(ticket) == WAITING, context

    quiet = sandbox.run()
    assert quiet.finished()["steps"] == 0, "deciding again after a restart decides nothing"
    for ticket in tickets:
        sandbox.assert_whole(ticket, THIRD_CALL_STEPS, ["email-contato"])


def test_kill_9_during_the_long_running_run_then_restart(sandbox: Sandbox) -> None:
    rng = random.Random(SEED + 1)
    tickets = sandbox.two_calls_down(3)
    for ticket in tickets:
        sandbox.agent_says(ticket, "#tentativa")  # 9 updates to make in all

    sandbox.later(minutes=2)
    kill_at(sandbox, PutTrap(rng.randint(1, 5), "during"))
    sandbox.later(minutes=2)
    kill_at(sandbox, PutTrap(rng.randint(1, 2), "after"))

    sandbox.later(minutes=2)
    polled = threading.Event()
    sandbox.hooks.append(lambda method, path: polled.set() if "/incremental/" in path else None)
    process = sandbox.start()
    try:
        assert polled.wait(timeout=60), "the worker never polled"
        deadline = time.monotonic() + 60
        while not all(sandbox.steps(t) == THIRD_CALL_STEPS for t in tickets):
            assert time.monotonic() < deadline, [sandbox.steps(t) for t in tickets]
            time.sleep(0.1)
        process.send_signal(signal.SIGTERM)
        _, err = process.communicate(timeout=30)
    finally:
        process.kill()
    assert process.returncode == 0, err[-3000:]
    assert "worker stopped" in err
    assert Run(0, "", err).personal_data() == []
    for ticket in tickets:
        sandbox.assert_whole(ticket, THIRD_CALL_STEPS, ["email-contato"])
        assert sandbox.status(ticket) == WAITING
