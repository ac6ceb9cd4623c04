"""The procedure's world on Freshdesk: the real adapter (`FreshdeskHelpdesk`, its journal in
memory) under the real `Worker`, over HTTP through `responses`, against the stateful fake in
`freshdesk_fake.py`, all on the world's clock.

The account is laid out as `setup` would leave it: the worker's two statuses as choices of the
status field (the waiting one stops the SLA timer), the five ticket fields by their configured
labels with the pt-BR choices, and the ficha's contact and company fields as custom fields.
People are contacts found by e-mail; an account is a company (a person's first company is
their `company_id`, the next ones `other_companies`); agents are one agent, Paula.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from pathlib import Path

import responses

from tests.backends.base import BackendWorld, marks_of
from tests.backends.freshdesk_fake import (
    CLOSED,
    OPEN,
    PENDING,
    RESOLVED,
    WORKER_ID,
    FakeFreshdesk,
    Status,
    TicketField,
)
from worker.adapters.freshdesk.adapter import FreshdeskHelpdesk
from worker.adapters.freshdesk.http import Credentials, FreshdeskClient
from worker.adapters.freshdesk.layout import FIELD_TYPES
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
IN_PROGRESS_ID, WAITING_ID = 6, 7


def field_name(label: str) -> str:
    """The `cf_...` name Freshdesk derives from a field's label."""
    plain = unicodedata.normalize("NFKD", label).encode("ascii", "ignore").decode().lower()
    return "cf_" + re.sub(r"[^a-z0-9]+", "_", plain).strip("_")


def account_layout(config: Config) -> tuple[tuple[TicketField, ...], dict[int, Status]]:
    titles, specs = field_titles(config), field_specs(config)
    fields = tuple(
        TicketField(
            field_name(titles[key]),
            titles[key],
            FIELD_TYPES[key],
            tuple(option.name for option in specs[key].options),
        )
        for key in FieldKey
    )
    statuses = {
        IN_PROGRESS_ID: Status(config.statuses.in_progress, False),
        WAITING_ID: Status(config.statuses.waiting_customer, True),
    }
    return fields, statuses


class FreshdeskWorld(BackendWorld):
    def serve(self, mock: responses.RequestsMock) -> None:
        fields, statuses = account_layout(self.config)
        self.fake = FakeFreshdesk(self.clock, fields, statuses)
        self.fake.install(mock)
        self.companies: dict[str, int] = {}  # account id -> company id

    def new_adapter(self) -> tuple[Helpdesk, RequestStats]:
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
            Path(":memory:"),  # the journal: SQLite, in memory
            monotonic=self.clock.monotonic,
            wall_clock=self.clock.monotonic,
        )
        return helpdesk, client.stats

    # --- people and accounts -----------------------------------------------------------------

    def contact(self, person: Person) -> int:
        found = self.fake.contact_by_email(person.email)
        return found if found is not None else self.fake.add_contact(person.name, person.email)

    def save_account(self, account: Account, previous: Account | None) -> None:
        ficha = self.config.ficha
        if previous is None:
            values = {ficha.document: account.document, ficha.registered_email: None}
            if account.registered_email:
                values[ficha.registered_email] = account.registered_email.strip().lower()
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
                contact, {ficha.holder: holder, ficha.managing_partner: partner}
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
        for name, value in fields.items():
            key = FieldKey(name)
            labels = {option.engine: option.name for option in specs[key].options}
            if value is None:
                custom[field_name(titles[key])] = None
            elif key is FieldKey.ATTEMPTS:
                custom[field_name(titles[key])] = int(value)
            else:
                custom[field_name(titles[key])] = labels.get(value, value)
        if custom:
            changes["custom_fields"] = custom
        self.fake.agent_updates(int(ticket_id), changes)

    def sent(self, ticket_id: str) -> list[tuple[str, tuple[str, ...]]]:
        return [
            (e.to, e.cc)
            for e in self.fake.outbox
            if e.ticket_id == int(ticket_id) and e.user_id == WORKER_ID
        ]
