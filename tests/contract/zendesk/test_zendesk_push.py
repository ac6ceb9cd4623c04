"""The push path end to end on the Zendesk fake: `setup` wires the webhook and the trigger, the
fake fires them as Zendesk does (signed), the worker's receiver takes the delivery and the
runner handles the ticket at once; the worker's own writes wake nothing; during an outage the
poll finds every change and nothing is done twice."""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from tests.fakes.zendesk import ZendeskWorld
from worker.adapters.zendesk.provision import setup
from worker.config import Config, Schedule, Webhooks
from worker.runner import Runner
from worker.sandbox.webhooks import Emitter
from worker.webhooks import Receiver, WakeQueue

HOLDER = ("Ana Souza", "ana@cliente.com.br")
CONFIG = Config(webhooks=Webhooks(public_url="https://worker.empresa.com.br/webhooks/zendesk"))


@dataclass
class Push:
    world: ZendeskWorld
    emitter: Emitter
    receiver: Receiver
    runner: Runner
    answers: list[int]

    def handle_woken(self) -> list[int]:
        """Every ticket the deliveries so far woke, handled as the runner's thread would."""
        self.emitter.drain()
        woken = []
        while (ticket_id := self.receiver.queue.get(timeout=0)) is not None:
            woken.append(int(ticket_id))
            self.runner.woken(ticket_id)
        self.emitter.drain()  # the worker's writes fired nothing, or it shows next time
        return woken


@pytest.fixture
def push() -> Iterator[Push]:
    world = ZendeskWorld(CONFIG, paced=True)  # its setup creates the webhook and the trigger
    [hook] = world.fake.store.webhooks
    receiver = Receiver(WakeQueue(100), {"zendesk": hook["_secret"]}, world.clock)
    answers: list[int] = []

    def deliver(url: str, headers: dict[str, str], body: bytes) -> None:
        assert url == CONFIG.webhooks.public_url
        answers.append(receiver.receive("zendesk", headers, body).status)

    emitter = Emitter(deliver, clock=world.clock)
    world.fake.emitter = emitter
    runner = Runner(world.app, Schedule(), wake=receiver.queue)
    yield Push(world, emitter, receiver, runner, answers)
    world.close()


def test_a_new_cancellation_ticket_is_handled_on_its_webhook_without_a_poll(push: Push) -> None:
    world = push.world
    ticket = world.opens(world.holder(*HOLDER))
    assert push.handle_woken() == [ticket]
    assert push.answers == [202], "signed as the receiver verifies"
    assert world.steps(ticket) == ["1:inicio"]


def test_the_workers_own_writes_wake_nothing(push: Push) -> None:
    world = push.world
    ticket = world.opens(world.holder(*HOLDER))
    push.handle_woken()
    assert world.steps(ticket) == ["1:inicio"]
    assert push.answers == [202], "the step written through the API fired nothing"
    assert push.handle_woken() == []


def test_an_agents_command_wakes_the_ticket(push: Push) -> None:
    world = push.world
    ticket = world.opens(world.holder(*HOLDER))
    push.handle_woken()
    world.agent_says(ticket, "#tentativa")
    assert push.handle_woken() == [ticket]
    assert world.steps(ticket) == ["1:inicio", "2:tentativa"]


def test_a_ticket_neither_tagged_nor_worded_for_cancellation_wakes_nothing(push: Push) -> None:
    world = push.world
    requester = world.holder(*HOLDER)
    world.fake.add_ticket(requester, "Dúvida", "Como emito a segunda via do boleto?")
    assert push.handle_woken() == []


def test_during_a_webhook_outage_the_poll_catches_up_and_nothing_is_done_twice(
    push: Push,
) -> None:
    world = push.world
    ticket = world.opens(world.holder(*HOLDER))
    push.handle_woken()
    push.emitter.down = True
    world.agent_says(ticket, "#tentativa")
    assert push.handle_woken() == []
    world.poll()
    assert world.steps(ticket) == ["1:inicio", "2:tentativa"]
    push.emitter.down = False
    world.agent_says(ticket, "nota interna sem comando")
    push.handle_woken()
    world.poll()
    assert world.steps(ticket) == ["1:inicio", "2:tentativa"]


def test_a_second_setup_with_push_writes_nothing(push: Push) -> None:
    world = push.world
    before = world.client.stats.writes
    plan = setup(world.client, CONFIG, dry_run=False, out=io.StringIO())
    assert plan.changes == [] and world.client.stats.writes == before
