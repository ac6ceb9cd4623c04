"""The procedure's world on Zendesk, the one every Zendesk test builds: the real adapter
(`ZendeskHelpdesk`) under the real `Worker`, over HTTP through `responses`, against the stateful
`FakeZendesk`, set up by the real `setup`.

Two kinds of tests use it, and the options say which:
- the scenario suites (`World` under `WORLD_BACKEND=zendesk`, the contract suite) play the
  generic world's interface with string ids; the client is unpaced, since a wait would move the
  world's clock and a scenario's times are exact;
- the flow tests (tests/contract/zendesk/) look at an account as an operator would: `paced=True`
  paces the client as configured (a wait moves the simulated clock), `limits` turns on the
  fake's rate limits, `place` keeps the poll's place and the worker's own writes in a state
  directory so that `new_app` is a real restart, and integer ids with raw bodies
  (`holder`, `company`, `opens`, `note_bodies`, `steps`, `email_bodies`, `status_label`,
  `writes`) read what the fake holds without a request.

People are users found by e-mail; an account is an organization (its document and registered
e-mail as organization fields) and its members are memberships; the holder and partner marks
are the user's checkbox fields. Agents are the fake's agent.

One clock: the worker and the client's pacing read the world's clock; the fake reads it too,
except that the incremental export leaves out the last minute, so before each run that minute
is waited out. An unpaced world keeps the worker's times exact by putting only the fake's clock
two minutes ahead of the last change (`before_poll`); it falls back to the world's as soon as
the world's clock passes it (the next `later(hours=1)`), so the fake's stamps run at most a few
minutes ahead of the worker's time, never behind. A paced world waits as an account does: the
world's clock moves two minutes.
"""

from __future__ import annotations

import io
from collections.abc import Iterator, Mapping
from datetime import datetime, timedelta
from pathlib import Path
from typing import overload

import responses

from tests.fakes.backend import START, BackendWorld, HookedHelpdesk, marks_of
from tests.fakes.world import CNPJ, CPF
from worker.adapters.zendesk.adapter import ZendeskHelpdesk
from worker.adapters.zendesk.http import Credentials, RequestStats, ZendeskClient
from worker.adapters.zendesk.layout import AccountLayout, to_zendesk
from worker.adapters.zendesk.provision import setup
from worker.config import Config, Zendesk
from worker.core.effects import FieldKey
from worker.core.model import Account, Channel, Person, StatusCategory
from worker.core.state import MARKER_PREFIX
from worker.ports import Helpdesk
from worker.sandbox import FakeZendesk, RateLimits
from worker.sandbox.responses_binding import install
from worker.state_dir import PollPlaceFile

UNPACED = Zendesk(requests_per_minute=10_000, ticket_updates_per_minute=1_000, share=1.0)
CHANNELS: dict[Channel, str] = {
    "email": "email",
    "web": "web",
    "api": "api",
    "chat": "chat",
    "phone": "voice",
    "other": "other",
}
DEFAULT_STATUS = {
    StatusCategory.NEW: "New",
    StatusCategory.OPEN: "Open",
    StatusCategory.PENDING: "Pending",
    StatusCategory.HOLD: "On-hold",
    StatusCategory.SOLVED: "Solved",
}
EXPORT_MARGIN = timedelta(minutes=2)  # the export leaves out the last minute
REQUEST = ("Cancelamento do contrato", "Quero cancelar o meu contrato.", ("cancelamento",))


