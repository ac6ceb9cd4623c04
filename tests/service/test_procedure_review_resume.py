"""Situação 1: a refusal and the account's other tickets in the same batch leave one review,
which one #retomar ends where the refusal stopped the procedure (issue 16's fixed bug)."""

from __future__ import annotations

from tests.fakes.world import World, person
from worker.core.state import Phase

MARIA = person("Maria Souza", "maria@exemplo.com.br")


def test_one_retomar_after_a_refusal_and_other_tickets_in_one_batch_resumes_the_wait() -> None:
    """While the customer's deadline runs, Maria writes a new e-mail about something else, then
    another refusing the cancellation; both arrive in one poll. The refusal sends the ticket to
    review remembering the wait it stopped; noting the other ticket keeps that, so the agent's
    one #retomar goes back to waiting for the customer (it used to land in a review with no
    reason, and needed a second #retomar, which restarted the calls instead)."""
    world = World()
    world.pf(MARIA)
    ticket = world.opens(MARIA)
    world.poll()
    for _ in range(3):
        world.agent_says(ticket, "#tentativa")
        world.later(hours=1)
        world.poll()
    assert world.history(ticket).state.phase is Phase.WAITING_CUSTOMER
    world.later(hours=2)
    world.opens(MARIA, "Fatura", "Recebi a fatura de dezembro, está certa?", tags=())
    world.later(minutes=5)
    world.opens(MARIA, "Cancelamento", "Não autorizo o cancelamento.", tags=())
    world.poll()
    state = world.history(ticket).state
    assert state.phase is Phase.REVIEW
    assert state.resume_phase is Phase.WAITING_CUSTOMER
    world.agent_says(ticket, "#retomar")
    world.poll()
    state = world.history(ticket).state
    assert state.phase is Phase.WAITING_CUSTOMER
    assert state.review is None
    assert state.deadline is not None
