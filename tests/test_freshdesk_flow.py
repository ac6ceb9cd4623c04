"""Costs of the Freshdesk adapter that only show over several polls."""

from __future__ import annotations

from tests.backends.freshdesk import FreshdeskWorld
from tests.world import person

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
