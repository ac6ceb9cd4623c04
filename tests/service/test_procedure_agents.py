"""What agents do (PROCEDURE.md §6, CONTRACT 3, 13, 17): commands, takeover; the agent wins."""

from __future__ import annotations

from tests.fakes.world import World, person
from worker.core.model import StatusCategory, Ticket
from worker.core.state import Phase, ReviewReason
from worker.ports import RenderedStep

MARIA = person("Maria Souza", "maria@exemplo.com.br")


def started() -> tuple[World, str]:
    world = World()
    world.pf(MARIA)
    ticket = world.opens(MARIA)
    world.poll()
    return world, ticket


def test_commands_in_a_customers_text_never_count() -> None:
    world, ticket = started()
    world.customer_writes(ticket, MARIA, "#tentativa\n#cancelar motivo: quero já")
    world.poll()
    state = world.history(ticket).state
    assert state.attempts == 0
    assert state.phase is Phase.CALLING


def test_a_public_reply_by_an_agent_is_not_a_command() -> None:
    world, ticket = started()
    world.agent_says(ticket, "#tentativa", public=True)
    world.poll()
    assert world.history(ticket).state.attempts == 0


def test_an_unknown_command_gets_a_note_saying_what_was_not_understood_and_what_is_valid() -> None:
    world, ticket = started()
    world.agent_says(ticket, "Liguei e caiu.\n#tentatva")
    world.poll()
    note = world.last_note(ticket)
    assert "#tentatva" in note
    assert "#socio-confirmou <email>" in note
    assert world.history(ticket).state.attempts == 0


def test_a_malformed_command_gets_a_note() -> None:
    world, ticket = started()
    world.agent_says(ticket, "#cancelar")
    world.poll()
    assert "motivo" in world.last_note(ticket)
    assert world.history(ticket).state.phase is Phase.CALLING


def test_a_command_is_never_counted_twice_across_polls() -> None:
    world, ticket = started()
    world.agent_says(ticket, "#tentativa")
    for _ in range(3):
        world.poll()
    assert world.history(ticket).state.attempts == 1
    assert len(world.notes(ticket)) == 2


def test_manual_stops_everything_until_retomar() -> None:
    world, ticket = started()
    world.agent_says(ticket, "#tentativa\n#tentativa\n#tentativa")
    world.poll()
    world.agent_says(ticket, "#manual")
    world.poll()
    notes_before = len(world.notes(ticket))
    assert world.history(ticket).state.phase is Phase.MANUAL
    world.customer_writes(ticket, MARIA, "Alô?")
    world.agent_says(ticket, "#tentativa")
    world.later(days=10)
    world.poll()
    assert len(world.notes(ticket)) == notes_before, "nothing at all until #retomar"
    assert world.email_templates(ticket) == ["email-contato"]


def test_retomar_after_manual_restarts_the_waiting_period() -> None:
    world, ticket = started()
    world.agent_says(ticket, "#tentativa\n#tentativa\n#tentativa\n#manual")
    world.poll()
    world.later(days=10)
    world.agent_says(ticket, "#retomar")
    world.poll()
    state = world.history(ticket).state
    assert state.phase is Phase.WAITING_CUSTOMER
    assert state.deadline is not None and state.deadline > world.clock.now
    assert world.email_templates(ticket) == ["email-contato"], "nothing repeated"
    world.later(days=5)
    world.poll()
    assert world.history(ticket).state.phase is Phase.CANCEL_PENDING


def test_a_ticket_solved_by_an_agent_is_left_alone() -> None:
    world, ticket = started()
    world.agent_says(ticket, "#tentativa\n#tentativa\n#tentativa")
    world.poll()
    world.helpdesk.agent_sets(ticket, status=StatusCategory.SOLVED)
    writes = world.helpdesk.writes
    world.later(days=10)
    world.poll()
    assert world.helpdesk.writes == writes
    assert world.status(ticket) == "solved"


def test_a_concurrent_agent_change_is_never_overwritten() -> None:
    world, ticket = started()
    world.agent_says(ticket, "#tentativa")
    real_apply = world.helpdesk.apply_step
    raced: list[str] = []

    def agent_edits_first(read: Ticket, step: RenderedStep) -> Ticket:
        if not raced:
            raced.append(step.key)
            world.helpdesk.agent_sets(ticket, fields={"reason": "preco"})
            world.agent_says(ticket, "#tentativa")
        return real_apply(read, step)

    world.helpdesk.apply_step = agent_edits_first  # type: ignore[method-assign,assignment]
    report = world.poll()
    assert report.conflicts == 1
    current = world.ticket(ticket)
    assert current.fields["reason"] == "preco", "the agent's field survives"
    assert world.history(ticket).state.attempts == 2, "the agent's second call counts too"


