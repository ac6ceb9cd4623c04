"""The procedure's world on Zendesk: the real adapter (`ZendeskHelpdesk`) under the real
`Worker`, over HTTP through `responses`, against the stateful `FakeZendesk`, set up by the real
`setup` (as tests/fakes/zendesk_http_world.py does).

People are users found by e-mail; an account is an organization (its document and registered
e-mail as organization fields) and its members are memberships; the holder and partner marks
are the user's checkbox fields. Agents are the fake's agent.

One clock: the worker and the client's pacing read the world's clock; the fake reads it too,
except that the incremental export leaves out the last minute, so before each poll the fake's
clock is put two minutes ahead of the last change (`before_poll`). It falls back to the
world's as soon as the world's clock passes it (the next `later(hours=1)`), so the fake's
stamps run at most a few minutes ahead of the worker's time, never behind.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from datetime import datetime, timedelta

import responses

from tests.fakes.backend import BackendWorld, marks_of
from worker.adapters.zendesk.adapter import ZendeskHelpdesk
from worker.adapters.zendesk.http import Credentials, RequestStats, ZendeskClient
from worker.adapters.zendesk.layout import AccountLayout, to_zendesk
from worker.adapters.zendesk.provision import setup
from worker.config import Zendesk
from worker.core.effects import FieldKey
from worker.core.model import Account, Channel, Person, StatusCategory
from worker.ports import Helpdesk
from worker.sandbox import FakeZendesk, RateLimits
from worker.sandbox.responses_binding import install

# Pacing is tested elsewhere (test_zendesk_adapter.py): here it must never make the worker
# wait, since a wait moves the world's clock and a scenario's times are exact.
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


class ZendeskWorld(BackendWorld):
    def serve(self, mock: responses.RequestsMock) -> None:
        self._floor = self.clock.now
        self.fake = FakeZendesk(clock=self.fake_now, limits=RateLimits.off())
        install(mock, self.fake)
        client = self.client()
        setup(client, self.config, dry_run=False, out=io.StringIO())
        self.layout = AccountLayout.load(client, self.config)
        self.organizations: dict[str, int] = {}  # account id -> organization id
        self.users: dict[str, tuple[int, tuple[bool, bool]]] = {}  # e-mail -> id, marks

    def fake_now(self) -> datetime:
        return max(self.clock.now, self._floor)

    def before_poll(self) -> None:
        self._floor = self.fake_now() + EXPORT_MARGIN

    def client(self) -> ZendeskClient:
        credentials = Credentials(self.fake.base_url, "worker@empresa.com.br", "token", None)
        return ZendeskClient(
            credentials,
            UNPACED,
            clock=self.clock.monotonic,
            sleep=self.clock.sleep,
            jitter=lambda low, high: high,
        )

    def new_adapter(self) -> tuple[Helpdesk, RequestStats]:
        client = self.client()
        return ZendeskHelpdesk(client, self.config, monotonic=self.clock.monotonic), client.stats

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

    # --- what people do ----------------------------------------------------------------------

    def open_ticket(
        self, requester: Person, subject: str, body: str, tags: tuple[str, ...], channel: Channel
    ) -> str:
        user = self.user(requester)
        return str(
            self.fake.add_ticket(user, subject, body, tags=list(tags), channel=CHANNELS[channel])
        )

    def agent_says(self, ticket_id: str, text: str, *, public: bool = False) -> None:
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

    def sent(self, ticket_id: str) -> list[tuple[str, tuple[str, ...]]]:
        return [(e.to, tuple(e.cc)) for e in self.fake.outbox if e.ticket_id == int(ticket_id)]
