"""Situação 2 (PROCEDURE.md §4): one of several managing partners asks; every one must confirm."""

from __future__ import annotations

from tests.fakes.world import World, person
from worker.core.model import StatusCategory
from worker.core.state import Phase, StepKind, parse_marker

ANA = person("Ana Ribeiro", "ana@padaria.com.br")
BRUNO = person("Bruno Ribeiro", "bruno@padaria.com.br")
CARLA = person("Carla Mendes", "carla@padaria.com.br")

QUOTE = (
    "\n\nEm seg., 7 de dez. de 2026 às 11:16, Atendimento <suporte@empresa.com.br> escreveu:\n"
    '> Responda confirmando: "Confirmo o cancelamento".'
)


def partners_world() -> tuple[World, str]:
    world = World()
    world.pj("Padaria Pão Quente Ltda", [ANA, BRUNO, CARLA])
    ticket = world.opens(ANA)
    world.poll()
    return world, ticket


def asked_to_confirm() -> tuple[World, str]:
    world, ticket = partners_world()
    world.agent_says(ticket, "#cancelar motivo: Encerramento da empresa")
    world.poll()
    return world, ticket


def test_first_note_lists_every_partner_and_whose_confirmation_is_missing() -> None:
    world, ticket = partners_world()
    note = world.last_note(ticket)
    assert "Situação 2" in note
    for partner in (ANA, BRUNO, CARLA):
        assert partner.email in note
    assert world.history(ticket).state.confirmed == (ANA.email,), "the request is Ana's own"


def test_after_three_failed_calls_the_partners_contact_email_copies_every_partner() -> None:
    world, ticket = partners_world()
    world.agent_says(ticket, "#tentativa\n#tentativa\n#tentativa")
    world.poll()
    [email] = world.emails(ticket)
    assert email.step.endswith("email-contato")
    assert set(email.cc) == {BRUNO.email, CARLA.email}
    assert "todos os sócios-administradores" in email.text


def test_call_gets_through_and_the_other_partners_are_asked_to_confirm() -> None:
    world, ticket = asked_to_confirm()
    [email] = world.emails(ticket)
    assert email.step.endswith("pedido-socios")
    assert set(email.cc) == {BRUNO.email, CARLA.email}
    assert world.status(ticket) == "Aguardando retorno do cliente"
    assert world.history(ticket).state.phase is Phase.WAITING_PARTNERS


def test_every_partner_confirms_by_email_then_cancelled_with_confirmation_to_all() -> None:
    world, ticket = asked_to_confirm()
    world.customer_writes(ticket, BRUNO, "Confirmo o cancelamento." + QUOTE)
    world.poll()
    assert world.history(ticket).state.phase is Phase.WAITING_PARTNERS
    assert "Carla Mendes" in world.last_note(ticket)
    assert world.status(ticket) == "Aguardando retorno do cliente"  # reopened, shown waiting again
    world.customer_writes(ticket, CARLA, "De acordo." + QUOTE)
    world.poll()
    assert world.history(ticket).state.phase is Phase.CANCEL_PENDING
    world.agent_says(ticket, "#contrato-cancelado")
    world.poll()
    confirmation = world.emails(ticket)[-1]
    assert confirmation.step.endswith("cancelado")
    assert set(confirmation.cc) == {BRUNO.email, CARLA.email}
    assert world.status(ticket) == "solved"


def test_a_refusal_stops_the_cancellation_and_goes_to_an_agent() -> None:
    world, ticket = asked_to_confirm()
    world.customer_writes(ticket, BRUNO, "Não autorizo o cancelamento.")
    world.poll()
    assert world.history(ticket).state.phase is Phase.REVIEW
    assert "cancelamento-revisar" in world.ticket(ticket).tags
    assert world.status(ticket) == "Em atendimento"
    world.customer_writes(ticket, CARLA, "Confirmo.")
    world.later(days=10)
    world.poll()
    assert "cancelamento-executar" not in world.ticket(ticket).tags


def test_unclear_text_goes_to_an_agent_and_does_not_count() -> None:
    world, ticket = asked_to_confirm()
    world.customer_writes(ticket, BRUNO, "Confirmo, mas só depois de março.")
    world.poll()
    state = world.history(ticket).state
    assert BRUNO.email not in state.confirmed
    assert state.phase is Phase.WAITING_PARTNERS
    assert "cancelamento-revisar" in world.ticket(ticket).tags
    assert "#socio-confirmou bruno@padaria.com.br" in world.last_note(ticket)