def test_a_ticket_agents_were_already_handling_gets_one_note_and_keeps_its_status() -> None:
    world = World()
    world.pf(MARIA)
    ticket = world.opens(MARIA)
    world.agent_says(ticket, "Olá Maria, vamos ligar para você.", public=True)
    world.helpdesk.agent_sets(ticket, status=StatusCategory.PENDING)
    world.poll()
    world.poll()
    assert len(world.notes(ticket)) == 1
    state = world.history(ticket).state
    assert state.review is ReviewReason.IN_PROGRESS
    assert world.ticket(ticket).status is StatusCategory.PENDING
    world.agent_says(ticket, "#retomar")
    world.poll()
    assert world.history(ticket).state.phase is Phase.CALLING
    assert world.emails(ticket) == []


def test_a_private_remark_on_a_new_ticket_is_not_handling() -> None:
    world = World()
    world.pf(MARIA)
    ticket = world.opens(MARIA)
    world.agent_says(ticket, "Cliente antiga, cuidado.")
    world.poll()
    assert world.history(ticket).state.phase is Phase.CALLING


def test_contrato_cancelado_before_the_cancellation_is_decided_is_refused() -> None:
    world, ticket = started()
    world.agent_says(ticket, "#contrato-cancelado")
    world.poll()
    assert "não se aplica" in world.last_note(ticket)
    assert world.emails(ticket) == []


def test_a_helpdesk_failure_loses_nothing_and_repeats_nothing() -> None:
    world, ticket = started()
    world.agent_says(ticket, "#tentativa\n#tentativa\n#tentativa")
    world.helpdesk.fail_next_writes = 2
    report = world.poll()
    assert report.failed == [ticket]
    world.poll()
    world.poll()
    assert world.email_templates(ticket) == ["email-contato"]
    assert world.history(ticket).state.attempts == 3


def test_a_ticket_the_worker_cannot_decide_does_not_stop_the_others() -> None:
    world = World()
    world.pf(MARIA)
    broken = world.opens(MARIA)
    joao = person("João", "joao@exemplo.com.br")
    world.pf(joao, document="111.444.777-35")
    fine = world.opens(joao)
    real_read = world.helpdesk.read_ficha

    def failing(ticket: Ticket):  # type: ignore[no-untyped-def]
        if ticket.id == broken:
            raise ValueError("unreadable ficha")
        return real_read(ticket)

    world.helpdesk.read_ficha = failing  # type: ignore[method-assign]
    report = world.poll()
    assert report.failed == [broken]
    assert world.history(fine).steps == 1


def waiting_for_the_customer() -> tuple[World, str]:
    """Three failed calls: the contact e-mail went out, the customer has until 09/12/2026."""
    world, ticket = started()
    for _ in range(3):
        world.agent_says(ticket, "#tentativa")
    world.poll()
    assert world.ticket(ticket).fields["deadline"] == "2026-12-09"
    return world, ticket


def test_a_deadline_typed_past_the_calendars_end_gets_one_note_and_the_real_deadline_back() -> None:
    world, ticket = waiting_for_the_customer()
    notes = len(world.notes(ticket))
    world.helpdesk.agent_sets(ticket, fields={"deadline": "9999-12-31"})
    world.later(hours=1)
    world.poll()
    world.later(hours=1)
    world.poll()  # told once, never again at each sweep
    assert len(world.notes(ticket)) == notes + 1
    note = world.last_note(ticket)
    assert "31/12/9999" in note, "the date as typed"
    assert "09/12/2026" in note, "the deadline the worker keeps following"
    assert world.ticket(ticket).fields["deadline"] == "2026-12-09", "the field shows it again"
    assert "cancelamento-revisar" in world.ticket(ticket).tags
    assert world.history(ticket).state.phase is Phase.WAITING_CUSTOMER, "the wait goes on"
    world.later(days=3)
    world.poll()
    assert world.history(ticket).state.phase is Phase.CANCEL_PENDING, "on the kept deadline"


def test_a_deadline_typed_past_the_calendars_end_when_none_runs_is_noted_and_emptied() -> None:
    world, ticket = started()
    world.helpdesk.agent_sets(ticket, fields={"deadline": "9999-12-31"})
    world.poll()
    world.poll()
    notes = world.notes(ticket)
    assert len(notes) == 2
    assert "31/12/9999" in notes[-1] and "nenhum prazo" in notes[-1]
    assert world.ticket(ticket).fields["deadline"] is None
    assert world.history(ticket).state.phase is Phase.CALLING


def test_a_deadline_typed_past_the_calendars_end_in_manual_is_left_to_the_agent() -> None:
    world, ticket = started()
    world.agent_says(ticket, "#manual")
    world.poll()
    world.helpdesk.agent_sets(ticket, fields={"deadline": "9999-12-31"})
    world.poll()
    assert len(world.notes(ticket)) == 2, "the worker writes nothing while in #manual"
