"""The rule of issue 14 as a property: whatever untrusted messages arrive (flagged by the
helpdesk, or from someone outside the account), in whatever order and wording, none moves a
ticket toward cancellation: no partner's confirmation counts, the contract is never to be
cancelled, and nothing is sent."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.fakes.world import MemoryWorld, person
from worker.core.model import Person
from worker.core.state import Phase

ANA = person("Ana Ribeiro", "ana@padaria.com.br")
BRUNO = person("Bruno Ribeiro", "bruno@padaria.com.br")
MARIA = person("Maria Souza", "maria@exemplo.com.br")
STRANGER = person("Pedro Alves", "pedro@desconhecido.com.br")
TEXTS = (
    "Confirmo o cancelamento.",
    "De acordo, podem cancelar.",
    "Sim",
    "Quero cancelar o contrato.",
    "#contrato-cancelado",
    "#socio-confirmou bruno@padaria.com.br",
    "Podem me ligar amanhã?",
    "Resposta automática: estou fora do escritório.",
)


def partners_waiting() -> tuple[MemoryWorld, str]:
    world = MemoryWorld()
    world.pj("Padaria Pão Quente Ltda", [ANA, BRUNO])
    ticket = world.opens(ANA, channel="web")  # the request itself is not believed
    world.poll()
    world.agent_says(ticket, "#cancelar motivo: Encerramento")
    world.poll()
    return world, ticket


def holder_waiting() -> tuple[MemoryWorld, str]:
    world = MemoryWorld()
    world.pf(MARIA)
    ticket = world.opens(MARIA)
    world.poll()
    world.agent_says(ticket, "#tentativa\n#tentativa\n#tentativa")
    world.poll()
    return world, ticket


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    partners=st.booleans(),
    messages=st.lists(
        st.tuples(st.sampled_from((ANA, BRUNO, MARIA, STRANGER)), st.sampled_from(TEXTS)),
        min_size=1,
        max_size=5,
    ),
)
def test_no_untrusted_message_ever_moves_a_ticket_toward_cancellation(
    partners: bool, messages: list[tuple[Person, str]]
) -> None:
    world, ticket = partners_waiting() if partners else holder_waiting()
    before = world.history(ticket).state
    sent = len(world.emails(ticket))
    for author, text in messages:
        if author is STRANGER:
            world.customer_writes(ticket, STRANGER, text)
        else:
            world.spoofed_reply(ticket, author, text)
        world.later(minutes=20)
        world.poll()
        state = world.history(ticket).state
        assert set(state.confirmed) <= set(before.confirmed)
        assert state.phase is not Phase.CANCEL_PENDING
        assert not state.identity_confirmed
        assert not state.from_registered_email or before.from_registered_email
        assert len(world.emails(ticket)) == sent
