"""The account's configuration: custom statuses, fields, macros, views, triggers and webhooks.

`setup` creates these through the API and `check` reads them back, so creation validates what
Zendesk validates (blank titles, taken labels and keys, dropdown values that are not tags):
a setup that works here fails on the real account only for reasons this fake cannot know.
"""

from __future__ import annotations

import re
import secrets
from typing import Any
from urllib.parse import urlsplit

from worker.sandbox.api import invalid
from worker.sandbox.state import (
    CATEGORIES,
    CUSTOM_FIELD_TYPES,
    OPTION_FIELD_TYPES,
    CustomStatus,
    FieldOption,
    Store,
    TicketField,
    stamp,
)

USER_FIELD_TYPES = (
    "text",
    "textarea",
    "checkbox",
    "date",
    "integer",
    "decimal",
    "regexp",
    "dropdown",
    "lookup",
    "multiselect",
)
_KEY = re.compile(r"^[A-Za-z0-9_]+$")


def create_custom_status(
    store: Store, raw: dict[str, Any], *, default: bool = False
) -> CustomStatus:
    label = raw.get("agent_label")
    category = raw.get("status_category")
    if not isinstance(label, str) or not label.strip():
        raise invalid("Agent label: cannot be blank", "agent_label")
    if category not in CATEGORIES:
        raise invalid(f"Status category: {category} is not valid", "status_category")
    taken = {s.agent_label.casefold() for s in store.custom_statuses.values()}
    if label.casefold() in taken:
        raise invalid("Agent label: has already been taken", "agent_label")
    status = CustomStatus(
        next(store.status_ids),
        label,
        str(raw.get("end_user_label") or label),
        category,
        bool(raw.get("active", True)),
        default,
        str(raw.get("description") or ""),
        store.now(),
    )
    store.save(status)
    return status


def create_ticket_field(store: Store, raw: dict[str, Any]) -> TicketField:
    kind, title = raw.get("type"), raw.get("title")
    if kind not in CUSTOM_FIELD_TYPES:
        raise invalid(f"Type: {kind} is not a valid field type", "type")
    if not isinstance(title, str) or not title.strip():
        raise invalid("Title: cannot be blank", "title")
    ticket_field = TicketField(
        0,
        kind,
        title,
        bool(raw.get("active", True)),
        store.now(),
        str(raw.get("description") or ""),
        _options(store, kind, raw.get("custom_field_options")),
    )
    return add_ticket_field(store, ticket_field)


def _options(store: Store, kind: str, raw: object) -> list[FieldOption]:
    if kind not in (*OPTION_FIELD_TYPES, "dropdown"):
        return []
    if not isinstance(raw, list) or not raw:
        raise invalid("Field options: at least one option is required", "custom_field_options")
    options: list[FieldOption] = []
    for item in raw:
        name, value = (item.get("name"), item.get("value")) if isinstance(item, dict) else ("", "")
        if not isinstance(name, str) or not isinstance(value, str) or not name or not value:
            raise invalid("Field options: each needs a name and a value", "custom_field_options")
        if value != value.lower().strip() or " " in value:
            raise invalid(f"Field options: {value} is not a valid tag", "custom_field_options")
        if value in {o.value for o in options}:
            raise invalid(f"Field options: {value} is repeated", "custom_field_options")
        options.append(FieldOption(next(store.option_ids), name, value))
    return options


def add_ticket_field(store: Store, ticket_field: TicketField) -> TicketField:
    ticket_field.id = next(store.field_ids)
    store.save(ticket_field)
    return ticket_field


def create_custom_field(store: Store, kind: str, raw: dict[str, Any]) -> dict[str, Any]:
    key, field_type, title = raw.get("key"), raw.get("type"), raw.get("title")
    if not isinstance(key, str) or not _KEY.fullmatch(key):
        raise invalid("Key: letters, digits and underscores only", "key")
    if field_type not in USER_FIELD_TYPES:
        raise invalid(f"Type: {field_type} is not a valid field type", "type")
    if not isinstance(title, str) or not title.strip():
        raise invalid("Title: cannot be blank", "title")
    definitions = store.field_definitions(kind)
    if any(d["key"] == key for d in definitions):
        raise invalid("Key: has already been taken", "key")
    record = _rule(
        store,
        f"{kind}_fields",
        title=title,
        raw_title=title,
        key=key,
        type=field_type,
        description=str(raw.get("description") or ""),
        system=False,
        position=len(definitions) + 1,
    )
    options = _options(store, str(field_type), raw.get("custom_field_options"))
    if options:
        record["custom_field_options"] = [
            {"id": o.id, "name": o.name, "raw_name": o.name, "value": o.value} for o in options
        ]
    store.add_rule(f"{kind}_fields", record)
    return record


