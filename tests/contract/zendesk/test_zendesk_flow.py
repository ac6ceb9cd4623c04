"""The procedure through the real Zendesk adapter, over HTTP, against the stateful fake:
what an account sees, what it costs, and what survives conflicts, lost responses and restarts."""

from __future__ import annotations

import io
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.fakes.world import CNPJ, CNPJ_2
from tests.fakes.zendesk import ZendeskWorld
from worker.adapters.zendesk.check import check
from worker.adapters.zendesk.provision import setup
from worker.core.effects import FieldKey
from worker.core.model import Ticket
from worker.explain import explain
from worker.ports import RenderedStep, TicketHeader
from worker.sandbox import RateLimits

HOLDER = ("Ana Souza", "ana@cliente.com.br")


@pytest.fixture
def world(tmp_path: Path) -> Iterator[ZendeskWorld]:
    world = ZendeskWorld(paced=True, place=tmp_path / "state" / "zendesk-poll.json")
    yield world
    world.close()


def test_setup_leaves_an_account_that_check_accepts_and_a_second_setup_writes_nothing(
    world: ZendeskWorld,
) -> None:
    assert check(world.client, world.config) == []
    before = world.client.stats.writes
    plan = setup(world.client, world.config, dry_run=False, out=io.StringIO())
    assert plan.changes == [] and world.client.stats.writes == before


def test_a_holders_request_gets_the_first_ficha_note_and_em_atendimento(
    world: ZendeskWorld,
) -> None:
    ticket = world.opens(world.holder(*HOLDER))
    world.poll()
    assert world.steps(ticket) == ["1:inicio"]
    assert "Situação 1" in world.note_bodies(ticket)[0]
    assert world.status_label(ticket) == "Em atendimento"
    snapshot = world.worker.helpdesk.read_ticket(str(ticket))
    assert snapshot.fields["situation"] == "titular"
    assert world.email_bodies(ticket) == []


def test_the_third_failed_call_sends_the_contact_email_once(world: ZendeskWorld) -> None:
    ticket = world.opens(world.holder(*HOLDER))
    world.poll()
    for _ in range(3):
        world.agent_says(ticket, "#tentativa")
    world.poll()
    world.poll()  # nothing new: deciding again decides nothing
    assert len(world.email_bodies(ticket)) == 1
    assert world.status_label(ticket) == "Aguardando retorno do cliente"
    assert len(world.note_bodies(ticket)) == len(set(world.steps(ticket))) == 5
    assert "cancelamento-enviado-5" not in world.fake.ticket(ticket)["tags"]


def test_an_email_whose_note_never_followed_and_a_step_decided_differently_go_to_an_agent(
    world: ZendeskWorld,
) -> None:
    """Step 2's e-mail update went out (its sent tag is on the ticket), its note's did not, and
    an agent typed #manual since: the engine, not the write, settles it, so explain says it
    before the poll does it. No e-mail goes out again; the note says one already did."""
    ticket = world.opens(world.holder(*HOLDER))
    world.poll()
    tags = world.fake.ticket(ticket)["tags"]
    world.fake.agent_updates(ticket, tags=[*tags, "cancelamento-enviado-2"])
    world.agent_says(ticket, "#manual")
    world.later(minutes=2)
    text = explain(world.worker, str(ticket), world.clock())
    assert "2:manual — escreve uma nota interna, sem e-mail" in text
    assert "+cancelamento-revisar" in text
    world.poll()
    assert world.steps(ticket) == ["1:inicio", "2:manual"]
    after = world.fake.ticket(ticket)["tags"]
    assert "cancelamento-revisar" in after and "cancelamento-enviado-2" not in after
    assert "um e-mail deste passo já tinha sido enviado" in world.note_bodies(ticket)[-1]
    assert world.email_bodies(ticket) == []


def test_the_customers_answer_reopens_the_ticket_and_is_read(world: ZendeskWorld) -> None:
    ticket = world.opens(world.holder(*HOLDER))
    world.poll()
    for _ in range(3):
        world.agent_says(ticket, "#tentativa")
    world.poll()
    world.fake.customer_replies(ticket, "Recebi, podem me ligar amanhã.")
    world.poll()
    assert world.status_label(ticket) == "Em atendimento"
    assert world.steps(ticket)[-1] == "6:cliente-respondeu"


def test_the_deadline_sweep_acts_on_a_ticket_nobody_touched(world: ZendeskWorld) -> None:
    ticket = world.opens(world.holder(*HOLDER))
    world.poll()
    for _ in range(3):
        world.agent_says(ticket, "#tentativa")
    world.poll()
    world.later(days=3)
    world.poll()
    # From the registered e-mail, no answer: cancel (manual mode: tag for an agent).
    assert "cancelamento-executar" in world.fake.ticket(ticket)["tags"]


