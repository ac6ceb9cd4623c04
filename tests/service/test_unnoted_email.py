"""An e-mail of the worker that went out without its note (a crash or a lost answer between the
two writes of a step): the engine, not the adapter's write, decides what it means, so `explain`
and a dry run show it (`core/unnoted.py`).

On the in-memory helpdesk, which writes a step at once, the cut is put there by hand: the
worker's public comment with nothing after it, as a helpdesk without a journal shows it (only
its number is known). The rule itself is checked on steps, with a known key too."""

from __future__ import annotations

from datetime import UTC, datetime

import structlog

from tests.fakes.world import MemoryWorld, person
from worker.config import Config
from worker.core import messages as msg
from worker.core.effects import Email, Message, Step, TargetStatus
from worker.core.model import AuthorRole, Comment, Person, StatusCategory, Ticket
from worker.core.state import parse_marker
from worker.core.unnoted import settle_unnoted_email
from worker.explain import explain

MARIA = person("Maria Souza", "maria.souza@exemplo.com.br")
REVIEW = Config().tags.review
CONTACT_EMAIL = "Olá, Maria. Tentamos falar com você por telefone três vezes..."


def three_failed_calls_and_the_contact_email_cut_before_its_note() -> tuple[MemoryWorld, str]:
    world = MemoryWorld()
    world.pf(MARIA)
    ticket = world.opens(MARIA)
    world.poll()
    for _ in range(2):
        world.agent_says(ticket, "#tentativa")
        world.later(hours=1)
        world.poll()
    world.agent_says(ticket, "#tentativa")
    world.helpdesk.fail_steps.add("email-contato")
    world.poll()  # the third call's note is written; the contact e-mail's step is cut:
    world.helpdesk.worker_email_without_note(ticket, CONTACT_EMAIL)  # its e-mail went out
    world.later(hours=1)
    return world, ticket


def test_the_contact_email_that_went_out_without_its_note_is_not_sent_again_its_note_follows() -> (
    None
):
    world, ticket = three_failed_calls_and_the_contact_email_cut_before_its_note()
    world.poll()
    assert world.emails(ticket) == [], "the customer has it already"
    assert steps_of(world, ticket)[-1] == "5:email-contato"
    assert world.status(ticket) == "Aguardando retorno do cliente"
    assert REVIEW not in world.ticket(ticket).tags


def an_email_without_its_note_then_the_ticket_changed() -> tuple[MemoryWorld, str]:
    world = MemoryWorld()
    world.pf(MARIA)
    ticket = world.opens(MARIA)
    world.poll()
    world.helpdesk.worker_email_without_note(ticket, "Um e-mail cujo passo não foi anotado.")
    world.agent_says(ticket, "#manual")  # the ticket changed: step 2 is now another one
    return world, ticket


def test_a_step_decided_differently_after_an_email_went_out_goes_to_an_agent_saying_so() -> None:
    world, ticket = an_email_without_its_note_then_the_ticket_changed()
    world.poll()
    assert steps_of(world, ticket)[-1] == "2:manual"
    assert REVIEW in world.ticket(ticket).tags
    assert "um e-mail deste passo já tinha sido enviado ao cliente" in world.last_note(ticket)
    assert world.emails(ticket) == []


def test_explain_and_the_dry_run_show_that_no_email_goes_out_and_an_agent_is_asked() -> None:
    world, ticket = an_email_without_its_note_then_the_ticket_changed()
    text = explain(world.worker, ticket, world.clock())
    assert "2:manual — escreve uma nota interna, sem e-mail" in text
    assert f"+{REVIEW}" in text
    world.worker.dry_run = True
    writes = world.helpdesk.writes
    with structlog.testing.capture_logs() as logged:
        world.worker.poll(world.clock())
    assert world.helpdesk.writes == writes
    (planned,) = [e for e in logged if e["event"] == "write"]
    assert planned["step"] == "2:manual" and planned["email"] is False


# --- the rule on steps -----------------------------------------------------------------------

WHEN = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
WORKER = Person("w", "worker@helpdesk.invalid", "Worker")


def snapshot(unnoted: str | None) -> Ticket:
    note = Comment("1", WORKER, AuthorRole.WORKER, False, "nota", WHEN)
    return Ticket(
        "71", "Cancelamento", "email", StatusCategory.OPEN, None, frozenset(), {}, MARIA, (note,),
        WHEN, WHEN, "v1", unnoted_email=unnoted,
    )  # fmt: skip


def step(key: str, *, email: bool, status: TargetStatus | None = None) -> Step:
    return Step(
        key=key,
        note=Message("notes/manual", {"agente": "Paula"}),
        marker="",
        email=Email(Message("emails/contact_attempt_holder")) if email else None,
        status=status,
    )


def test_the_same_step_known_by_its_key_is_taken_without_its_email_and_without_review() -> None:
    (settled,) = settle_unnoted_email(
        snapshot("5:email-contato"), (step("5:email-contato", email=True),), REVIEW
    )
    assert settled.email is None and REVIEW not in settled.add_tags
    assert settled.note.template == "notes/manual"


def test_another_step_under_that_number_sends_nothing_and_goes_to_review_with_the_warning() -> None:
    (settled,) = settle_unnoted_email(
        snapshot("5:email-contato"), (step("5:terceiro", email=True),), REVIEW
    )
    assert settled.email is None and REVIEW in settled.add_tags
    assert settled.note == msg.email_already_sent_note(step("5:terceiro", email=True).note)


def test_with_only_the_number_a_step_that_emails_is_the_same_and_one_that_does_not_is_another() -> (
    None
):
    (same,) = settle_unnoted_email(snapshot("5"), (step("5:email-contato", email=True),), REVIEW)
    (other,) = settle_unnoted_email(snapshot("5"), (step("5:manual", email=False),), REVIEW)
    assert same.email is None and REVIEW not in same.add_tags
    assert REVIEW in other.add_tags


def test_a_flagged_ticket_is_not_resolved_out_of_the_review_view() -> None:
    steps = (
        step("5:nao-cancelado", email=False, status=TargetStatus.SOLVED),
        step("6:mensagem", email=False, status=TargetStatus.SOLVED),
    )
    first, second = settle_unnoted_email(snapshot("5:email-contato"), steps, REVIEW)
    assert first.status is second.status is TargetStatus.IN_PROGRESS


def test_other_steps_and_tickets_without_the_fact_are_left_as_decided() -> None:
    steps = (step("5:email-contato", email=True), step("6:tentativa", email=True))
    assert settle_unnoted_email(snapshot(None), steps, REVIEW) == steps
    assert settle_unnoted_email(snapshot("5"), steps, REVIEW)[1] == steps[1]


def steps_of(world: MemoryWorld, ticket: str) -> list[str]:
    markers = (parse_marker(c.body) for c in world.ticket(ticket).comments)
    return [str(marker.step) for marker in markers if marker is not None]
