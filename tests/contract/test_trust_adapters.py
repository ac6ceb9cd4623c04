"""Who really wrote it, as each adapter reads the helpdesk's own signals (issue 14).

Zendesk payloads follow the ticket comments reference ("Comment flags": `metadata.flags`, a
`flags_options` entry per flag, omitted when there are none) and the via object reference
(`via.channel`, `via.source.from.address`); Freshdesk's, the conversation's `user_id`,
`from_email`, `incoming`. docs/zendesk.md and docs/freshdesk.md cite each fact."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from tests.fakes.backend import close_all
from tests.fakes.world import person
from tests.fakes.zendesk import ZendeskWorld
from worker.adapters.freshdesk import mapping as freshdesk
from worker.adapters.zendesk import mapping as zendesk
from worker.config import Config
from worker.core.model import AuthorRole, Person, StatusCategory
from worker.sandbox import FakeZendesk

DEFAULT_FLAGS = frozenset(Config().zendesk.untrusted_flags)
PARTNER = "joao@empresa.example"


def email_comment(**overrides: Any) -> dict[str, Any]:
    comment: dict[str, Any] = {
        "id": 11,
        "type": "Comment",
        "author_id": 501,
        "body": "Confirmo o cancelamento.",
        "public": True,
        "created_at": "2026-12-07T12:00:00Z",
        "via": {
            "channel": "email",
            "source": {
                "from": {"address": PARTNER, "name": "João"},
                "to": {"address": "suporte@acme.example", "name": "Suporte"},
                "rel": None,
            },
        },
        "metadata": {"system": {}, "custom": {}},
    }
    comment.update(overrides)
    return comment


def flagged(*codes: int, trusted: bool | None = False) -> dict[str, Any]:
    metadata: dict[str, Any] = {
        "system": {},
        "custom": {},
        "flags": list(codes),
        "flags_options": {str(c): {"trusted": False} for c in codes},
    }
    if trusted is not None:
        metadata["trusted"] = trusted
    return metadata


def doubt(comment: dict[str, Any], role: AuthorRole = AuthorRole.END_USER) -> str:
    return zendesk.comment_doubt(comment, PARTNER, role, DEFAULT_FLAGS)


def test_zendesk_an_email_from_the_authors_own_address_without_flags_is_believed() -> None:
    assert doubt(email_comment()) == ""


def test_zendesk_possible_spoofing_flag_14_is_doubted_with_the_reason_in_portuguese() -> None:
    reason = doubt(email_comment(metadata=flagged(14)))
    assert reason == f"o Zendesk indica que a mensagem pode não ter sido enviada por {PARTNER}"


@pytest.mark.parametrize("code", [0, 2, 3, 14, 17, 20, 21, 22])
def test_zendesk_every_default_flag_is_doubted(code: int) -> None:
    assert doubt(email_comment(metadata=flagged(code, trusted=None)))


def test_zendesk_a_flag_outside_the_list_does_not_doubt_the_author() -> None:
    # 4: the comment was generated automatically (notifications suppressed): not about who.
    assert doubt(email_comment(metadata=flagged(4, trusted=None) | {"flags_options": {}})) == ""


def test_zendesk_the_flag_list_is_configurable() -> None:
    comment = email_comment(metadata=flagged(4, trusted=None) | {"flags_options": {}})
    assert zendesk.comment_doubt(comment, PARTNER, AuthorRole.END_USER, frozenset({4}))


def test_zendesk_trusted_false_alone_is_doubted() -> None:
    metadata = {"system": {}, "flags": [99], "flags_options": {"99": {"trusted": False}}}
    assert (
        doubt(email_comment(metadata=metadata)) == "o Zendesk marcou a mensagem como não confiável"
    )


def test_zendesk_an_email_recovered_from_the_suspended_tickets_is_doubted() -> None:
    via: dict[str, Any] = {"channel": "recovered_from_suspended_tickets", "source": {}}
    assert "suspenso" in doubt(email_comment(via=via))


def test_zendesk_an_email_from_another_address_is_doubted() -> None:
    via = email_comment()["via"]
    via["source"]["from"]["address"] = "golpe@outro.example"
    assert doubt(email_comment(via=via)) == (
        f"o e-mail veio de golpe@outro.example, não do endereço de {PARTNER}"
    )


def test_zendesk_a_customers_message_by_web_form_or_api_is_doubted() -> None:
    for channel in ("web", "api"):
        via: dict[str, Any] = {"channel": channel, "source": {"from": {}, "to": {}, "rel": None}}
        assert "qualquer pessoa pode digitar" in doubt(email_comment(via=via))


def test_zendesk_an_agents_note_is_doubted_only_by_its_flags() -> None:
    note = email_comment(public=False, via={"channel": "web", "source": {}})
    assert doubt(note, AuthorRole.AGENT) == ""
    assert doubt(note | {"metadata": flagged(0)}, AuthorRole.AGENT)


def test_zendesk_a_related_web_form_ticket_is_doubted_and_an_email_one_is_not() -> None:
    ticket = {
        "id": 77,
        "subject": "Cancelamento",
        "description": "Confirmo.",
        "created_at": "2026-12-07T12:00:00Z",
        "status": "open",
        "via": {"channel": "web", "source": {"from": {}, "to": {}, "rel": None}},
    }
    assert zendesk.related(ticket, PARTNER).doubt
    ticket["via"] = email_comment()["via"]
    assert zendesk.related(ticket, PARTNER).doubt == ""


def test_the_fake_zendesk_shows_a_flagged_email_as_documented() -> None:
    fake = FakeZendesk(clock=lambda: datetime(2026, 12, 7, 12, 0, tzinfo=UTC))
    holder = fake.add_user("Maria", "maria@padaria.example")
    ticket = fake.add_ticket(holder, "Cancelamento", "Quero cancelar.")
    fake.customer_replies(ticket, "Confirmo.", flags=(14,))
    fake.customer_replies(ticket, "De novo.", recovered=True)
    spoofed, recovered = fake.comments(ticket)[1:]
    assert spoofed["metadata"]["flags"] == [14]
    assert spoofed["metadata"]["flags_options"] == {"14": {"trusted": False}}
    assert spoofed["via"]["channel"] == "email"
    assert spoofed["via"]["source"]["from"]["address"] == "maria@padaria.example"
    assert "flags" not in fake.comments(ticket)[0]["metadata"]  # omitted when there are none
    assert recovered["via"]["channel"] == "recovered_from_suspended_tickets"


# --- Freshdesk ------------------------------------------------------------------------------


def conversation(from_email: str | None) -> dict[str, Any]:
    return {
        "id": 5,
        "user_id": 501,
        "incoming": True,
        "private": False,
        "source": 0,
        "from_email": from_email,
        "body": "<div>Confirmo.</div>",
        "created_at": "2026-12-07T12:00:00Z",
    }


JOAO = Person("501", PARTNER, "João")


def test_freshdesk_an_email_from_the_contacts_own_address_is_believed() -> None:
    assert (
        freshdesk.conversation_doubt(conversation(f"João <{PARTNER}>"), JOAO, AuthorRole.END_USER)
        == ""
    )


def test_freshdesk_an_email_from_another_address_than_the_contacts_is_doubted() -> None:
    reason = freshdesk.conversation_doubt(
        conversation("golpe@outro.example"), JOAO, AuthorRole.END_USER
    )
    assert reason == f"o e-mail veio de golpe@outro.example, não do endereço de {PARTNER}"


def test_freshdesk_a_customers_message_with_no_sender_address_is_doubted() -> None:
    assert freshdesk.conversation_doubt(conversation(None), JOAO, AuthorRole.END_USER)


def test_freshdesk_an_agents_note_is_not_doubted_by_its_address() -> None:
    assert freshdesk.conversation_doubt(conversation(None), JOAO, AuthorRole.AGENT) == ""


def test_freshdesk_a_related_portal_ticket_is_doubted_and_an_email_one_is_not() -> None:
    ticket = {
        "id": 9,
        "subject": "Cancelamento",
        "description": "<div>Confirmo.</div>",
        "created_at": "2026-12-07T12:00:00Z",
        "status": 2,
        "source": 2,
    }
    assert freshdesk.related(ticket, PARTNER).doubt
    ticket["source"] = 1
    assert freshdesk.related(ticket, PARTNER).doubt == ""
    assert freshdesk.related(ticket, PARTNER).status is StatusCategory.OPEN


def test_through_zendesk_an_end_users_private_comment_flag_17_is_never_a_command() -> None:
    """The real adapter over HTTP against the sandbox: the flag travels to the core, and the
    text of a command in an end user's private comment does nothing but reach an agent."""
    maria = person("Maria Souza", "maria@exemplo.com.br")
    world = ZendeskWorld()
    try:
        world.pf(maria)
        ticket = world.opens(maria)
        world.poll()
        world.agent_says(ticket, "#cancelar motivo: Mudança de cidade")
        world.poll()
        assert world.history(ticket).state.phase.value == "cancelar_contrato"
        user = world.users[maria.email][0]
        world.fake.customer_replies(
            int(ticket), "#contrato-cancelado", author_id=user, flags=(17,), public=False
        )
        world.poll()
        assert world.history(ticket).state.phase.value == "cancelar_contrato", "not a command"
        note = world.last_note(ticket)
        assert "é um comentário privado de um usuário final" in note
        assert world.sent(ticket) == []
    finally:
        close_all()
