"""One ticket update: checked as a whole, then applied as a whole.

Zendesk either applies an update completely or refuses it (409 for a stale `updated_stamp`,
422 for an invalid value) with nothing changed; the adapter's retry logic relies on that, so
every check happens in `plan_update` before `apply_update` touches anything. The agent's and
the customer's helpers go through the same code, so the fake has one set of rules.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from worker.sandbox.api import ApiError, invalid
from worker.sandbox.state import (
    OPTION_FIELD_TYPES,
    STATUSES,
    Comment,
    Email,
    Store,
    Ticket,
    TicketField,
    User,
    html_from_text,
    normalise_tags,
    parse_stamp,
    stamp,
    text_from_html,
)

MAX_EMAIL_CCS = 48

CONFLICT = ApiError(
    409,
    {
        "error": "UpdateConflict",
        "description": "Safe Update prevented the update due to outdated ticket data. "
        "Please fetch the latest ticket data and try again.",
    },
)


@dataclass
class NewComment:
    body: str
    html_body: str
    public: bool
    author_id: int


@dataclass
class Plan:
    """A validated update, ready to apply without any further check."""

    comment: NewComment | None = None
    status: str | None = None
    custom_status_id: int | None = None
    custom_fields: dict[int, Any] = field(default_factory=dict)
    tags: list[str] | None = None
    additional_tags: list[str] = field(default_factory=list)
    remove_tags: list[str] = field(default_factory=list)
    email_ccs: list[str] | None = None  # the resulting CC e-mails, in order
    new_cc_names: dict[str, str] = field(default_factory=dict)  # e-mail -> name, to create
    assignee_id: int | None = None
    subject: str | None = None
    priority: str | None = None
    type: str | None = None


def _tags(value: object, name: str) -> list[str]:
    try:
        return normalise_tags(value)
    except TypeError:
        raise invalid(f"{name} must be a list of strings", name) from None


def _comment(store: Store, raw: object, author_id: int) -> NewComment:
    if not isinstance(raw, dict):
        raise invalid("comment must be an object", "comment")
    author = raw.get("author_id", author_id)
    if author not in store.users:
        raise invalid(f"Author {author} not found", "comment")
    public = raw.get("public", True)  # Zendesk's default: a comment is public unless told
    if not isinstance(public, bool):
        raise invalid("comment.public must be a boolean", "comment")
    if isinstance(raw.get("html_body"), str) and raw["html_body"].strip():
        markup = raw["html_body"]
        return NewComment(text_from_html(markup), markup, public, author)
    if isinstance(raw.get("body"), str) and raw["body"].strip():
        return NewComment(raw["body"], html_from_text(raw["body"]), public, author)
    raise invalid("Comment: cannot be blank", "comment")


def _field_value(ticket_field: TicketField, value: Any) -> Any:
    if value is None or value == "":
        return None
    kind = ticket_field.type
    if kind == "date":
        if not isinstance(value, str):
            raise invalid(f"{ticket_field.title}: is not a date (YYYY-MM-DD)")
        try:
            return date.fromisoformat(value).isoformat()
        except ValueError:
            raise invalid(f"{ticket_field.title}: is not a date (YYYY-MM-DD)") from None
    if kind == "integer":
        try:
            return int(value)
        except (TypeError, ValueError):
            raise invalid(f"{ticket_field.title}: is not a number") from None
    if kind == "checkbox":
        return bool(value)
    if kind == "tagger":
        if value not in {o.value for o in ticket_field.options}:
            raise invalid(f"{ticket_field.title}: {value} is not a valid option")
        return value
    if kind == "multiselect":
        values = value if isinstance(value, list) else [value]
        if not set(values) <= {o.value for o in ticket_field.options}:
            raise invalid(f"{ticket_field.title}: not valid options: {values}")
        return list(values)
    return value


def _custom_fields(store: Store, raw: object) -> dict[int, Any]:
    if not isinstance(raw, list):
        raise invalid("custom_fields must be a list of {id, value}")
    out: dict[int, Any] = {}
    for item in raw:
        if not isinstance(item, dict) or "id" not in item:
            raise invalid("custom_fields must be a list of {id, value}")
        ticket_field = store.ticket_fields.get(item["id"])
        if ticket_field is None or not ticket_field.is_custom:
            raise invalid(f"Ticket field {item['id']} not found")
        out[ticket_field.id] = _field_value(ticket_field, item.get("value"))
    return out


def _status(store: Store, ticket: Ticket, raw: dict[str, Any], plan: Plan) -> None:
    status = raw.get("status")
    status_id = raw.get("custom_status_id")
    if status is not None and status not in STATUSES:
        raise invalid(f"Status: {status} is not valid")
    category = status
    if status_id is not None:
        custom = store.custom_statuses.get(status_id)
        if custom is None or not custom.active:
            raise invalid(f"Custom status {status_id} not found or inactive")
        if status is not None and custom.status_category != (
            "solved" if status == "closed" else status
        ):
            raise invalid(f"Status {status} does not match custom status {status_id}")
        category = status or custom.status_category
        plan.custom_status_id = custom.id
    if category is None:
        return
    if category == "new" and ticket.status != "new":
        raise invalid("Status: cannot be changed back to new")
    plan.status = category
    if plan.custom_status_id is None and category != ticket.status:
        plan.custom_status_id = store.default_status(category).id


def _email_ccs(store: Store, ticket: Ticket, raw: object, plan: Plan) -> None:
    if not isinstance(raw, list):
        raise invalid("email_ccs must be a list", "email_ccs")
    requester = store.users[ticket.requester_id].email.casefold()
    current = [store.users[u].email for u in ticket.email_cc_ids]
    for item in raw:
        if not isinstance(item, dict):
            raise invalid("email_ccs must be a list of objects", "email_ccs")
        email: str | None = None
        if "user_id" in item:
            user = store.users.get(item["user_id"])
            if user is None:
                raise invalid(f"User {item['user_id']} not found", "email_ccs")
            email = user.email
        elif isinstance(item.get("user_email"), str) and "@" in item["user_email"]:
            email = item["user_email"].strip()
        else:
            raise invalid("email_ccs: each entry needs user_id or user_email", "email_ccs")
        action = item.get("action", "put")
        known = [e.casefold() for e in current]
        if action == "put":
            if email.casefold() != requester and email.casefold() not in known:
                current.append(email)
                if store.user_by_email(email) is None:
                    plan.new_cc_names[email] = str(item.get("user_name") or email.split("@")[0])
        elif action == "delete":
            current = [e for e in current if e.casefold() != email.casefold()]
        else:
            raise invalid(f"email_ccs: unknown action {action}", "email_ccs")
    if len(current) > MAX_EMAIL_CCS:
        raise invalid(f"Email CCs: a ticket can have at most {MAX_EMAIL_CCS} CCs", "email_ccs")
    plan.email_ccs = current


def plan_update(store: Store, ticket: Ticket, raw: dict[str, Any], author_id: int) -> Plan:
    """Checks an update body; raises ApiError (409, 422) and changes nothing on refusal."""
    if raw.get("safe_update") is True:
        sent = parse_stamp(raw.get("updated_stamp"))
        if sent is None or sent != ticket.updated_at:
            raise CONFLICT
    if ticket.status == "closed":
        raise invalid("Status: closed prevents ticket update", "status")
    plan = Plan()
    if "comment" in raw:
        plan.comment = _comment(store, raw["comment"], author_id)
    _status(store, ticket, raw, plan)
    for key in ("custom_fields", "fields"):
        if key in raw:
            plan.custom_fields.update(_custom_fields(store, raw[key]))
    if "tags" in raw:
        plan.tags = _tags(raw["tags"], "tags")
    if "additional_tags" in raw:
        plan.additional_tags = _tags(raw["additional_tags"], "additional_tags")
    if "remove_tags" in raw:
        plan.remove_tags = _tags(raw["remove_tags"], "remove_tags")
    if plan.tags is not None:
        _dropdown_tags_agree(store, plan)
    if "email_ccs" in raw:
        _email_ccs(store, ticket, raw["email_ccs"], plan)
    if raw.get("assignee_id") is not None:
        assignee = store.users.get(raw["assignee_id"])
        if assignee is None or assignee.role == "end-user":
            raise invalid(f"Assignee {raw['assignee_id']} is not an agent", "assignee_id")
        plan.assignee_id = assignee.id
    for key in ("subject", "priority", "type"):
        if isinstance(raw.get(key), str):
            setattr(plan, key, raw[key])
    return plan


def _dropdown_tags_agree(store: Store, plan: Plan) -> None:
    """A dropdown's value is a tag on the ticket: `tags` and `custom_fields` sent together
    must say the same of every dropdown the update sets. Zendesk does not document which wins
    when they disagree, so the fake refuses rather than pick one (stricter than the real API)."""
    assert plan.tags is not None
    sent = set(plan.tags)
    for field_id, value in plan.custom_fields.items():
        ticket_field = store.ticket_fields[field_id]
        if ticket_field.type not in OPTION_FIELD_TYPES:
            continue
        options = {o.value for o in ticket_field.options}
        if sent & options != set(_tag_of(ticket_field, value)):
            raise invalid(
                f"{ticket_field.title}: tags and custom_fields disagree on its option", "tags"
            )


def tag_edits_refused(raw: dict[str, Any]) -> None:
    """`additional_tags`/`remove_tags` are documented for Update Many Tickets only; on one
    ticket's update Zendesk's own guide says its tags replace the list. Refused here, so the
    worker never relies on them (the agent's helpers, like the agent UI, may edit tags)."""
    for key in ("additional_tags", "remove_tags"):
        if key in raw:
            raise invalid(f"{key} works only with update_many; send the whole tags list")


def _change(store: Store, name: str, value: Any, previous: Any) -> dict[str, Any]:
    return {
        "id": next(store.event_ids),
        "type": "Change",
        "field_name": name,
        "value": value,
        "previous_value": previous,
    }


def _tag_of(ticket_field: TicketField, value: Any) -> list[str]:
    """Dropdown values live in the ticket's tags too (Zendesk keeps them in step)."""
    if ticket_field.type not in OPTION_FIELD_TYPES or value is None:
        return []
    return [str(v) for v in (value if isinstance(value, list) else [value])]


def _new_tags(store: Store, ticket: Ticket, plan: Plan) -> list[str]:
    tags = list(plan.tags if plan.tags is not None else ticket.tags)
    for field_id, value in plan.custom_fields.items():
        ticket_field = store.ticket_fields[field_id]
        old = _tag_of(ticket_field, ticket.custom_fields.get(field_id))
        kept = [t for t in tags if t not in old]
        tags = kept + [t for t in _tag_of(ticket_field, value) if t not in kept]
    tags += [t for t in plan.additional_tags if t not in tags]
    return [t for t in tags if t not in plan.remove_tags]


def apply_update(
    store: Store,
    ticket: Ticket,
    plan: Plan,
    author_id: int,
    channel: str,
    *,
    flags: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Applies a checked plan and returns the audit Zendesk would report for it. An e-mail's
    comment says where it came from (`via.source.from.address`), as Zendesk's do; `flags` is
    the comment's `metadata` flags when Zendesk doubts who wrote it."""
    at = store.touch(ticket)
    events: list[dict[str, Any]] = []
    source: dict[str, Any] = {"from": {}, "to": {}, "rel": None}
    if channel in ("email", "recovered_from_suspended_tickets"):
        author = store.users[author_id]
        source["from"] = {"address": author.email, "name": author.name}
    via = {"channel": channel, "source": source}
    if plan.email_ccs is not None:
        previous = [store.users[u].email for u in ticket.email_cc_ids]
        ids: list[int] = []
        for email in plan.email_ccs:
            user = store.user_by_email(email)
            if user is None:
                user = _create_end_user(store, plan.new_cc_names.get(email, email), email)
            ids.append(user.id)
        if ids != ticket.email_cc_ids:
            ticket.email_cc_ids = ids
            events.append(
                {
                    "id": next(store.event_ids),
                    "type": "EmailCcChange",
                    "previous_email_ccs": previous,
                    "current_email_ccs": list(plan.email_ccs),
                }
            )
    if plan.comment is not None:
        comment = Comment(
            next(store.comment_ids),
            plan.comment.author_id,
            plan.comment.body,
            plan.comment.html_body,
            plan.comment.public,
            at,
            via,
            dict(flags or {}),
        )
        ticket.comments.append(comment)
        events.append({**store.comment_json(comment), "audit_id": None})
    tags = _new_tags(store, ticket, plan)
    for field_id, value in plan.custom_fields.items():
        if ticket.custom_fields.get(field_id) != value:
            events.append(_change(store, str(field_id), value, ticket.custom_fields.get(field_id)))
            ticket.custom_fields[field_id] = value
    for ticket_field in store.ticket_fields.values():  # a removed tag clears its dropdown
        value = ticket.custom_fields.get(ticket_field.id)
        if ticket_field.type == "tagger" and value is not None and value not in tags:
            events.append(_change(store, str(ticket_field.id), None, value))
            ticket.custom_fields[ticket_field.id] = None
    if tags != ticket.tags:
        events.append(_change(store, "tags", tags, list(ticket.tags)))
        ticket.tags = tags
    if plan.status == "solved" and ticket.assignee_id is None and plan.assignee_id is None:
        author = store.users[author_id]
        plan.assignee_id = author.id if author.role != "end-user" else None
    for name in ("assignee_id", "subject", "priority", "type", "status", "custom_status_id"):
        value = getattr(plan, name)
        if value is not None and value != getattr(ticket, name):
            events.append(_change(store, name, value, getattr(ticket, name)))
            setattr(ticket, name, value)
    audit_id = next(store.audit_ids)
    for event in events:
        if "audit_id" in event:
            event["audit_id"] = audit_id
    store.save(ticket)
    if plan.comment is not None and plan.comment.public:
        events += _notify(store, ticket, plan.comment)
    return {
        "id": audit_id,
        "ticket_id": ticket.id,
        "created_at": stamp(at),
        "author_id": author_id,
        "metadata": {"system": {}, "custom": {}},
        "via": via,
        "events": events,
    }


def _notify(store: Store, ticket: Ticket, comment: NewComment) -> list[dict[str, Any]]:
    """What the notification trigger does with the worker's public comment: the e-mail."""
    trigger = store.notification_trigger()
    if comment.author_id != store.worker_id or trigger is None:
        return []
    requester = store.users[ticket.requester_id]
    ccs = tuple(store.users[u].email for u in ticket.email_cc_ids)
    store.send(Email(ticket.id, requester.email, ccs, comment.body))
    action = next(a for a in trigger["actions"] if a["field"] == "notification_user")
    return [
        {
            "id": next(store.event_ids),
            "type": "Notification",
            "subject": action["value"][1],
            "body": action["value"][2],
            "recipients": [requester.id, *ticket.email_cc_ids],
            "via": {
                "channel": "rule",
                "source": {
                    "from": {"id": trigger["id"], "title": trigger["title"]},
                    "rel": "trigger",
                },
            },
        }
    ]


def _create_end_user(store: Store, name: str, email: str) -> User:
    now = store.now()
    user = User(next(store.user_ids), name, email, "end-user", now, now)
    store.save(user)
    return user
