"""The adapter's contract, against the sandbox over real HTTP, so the two cannot drift apart.

Two halves. First, every request the adapter makes (docs/zendesk.md, with the exact parameters
`tests/contract/zendesk/test_zendesk_adapter.py` pins) is sent to a `SandboxServer`, and each
answer must have the shape of the hand-written payload that contract test serves for it: every
key, at every depth, with the same JSON type. Second, the real adapter runs the same operations
against the sandbox (poll, sweep, read, ficha, related tickets, the note, the e-mail's two
updates, 409, 422, 429, a lost response) and must read what the account holds.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests

from tests.fakes.world import CNPJ, CPF
from tests.fakes.zendesk_wire import comment, status, step, ticket, user
from worker.adapters.zendesk.adapter import ZendeskHelpdesk
from worker.adapters.zendesk.http import Credentials, Invalid, RateLimited, ZendeskClient
from worker.adapters.zendesk.provision import setup
from worker.config import Config
from worker.core.effects import FieldKey, TargetStatus
from worker.core.model import AuthorRole, StatusCategory
from worker.ports import OutgoingEmail, StaleTicket
from worker.sandbox import FakeZendesk, RateLimits
from worker.sandbox.clock import SandboxClock
from worker.sandbox.server import SandboxServer

START = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)  # 09:00 in São Paulo, a Monday
HOLDER = "ana.souza@exemplo.com.br"
COMPANY = "contato@paodourado.exemplo.com.br"
PARTNERS = ("bruno@paodourado.exemplo.com.br", "carla@paodourado.exemplo.com.br")


class Account:
    """A provisioned sandbox with a PF holder and a PJ with two partners, one ticket each."""

    def __init__(self, limits: RateLimits | None = None) -> None:
        self.clock = SandboxClock(START - timedelta(minutes=10))
        self.config = Config()
        self.server = SandboxServer(
            lambda url: FakeZendesk(
                clock=self.clock, subdomain_url=url, limits=limits or RateLimits.off()
            ),
            clock=self.clock,
        ).start()
        self.fake = self.server.fake
        self.url = self.server.url
        setup(self.client(), self.config, dry_run=False, out=io.StringIO())
        fake = self.fake
        pf = fake.add_organization("Ana Souza", {"documento": CPF, "email_cadastro": HOLDER})
        self.holder = fake.add_user(
            "Ana Souza", HOLDER, organization_ids=[pf], user_fields={"titular": True}
        )
        self.pj = fake.add_organization(
            "Padaria Pão Dourado Ltda", {"documento": CNPJ, "email_cadastro": COMPANY}
        )
        self.partners = [
            fake.add_user(
                email.split("@")[0].title(),
                email,
                organization_ids=[self.pj],
                user_fields={"socio_administrador": True},
            )
            for email in PARTNERS
        ]
        self.ticket = fake.add_ticket(
            self.holder, "Cancelamento", "Quero cancelar o meu contrato.", tags=["cancelamento"]
        )
        self.company_ticket = fake.add_ticket(
            fake.add_user("Padaria", COMPANY), "Cancelar contrato", "A empresa quer cancelar."
        )
        fake.agent_comments(self.ticket, "#tentativa")
        self.clock.set(START)
        self.http = requests.Session()
        self.http.headers["Authorization"] = "Bearer sandbox"

    def client(self) -> ZendeskClient:
        """The adapter's client; its pacing and 429 waits move the sandbox clock, not the test."""
        credentials = Credentials(self.url, None, None, "sandbox")
        return ZendeskClient(
            credentials,
            self.config.zendesk,
            clock=lambda: self.clock().timestamp(),
            sleep=self.clock.advance,
            jitter=lambda low, high: high,
        )

    def helpdesk(self) -> ZendeskHelpdesk:
        return ZendeskHelpdesk(
            self.client(), self.config, monotonic=lambda: self.clock().timestamp()
        )

    def get(self, path: str, **params: Any) -> requests.Response:
        return self.http.get(f"{self.url}/api/v2/{path}", params=params, timeout=10)

    def put(self, ticket_id: int, **changes: Any) -> requests.Response:
        body = {"ticket": changes}
        return self.http.put(f"{self.url}/api/v2/tickets/{ticket_id}.json", json=body, timeout=10)

    def close(self) -> None:
        self.server.close()


