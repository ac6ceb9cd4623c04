"""Situação 1 (PROCEDURE.md §3): the holder asks; one test per branch."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from tests.fakes.world import CPF_2, World, person
from worker.core import engine
from worker.core.calendar import SAO_PAULO
from worker.core.effects import Step
from worker.core.procedure.run import View
from worker.core.state import Phase

MARIA = person("Maria Souza", "maria@exemplo.com.br")


def holder_world() -> tuple[World, str]:
    world = World()
    world.pf(MARIA)
    ticket = world.opens(MARIA)
    world.poll()
    return world, ticket


def three_failed_calls(world: World, ticket: str) -> None:
    for _ in range(3):
        world.agent_says(ticket, "#tentativa")
        world.later(hours=1)
        world.poll()


def test_first_step_registers_in_the_ficha_at_once_and_sets_em_atendimento() -> None:
    world, ticket = holder_world()
    note = world.last_note(ticket)
    assert note.startswith("[Cancelamento]")
    assert "Situação 1 (titular)" in note
    assert "Maria Souza" in note
    assert world.status(ticket) == "Em atendimento"
    assert world.ticket(ticket).fields["situation"] == "titular"
    assert world.emails(ticket) == []


def test_a_new_holders_ticket_is_decided_in_one_run_of_the_procedure(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The account's other tickets the first step depends on (an open cancellation to join, a
    newer e-mail of the account's people) are read before deciding, so the procedure runs once
    on the ticket: it never stops midway to ask for them and starts over (issue 16)."""
    world = World()
    world.pf(MARIA)
    ticket = world.opens(MARIA)
    runs: list[str] = []
    play = engine._play

    def counted(view: View) -> tuple[Step, ...]:
        runs.append(view.ticket.id)
        return play(view)

    monkeypatch.setattr(engine, "_play", counted)
    world.poll()
    assert world.history(ticket).state.phase is Phase.CALLING
    assert runs.count(ticket) == 1


def test_each_failed_call_is_confirmed_as_tentativa_n_de_3() -> None:
    world, ticket = holder_world()
    world.agent_says(ticket, "#tentativa")
    world.poll()
    assert "tentativa 1 de 3" in world.last_note(ticket)
    assert world.ticket(ticket).fields["attempts"] == "1"
    world.agent_says(ticket, "#tentativa")
    world.poll()
    assert "tentativa 2 de 3" in world.last_note(ticket)
    assert world.emails(ticket) == []


def test_two_failed_calls_between_two_polls_count_twice() -> None:
    world, ticket = holder_world()
    world.agent_says(ticket, "#tentativa")
    world.agent_says(ticket, "#TENTATIVA")
    world.poll()
    assert world.history(ticket).state.attempts == 2
    world.poll()
    assert world.history(ticket).state.attempts == 2, "a command is never counted twice"


def test_after_three_failed_calls_contact_email_waiting_status_and_a_deadline() -> None:
    world, ticket = holder_world()
    three_failed_calls(world, ticket)
    assert world.email_templates(ticket) == ["email-contato"]
    assert world.status(ticket) == "Aguardando retorno do cliente"
    state = world.history(ticket).state
    assert state.phase is Phase.WAITING_CUSTOMER
    # Monday's e-mail + 2 business days: due at the end of Wednesday 9 December.
    assert state.deadline == datetime(2026, 12, 10, tzinfo=SAO_PAULO)
    assert world.ticket(ticket).fields["deadline"] == "2026-12-09"
    notes = world.notes(ticket)
    assert "tentativa 3 de 3" in notes[-2]
    assert "09/12/2026" in notes[-1]


def test_third_call_is_two_steps_in_the_same_run() -> None:
    world, ticket = holder_world()
    world.agent_says(ticket, "#tentativa\n#tentativa\n#tentativa")
    report = world.poll()
    assert report.steps == 4  # three calls and the contact attempt
    assert len(world.notes(ticket)) == 5  # with the first note


def test_a_failure_between_the_third_call_and_the_contact_email_still_sends_it_once() -> None:
    world, ticket = holder_world()
    world.helpdesk.fail_steps.add("email-contato")
    three_failed_calls(world, ticket)
    assert world.emails(ticket) == []  # the third call is noted; the e-mail's write failed
    world.later(minutes=15)
    world.poll()
    assert world.email_templates(ticket) == ["email-contato"]
    world.poll()
    assert len(world.emails(ticket)) == 1


def test_call_gets_through_and_customer_is_retained() -> None:
    world, ticket = holder_world()
    world.agent_says(ticket, "#revertido motivo: Preço - desconto de 10%")
    world.poll()
    assert world.email_templates(ticket) == ["revertido"]
    assert world.status(ticket) == "solved"
    assert "cancelamento-revertido" in world.ticket(ticket).tags
    assert world.ticket(ticket).fields["reason"] == "preco"
    assert world.ticket(ticket).fields["outcome"] == "revertido"
    assert "Preço - desconto de 10%" in world.last_note(ticket)