def waiting_with_a_deadline_typed_past_the_calendars_end(world: ZendeskWorld) -> int:
    """The contact e-mail went out; then an agent types 9999-12-31 in the deadline field."""
    ticket = world.opens(world.holder(*HOLDER))
    world.poll()
    for _ in range(3):
        world.agent_says(ticket, "#tentativa")
    world.poll()
    deadline = world.adapter.layout.fields[FieldKey.DEADLINE]
    world.fake.agent_updates(ticket, custom_fields=[{"id": deadline, "value": "9999-12-31"}])
    return ticket


def test_a_deadline_an_agent_types_past_the_calendars_end_neither_stops_nor_delays_the_sweep(
    world: ZendeskWorld,
) -> None:
    ticket = waiting_with_a_deadline_typed_past_the_calendars_end(world)
    world.poll()  # nothing due yet, and no crash
    world.later(days=3)
    world.poll()  # the deadline the worker's notes keep, not the field's
    assert "cancelamento-executar" in world.fake.ticket(ticket)["tags"]


def test_a_deadline_typed_past_the_calendars_end_is_noted_once_then_no_longer_swept(
    world: ZendeskWorld,
) -> None:
    ticket = waiting_with_a_deadline_typed_past_the_calendars_end(world)
    world.poll()
    world.poll()
    assert [s for s in world.steps(ticket) if s.endswith(":prazo-invalido")] == ["6:prazo-invalido"]
    assert world.worker.helpdesk.due_tickets(world.clock.now) == (), "not read at every sweep"


def test_an_agents_concurrent_change_is_never_overwritten(world: ZendeskWorld) -> None:
    ticket = world.opens(world.holder(*HOLDER))
    original = world.fake.handle
    interfered: list[str] = []

    def agent_edits_first(method: str, url: str, headers: Any, body: bytes | None) -> Any:
        if method == "PUT" and not interfered:
            interfered.append(url)
            world.fake.agent_updates(ticket, tags=["cancelamento", "vip"], priority="high")
        return original(method, url, headers, body)

    world.fake.handle = agent_edits_first  # type: ignore[method-assign]
    report = world.poll()
    after = world.fake.ticket(ticket)
    assert report.conflicts == 1
    assert interfered
    assert "vip" in after["tags"] and after["priority"] == "high"
    assert world.steps(ticket) == ["1:inicio"]


@pytest.mark.parametrize("lost", ["the e-mail's update", "the note's update"])
def test_a_lost_response_never_posts_a_comment_twice(world: ZendeskWorld, lost: str) -> None:
    ticket = world.opens(world.holder(*HOLDER))
    world.poll()
    for _ in range(3):
        world.agent_says(ticket, "#tentativa")
    original = world.fake.handle
    puts: list[bytes | None] = []

    def lose_one(method: str, url: str, headers: Any, body: bytes | None) -> Any:
        if method == "PUT" and url.endswith(f"/tickets/{ticket}.json"):
            puts.append(body)
            is_email = b'"public": true' in (body or b"")
            wanted = is_email if lost == "the e-mail's update" else not is_email and len(puts) > 4
            if wanted and not getattr(world, "lost_once", False):
                world.lost_once = True  # type: ignore[attr-defined]
                world.fake.lose_next_write_response()
        return original(method, url, headers, body)

    world.fake.handle = lose_one  # type: ignore[method-assign]
    world.poll()
    world.poll()
    assert getattr(world, "lost_once", False)
    assert len(world.email_bodies(ticket)) == 1
    assert len(world.note_bodies(ticket)) == len(set(world.steps(ticket))) == 5


def test_a_restart_resumes_from_the_kept_cursor(world: ZendeskWorld) -> None:
    ticket = world.opens(world.holder(*HOLDER))
    world.poll()
    world.app = world.new_app()
    world.fake.requests.clear()
    world.poll()
    exports = [p for m, p in world.fake.requests if "incremental" in p]
    assert len(exports) == 1
    assert world.worker.cursor is not None and world.worker.cursor.startswith("c:")
    assert world.steps(ticket) == ["1:inicio"]


def test_a_dry_run_decides_and_writes_nothing(world: ZendeskWorld) -> None:
    ticket = world.opens(world.holder(*HOLDER))
    world.app = world.new_app(dry_run=True)
    world.fake.requests.clear()
    report = world.poll()
    assert report.steps == 1
    assert list(world.writes()) == []
    assert world.note_bodies(ticket) == []


