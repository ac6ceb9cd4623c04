"""The Freshdesk adapter over several polls: what its own writes cost, and several steps of
one poll building on each other."""

from __future__ import annotations

import pytest

from tests.fakes.freshdesk import FreshdeskWorld
from tests.fakes.world import person

ANA = person("Ana Souza", "ana@cliente.com.br")


def test_the_workers_own_writes_coming_back_cost_no_reads() -> None:
    world = FreshdeskWorld()
    try:
        world.pf(ANA)
        ticket = world.opens(ANA)
        world.poll()
        world.fake.requests.clear()
        world.later(minutes=5)
        world.poll()  # the list returns the ticket our update changed: nothing else changed it
        assert [p for _, p in world.fake.requests if f"/{ticket}" in p] == []
        world.agent_says(ticket, "#tentativa")
        world.poll()  # an agent's note after ours is read
        assert len(world.notes(ticket)) == 2
    finally:
        world.close()


# Issue 15 on Freshdesk: several steps decided in one poll must build on each other. Each
# step's update starts from the ticket as the previous write left it (the adapter re-reads it
# before writing), so the ticket after one poll equals the ticket after one poll per event.
MARIA = person("Maria Souza", "maria@exemplo.com.br")
Event = tuple[str, str]  # ("agent" | "customer", text)
SCRIPTS: dict[str, list[Event]] = {
    "three failed calls before the first poll": [("agent", "#tentativa")] * 3,
    "a cancellation refused, then taken over by an agent": [
        ("agent", "#cancelar motivo: mudou de fornecedor"),
        ("customer", "Pensei melhor: não cancelem, por favor."),
        ("agent", "#manual"),
    ],
    "a cancellation decided and executed": [
        ("agent", "#cancelar motivo: não usa mais"),
        ("agent", "#contrato-cancelado"),
    ],
}


def played(
    script: list[Event], *, poll_each: bool
) -> tuple[frozenset[str], dict[str, str | None], str]:
    world = FreshdeskWorld()
    try:
        world.pf(MARIA)
        ticket = world.opens(MARIA)
        for who, text in script:
            if who == "agent":
                world.agent_says(ticket, text)
            else:
                world.customer_writes(ticket, MARIA, text)
            world.later(minutes=1)
            if poll_each:
                world.poll()
        world.poll()
        world.poll()
        seen = world.ticket(ticket)
        return seen.tags, dict(seen.fields), world.status(ticket)
    finally:
        world.close()


@pytest.mark.parametrize("name", SCRIPTS)
def test_steps_written_in_one_poll_leave_the_ticket_as_one_poll_per_event_would(
    name: str,
) -> None:
    batched = played(SCRIPTS[name], poll_each=False)
    one_by_one = played(SCRIPTS[name], poll_each=True)
    assert batched == one_by_one


@pytest.mark.parametrize("discard", ["trash", "mark_spam"])
def test_a_ticket_an_agent_deletes_or_marks_as_spam_gets_no_email_and_is_not_retried(
    discard: str,
) -> None:
    world = FreshdeskWorld()
    try:
        world.pf(ANA, registered="financeiro@cliente.com.br")  # no answer: "não cancelado" mail
        ticket = world.opens(ANA)
        world.poll()
        for _ in range(3):
            world.agent_says(ticket, "#tentativa")
        world.poll()  # the contact e-mail: a deadline runs
        sent = len(world.fake.outbox)
        getattr(world.fake, discard)(int(ticket))
        world.later(days=7)
        report = world.poll()  # the deadline passed; the sweep still finds the ticket
        assert len(world.fake.outbox) == sent, "nothing is e-mailed from the trash"
        assert report.failed == [] and ticket not in world.worker.retry
    finally:
        world.close()
