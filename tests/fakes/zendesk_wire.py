"""Zendesk's API on the wire, as its reference shows it: the payloads the adapter tests answer
with and read back, shared with the sandbox's contract test."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

from worker.core.effects import FieldKey, TargetStatus
from worker.ports import RenderedStep

BASE = "https://acme.zendesk.com"
API = BASE + "/api/v2"
WORKER_ID = 9000
AGENT_ID = 9001
CUSTOMER_ID = 501
IN_PROGRESS_ID = 360001
WAITING_ID = 360002
FIELD_IDS = {
    FieldKey.SITUATION: 7001,
    FieldKey.ATTEMPTS: 7002,
    FieldKey.REASON: 7003,
    FieldKey.OUTCOME: 7004,
    FieldKey.DEADLINE: 7005,
}
SINCE = datetime(2026, 11, 7, 12, 0, tzinfo=UTC)


def user(
    user_id: int, role: str = "end-user", email: str | None = None, **fields: object
) -> dict[str, Any]:
    return {
        "id": user_id,
        "url": f"{API}/users/{user_id}.json",
        "name": f"Pessoa {user_id}",
        "email": email or f"pessoa{user_id}@cliente.com.br",
        "role": role,
        "organization_id": None,
        "user_fields": fields,
    }


def status(status_id: int, label: str, category: str, *, default: bool = False) -> dict[str, Any]:
    return {
        "id": status_id,
        "agent_label": label,
        "end_user_label": label,
        "status_category": category,
        "active": True,
        "default": default,
        "description": "",
    }


def ticket(
    ticket_id: int,
    *,
    subject: str = "Cancelamento",
    description: str = "Quero cancelar meu contrato.",
    tags: tuple[str, ...] = ("cancelamento",),
    status_name: str = "new",
    custom_status_id: int = 1,
    fields: dict[int, object] | None = None,
    updated_at: str = "2026-12-07T12:00:00Z",
    channel: str = "email",
) -> dict[str, Any]:
    values = [
        {"id": field_id, "value": (fields or {}).get(field_id)} for field_id in FIELD_IDS.values()
    ]
    return {
        "id": ticket_id,
        "url": f"{API}/tickets/{ticket_id}.json",
        "subject": subject,
        "description": description,
        "status": status_name,
        "custom_status_id": custom_status_id,
        "tags": list(tags),
        "custom_fields": values,
        "fields": values,
        "requester_id": CUSTOMER_ID,
        "submitter_id": CUSTOMER_ID,
        "organization_id": 801,
        "email_cc_ids": [],
        "via": {"channel": channel, "source": {"from": {}, "to": {}, "rel": None}},
        "created_at": "2026-12-07T11:58:00Z",
        "updated_at": updated_at,
    }


def comment(comment_id: int, author: int, body: str, *, public: bool = True) -> dict[str, Any]:
    return {
        "id": comment_id,
        "type": "Comment",
        "author_id": author,
        "body": body,
        "html_body": f"<p>{body}</p>",
        "plain_body": body,
        "public": public,
        "attachments": [],
        "via": {"channel": "email"},
        "created_at": "2026-12-07T11:58:00Z",
    }


def sent_body(call: Any) -> dict[str, Any]:
    return dict(json.loads(call.request.body))


def query(call: Any) -> dict[str, list[str]]:
    return parse_qs(urlsplit(call.request.url).query)


def step(**overrides: Any) -> RenderedStep:
    values: dict[str, Any] = {
        "key": "2:tentativa",
        "note": "Tentativa 1 de 3.\n\n[cancelamento-worker] {}",
        "email": None,
        "status": TargetStatus.IN_PROGRESS,
        "fields": {FieldKey.ATTEMPTS: "1"},
        "add_tags": frozenset(),
        "remove_tags": frozenset(),
    }
    values.update(overrides)
    return RenderedStep(**values)
