"""Who really wrote it (issue 14): a message the helpdesk doubts, a form anyone can fill in, or
a stranger can stop or hold a cancellation, never advance it. Every scenario runs through each
helpdesk (WORLD_BACKEND): Zendesk flags the comment, Freshdesk shows another sender address."""

from __future__ import annotations

from tests.fakes.world import World, person
from worker.core.state import Phase, ReviewReason

ANA = person("Ana Ribeiro", "ana@padaria.com.br")
BRUNO = person("Bruno Ribeiro", "bruno@padaria.com.br")
CARLA = person("Carla Mendes", "carla@padaria.com.br")
MARIA = person("Maria Souza", "maria@exemplo.com.br")
STRANGER = person("Pedro Alves", "pedro@desconhecido.com.br")
REVIEW = "cancelamento-revisar"


def asked_to_confirm() -> tuple[World, str]:
    world = World()
    world.pj("Padaria Pão Quente Ltda", [ANA, BRUNO, CARLA])
    ticket = world.opens(ANA)
    world.poll()
    world.agent_says(ticket, "#cancelar motivo: Encerramento da empresa")
    world.poll()
    return world, ticket


def holder_waiting(channel: str = "email") -> tuple[World, str]:
    world = World()
    world.pf(MARIA)
    ticket = world.opens(MARIA, channel=channel)  # type: ignore[arg-type]
    world.poll()
    for _ in range(3):
        world.agent_says(ticket, "#tentativa")
        world.later(hours=1)
        world.poll()
    return world, ticket


def test_a_flagged_partner_confirmation_does_not_count_and_goes_to_an_agent() -> None:
    world, ticket = asked_to_confirm()
    world.customer_writes(ticket, BRUNO, "Confirmo o cancelamento.")
    world.poll()
    sent = len(world.emails(ticket))
    world.spoofed_reply(ticket, CARLA, "Confirmo o cancelamento.")
    world.poll()
    state = world.history(ticket).state
    assert state.phase is Phase.WAITING_PARTNERS
    assert CARLA.email not in state.confirmed
    assert REVIEW in world.ticket(ticket).tags
    note = world.last_note(ticket)
    assert "sem remetente confirmado" in note
    assert "> Confirmo o cancelamento." in note
    assert f"#socio-confirmou {CARLA.email}" in note
    assert len(world.emails(ticket)) == sent, "nothing is sent"
    world.agent_says(ticket, f"#socio-confirmou {CARLA.email}")
    world.poll()
    assert world.history(ticket).state.phase is Phase.CANCEL_PENDING, "the agent verified her"


def test_a_web_form_request_by_a_partner_is_not_their_confirmation() -> None:
    world = World()
    world.pj("Padaria Pão Quente Ltda", [ANA, BRUNO])
    ticket = world.opens(ANA, channel="web")
    world.poll()
    state = world.history(ticket).state
    assert state.confirmed == ()
    assert state.phase is Phase.CALLING
    assert REVIEW in world.ticket(ticket).tags
    note = world.last_note(ticket)
    assert "Pedido sem remetente confirmado" in note
    assert "formulário web" in note
    world.agent_says(ticket, "#cancelar motivo: Encerramento")
    world.poll()
    assert world.history(ticket).state.phase is Phase.WAITING_PARTNERS, "Ana must still confirm"


def test_a_web_form_confirmation_in_a_new_ticket_does_not_count() -> None:
    world, ticket = asked_to_confirm()
    world.customer_writes(ticket, BRUNO, "Confirmo o cancelamento.")
    world.poll()
    world.later(hours=1)
    world.opens(CARLA, "Cancelamento", "Confirmo o cancelamento.", channel="web")
    world.poll()
    state = world.history(ticket).state
    assert CARLA.email not in state.confirmed
    assert state.phase is Phase.WAITING_PARTNERS
    note = world.last_note(ticket)
    assert "sem remetente confirmado" in note
    assert CARLA.email in note


def test_a_flagged_holder_reply_before_the_deadline_holds_it() -> None:
    world, ticket = holder_waiting()
    world.spoofed_reply(ticket, MARIA, "Podem me ligar amanhã?")
    world.poll()
    state = world.history(ticket).state
    assert state.phase is Phase.CALLING
    assert state.deadline is None
    assert REVIEW in world.ticket(ticket).tags
    assert "o prazo foi suspenso" in world.last_note(ticket)
    world.later(days=10)
    world.poll()
    assert world.email_templates(ticket) == ["email-contato"], "no deadline runs any more"


def test_a_flagged_request_from_the_registered_email_is_not_cancelled_on_no_answer() -> None:
    world, ticket = holder_waiting(channel="web")
    assert not world.history(ticket).state.from_registered_email
    world.later(days=5)
    world.poll()
    assert world.history(ticket).state.phase is Phase.DONE
    assert world.email_templates(ticket)[-1] == "nao-cancelado"


def test_a_flagged_refusal_still_stops_the_cancellation() -> None:
    world, ticket = asked_to_confirm()
    world.spoofed_reply(ticket, CARLA, "Não autorizo o cancelamento.")
    world.poll()
    state = world.history(ticket).state
    assert state.phase is Phase.REVIEW
    assert state.review is ReviewReason.PARTNER_REFUSED
    assert "Atenção: não há certeza de quem escreveu" in world.last_note(ticket)


def test_a_strangers_message_on_a_waiting_ticket_is_noted_with_who_wrote_it() -> None:
    world, ticket = holder_waiting()
    world.customer_writes(ticket, STRANGER, "Sou o contador, aguardem.")
    world.poll()
    note = world.last_note(ticket)
    assert STRANGER.email in note
    assert "não é o solicitante nem uma pessoa da conta" in note
    assert REVIEW in world.ticket(ticket).tags
    assert world.history(ticket).state.phase is Phase.CALLING, "holding is always safe"


def test_an_agents_command_in_a_public_comment_is_not_applied_and_a_note_says_so() -> None:
    world = World()
    world.pf(MARIA)
    ticket = world.opens(MARIA)
    world.poll()
    world.agent_says(ticket, "#tentativa", public=True)
    world.poll()
    assert world.history(ticket).state.attempts == 0
    note = world.last_note(ticket)
    assert "comentário público" in note
    assert "nota interna" in note
