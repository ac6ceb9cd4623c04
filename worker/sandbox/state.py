"""The fake account's records and how the API shows them.

Records are plain dataclasses so that tests and the sandbox's admin endpoints can inspect them,
kept in SQLite by the Store (`db.py`); the JSON shapes follow the official Zendesk API
documentation, field names exactly, so the adapter is written against what the real service
returns, not against a convenient simplification.
"""

from __future__ import annotations

import html
import json
import re
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path
from typing import Any, NamedTuple

from worker.sandbox.db import Codec, Database, Table

CATEGORIES = ("new", "open", "pending", "hold", "solved")
STATUSES = (*CATEGORIES, "closed")  # in Zendesk's order, which `status<solved` compares by
SYSTEM_FIELD_TYPES = (
    "subject",
    "description",
    "status",
    "custom_status",
    "tickettype",
    "priority",
    "group",
    "assignee",
)
CUSTOM_FIELD_TYPES = (
    "text",
    "textarea",
    "checkbox",
    "date",
    "integer",
    "decimal",
    "regexp",
    "partialcreditcard",
    "multiselect",
    "tagger",
    "lookup",
)
OPTION_FIELD_TYPES = ("tagger", "multiselect")


def utc(moment: datetime) -> datetime:
    """Zendesk stamps are whole seconds in UTC; the fake clock may carry an offset or micros."""
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return aware.astimezone(UTC).replace(microsecond=0)


def stamp(moment: datetime) -> str:
    return utc(moment).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_stamp(text: object) -> datetime | None:
    if not isinstance(text, str):
        return None
    try:
        return utc(datetime.fromisoformat(text))
    except ValueError:
        return None


def normalise_tags(tags: object) -> list[str]:
    """Zendesk lower-cases tags and splits them on whitespace (a tag has no spaces)."""
    if isinstance(tags, str):
        tags = [tags]
    if not isinstance(tags, list | tuple):
        raise TypeError("tags must be a list of strings")
    out: list[str] = []
    for tag in tags:
        for piece in str(tag).lower().split():
            if piece not in out:
                out.append(piece)
    return out


class _TextExtractor(HTMLParser):
    BLOCKS = frozenset({"p", "div", "li", "tr", "h1", "h2", "h3", "h4", "blockquote", "ul", "ol"})

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "br":
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def text_from_html(markup: str) -> str:
    """The `body` Zendesk derives from an `html_body`: what a reader of the e-mail sees."""
    extractor = _TextExtractor()
    extractor.feed(markup)
    extractor.close()
    text = "".join(extractor.parts)
    text = re.sub(r"[ \t]+\n", "\n", text)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def html_from_text(text: str) -> str:
    lines = "<br>".join(html.escape(line) for line in text.split("\n"))
    return f'<div class="zd-comment" dir="auto">{lines}</div>'


# --- records -----------------------------------------------------------------------------------


@dataclass
class User:
    id: int
    name: str
    email: str
    role: str
    created_at: datetime
    updated_at: datetime
    user_fields: dict[str, Any] = field(default_factory=dict)


@dataclass
class Organization:
    id: int
    name: str
    created_at: datetime
    updated_at: datetime
    organization_fields: dict[str, Any] = field(default_factory=dict)


@dataclass
class Membership:
    id: int
    user_id: int
    organization_id: int
    default: bool
    created_at: datetime


@dataclass
class CustomStatus:
    id: int
    agent_label: str
    end_user_label: str
    status_category: str
    active: bool
    default: bool
    description: str
    created_at: datetime


@dataclass
class FieldOption:
    id: int
    name: str
    value: str


@dataclass
class TicketField:
    id: int
    type: str
    title: str
    active: bool
    created_at: datetime
    description: str = ""
    options: list[FieldOption] = field(default_factory=list)

    @property
    def is_custom(self) -> bool:
        return self.type not in SYSTEM_FIELD_TYPES


@dataclass
class Comment:
    id: int
    author_id: int
    body: str
    html_body: str
    public: bool
    created_at: datetime
    via: dict[str, Any]
    # Zendesk's comment flags, as its API shows them: `flags`, `flags_options`, `trusted`.
    flags: dict[str, Any] = field(default_factory=dict)


