"""The procedure's world on Freshdesk: the real adapter (`FreshdeskHelpdesk`, its journal in
memory) under the real `Worker`, over HTTP through `responses`, against the strict fake in
`freshdesk_fake.py`, all on the world's clock.

The account starts empty, as a new user's does, and is provisioned by the real `setup` over
HTTP; the adapter then finds every name Freshdesk gave (the fake spells them unlike the
configuration on purpose). People are contacts found by e-mail; an account is a company (a
person's first company is their `company_id`, the next ones `other_companies`); agents are
one agent, Paula. The world itself writes the ficha by the names the account gave.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path

import responses

from tests.fakes.backend import START, BackendWorld, HookedHelpdesk, marks_of
from tests.fakes.freshdesk_fake import CLOSED, OPEN, PENDING, RESOLVED, WORKER_ID, FakeFreshdesk
from worker.adapters.freshdesk import provision
from worker.adapters.freshdesk.adapter import FreshdeskHelpdesk
from worker.adapters.freshdesk.http import Credentials, FreshdeskClient
from worker.adapters.freshdesk.layout import FICHA_FIELDS
from worker.adapters.zendesk.http import RequestStats
from worker.adapters.zendesk.provision import field_specs, field_titles
from worker.config import Config, Freshdesk
from worker.core.effects import FieldKey
from worker.core.model import Account, Channel, Person, StatusCategory
from worker.ports import Helpdesk

# Pacing is tested elsewhere (test_freshdesk_adapter.py): here it must never make the worker
# wait, since a wait moves the world's clock and a scenario's times are exact.
UNPACED = Freshdesk(
    requests_per_minute=10_000,
    tickets_list_per_minute=1_000,
    ticket_updates_per_minute=1_000,
    contacts_list_per_minute=1_000,
    share=1.0,
)
SOURCES: dict[Channel, int] = {"email": 1, "web": 2, "api": 2, "phone": 3, "chat": 7, "other": 10}
STATUS_IDS = {
    StatusCategory.NEW: OPEN,
    StatusCategory.OPEN: OPEN,
    StatusCategory.PENDING: PENDING,
    StatusCategory.HOLD: PENDING,
    StatusCategory.SOLVED: RESOLVED,
    StatusCategory.CLOSED: CLOSED,
}
FICHA_LABELS = {spec.setting: spec.label for spec in FICHA_FIELDS}


def set_up(fake: FakeFreshdesk, config: Config) -> None:
    """`python -m worker setup` on the fake's fresh account: it must finish with nothing left."""
    client = FreshdeskClient(Credentials(fake.base_url, "worker-api-key"), UNPACED)
    plan = provision.setup(client, config, dry_run=False, out=io.StringIO())
    if plan.problems:
        raise AssertionError(f"setup left problems on a fresh account: {plan.problems}")


