"""Freshdesk JSON to the engine's snapshots, and steps to Freshdesk request bodies: pure
functions, so the exact shapes are tested without a network and the adapter only moves data.

Text is read from a conversation's HTML `body`, not from `body_text`: Freshdesk's plain text
joins lines with spaces, and the worker's state marker must stay on a line of its own. Quoted
history (a `<blockquote>`, Freshdesk's `freshdesk_quote` block) is dropped, since only what the
person wrote above it is their answer (CONTRACT 14).
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Mapping
from email.utils import parseaddr
from html.parser import HTMLParser
from typing import Any

from worker.adapters import records, trust
from worker.adapters.freshdesk.http import Json
from worker.adapters.freshdesk.layout import BUILTIN, AccountLayout
from worker.adapters.records import person, timestamp
from worker.config import Config
from worker.core.model import (
    Account,
    AuthorRole,
    Channel,
    Comment,
    Member,
    Person,
    RelatedTicket,
    StatusCategory,
    Ticket,
)
from worker.ports import RenderedStep

# Ticket `source` numbers: 1 Email, 2 Portal, 3 Phone, 7 Chat, 9 Feedback widget, 10 Outbound
# email (an agent's, so never a customer's request).
_CHANNELS: dict[int, Channel] = {1: "email", 2: "web", 3: "phone", 7: "chat", 9: "web"}
_BLOCKS = frozenset({"p", "div", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "pre", "table"})


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.quoted = 0  # depth inside quoted history
        self.stack: list[bool] = []  # per open element: does it start quoted history?

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "br":
            self.parts.append("\n")
            return
        classes = " ".join(value or "" for name, value in attrs if name == "class")
        quote = tag == "blockquote" or "freshdesk_quote" in classes
        self.stack.append(quote)
        self.quoted += quote
        if tag in _BLOCKS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag == "br":
            return
        if self.stack:
            self.quoted -= self.stack.pop()
        if tag in _BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self.quoted:
            self.parts.append(re.sub(r"\s+", " ", data.replace("\xa0", " ")))


def html_to_text(body: str) -> str:
    parser = _Text()
    parser.feed(body)
    parser.close()
    lines = [line.strip() for line in "".join(parser.parts).split("\n")]
    text = "\n".join(lines)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def text_to_html(text: str) -> str:
    """A note's plain text as HTML that `html_to_text` reads back line for line."""
    return "<div>" + "<br>".join(html.escape(line) for line in text.split("\n")) + "</div>"


def text_of(item: Mapping[str, Any], html_key: str = "body", text_key: str = "body_text") -> str:
    body = item.get(html_key)
    if isinstance(body, str) and body:
        return html_to_text(body)
    return str(item.get(text_key) or "")


def first_message(ticket: Json) -> str:
    """The ticket's description: the requester's first message."""
    return text_of(ticket, "description", "description_text")


def channel_of(ticket: Json) -> Channel:
    source = ticket.get("source")
    return _CHANNELS.get(int(source), "other") if isinstance(source, int) else "other"


def author_of(
    conversation: Json, requester: Person, people: Mapping[str, Json], layout: AccountLayout
) -> tuple[Person, AuthorRole]:
    user_id = str(conversation.get("user_id"))
    if user_id == str(layout.worker_id):
        return person(people.get(user_id), user_id), AuthorRole.WORKER
    if not conversation.get("incoming"):
        known = people.get(user_id)
        return person(known, user_id) if known else Person(user_id, "", ""), AuthorRole.AGENT
    if user_id == requester.id:
        return requester, AuthorRole.END_USER
    known = people.get(user_id)
    if known is not None:
        return person(known, user_id), AuthorRole.END_USER
    _, email = parseaddr(str(conversation.get("from_email") or ""))
    return Person(user_id, email, ""), AuthorRole.END_USER


def conversation_doubt(conversation: Json, author: Person, role: AuthorRole) -> str:
    """Freshdesk documents no sender check on a conversation: a customer's message is believed
    when it came in by e-mail (`from_email`) from the address of the contact it is attributed
    to (`user_id`), and not otherwise. Agents' and the worker's own are not doubted here."""
    if role is not AuthorRole.END_USER:
        return ""
    return trust.sender_doubt("email", author.email, trust.address(conversation.get("from_email")))


def status_of(ticket: Json, layout: AccountLayout) -> tuple[StatusCategory, str | None]:
    ref = layout.statuses.get(int(ticket.get("status") or 2))
    if ref is None:  # a status added after the worker started: open, and named by its number
        return StatusCategory.OPEN, str(ticket.get("status"))
    custom = None if ref.id in BUILTIN else ref.label
    return ref.category, custom