@dataclass
class Ticket:
    id: int
    subject: str
    requester_id: int
    submitter_id: int
    organization_id: int | None
    status: str
    custom_status_id: int
    via: dict[str, Any]
    created_at: datetime
    updated_at: datetime
    tags: list[str] = field(default_factory=list)
    custom_fields: dict[int, Any] = field(default_factory=dict)
    email_cc_ids: list[int] = field(default_factory=list)
    assignee_id: int | None = None
    priority: str | None = None
    type: str | None = None
    comments: list[Comment] = field(default_factory=list)

    @property
    def description(self) -> str:
        return self.comments[0].body if self.comments else ""


class Email(NamedTuple):
    """An e-mail the account's notification trigger sent: what the customer receives."""

    ticket_id: int
    to: str
    cc: tuple[str, ...]
    body: str


# --- the account ----------------------------------------------------------------------------


class Ids:
    """One range of ids, its next value kept in the database so a restart goes on from it."""

    def __init__(self, db: Database, name: str, start: int) -> None:
        self.db = db
        self.name = name
        self.start = start
        self.value = start

    def load(self) -> None:
        self.value = self.db.get_meta(self.name) or self.start

    def __iter__(self) -> Ids:
        return self

    def __next__(self) -> int:
        value = self.value
        self.value += 1
        self.db.set_meta(self.name, self.value)
        return value


Record = User | Organization | Membership | CustomStatus | TicketField | Ticket
TABLES: dict[type[Any], Table] = {
    User: Table("users", ("email",)),
    Organization: Table("organizations"),
    Membership: Table("memberships", ("user_id", "organization_id")),
    CustomStatus: Table("custom_statuses"),
    TicketField: Table("ticket_fields"),
    Ticket: Table("tickets", ("updated_at",)),
}
RULES = ("user_fields", "organization_fields", "macros", "views", "triggers", "webhooks")


