"""An agent's edit arriving while the worker's update is in flight (PROCEDURE §6: the agent
always wins). The request hook makes the agent's change just before the worker's update is
handled, so the update carries a stale `updated_stamp`: a 409, then the worker re-reads and
re-decides. The agent's tag, priority and comment survive, and every step is written once."""

from __future__ import annotations

import re
from collections import Counter

import pytest

from tests.fakes.sandbox import THIRD_CALL_STEPS, WAITING, Sandbox

pytestmark = pytest.mark.e2e

REMARK = "Cliente VIP: falar com a gerente antes de qualquer coisa."


def test_an_agents_edit_during_the_workers_update_survives_and_the_step_is_written_once(
    sandbox: Sandbox,
) -> None:
    first_write, email_write, note_after_email = sandbox.two_calls_down(3)
    for ticket in (first_write, email_write, note_after_email):
        sandbox.agent_says(ticket, "#tentativa")  # the third call: note, e-mail, note
    new = sandbox.opens(sandbox.holder("Nina Prado", "nina@exemplo.com.br"))
    # Which of each ticket's updates the agent races: the new ticket's first note; the third
    # call's note; the contact e-mail; the e-mail's note (the e-mail went out already).
    race_at = {new: 1, first_write: 1, email_write: 2, note_after_email: 3}
    puts: Counter[int] = Counter()

    def agent_edits_first(method: str, path: str) -> None:
        match = re.fullmatch(r"/api/v2/tickets/(\d+)\.json", path)
        if method != "PUT" or match is None:
            return
        ticket = int(match[1])
        puts[ticket] += 1
        if puts[ticket] == race_at.get(ticket):
            tags = sandbox.fake.ticket(ticket)["tags"]
            sandbox.fake.agent_updates(
                ticket,
                tags=[*tags, "vip"],
                priority="high",
                comment={"body": REMARK, "public": False},
            )

    sandbox.hooks.append(agent_edits_first)
    result = sandbox.run()

    assert result.finished()["conflicts"] == len(race_at)
    for ticket in race_at:
        after = sandbox.ticket(ticket)
        assert "vip" in after["tags"], ticket
        assert after["priority"] == "high", ticket
        remarks = [c for c in sandbox.comments(ticket) if c["body"] == REMARK]
        assert len(remarks) == 1 and remarks[0]["author_id"] == sandbox.fake.agent_id
    sandbox.assert_whole(new, ["1:inicio"], [])
    for ticket in (first_write, email_write, note_after_email):
        sandbox.assert_whole(ticket, THIRD_CALL_STEPS, ["email-contato"])
        assert sandbox.status(ticket) == WAITING
    assert puts[note_after_email] == 4, "the e-mail once, then its note again, alone"