def test_requests_per_poll_and_per_step(world: ZendeskWorld) -> None:
    """One write per comment; reads: one export per poll, then per candidate its comments,
    its requester with accounts, and the ficha's look-ups."""
    tickets = [
        world.opens(world.holder(f"Cliente {n}", f"cliente{n}@exemplo.com.br")) for n in range(10)
    ]
    world.fake.requests.clear()
    report = world.poll()
    reads = [p for m, p in world.fake.requests if m == "GET"]
    writes = list(world.writes())
    assert report.steps == len(tickets) == len(writes)
    once = ("/users/me", "/custom_statuses", "/ticket_fields")  # the account's layout, at start
    # the poll; the open cancellations, listed once when the first ticket asks; the sweep
    per_poll = ("/incremental/", "/search/export")
    assert len([p for p in reads if any(part in p for part in per_poll)]) == 3
    per_ticket = [p for p in reads if not any(part in p for part in once + per_poll)]
    # comments, requester with accounts, accounts by registered e-mail, the account's people;
    # no search for the account's open cancellations: they are known
    assert len(per_ticket) / len(tickets) == 4


def test_a_second_request_of_the_same_account_is_linked_without_a_ticket_search(
    world: ZendeskWorld,
) -> None:
    holder = world.holder(*HOLDER)
    first = world.opens(holder)
    world.poll()
    world.later(minutes=5)
    second = world.opens(holder, "Cancelar de novo")
    world.fake.requests.clear()
    world.poll()
    assert world.steps(second) == ["1:vinculado"]
    assert str(first) in world.note_bodies(second)[0]
    searches = [p for _, p in world.fake.requests if p.endswith("/search.json")]
    assert len(searches) == 1  # the accounts registered to the e-mail; no ticket search


def test_a_429_storm_is_waited_out_without_losing_or_doubling(tmp_path: Path) -> None:
    world = ZendeskWorld(paced=True, limits=RateLimits())
    try:
        ticket = world.opens(world.holder(*HOLDER))
        world.fake.fail_next(429, times=3, retry_after=2)
        world.poll()
        assert world.steps(ticket) == ["1:inicio"]
        assert world.client.stats.throttled == 0  # setup's client; the worker has its own
        assert world.adapter.client.stats.throttled == 3
    finally:
        world.close()


def test_the_workers_own_writes_coming_back_cost_no_reads(world: ZendeskWorld) -> None:
    world.opens(world.holder(*HOLDER))
    world.poll()
    world.fake.requests.clear()
    world.poll()  # the export returns the ticket our write changed: nothing else changed it
    paths = [p for _, p in world.fake.requests]
    assert paths == ["/api/v2/incremental/tickets/cursor.json", "/api/v2/search/export.json"]


def test_a_next_run_once_does_not_read_again_the_tickets_the_last_one_wrote(
    world: ZendeskWorld,
) -> None:
    tickets = [world.opens(world.holder(f"Cliente {n}", f"c{n}@exemplo.com.br")) for n in range(3)]
    world.poll()
    world.app = world.new_app()  # `run --once` from cron: a new process each time
    world.fake.requests.clear()
    world.poll()  # the export returns the three tickets our writes changed
    layout = ("/api/v2/users/me.json", "/api/v2/custom_statuses.json", "/api/v2/ticket_fields.json")
    paths = [p for _, p in world.fake.requests if p not in layout]  # a new process reads it
    assert paths == ["/api/v2/incremental/tickets/cursor.json", "/api/v2/search/export.json"]
    kept = world.place.with_name("zendesk-written.tsv").read_text() if world.place else ""
    assert sorted(line.split("\t")[0] for line in kept.splitlines()) == sorted(map(str, tickets))
    assert "@" not in kept  # ids and versions only


def test_an_agents_note_after_our_write_is_still_read(world: ZendeskWorld) -> None:
    ticket = world.opens(world.holder(*HOLDER))
    world.poll()
    world.agent_says(ticket, "#tentativa")
    world.poll()
    assert world.steps(ticket) == ["1:inicio", "2:tentativa"]


def test_a_long_running_worker_keeps_only_a_polls_worth_of_people(world: ZendeskWorld) -> None:
    for n in range(3):
        world.opens(world.holder(f"Cliente {n}", f"cliente{n}@exemplo.com.br"))
    world.poll()
    cache = world.adapter.cache
    assert len(cache.requesters) == 3
    world.later(minutes=5)
    world.poll()
    assert len(cache.requesters) == len(cache.members) == len(cache.by_registered_email) == 0


