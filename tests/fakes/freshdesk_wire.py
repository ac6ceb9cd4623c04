"""Freshdesk's API on the wire, as its reference shows it: the payloads the adapter tests
answer with and read back, shared by the adapter, journal and setup tests."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import responses

from worker.adapters.freshdesk.mapping import html_to_text
from worker.config import Config
from worker.core.effects import FieldKey, TargetStatus
from worker.ports import RenderedStep

BASE = "https://acme.freshdesk.com"
API = BASE + "/api/v2"
WORKER_ID = 9000
AGENT_ID = 9001
CUSTOMER_ID = 501
IN_PROGRESS = 6
WAITING = 7
FIELD_NAMES = {
    FieldKey.SITUATION: "cf_situacao_do_cancelamento",
    FieldKey.ATTEMPTS: "cf_tentativas_de_ligacao",
    FieldKey.REASON: "cf_motivo_da_insatisfacao",
    FieldKey.OUTCOME: "cf_resultado_do_cancelamento",
    FieldKey.DEADLINE: "cf_prazo_do_retorno",
}
SINCE = datetime(2026, 11, 7, 12, 0, tzinfo=UTC)
NOW = SINCE + timedelta(days=Config().procedure.first_run_lookback_days)


def ticket_fields() -> list[dict[str, Any]]:
    titles = Config().fields
    status = {
        "id": 2000,
        "name": "status",
        "label": "Status",
        "type": "default_status",
        "default": True,
        "choices": {
            "2": ["Open", "Being Processed"],
            "3": ["Pending", "Awaiting your Reply"],
            "4": ["Resolved", "This ticket has been Resolved"],
            "5": ["Closed", "This ticket has been Closed"],
            str(IN_PROGRESS): ["Em atendimento", "Em atendimento"],
            str(WAITING): ["Aguardando retorno do cliente", "Aguardando sua resposta"],
        },
    }
    custom = [
        {
            "id": 3000 + index,
            "name": FIELD_NAMES[key],
            "label": getattr(titles, key.value),
            "type": kind,
            "default": False,
            "choices": choices,
        }
        for index, (key, kind, choices) in enumerate(
            (
                (FieldKey.SITUATION, "custom_dropdown", ["Titular", "Sócio-administrador"]),
                (FieldKey.ATTEMPTS, "custom_number", []),
                (FieldKey.REASON, "custom_dropdown", ["Preço", "Outro"]),
                (FieldKey.OUTCOME, "custom_dropdown", ["Revertido", "Cancelado"]),
                (FieldKey.DEADLINE, "custom_date", []),
            )
        )
    ]
    return [
        {"id": 1999, "name": "subject", "label": "Subject", "type": "default_subject"},
        status,
        *custom,
    ]


CONTACT_FIELDS = [
    {"id": 1, "name": "titular", "label": "Titular", "type": "custom_checkbox"},
    {
        "id": 2,
        "name": "socio_administrador",
        "label": "Sócio-administrador",
        "type": "custom_checkbox",
    },
]
COMPANY_FIELDS = [
    {"id": 3, "name": "documento", "label": "CPF ou CNPJ", "type": "custom_text"},
    {"id": 4, "name": "email_cadastro", "label": "E-mail de cadastro", "type": "custom_text"},
]


def account_fields(mock: responses.RequestsMock) -> None:
    """The account's layout as the adapter reads it at start."""
    mock.get(f"{API}/agents/me", json=me())
    mock.get(f"{API}/ticket_fields", json=ticket_fields())
    mock.get(f"{API}/contact_fields", json=CONTACT_FIELDS)
    mock.get(f"{API}/company_fields", json=COMPANY_FIELDS)


def me() -> dict[str, Any]:
    return {
        "id": WORKER_ID,
        "ticket_scope": 1,
        "role_ids": [1],
        "contact": {"name": "Worker de cancelamento", "email": "worker@acme.com.br"},
    }


def ticket(
    ticket_id: int,
    *,
    subject: str = "Cancelamento",
    description: str = "<div>Quero cancelar meu contrato.</div>",
    tags: tuple[str, ...] = ("cancelamento",),
    status: int = 2,
    fields: dict[str, object] | None = None,
    updated_at: str = "2026-12-07T12:00:00Z",
    source: int = 1,
    requester: bool = True,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": ticket_id,
        "subject": subject,
        "description": description,
        "description_text": html_to_text(description),
        "status": status,
        "priority": 1,
        "source": source,
        "requester_id": CUSTOMER_ID,
        "responder_id": None,
        "company_id": None,
        "cc_emails": [],
        "fwd_emails": [],
        "reply_cc_emails": [],
        "tags": list(tags),
        "custom_fields": {name: (fields or {}).get(name) for name in FIELD_NAMES.values()},
        "created_at": "2026-12-07T11:58:00Z",
        "updated_at": updated_at,
    }
    if requester:
        body["requester"] = contact(CUSTOMER_ID)
    return body


def contact(contact_id: int, **fields: object) -> dict[str, Any]:
    return {
        "id": contact_id,
        "name": f"Pessoa {contact_id}",
        "email": f"pessoa{contact_id}@cliente.com.br",
        "company_id": None,
        "other_companies": [],
        "custom_fields": fields,
    }


def conversation(
    conversation_id: int,
    user_id: int,
    body: str,
    *,
    private: bool = False,
    incoming: bool = False,
    created_at: str = "2026-12-07T11:59:00Z",
) -> dict[str, Any]:
    return {
        "id": conversation_id,
        "body": body,
        "body_text": html_to_text(body).replace("\n", " "),  # Freshdesk joins the lines
        "incoming": incoming,
        "private": private,
        "user_id": user_id,
        "support_email": None,
        "source": 2 if private else 0,
        "ticket_id": 71,
        "from_email": f"pessoa{user_id}@cliente.com.br" if incoming else None,
        "to_emails": [],
        "cc_emails": [],
        "bcc_emails": None,
        "attachments": [],
        "created_at": created_at,
        "updated_at": created_at,
    }


def step(**overrides: Any) -> RenderedStep:
    values: dict[str, Any] = {
        "key": "2:tentativa",
        "note": 'Tentativa 1 de 3.\n\n[cancelamento-worker] {"passo":"2:tentativa"}',
        "email": None,
        "status": TargetStatus.IN_PROGRESS,
        "fields": {FieldKey.ATTEMPTS: "1"},
        "add_tags": frozenset(),
        "remove_tags": frozenset(),
    }
    values.update(overrides)
    return RenderedStep(**values)


def query(call: Any) -> dict[str, list[str]]:
    return parse_qs(urlsplit(call.request.url).query)


def sent(call: Any) -> dict[str, Any]:
    return dict(json.loads(call.request.body))
