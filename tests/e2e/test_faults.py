"""A 429 storm and a 5xx burst (docs/zendesk.md: one retry layer, writes guarded by
`safe_update`): at the start of a run, where `run --once` may give up and exit non-zero with
the reason, and in the middle of a step's updates. Nothing is lost (the next run finishes what
the failed one left) and nothing is doubled."""

from __future__ import annotations

import re
from collections import Counter

import pytest

from tests.fakes.sandbox import THIRD_CALL_STEPS, WAITING, Sandbox

pytestmark = pytest.mark.e2e

ATTEMPTS = 4  # the worker's default zendesk.max_attempts per request


@pytest.mark.parametrize(
    ("status", "retry_after"), [(429, 1), (503, None)], ids=["429-storm", "503-burst"]
)
def test_a_storm_at_the_start_and_amid_the_writes_loses_and_doubles_nothing(
    sandbox: Sandbox, status: int, retry_after: int | None
) -> None:
    waiting = sandbox.two_calls_down(3)
    for ticket in waiting:
        sandbox.agent_says(ticket, "#tentativa")
    new = [sandbox.opens(sandbox.holder(f"Nova {n}", f"nova{n}@exemplo.com.br")) for n in range(2)]

    # At the start: every attempt of the first request fails, and one more.
    sandbox.fake.fail_next(status, times=ATTEMPTS + 1, retry_after=retry_after)
    gave_up = sandbox.run(check=False)
    assert gave_up.returncode != 0
    assert str(status) in gave_up.stderr or "rate limit" in gave_up.stderr, gave_up.tail()
    for ticket in [*waiting, *new]:
        assert len(sandbox.notes(ticket)) == len(sandbox.steps(ticket))
        assert sandbox.emails(ticket) == []

    # Amid the writes: from the first contact e-mail's update on (a ticket's second update),
    # enough failures to make that update give up, and more for the requests after it.
    puts: Counter[int] = Counter()
    stormed: list[int] = []

    def storm_at_the_first_email(method: str, path: str) -> None:
        match = re.fullmatch(r"/api/v2/tickets/(\d+)\.json", path)
        if method != "PUT" or match is None:
            return
        ticket = int(match[1])
        puts[ticket] += 1
        if ticket in waiting and puts[ticket] == 2 and not stormed:
            stormed.append(ticket)
            sandbox.fake.fail_next(status, times=ATTEMPTS + 2, retry_after=retry_after)

    def done() -> bool:
        return all(sandbox.steps(t) == THIRD_CALL_STEPS for t in waiting) and all(
            sandbox.steps(t) == ["1:inicio"] for t in new
        )

    sandbox.hooks.append(storm_at_the_first_email)
    storm = sandbox.run(check=False)
    sandbox.hooks.clear()
    assert stormed, storm.tail()
    failed = [
        e["ticket_id"] for e in storm.logs() if e.get("event") == "ticket failed, retried next poll"
    ]
    assert str(stormed[0]) in failed, storm.tail()
    assert sandbox.emails(stormed[0]) == [], "the e-mail's update gave up, unapplied"
    runs = 2
    while not done():
        assert runs < 5, [sandbox.steps(t) for t in [*waiting, *new]]
        sandbox.run()  # the storm is over: this one gets through
        runs += 1

    for ticket in waiting:
        sandbox.assert_whole(ticket, THIRD_CALL_STEPS, ["email-contato"])
        assert sandbox.status(ticket) == WAITING
    for ticket in new:
        sandbox.assert_whole(ticket, ["1:inicio"], [])
    quiet = sandbox.run()
    assert quiet.finished()["steps"] == 0