def test_the_next_tickets_are_read_while_one_is_written_and_writes_keep_their_order(
    world: ZendeskWorld,
) -> None:
    tickets = [
        str(world.opens(world.holder(f"Cliente {n}", f"cliente{n}@exemplo.com.br")))
        for n in range(6)
    ]
    helpdesk = world.worker.helpdesk
    second_read_started = threading.Event()
    overlapped: list[bool] = []
    writes: list[str] = []
    read_ticket, apply_step = helpdesk.read_ticket, helpdesk.apply_step

    def reading(ticket_id: str, header: TicketHeader | None = None) -> Ticket:
        if ticket_id == tickets[1]:
            second_read_started.set()
        if ticket_id == tickets[0] and not overlapped:
            # the first ticket's read finishes only once the second one's has begun
            overlapped.append(second_read_started.wait(timeout=5))
        return read_ticket(ticket_id, header)

    def writing(ticket: Ticket, step: RenderedStep) -> Ticket:
        writes.append(ticket.id)
        return apply_step(ticket, step)

    helpdesk.read_ticket = reading  # type: ignore[method-assign]
    helpdesk.apply_step = writing  # type: ignore[method-assign]
    world.worker.read_ahead = 3
    report = world.poll()
    assert overlapped == [True]
    assert writes == tickets  # one first step each, in the export's order
    assert report.steps == len(tickets) and not report.failed
    assert all(world.steps(int(t)) == ["1:inicio"] for t in tickets)


def test_after_a_restart_the_tickets_to_retry_read_ahead_load_the_accounts_names_once(
    world: ZendeskWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    from worker.adapters.zendesk.layout import AccountLayout

    tickets = [world.opens(world.holder(f"Cliente {n}", f"r{n}@exemplo.com.br")) for n in range(4)]
    world.app = world.new_app()  # a restart: the layout is not read yet
    world.worker.retry = {str(t) for t in tickets}  # they failed before it: first in the poll
    world.worker.read_ahead = 3
    load = AccountLayout.load
    loads: list[str] = []
    another_asked = threading.Event()

    def loading(cls: type[AccountLayout], client: Any, config: Any) -> AccountLayout:
        loads.append(threading.current_thread().name)
        if len(loads) > 1:
            another_asked.set()
        else:
            another_asked.wait(timeout=0.5)  # the first load lasts until another read asks
        return load(client, config)

    monkeypatch.setattr(AccountLayout, "load", classmethod(loading))
    report = world.poll()
    assert len(loads) == 1
    assert report.steps == len(tickets) and not report.failed
    assert all(world.steps(t) == ["1:inicio"] for t in tickets)


def test_while_export_pages_still_wait_one_ticket_search_answers_both_of_the_engines_questions(
    world: ZendeskWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    from worker.adapters.zendesk import adapter

    monkeypatch.setattr(adapter, "PAGE_SIZE", 1)  # a page each: caught up only at the last one
    tickets = [world.opens(world.holder(f"Cliente {n}", f"c{n}@exemplo.com.br")) for n in range(3)]
    world.later(minutes=2)
    world.fake.requests.clear()
    world.worker.poll(world.clock())
    assert all(world.steps(t) == ["1:inicio"] for t in tickets)
    searches = [p for _, p in world.fake.requests if p == "/api/v2/search.json"]
    # each: the accounts registered to the e-mail; the first two, while pages wait, one ticket
    # search for "an open cancellation in a year?" that also answers "any ticket since this one?"
    assert len(searches) == 3 + 2


def test_a_partner_of_two_companies_asking_in_one_poll_has_their_accounts_counted_once(
    world: ZendeskWorld,
) -> None:
    """Bruno manages Empresa A and Empresa B; a partner of each asks before the same poll.
    Both tickets go to an agent (CONTRACT 15), and how many accounts Bruno has is read once:
    the second ficha reuses the count the first one read, within the poll's memory."""
    company_a = world.fake.add_organization(
        "Empresa A", {"documento": CNPJ, "email_cadastro": "contato@a.com.br"}
    )
    company_b = world.fake.add_organization(
        "Empresa B", {"documento": CNPJ_2, "email_cadastro": "contato@b.com.br"}
    )
    partner = {"socio_administrador": True}
    world.fake.add_user(
        "Bruno",
        "bruno@exemplo.com.br",
        organization_ids=[company_a, company_b],
        user_fields=partner,
    )
    ana = world.fake.add_user(
        "Ana", "ana@a.com.br", organization_ids=[company_a], user_fields=partner
    )
    carla = world.fake.add_user(
        "Carla", "carla@b.com.br", organization_ids=[company_b], user_fields=partner
    )
    tickets = [world.opens(ana), world.opens(carla)]
    world.fake.requests.clear()
    world.poll()
    for ticket in tickets:
        assert "pertence a mais de uma conta" in world.note_bodies(ticket)[0]
    counted = [p for _, p in world.fake.requests if p.endswith("/organization_memberships.json")]
    assert len(counted) == 1