def ticket_snapshot(
    ticket: Json,
    conversations: Iterable[Json],
    requester: Person,
    people: Mapping[str, Json],
    layout: AccountLayout,
) -> Ticket:
    """The description is the requester's first message; conversations follow in order."""
    keys = layout.field_keys
    values = ticket.get("custom_fields") or {}
    fields = {
        key.value: layout.options.from_freshdesk(key, values.get(name))
        for name, key in keys.items()
    }
    created = timestamp(ticket["created_at"])
    first = Comment(
        f"d{ticket['id']}",
        requester,
        AuthorRole.END_USER,
        True,
        first_message(ticket),
        created,
        doubt=trust.channel_doubt(channel_of(ticket)),
    )
    comments = [first]
    for conversation in conversations:
        author, role = author_of(conversation, requester, people, layout)
        comments.append(
            Comment(
                id=str(conversation["id"]),
                author=author,
                role=role,
                public=not conversation.get("private", False),
                body=text_of(conversation),
                created_at=timestamp(conversation["created_at"]),
                doubt=conversation_doubt(conversation, author, role),
            )
        )
    status, custom = status_of(ticket, layout)
    return Ticket(
        id=str(ticket["id"]),
        subject=str(ticket.get("subject") or ""),
        channel=channel_of(ticket),
        status=status,
        custom_status=custom,
        tags=frozenset(ticket.get("tags") or ()),
        fields=fields,
        requester=requester,
        comments=tuple(comments),
        created_at=created,
        updated_at=timestamp(ticket["updated_at"]),
        version=str(ticket["updated_at"]),
        cc_emails=tuple(str(e).strip().lower() for e in ticket.get("cc_emails") or ()),
    )


def related(ticket: Json, requester_email: str) -> RelatedTicket:
    status = BUILTIN.get(int(ticket.get("status") or 2), StatusCategory.OPEN)
    doubt = trust.channel_doubt(channel_of(ticket))
    return records.related(ticket, requester_email, status, first_message(ticket), doubt)


def account(company: Json, members: Iterable[Member], config: Config) -> Account:
    return records.account(company, company.get("custom_fields") or {}, members, config)


def marks(contact: Json, config: Config) -> tuple[bool, bool]:
    """(holder, managing partner) from the contact's checkbox fields."""
    return records.marks(contact.get("custom_fields") or {}, config)


def company_ids(contact: Json) -> list[str]:
    """The contact's companies: `company_id` and `other_companies`, which Freshdesk gives as
    ids (list of contacts) or as `{company_id, view_all_tickets}` objects (one contact)."""
    found: list[str] = []
    if contact.get("company_id"):
        found.append(str(contact["company_id"]))
    for other in contact.get("other_companies") or ():
        value = other.get("company_id") if isinstance(other, dict) else other
        if value and str(value) not in found:
            found.append(str(value))
    return found


# --- writing ----------------------------------------------------------------------------------


def reply_body(step: RenderedStep) -> Json:
    """The e-mail: a public reply, with the partners in copy (CONTRACT 10)."""
    assert step.email is not None
    body: Json = {"body": step.email.html}
    if step.email.cc:
        body["cc_emails"] = list(step.email.cc)
    return body


def note_body(step: RenderedStep) -> Json:
    return {"body": text_to_html(step.note), "private": True}


def planned_update(step: RenderedStep, layout: AccountLayout) -> Json:
    """What the step changes besides its comments, as ids, field values and tag names: the
    journal keeps this (no personal data) so that a restart can finish it alone."""
    plan: Json = {}
    if step.status is not None:
        plan["status"] = layout.status_id(step.status)
    if step.fields:
        plan["custom_fields"] = {
            layout.fields[key]: layout.options.to_freshdesk(key, value)
            for key, value in sorted(step.fields.items(), key=lambda item: item[0].value)
        }
    plan["add_tags"] = sorted(step.add_tags)
    plan["remove_tags"] = sorted(step.remove_tags)
    return plan


def update_body(plan: Json, current_tags: Iterable[str]) -> Json:
    """The PUT: tags go as the whole list (Freshdesk replaces it), computed from the ticket as
    just re-read, so an agent's tag is kept."""
    body: Json = {}
    if "status" in plan:
        body["status"] = plan["status"]
    if plan.get("custom_fields"):
        body["custom_fields"] = dict(plan["custom_fields"])
    now = set(current_tags)
    tags = (now | set(plan.get("add_tags") or ())) - set(plan.get("remove_tags") or ())
    if tags != now:
        body["tags"] = sorted(tags)
    return body
