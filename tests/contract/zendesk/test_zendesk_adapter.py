"""Contract tests of the Zendesk adapter: the exact requests it makes and how it reads the
answers. Payloads are written from Zendesk's API reference (docs/zendesk.md lists each one)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
import responses

from tests.fakes.clock import Sleeps
from tests.fakes.zendesk_wire import (
    AGENT_ID,
    API,
    BASE,
    CUSTOMER_ID,
    FIELD_IDS,
    IN_PROGRESS_ID,
    SINCE,
    WAITING_ID,
    WORKER_ID,
    comment,
    query,
    sent_body,
    status,
    step,
    ticket,
    user,
)
from worker.adapters.zendesk.adapter import ZendeskHelpdesk
from worker.adapters.zendesk.http import (
    Credentials,
    CredentialsMissing,
    Invalid,
    RateLimited,
    Unreachable,
    ZendeskClient,
    ZendeskError,
)
from worker.config import Config
from worker.core.effects import FieldKey, TargetStatus
from worker.core.model import AuthorRole, StatusCategory
from worker.ports import OutgoingEmail, StaleTicket, TicketGone


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
def api() -> Any:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.get(f"{API}/users/me.json", json={"user": user(WORKER_ID, "admin")})
        mock.get(
            f"{API}/custom_statuses.json",
            json={
                "custom_statuses": [
                    status(1, "Open", "open", default=True),
                    status(2, "Pending", "pending", default=True),
                    status(3, "Solved", "solved", default=True),
                    status(IN_PROGRESS_ID, "Em atendimento", "open"),
                    status(WAITING_ID, "Aguardando retorno do cliente", "pending"),
                ]
            },
        )
        titles = Config().fields
        mock.get(
            f"{API}/ticket_fields.json",
            json={
                "ticket_fields": [
                    {"id": 1, "type": "subject", "title": "Subject", "active": True},
                    *(
                        {"id": FIELD_IDS[key], "type": "text", "title": title, "active": True}
                        for key, title in (
                            (FieldKey.SITUATION, titles.situation),
                            (FieldKey.ATTEMPTS, titles.attempts),
                            (FieldKey.REASON, titles.reason),
                            (FieldKey.OUTCOME, titles.outcome),
                            (FieldKey.DEADLINE, titles.deadline),
                        )
                    ),
                ],
                "next_page": None,
                "previous_page": None,
                "count": 6,
            },
        )
        yield mock


def helpdesk(sleeps: Sleeps, config: Config | None = None) -> ZendeskHelpdesk:
    config = config or Config()
    credentials = Credentials(BASE, "ops@acme.com.br", "s3cr3t-token", None)
    client = ZendeskClient(
        credentials, config.zendesk, sleep=sleeps, clock=sleeps.clock, jitter=lambda a, b: b
    )
    return ZendeskHelpdesk(client, config, monotonic=sleeps.clock)


# --- payload builders, shaped as the API reference shows them ---------------------------------


# --- finding work ---------------------------------------------------------------------------


def test_the_first_poll_exports_from_the_lookback_and_keeps_only_candidates(
    api: Any, sleeps: Sleeps
) -> None:
    api.get(
        f"{API}/incremental/tickets/cursor.json",
        json={
            "tickets": [
                ticket(11),
                ticket(12, tags=(), subject="Quero cancelar o contrato"),
                ticket(13, tags=(), subject="Segunda via do boleto", description="Boleto?"),
                ticket(14, tags=(), subject="Cancelar", channel="voice"),
            ],
            "after_url": f"{API}/incremental/tickets/cursor.json?cursor=MTU4MDc1",
            "after_cursor": "MTU4MDc1",
            "before_url": None,
            "before_cursor": None,
            "end_of_stream": True,
        },
    )
    page = helpdesk(sleeps).changed_tickets(None, SINCE)
    export = next(c for c in api.calls if "incremental" in c.request.url)
    assert query(export) == {"start_time": [str(int(SINCE.timestamp()))], "per_page": ["1000"]}
    assert page.ticket_ids == ("11", "12")  # 13 is not a cancellation; 14 came by phone
    assert page.cursor == "c:MTU4MDc1"
    assert page.more is False


def test_the_next_poll_resumes_from_the_kept_cursor(api: Any, sleeps: Sleeps) -> None:
    api.get(
        f"{API}/incremental/tickets/cursor.json",
        json={"tickets": [], "after_cursor": "NEXT", "after_url": None, "end_of_stream": False},
    )
    page = helpdesk(sleeps).changed_tickets("c:MTU4MDc1", SINCE)
    export = next(c for c in api.calls if "incremental" in c.request.url)
    assert query(export) == {"cursor": ["MTU4MDc1"], "per_page": ["1000"]}
    assert (page.cursor, page.more) == ("c:NEXT", True)


def test_a_refused_cursor_is_rebuilt_from_the_lookback(api: Any, sleeps: Sleeps) -> None:
    api.get(
        f"{API}/incremental/tickets/cursor.json",
        status=400,
        json={"error": "InvalidPaginationParameter", "description": "cursor is invalid"},
    )
    api.get(
        f"{API}/incremental/tickets/cursor.json",
        json={"tickets": [ticket(11)], "after_cursor": "NEW", "end_of_stream": True},
    )
    page = helpdesk(sleeps).changed_tickets("c:EXPIRED", SINCE)
    exports = [query(c) for c in api.calls if "incremental" in c.request.url]
    assert exports[-1]["start_time"] == [str(int(SINCE.timestamp()))]
    assert page.ticket_ids == ("11",)


@pytest.mark.parametrize(
    ("cursor", "refusal"),
    [
        ("t:17x0000000", None),  # damaged by hand: unreadable before any request
        ("t:99999999999", "Too recent start_time. Use a start_time older than 1 minute"),
    ],
)
def test_a_kept_start_time_that_stops_every_poll_is_rebuilt_from_the_lookback(
    api: Any, sleeps: Sleeps, cursor: str, refusal: str | None
) -> None:
    if refusal is not None:  # Zendesk refuses a start time in the future (or its last minute)
        api.get(
            f"{API}/incremental/tickets/cursor.json",
            status=422,
            json={"error": "InvalidValue", "description": refusal},
        )
    api.get(
        f"{API}/incremental/tickets/cursor.json",
        json={"tickets": [ticket(11)], "after_cursor": "NEW", "end_of_stream": True},
    )
    page = helpdesk(sleeps).changed_tickets(cursor, SINCE)
    exports = [query(c) for c in api.calls if "incremental" in c.request.url]
    assert exports[-1]["start_time"] == [str(int(SINCE.timestamp()))]
    assert (page.ticket_ids, page.cursor) == (("11",), "c:NEW")


def deadline_export(api: Any, deadlines: dict[int, str | None]) -> None:
    """One search-export page of open cancellations with these deadline fields."""
    field = FIELD_IDS[FieldKey.DEADLINE]
    results = [
        {**ticket(ticket_id, fields={field: day}), "result_type": "ticket"}
        for ticket_id, day in deadlines.items()
    ]
    api.get(
        f"{API}/search/export.json",
        json={
            "results": results,
            "facets": None,
            "meta": {"has_more": False, "after_cursor": None, "before_cursor": None},
            "links": {"next": None, "prev": None},
        },
    )


def test_the_sweep_finds_open_cancellations_whose_deadline_day_is_over(
    api: Any, sleeps: Sleeps
) -> None:
    deadline_export(api, {21: "2026-12-08", 22: "2026-12-09", 23: None})
    # 09:00 in São Paulo on the 9th: the 8th is over, the 9th is not.
    due = helpdesk(sleeps).due_tickets(datetime(2026, 12, 9, 12, 0, tzinfo=UTC))
    search = next(c for c in api.calls if "search/export" in c.request.url)
    assert query(search) == {
        "query": ["tags:cancelamento status<solved"],
        "filter[type]": ["ticket"],
        "page[size]": ["1000"],
    }
    assert due == ("21",)


def test_an_idle_sweep_asks_only_for_tickets_whose_deadline_day_has_come(
    api: Any, sleeps: Sleeps
) -> None:
    deadline_export(api, {21: "2026-12-08", 22: "2026-12-09"})
    desk = helpdesk(sleeps)
    now = datetime(2026, 12, 9, 12, 0, tzinfo=UTC)
    desk.due_tickets(now)  # the first sweep lists every open cancellation
    sleeps.now += 300
    assert desk.due_tickets(now) == ("21",)
    narrowed = [c for c in api.calls if "search/export" in c.request.url][-1]
    field = FIELD_IDS[FieldKey.DEADLINE]
    assert query(narrowed)["query"] == [
        f"tags:cancelamento status<solved custom_field_{field}<2026-12-09"
    ]
    sleeps.now += 3600  # once an hour, every open one again (the metric, 9999-12-31)
    desk.due_tickets(now)
    again = [c for c in api.calls if "search/export" in c.request.url][-1]
    assert query(again)["query"] == ["tags:cancelamento status<solved"]


def test_a_deadline_typed_past_the_calendars_end_is_that_tickets_problem_not_the_sweeps(
    api: Any, sleeps: Sleeps
) -> None:
    deadline_export(api, {21: "9999-12-31", 22: "2026-12-08"})
    desk = helpdesk(sleeps)
    due = desk.due_tickets(datetime(2026, 12, 9, 12, 0, tzinfo=UTC))
    assert due == ("21", "22")  # 21 is read: its own notes say when its deadline is
    assert desk.waiting is not None and desk.waiting[0] == 1


# --- reading --------------------------------------------------------------------------------


def test_a_ticket_is_read_with_its_comments_authors_and_requester(api: Any, sleeps: Sleeps) -> None:
    situation = FIELD_IDS[FieldKey.SITUATION]
    api.get(
        f"{API}/tickets/31.json",
        json={
            "ticket": ticket(
                31,
                status_name="pending",
                custom_status_id=WAITING_ID,
                fields={
                    situation: "cancelamento_situacao_titular",
                    FIELD_IDS[FieldKey.ATTEMPTS]: 2,
                },
            )
        },
    )
    api.get(
        f"{API}/tickets/31/comments.json",
        json={
            "comments": [
                comment(1, CUSTOMER_ID, "Quero cancelar."),
                comment(2, WORKER_ID, "nota [cancelamento-worker] {}", public=False),
                comment(3, AGENT_ID, "#tentativa", public=False),
            ],
            "users": [user(CUSTOMER_ID), user(WORKER_ID, "admin"), user(AGENT_ID, "agent")],
            "meta": {"has_more": False, "after_cursor": None, "before_cursor": None},
            "links": {"next": None, "prev": None},
        },
    )
    api.get(
        f"{API}/users/{CUSTOMER_ID}.json",
        json={"user": user(CUSTOMER_ID), "organizations": []},
    )
    snapshot = helpdesk(sleeps).read_ticket("31")
    comments_call = next(c for c in api.calls if "/comments.json" in c.request.url)
    assert query(comments_call) == {"include": ["users"], "page[size]": ["100"]}
    requester_call = next(c for c in api.calls if f"/users/{CUSTOMER_ID}.json" in c.request.url)
    assert query(requester_call) == {"include": ["organizations"]}
    assert [c.role for c in snapshot.comments] == [
        AuthorRole.END_USER,
        AuthorRole.WORKER,
        AuthorRole.AGENT,
    ]
    assert snapshot.status is StatusCategory.PENDING
    assert snapshot.custom_status == "Aguardando retorno do cliente"
    assert snapshot.fields["situation"] == "titular"
    assert snapshot.fields["attempts"] == "2"
    assert snapshot.version == "2026-12-07T12:00:00Z"
    assert snapshot.requester.key == f"pessoa{CUSTOMER_ID}@cliente.com.br"


def test_a_ticket_deleted_since_it_was_listed_is_gone_not_failed(api: Any, sleeps: Sleeps) -> None:
    api.get(f"{API}/tickets/41.json", status=404, json={"error": "RecordNotFound"})
    with pytest.raises(TicketGone):
        helpdesk(sleeps).read_ticket("41")


def test_a_ticket_found_by_the_poll_is_not_fetched_again(api: Any, sleeps: Sleeps) -> None:
    api.get(
        f"{API}/incremental/tickets/cursor.json",
        json={"tickets": [ticket(41)], "after_cursor": "X", "end_of_stream": True},
    )
    api.get(
        f"{API}/tickets/41/comments.json",
        json={"comments": [comment(1, CUSTOMER_ID, "Quero cancelar.")], "users": [user(501)]},
    )
    api.get(f"{API}/users/{CUSTOMER_ID}.json", json={"user": user(CUSTOMER_ID)})
    desk = helpdesk(sleeps)
    page = desk.changed_tickets(None, SINCE)
    desk.read_ticket("41", page.headers["41"])
    assert not [c for c in api.calls if c.request.url.startswith(f"{API}/tickets/41.json")]


def test_a_read_without_its_pages_header_fetches_the_ticket_whatever_was_polled_before(
    api: Any, sleeps: Sleeps
) -> None:
    """No hidden stash: the page's ticket travels with the page, so a read that is not handed
    it (explain, a webhook, a retry) costs the same whether a poll ran before or not."""
    api.get(
        f"{API}/incremental/tickets/cursor.json",
        json={"tickets": [ticket(41)], "after_cursor": "X", "end_of_stream": True},
    )
    api.get(f"{API}/tickets/41.json", json={"ticket": ticket(41)})
    api.get(
        f"{API}/tickets/41/comments.json",
        json={"comments": [comment(1, CUSTOMER_ID, "Quero cancelar.")], "users": [user(501)]},
    )
    api.get(f"{API}/users/{CUSTOMER_ID}.json", json={"user": user(CUSTOMER_ID)})
    desk = helpdesk(sleeps)
    desk.changed_tickets(None, SINCE)
    desk.read_ticket("41")
    assert len([c for c in api.calls if c.request.url.startswith(f"{API}/tickets/41.json")]) == 1


def test_the_ficha_joins_the_requesters_accounts_and_the_ones_registered_to_them(
    api: Any, sleeps: Sleeps
) -> None:
    email = f"pessoa{CUSTOMER_ID}@cliente.com.br"
    own = {"id": 801, "name": "Cliente PF", "organization_fields": {"documento": "52998224725"}}
    company = {
        "id": 802,
        "name": "Empresa Ltda",
        "organization_fields": {"documento": "11222333000181", "email_cadastro": email.upper()},
        "result_type": "organization",
    }
    api.get(f"{API}/users/{CUSTOMER_ID}.json", json={"user": user(501), "organizations": [own]})
    api.get(
        f"{API}/search.json",
        json={"results": [company], "facets": None, "next_page": None, "count": 1},
    )
    api.get(
        f"{API}/organizations/801/users.json",
        json={"users": [user(CUSTOMER_ID, titular=True)], "meta": {"has_more": False}},
    )
    api.get(
        f"{API}/organizations/802/users.json",
        json={
            "users": [user(601, socio_administrador=True), user(602)],
            "meta": {"has_more": False},
        },
    )
    for user_id, orgs in ((CUSTOMER_ID, [801]), (601, [802, 803])):
        api.get(
            f"{API}/users/{user_id}/organization_memberships.json",
            json={
                "organization_memberships": [
                    {"id": o, "user_id": user_id, "organization_id": o, "default": True}
                    for o in orgs
                ],
                "meta": {"has_more": False},
            },
        )
    desk = helpdesk(sleeps)
    api.get(f"{API}/tickets/51.json", json={"ticket": ticket(51)})
    api.get(f"{API}/tickets/51/comments.json", json={"comments": [], "users": []})
    ficha = desk.read_ficha(desk.read_ticket("51"))
    search = next(c for c in api.calls if "/search.json" in c.request.url)
    assert query(search) == {"query": [f'type:organization email_cadastro:"{email}"']}
    assert [a.id for a in ficha.accounts] == ["801", "802"]
    pf, pj = ficha.accounts
    assert pf.members[0].holder and pf.document == "52998224725"
    assert pj.registered_email == email
    partner, other = pj.members
    assert partner.managing_partner and partner.account_count == 2  # ambiguous (CONTRACT 15)
    assert not other.managing_partner
    memberships = [c for c in api.calls if "organization_memberships" in c.request.url]
    assert len(memberships) == 1  # only marked people, and not the requester (already known)


def test_related_tickets_are_one_search_per_person(api: Any, sleeps: Sleeps) -> None:
    api.get(
        f"{API}/search.json",
        json={
            "results": [{**ticket(61), "result_type": "ticket"}],
            "next_page": None,
            "count": 1,
        },
    )
    found = helpdesk(sleeps).related_tickets(("B@x.com.br", "a@x.com.br"), SINCE)
    queries = [query(c)["query"][0] for c in api.calls if "/search.json" in c.request.url]
    assert queries == [
        'type:ticket requester:"a@x.com.br" created>=2026-11-07',
        'type:ticket requester:"b@x.com.br" created>=2026-11-07',
    ]
    assert [t.id for t in found] == ["61"]
    assert found[0].first_message == "Quero cancelar meu contrato."


# --- writing --------------------------------------------------------------------------------


def snapshot_for_write(api: Any, sleeps: Sleeps, **ticket_args: Any) -> Any:
    api.get(f"{API}/tickets/71.json", json={"ticket": ticket(71, **ticket_args)})
    api.get(f"{API}/tickets/71/comments.json", json={"comments": [], "users": []})
    api.get(f"{API}/users/{CUSTOMER_ID}.json", json={"user": user(CUSTOMER_ID)})
    desk = helpdesk(sleeps)
    return desk, desk.read_ticket("71")


def updated(ticket_id: int, stamp: str, tags: list[str]) -> dict[str, Any]:
    return {
        "ticket": {**ticket(ticket_id, updated_at=stamp), "tags": tags},
        "audit": {"id": 1, "ticket_id": ticket_id, "author_id": WORKER_ID, "events": []},
    }


def test_a_step_is_one_guarded_update_with_everything_it_changes(api: Any, sleeps: Sleeps) -> None:
    desk, read = snapshot_for_write(api, sleeps, tags=("cancelamento", "vip"))
    api.put(f"{API}/tickets/71.json", json=updated(71, "2026-12-07T12:05:00Z", []))
    written = desk.apply_step(
        read,
        step(
            fields={FieldKey.ATTEMPTS: "1", FieldKey.DEADLINE: None},
            add_tags=frozenset({"cancelamento-revisar"}),
            remove_tags=frozenset({"vip-nao-existe"}),
        ),
    )
    puts = [c for c in api.calls if c.request.method == "PUT"]
    assert len(puts) == 1
    assert sent_body(puts[0]) == {
        "ticket": {
            "comment": {"body": "Tentativa 1 de 3.\n\n[cancelamento-worker] {}", "public": False},
            "custom_status_id": IN_PROGRESS_ID,
            "custom_fields": [
                {"id": FIELD_IDS[FieldKey.ATTEMPTS], "value": 1},
                {"id": FIELD_IDS[FieldKey.DEADLINE], "value": None},
            ],
            "tags": ["cancelamento", "cancelamento-revisar", "vip"],
            "safe_update": True,
            "updated_stamp": "2026-12-07T12:00:00Z",
        }
    }
    assert written.version == "2026-12-07T12:05:00Z"


def test_the_next_step_starts_from_the_ticket_the_previous_update_answered(
    api: Any, sleeps: Sleeps
) -> None:
    """Zendesk answers an update with the ticket: the dropdown's option tag it added, the
    status and the fields are where the next step of the same decision starts from."""
    desk, read = snapshot_for_write(api, sleeps, tags=("cancelamento", "vip"))
    situation, attempts = FIELD_IDS[FieldKey.SITUATION], FIELD_IDS[FieldKey.ATTEMPTS]
    first = ticket(
        71,
        tags=("cancelamento", "vip", "cancelamento_situacao_titular"),
        status_name="open",
        custom_status_id=IN_PROGRESS_ID,
        fields={situation: "cancelamento_situacao_titular"},
        updated_at="2026-12-07T12:05:00Z",
    )
    api.put(f"{API}/tickets/71.json", json={"ticket": first, "audit": {"events": []}})
    api.put(f"{API}/tickets/71.json", json=updated(71, "2026-12-07T12:05:01Z", []))
    after = desk.apply_step(read, step(key="1:inicio", fields={FieldKey.SITUATION: "titular"}))
    assert after.tags == {"cancelamento", "vip", "cancelamento_situacao_titular"}
    assert after.fields["situation"] == "titular"
    assert (after.status, after.custom_status) == (StatusCategory.OPEN, "Em atendimento")
    assert after.version == "2026-12-07T12:05:00Z"
    desk.apply_step(
        after, step(fields={FieldKey.ATTEMPTS: "1"}, add_tags=frozenset({"cancelamento-revisar"}))
    )
    second = sent_body([c for c in api.calls if c.request.method == "PUT"][1])["ticket"]
    assert second["updated_stamp"] == "2026-12-07T12:05:00Z"
    assert second["tags"] == [
        "cancelamento",
        "cancelamento-revisar",
        "cancelamento_situacao_titular",
        "vip",
    ], "the situation's tag stays, so Zendesk keeps the field"
    assert second["custom_fields"] == [{"id": attempts, "value": 1}]


def test_a_step_that_changes_a_dropdown_sends_its_new_options_tag_and_drops_the_old(
    api: Any, sleeps: Sleeps
) -> None:
    situation = FIELD_IDS[FieldKey.SITUATION]
    desk, read = snapshot_for_write(
        api,
        sleeps,
        tags=("cancelamento", "cancelamento_situacao_socio"),
        fields={situation: "cancelamento_situacao_socio"},
    )
    api.put(f"{API}/tickets/71.json", json=updated(71, "2026-12-07T12:05:00Z", []))
    desk.apply_step(read, step(fields={FieldKey.SITUATION: "titular"}))
    (put,) = (sent_body(c)["ticket"] for c in api.calls if c.request.method == "PUT")
    assert put["custom_fields"] == [{"id": situation, "value": "cancelamento_situacao_titular"}]
    assert put["tags"] == ["cancelamento", "cancelamento_situacao_titular"]


def test_a_step_that_emails_is_the_public_comment_then_the_note(api: Any, sleeps: Sleeps) -> None:
    desk, read = snapshot_for_write(api, sleeps)
    api.put(
        f"{API}/tickets/71.json",
        json=updated(71, "2026-12-07T12:05:00Z", ["cancelamento", "cancelamento-enviado-5"]),
    )
    api.put(f"{API}/tickets/71.json", json=updated(71, "2026-12-07T12:05:01Z", ["cancelamento"]))
    email = OutgoingEmail("texto", "<p>texto</p>", ("socia@cliente.com.br",))
    desk.apply_step(
        read,
        step(key="5:email-contato", email=email, status=TargetStatus.WAITING_CUSTOMER, fields={}),
    )
    first, second = (sent_body(c)["ticket"] for c in api.calls if c.request.method == "PUT")
    assert first == {
        "comment": {"html_body": "<p>texto</p>", "public": True},
        "tags": ["cancelamento", "cancelamento-enviado-5"],
        "safe_update": True,
        "updated_stamp": "2026-12-07T12:00:00Z",
        "email_ccs": [{"user_email": "socia@cliente.com.br", "action": "put"}],
    }
    assert second["comment"]["public"] is False
    assert second["custom_status_id"] == WAITING_ID
    assert second["tags"] == ["cancelamento"]  # the sent tag goes with the note
    assert second["updated_stamp"] == "2026-12-07T12:05:00Z"  # the stamp our e-mail left


def test_after_a_crash_between_the_two_updates_only_the_note_is_written(
    api: Any, sleeps: Sleeps
) -> None:
    desk, read = snapshot_for_write(api, sleeps, tags=("cancelamento", "cancelamento-enviado-5"))
    api.put(f"{API}/tickets/71.json", json=updated(71, "2026-12-07T12:06:00Z", ["cancelamento"]))
    email = OutgoingEmail("texto", "<p>texto</p>")
    desk.apply_step(read, step(key="5:email-contato", email=email))
    puts = [sent_body(c)["ticket"] for c in api.calls if c.request.method == "PUT"]
    assert len(puts) == 1 and puts[0]["comment"]["public"] is False
    assert puts[0]["tags"] == ["cancelamento"]


def test_a_stale_stamp_is_a_conflict_not_an_overwrite(api: Any, sleeps: Sleeps) -> None:
    desk, read = snapshot_for_write(api, sleeps)
    api.put(f"{API}/tickets/71.json", status=409, json={"error": "UpdateConflict"})
    with pytest.raises(StaleTicket):
        desk.apply_step(read, step())
    assert len([c for c in api.calls if c.request.method == "PUT"]) == 1


def test_a_database_conflict_is_also_reread_and_redecided(api: Any, sleeps: Sleeps) -> None:
    desk, read = snapshot_for_write(api, sleeps)
    api.put(
        f"{API}/tickets/71.json",
        status=409,
        json={"error": "DatabaseConflict", "description": "Database collision"},
    )
    with pytest.raises(StaleTicket, match="DatabaseConflict"):
        desk.apply_step(read, step())


def test_a_validation_error_says_what_zendesk_refused(api: Any, sleeps: Sleeps) -> None:
    desk, read = snapshot_for_write(api, sleeps)
    api.put(
        f"{API}/tickets/71.json",
        status=422,
        json={
            "error": "RecordInvalid",
            "description": "Record validation errors",
            "details": {"status": [{"description": "Status: closed prevents ticket update"}]},
        },
    )
    with pytest.raises(Invalid, match="closed prevents ticket update"):
        desk.apply_step(read, step())


# --- rate limits, faults, the base URL and secrets --------------------------------------------


def test_a_429_waits_for_retry_after_then_retries(api: Any, sleeps: Sleeps) -> None:
    api.get(f"{API}/tickets/81.json", status=429, headers={"Retry-After": "7"}, json={})
    api.get(f"{API}/tickets/81.json", json={"ticket": ticket(81)})
    client = helpdesk(sleeps).client
    assert client.get("/api/v2/tickets/81.json")["ticket"]["id"] == 81
    assert 7.0 in sleeps
    assert client.stats.throttled == 1


def test_a_429_asking_too_long_ends_the_poll_instead_of_sleeping(api: Any, sleeps: Sleeps) -> None:
    api.get(f"{API}/tickets/81.json", status=429, headers={"Retry-After": "3600"}, json={})
    with pytest.raises(RateLimited, match="3600 s"):
        helpdesk(sleeps).client.get("/api/v2/tickets/81.json")
    assert sum(sleeps) < 60


def test_5xx_is_retried_with_bounded_backoff_then_reported(api: Any, sleeps: Sleeps) -> None:
    api.get(f"{API}/tickets/81.json", status=503, json={})
    with pytest.raises(Unreachable, match="503"):
        helpdesk(sleeps).client.get("/api/v2/tickets/81.json")
    assert len([c for c in api.calls if "/tickets/81" in c.request.url]) == 4
    assert sleeps == [1.0, 2.0, 4.0]


def test_an_unguarded_write_is_never_resent_after_a_server_error(api: Any, sleeps: Sleeps) -> None:
    api.post(f"{API}/macros.json", status=500, json={})
    with pytest.raises(Unreachable):
        helpdesk(sleeps).client.post("/api/v2/macros.json", {"macro": {}})
    assert len([c for c in api.calls if c.request.method == "POST"]) == 1


def test_a_lost_response_to_a_guarded_write_is_resent_and_meets_its_own_write(
    api: Any, sleeps: Sleeps
) -> None:
    desk, read = snapshot_for_write(api, sleeps)
    api.put(f"{API}/tickets/71.json", body=requests.ConnectionError("Connection reset by peer"))
    api.put(f"{API}/tickets/71.json", status=409, json={"error": "UpdateConflict"})
    with pytest.raises(StaleTicket):  # the worker re-reads: the note is there, nothing repeats
        desk.apply_step(read, step())
    assert len([c for c in api.calls if c.request.method == "PUT"]) == 2


def test_zendesk_url_sends_every_request_there_and_refuses_other_hosts(sleeps: Sleeps) -> None:
    credentials = Credentials.from_env(
        {"ZENDESK_URL": "http://127.0.0.1:8765/", "ZENDESK_OAUTH_TOKEN": "oauth-secret"}
    )
    assert credentials.base_url == "http://127.0.0.1:8765" and credentials.is_loopback
    client = ZendeskClient(credentials, Config().zendesk, sleep=sleeps, clock=sleeps.clock)
    with responses.RequestsMock() as mock:
        mock.get(
            "http://127.0.0.1:8765/api/v2/organizations/1/users.json",
            json={
                "users": [],
                "meta": {"has_more": True},
                "links": {"next": "https://acme.zendesk.com/api/v2/organizations/1/users.json"},
            },
        )
        with pytest.raises(ZendeskError, match=re.escape("outside http://127.0.0.1:8765")):
            list(client.pages("/api/v2/organizations/1/users.json"))
        assert mock.calls[0].request.headers["Authorization"] == "Bearer oauth-secret"


def test_secrets_never_appear_in_errors_or_reprs(api: Any, sleeps: Sleeps) -> None:
    api.get(f"{API}/tickets/81.json", status=401, json={"error": "Couldn't authenticate you"})
    desk = helpdesk(sleeps)
    with pytest.raises(ZendeskError) as failure:
        desk.client.get("/api/v2/tickets/81.json")
    assert "s3cr3t-token" not in str(failure.value)
    assert "s3cr3t-token" not in repr(Credentials(BASE, "a@b.c", "s3cr3t-token", None))
    proxied = Credentials.from_env(
        {"ZENDESK_URL": "https://ops:pr0xy-pw@zd", "ZENDESK_OAUTH_TOKEN": "x"}
    )
    assert "pr0xy-pw" not in repr(proxied)
    assert api.calls[-1].request.headers["Authorization"].startswith("Basic ")


@pytest.mark.parametrize(
    ("env", "problem"),
    [
        ({}, "ZENDESK_SUBDOMAIN"),
        ({"ZENDESK_SUBDOMAIN": "acme"}, "ZENDESK_API_TOKEN"),
        ({"ZENDESK_URL": "acme.zendesk.com", "ZENDESK_OAUTH_TOKEN": "x"}, "https://host"),
    ],
)
def test_missing_credentials_say_what_to_set(env: dict[str, str], problem: str) -> None:
    with pytest.raises(CredentialsMissing, match=problem):
        Credentials.from_env(env)


def test_an_email_sent_without_its_note_is_a_fact_of_the_read_not_a_decision_of_the_write(
    api: Any, sleeps: Sleeps
) -> None:
    """The sent tag left by an e-mail whose note never followed is on the snapshot for the
    engine (`core/unnoted.py` decides what it means); the write then sends only what the step
    says: no review tag of its own, and the sent tag goes with the note."""
    desk, read = snapshot_for_write(api, sleeps, tags=("cancelamento", "cancelamento-enviado-5"))
    assert read.unnoted_email == "5"
    api.put(f"{API}/tickets/71.json", json=updated(71, "2026-12-07T12:06:00Z", ["cancelamento"]))
    desk.apply_step(read, step(key="5:manual"))  # no e-mail in the step decided now
    (body,) = (sent_body(c)["ticket"] for c in api.calls if c.request.method == "PUT")
    assert body["tags"] == ["cancelamento"]


def test_the_proxy_is_decided_once_at_start_not_looked_up_on_every_request(
    monkeypatch: pytest.MonkeyPatch, sleeps: Sleeps
) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.internal:3128")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    client = ZendeskClient(Credentials(BASE, "a@b.c", "t", None), Config().zendesk, sleep=sleeps)
    monkeypatch.delenv("HTTPS_PROXY")  # a change after start is not looked up again
    settings = client.session.merge_environment_settings(BASE, {}, None, None, None)
    assert client.session.trust_env is False
    assert settings["proxies"].get("https") == "http://proxy.internal:3128"


def test_a_host_in_no_proxy_goes_direct(monkeypatch: pytest.MonkeyPatch, sleeps: Sleeps) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.internal:3128")
    monkeypatch.setenv("NO_PROXY", urlsplit(BASE).hostname or "")
    client = ZendeskClient(Credentials(BASE, "a@b.c", "t", None), Config().zendesk, sleep=sleeps)
    assert "https" not in client.session.proxies
