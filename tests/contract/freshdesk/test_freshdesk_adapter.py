"""Contract tests of the Freshdesk adapter: the exact requests it makes and how it reads the
answers. Payloads follow Freshdesk's API reference (docs/freshdesk.md lists each one)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
import responses

from tests.fakes.clock import Sleeps
from tests.fakes.freshdesk_wire import (
    AGENT_ID,
    API,
    BASE,
    CUSTOMER_ID,
    FIELD_NAMES,
    IN_PROGRESS,
    NOW,
    SINCE,
    WAITING,
    WORKER_ID,
    account_fields,
    contact,
    conversation,
    query,
    sent,
    step,
    ticket,
)
from worker.adapters.freshdesk.adapter import FreshdeskHelpdesk, _Cursor
from worker.adapters.freshdesk.http import (
    Credentials,
    CredentialsMissing,
    FreshdeskClient,
    FreshdeskError,
    Invalid,
    RateLimited,
    Unreachable,
)
from worker.adapters.freshdesk.mapping import html_to_text, text_to_html
from worker.adapters.freshdesk.settings import Freshdesk as FreshdeskSettings
from worker.config import Config
from worker.core.effects import FieldKey, TargetStatus
from worker.core.model import AuthorRole, StatusCategory
from worker.ports import OutgoingEmail, StaleTicket, TicketGone

# --- payloads, shaped as the API reference shows them --------------------------------------


# --- fixtures -------------------------------------------------------------------------------


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
def api() -> Any:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        account_fields(mock)
        yield mock


def helpdesk(sleeps: Sleeps, journal: Path, config: Config | None = None) -> FreshdeskHelpdesk:
    config = config or Config()
    client = FreshdeskClient(
        Credentials(BASE, "s3cr3t-key"),
        FreshdeskSettings(),
        sleep=sleeps,
        clock=sleeps.clock,
        jitter=lambda a, b: b,
    )
    return FreshdeskHelpdesk(client, config, journal, monotonic=lambda: 0.0)


@pytest.fixture
def desk(sleeps: Sleeps, tmp_path: Path) -> FreshdeskHelpdesk:
    return helpdesk(sleeps, tmp_path / "freshdesk-journal.sqlite3")


# --- finding work ---------------------------------------------------------------------------


def test_the_first_poll_lists_by_updated_at_from_the_lookback(
    api: Any, desk: FreshdeskHelpdesk
) -> None:
    api.get(
        f"{API}/tickets",
        json=[
            ticket(11, updated_at="2026-11-07T12:05:00Z"),
            ticket(
                12, tags=(), subject="Quero cancelar o contrato", updated_at="2026-11-07T12:06:00Z"
            ),
            ticket(
                13,
                tags=(),
                subject="Boleto",
                description="<p>Segunda via?</p>",
                updated_at="2026-11-07T12:07:00Z",
            ),
            ticket(14, tags=(), subject="Cancelar", source=3, updated_at="2026-11-07T12:08:00Z"),
        ],
    )
    page = desk.changed_tickets(None, SINCE)
    listing = next(c for c in api.calls if urlsplit(c.request.url).path == "/api/v2/tickets")
    assert query(listing) == {
        "updated_since": ["2026-11-07T11:59:00Z"],  # the look-back, less the overlap
        "order_by": ["updated_at"],
        "order_type": ["asc"],
        "per_page": ["100"],
        "page": ["1"],
        "include": ["requester,description"],
    }
    assert page.ticket_ids == ("11", "12")  # 13 is not a cancellation; 14 came by phone
    assert page.more is False
    cursor = _Cursor.parse(page.cursor, NOW)
    assert cursor is not None and cursor.since == "2026-11-07T12:08:00Z" and cursor.page == 1


def test_the_next_page_starts_from_the_last_updated_at_not_page_two(
    api: Any, desk: FreshdeskHelpdesk
) -> None:
    link = f'<{API}/tickets?updated_since=x&page=2&per_page=100>; rel="next"'
    api.get(
        f"{API}/tickets",
        json=[ticket(11, updated_at="2026-12-07T12:00:00Z")],
        headers={"link": link},
    )
    page = desk.changed_tickets(None, SINCE)
    assert page.more is True
    api.replace(
        responses.GET,
        f"{API}/tickets",
        json=[
            ticket(11, updated_at="2026-12-07T12:00:00Z"),
            ticket(15, updated_at="2026-12-07T12:00:30Z"),
        ],
    )
    second = desk.changed_tickets(page.cursor, SINCE)
    listing = [c for c in api.calls if urlsplit(c.request.url).path == "/api/v2/tickets"][-1]
    assert query(listing)["updated_since"] == ["2026-12-07T11:59:00Z"]
    assert query(listing)["page"] == ["1"]
    assert second.ticket_ids == ("15",)  # 11 was handed out already, unchanged since


@pytest.mark.parametrize(
    "cursor",
    [
        'v1:{"page":1,"seen":{},"since":"ontem"}',  # damaged by hand
        'v1:{"page":1,"seen":{},"since":"2099-01-01T00:00:00Z"}',  # ahead of the clock
        'v1:{"page":0,"seen":{},"since":"2026-12-01T00:00:00Z"}',  # no such page
    ],
)
def test_a_kept_cursor_that_stops_or_blinds_the_poll_is_rebuilt_from_the_lookback(
    api: Any, desk: FreshdeskHelpdesk, cursor: str
) -> None:
    api.get(f"{API}/tickets", json=[ticket(11, updated_at="2026-12-07T12:00:00Z")])
    page = desk.changed_tickets(cursor, SINCE)
    listing = [c for c in api.calls if urlsplit(c.request.url).path == "/api/v2/tickets"][-1]
    assert query(listing)["updated_since"] == ["2026-11-07T11:59:00Z"]  # the look-back
    assert query(listing)["page"] == ["1"]
    assert page.ticket_ids == ("11",)


def test_a_full_page_within_one_second_follows_the_link(api: Any, desk: FreshdeskHelpdesk) -> None:
    cursor = _Cursor("2026-12-07T12:00:00Z", 1, {}).render()
    link = f'<{API}/tickets?page=2>; rel="next"'
    api.get(
        f"{API}/tickets",
        json=[ticket(11, updated_at="2026-12-07T12:00:00Z")],
        headers={"link": link},
    )
    page = desk.changed_tickets(cursor, SINCE)
    following = _Cursor.parse(page.cursor, NOW)
    assert following is not None and following.page == 2 and page.more


def test_the_sweep_filters_open_cancellations_and_compares_the_deadline(
    api: Any, desk: FreshdeskHelpdesk
) -> None:
    deadline = FIELD_NAMES[FieldKey.DEADLINE]
    api.get(
        f"{API}/search/tickets",
        json={
            "total": 3,
            "results": [
                ticket(21, fields={deadline: "2026-12-08"}, requester=False),
                ticket(22, fields={deadline: "2026-12-09"}, requester=False),
                ticket(23, requester=False),
            ],
        },
    )
    due = desk.due_tickets(datetime(2026, 12, 9, 12, 0, tzinfo=UTC))
    search = next(c for c in api.calls if "/search/tickets" in c.request.url)
    assert query(search) == {
        "query": [
            f"\"tag:'cancelamento' AND (status:2 OR status:3 OR status:{IN_PROGRESS}"
            f" OR status:{WAITING}) AND {deadline}:<'2026-12-08'\""
        ],
        "page": ["1"],
    }
    assert due == ("21",)


# --- reading --------------------------------------------------------------------------------


def test_a_ticket_deleted_since_it_was_listed_is_gone_not_failed(desk: FreshdeskHelpdesk) -> None:
    with responses.RequestsMock() as api:
        api.get(f"{API}/tickets/41", status=404, json={})
        with pytest.raises(TicketGone):
            desk.read_ticket("41")


@pytest.mark.parametrize("flag", ["deleted", "spam"])
def test_a_ticket_in_the_trash_or_marked_as_spam_is_gone_not_read(
    flag: str, api: Any, desk: FreshdeskHelpdesk
) -> None:
    api.get(f"{API}/tickets/41", json={**ticket(41), flag: True})
    with pytest.raises(TicketGone):
        desk.read_ticket("41")


def test_the_poll_and_the_sweep_leave_out_tickets_in_the_trash_or_marked_as_spam(
    api: Any, desk: FreshdeskHelpdesk
) -> None:
    """The list leaves them out (documented) and the filter may not: either way, not work."""
    overdue: dict[str, object] = {FIELD_NAMES[FieldKey.DEADLINE]: "2026-12-08"}
    found = [
        {**ticket(24, fields=overdue, requester=False), "deleted": True},
        {**ticket(25, fields=overdue, requester=False), "spam": True},
        ticket(26, fields=overdue, requester=False),
    ]
    api.get(f"{API}/tickets", json=found)
    api.get(f"{API}/search/tickets", json={"total": 3, "results": found})
    assert desk.changed_tickets(None, SINCE).ticket_ids == ("26",)
    assert desk.due_tickets(datetime(2026, 12, 9, 12, 0, tzinfo=UTC)) == ("26",)


def test_a_ticket_is_read_with_its_conversations_and_their_authors(
    api: Any, desk: FreshdeskHelpdesk
) -> None:
    marker = '[cancelamento-worker] {"passo":"1:inicio","refs":[],"estado":{}}'
    situation = FIELD_NAMES[FieldKey.SITUATION]
    api.get(
        f"{API}/tickets/31",
        json=ticket(
            31, status=WAITING, fields={situation: "Titular", FIELD_NAMES[FieldKey.ATTEMPTS]: 2}
        ),
    )
    api.get(
        f"{API}/tickets/31/conversations",
        json=[
            conversation(1, WORKER_ID, text_to_html(f"Nota.\n\n{marker}"), private=True),
            conversation(2, AGENT_ID, "<div>#tentativa</div>", private=True),
            conversation(
                3,
                CUSTOMER_ID,
                "<div>Confirmo.</div><blockquote>Em ... escreveu: confirme</blockquote>",
                incoming=True,
            ),
        ],
    )
    api.get(f"{API}/agents/{AGENT_ID}", json={"id": AGENT_ID, "contact": {"name": "Ana"}})
    snapshot = desk.read_ticket("31")
    ticket_call = next(c for c in api.calls if urlsplit(c.request.url).path.endswith("/31"))
    assert query(ticket_call) == {"include": ["requester"]}
    conversations = next(c for c in api.calls if "/conversations" in c.request.url)
    assert query(conversations) == {"per_page": ["100"]}
    assert [c.role for c in snapshot.comments] == [
        AuthorRole.END_USER,  # the description: the request itself
        AuthorRole.WORKER,
        AuthorRole.AGENT,
        AuthorRole.END_USER,
    ]
    assert snapshot.comments[1].body.splitlines()[-1] == marker  # its own line, unescaped
    assert snapshot.comments[2].author.name == "Ana"
    assert snapshot.comments[3].body == "Confirmo."  # the quoted history is not the answer
    assert (snapshot.status, snapshot.custom_status) == (
        StatusCategory.PENDING,
        "Aguardando retorno do cliente",
    )
    assert snapshot.fields["situation"] == "titular"
    assert snapshot.fields["attempts"] == "2"
    assert snapshot.version == "2026-12-07T12:00:00Z"
    assert snapshot.requester.key == f"pessoa{CUSTOMER_ID}@cliente.com.br"


def test_the_ficha_joins_the_contacts_companies_and_those_registered_to_them(
    api: Any, desk: FreshdeskHelpdesk
) -> None:
    email = f"pessoa{CUSTOMER_ID}@cliente.com.br"
    api.get(f"{API}/tickets/51", json=ticket(51))
    api.get(f"{API}/tickets/51/conversations", json=[])
    api.get(
        f"{API}/contacts/{CUSTOMER_ID}",
        json={
            **contact(CUSTOMER_ID, titular=True),
            "company_id": 801,
            "other_companies": [{"company_id": 803, "view_all_tickets": False}],
        },
    )
    for company_id, name, fields in (
        (801, "Cliente PF", {"documento": "52998224725"}),
        (803, "Outra", {}),
    ):
        api.get(
            f"{API}/companies/{company_id}",
            json={"id": company_id, "name": name, "custom_fields": fields},
        )
    registered = {
        "id": 802,
        "name": "Empresa Ltda",
        "custom_fields": {"documento": "11222333000181", "email_cadastro": email.upper()},
    }
    api.get(f"{API}/search/companies", json={"total": 1, "results": [registered]})
    members = {
        801: [{**contact(CUSTOMER_ID, titular=True), "company_id": 801, "other_companies": [803]}],
        802: [
            {**contact(601, socio_administrador=True), "company_id": 802, "other_companies": [804]},
            contact(602),
        ],
        803: [],
    }
    for company_id, listed in members.items():
        api.get(f"{API}/contacts?company_id={company_id}&per_page=100", json=listed)
    ficha = desk.read_ficha(desk.read_ticket("51"))
    search = next(c for c in api.calls if "/search/companies" in c.request.url)
    assert query(search) == {"query": [f"\"email_cadastro:'{email}'\""], "page": ["1"]}
    assert [a.id for a in ficha.accounts] == ["801", "802", "803"]
    pf, pj, _ = ficha.accounts
    assert pf.members[0].holder and pf.members[0].account_count == 2 and pf.document
    assert pj.registered_email == email
    partner, other = pj.members
    assert partner.managing_partner and partner.account_count == 2  # ambiguous (CONTRACT 15)
    assert not other.managing_partner


def test_related_tickets_are_one_list_per_person(api: Any, desk: FreshdeskHelpdesk) -> None:
    api.get(f"{API}/tickets", json=[ticket(61, requester=False)])
    found = desk.related_tickets(("B@x.com.br", "a@x.com.br"), SINCE)
    lists = [query(c) for c in api.calls if urlsplit(c.request.url).path == "/api/v2/tickets"]
    assert [q["email"] for q in lists] == [["a@x.com.br"], ["b@x.com.br"]]
    assert lists[0]["updated_since"] == ["2026-11-07T12:00:00Z"]
    assert [t.id for t in found] == ["61"]
    assert found[0].first_message == "Quero cancelar meu contrato."


# --- writing --------------------------------------------------------------------------------


def test_a_step_rereads_then_notes_then_updates(api: Any, desk: FreshdeskHelpdesk) -> None:
    api.get(f"{API}/tickets/71", json=ticket(71, tags=("cancelamento", "vip")))
    api.get(f"{API}/tickets/71/conversations", json=[])
    read = desk.read_ticket("71")
    api.post(
        f"{API}/tickets/71/notes", json=conversation(501, WORKER_ID, "x", private=True), status=201
    )
    api.put(f"{API}/tickets/71", json=ticket(71, updated_at="2026-12-07T12:05:00Z"))
    version = desk.apply_step(
        read,
        step(
            fields={FieldKey.ATTEMPTS: "1", FieldKey.DEADLINE: None},
            add_tags=frozenset({"cancelamento-revisar"}),
        ),
    )
    writes = [c for c in api.calls if c.request.method != "GET"]
    assert [c.request.method for c in writes] == ["POST", "PUT"]
    assert sent(writes[0]) == {
        "body": "<div>Tentativa 1 de 3.<br><br>[cancelamento-worker]"
        " {&quot;passo&quot;:&quot;2:tentativa&quot;}</div>",
        "private": True,
    }
    assert sent(writes[1]) == {
        "status": IN_PROGRESS,
        "custom_fields": {FIELD_NAMES[FieldKey.ATTEMPTS]: 1, FIELD_NAMES[FieldKey.DEADLINE]: None},
        "tags": ["cancelamento", "cancelamento-revisar", "vip"],
    }
    assert version.version == "2026-12-07T12:05:00Z"


def test_a_step_that_emails_replies_with_the_copies_first(
    api: Any, desk: FreshdeskHelpdesk
) -> None:
    api.get(f"{API}/tickets/71", json=ticket(71))
    api.get(f"{API}/tickets/71/conversations", json=[])
    read = desk.read_ticket("71")
    api.post(f"{API}/tickets/71/reply", json=conversation(500, WORKER_ID, "x"), status=201)
    api.post(
        f"{API}/tickets/71/notes", json=conversation(501, WORKER_ID, "x", private=True), status=201
    )
    api.put(f"{API}/tickets/71", json=ticket(71, updated_at="2026-12-07T12:05:00Z"))
    email = OutgoingEmail("texto", "<p>texto</p>", ("socia@cliente.com.br",))
    desk.apply_step(
        read,
        step(key="5:email-contato", email=email, status=TargetStatus.WAITING_CUSTOMER, fields={}),
    )
    writes = [c for c in api.calls if c.request.method != "GET"]
    assert [urlsplit(c.request.url).path.rsplit("/", 1)[-1] for c in writes] == [
        "reply",
        "notes",
        "71",
    ]
    assert sent(writes[0]) == {"body": "<p>texto</p>", "cc_emails": ["socia@cliente.com.br"]}
    assert sent(writes[2]) == {"status": WAITING}  # CCs never go on the ticket update


def test_a_ticket_changed_since_it_was_read_is_stale_and_nothing_is_written(
    api: Any, desk: FreshdeskHelpdesk
) -> None:
    api.get(f"{API}/tickets/71", json=ticket(71))
    api.get(f"{API}/tickets/71/conversations", json=[])
    read = desk.read_ticket("71")
    api.replace(
        responses.GET, f"{API}/tickets/71", json=ticket(71, updated_at="2026-12-07T12:03:00Z")
    )
    with pytest.raises(StaleTicket):
        desk.apply_step(read, step())
    assert not [c for c in api.calls if c.request.method != "GET"]
    assert desk.journal.find("71", "2:tentativa") is None


def test_a_validation_error_names_the_field_and_code(api: Any, desk: FreshdeskHelpdesk) -> None:
    api.get(f"{API}/tickets/71", json=ticket(71))
    api.get(f"{API}/tickets/71/conversations", json=[])
    read = desk.read_ticket("71")
    api.post(f"{API}/tickets/71/notes", json=conversation(501, WORKER_ID, "x", private=True))
    api.put(
        f"{API}/tickets/71",
        status=400,
        json={
            "description": "Validation failed",
            "errors": [
                {
                    "field": "status",
                    "message": "It should be one of these values: '2,3,4,5'",
                    "code": "invalid_value",
                }
            ],
        },
    )
    with pytest.raises(
        Invalid, match=r"Validation failed; status: It should be .* \(invalid_value\)"
    ):
        desk.apply_step(read, step())


# --- rate limits, faults, the base URL and secrets --------------------------------------------


def test_a_429_waits_for_retry_after_then_retries(
    api: Any, desk: FreshdeskHelpdesk, sleeps: Sleeps
) -> None:
    api.get(
        f"{API}/tickets/81",
        status=429,
        headers={"Retry-After": "7"},
        json={"code": "rate_limit", "message": "Rate limit exceeded"},
    )
    api.get(f"{API}/tickets/81", json=ticket(81))
    assert desk.client.get("/api/v2/tickets/81")["id"] == 81
    assert 7.0 in sleeps and desk.client.stats.throttled == 1


def test_a_429_asking_too_long_ends_the_poll(
    api: Any, desk: FreshdeskHelpdesk, sleeps: Sleeps
) -> None:
    api.get(f"{API}/tickets/81", status=429, headers={"Retry-After": "3600"}, json={})
    with pytest.raises(RateLimited, match="3600 s"):
        desk.client.get("/api/v2/tickets/81")
    assert sum(sleeps) < 60


def test_5xx_is_retried_with_bounded_backoff(
    api: Any, desk: FreshdeskHelpdesk, sleeps: Sleeps
) -> None:
    api.get(f"{API}/tickets/81", status=503, json={})
    with pytest.raises(Unreachable, match="503"):
        desk.client.get("/api/v2/tickets/81")
    assert len([c for c in api.calls if "/tickets/81" in c.request.url]) == 4
    assert sleeps == [1.0, 2.0, 4.0]


def test_a_post_is_not_resent_after_a_server_error_but_is_after_a_429(
    api: Any, desk: FreshdeskHelpdesk
) -> None:
    api.post(f"{API}/tickets/81/notes", status=500, json={})
    with pytest.raises(Unreachable):
        desk.client.post("/api/v2/tickets/81/notes", {"body": "x", "private": True})
    assert len(api.calls) == 1
    api.post(f"{API}/tickets/82/notes", status=429, headers={"Retry-After": "1"}, json={})
    api.post(f"{API}/tickets/82/notes", status=201, json={"id": 1})
    assert desk.client.post("/api/v2/tickets/82/notes", {"body": "x"}) == {"id": 1}


def test_a_refused_connection_never_arrived_so_a_post_is_resent(
    api: Any, desk: FreshdeskHelpdesk
) -> None:
    api.post(f"{API}/tickets/83/reply", body=requests.ConnectionError("Connection refused"))
    api.post(f"{API}/tickets/83/reply", status=201, json={"id": 2})
    assert desk.client.post("/api/v2/tickets/83/reply", {"body": "x"}) == {"id": 2}
    api.post(f"{API}/tickets/84/reply", body=requests.ConnectionError("Connection reset by peer"))
    with pytest.raises(Unreachable):
        desk.client.post("/api/v2/tickets/84/reply", {"body": "x"})


def test_embeds_are_charged_as_the_credits_freshdesk_reports(
    api: Any, desk: FreshdeskHelpdesk
) -> None:
    api.get(
        f"{API}/tickets/85",
        json=ticket(85),
        headers={
            "X-RateLimit-Total": "200",
            "X-RateLimit-Remaining": "190",
            "X-RateLimit-Used-CurrentRequest": "3",
        },
    )
    desk.client.get("/api/v2/tickets/85")
    assert len(desk.client.account_window.sent) == 3
    assert desk.client.last_limits == {"Total": 200, "Remaining": 190, "Used-CurrentRequest": 3}


def test_freshdesk_url_sends_every_request_there_and_refuses_other_hosts(sleeps: Sleeps) -> None:
    credentials = Credentials.from_env(
        {
            "FRESHDESK_URL": "http://127.0.0.1:8766/",
            "FRESHDESK_API_KEY": "k3y",
            "FRESHDESK_DOMAIN": "ignored",
        }
    )
    assert credentials.base_url == "http://127.0.0.1:8766" and credentials.is_loopback
    client = FreshdeskClient(credentials, FreshdeskSettings(), sleep=sleeps, clock=sleeps.clock)
    with responses.RequestsMock() as mock:
        mock.get(
            "http://127.0.0.1:8766/api/v2/contacts",
            json=[],
            headers={"link": '<https://acme.freshdesk.com/api/v2/contacts?page=2>; rel="next"'},
        )
        with pytest.raises(FreshdeskError, match=re.escape("outside http://127.0.0.1:8766")):
            list(client.pages("/api/v2/contacts"))
        assert mock.calls[0].request.headers["Authorization"].startswith("Basic ")


def test_the_domain_makes_the_base_url() -> None:
    env = {"FRESHDESK_DOMAIN": "acme", "FRESHDESK_API_KEY": "k"}
    assert Credentials.from_env(env).base_url == "https://acme.freshdesk.com"
    env["FRESHDESK_DOMAIN"] = "suporte.acme.freshdesk.com"
    assert Credentials.from_env(env).base_url == "https://suporte.acme.freshdesk.com"


def test_secrets_never_appear_in_errors_or_reprs(api: Any, desk: FreshdeskHelpdesk) -> None:
    api.get(
        f"{API}/tickets/81",
        status=401,
        json={"code": "invalid_credentials", "message": "You have to be logged in"},
    )
    with pytest.raises(FreshdeskError) as failure:
        desk.client.get("/api/v2/tickets/81")
    assert "invalid_credentials" in str(failure.value)
    assert "s3cr3t-key" not in str(failure.value)
    assert "s3cr3t-key" not in repr(Credentials(BASE, "s3cr3t-key"))


@pytest.mark.parametrize(
    ("env", "problem"),
    [
        ({}, "FRESHDESK_DOMAIN"),
        ({"FRESHDESK_DOMAIN": "acme"}, "FRESHDESK_API_KEY"),
        ({"FRESHDESK_URL": "acme.freshdesk.com", "FRESHDESK_API_KEY": "x"}, "https://host"),
    ],
)
def test_missing_credentials_say_what_to_set(env: dict[str, str], problem: str) -> None:
    with pytest.raises(CredentialsMissing, match=problem):
        Credentials.from_env(env)


def test_html_and_text_round_trip_line_for_line() -> None:
    text = 'Linha 1 <a> & "b"\n\n[cancelamento-worker] {"passo":"1:x"}'
    assert html_to_text(text_to_html(text)) == text
    wrapped = f'<div style="font-family: sans"><div>{text_to_html(text)}</div></div>'
    assert html_to_text(wrapped) == text
