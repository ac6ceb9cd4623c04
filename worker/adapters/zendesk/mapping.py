"""Zendesk JSON to the engine's snapshots and steps to Zendesk update bodies: pure functions, so
the exact shapes are tested without a network and the adapter only moves data."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from worker.adapters import records
from worker.adapters.records import person, timestamp
from worker.adapters.zendesk.http import Json
from worker.adapters.zendesk.layout import AccountLayout, from_zendesk, to_zendesk
from worker.config import Config
from worker.core.effects import TargetStatus
from worker.core.model import (
    Account,
    AuthorRole,
    Channel,
    Comment,
    Member,
    RelatedTicket,
    StatusCategory,
    Ticket,
)
from worker.ports import RenderedStep

MAX_CCS = 48  # Zendesk's limit of e-mail CCs on a ticket

_CHANNELS: dict[str, Channel] = {
    "email": "email",
    "web": "web",
    "api": "api",
    "chat": "chat",
    "native_messaging": "chat",
    "voice": "phone",
    "phone": "phone",
}


def channel_of(ticket: Json) -> Channel:
    via = ticket.get("via")
    name = via.get("channel") if isinstance(via, dict) else None
    return _CHANNELS.get(str(name), "other")


def role_of(
    user: Mapping[str, object] | None, author_id: object, layout: AccountLayout
) -> AuthorRole:
    if str(author_id) == str(layout.worker_user_id):
        return AuthorRole.WORKER
    if user is not None and user.get("role") in ("agent", "admin"):
        return AuthorRole.AGENT
    return AuthorRole.END_USER


def ticket_snapshot(
    ticket: Json,
    comments: Iterable[Json],
    users: Mapping[str, Json],
    requester: Json | None,
    layout: AccountLayout,
) -> Ticket:
    """`users` by id (side-loaded with the comments); `requester` read with its accounts."""
    keys = layout.field_keys
    fields = {
        key.value: from_zendesk(key, entry.get("value"))
        for entry in ticket.get("custom_fields") or []
        if (key := keys.get(int(entry["id"]))) is not None
    }
    status = layout.statuses.get(int(ticket.get("custom_status_id") or 0))
    return Ticket(
        id=str(ticket["id"]),
        subject=str(ticket.get("subject") or ""),
        channel=channel_of(ticket),
        status=StatusCategory(str(ticket.get("status") or "new")),
        custom_status=status.label if status is not None else None,
        tags=frozenset(ticket.get("tags") or ()),
        fields=fields,
        requester=person(
            requester or users.get(str(ticket["requester_id"])), ticket["requester_id"]
        ),
        comments=tuple(
            Comment(
                id=str(c["id"]),
                author=person(users.get(str(c["author_id"])), c["author_id"]),
                role=role_of(users.get(str(c["author_id"])), c["author_id"], layout),
                public=bool(c.get("public", True)),
                body=str(c.get("body") or ""),
                created_at=timestamp(c["created_at"]),
            )
            for c in comments
        ),
        created_at=timestamp(ticket["created_at"]),
        updated_at=timestamp(ticket["updated_at"]),
        version=str(ticket["updated_at"]),
    )


def first_message(ticket: Json) -> str:
    return str(ticket.get("description") or "")


def related(ticket: Json, requester_email: str) -> RelatedTicket:
    status = StatusCategory(str(ticket.get("status") or "open"))
    return records.related(ticket, requester_email, status, first_message(ticket))


def account(organization: Json, members: Iterable[Member], config: Config) -> Account:
    values = organization.get("organization_fields") or {}
    return records.account(organization, values, members, config)


def marks(user: Json, config: Config) -> tuple[bool, bool]:
    """(holder, managing partner) from the user's checkbox fields."""
    return records.marks(user.get("user_fields") or {}, config)


def sent_tag(config: Config, step_key: str) -> str:
    """The tag an e-mail's update leaves until its note is written (CONTRACT 5): a restart that
    finds it knows the e-mail went out. `5:email-contato` -> `cancelamento-enviado-5`."""
    number = step_key.split(":", 1)[0]
    return f"{config.tags.cancellation}-enviado-{number}"


def email_update(step: RenderedStep, version: str, tags: frozenset[str], config: Config) -> Json:
    """The public comment (Zendesk's notification trigger e-mails it) and the sent tag. Tags go
    as the whole list: `safe_update` guarantees it is the list we read."""
    assert step.email is not None
    if len(step.email.cc) > MAX_CCS:
        raise ValueError(f"{len(step.email.cc)} copies; Zendesk allows at most {MAX_CCS}")
    body: Json = {
        "comment": {"html_body": step.email.html, "public": True},
        "tags": sorted(tags | {sent_tag(config, step.key)}),
        "safe_update": True,
        "updated_stamp": version,
    }
    if step.email.cc:
        body["email_ccs"] = [{"user_email": e, "action": "put"} for e in step.email.cc]
    return {"ticket": body}


def note_update(
    step: RenderedStep, version: str, tags: frozenset[str], layout: AccountLayout, config: Config
) -> Json:
    """The step's note with every other change of the step, in one guarded update. `tags` is
    the list as read (or as our e-mail update left it); the sent tag, if any, goes."""
    body: Json = {"comment": {"body": step.note, "public": False}}
    if step.status is TargetStatus.SOLVED:
        body["status"] = "solved"
    elif step.status is not None:
        body["custom_status_id"] = layout.targets[step.status].id
    if step.fields:
        body["custom_fields"] = [
            {"id": layout.fields[key], "value": to_zendesk(key, value)}
            for key, value in sorted(step.fields.items(), key=lambda item: item[0].value)
        ]
    final = (tags | step.add_tags) - step.remove_tags - {sent_tag(config, step.key)}
    if final != tags:
        body["tags"] = sorted(final)
    body["safe_update"] = True
    body["updated_stamp"] = version
    return {"ticket": body}
