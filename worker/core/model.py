"""What the procedure sees of the helpdesk: immutable snapshots, independent of any vendor.

Adapters translate Zendesk or Freshdesk objects into these types; the engine never sees
anything else, so the same procedure runs unchanged on every helpdesk and on the in-memory fake.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from worker.core.documents import Document


class AuthorRole(enum.Enum):
    """Who wrote a comment; it decides whether a line can be a command or an answer."""

    WORKER = "worker"  # the worker's own helpdesk user: its notes carry the procedure's state
    AGENT = "agent"
    END_USER = "end_user"


class StatusCategory(enum.Enum):
    """The helpdesk's built-in lifecycle, to which every custom status belongs."""

    NEW = "new"
    OPEN = "open"
    PENDING = "pending"
    HOLD = "hold"
    SOLVED = "solved"
    CLOSED = "closed"


class Situation(enum.Enum):
    """Who is asking (PROCEDURE.md §2). Values are what the situation field holds."""

    HOLDER = "titular"
    PARTNER = "socio"
    THIRD_PARTY = "terceiro"


Channel = Literal["email", "web", "api", "chat", "phone", "other"]


@dataclass(frozen=True)
class Person:
    """A helpdesk user or contact. E-mails are compared lower-cased."""

    id: str
    email: str
    name: str

    @property
    def key(self) -> str:
        return self.email.strip().lower()


@dataclass(frozen=True)
class Comment:
    """One message on a ticket. `doubt` is the adapter's verdict on who really wrote it, from
    the helpdesk's own signals (a flag, a recovered suspended e-mail, a form anyone can fill
    in): empty when the author shown is believed, otherwise why not, in pt-BR for the agent.
    The procedure lets a doubted message stop or hold a cancellation, never advance it."""

    id: str
    author: Person
    role: AuthorRole
    public: bool
    body: str
    created_at: datetime
    doubt: str = ""

    @property
    def trusted(self) -> bool:
        return not self.doubt


@dataclass(frozen=True)
class Ticket:
    """One read of a ticket. `version` guards writes: a write made against an older version is
    refused by the helpdesk (or the adapter), so an agent's concurrent change is never lost."""

    id: str
    subject: str
    channel: Channel
    status: StatusCategory
    custom_status: str | None
    tags: frozenset[str]
    fields: dict[str, str | None]
    requester: Person
    comments: tuple[Comment, ...]
    created_at: datetime
    updated_at: datetime
    version: str
    cc_emails: tuple[str, ...] = ()
    # An e-mail of the worker went out and no note of the worker followed it: a step cut
    # between its two writes (a crash, a lost answer). The key of that step (`5:email-contato`)
    # when the helpdesk knows it, only its number (`5`) when it does not. The engine decides on
    # it (`core/unnoted.py`), so `explain` and a dry run show it; an adapter never re-sends.
    unnoted_email: str | None = None


@dataclass(frozen=True)
class Member:
    """A person of an account's ficha, with the marks that give them rights over the contract."""

    person: Person
    holder: bool = False
    managing_partner: bool = False
    # How many accounts this person belongs to: a partner of several is ambiguous (CONTRACT 15).
    account_count: int = 1


@dataclass(frozen=True)
class Account:
    """The customer's ficha data as the helpdesk holds it."""

    id: str
    name: str
    document: str | None
    registered_email: str | None
    members: tuple[Member, ...] = ()

    @property
    def parsed_document(self) -> Document | None:
        from worker.core.documents import parse_document

        return parse_document(self.document)

    @property
    def partners(self) -> tuple[Member, ...]:
        return tuple(m for m in self.members if m.managing_partner)


@dataclass(frozen=True)
class Ficha:
    """Every account the requester could be speaking for: the ones they belong to and the ones
    whose registered e-mail is theirs. More than one is the ambiguous case."""

    accounts: tuple[Account, ...] = ()


@dataclass(frozen=True)
class RelatedTicket:
    """Another ticket by the requester or the account's people (CONTRACT 16 and 4)."""

    id: str
    requester_email: str
    subject: str
    created_at: datetime
    tags: frozenset[str] = field(default_factory=frozenset)
    status: StatusCategory = StatusCategory.OPEN
    first_message: str = ""  # the request's text: a partner may confirm in a new e-mail
    doubt: str = ""  # as `Comment.doubt`, for the request's sender

    @property
    def trusted(self) -> bool:
        return not self.doubt