def seed_notification_trigger(store: Store) -> None:
    title = "Notify requester and CCs of comment update"
    store.add_rule(
        "triggers",
        _rule(
            store,
            "triggers",
            title=title,
            raw_title=title,
            description="Sends an e-mail with each public comment",
            position=1,
            default=False,
            category_id="1",
            conditions={
                "all": [
                    {"field": "update_type", "operator": "is", "value": "Change"},
                    {"field": "comment_is_public", "operator": "is", "value": "true"},
                ],
                "any": [],
            },
            actions=[
                {
                    "field": "notification_user",
                    "value": [
                        "requester_and_ccs",
                        "[{{ticket.account}}] Re: {{ticket.title}}",
                        "{{ticket.latest_comment_html}}",
                    ],
                }
            ],
        ),
    )


def _rule(store: Store, collection: str, **attributes: Any) -> dict[str, Any]:
    """The attributes every macro, view, trigger and custom field record shares."""
    rule_id = next(store.rule_ids)
    now = stamp(store.now())
    return {
        "id": rule_id,
        "url": store.url(f"{collection}/{rule_id}.json"),
        "active": True,
        **attributes,
        "created_at": now,
        "updated_at": now,
    }


def create_macro(store: Store, raw: dict[str, Any]) -> dict[str, Any]:
    title, actions = raw.get("title"), raw.get("actions")
    if not isinstance(title, str) or not title.strip():
        raise invalid("Title: cannot be blank", "title")
    if not isinstance(actions, list) or not actions:
        raise invalid("Actions: cannot be blank", "actions")
    if not all(isinstance(a, dict) and "field" in a and "value" in a for a in actions):
        raise invalid("Actions: each needs a field and a value", "actions")
    macro = _rule(
        store,
        "macros",
        title=title,
        raw_title=title,
        actions=actions,
        description=raw.get("description"),
        restriction=raw.get("restriction"),
        default=False,
        position=len(store.macros) + 1,
    )
    store.add_rule("macros", macro)
    return macro


def create_view(store: Store, raw: dict[str, Any]) -> dict[str, Any]:
    title = raw.get("title")
    if not isinstance(title, str) or not title.strip():
        raise invalid("Title: cannot be blank", "title")
    conditions = raw.get("conditions") or {"all": raw.get("all", []), "any": raw.get("any", [])}
    if not conditions.get("all") and not conditions.get("any"):
        raise invalid("Conditions: a view needs at least one condition", "conditions")
    output = raw.get("output") or raw.get("execution") or {}
    execution = {
        "group_by": output.get("group_by"),
        "group_order": output.get("group_order", "asc"),
        "sort_by": output.get("sort_by"),
        "sort_order": output.get("sort_order", "asc"),
        "columns": [
            c if isinstance(c, dict) else {"id": c, "title": str(c)}
            for c in output.get("columns", [])
        ],
    }
    view = _rule(
        store,
        "views",
        title=title,
        raw_title=title,
        conditions=conditions,
        execution=execution,
        description=raw.get("description"),
        restriction=raw.get("restriction"),
        default=False,
        position=len(store.views) + 1,
    )
    store.add_rule("views", view)
    return view


WEBHOOK_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
WEBHOOK_FORMATS = ("json", "xml", "form_encoded")
TRIGGER_EVENTS = "conditional_ticket_events"


