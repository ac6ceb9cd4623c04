"""Seeding the sandbox from a fixture (YAML or JSON): accounts, people and tickets.

```yaml
now: 2026-12-07T09:00:00-03:00     # optional: the moment the dates below are written from
faults: {error_rate: 0.05}          # optional: as POST /_sandbox/faults
organizations:
  - name: Ana Souza
    fields: {documento: 529.982.247-25, email_cadastro: ana@exemplo.com.br}
users:
  - name: Ana Souza
    email: ana@exemplo.com.br
    organizations: [Ana Souza]      # by name; the first is the default
    user_fields: {titular: true}
tickets:
  - requester: ana@exemplo.com.br
    subject: Cancelamento
    description: Quero cancelar o meu contrato.
    tags: [cancelamento]
    created_at: 2026-12-07T08:30:00-03:00
```

A ticket's requester is an e-mail; an address no user has becomes a new end-user (as an e-mail
from a new address does on Zendesk). Organization and user field keys that the account does not
define yet (no `setup`) are defined here: checkboxes for true/false values, text otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

from worker.sandbox.faults import Faults
from worker.sandbox.zendesk import FakeZendesk


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class OrganizationSpec(_Strict):
    name: str
    fields: dict[str, str | None] = {}


class UserSpec(_Strict):
    name: str
    email: str
    role: Literal["end-user", "agent", "admin"] = "end-user"
    organizations: list[str] = []
    user_fields: dict[str, bool | str | None] = {}


class TicketSpec(_Strict):
    requester: str  # an e-mail; an unknown one becomes a new end-user, as on Zendesk
    requester_name: str | None = None  # that new user's name (default: the e-mail's local part)
    subject: str
    description: str
    tags: list[str] = []
    channel: str = "email"
    status: Literal["new", "open", "pending", "hold", "solved", "closed"] = "new"
    created_at: datetime | None = None


class Fixture(_Strict):
    now: datetime | None = None
    faults: Faults | None = None
    organizations: list[OrganizationSpec] = []
    users: list[UserSpec] = []
    tickets: list[TicketSpec] = []

    def dated_from(self, moment: datetime) -> Fixture:
        """The fixture as if written at `moment`: each date moves by how far `now` is from it,
        so a ticket "created 20 minutes before now" is, whatever day the sandbox starts. A
        fixture without `now` keeps its dates as written."""
        if self.now is None:
            return self
        shift = moment - self.now
        return self.model_copy(
            update={
                "now": moment,
                "tickets": [
                    t.model_copy(update={"created_at": t.created_at + shift})
                    if t.created_at is not None
                    else t
                    for t in self.tickets
                ],
            }
        )


class FixtureError(ValueError):
    pass


def load_fixture(path: Path) -> Fixture:
    """A YAML or JSON file (JSON is YAML); every problem names where it is."""
    try:
        data: Any = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as problem:
        raise FixtureError(f"{path}: {problem}") from None
    try:
        return Fixture.model_validate(data or {})
    except ValidationError as problem:
        where = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in problem.errors()
        )
        raise FixtureError(f"{path}: {where}") from None


@dataclass
class Seeded:
    organizations: dict[str, int] = field(default_factory=dict)  # by name
    users: dict[str, int] = field(default_factory=dict)  # by e-mail, lower case
    tickets: list[int] = field(default_factory=list)


def seed(fake: FakeZendesk, fixture: Fixture) -> Seeded:
    """Adds the fixture's records to the account, all or nothing."""
    seeded = Seeded()
    with fake.store.transaction():
        _define_fields(fake, fixture)
        for organization in fixture.organizations:
            if organization.name in seeded.organizations:
                raise FixtureError(f"organization {organization.name!r} appears twice")
            seeded.organizations[organization.name] = fake.add_organization(
                organization.name, organization.fields
            )
        for user in fixture.users:
            unknown = [o for o in user.organizations if o not in seeded.organizations]
            if unknown:
                raise FixtureError(f"user {user.email}: unknown organizations {unknown}")
            try:
                seeded.users[user.email.casefold()] = fake.add_user(
                    user.name,
                    user.email,
                    role=user.role,
                    organization_ids=[seeded.organizations[o] for o in user.organizations],
                    user_fields=user.user_fields,
                )
            except ValueError as problem:
                raise FixtureError(f"user {user.email}: {problem}") from None
        for ticket in fixture.tickets:
            requester = fake.store.user_by_email(ticket.requester)
            if requester is None:  # as an e-mail from a new address does on Zendesk
                name = ticket.requester_name or ticket.requester.split("@")[0]
                requester_id = fake.add_user(name, ticket.requester)
                seeded.users[ticket.requester.casefold()] = requester_id
            else:
                requester_id = requester.id
            seeded.tickets.append(
                fake.add_ticket(
                    requester_id,
                    ticket.subject,
                    ticket.description,
                    tags=ticket.tags,
                    channel=ticket.channel,
                    status=ticket.status,
                    created_at=ticket.created_at,
                )
            )
        fake.store.set_meta("seeded", 1)
    return seeded


def _define_fields(fake: FakeZendesk, fixture: Fixture) -> None:
    known = {d["key"] for d in fake.store.organization_fields}
    for organization in fixture.organizations:
        for key in organization.fields:
            if key not in known:
                fake.add_organization_field(key, "text")
                known.add(key)
    known = {d["key"] for d in fake.store.user_fields}
    for user in fixture.users:
        for key, value in user.user_fields.items():
            if key not in known:
                fake.add_user_field(key, "checkbox" if isinstance(value, bool) else "text")
                known.add(key)