@pytest.fixture
def account() -> Iterator[Account]:
    account = Account()
    yield account
    account.close()


# --- shapes ---------------------------------------------------------------------------------


def conforms(actual: Any, expected: Any, where: str = "$") -> list[str]:
    """Where `actual` lacks what `expected` has: a key, or a JSON type (null matches any)."""
    if expected is None or actual is None:
        return []
    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            return [f"{where}: {type(actual).__name__}, not an object"]
        problems = [f"{where}.{k}: missing" for k in expected if k not in actual]
        for key in expected:
            if key in actual:
                problems += conforms(actual[key], expected[key], f"{where}.{key}")
        return problems
    if isinstance(expected, list):
        if not isinstance(actual, list):
            return [f"{where}: {type(actual).__name__}, not a list"]
        if expected and actual:
            return conforms(actual[0], expected[0], f"{where}[0]")
        return []
    if type(actual) is not type(expected) and not (
        isinstance(expected, int | float)
        and isinstance(actual, int | float)
        and not isinstance(actual, bool)
        and not isinstance(expected, bool)
    ):
        return [f"{where}: {type(actual).__name__}, expected {type(expected).__name__}"]
    return []


PAGE_META = {"has_more": False, "after_cursor": None, "before_cursor": None}
PAGE_LINKS = {"next": None, "prev": None}


def shapes(account: Account) -> list[tuple[str, dict[str, Any], Any]]:
    """(request, answer, the contract fixture's payload for it): as test_zendesk_adapter."""
    a = account
    since = int((START - timedelta(days=30)).timestamp())
    organization = {"id": 801, "name": "Cliente PF", "organization_fields": {"documento": CPF}}
    return [
        ("GET users/me", {"user": user(9000, "admin")}, a.get("users/me.json")),
        (
            "GET custom_statuses",
            {"custom_statuses": [status(1, "Open", "open", default=True)]},
            a.get("custom_statuses.json"),
        ),
        (
            "GET ticket_fields",
            {
                "ticket_fields": [{"id": 1, "type": "subject", "title": "Subject", "active": True}],
                "next_page": None,
                "previous_page": None,
                "count": 6,
            },
            a.get("ticket_fields.json"),
        ),
        (
            "GET incremental export",
            {
                "tickets": [ticket(11)],
                "after_url": "u",
                "after_cursor": "c",
                "before_url": "u",
                "before_cursor": "c",
                "end_of_stream": True,
            },
            a.get("incremental/tickets/cursor.json", start_time=since, per_page=1000),
        ),
        (
            "GET search export (sweep)",
            {
                "results": [{**ticket(21), "result_type": "ticket"}],
                "facets": None,
                "meta": PAGE_META,
                "links": PAGE_LINKS,
            },
            a.get(
                "search/export.json",
                **{
                    "query": "tags:cancelamento status<solved",
                    "filter[type]": "ticket",
                    "page[size]": 100,
                },
            ),
        ),
        ("GET ticket", {"ticket": ticket(31)}, a.get(f"tickets/{a.ticket}.json")),
        (
            "GET comments",
            {
                "comments": [comment(1, 501, "Quero cancelar.")],
                "users": [user(501)],
                "meta": PAGE_META,
                "links": PAGE_LINKS,
            },
            a.get(f"tickets/{a.ticket}/comments.json", include="users", **{"page[size]": 100}),
        ),
        (
            "GET requester with organizations",
            {"user": user(501, titular=True), "organizations": [organization]},
            a.get(f"users/{a.holder}.json", include="organizations"),
        ),
        (
            "GET search organizations by registered e-mail",
            {
                "results": [{**organization, "result_type": "organization"}],
                "facets": None,
                "next_page": None,
                "count": 1,
            },
            a.get("search.json", query=f'type:organization email_cadastro:"{COMPANY}"'),
        ),
        (
            "GET an account's people",
            {"users": [user(601, socio_administrador=True)], "meta": {"has_more": False}},
            a.get(f"organizations/{a.pj}/users.json", **{"page[size]": 100}),
        ),
        (
            "GET memberships",
            {
                "organization_memberships": [
                    {"id": 1, "user_id": 601, "organization_id": 802, "default": True}
                ],
                "meta": {"has_more": False},
            },
            a.get(f"users/{a.partners[0]}/organization_memberships.json", **{"page[size]": 100}),
        ),
        (
            "GET search related tickets",
            {
                "results": [{**ticket(61), "result_type": "ticket"}],
                "next_page": None,
                "count": 1,
            },
            a.get("search.json", query=f'type:ticket requester:"{HOLDER}" created>=2026-11-07'),
        ),
    ]