def test_a_ticket_sent_to_review_is_not_resolved_out_of_the_review_view_at_the_deadline() -> None:
    """An agent was asked to read Bruno's answer; the deadline passing must not take the ticket
    out of the review view before anyone did."""
    world, ticket = asked_to_confirm()
    world.customer_writes(ticket, BRUNO, "Confirmo, mas só depois de março.")
    world.poll()
    world.later(days=7)
    world.poll()
    assert world.email_templates(ticket)[-1] == "prazo-socios"  # the partners are told
    assert "cancelamento-revisar" in world.ticket(ticket).tags
    assert world.status(ticket) == "Em atendimento"
    world.later(hours=1)
    assert world.poll().steps == 0, "and nothing more happens on it"


def test_agreement_only_in_the_quoted_history_does_not_count() -> None:
    world, ticket = asked_to_confirm()
    world.customer_writes(ticket, BRUNO, "Recebi, vou ver." + QUOTE)
    world.poll()
    assert BRUNO.email not in world.history(ticket).state.confirmed


def test_an_agent_records_a_confirmation_made_another_way() -> None:
    world, ticket = asked_to_confirm()
    world.agent_says(ticket, "#socio-confirmou Bruno@Padaria.com.br")
    world.agent_says(ticket, "#sócio-confirmou carla@padaria.com.br")
    world.poll()
    assert world.history(ticket).state.phase is Phase.CANCEL_PENDING
    assert "cancelamento-executar" in world.ticket(ticket).tags


def test_socio_confirmou_with_someone_who_is_not_a_partner_is_refused() -> None:
    world, ticket = asked_to_confirm()
    world.agent_says(ticket, "#socio-confirmou contador@escritorio.com.br")
    world.poll()
    note = world.last_note(ticket)
    assert "contador@escritorio.com.br" in note
    assert "não é sócio-administrador" in note
    assert world.history(ticket).state.confirmed == (ANA.email,)


def test_deadline_without_every_confirmation_never_cancels() -> None:
    world, ticket = asked_to_confirm()
    world.customer_writes(ticket, BRUNO, "Confirmo.")
    world.poll()
    world.later(days=5)
    world.poll()
    assert world.email_templates(ticket) == ["pedido-socios", "prazo-socios"]
    assert world.status(ticket) == "solved"
    ticket_now = world.ticket(ticket)
    assert "cancelamento-nao-cancelado" in ticket_now.tags
    assert "cancelamento-executar" not in ticket_now.tags
    assert "Carla Mendes" in world.last_note(ticket)


def test_request_from_the_company_address_needs_every_partner() -> None:
    world = World()
    world.pj("Padaria", [ANA, BRUNO], registered="financeiro@padaria.com.br")
    company = person("Financeiro", "financeiro@padaria.com.br")
    ticket = world.opens(company)
    world.poll()
    state = world.history(ticket).state
    assert state.situation == "socio"
    assert state.confirmed == (), "the company address is not a partner's own confirmation"


def test_a_partner_confirming_in_a_new_email_is_linked_and_counted_on_the_first_ticket() -> None:
    world, ticket = asked_to_confirm()
    world.customer_writes(ticket, BRUNO, "Confirmo o cancelamento.")
    world.poll()
    world.later(hours=2)
    new = world.opens(
        CARLA, "Cancelamento Padaria", "Confirmo o cancelamento do contrato.", tags=()
    )
    world.poll()
    assert world.status(new) == "solved"
    assert "cancelamento-vinculado" in world.ticket(new).tags
    assert f"#{ticket}" in world.last_note(new)
    assert world.emails(new) == []
    assert world.history(ticket).state.phase is Phase.CANCEL_PENDING
    confirmation = world.notes(ticket)[-2]
    assert "Carla Mendes" in confirmation
    assert f"no ticket #{new}" in confirmation


def test_a_partner_refusing_in_a_new_email_stops_the_cancellation() -> None:
    world, ticket = asked_to_confirm()
    world.later(hours=2)
    new = world.opens(CARLA, "Cancelamento Padaria", "Não autorizo o cancelamento!", tags=())
    world.poll()
    assert world.status(new) == "solved"
    assert world.history(ticket).state.phase is Phase.REVIEW
    assert "cancelamento-revisar" in world.ticket(ticket).tags


def test_a_partners_new_email_not_read_as_a_request_still_counts_at_the_deadline() -> None:
    world, ticket = asked_to_confirm()
    world.customer_writes(ticket, BRUNO, "Confirmo.")
    world.poll()
    world.later(hours=2)
    new = world.opens(CARLA, "Re: Padaria", "De acordo.", tags=())
    world.poll()
    assert world.notes(new) == [], "not a cancellation request by itself"
    world.later(days=5)
    world.poll()
    assert world.history(ticket).state.phase is Phase.CANCEL_PENDING


