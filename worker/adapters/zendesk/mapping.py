"""Zendesk JSON to the engine's snapshots and steps to Zendesk update bodies: pure functions, so
the exact shapes are tested without a network and the adapter only moves data."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace

from worker.adapters import records, trust
from worker.adapters.records import person, timestamp
from worker.adapters.zendesk.http import Json
from worker.adapters.zendesk.layout import OPTION_PREFIX, AccountLayout, from_zendesk, to_zendesk
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


# What each comment flag means, as the agent reads it (developer.zendesk.com ticket_comments,
# "Comment flags"; docs/zendesk.md). `{autor}` is the address the comment is attributed to.
FLAG_REASONS: dict[int, str] = {
    0: "o Zendesk não tem certeza de que a mensagem é confiável",
    2: "o Zendesk indica que {autor} não fazia parte da conversa",
    3: "o Zendesk indica que {autor} não estava conectado quando enviou a mensagem",
    14: "o Zendesk indica que a mensagem pode não ter sido enviada por {autor}",
    17: "é um comentário privado de um usuário final ({autor}), não de um agente",
    20: "o Zendesk indica que o usuário do Reply-to está suspenso",
    21: "o Zendesk indica que os endereços From e Reply-to são diferentes",
    22: "o Zendesk indica que {autor} não confirmou ser dono do endereço",
}
RECOVERED = "recovered_from_suspended_tickets"


def comment_doubt(
    comment: Json, author_email: str, role: AuthorRole, untrusted_flags: frozenset[int]
) -> str:
    """Why the worker should not believe the author shown, from Zendesk's own signals: the
    comment's flags, `trusted: false`, an e-mail Zendesk suspended (authentication failed) and
    an agent recovered, an e-mail from another address; and, for a customer's message, any
    channel but e-mail, where nothing checks the address typed. Empty when believed."""
    if role is AuthorRole.WORKER:
        return ""
    metadata = comment.get("metadata") or {}
    flags = [int(f) for f in metadata.get("flags") or () if isinstance(f, int | str)]
    options = metadata.get("flags_options") or {}
    who = author_email or "o autor"
    doubts = [
        FLAG_REASONS.get(code, "o Zendesk marcou a mensagem (sinal {code})").format(
            autor=who, code=code
        )
        for code in flags
        if code in untrusted_flags
    ]
    distrusted = metadata.get("trusted") is False or any(
        isinstance(o, dict) and o.get("trusted") is False for o in options.values()
    )
    if distrusted and not doubts:
        doubts.append("o Zendesk marcou a mensagem como não confiável")
    via = comment.get("via") or {}
    channel = str(via.get("channel") or "")
    if channel in (RECOVERED, "21"):
        doubts.append(
            "o e-mail foi suspenso pelo Zendesk (por exemplo, falhou na verificação do "
            "remetente) e recuperado por um agente"
        )
    elif role is AuthorRole.END_USER:
        source = via.get("source") or {}
        sender = trust.address((source.get("from") or {}).get("address"))
        doubts.append(trust.sender_doubt(_CHANNELS.get(channel, "other"), author_email, sender))
    return trust.joined(*doubts)


def ticket_snapshot(
    ticket: Json,
    comments: Iterable[Json],
    users: Mapping[str, Json],
    requester: Json | None,
    layout: AccountLayout,
    untrusted_flags: frozenset[int],
    *,
    unnoted_email: str | None = None,
) -> Ticket:
    """`users` by id (side-loaded with the comments); `requester` read with its accounts."""
    status, custom_status = _status(ticket, layout)
    return Ticket(
        id=str(ticket["id"]),
        subject=str(ticket.get("subject") or ""),
        channel=channel_of(ticket),
        status=status,
        custom_status=custom_status,
        tags=frozenset(ticket.get("tags") or ()),
        fields=_fields(ticket, layout),
        requester=person(
            requester or users.get(str(ticket["requester_id"])), ticket["requester_id"]
        ),
        comments=tuple(comment(c, users, layout, untrusted_flags) for c in comments),
        created_at=timestamp(ticket["created_at"]),
        updated_at=timestamp(ticket["updated_at"]),
        version=str(ticket["updated_at"]),
        unnoted_email=unnoted_email,
    )


def after_update(ticket: Ticket, answer: Json, layout: AccountLayout) -> Ticket:
    """The snapshot as an update left it, from the ticket its response carries: the next update
    of the same step (or the next step of the same decision) starts from what Zendesk holds,
    dropdown tags included, never from the tags and fields first read. Comments stay as read."""
    status, custom_status = _status(answer, layout)
    return replace(
        ticket,
        status=status,
        custom_status=custom_status,
        tags=frozenset(answer["tags"]),  # never guessed: a stale list would undo this write
        fields={**ticket.fields, **_fields(answer, layout)},
        updated_at=timestamp(answer["updated_at"]),
        version=str(answer["updated_at"]),
    )


def _fields(ticket: Json, layout: AccountLayout) -> dict[str, str | None]:
    keys = layout.field_keys
    return {
        key.value: from_zendesk(key, entry.get("value"))
        for entry in ticket.get("custom_fields") or []
        if (key := keys.get(int(entry["id"]))) is not None
    }


def _status(ticket: Json, layout: AccountLayout) -> tuple[StatusCategory, str | None]:
    status = layout.statuses.get(int(ticket.get("custom_status_id") or 0))
    category = StatusCategory(str(ticket.get("status") or "new"))
    return category, status.label if status is not None else None


def comment(
    c: Json, users: Mapping[str, Json], layout: AccountLayout, untrusted_flags: frozenset[int]
) -> Comment:
    author = person(users.get(str(c["author_id"])), c["author_id"])
    role = role_of(users.get(str(c["author_id"])), c["author_id"], layout)
    return Comment(
        id=str(c["id"]),
        author=author,
        role=role,
        public=bool(c.get("public", True)),
        body=str(c.get("body") or ""),
        created_at=timestamp(c["created_at"]),
        doubt=comment_doubt(c, author.key, role, untrusted_flags),
    )


def first_message(ticket: Json) -> str:
    return str(ticket.get("description") or "")


def related(ticket: Json, requester_email: str) -> RelatedTicket:
    status = StatusCategory(str(ticket.get("status") or "open"))
    via = ticket.get("via") or {}
    sender = trust.address(((via.get("source") or {}).get("from") or {}).get("address"))
    doubt = trust.sender_doubt(channel_of(ticket), requester_email, sender)
    return records.related(ticket, requester_email, status, first_message(ticket), doubt)


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


def unnoted_email(tags: Iterable[str], config: Config) -> str | None:
    """The number of the step whose e-mail's update left its sent tag, its note not written
    yet (`cancelamento-enviado-5` -> `5`); the tag names no step kind. None without one."""
    prefix = f"{config.tags.cancellation}-enviado-"
    numbers = sorted(
        int(tag[len(prefix) :])
        for tag in tags
        if tag.startswith(prefix) and tag[len(prefix) :].isascii() and tag[len(prefix) :].isdigit()
    )
    return str(numbers[-1]) if numbers else None


def email_update(step: RenderedStep, ticket: Ticket, config: Config) -> Json:
    """The public comment (Zendesk's notification trigger e-mails it) and the sent tag. Tags go
    as the whole list (a single update has no `additional_tags`), computed from `ticket` as the
    previous write left it; `safe_update` guarantees nothing changed since."""
    assert step.email is not None
    if len(step.email.cc) > MAX_CCS:
        raise ValueError(f"{len(step.email.cc)} copies; Zendesk allows at most {MAX_CCS}")
    body: Json = {
        "comment": {"html_body": step.email.html, "public": True},
        "tags": sorted(ticket.tags | {sent_tag(config, step.key)}),
        "safe_update": True,
        "updated_stamp": ticket.version,
    }
    if step.email.cc:
        body["email_ccs"] = [{"user_email": e, "action": "put"} for e in step.email.cc]
    return {"ticket": body}


def note_update(step: RenderedStep, ticket: Ticket, layout: AccountLayout, config: Config) -> Json:
    """The step's note with every other change of the step, in one guarded update, computed
    from `ticket` as the previous write left it (the sent tag, if any, goes)."""
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
    final = tags_after(step, ticket.tags, config)
    if final != ticket.tags:
        body["tags"] = sorted(final)
    body["safe_update"] = True
    body["updated_stamp"] = ticket.version
    return {"ticket": body}


def tags_after(step: RenderedStep, tags: frozenset[str], config: Config) -> frozenset[str]:
    """The whole list the note's update sends. A dropdown's value is also a tag on the ticket:
    a list without it clears the field, one with another option's tag contradicts the field.
    So the list carries exactly the option tag of each dropdown the step sets (ours all share
    a prefix per field), and agrees with `custom_fields` whatever order Zendesk applies them."""
    final = (tags | step.add_tags) - step.remove_tags - {sent_tag(config, step.key)}
    for key, value in step.fields.items():
        prefix = OPTION_PREFIX.get(key)
        if prefix is None:
            continue
        final = frozenset(t for t in final if not t.startswith(prefix))
        if value is not None:
            final |= {str(to_zendesk(key, value))}
    return final