class ZendeskWorld(BackendWorld):
    def __init__(
        self,
        config: Config | None = None,
        start: datetime = START,
        *,
        paced: bool = False,
        limits: RateLimits | None = None,
        place: Path | None = None,
    ) -> None:
        self.paced = paced
        self.limits = limits or RateLimits.off()
        self.place = place
        super().__init__(config, start)

    def serve(self, mock: responses.RequestsMock) -> None:
        self._floor = self.clock.now
        self.fake = FakeZendesk(clock=self.fake_now, limits=self.limits)
        install(mock, self.fake)
        self.client = self.new_client()  # setup's; the worker's adapter has its own
        setup(self.client, self.config, dry_run=False, out=io.StringIO())
        self.layout = AccountLayout.load(self.client, self.config)
        self.organizations: dict[str, int] = {}  # account id -> organization id
        self.users: dict[str, tuple[int, tuple[bool, bool]]] = {}  # e-mail -> id, marks

    def fake_now(self) -> datetime:
        return max(self.clock.now, self._floor)

    def before_poll(self) -> None:
        if self.paced:
            self.later(minutes=2)
        else:
            self._floor = self.fake_now() + EXPORT_MARGIN

    def new_client(self) -> ZendeskClient:
        credentials = Credentials(self.fake.base_url, "worker@empresa.com.br", "token", None)
        return ZendeskClient(
            credentials,
            self.config.zendesk if self.paced else UNPACED,
            clock=self.clock.monotonic,
            sleep=self.clock.sleep,
            jitter=lambda low, high: high,
        )

    def new_adapter(self) -> tuple[Helpdesk, RequestStats]:
        client = self.new_client()
        written = self.place.with_name("zendesk-written.tsv") if self.place else None
        adapter = ZendeskHelpdesk(
            client, self.config, monotonic=self.clock.monotonic, written=written
        )
        return adapter, client.stats

    def place_file(self) -> PollPlaceFile | None:
        return PollPlaceFile(self.place) if self.place is not None else None

    @property
    def adapter(self) -> ZendeskHelpdesk:
        """The worker's adapter itself, for the tests that look inside it."""
        assert isinstance(self.helpdesk, HookedHelpdesk)
        adapter = self.helpdesk.adapter
        assert isinstance(adapter, ZendeskHelpdesk)
        return adapter

    # --- people and accounts -----------------------------------------------------------------

    def user(self, person: Person, marks: tuple[bool, bool] = (False, False)) -> int:
        """The person's user, created (with the marks) if new. FakeZendesk cannot change a
        user's fields afterwards: a scenario that would need it says so."""
        known = self.users.get(person.key)
        if known is None:
            ficha = self.config.ficha
            fields = {ficha.holder: marks[0], ficha.managing_partner: marks[1]}
            wanted = {k: v for k, v in fields.items() if v}
            user = self.fake.add_user(person.name, person.email, user_fields=wanted)
            self.users[person.key] = (user, marks)
            return user
        user, had = known
        if (marks[0] and not had[0]) or (marks[1] and not had[1]):
            raise NotImplementedError(f"FakeZendesk cannot mark {person.email} afterwards")
        return user

    def save_account(self, account: Account, previous: Account | None) -> None:
        ficha = self.config.ficha
        if previous is None:
            values = {
                ficha.document: account.document,
                ficha.registered_email: account.registered_email,
            }
            self.organizations[account.id] = self.fake.add_organization(account.name, values)
        elif (previous.name, previous.document, previous.registered_email) != (
            account.name,
            account.document,
            account.registered_email,
        ):
            raise NotImplementedError("the world changes an account's members only")
        organization = self.organizations[account.id]
        known = {m.person.key for m in previous.members} if previous else set()
        accounts = [a for a in self.accounts.values() if a.id != account.id] + [account]
        for member in account.members:
            if member.person.key in known:
                continue
            user = self.user(member.person, marks_of(member.person, accounts))
            self.fake.add_membership(user, organization)

    def holder(self, name: str, email: str, *, document: str = CPF) -> int:
        """A person's account whose holder writes from the registered e-mail: the user's id."""
        ficha = self.config.ficha
        values = {ficha.document: document, ficha.registered_email: email}
        account = self.fake.add_organization(name, values)
        marks = {ficha.holder: True}
        return self.fake.add_user(name, email, organization_ids=[account], user_fields=marks)

    def company(self, name: str, partners: list[tuple[str, str]]) -> list[int]:
        """A company and its managing partners: their users' ids."""
        ficha = self.config.ficha
        values = {ficha.document: CNPJ, ficha.registered_email: "contato@empresa-cliente.com.br"}
        account = self.fake.add_organization(name, values)
        marks = {ficha.managing_partner: True}
        return [
            self.fake.add_user(partner, email, organization_ids=[account], user_fields=marks)
            for partner, email in partners
        ]

    # --- what people do ----------------------------------------------------------------------

    @overload
    def opens(
        self,
        requester: int,
        subject: str = ...,
        body: str = ...,
        *,
        tags: tuple[str, ...] = ...,
        channel: Channel = ...,
    ) -> int: ...

    @overload
    def opens(
        self,
        requester: Person,
        subject: str = ...,
        body: str = ...,
        *,
        tags: tuple[str, ...] = ...,
        channel: Channel = ...,
    ) -> str: ...

    def opens(
        self,
        requester: Person | int,
        subject: str = REQUEST[0],
        body: str = REQUEST[1],
        *,
        tags: tuple[str, ...] = REQUEST[2],
        channel: Channel = "email",
    ) -> str | int:
        """A cancellation request, by a `Person` (the generic world's string id) or by a user
        the test made on the fake (its integer id)."""
        if isinstance(requester, Person):
            return self.open_ticket(requester, subject, body, tags, channel)
        return self.fake.add_ticket(
            requester, subject, body, tags=list(tags), channel=CHANNELS[channel]
        )

    def open_ticket(
        self, requester: Person, subject: str, body: str, tags: tuple[str, ...], channel: Channel
    ) -> str:
        return str(self.opens(self.user(requester), subject, body, tags=tags, channel=channel))

    def agent_says(self, ticket_id: str | int, text: str, *, public: bool = False) -> None:
        self.fake.agent_comments(int(ticket_id), text, public=public)

    def customer_writes(self, ticket_id: str, author: Person, text: str) -> None:
        """An e-mail from `author` (the requester, or a partner in copy) into the ticket."""
        self.fake.customer_replies(int(ticket_id), text, author_id=self.user(author))

    def spoofed_reply(self, ticket_id: str, author: Person, text: str) -> None:
        """The e-mail as Zendesk shows one it suspects was not sent by `author`: flag 14."""
        self.fake.customer_replies(int(ticket_id), text, author_id=self.user(author), flags=(14,))

    def agent_sets(
        self,
        ticket_id: str,
        *,
        status: StatusCategory | None,
        fields: Mapping[str, str | None],
    ) -> None:
        changes: dict[str, object] = {}
        if status is not None:
            changes["status"] = status.value
            if status in DEFAULT_STATUS:
                changes["custom_status_id"] = self.fake.status_id(DEFAULT_STATUS[status])
        if fields:
            changes["custom_fields"] = [
                {"id": self.layout.fields[FieldKey(k)], "value": to_zendesk(FieldKey(k), v)}
                for k, v in fields.items()
            ]
        self.fake.agent_updates(int(ticket_id), **changes)

    # --- what the fake holds, read without a request -----------------------------------------

    def sent(self, ticket_id: str) -> list[tuple[str, tuple[str, ...]]]:
        return [(e.to, tuple(e.cc)) for e in self.fake.outbox if e.ticket_id == int(ticket_id)]

    def note_bodies(self, ticket_id: int) -> list[str]:
        """The worker's notes as posted, state marker included."""
        return [
            c["body"]
            for c in self.fake.comments(ticket_id)
            if not c["public"] and c["author_id"] == self.fake.worker_id
        ]

    def steps(self, ticket_id: int) -> list[str]:
        """The step key of every worker note, in order."""
        keys = []
        for note in self.note_bodies(ticket_id):
            marker = next(line for line in note.splitlines() if line.startswith(MARKER_PREFIX))
            keys.append(marker.split('"passo":"', 1)[1].split('"', 1)[0])
        return keys

    def email_bodies(self, ticket_id: int) -> list[str]:
        return [e.body for e in self.fake.outbox if e.ticket_id == ticket_id]

    def status_label(self, ticket_id: int) -> str:
        """The ticket's custom status as agents see it."""
        ticket = self.fake.ticket(ticket_id)
        return next(
            s.agent_label
            for s in self.fake.store.custom_statuses.values()
            if s.id == ticket["custom_status_id"]
        )

    def writes(self) -> Iterator[tuple[str, str]]:
        """Every request the fake was sent that was not a GET, as (method, path)."""
        return ((m, p) for m, p in self.fake.requests if m != "GET")