def test_every_answer_has_the_shape_the_contract_fixtures_give_it(account: Account) -> None:
    for request, expected, answer in shapes(account):
        assert answer.status_code == 200, (request, answer.text)
        body = answer.json()
        for key, value in expected.items():
            if isinstance(value, list) and value:
                assert body[key], f"{request}: {key} is empty, nothing to compare"
        assert conforms(body, expected) == [], request


def test_a_guarded_update_answers_as_the_contract_fixture_and_409_when_stale(
    account: Account,
) -> None:
    stamp = account.fake.ticket(account.ticket)["updated_at"]
    body = {"comment": {"body": "nota", "public": False}, "safe_update": True}
    answer = account.put(account.ticket, **body, updated_stamp=stamp)
    expected = {
        "ticket": ticket(71),
        "audit": {"id": 1, "ticket_id": 71, "author_id": 9000, "events": []},
    }
    assert answer.status_code == 200 and conforms(answer.json(), expected) == []
    assert answer.json()["ticket"]["updated_at"] > stamp
    stale = account.put(account.ticket, **body, updated_stamp=stamp)
    assert stale.status_code == 409 and stale.json()["error"] == "UpdateConflict"


def test_a_refused_update_answers_422_shaped_like_the_contract_fixture(account: Account) -> None:
    account.fake.agent_updates(account.ticket, status="closed")
    answer = account.put(account.ticket, comment={"body": "nota", "public": False})
    expected = {
        "error": "RecordInvalid",
        "description": "Record validation errors",
        "details": {"status": [{"description": "Status: closed prevents ticket update"}]},
    }
    assert answer.status_code == 422 and conforms(answer.json(), expected) == []


def test_the_shape_check_itself_sees_a_missing_key_and_a_wrong_type() -> None:
    assert conforms({"a": {"b": 1}}, {"a": {"b": 1, "c": 2}}) == ["$.a.c: missing"]
    assert conforms({"a": [{"b": "1"}]}, {"a": [{"b": 1}]}) == ["$.a[0].b: str, expected int"]
    assert conforms({"a": True}, {"a": 1}) == ["$.a: bool, expected int"]


# --- the adapter against the sandbox --------------------------------------------------------


def test_the_poll_finds_the_cancellation_and_the_read_sees_the_account(account: Account) -> None:
    desk = account.helpdesk()
    page = desk.changed_tickets(None, START - timedelta(days=30))
    # in the order of their last change: the agent's comment moved the holder's ticket last
    assert page.ticket_ids == (str(account.company_ticket), str(account.ticket))
    snapshot = desk.read_ticket(str(account.ticket))
    assert [c.role for c in snapshot.comments] == [AuthorRole.END_USER, AuthorRole.AGENT]
    assert snapshot.status is StatusCategory.NEW
    assert snapshot.requester.key == HOLDER
    assert snapshot.version == account.fake.ticket(account.ticket)["updated_at"]
    (pf,) = desk.read_ficha(snapshot).accounts
    assert pf.document == CPF and pf.members[0].holder

    company = desk.read_ticket(str(account.company_ticket))
    (pj,) = desk.read_ficha(company).accounts  # found by its registered e-mail
    assert pj.registered_email == COMPANY
    assert [m.person.key for m in pj.members if m.managing_partner] == list(PARTNERS)
    related = desk.related_tickets((HOLDER,), START - timedelta(days=1))
    assert [t.id for t in related] == [str(account.ticket)]
    assert related[0].first_message == "Quero cancelar o meu contrato."