def test_after_a_refusal_the_agent_can_record_the_partners_confirmation_and_it_proceeds() -> None:
    world, ticket = asked_to_confirm()
    world.customer_writes(ticket, BRUNO, "Confirmo.")
    world.customer_writes(ticket, CARLA, "Não concordo.")
    world.poll()
    assert world.history(ticket).state.phase is Phase.REVIEW
    assert world.ticket(ticket).fields["deadline"] is None, "no deadline while an agent looks"
    world.agent_says(
        ticket, "Liguei para a Carla; gravação 123.\n#socio-confirmou carla@padaria.com.br"
    )
    world.poll()
    assert world.history(ticket).state.phase is Phase.CANCEL_PENDING


def test_a_partner_who_had_confirmed_and_then_refuses_stops_it_and_no_longer_counts() -> None:
    world, ticket = asked_to_confirm()
    world.customer_writes(ticket, BRUNO, "Confirmo.")
    world.customer_writes(ticket, CARLA, "De acordo.")
    world.poll()
    assert world.history(ticket).state.phase is Phase.CANCEL_PENDING
    world.customer_writes(ticket, BRUNO, "Não autorizo mais, conversamos e vamos continuar.")
    world.poll()
    state = world.history(ticket).state
    assert state.phase is Phase.REVIEW
    assert BRUNO.email not in state.confirmed
    assert "cancelamento-executar" not in world.ticket(ticket).tags
    world.agent_says(ticket, "#retomar")
    world.poll()
    assert world.history(ticket).state.phase is Phase.WAITING_PARTNERS


def test_the_requester_withdrawing_in_a_new_email_stops_it() -> None:
    world, ticket = asked_to_confirm()
    world.later(hours=3)
    world.opens(ANA, "Cancelamento", "Não quero cancelar mais, desconsiderem.", tags=())
    world.poll()
    assert world.history(ticket).state.phase is Phase.REVIEW


def test_a_refusal_in_a_new_email_reaches_every_open_cancellation_of_the_account() -> None:
    """§4.5 for the account, not for one ticket: two cancellations of the same account can be
    under way at once (an agent solved Ana's first ticket, she asked again in a new e-mail, then
    wrote on the first, which reopened it). Bruno's refusal, sent as a new e-mail, is linked to
    the first; it must stop the second too, which otherwise keeps asking agents to cancel."""
    world = World()
    world.pj("Padaria Pão Quente Ltda", [ANA, BRUNO])
    first = world.opens(ANA)
    world.poll()
    world.helpdesk.agent_sets(first, status=StatusCategory.SOLVED)
    world.later(hours=1)
    second = world.opens(ANA, "Cancelamento", "Quero cancelar o contrato da padaria.")
    world.poll()
    world.agent_says(second, "#socio-confirmou bruno@padaria.com.br")
    world.poll()
    assert "cancelamento-executar" in world.ticket(second).tags
    world.customer_writes(first, ANA, "Vou pensar.")
    world.poll()
    assert world.ticket(first).status is not StatusCategory.SOLVED, "reopened: under way again"
    world.later(hours=1)
    refusal = world.opens(BRUNO, "Cancelamento Padaria", "Não autorizo o cancelamento!", tags=())
    world.poll()
    assert f"#{first}" in world.last_note(refusal), "linked to the first of the account"
    for ticket in (first, second):
        assert world.history(ticket).state.phase is Phase.REVIEW, ticket
        assert "cancelamento-executar" not in world.ticket(ticket).tags
        assert "cancelamento-revisar" in world.ticket(ticket).tags


def test_the_confirmation_that_completes_the_partners_in_a_new_email_during_the_wait() -> None:
    """Rule 16 still holds when the same poll cancels: the requester's own new ticket since the
    contact e-mail goes to an agent, after the cancelling that the last partner's confirmation
    decided; #retomar then goes back to cancelling (found by the property machine, kept as is)."""
    world = World()
    world.pj("Padaria Pão Quente Ltda", [ANA, BRUNO])
    ticket = world.opens(ANA)
    world.poll()
    for _ in range(3):
        world.agent_says(ticket, "#tentativa")
    world.poll()
    assert world.history(ticket).state.phase is Phase.WAITING_CUSTOMER
    world.later(hours=2)
    world.opens(ANA, "Cancelamento Padaria", "Confirmo o cancelamento.", tags=())
    world.opens(BRUNO, "Cancelamento Padaria", "Confirmo o cancelamento.", tags=())
    world.poll()
    state = world.history(ticket).state
    assert (state.phase, state.resume_phase) == (Phase.REVIEW, Phase.CANCEL_PENDING)
    comments = world.ticket(ticket).comments
    kinds = [m.step.kind for c in comments if (m := parse_marker(c.body)) is not None]
    assert kinds[-3:] == [
        StepKind.PARTNER_CONFIRMED,
        StepKind.CANCEL_CONTRACT,
        StepKind.OTHER_TICKETS,
    ]