class Store:
    """Every record of the account, the lookups the endpoints need, and their JSON shapes.

    The records live in SQLite (`db.Database`, in memory unless a file is given). The Store keeps
    each one decoded in the dicts and lists below, for reading, and writes every change through
    in the same request (`save`, `add_rule`, `send`); one process owns the database. Lookups
    that have an index (e-mail, memberships, the export's order) are asked of SQLite.

    Ids come from separate ranges per kind (tickets are small numbers, as in a real account),
    so an adapter that passes a user id where a ticket id belongs gets a 404, not a wrong record.
    """

    def __init__(
        self, clock: Callable[[], datetime], base_url: str, database: str | Path = ":memory:"
    ) -> None:
        self._clock = clock
        self.base_url = base_url
        self.db = Database(database)
        self.lock = threading.RLock()
        self.codecs = {kind: Codec(kind) for kind in TABLES}
        self.users: dict[int, User] = {}
        self.organizations: dict[int, Organization] = {}
        self.memberships: dict[int, Membership] = {}
        self.custom_statuses: dict[int, CustomStatus] = {}
        self.ticket_fields: dict[int, TicketField] = {}
        self.tickets: dict[int, Ticket] = {}
        self.user_fields: list[dict[str, Any]] = []
        self.organization_fields: list[dict[str, Any]] = []
        self.macros: list[dict[str, Any]] = []
        self.views: list[dict[str, Any]] = []
        self.triggers: list[dict[str, Any]] = []
        self.webhooks: list[dict[str, Any]] = []  # "_secret" and "_row" are never shown
        self.outbox: list[Email] = []
        self.worker_id = 0  # set by FakeZendesk once the worker's user exists
        self.ticket_ids = Ids(self.db, "ticket_ids", 1)
        self.user_ids = Ids(self.db, "user_ids", 1_000_001)
        self.organization_ids = Ids(self.db, "organization_ids", 2_000_001)
        self.comment_ids = Ids(self.db, "comment_ids", 3_000_001)
        self.status_ids = Ids(self.db, "status_ids", 4_000_001)
        self.field_ids = Ids(self.db, "field_ids", 5_000_001)
        self.option_ids = Ids(self.db, "option_ids", 6_000_001)
        self.membership_ids = Ids(self.db, "membership_ids", 7_000_001)
        self.audit_ids = Ids(self.db, "audit_ids", 8_000_001)
        self.event_ids = Ids(self.db, "event_ids", 9_000_001)
        # macros, views, triggers, user and organization fields
        self.rule_ids = Ids(self.db, "rule_ids", 10_000_001)
        self.load()

    # --- persistence ------------------------------------------------------------------------

    def _records(self, kind: type[Any]) -> dict[int, Any]:
        by_kind: dict[type[Any], dict[int, Any]] = {
            User: self.users,
            Organization: self.organizations,
            Membership: self.memberships,
            CustomStatus: self.custom_statuses,
            TicketField: self.ticket_fields,
            Ticket: self.tickets,
        }
        return by_kind[kind]

    def load(self) -> None:
        """(Re)reads everything from the database: at start, and after a restore or a failure."""
        for kind, table in TABLES.items():
            records = self._records(kind)
            records.clear()
            codec = self.codecs[kind]
            for record_id, data in self.db.rows(table.name):
                records[record_id] = codec.load(data)
        for collection in RULES:
            rules: list[dict[str, Any]] = getattr(self, collection)
            rules[:] = [
                json.loads(data)
                for _, data in self.db.rows("rules", "WHERE collection = ?", collection)
            ]
        self.outbox[:] = [Email(*json.loads(data)) for _, data in self.db.rows("emails")]
        for ids in vars(self).values():
            if isinstance(ids, Ids):
                ids.load()
        self.worker_id = self.db.get_meta("worker_id") or 0

    @property
    def is_new(self) -> bool:
        return self.db.get_meta("worker_id") is None

    def set_meta(self, key: str, value: int) -> None:
        self.db.set_meta(key, value)

    def get_meta(self, key: str) -> int | None:
        return self.db.get_meta(key)

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """One request or one seeding call: under the lock, written all or nothing. On an
        unexpected failure the decoded records are read back, so they match the database."""
        with self.lock:
            try:
                with self.db.transaction():
                    yield
            except Exception:
                if self.db.depth == 0:
                    self.load()
                raise

    def save(self, record: Record) -> None:
        table = TABLES[type(record)]
        columns: dict[str, object] = {c: getattr(record, c) for c in table.columns}
        if isinstance(record, User):
            columns["email"] = record.email.casefold()
        if isinstance(record, Ticket):
            columns["updated_at"] = int(record.updated_at.timestamp())
        with self.lock:
            self.db.write(table, record.id, self.codecs[type(record)].dump(record), **columns)
            self._records(type(record))[record.id] = record

    def add_rule(self, collection: str, record: dict[str, Any]) -> None:
        """A macro, view, trigger, webhook, user or organization field (kept as Zendesk shows
        it; a webhook's id is a string, so its row is `_row`)."""
        with self.lock:
            self.db.write(
                Table("rules", ("collection",)),
                record.get("_row", record["id"]),
                json.dumps(record),
                collection=collection,
            )
            getattr(self, collection).append(record)

    def send(self, email: Email) -> None:
        with self.lock:
            self.db.append("emails", json.dumps(list(email)), ticket_id=email.ticket_id)
            self.outbox.append(email)

    def snapshot(self) -> sqlite3.Connection:
        with self.lock:
            return self.db.snapshot()

    def restore(self, snapshot: sqlite3.Connection) -> None:
        with self.lock:
            self.db.restore(snapshot)
            self.load()

    def close(self) -> None:
        with self.lock:
            self.db.close()

    def counts(self) -> dict[str, int]:
        return {
            "tickets": len(self.tickets),
            "comments": sum(len(t.comments) for t in self.tickets.values()),
            "users": len(self.users),
            "organizations": len(self.organizations),
            "emails": len(self.outbox),
            "custom_statuses": len(self.custom_statuses),
            "ticket_fields": len(self.ticket_fields),
            **{c: len(getattr(self, c)) for c in RULES},
        }

    def now(self) -> datetime:
        return utc(self._clock())

    def touch(self, ticket: Ticket) -> datetime:
        """Every change moves `updated_at` strictly forward, so a stamp names one version and
        `safe_update` can tell two quick updates apart (Zendesk's stamps are whole seconds)."""
        ticket.updated_at = max(self.now(), ticket.updated_at + timedelta(seconds=1))
        return ticket.updated_at

    def url(self, path: str) -> str:
        return f"{self.base_url}/api/v2/{path}"

    # --- lookups ----------------------------------------------------------------------------

    def user_by_email(self, email: str) -> User | None:
        found = self.db.ids("SELECT id FROM users WHERE email = ?", email.strip().casefold())
        return self.users[found[0]] if found else None

    def memberships_of(self, user_id: int) -> list[Membership]:
        found = self.db.ids("SELECT id FROM memberships WHERE user_id = ? ORDER BY id", user_id)
        return [self.memberships[i] for i in found]

    def organization_ids_of(self, user_id: int) -> list[int]:
        return [m.organization_id for m in self.memberships_of(user_id)]

    def member_ids(self, organization_id: int) -> list[int]:
        return self.db.ids(
            "SELECT DISTINCT user_id FROM memberships WHERE organization_id = ? ORDER BY user_id",
            organization_id,
        )

    def default_organization_id(self, user_id: int) -> int | None:
        mine = self.memberships_of(user_id)
        chosen = next((m for m in mine if m.default), mine[0] if mine else None)
        return chosen.organization_id if chosen else None

    def tickets_changed(self, after: tuple[int, int], until: datetime, limit: int) -> list[Ticket]:
        """Tickets by (updated_at, id) after a position and not after `until` (unix seconds)."""
        found = self.db.ids(
            "SELECT id FROM tickets WHERE (updated_at, id) > (?, ?) AND updated_at <= ?"
            " ORDER BY updated_at, id LIMIT ?",
            *after,
            int(until.timestamp()),
            limit,
        )
        return [self.tickets[i] for i in found]

    def default_status(self, category: str) -> CustomStatus:
        """Moving a ticket to a category lands on that category's default custom status."""
        category = "solved" if category == "closed" else category
        return next(
            s
            for s in self.custom_statuses.values()
            if s.status_category == category and s.default and s.active
        )

    def field_definitions(self, kind: str) -> list[dict[str, Any]]:
        return self.user_fields if kind == "user" else self.organization_fields

    def notification_trigger(self) -> dict[str, Any] | None:
        """The trigger that turns a public comment into an e-mail: without it (deleted or
        inactive) Zendesk sends nothing, which `check` exists to catch."""
        for trigger in self.triggers:
            conditions = trigger.get("conditions", {}).get("all", [])
            public = any(c.get("field") == "comment_is_public" for c in conditions)
            notifies = any(
                a.get("field") == "notification_user"
                and (a.get("value") or [None])[0] == "requester_and_ccs"
                for a in trigger.get("actions", [])
            )
            if trigger.get("active") and public and notifies:
                return trigger
        return None

    # --- JSON -------------------------------------------------------------------------------

    def _custom_values(self, kind: str, values: dict[str, Any]) -> dict[str, Any]:
        """Zendesk lists every defined field, unset ones as null (checkboxes as false)."""
        out: dict[str, Any] = {}
        for definition in self.field_definitions(kind):
            out[definition["key"]] = False if definition["type"] == "checkbox" else None
        out.update(values)
        return out

    def user_json(self, user: User) -> dict[str, Any]:
        return {
            "id": user.id,
            "url": self.url(f"users/{user.id}.json"),
            "name": user.name,
            "email": user.email,
            "role": user.role,
            "role_type": None,
            "active": True,
            "verified": True,
            "suspended": False,
            "shared": False,
            "organization_id": self.default_organization_id(user.id),
            "external_id": None,
            "phone": None,
            "locale": "pt-BR",
            "time_zone": "America/Sao_Paulo",
            "tags": [],
            "user_fields": self._custom_values("user", user.user_fields),
            "created_at": stamp(user.created_at),
            "updated_at": stamp(user.updated_at),
        }

    def organization_json(self, organization: Organization) -> dict[str, Any]:
        return {
            "id": organization.id,
            "url": self.url(f"organizations/{organization.id}.json"),
            "name": organization.name,
            "external_id": None,
            "domain_names": [],
            "details": "",
            "notes": "",
            "group_id": None,
            "shared_tickets": False,
            "shared_comments": False,
            "tags": [],
            "organization_fields": self._custom_values(
                "organization", organization.organization_fields
            ),
            "created_at": stamp(organization.created_at),
            "updated_at": stamp(organization.updated_at),
        }

    def membership_json(self, membership: Membership) -> dict[str, Any]:
        return {
            "id": membership.id,
            "url": self.url(f"organization_memberships/{membership.id}.json"),
            "user_id": membership.user_id,
            "organization_id": membership.organization_id,
            "default": membership.default,
            "organization_name": self.organizations[membership.organization_id].name,
            "view_tickets": True,
            "created_at": stamp(membership.created_at),
            "updated_at": stamp(membership.created_at),
        }

    def custom_status_json(self, status: CustomStatus) -> dict[str, Any]:
        return {
            "id": status.id,
            "url": self.url(f"custom_statuses/{status.id}.json"),
            "agent_label": status.agent_label,
            "raw_agent_label": status.agent_label,
            "end_user_label": status.end_user_label,
            "raw_end_user_label": status.end_user_label,
            "status_category": status.status_category,
            "active": status.active,
            "default": status.default,
            "description": status.description,
            "raw_description": status.description,
            "end_user_description": "",
            "raw_end_user_description": "",
            "created_at": stamp(status.created_at),
            "updated_at": stamp(status.created_at),
        }

    def ticket_field_json(self, ticket_field: TicketField) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": ticket_field.id,
            "url": self.url(f"ticket_fields/{ticket_field.id}.json"),
            "type": ticket_field.type,
            "title": ticket_field.title,
            "raw_title": ticket_field.title,
            "description": ticket_field.description,
            "raw_description": ticket_field.description,
            "position": list(self.ticket_fields).index(ticket_field.id) + 1,
            "active": ticket_field.active,
            "required": False,
            "removable": ticket_field.is_custom,
            "visible_in_portal": False,
            "editable_in_portal": False,
            "title_in_portal": ticket_field.title,
            "tag": None,
            "created_at": stamp(ticket_field.created_at),
            "updated_at": stamp(ticket_field.created_at),
        }
        if ticket_field.type in OPTION_FIELD_TYPES:
            out["custom_field_options"] = [
                {"id": o.id, "name": o.name, "raw_name": o.name, "value": o.value, "default": False}
                for o in ticket_field.options
            ]
        return out

    def comment_json(self, comment: Comment) -> dict[str, Any]:
        return {
            "id": comment.id,
            "type": "Comment",
            "author_id": comment.author_id,
            "body": comment.body,
            "html_body": comment.html_body,
            "plain_body": comment.body,
            "public": comment.public,
            "attachments": [],
            "via": comment.via,
            "metadata": {"system": {}, "custom": {}, **comment.flags},
            "created_at": stamp(comment.created_at),
        }

    def ticket_json(self, ticket: Ticket) -> dict[str, Any]:
        fields = [
            {"id": f.id, "value": ticket.custom_fields.get(f.id)}
            for f in self.ticket_fields.values()
            if f.is_custom
        ]
        return {
            "id": ticket.id,
            "url": self.url(f"tickets/{ticket.id}.json"),
            "external_id": None,
            "type": ticket.type,
            "subject": ticket.subject,
            "raw_subject": ticket.subject,
            "description": ticket.description,
            "priority": ticket.priority,
            "status": ticket.status,
            "custom_status_id": ticket.custom_status_id,
            "recipient": None,
            "requester_id": ticket.requester_id,
            "submitter_id": ticket.submitter_id,
            "assignee_id": ticket.assignee_id,
            "organization_id": ticket.organization_id,
            "group_id": None,
            "collaborator_ids": list(ticket.email_cc_ids),
            "follower_ids": [],
            "email_cc_ids": list(ticket.email_cc_ids),
            "has_incidents": False,
            "is_public": any(c.public for c in ticket.comments),
            "due_at": None,
            "tags": list(ticket.tags),
            "custom_fields": fields,
            "fields": [dict(f) for f in fields],
            "via": ticket.via,
            "satisfaction_rating": None,
            "allow_channelback": False,
            "allow_attachments": True,
            "from_messaging_channel": False,
            "generated_timestamp": int(ticket.updated_at.timestamp()),
            "created_at": stamp(ticket.created_at),
            "updated_at": stamp(ticket.updated_at),
        }