@pytest.mark.parametrize(
    "command",
    [
        "#revertido motivo: vai abrir uma filial e precisa de nós",
        "#cancelar motivo: sócio faleceu, empresa em inventário",
    ],
)
def test_a_reason_that_names_no_option_is_recorded_as_outro_with_its_text(command: str) -> None:
    world, ticket = holder_world()
    world.agent_says(ticket, command)
    world.poll()
    assert world.ticket(ticket).fields["reason"] == "outro"
    assert command.split("motivo: ", 1)[1] in world.last_note(ticket)


def test_call_gets_through_and_customer_cancels_contract_then_confirmation() -> None:
    world, ticket = holder_world()
    world.agent_says(ticket, "#cancelar motivo: não usa mais")
    world.poll()
    assert "cancelamento-executar" in world.ticket(ticket).tags
    assert world.emails(ticket) == [], "manual mode: nothing is sent before the agent cancels"
    assert "#contrato-cancelado" in world.last_note(ticket)
    world.agent_says(ticket, "#contrato-cancelado")
    world.poll()
    assert world.email_templates(ticket) == ["cancelado"]
    assert world.status(ticket) == "solved"
    tags = world.ticket(ticket).tags
    assert "cancelamento-cancelado" in tags
    assert "cancelamento-executar" not in tags


def test_customer_answers_before_the_deadline_back_to_em_atendimento() -> None:
    world, ticket = holder_world()
    three_failed_calls(world, ticket)
    world.customer_writes(ticket, MARIA, "Podem me ligar amanhã às 10h?")
    world.poll()
    state = world.history(ticket).state
    assert state.phase is Phase.CALLING
    assert state.deadline is None
    assert world.status(ticket) == "Em atendimento"
    assert world.ticket(ticket).fields["deadline"] is None
    assert "Podem me ligar" in world.last_note(ticket)
    world.later(days=10)
    world.poll()
    assert world.email_templates(ticket) == ["email-contato"], "no deadline runs any more"


def test_an_auto_reply_is_not_an_answer_and_the_deadline_still_runs() -> None:
    world, ticket = holder_world()
    three_failed_calls(world, ticket)
    world.customer_writes(ticket, MARIA, "Resposta automática: estou fora do escritório.")
    world.poll()
    assert world.history(ticket).state.phase is Phase.WAITING_CUSTOMER
    assert world.status(ticket) == "Aguardando retorno do cliente"  # the reopening is undone


def test_no_answer_from_registered_email_cancels_at_the_deadline() -> None:
    world, ticket = holder_world()
    three_failed_calls(world, ticket)
    world.at(datetime(2026, 12, 9, 23, 59, tzinfo=SAO_PAULO))
    world.poll()
    assert world.history(ticket).state.phase is Phase.WAITING_CUSTOMER, "not before the end"
    world.at(datetime(2026, 12, 10, 0, 1, tzinfo=SAO_PAULO))
    world.poll()
    assert world.history(ticket).state.phase is Phase.CANCEL_PENDING
    assert "cancelamento-executar" in world.ticket(ticket).tags
    assert "e-mail de cadastro" in world.last_note(ticket)


def test_no_answer_from_another_address_is_not_cancelled() -> None:
    world = World()
    personal = person("Maria Souza", "maria.pessoal@exemplo.com.br")
    world.pf(personal, registered="maria@exemplo.com.br")
    ticket = world.opens(personal)
    world.poll()
    three_failed_calls(world, ticket)
    world.later(days=5)
    world.poll()
    assert world.email_templates(ticket) == ["email-contato", "nao-cancelado"]
    assert world.status(ticket) == "solved"
    assert "cancelamento-nao-cancelado" in world.ticket(ticket).tags
    assert "cancelamento-executar" not in world.ticket(ticket).tags


def test_no_answer_but_identity_confirmed_by_agent_cancels() -> None:
    world = World()
    personal = person("Maria Souza", "maria.pessoal@exemplo.com.br")
    world.pf(personal, registered="maria@exemplo.com.br")
    ticket = world.opens(personal)
    world.poll()
    world.agent_says(ticket, "#identidade-confirmada")
    three_failed_calls(world, ticket)
    world.later(days=5)
    world.poll()
    assert world.history(ticket).state.phase is Phase.CANCEL_PENDING
    assert "#identidade-confirmada" in world.last_note(ticket)


def test_deadline_counts_business_days_over_christmas() -> None:
    world = World(start=datetime(2026, 12, 24, 10, 0, tzinfo=SAO_PAULO))
    world.pf(MARIA)
    ticket = world.opens(MARIA)
    world.poll()
    world.agent_says(ticket, "#tentativa\n#tentativa\n#tentativa")
    world.poll()
    assert world.ticket(ticket).fields["deadline"] == "2026-12-29"
    world.at(datetime(2026, 12, 29, 18, 0, tzinfo=SAO_PAULO))
    world.poll()
    assert world.history(ticket).state.phase is Phase.WAITING_CUSTOMER
    world.at(datetime(2026, 12, 30, 0, 5, tzinfo=SAO_PAULO))
    world.poll()
    assert world.history(ticket).state.phase is Phase.CANCEL_PENDING


