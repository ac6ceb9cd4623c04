"""Commands only from agents, only in private notes the helpdesk does not doubt (issue 14)."""

from __future__ import annotations

from datetime import UTC, datetime

from worker.core.commands import Command, InvalidCommand
from worker.core.engine import ticket_events
from worker.core.model import AuthorRole, Comment, Person, StatusCategory, Ticket

AT = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
MARIA = Person("1", "maria@exemplo.com.br", "Maria")
PAULA = Person("2", "paula@empresa.com.br", "Paula")


def ticket_with(comment: Comment) -> Ticket:
    request = Comment("1", MARIA, AuthorRole.END_USER, True, "Quero cancelar.", AT)
    return Ticket(
        "100",
        "Cancelamento",
        "email",
        StatusCategory.OPEN,
        None,
        frozenset(),
        {},
        MARIA,
        (request, comment),
        AT,
        AT,
        "1",
    )


def test_an_end_users_private_comment_is_never_a_command() -> None:
    flagged = "é um comentário privado de um usuário final (maria@exemplo.com.br), não de um agente"
    comment = Comment("2", MARIA, AuthorRole.END_USER, False, "#contrato-cancelado", AT, flagged)
    [event] = ticket_events(ticket_with(comment), frozenset())
    assert event.command is None, "a message, never a command"


def test_an_agents_private_note_is_a_command() -> None:
    comment = Comment("2", PAULA, AuthorRole.AGENT, False, "#tentativa", AT)
    [event] = ticket_events(ticket_with(comment), frozenset())
    assert isinstance(event.command, Command)


def test_an_agents_command_in_a_public_comment_is_refused_with_the_reason() -> None:
    comment = Comment("2", PAULA, AuthorRole.AGENT, True, "#tentativa", AT)
    [event] = ticket_events(ticket_with(comment), frozenset())
    assert isinstance(event.command, InvalidCommand)
    assert "comentário público" in event.command.problem


def test_a_doubted_agent_note_is_refused_as_a_command() -> None:
    doubt = "o Zendesk não tem certeza de que a mensagem é confiável"
    comment = Comment("2", PAULA, AuthorRole.AGENT, False, "#contrato-cancelado", AT, doubt)
    [event] = ticket_events(ticket_with(comment), frozenset())
    assert isinstance(event.command, InvalidCommand)
    assert doubt in event.command.problem
