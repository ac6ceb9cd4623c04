"""Several steps decided in one poll build on each other (issue 15): each step's write starts
from the ticket as the previous write left it, on every helpdesk.

The three scenarios are the cases measured on Zendesk, where each later step used to send the
whole tag list as first read (a dropdown's value lost with its tag, a removed tag put back);
each runs on the in-memory, Zendesk and Freshdesk worlds. The property then says it for any
sequence: the ticket after one poll for all the events equals the ticket after one poll each."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.fakes.world import MemoryWorld, person, worker_comments
from worker.core.model import Person
from worker.core.state import Phase, parse_marker

MARIA = person("Maria Souza", "maria@exemplo.com.br")


def _zendesk() -> MemoryWorld:
    from tests.fakes.zendesk import ZendeskWorld

    return ZendeskWorld()  # type: ignore[return-value]  # same public interface


def _freshdesk() -> MemoryWorld:
    from tests.fakes.freshdesk import FreshdeskWorld

    return FreshdeskWorld()  # type: ignore[return-value]


WORLDS: dict[str, Callable[[], MemoryWorld]] = {
    "memory": MemoryWorld,
    "zendesk": _zendesk,
    "freshdesk": _freshdesk,
}


@pytest.fixture(params=sorted(WORLDS))
def world(request: pytest.FixtureRequest) -> Iterator[MemoryWorld]:
    from tests.fakes.backend import close_all

    made = WORLDS[request.param]()
    made.pf(MARIA)
    yield made
    close_all()


def test_three_failed_calls_typed_before_the_first_poll_keep_the_situation(
    world: MemoryWorld,
) -> None:
    ticket = world.opens(MARIA)
    for _ in range(3):
        world.agent_says(ticket, "#tentativa")
    world.poll()  # four steps in one poll: the first note, then one per call
    read = world.ticket(ticket)
    assert read.fields["situation"] == "titular"
    assert read.fields["attempts"] == "3"
    assert read.fields["deadline"] is not None
    assert world.email_templates(ticket) == ["email-contato"]
    assert world.history(ticket).state.phase is Phase.WAITING_CUSTOMER


def waiting_for_the_contract_to_be_cancelled(world: MemoryWorld) -> str:
    ticket = world.opens(MARIA)
    world.poll()
    world.agent_says(ticket, "#cancelar motivo: não usa mais")
    world.poll()
    assert "cancelamento-executar" in world.ticket(ticket).tags
    return ticket


def test_a_refusal_then_manual_in_one_poll_leave_the_ticket_for_review_not_to_execute(
    world: MemoryWorld,
) -> None:
    ticket = waiting_for_the_contract_to_be_cancelled(world)
    world.customer_writes(ticket, MARIA, "Pensei melhor: não cancelem, por favor.")
    world.agent_says(ticket, "#manual")
    world.poll()
    read = world.ticket(ticket)
    assert "cancelamento-executar" not in read.tags, "a refused cancellation is not executed"
    assert {"cancelamento-revisar", "cancelamento-manual"} <= read.tags
    assert read.fields["situation"] == "titular"
    assert world.history(ticket).state.phase is Phase.MANUAL


def test_a_cancelled_contract_keeps_its_outcome_when_a_message_follows_in_the_same_poll(
    world: MemoryWorld,
) -> None:
    ticket = waiting_for_the_contract_to_be_cancelled(world)
    world.agent_says(ticket, "#contrato-cancelado")
    world.customer_writes(ticket, MARIA, "Obrigada pelo atendimento.")
    world.poll()
    read = world.ticket(ticket)
    assert "cancelamento-executar" not in read.tags
    assert "cancelamento-cancelado" in read.tags
    assert read.fields["outcome"] == "cancelado"
    assert world.email_templates(ticket) == ["cancelado"]


# --- the property ---------------------------------------------------------------------------------

# What people do on a ticket between two polls: agents' command notes (`None`: the agent) and
# the customers' e-mails (agreeing, refusing, unclear), in any order and any number, on a holder's
# ticket (Situação 1) or on one of two managing partners' (Situação 2). A step that resolves the
# ticket (#revertido, #contrato-cancelado) comes last: after it, one poll each finds a solved
# ticket and leaves it alone, while one poll for all answers what was typed before it was solved.
ANA = person("Ana Ribeiro", "ana@padaria.com.br")
BRUNO = person("Bruno Ribeiro", "bruno@padaria.com.br")
Event = tuple[Person | None, str]
COMMANDS: tuple[Event, ...] = (
    (None, "#tentativa"),
    (None, "#cancelar motivo: não usa mais"),
    (None, "#identidade-confirmada"),
    (None, "#manual"),
    (None, "#retomar"),
)
EVENTS: dict[str, tuple[Event, ...]] = {
    "holder": (
        *COMMANDS,
        (MARIA, "Pensei melhor: não cancelem, por favor."),
        (MARIA, "Sim, quero cancelar."),
        (MARIA, "Podem me ligar amanhã às 10h?"),
    ),
    "partners": (
        *COMMANDS,
        (None, f"#socio-confirmou {BRUNO.email}"),
        (BRUNO, "Confirmo o cancelamento."),
        (BRUNO, "Não autorizo o cancelamento."),
        (ANA, "Podem me ligar amanhã às 10h?"),
    ),
}
LAST: tuple[Event, ...] = (
    (None, "#revertido motivo: Preço - desconto"),
    (None, "#contrato-cancelado"),
)
SEQUENCES = st.sampled_from(sorted(EVENTS)).flatmap(
    lambda kind: st.tuples(
        st.just(kind),
        st.builds(
            lambda events, last: events + last,
            st.lists(st.sampled_from(EVENTS[kind]), min_size=1, max_size=5),
            st.lists(st.sampled_from(LAST), max_size=1),
        ),
    )
)


def played(
    make: Callable[[], MemoryWorld], kind: str, events: list[Event], *, poll_each: bool
) -> tuple[MemoryWorld, str]:
    """The same ticket and the same events at the same times; polled after each event, or
    once after them all (the steps of every event then decided and written in one poll)."""
    world = make()
    if kind == "holder":
        world.pf(MARIA)
        ticket = world.opens(MARIA)
    else:
        world.pj("Padaria Pão Quente Ltda", [ANA, BRUNO])
        ticket = world.opens(ANA)
    for author, text in events:
        world.later(minutes=5)
        if author is None:
            world.agent_says(ticket, text)
        else:
            world.customer_writes(ticket, author, text)
        if poll_each:
            world.poll()
    world.later(minutes=5)
    world.poll()
    return world, ticket


def outcome(world: MemoryWorld, ticket_id: str) -> tuple[object, ...]:
    """What people and views see of the ticket, and the worker's steps with their states (the
    moment a wait began depends on when it was polled, so it is left out). In `#manual` the
    worker writes nothing, so the status is the helpdesk's: a customer's e-mail reopens the
    ticket only if it arrives after the worker's last status, which depends on when it was
    polled; it is left out there too (tags, fields and markers still say everything the worker
    did)."""
    ticket = world.ticket(ticket_id)
    markers = [
        (m.step, {k: v for k, v in m.state.to_json().items() if k != "waiting_since"})
        for c in worker_comments(ticket)
        if not c.public and (m := parse_marker(c.body)) is not None
    ]
    manual = bool(markers) and markers[-1][1].get("phase") == Phase.MANUAL.value
    return (
        sorted(ticket.tags),
        dict(sorted(ticket.fields.items())),
        None if manual else world.status(ticket_id),
        markers,
        world.email_templates(ticket_id),
    )


@pytest.mark.parametrize("backend", sorted(WORLDS))
@settings(
    max_examples=int(__import__("os").environ.get("SEVERAL_STEPS_EXAMPLES", "25")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(sequence=SEQUENCES)
def test_steps_written_in_one_poll_leave_the_ticket_as_one_poll_each(
    backend: str, sequence: tuple[str, list[Event]]
) -> None:
    from tests.fakes.backend import close_all

    kind, events = sequence
    try:
        together = outcome(*played(WORLDS[backend], kind, events, poll_each=False))
        close_all()
        one_by_one = outcome(*played(WORLDS[backend], kind, events, poll_each=True))
    finally:
        close_all()
    assert together == one_by_one