def test_a_step_then_the_email_step_are_written_once_and_the_sweep_sees_the_deadline(
    account: Account,
) -> None:
    desk = account.helpdesk()
    read = desk.read_ticket(str(account.ticket))
    desk.apply_step(read, step(fields={FieldKey.ATTEMPTS: "1"}))
    read = desk.read_ticket(str(account.ticket))
    assert read.custom_status == "Em atendimento" and read.fields["attempts"] == "1"
    email = OutgoingEmail("Prezada Ana", "<p>Prezada Ana</p>", (PARTNERS[0],))
    desk.apply_step(
        read,
        step(
            key="5:email-contato",
            email=email,
            status=TargetStatus.WAITING_CUSTOMER,
            fields={FieldKey.DEADLINE: "2026-12-09"},
        ),
    )
    shown = account.fake.ticket(account.ticket)
    assert "cancelamento-enviado-5" not in shown["tags"]
    assert [(e.to, e.cc) for e in account.fake.outbox] == [(HOLDER, (PARTNERS[0],))]
    assert desk.read_ticket(str(account.ticket)).status is StatusCategory.PENDING
    assert desk.due_tickets(datetime(2026, 12, 9, 12, 0, tzinfo=UTC)) == ()
    assert desk.due_tickets(datetime(2026, 12, 10, 12, 0, tzinfo=UTC)) == (str(account.ticket),)
    # a requester's reply to a pending ticket reopens it
    account.fake.customer_replies(account.ticket, "Recebi.")
    assert desk.read_ticket(str(account.ticket)).status is StatusCategory.OPEN


def test_a_stale_read_is_a_conflict_and_a_closed_ticket_is_refused(account: Account) -> None:
    desk = account.helpdesk()
    read = desk.read_ticket(str(account.ticket))
    account.fake.agent_comments(account.ticket, "#manual")
    with pytest.raises(StaleTicket):
        desk.apply_step(read, step())
    account.fake.fail_next(409)  # a database collision: re-read and decide again, too
    with pytest.raises(StaleTicket, match="DatabaseConflict"):
        desk.apply_step(desk.read_ticket(str(account.ticket)), step())
    account.fake.agent_updates(account.ticket, status="closed")
    with pytest.raises(Invalid, match="closed prevents ticket update"):
        desk.apply_step(desk.read_ticket(str(account.ticket)), step())


def test_a_lost_response_is_resent_and_meets_its_own_write(account: Account) -> None:
    desk = account.helpdesk()
    read = desk.read_ticket(str(account.ticket))
    account.fake.lose_next_write_response()
    with pytest.raises(StaleTicket):
        desk.apply_step(read, step())
    bodies = [c["body"] for c in account.fake.comments(account.ticket)]
    assert bodies.count(step().note) == 1  # applied once, though sent twice


def test_429_is_waited_out_by_retry_after_or_ends_the_poll() -> None:
    account = Account(RateLimits(incremental_exports_per_minute=1))
    try:
        desk = account.helpdesk()
        since = START - timedelta(days=30)
        desk.changed_tickets(None, since)
        before = account.clock()
        desk.changed_tickets(None, since)  # one a minute: 429, Retry-After, then it goes through
        assert desk.client.stats.throttled >= 1
        assert account.clock() - before >= timedelta(seconds=50)
        account.fake.fail_next(429, retry_after=3600)
        with pytest.raises(RateLimited, match="3600"):
            desk.changed_tickets(None, since)
    finally:
        account.close()