class FreshdeskWorld(BackendWorld):
    """`journal`: the worker's write journal on disk (in memory unless given)."""

    def __init__(
        self, config: Config | None = None, start: datetime = START, *, journal: Path | None = None
    ) -> None:
        self.journal = journal
        super().__init__(config, start)
        if journal is not None:
            self.restart()

    @property
    def hooked(self) -> HookedHelpdesk:
        assert isinstance(self.helpdesk, HookedHelpdesk)
        return self.helpdesk

    def die(self) -> None:
        """The worker's process is gone: the system closes its journal."""
        adapter = self.hooked.adapter
        if isinstance(adapter, FreshdeskHelpdesk):
            adapter.journal.close()

    def restart(self) -> None:
        """The worker's process starts again on the same state directory: a new adapter on
        the journal file (what the poll cursor says is kept, as the state directory keeps it)."""
        self.die()
        adapter, _ = self.new_adapter(self.journal)
        self.hooked.adapter = adapter

    def serve(self, mock: responses.RequestsMock) -> None:
        self.fake = FakeFreshdesk(self.clock)
        self.fake.install(mock)
        set_up(self.fake, self.config)
        self.companies: dict[str, int] = {}  # account id -> company id

    def ficha_name(self, setting: str) -> str:
        return self.fake.ficha_name(FICHA_LABELS[setting])

    def new_adapter(self, journal: Path | None = None) -> tuple[Helpdesk, RequestStats]:
        client = FreshdeskClient(
            Credentials(self.fake.base_url, "worker-api-key"),
            UNPACED,
            clock=self.clock.monotonic,
            sleep=self.clock.sleep,
            jitter=lambda low, high: high,
        )
        helpdesk = FreshdeskHelpdesk(
            client,
            self.config,
            journal or Path(":memory:"),  # the journal: SQLite, in memory unless given
            monotonic=self.clock.monotonic,
            wall_clock=self.clock.monotonic,
        )
        return helpdesk, client.stats

    # --- people and accounts -----------------------------------------------------------------

    def contact(self, person: Person) -> int:
        found = self.fake.contact_by_email(person.email)
        return found if found is not None else self.fake.add_contact(person.name, person.email)

    def save_account(self, account: Account, previous: Account | None) -> None:
        name = self.ficha_name
        if previous is None:
            values = {name("document"): account.document, name("registered_email"): None}
            if account.registered_email:
                values[name("registered_email")] = account.registered_email.strip().lower()
            self.companies[account.id] = self.fake.add_company(account.name, values)
        elif (previous.name, previous.document, previous.registered_email) != (
            account.name,
            account.document,
            account.registered_email,
        ):
            raise NotImplementedError("the world changes an account's members only")
        company = self.companies[account.id]
        accounts = [a for a in self.accounts.values() if a.id != account.id] + [account]
        for member in account.members:
            contact = self.contact(member.person)
            holder, partner = marks_of(member.person, accounts)
            self.fake.update_contact(
                contact, {name("holder"): holder, name("managing_partner"): partner}
            )
            self.fake.join_company(contact, company)

    # --- what people do ----------------------------------------------------------------------

    def open_ticket(
        self, requester: Person, subject: str, body: str, tags: tuple[str, ...], channel: Channel
    ) -> str:
        contact = self.contact(requester)
        return str(
            self.fake.create_ticket(contact, subject, body, tags=tags, source=SOURCES[channel])
        )

    def agent_says(self, ticket_id: str, text: str, *, public: bool = False) -> None:
        self.fake.agent_note(int(ticket_id), text, private=not public)

    def customer_writes(self, ticket_id: str, author: Person, text: str) -> None:
        self.fake.customer_replies(int(ticket_id), self.contact(author), text)

    def spoofed_reply(self, ticket_id: str, author: Person, text: str) -> None:
        """Attributed to `author`'s contact, but sent from another address."""
        contact = self.contact(author)
        self.fake.customer_replies(int(ticket_id), contact, text, from_email="golpe@outro.com")

    def agent_sets(
        self,
        ticket_id: str,
        *,
        status: StatusCategory | None,
        fields: Mapping[str, str | None],
    ) -> None:
        changes: dict[str, object] = {}
        if status is not None:
            changes["status"] = STATUS_IDS[status]
        titles, specs = field_titles(self.config), field_specs(self.config)
        custom: dict[str, object] = {}
        for key_name, value in fields.items():
            key = FieldKey(key_name)
            labels = {option.engine: option.name for option in specs[key].options}
            field = self.fake.field_named(titles[key])
            if value is None:
                custom[field] = None
            elif key is FieldKey.ATTEMPTS:
                custom[field] = int(value)
            else:
                custom[field] = labels.get(value, value)
        if custom:
            changes["custom_fields"] = custom
        self.fake.agent_updates(int(ticket_id), changes)

    def sent(self, ticket_id: str) -> list[tuple[str, tuple[str, ...]]]:
        return [
            (e.to, e.cc)
            for e in self.fake.outbox
            if e.ticket_id == int(ticket_id) and e.user_id == WORKER_ID
        ]