def test_a_newer_ticket_from_the_customer_stops_the_no_answer_branch() -> None:
    world, ticket = holder_world()
    three_failed_calls(world, ticket)
    world.later(days=1)
    newer = world.opens(MARIA, "Dúvida sobre a fatura", "Qual o valor?", tags=())
    world.later(days=4)
    world.poll()
    assert world.history(ticket).state.phase is Phase.REVIEW
    assert "cancelamento-revisar" in world.ticket(ticket).tags
    assert f"#{newer}" in world.last_note(ticket)
    assert world.email_templates(ticket) == ["email-contato"], "nothing sent"


def test_a_holder_marked_user_who_is_not_the_registered_email_is_situation_1() -> None:
    world = World()
    world.pf(
        person("João", "joao@exemplo.com.br"), registered="cadastro@exemplo.com.br", document=CPF_2
    )
    ticket = world.opens(person("João", "joao@exemplo.com.br"))
    world.poll()
    assert world.history(ticket).state.situation == "titular"
    assert world.history(ticket).state.from_registered_email is False


def test_a_second_request_while_one_is_under_way_joins_the_first() -> None:
    world, ticket = holder_world()
    three_failed_calls(world, ticket)
    world.later(hours=5)
    new = world.opens(MARIA, "Cancelamento", "Ainda aguardo o cancelamento!", tags=())
    world.poll()
    assert world.status(new) == "solved"
    assert world.emails(new) == [], "no second procedure, no second e-mail"
    assert f"#{ticket}" in world.last_note(new)
    assert world.history(ticket).state.phase is Phase.REVIEW
    assert f"#{new}" in world.last_note(ticket)
    world.agent_says(ticket, "#retomar")
    world.poll()
    state = world.history(ticket).state
    assert state.phase is Phase.WAITING_CUSTOMER
    assert state.deadline is not None and state.deadline > world.clock.now


def test_a_new_email_while_agents_are_still_calling_is_noted_on_the_first_ticket() -> None:
    world, ticket = holder_world()
    world.later(hours=1)
    new = world.opens(MARIA, "Cancelamento", "Podem ligar depois das 14h.", tags=())
    world.poll()
    assert world.status(new) == "solved"
    note = world.last_note(ticket)
    assert f"#{new}" in note
    assert "depois das 14h" in note
    assert world.history(ticket).state.phase is Phase.CALLING


def test_taking_a_waiting_ticket_over_clears_its_deadline_for_the_views() -> None:
    world, ticket = holder_world()
    three_failed_calls(world, ticket)
    assert world.ticket(ticket).fields["deadline"] is not None
    world.agent_says(ticket, "#manual")
    world.poll()
    assert world.ticket(ticket).fields["deadline"] is None
    assert world.helpdesk.due_tickets(world.clock.now + timedelta(days=30)) == ()


def test_the_holder_changing_their_mind_stops_a_cancellation_about_to_happen() -> None:
    world, ticket = holder_world()
    world.agent_says(ticket, "#cancelar motivo: mudou de fornecedor")
    world.poll()
    assert "cancelamento-executar" in world.ticket(ticket).tags
    world.customer_writes(ticket, MARIA, "Pensei melhor: não cancelem, por favor.")
    world.poll()
    state = world.history(ticket).state
    assert state.phase is Phase.REVIEW
    assert "cancelamento-executar" not in world.ticket(ticket).tags
    assert "recusou o cancelamento" in world.last_note(ticket)
    world.agent_says(ticket, "#contrato-cancelado")
    world.poll()
    assert world.emails(ticket) == [], "no confirmation of a cancellation that was stopped"


def test_a_refusal_written_before_the_worker_started_still_counts() -> None:
    world = World()
    world.pf(MARIA)
    ticket = world.opens(MARIA)
    world.customer_writes(ticket, MARIA, "Desculpem, não cancelem, foi engano.")
    world.poll()
    notes = world.notes(ticket)
    assert "Situação 1" in notes[0]
    assert "recusou o cancelamento" in notes[1]
    assert world.history(ticket).state.phase is Phase.REVIEW


def test_a_refusal_in_a_new_email_after_another_new_email_during_the_wait() -> None:
    """The refusal (the later ticket) stops the cancellation, and the earlier ticket since the
    contact e-mail is still named for the agent (rule 16), in the same poll."""
    world, ticket = holder_world()
    three_failed_calls(world, ticket)
    world.later(hours=2)
    world.opens(MARIA, "Fatura", "Recebi a fatura de dezembro, está certa?", tags=())
    world.later(minutes=5)
    world.opens(MARIA, "Cancelamento", "Não autorizo o cancelamento.", tags=())
    world.poll()
    assert world.history(ticket).state.phase is Phase.REVIEW
    refusal, others = world.notes(ticket)[-2:]
    assert "Não autorizo o cancelamento." in refusal
    assert "Fatura" in others
    assert world.email_templates(ticket) == ["email-contato"], "nothing sent"
