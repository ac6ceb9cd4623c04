"""The `Helpdesk` port's promises (`worker/ports.py`), one suite over its three implementations:
the in-memory helpdesk, the Zendesk adapter against the stateful fake Zendesk, and the Freshdesk
adapter against the strict fake Freshdesk (both over HTTP through `responses`). The worker is
written against the port, not a vendor: whatever it may count on must hold on all three.

How each vendor says it on the wire is pinned by the adapter tests (`tests/contract/zendesk/`,
`tests/contract/freshdesk/`); here only what the port promises is checked, through each world's
people (`opens`, `agent_says`, ...) and the port itself, never a vendor's own hooks."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest

from tests.fakes.backend import BackendWorld, HookedHelpdesk, close_all
from tests.fakes.faults import FaultyMemoryHelpdesk
from tests.fakes.freshdesk import FreshdeskWorld
from tests.fakes.world import CPF, MemoryWorld, person
from tests.fakes.zendesk import ZendeskWorld
from worker.core.effects import FieldKey, TargetStatus
from worker.core.model import AuthorRole, Ticket
from worker.core.state import MARKER_PREFIX
from worker.ports import Helpdesk, RenderedStep, StaleTicket, TicketGone

MARIA = person("Maria Souza", "maria@exemplo.com.br")
JOAO = person("João Lima", "joao@exemplo.com.br")
THIRD_CALL = ("#tentativa", "#tentativa", "#tentativa")


@dataclass
class Desk:
    """A world and the port under test: the real adapter (not the world's fault wrapper)."""

    world: MemoryWorld | BackendWorld
    port: Helpdesk

    def writes(self) -> int:
        """Requests that were not GETs (the adapters), or writes (the in-memory helpdesk)."""
        helpdesk = self.world.helpdesk
        assert isinstance(helpdesk, HookedHelpdesk | FaultyMemoryHelpdesk)
        return helpdesk.writes

    def changed(self, cursor: str | None = None) -> tuple[list[str], str]:
        """Every page of changed tickets from `cursor`, as one poll reads them."""
        self.world.before_poll()
        ids: list[str] = []
        while True:
            page = self.port.changed_tickets(cursor, self.world.start - timedelta(days=1))
            ids += page.ticket_ids
            cursor = page.cursor
            if not page.more:
                return ids, cursor


def _world(name: str) -> MemoryWorld | BackendWorld:
    if name == "zendesk":
        return ZendeskWorld()
    if name == "freshdesk":
        return FreshdeskWorld()
    return MemoryWorld()


@pytest.fixture(params=["memory", "zendesk", "freshdesk"])
def desk(request: pytest.FixtureRequest) -> Iterator[Desk]:
    world = _world(request.param)
    helpdesk = world.helpdesk
    port = helpdesk.adapter if isinstance(helpdesk, HookedHelpdesk) else helpdesk
    yield Desk(world, port)
    close_all()


def a_step(key: str = "2:tentativa", **overrides: object) -> RenderedStep:
    values: dict[str, object] = {
        "key": key,
        "note": f'Tentativa 1 de 3.\n\n{MARKER_PREFIX}{{"passo":"{key}"}}',
        "email": None,
        "status": TargetStatus.IN_PROGRESS,
        "fields": {FieldKey.ATTEMPTS: "1"},
        "add_tags": frozenset({"cancelamento-contrato-teste"}),
        "remove_tags": frozenset(),
    }
    values.update(overrides)
    return RenderedStep(**values)  # type: ignore[arg-type]


def seen(ticket: Ticket) -> tuple[object, ...]:
    """What a write would change on a ticket."""
    return (
        ticket.version,
        ticket.tags,
        tuple(sorted(ticket.fields.items())),
        ticket.status,
        ticket.custom_status,
        len(ticket.comments),
    )


# --- changed_tickets -------------------------------------------------------------------------


def test_a_new_cancellation_request_is_among_the_changed_tickets_since_the_lookback(
    desk: Desk,
) -> None:
    ticket = desk.world.opens(MARIA)
    ids, _ = desk.changed()
    assert ticket in ids


def test_the_changed_tickets_come_oldest_change_first(desk: Desk) -> None:
    first = desk.world.opens(MARIA)
    desk.world.later(minutes=10)
    second = desk.world.opens(JOAO)
    ids, _ = desk.changed()
    assert ids.index(first) < ids.index(second)


def test_the_cursor_resumes_after_what_was_listed_and_lists_what_changed_since(
    desk: Desk,
) -> None:
    untouched = desk.world.opens(JOAO)
    touched = desk.world.opens(MARIA)
    _, cursor = desk.changed()
    desk.world.later(minutes=10)
    desk.world.agent_says(touched, "Liguei para a cliente.")
    new = desk.world.opens(person("Ana Dias", "ana@exemplo.com.br"))
    desk.world.later(minutes=10)
    ids, _ = desk.changed(cursor)
    assert touched in ids
    assert new in ids
    assert untouched not in ids


# --- read_ticket -----------------------------------------------------------------------------


def test_a_ticket_is_read_with_its_requester_subject_tags_and_every_comment_in_order(
    desk: Desk,
) -> None:
    ticket_id = desk.world.opens(MARIA, "Cancelar plano", "Quero cancelar o meu plano.")
    desk.world.later(minutes=5)
    desk.world.agent_says(ticket_id, "Vou ligar para a cliente.")
    desk.world.later(minutes=5)
    desk.world.customer_writes(ticket_id, MARIA, "Pode ligar à tarde.")
    ticket = desk.port.read_ticket(ticket_id)
    assert (ticket.id, ticket.subject, ticket.requester.email) == (
        ticket_id,
        "Cancelar plano",
        MARIA.email,
    )
    assert "cancelamento" in ticket.tags
    shown = [(c.role, c.public, c.body.strip()) for c in ticket.comments]
    assert shown == [
        (AuthorRole.END_USER, True, "Quero cancelar o meu plano."),
        (AuthorRole.AGENT, False, "Vou ligar para a cliente."),
        (AuthorRole.END_USER, True, "Pode ligar à tarde."),
    ]
    assert [c.created_at for c in ticket.comments] == sorted(c.created_at for c in ticket.comments)


def test_a_ticket_read_with_the_header_its_page_carried_is_the_ticket_read_without_it(
    desk: Desk,
) -> None:
    ticket_id = desk.world.opens(MARIA)
    desk.world.later(minutes=5)
    desk.world.agent_says(ticket_id, "Vou ligar para a cliente.")
    desk.world.before_poll()
    page = desk.port.changed_tickets(None, desk.world.start - timedelta(days=1))
    assert ticket_id in page.ticket_ids
    assert set(page.headers) <= set(page.ticket_ids)
    with_header = desk.port.read_ticket(ticket_id, page.headers.get(ticket_id))
    assert with_header == desk.port.read_ticket(ticket_id)


def test_a_ticket_that_does_not_exist_is_gone(desk: Desk) -> None:
    desk.world.opens(MARIA)
    with pytest.raises(TicketGone):
        desk.port.read_ticket("987654")


# --- read_ficha ------------------------------------------------------------------------------


def test_the_ficha_names_the_requesters_account_its_document_and_the_holder(desk: Desk) -> None:
    desk.world.pf(MARIA)
    ticket = desk.port.read_ticket(desk.world.opens(MARIA))
    ficha = desk.port.read_ficha(ticket)
    [account] = ficha.accounts
    assert (account.document, account.registered_email) == (CPF, MARIA.email)
    [member] = account.members
    assert (member.person.email, member.holder, member.managing_partner) == (
        MARIA.email,
        True,
        False,
    )


def test_a_requester_with_no_account_has_an_empty_ficha(desk: Desk) -> None:
    ticket = desk.port.read_ticket(desk.world.opens(MARIA))
    assert desk.port.read_ficha(ticket).accounts == ()


def test_the_ficha_names_every_managing_partner_of_a_company(desk: Desk) -> None:
    desk.world.pj("Padaria Pão Bom", [MARIA, JOAO])
    ticket = desk.port.read_ticket(desk.world.opens(JOAO))
    [account] = desk.port.read_ficha(ticket).accounts
    partners = sorted(m.person.email for m in account.members if m.managing_partner)
    assert partners == sorted([MARIA.email, JOAO.email])


# --- related_tickets -------------------------------------------------------------------------


def test_related_tickets_are_the_persons_tickets_created_since(desk: Desk) -> None:
    older = desk.world.opens(MARIA, "Dúvida", "Qual o valor da fatura?", tags=())
    desk.world.later(days=1)
    since = desk.world.clock()
    newer = desk.world.opens(MARIA, "Outra dúvida", "E o vencimento?", tags=())
    desk.world.agent_says(older, "Respondido por telefone.")  # changed since, created before
    someone_else = desk.world.opens(JOAO, "Dúvida", "Qual o valor?", tags=())
    desk.world.later(minutes=5)
    related = desk.port.related_tickets((MARIA.email,), since)
    ids = {r.id for r in related}
    assert newer in ids
    assert older not in ids
    assert someone_else not in ids
    [found] = [r for r in related if r.id == newer]
    assert (found.requester_email, found.subject) == (MARIA.email, "Outra dúvida")


def test_the_open_cancellations_are_among_the_related_tickets_when_asked(desk: Desk) -> None:
    since = desk.world.clock() - timedelta(days=1)
    cancellation = desk.world.opens(MARIA)
    desk.world.later(minutes=5)
    related = desk.port.related_tickets((MARIA.email,), since, open_cancellations=True)
    [found] = [r for r in related if r.id == cancellation]
    assert "cancelamento" in found.tags


# --- apply_step ------------------------------------------------------------------------------


def test_a_step_returns_the_ticket_as_it_wrote_it(desk: Desk) -> None:
    ticket = desk.port.read_ticket(desk.world.opens(MARIA))
    desk.world.later(minutes=1)
    written = desk.port.apply_step(ticket, a_step())
    assert "cancelamento-contrato-teste" in written.tags
    assert written.fields.get(FieldKey.ATTEMPTS.value) == "1"
    assert written.custom_status == desk.world.config.statuses.in_progress
    assert written.version != ticket.version
    again = desk.port.read_ticket(ticket.id)
    assert (again.version, again.tags, again.fields.get(FieldKey.ATTEMPTS.value)) == (
        written.version,
        written.tags,
        "1",
    )
    notes = [c.body for c in again.comments if c.role is AuthorRole.WORKER and not c.public]
    assert len(notes) == 1 and "Tentativa 1 de 3." in notes[0]


def test_the_next_step_starts_from_the_ticket_the_previous_write_returned(desk: Desk) -> None:
    ticket = desk.port.read_ticket(desk.world.opens(MARIA))
    first = desk.port.apply_step(ticket, a_step())
    second = desk.port.apply_step(
        first,
        a_step(
            "3:tentativa",
            fields={FieldKey.ATTEMPTS: "2"},
            add_tags=frozenset({"cancelamento-segunda"}),
        ),
    )
    assert {"cancelamento-contrato-teste", "cancelamento-segunda"} <= second.tags
    assert second.fields.get(FieldKey.ATTEMPTS.value) == "2"
    again = desk.port.read_ticket(ticket.id)
    assert {"cancelamento-contrato-teste", "cancelamento-segunda"} <= again.tags


def test_a_ticket_changed_since_it_was_read_is_stale_and_nothing_is_written(desk: Desk) -> None:
    ticket = desk.port.read_ticket(desk.world.opens(MARIA))
    desk.world.later(minutes=1)
    desk.world.agent_says(ticket.id, "Liguei e ninguém atendeu.")
    desk.world.later(minutes=1)
    with pytest.raises(StaleTicket):
        desk.port.apply_step(ticket, a_step())
    after = desk.port.read_ticket(ticket.id)
    assert [c for c in after.comments if c.role is AuthorRole.WORKER] == []
    assert "cancelamento-contrato-teste" not in after.tags


# --- due_tickets -----------------------------------------------------------------------------


def waiting_for_the_customer(desk: Desk) -> str:
    """Maria's request after three failed calls: the worker e-mails her and waits, with a
    deadline (PROCEDURE.md §3)."""
    desk.world.pf(MARIA)
    ticket = desk.world.opens(MARIA)
    desk.world.poll()
    for command in THIRD_CALL:
        desk.world.later(hours=1)
        desk.world.agent_says(ticket, command)
        desk.world.poll()
    assert desk.world.status(ticket) == desk.world.config.statuses.waiting_customer
    return ticket


def test_a_ticket_waiting_past_its_deadline_day_is_due_and_not_before(desk: Desk) -> None:
    ticket = waiting_for_the_customer(desk)
    deadline = desk.port.read_ticket(ticket).fields[FieldKey.DEADLINE.value]
    assert deadline is not None
    on_the_day = datetime.fromisoformat(deadline).replace(hour=18, tzinfo=desk.world.start.tzinfo)
    assert ticket not in desk.port.due_tickets(on_the_day)
    assert ticket in desk.port.due_tickets(on_the_day + timedelta(days=1))


# --- reads never write; recover --------------------------------------------------------------


def test_reads_write_nothing(desk: Desk) -> None:
    ticket_id = waiting_for_the_customer(desk)
    desk.world.later(days=10)
    before = seen(desk.port.read_ticket(ticket_id))
    writes = desk.writes()
    desk.changed()
    desk.port.due_tickets(desk.world.clock())
    ticket = desk.port.read_ticket(ticket_id)
    desk.port.read_ficha(ticket)
    desk.port.related_tickets((MARIA.email,), desk.world.start, open_cancellations=True)
    desk.port.list_statuses()
    assert desk.writes() == writes
    assert seen(desk.port.read_ticket(ticket_id)) == before


def test_recover_with_nothing_cut_finishes_nothing_and_writes_nothing(desk: Desk) -> None:
    ticket = desk.port.read_ticket(desk.world.opens(MARIA))
    desk.port.apply_step(ticket, a_step())
    writes = desk.writes()
    assert desk.port.recover() == 0
    assert desk.writes() == writes


def test_the_worker_s_two_statuses_are_listed(desk: Desk) -> None:
    names = {s.name for s in desk.port.list_statuses()}
    statuses = desk.world.config.statuses
    assert {statuses.in_progress, statuses.waiting_customer} <= names
