"""The Zendesk fake keeps the real service's rules, seen through HTTP as the adapter sees it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests
import responses

from tests.fakes.clock import Clock
from worker.sandbox import FakeZendesk, RateLimits
from worker.sandbox.responses_binding import install

API = "https://example.zendesk.com/api/v2"
T0 = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> Clock:
    return Clock(T0)


@pytest.fixture
def fake(clock: Clock) -> FakeZendesk:
    return FakeZendesk(clock=clock)


@pytest.fixture
def http(fake: FakeZendesk) -> Iterator[requests.Session]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        install(rsps, fake)
        session = requests.Session()
        session.auth = ("worker@empresa.example/token", "secret")
        yield session


class World:
    """A cancellation request from the holder of a one-person account."""

    def __init__(self, fake: FakeZendesk) -> None:
        self.account = fake.add_organization(
            "Padaria Pão Quente", {"documento": "11.222.333/0001-81", "email_cadastro": "x@p.com"}
        )
        self.customer = fake.add_user(
            "Maria Souza",
            "maria@padaria.example",
            organization_ids=[self.account],
            user_fields={"titular": True},
        )
        self.em_atendimento = fake.add_custom_status("Em atendimento", "open")
        self.aguardando = fake.add_custom_status("Aguardando retorno do cliente", "pending")
        self.prazo = fake.add_ticket_field("Prazo do retorno", "date")
        self.ticket = fake.add_ticket(
            self.customer, "Cancelamento", "Quero cancelar meu contrato.", tags=["cancelamento"]
        )


@pytest.fixture
def world(fake: FakeZendesk) -> World:
    return World(fake)


def get(http: requests.Session, path: str, **params: Any) -> dict[str, Any]:
    response = http.get(f"{API}/{path}", params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def put_ticket(http: requests.Session, ticket_id: int, **changes: Any) -> requests.Response:
    return http.put(f"{API}/tickets/{ticket_id}.json", json={"ticket": changes})


# --- identity and account configuration -------------------------------------------------------


def test_a_request_without_credentials_is_refused(
    fake: FakeZendesk, http: requests.Session
) -> None:
    response = requests.get(f"{API}/users/me.json")
    assert response.status_code == 401
    assert response.json() == {"error": "Couldn't authenticate you"}
    me = get(http, "users/me.json")["user"]
    assert (me["id"], me["role"], me["name"]) == (fake.worker_id, "admin", "Worker de cancelamento")


def test_custom_statuses_are_listed_and_created(http: requests.Session) -> None:
    defaults = get(http, "custom_statuses.json")["custom_statuses"]
    assert [(s["agent_label"], s["status_category"], s["default"]) for s in defaults] == [
        ("New", "new", True),
        ("Open", "open", True),
        ("Pending", "pending", True),
        ("On-hold", "hold", True),
        ("Solved", "solved", True),
    ]
    body = {"custom_status": {"agent_label": "Em atendimento", "status_category": "open"}}
    created = http.post(f"{API}/custom_statuses.json", json=body)
    assert created.status_code == 201
    status = created.json()["custom_status"]
    assert status["active"] is True
    assert status["default"] is False
    assert http.post(f"{API}/custom_statuses.json", json=body).status_code == 422


def test_ticket_fields_and_the_rest_of_the_setup_are_listed_and_created(
    http: requests.Session,
) -> None:
    field = {
        "type": "tagger",
        "title": "Motivo da insatisfação",
        "custom_field_options": [{"name": "Preço", "value": "motivo_preco"}],
    }
    created = http.post(f"{API}/ticket_fields.json", json={"ticket_field": field})
    assert created.status_code == 201
    fields = get(http, "ticket_fields.json")["ticket_fields"]
    motivo = next(f for f in fields if f["title"] == "Motivo da insatisfação")
    assert motivo["custom_field_options"][0]["value"] == "motivo_preco"
    assert motivo["active"] is True

    user_field = {"user_field": {"key": "titular", "type": "checkbox", "title": "Titular"}}
    assert http.post(f"{API}/user_fields.json", json=user_field).status_code == 201
    assert http.post(f"{API}/user_fields.json", json=user_field).status_code == 422  # key taken
    org_field = {"organization_field": {"key": "documento", "type": "text", "title": "Documento"}}
    assert http.post(f"{API}/organization_fields.json", json=org_field).status_code == 201
    macro = {"macro": {"title": "Tentativa", "actions": [{"field": "comment_value", "value": "x"}]}}
    assert http.post(f"{API}/macros.json", json=macro).status_code == 201
    view = {
        "view": {
            "title": "Cancelamentos",
            "all": [{"field": "status", "operator": "less_than", "value": "solved"}],
        }
    }
    assert http.post(f"{API}/views.json", json=view).status_code == 201

    assert [f["key"] for f in get(http, "user_fields.json")["user_fields"]] == ["titular"]
    assert [f["key"] for f in get(http, "organization_fields.json")["organization_fields"]] == [
        "documento"
    ]
    assert [m["title"] for m in get(http, "macros.json")["macros"]] == ["Tentativa"]
    assert get(http, "views.json")["views"][0]["conditions"]["all"][0]["field"] == "status"


def test_the_notification_trigger_is_active(http: requests.Session) -> None:
    (trigger,) = get(http, "triggers/active.json")["triggers"]
    assert trigger["title"] == "Notify requester and CCs of comment update"
    assert {"field": "comment_is_public", "operator": "is", "value": "true"} in trigger[
        "conditions"
    ]["all"]
    assert trigger["actions"][0]["value"][0] == "requester_and_ccs"


# --- reading ------------------------------------------------------------------------------------


def test_a_ticket_reads_as_zendesk_shows_it(
    fake: FakeZendesk, world: World, http: requests.Session
) -> None:
    ticket = get(http, f"tickets/{world.ticket}.json")["ticket"]
    assert ticket["status"] == "new"
    assert ticket["custom_status_id"] == fake.status_id("New")
    assert ticket["tags"] == ["cancelamento"]
    assert ticket["description"] == "Quero cancelar meu contrato."
    assert ticket["requester_id"] == world.customer
    assert ticket["organization_id"] == world.account
    assert ticket["via"]["channel"] == "email"
    assert {"id": world.prazo, "value": None} in ticket["custom_fields"]
    assert ticket["fields"] == ticket["custom_fields"]
    assert ticket["updated_at"] == "2026-12-07T12:00:00Z"

    missing = http.get(f"{API}/tickets/999.json")
    assert missing.status_code == 404
    assert missing.json() == {"error": "RecordNotFound", "description": "Not found"}


def test_comments_page_by_cursor_and_side_load_users_only_when_asked(
    fake: FakeZendesk, world: World, http: requests.Session
) -> None:
    for n in range(4):
        fake.agent_comments(world.ticket, f"nota {n}")
    plain = get(http, f"tickets/{world.ticket}/comments.json", **{"page[size]": 2})
    assert "users" not in plain
    first = get(http, f"tickets/{world.ticket}/comments.json", include="users", **{"page[size]": 2})
    assert [c["body"] for c in first["comments"]] == ["Quero cancelar meu contrato.", "nota 0"]
    assert first["meta"]["has_more"] is True
    assert {u["id"]: u["role"] for u in first["users"]} == {
        world.customer: "end-user",
        fake.agent_id: "agent",
    }
    bodies = []
    url: str | None = first["links"]["next"]
    while url:
        page = http.get(url).json()
        bodies += [c["body"] for c in page["comments"]]
        assert "users" in page  # the next link keeps include=users
        url = page["links"]["next"]
    assert bodies == ["nota 1", "nota 2", "nota 3"]
    assert page["meta"]["has_more"] is False


def test_a_user_side_loads_organizations_only_when_asked(
    fake: FakeZendesk, world: World, http: requests.Session
) -> None:
    fake.add_user_field("titular")
    fake.add_user_field("socio_administrador")
    bare = get(http, f"users/{world.customer}.json")
    assert "organizations" not in bare
    assert bare["user"]["user_fields"] == {"titular": True, "socio_administrador": False}
    assert bare["user"]["organization_id"] == world.account
    full = get(http, f"users/{world.customer}.json", include="organizations")
    (organization,) = full["organizations"]
    assert organization["organization_fields"]["email_cadastro"] == "x@p.com"


def test_an_accounts_people_and_a_persons_memberships(
    fake: FakeZendesk, world: World, http: requests.Session
) -> None:
    other = fake.add_organization("Outra Ltda")
    partner = fake.add_user(
        "João", "joao@example.com", organization_ids=[world.account, other], user_fields={}
    )
    users = get(http, f"organizations/{world.account}/users.json", **{"page[size]": 100})
    assert [u["id"] for u in users["users"]] == [world.customer, partner]
    assert users["meta"]["has_more"] is False
    memberships = get(http, f"users/{partner}/organization_memberships.json")
    assert [
        (m["organization_id"], m["default"]) for m in memberships["organization_memberships"]
    ] == [(world.account, True), (other, False)]


# --- writing -------------------------------------------------------------------------------------


def test_an_update_applies_everything_and_reports_its_audit(
    fake: FakeZendesk, world: World, http: requests.Session, clock: Clock
) -> None:
    clock.advance(minutes=5)
    stamp = get(http, f"tickets/{world.ticket}.json")["ticket"]["updated_at"]
    response = put_ticket(
        http,
        world.ticket,
        comment={"body": "nota", "public": False},
        custom_status_id=world.em_atendimento,
        custom_fields=[{"id": world.prazo, "value": "2026-12-29"}],
        tags=["cancelamento-revisar"],
        safe_update=True,
        updated_stamp=stamp,
    )
    assert response.status_code == 200, response.text
    ticket, audit = response.json()["ticket"], response.json()["audit"]
    assert ticket["status"] == "open"
    assert ticket["custom_status_id"] == world.em_atendimento
    assert ticket["tags"] == ["cancelamento-revisar"]
    assert {"id": world.prazo, "value": "2026-12-29"} in ticket["custom_fields"]
    assert ticket["updated_at"] == "2026-12-07T12:05:00Z"
    assert audit["ticket_id"] == world.ticket
    assert audit["author_id"] == fake.worker_id
    comment = next(e for e in audit["events"] if e["type"] == "Comment")
    assert (comment["body"], comment["public"], comment["author_id"]) == (
        "nota",
        False,
        fake.worker_id,
    )
    assert fake.outbox == []  # a private note e-mails nobody

    again = put_ticket(http, world.ticket, tags=["x"]).json()["ticket"]
    assert again["updated_at"] == "2026-12-07T12:05:01Z"  # never two versions with one stamp


def test_a_stale_stamp_is_a_conflict_and_changes_nothing(
    fake: FakeZendesk, world: World, http: requests.Session, clock: Clock
) -> None:
    stamp = get(http, f"tickets/{world.ticket}.json")["ticket"]["updated_at"]
    clock.advance(seconds=30)
    fake.agent_comments(world.ticket, "#tentativa")
    before = fake.ticket(world.ticket)
    response = put_ticket(
        http,
        world.ticket,
        comment={"body": "nota", "public": False},
        tags=["cancelamento", "cancelamento-revisar"],
        safe_update=True,
        updated_stamp=stamp,
    )
    assert response.status_code == 409
    assert response.json()["error"] == "UpdateConflict"
    assert fake.ticket(world.ticket) == before
    assert len(fake.comments(world.ticket)) == 2


@pytest.mark.parametrize(
    "changes",
    [
        {"status": "reaberto"},
        {"custom_status_id": 123},
        {"custom_fields": [{"id": 123, "value": "x"}]},
        {"additional_tags": ["x"]},  # documented for update_many only
        {"remove_tags": ["cancelamento"]},
    ],
)
def test_an_invalid_update_is_refused_whole(
    fake: FakeZendesk, world: World, http: requests.Session, changes: dict[str, Any]
) -> None:
    before = fake.ticket(world.ticket)
    response = put_ticket(http, world.ticket, comment={"body": "nota"}, **changes)
    assert response.status_code == 422
    assert response.json()["error"] == "RecordInvalid"
    assert response.json()["details"]["base"][0]["description"]
    assert fake.ticket(world.ticket) == before


def test_a_public_comment_e_mails_the_requester_and_new_ccs(
    fake: FakeZendesk, world: World, http: requests.Session
) -> None:
    response = put_ticket(
        http,
        world.ticket,
        comment={"html_body": "<p>Olá, Maria</p><p>Confirme.</p>", "public": True},
        email_ccs=[{"user_email": "socio@padaria.example", "action": "put"}],
        tags=["cancelamento", "cancelamento-enviado-3"],
    )
    assert response.status_code == 200, response.text
    ticket = response.json()["ticket"]
    (cc_id,) = ticket["email_cc_ids"]
    assert get(http, f"users/{cc_id}.json")["user"]["role"] == "end-user"
    ((ticket_id, to, cc, body),) = fake.outbox
    assert (ticket_id, to, cc) == (
        world.ticket,
        "maria@padaria.example",
        ("socio@padaria.example",),
    )
    assert body == "Olá, Maria\nConfirme."

    too_many = [{"user_email": f"p{n}@example.com", "action": "put"} for n in range(48)]
    assert put_ticket(http, world.ticket, email_ccs=too_many).status_code == 422


def test_a_customer_reply_reopens_a_pending_ticket(
    fake: FakeZendesk, world: World, clock: Clock
) -> None:
    fake.agent_updates(world.ticket, custom_status_id=world.aguardando)
    assert fake.ticket(world.ticket)["status"] == "pending"
    clock.advance(hours=1)
    fake.customer_replies(world.ticket, "Sim, pode cancelar.")
    ticket = fake.ticket(world.ticket)
    assert (ticket["status"], ticket["custom_status_id"]) == ("open", fake.status_id("Open"))
    assert ticket["updated_at"] == "2026-12-07T13:00:00Z"
    last = fake.comments(world.ticket)[-1]
    assert (last["author_id"], last["public"]) == (world.customer, True)

    fake.agent_updates(world.ticket, custom_status_id=world.em_atendimento)
    fake.customer_replies(world.ticket, "Alô?")  # an open ticket keeps its custom status
    assert fake.ticket(world.ticket)["custom_status_id"] == world.em_atendimento


def test_a_reply_to_a_closed_ticket_opens_a_follow_up(fake: FakeZendesk, world: World) -> None:
    fake.agent_updates(world.ticket, status="closed")
    landed = fake.customer_replies(world.ticket, "Mais uma coisa")
    assert landed != world.ticket
    assert fake.ticket(world.ticket)["status"] == "closed"
    assert fake.ticket(landed)["via"]["source"]["rel"] == "follow_up"


def test_a_dropdown_value_is_mirrored_in_the_tags(fake: FakeZendesk, world: World) -> None:
    motivo = fake.add_ticket_field("Motivo da insatisfação", "tagger", ["Preço", "Atendimento"])
    fake.agent_updates(world.ticket, custom_fields=[{"id": motivo, "value": "preco"}])
    assert "preco" in fake.ticket(world.ticket)["tags"]
    fake.agent_updates(world.ticket, custom_fields=[{"id": motivo, "value": "atendimento"}])
    assert "preco" not in fake.ticket(world.ticket)["tags"]
    fake.agent_updates(world.ticket, remove_tags=["atendimento"])
    assert {"id": motivo, "value": None} in fake.ticket(world.ticket)["custom_fields"]


def test_a_whole_tag_list_without_a_dropdowns_tag_clears_the_dropdown(
    fake: FakeZendesk, world: World, http: requests.Session
) -> None:
    motivo = fake.add_ticket_field("Motivo da insatisfação", "tagger", ["Preço", "Atendimento"])
    fake.agent_updates(world.ticket, custom_fields=[{"id": motivo, "value": "preco"}])
    answer = put_ticket(http, world.ticket, tags=["cancelamento", "outra"]).json()["ticket"]
    assert {"id": motivo, "value": None} in answer["custom_fields"]
    assert answer["tags"] == ["cancelamento", "outra"]


@pytest.mark.parametrize(
    "tags", [["cancelamento"], ["cancelamento", "preco", "atendimento"], ["preco"]]
)
def test_tags_and_a_dropdown_that_disagree_in_one_update_are_refused(
    fake: FakeZendesk, world: World, http: requests.Session, tags: list[str]
) -> None:
    motivo = fake.add_ticket_field("Motivo da insatisfação", "tagger", ["Preço", "Atendimento"])
    before = fake.ticket(world.ticket)
    field = [{"id": motivo, "value": "atendimento"}]
    response = put_ticket(http, world.ticket, tags=tags, custom_fields=field)
    assert response.status_code == 422
    assert fake.ticket(world.ticket) == before
    agreeing = put_ticket(http, world.ticket, tags=["atendimento"], custom_fields=field)
    assert agreeing.status_code == 200


# --- polling and search ---------------------------------------------------------------------------


def test_the_incremental_export_leaves_out_the_last_minute_and_resumes_by_cursor(
    fake: FakeZendesk, world: World, http: requests.Session, clock: Clock
) -> None:
    start = int((T0 - timedelta(days=1)).timestamp())
    clock.advance(seconds=30)
    first = get(http, "incremental/tickets/cursor.json", start_time=start)
    assert first["tickets"] == []  # the ticket is 30 s old: inside the last minute
    assert first["end_of_stream"] is True

    clock.advance(seconds=31)
    second = http.get(first["after_url"]).json()
    assert [t["id"] for t in second["tickets"]] == [world.ticket]
    again = get(http, "incremental/tickets/cursor.json", cursor=second["after_cursor"])
    assert again["tickets"] == []

    others = [fake.add_ticket(world.customer, f"t{n}", "texto") for n in range(3)]
    fake.agent_comments(world.ticket, "nota")
    clock.advance(minutes=2)
    seen: list[int] = []
    cursor = second["after_cursor"]
    while True:
        page = get(http, "incremental/tickets/cursor.json", cursor=cursor, per_page=2)
        seen += [t["id"] for t in page["tickets"]]
        cursor = page["after_cursor"]
        if page["end_of_stream"]:
            break
    assert sorted(seen) == sorted([*others, world.ticket])  # each change once, none lost


def test_the_incremental_export_allows_ten_requests_a_minute(
    http: requests.Session, clock: Clock
) -> None:
    start = int((T0 - timedelta(days=1)).timestamp())
    for _ in range(10):
        get(http, "incremental/tickets/cursor.json", start_time=start)
    limited = http.get(f"{API}/incremental/tickets/cursor.json", params={"start_time": start})
    assert limited.status_code == 429
    assert int(limited.headers["Retry-After"]) == 60
    get(http, "users/me.json")  # other endpoints are not limited by it
    clock.advance(seconds=60)
    get(http, "incremental/tickets/cursor.json", start_time=start)


def test_every_response_reports_the_account_limit_and_429_past_it(clock: Clock) -> None:
    fake = FakeZendesk(clock=clock, limits=RateLimits(account_per_minute=3))
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        install(rsps, fake)
        auth = ("a/token", "b")
        remaining = [
            requests.get(f"{API}/users/me.json", auth=auth).headers["X-Rate-Limit-Remaining"]
            for _ in range(3)
        ]
        assert remaining == ["2", "1", "0"]
        limited = requests.get(f"{API}/users/me.json", auth=auth)
        assert limited.status_code == 429
        assert limited.headers["X-Rate-Limit"] == "3"
        assert "Retry-After" in limited.headers


def test_search_ors_repeated_requesters_and_ands_the_rest(
    fake: FakeZendesk, world: World, http: requests.Session, clock: Clock
) -> None:
    partner = fake.add_user("João", "joao@example.com", organization_ids=[world.account])
    stranger = fake.add_user("Ana", "ana@example.com")
    clock.advance(days=3)
    by_partner = fake.add_ticket(partner, "Oi", "Confirmo")
    by_customer = fake.add_ticket(world.customer, "Outra", "Mais uma")
    fake.add_ticket(stranger, "Oi", "Nada a ver")
    query = (
        "type:ticket requester:MARIA@padaria.example requester:joao@example.com created>=2026-12-09"
    )
    found = get(http, "search.json", query=query)
    assert [r["id"] for r in found["results"]] == [by_partner, by_customer]
    assert found["count"] == 2
    assert found["next_page"] is None
    assert {r["result_type"] for r in found["results"]} == {"ticket"}


def test_search_finds_an_account_by_its_registered_e_mail(
    world: World, http: requests.Session
) -> None:
    found = get(http, "search.json", query='type:organization email_cadastro:"X@P.com"')
    assert [(r["id"], r["result_type"]) for r in found["results"]] == [
        (world.account, "organization")
    ]
    assert (
        get(http, "search.json", query='type:organization email_cadastro:"y@p.com"')["results"]
        == []
    )


def test_search_export_pages_open_tagged_tickets(
    fake: FakeZendesk, world: World, http: requests.Session
) -> None:
    tagged = [
        fake.add_ticket(world.customer, f"t{n}", "x", tags=["cancelamento"]) for n in range(3)
    ]
    fake.add_ticket(world.customer, "solved", "x", tags=["cancelamento"], status="solved")
    fake.add_ticket(world.customer, "untagged", "x")
    params = {
        "query": "type:ticket tags:cancelamento status<solved",
        "filter[type]": "ticket",
        "page[size]": 3,
    }
    first = get(http, "search/export.json", **params)
    assert first["meta"]["has_more"] is True
    assert first["facets"] is None
    second = http.get(first["links"]["next"]).json()
    assert second["meta"]["has_more"] is False
    ids = [r["id"] for r in first["results"] + second["results"]]
    assert ids == [world.ticket, *tagged]


def test_search_compares_a_date_fields_range_and_nothing_else(
    fake: FakeZendesk, world: World, http: requests.Session
) -> None:
    text = fake.add_ticket_field("Observação", "text")
    days = {
        day: fake.add_ticket(
            world.customer, day, "x", tags=["cancelamento"], custom_fields={world.prazo: day}
        )
        for day in ("2026-12-08", "2026-12-09", "9999-12-31")
    }
    fake.add_ticket(world.customer, "sem prazo", "x", tags=["cancelamento"])
    fake.add_ticket(world.customer, "texto", "x", custom_fields={text: "2026-01-01"})

    def found(query: str) -> list[int]:
        answer = get(http, "search/export.json", query=query, **{"filter[type]": "ticket"})
        return [r["id"] for r in answer["results"]]

    assert found(f"tags:cancelamento custom_field_{world.prazo}<2026-12-09") == [days["2026-12-08"]]
    assert found(f"custom_field_{world.prazo}>=2026-12-09") == [
        days["2026-12-09"],
        days["9999-12-31"],
    ]
    assert found(f"custom_field_{text}<2027-01-01") == []  # not a date field: no range
    assert found(f"custom_field_{world.prazo}<amanhã") == []  # not a date: nothing


# --- faults ------------------------------------------------------------------------------------


def test_injected_failures_are_not_applied(
    fake: FakeZendesk, world: World, http: requests.Session
) -> None:
    fake.fail_next(503, times=2)
    fake.fail_next(429, retry_after=7)
    assert put_ticket(http, world.ticket, tags=["cancelamento", "a"]).status_code == 503
    assert put_ticket(http, world.ticket, tags=["cancelamento", "a"]).status_code == 503
    limited = put_ticket(http, world.ticket, tags=["cancelamento", "a"])
    assert (limited.status_code, limited.headers["Retry-After"]) == (429, "7")
    assert fake.ticket(world.ticket)["tags"] == ["cancelamento"]
    assert put_ticket(http, world.ticket, tags=["cancelamento", "a"]).status_code == 200
    assert [m for m, _ in fake.requests].count("PUT") == 4


def test_a_lost_response_still_applies_the_write(
    fake: FakeZendesk, world: World, http: requests.Session
) -> None:
    stamp = get(http, f"tickets/{world.ticket}.json")["ticket"]["updated_at"]
    fake.lose_next_write_response()
    update = {
        "comment": {"body": "<p>Olá</p>", "public": True},
        "tags": ["cancelamento", "cancelamento-enviado-5"],
        "safe_update": True,
        "updated_stamp": stamp,
    }
    with pytest.raises(requests.exceptions.ConnectionError):
        put_ticket(http, world.ticket, **update)
    assert "cancelamento-enviado-5" in fake.ticket(world.ticket)["tags"]
    assert len(fake.outbox) == 1
    # the blind retry is refused, so the e-mail goes out once
    assert put_ticket(http, world.ticket, **update).status_code == 409
    assert len(fake.outbox) == 1


# --- Create Ticket (POST /api/v2/tickets.json), as a newcomer tries the sandbox by hand ---------


def test_a_ticket_created_through_the_api_has_its_comment_as_description_and_a_new_requester(
    fake: FakeZendesk, http: requests.Session, clock: Clock
) -> None:
    body = {
        "ticket": {
            "subject": "Cancelamento",
            "comment": {"body": "Quero cancelar o contrato."},
            "requester": {"name": "Rita Alves", "email": "rita@exemplo.com.br"},
            "tags": ["cancelamento"],
        }
    }
    answer = http.post(f"{API}/tickets.json", json=body)
    assert answer.status_code == 201
    ticket = answer.json()["ticket"]
    assert ticket["description"] == "Quero cancelar o contrato."
    assert ticket["tags"] == ["cancelamento"]
    assert ticket["status"] == "new"
    assert ticket["via"]["channel"] == "api"
    requester = http.get(f"{API}/users/{ticket['requester_id']}.json").json()["user"]
    assert (requester["name"], requester["role"]) == ("Rita Alves", "end-user")
    comments = http.get(f"{API}/tickets/{ticket['id']}/comments.json").json()["comments"]
    assert [(c["author_id"], c["public"]) for c in comments] == [(requester["id"], True)]


def test_a_ticket_for_a_known_address_goes_to_that_user(
    fake: FakeZendesk, http: requests.Session
) -> None:
    maria = fake.add_user("Maria Souza", "maria@exemplo.com.br")
    body = {
        "ticket": {"comment": {"body": "Cancelar"}, "requester": {"email": "MARIA@exemplo.com.br"}}
    }
    answer = http.post(f"{API}/tickets.json", json=body)
    assert answer.status_code == 201 and answer.json()["ticket"]["requester_id"] == maria
    by_id = {"ticket": {"comment": {"body": "De novo"}, "requester_id": maria}}
    assert http.post(f"{API}/tickets.json", json=by_id).json()["ticket"]["requester_id"] == maria


@pytest.mark.parametrize(
    "ticket",
    [
        {"subject": "sem comentário", "requester": {"name": "A", "email": "a@exemplo.com.br"}},
        {"comment": {"body": "  "}, "requester": {"name": "A", "email": "a@exemplo.com.br"}},
        {"comment": {"body": "sem solicitante"}},
        {"comment": {"body": "nome?"}, "requester": {"email": "novo@exemplo.com.br"}},
        {"comment": {"body": "quem?"}, "requester_id": 999_999},
        {
            "comment": {"body": "tags"},
            "requester": {"name": "A", "email": "a@exemplo.com.br"},
            "tags": "cancelamento",
        },
    ],
    ids=["no-comment", "blank-comment", "no-requester", "new-without-name", "unknown-id", "tags"],
)
def test_a_ticket_the_fake_cannot_place_is_refused_and_creates_nobody(
    fake: FakeZendesk, http: requests.Session, ticket: dict[str, Any]
) -> None:
    users = len(fake.store.users)
    answer = http.post(f"{API}/tickets.json", json={"ticket": ticket})
    assert answer.status_code == 422
    assert answer.json()["error"] == "RecordInvalid"
    assert len(fake.store.users) == users and not fake.store.tickets
