"""Situação 3 (PROCEDURE.md §5, CONTRACT 4): a third party asks; never cancel."""

from __future__ import annotations

from tests.fakes.world import World, person
from worker.core.model import StatusCategory
from worker.core.state import Phase

CARLOS = person("Carlos Nunes", "carlos@technova.com.br")
FERNANDA = person("Fernanda Alves", "fernanda@technova.com.br")


def third_party_world() -> tuple[World, str]:
    world = World()
    world.pj("TechNova", [CARLOS], others=[FERNANDA])
    ticket = world.opens(FERNANDA)
    world.poll()
    return world, ticket


def test_third_party_is_told_only_the_holder_or_a_partner_may_ask_and_resolved() -> None:
    world, ticket = third_party_world()
    assert world.email_templates(ticket) == ["terceiro"]
    assert "telefone" in world.emails(ticket)[0].text
    assert world.status(ticket) == "solved"
    assert world.ticket(ticket).fields["situation"] == "terceiro"
    assert "cancelamento-terceiro" in world.ticket(ticket).tags


def test_third_party_claiming_to_be_the_holder_gets_the_reinforcement_never_a_cancellation() -> (
    None
):
    world, ticket = third_party_world()
    world.customer_writes(ticket, FERNANDA, "Eu sou a titular! Confirmo o cancelamento, cancelem.")
    world.poll()
    assert world.email_templates(ticket) == ["terceiro", "terceiro-reforco"]
    assert world.status(ticket) == "solved"
    assert "cancelamento-executar" not in world.ticket(ticket).tags


def test_after_three_reinforcements_a_mail_loop_gets_notes_only() -> None:
    world, ticket = third_party_world()
    for n in range(5):
        world.customer_writes(
            ticket, FERNANDA, f"Resposta automática {n}: estou fora do escritório."
        )
        world.poll()
    kinds = world.email_templates(ticket)
    assert kinds == ["terceiro"] + ["terceiro-reforco"] * 3
    assert world.history(ticket).state.phase is Phase.REVIEW
    assert "cancelamento-revisar" in world.ticket(ticket).tags
    # one note per incoming message, even past the limit
    assert len(world.notes(ticket)) == 6


def test_the_loop_guard_counts_the_requesters_other_tickets() -> None:
    world, first = third_party_world()
    for n in range(4):
        world.later(hours=1)
        world.opens(FERNANDA, f"Cancelar {n}", "Cancelem o contrato.")
        world.poll()
    answered = sum(len(world.emails(str(int(first) + n))) for n in range(5))
    assert answered == 4, "the first reply plus three more, across tickets"


def test_commands_to_cancel_are_refused_for_a_third_party() -> None:
    world, ticket = third_party_world()
    world.customer_writes(ticket, FERNANDA, "Sou eu mesma.")
    world.agent_says(ticket, "#cancelar motivo: cliente pediu")
    world.poll()
    assert "não se aplica" in world.last_note(ticket)
    assert "cancelamento-executar" not in world.ticket(ticket).tags


def test_several_messages_between_two_polls_get_one_reinforcement() -> None:
    world, ticket = third_party_world()
    world.customer_writes(ticket, FERNANDA, "Sou a titular.")
    world.customer_writes(ticket, FERNANDA, "Alguém pode me responder?")
    world.poll()
    assert world.email_templates(ticket) == ["terceiro", "terceiro-reforco"]
    world.poll()
    assert world.email_templates(ticket) == ["terceiro", "terceiro-reforco"]


def test_a_ticket_an_agent_solved_after_a_reopening_is_left_alone() -> None:
    world, ticket = third_party_world()
    world.customer_writes(ticket, FERNANDA, "Sou a titular.")
    world.helpdesk.agent_sets(ticket, status=StatusCategory.SOLVED)
    writes = world.helpdesk.writes
    world.poll()
    assert world.helpdesk.writes == writes