def create_webhook(store: Store, raw: dict[str, Any]) -> dict[str, Any]:
    """Zendesk's Create Webhook: name, endpoint, http_method, request_format and status are
    mandatory; a webhook is either for triggers (subscriptions exactly
    ["conditional_ticket_events"], any method and format) or for Zendesk events (POST and
    json only). The signing secret is generated here and shown only by its own endpoint."""
    name, endpoint = raw.get("name"), raw.get("endpoint")
    if not isinstance(name, str) or not name.strip():
        raise invalid("Name: cannot be blank", "name")
    parts = urlsplit(endpoint) if isinstance(endpoint, str) else None
    if parts is None or parts.scheme not in ("http", "https") or not parts.netloc:
        raise invalid("Endpoint: is not a valid URL", "endpoint")
    method, fmt, status = raw.get("http_method"), raw.get("request_format"), raw.get("status")
    if method not in WEBHOOK_METHODS:
        raise invalid(f"Http method: {method} is not valid", "http_method")
    if fmt not in WEBHOOK_FORMATS:
        raise invalid(f"Request format: {fmt} is not valid", "request_format")
    if status not in ("active", "inactive"):
        raise invalid(f"Status: {status} is not valid", "status")
    subscriptions = raw.get("subscriptions") or []
    if not isinstance(subscriptions, list) or not all(isinstance(x, str) for x in subscriptions):
        raise invalid("Subscriptions: must be a list of event types", "subscriptions")
    if TRIGGER_EVENTS in subscriptions and subscriptions != [TRIGGER_EVENTS]:
        raise invalid(
            "Subscriptions: conditional_ticket_events cannot be combined with events",
            "subscriptions",
        )
    if subscriptions and subscriptions != [TRIGGER_EVENTS] and (method, fmt) != ("POST", "json"):
        raise invalid("Subscriptions: events need http_method POST and json", "subscriptions")
    row = next(store.rule_ids)
    webhook_id = f"01SANDBOX{row:017d}"
    now = stamp(store.now())
    record = {
        "id": webhook_id,
        "name": name,
        "description": raw.get("description"),
        "endpoint": endpoint,
        "http_method": method,
        "request_format": fmt,
        "status": status,
        "subscriptions": subscriptions,
        "created_at": now,
        "created_by": str(store.worker_id),
        "updated_at": now,
        "_row": row,
        "_secret": secrets.token_urlsafe(32),
    }
    store.add_rule("webhooks", record)
    return webhook_json(record)


def webhook_json(record: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in record.items() if not key.startswith("_")}


def create_trigger(store: Store, raw: dict[str, Any]) -> dict[str, Any]:
    """A title, conditions (all/any lists of field-operator-value) and at least one action; a
    `notification_webhook` action names an existing webhook connected to triggers and a body."""
    title, actions = raw.get("title"), raw.get("actions")
    if not isinstance(title, str) or not title.strip():
        raise invalid("Title: cannot be blank", "title")
    conditions = raw.get("conditions")
    if not isinstance(conditions, dict) or not all(
        isinstance(conditions.get(k, []), list) for k in ("all", "any")
    ):
        raise invalid("Conditions: must have all and any lists", "conditions")
    listed = [*conditions.get("all", []), *conditions.get("any", [])]
    if not listed or not all(
        isinstance(c, dict) and {"field", "operator", "value"} <= set(c) for c in listed
    ):
        raise invalid("Conditions: each needs a field, an operator and a value", "conditions")
    if not isinstance(actions, list) or not actions:
        raise invalid("Actions: cannot be blank", "actions")
    for action in actions:
        if not isinstance(action, dict) or "field" not in action or "value" not in action:
            raise invalid("Actions: each needs a field and a value", "actions")
        if action["field"] == "notification_webhook":
            _webhook_action(store, action["value"])
    trigger = _rule(
        store,
        "triggers",
        title=title,
        raw_title=title,
        description=raw.get("description"),
        active=bool(raw.get("active", True)),
        conditions={"all": conditions.get("all", []), "any": conditions.get("any", [])},
        actions=actions,
        position=len(store.triggers) + 1,
        default=False,
        category_id="1",
    )
    store.add_rule("triggers", trigger)
    return trigger


def _webhook_action(store: Store, value: Any) -> None:
    if not (isinstance(value, list) and len(value) == 2 and all(isinstance(v, str) for v in value)):
        raise invalid("Actions: notification_webhook takes [webhook id, body]", "actions")
    webhook = next((w for w in store.webhooks if w["id"] == value[0]), None)
    if webhook is None:
        raise invalid(f"Actions: webhook {value[0]} does not exist", "actions")
    if webhook.get("subscriptions") != [TRIGGER_EVENTS]:
        raise invalid("Actions: the webhook is subscribed to events, not triggers", "actions")
