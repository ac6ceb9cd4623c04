"""The records both helpdesks keep alike, as the engine's model: a timestamp, a person, an
account with its ficha values, a related ticket. Each helpdesk's mapping says where its JSON
holds these (Zendesk's `organization_fields`, Freshdesk's `custom_fields`) and reads the rest."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any

from worker.adapters.http import Json
from worker.config import Config
from worker.core.effects import TargetStatus
from worker.core.model import Account, Member, Person, RelatedTicket, StatusCategory, Ticket
from worker.ports import RenderedStep


def timestamp(value: object) -> datetime:
    return datetime.fromisoformat(str(value).replace("Z", "+00:00"))


def person(record: Mapping[str, Any] | None, user_id: object) -> Person:
    """A user or contact; one not readable (deleted, hidden) is known by its id alone."""
    if record is None:
        return Person(str(user_id), "", f"usuário {user_id}")
    return Person(
        str(record.get("id", user_id)),
        str(record.get("email") or ""),
        str(record.get("name") or ""),
    )


def account(
    record: Json, values: Mapping[str, Any], members: Iterable[Member], config: Config
) -> Account:
    """An organization or company; `values` are its custom fields, named in `ficha:`."""
    document = values.get(config.ficha.document)
    registered = values.get(config.ficha.registered_email)
    return Account(
        id=str(record["id"]),
        name=str(record.get("name") or ""),
        document=str(document) if document else None,
        registered_email=str(registered).strip().lower() if registered else None,
        members=tuple(members),
    )


def marks(values: Mapping[str, Any], config: Config) -> tuple[bool, bool]:
    """(holder, managing partner) from a person's checkbox fields."""
    return bool(values.get(config.ficha.holder)), bool(values.get(config.ficha.managing_partner))


def related(
    ticket: Json,
    requester_email: str,
    status: StatusCategory,
    first_message: str,
    doubt: str = "",
) -> RelatedTicket:
    return RelatedTicket(
        id=str(ticket["id"]),
        requester_email=requester_email.strip().lower(),
        subject=str(ticket.get("subject") or ""),
        created_at=timestamp(ticket["created_at"]),
        tags=frozenset(ticket.get("tags") or ()),
        status=status,
        first_message=first_message,
        doubt=doubt,
    )


def as_written(
    ticket: Ticket,
    step: RenderedStep,
    version: str,
    status_of: Callable[[TargetStatus], tuple[StatusCategory, str | None]],
) -> Ticket:
    """The snapshot after `step` was written on `ticket`, for a helpdesk whose write answers
    do not all carry the ticket: its tags, fields and status as the step set them, so the next
    step of the same decision starts from them. `status_of` names a target status as the
    helpdesk's snapshots do (category, custom label)."""
    status, custom = (
        status_of(step.status) if step.status is not None else (ticket.status, ticket.custom_status)
    )
    return replace(
        ticket,
        status=status,
        custom_status=custom,
        tags=(ticket.tags | step.add_tags) - step.remove_tags,
        fields={**ticket.fields, **{key.value: value for key, value in step.fields.items()}},
        updated_at=timestamp(version),
        version=version,
    )
