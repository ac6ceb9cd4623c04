"""The account's names turned into ids, read once at start: the worker's own user, the custom
statuses, the ticket fields, and how each logical field's values are spelled in Zendesk.

Dropdown option values are tags in Zendesk, shared with every other tag of the account, so ours
carry a prefix (`cancelamento_situacao_titular`) and cannot collide with a tag agents use.
"""

from __future__ import annotations

from dataclasses import dataclass

from worker.adapters.layout import Lookup
from worker.adapters.zendesk.http import Json, ZendeskClient, ZendeskError
from worker.config import Config
from worker.core.effects import FieldKey, TargetStatus

# Logical field -> the Zendesk field type `setup` creates and the prefix of its option values.
FIELD_TYPES: dict[FieldKey, str] = {
    FieldKey.SITUATION: "tagger",
    FieldKey.ATTEMPTS: "integer",
    FieldKey.REASON: "tagger",
    FieldKey.OUTCOME: "tagger",
    FieldKey.DEADLINE: "date",
}
OPTION_PREFIX: dict[FieldKey, str] = {
    FieldKey.SITUATION: "cancelamento_situacao_",
    FieldKey.REASON: "cancelamento_motivo_",
    FieldKey.OUTCOME: "cancelamento_resultado_",
}


def to_zendesk(key: FieldKey, value: str | None) -> str | int | None:
    """The engine's value as the field stores it."""
    if value is None:
        return None
    if key is FieldKey.ATTEMPTS:
        return int(value)
    prefix = OPTION_PREFIX.get(key)
    return prefix + value if prefix else value


def from_zendesk(key: FieldKey, value: object) -> str | None:
    """The field's value as the engine reads it; an option not ours reads as empty."""
    if value is None or value == "":
        return None
    text = str(value)
    prefix = OPTION_PREFIX.get(key)
    if prefix is not None:
        return text.removeprefix(prefix) if text.startswith(prefix) else None
    return text


_CATEGORIES = {TargetStatus.IN_PROGRESS: "open", TargetStatus.WAITING_CUSTOMER: "pending"}


@dataclass(frozen=True)
class StatusRef:
    id: int
    label: str
    category: str  # new, open, pending, hold, solved


@dataclass(frozen=True)
class AccountLayout:
    worker_user_id: int
    worker_role: str
    statuses: dict[int, StatusRef]
    targets: dict[TargetStatus, StatusRef]  # the custom ones; solved is the built-in status
    fields: dict[FieldKey, int]

    @property
    def field_keys(self) -> dict[int, FieldKey]:
        return {field_id: key for key, field_id in self.fields.items()}

    @classmethod
    def load(cls, client: ZendeskClient, config: Config) -> AccountLayout:
        me = client.get("/api/v2/users/me.json")["user"]
        statuses = {
            int(s["id"]): StatusRef(int(s["id"]), str(s["agent_label"]), str(s["status_category"]))
            for s in client.get("/api/v2/custom_statuses.json")["custom_statuses"]
            if s.get("active", True)
        }
        lookup = Lookup("Zendesk", ZendeskError)
        targets = lookup.targets(
            statuses.values(),
            config,
            lambda target, label: f'the custom status "{label}" ({_CATEGORIES[target]})',
        )
        fields = lookup.fields(_active_fields(client), config, "title")
        lookup.check()
        ids = {key: int(field["id"]) for key, field in fields.items()}
        return cls(int(me["id"]), str(me.get("role", "")), statuses, targets, ids)


def _active_fields(client: ZendeskClient) -> list[Json]:
    return [
        field
        for page in client.pages("/api/v2/ticket_fields.json")
        for field in page.get("ticket_fields", [])
        if field.get("active", True)
    ]
