"""The account's names turned into ids, read once at start: the worker's own agent, the statuses
(choices of the status ticket field), the ticket fields, the ficha's contact and company fields,
and how dropdown values are spelled.

Every name is read back from Freshdesk, never assumed: Freshdesk derives a custom field's `name`
from its label (what it keeps of "Sócio-administrador" is its business), so a ficha field is
found by the configured name or, failing that, by its label, and the configuration is never
edited by hand after `setup`.

Freshdesk's built-in statuses are numbers (2 Open, 3 Pending, 4 Resolved, 5 Closed); custom ones
are further choices of the same field, found here by the name agents see. Freshdesk has no
"category" for a custom status, so the worker's own two get the one the procedure means (open,
pending) and any other custom status counts as open. A dropdown stores the choice's text, so
the engine's values (`titular`) are written as their pt-BR labels (`Titular`) and read back.
"""

from __future__ import annotations

from dataclasses import dataclass

from worker.adapters.freshdesk.http import FreshdeskClient, FreshdeskError, Json
from worker.adapters.layout import Lookup
from worker.adapters.provisioning import field_options
from worker.config import Config
from worker.core.effects import FieldKey, TargetStatus
from worker.core.model import StatusCategory

OPEN, PENDING, RESOLVED, CLOSED = 2, 3, 4, 5
BUILTIN: dict[int, StatusCategory] = {
    OPEN: StatusCategory.OPEN,
    PENDING: StatusCategory.PENDING,
    RESOLVED: StatusCategory.SOLVED,
    CLOSED: StatusCategory.CLOSED,
}
# The Freshdesk field type `setup` creates for each logical field.
FIELD_TYPES: dict[FieldKey, str] = {
    FieldKey.SITUATION: "custom_dropdown",
    FieldKey.ATTEMPTS: "custom_number",
    FieldKey.REASON: "custom_dropdown",
    FieldKey.OUTCOME: "custom_dropdown",
    FieldKey.DEADLINE: "custom_date",
}


@dataclass(frozen=True)
class FichaField:
    """A field of the ficha that `setup` creates and the worker reads by the `name` it got."""

    kind: str  # "contact" or "company"
    setting: str  # the key of `ficha:` in the configuration
    label: str  # pt-BR, what agents see
    type: str

    @property
    def path(self) -> str:
        return f"/api/v2/{self.kind}_fields"

    def find(self, fields: list[Json], config: Config) -> Json | None:
        """By the configured name, else by a label: the configured value or our own."""
        wanted = getattr(config.ficha, self.setting)
        custom = [f for f in fields if not f.get("default")]
        return (
            next((f for f in custom if f.get("name") == wanted), None)
            or next((f for f in custom if f.get("label") == wanted), None)
            or next((f for f in custom if f.get("label") == self.label), None)
        )


FICHA_FIELDS = (
    FichaField("contact", "holder", "Titular", "custom_checkbox"),
    FichaField("contact", "managing_partner", "Sócio-administrador", "custom_checkbox"),
    FichaField("company", "document", "CPF ou CNPJ", "custom_text"),
    FichaField("company", "registered_email", "E-mail de cadastro", "custom_text"),
)


def listed(client: FreshdeskClient, path: str) -> list[Json]:
    return [item for item in client.get(path) or [] if isinstance(item, dict)]


@dataclass(frozen=True)
class StatusRef:
    id: int
    label: str
    category: StatusCategory


def status_choices(field: Json) -> dict[int, str]:
    """The status field's choices by id, in either shape Freshdesk answers: the agents' API
    (`{"2": ["Open", "Being Processed"], ...}`) or the admin API (`[{"id", "value", ...}]`)."""
    choices = field.get("choices")
    found: dict[int, str] = {}
    if isinstance(choices, dict):
        for key, labels in choices.items():
            label = labels[0] if isinstance(labels, list) and labels else labels
            if str(key).isdigit() and isinstance(label, str):
                found[int(key)] = label
    elif isinstance(choices, list):
        for choice in choices:
            if isinstance(choice, dict) and not choice.get("deleted") and "id" in choice:
                found[int(choice["id"])] = str(choice.get("value") or choice.get("label") or "")
    return found


def statuses_of(field: Json, config: Config) -> dict[int, StatusRef]:
    wanted = {
        config.statuses.in_progress: StatusCategory.OPEN,
        config.statuses.waiting_customer: StatusCategory.PENDING,
    }
    return {
        status_id: StatusRef(
            status_id,
            label,
            BUILTIN.get(status_id) or wanted.get(label, StatusCategory.OPEN),
        )
        for status_id, label in status_choices(field).items()
    }


@dataclass(frozen=True)
class Options:
    """The engine's dropdown values and the labels Freshdesk stores, both ways."""

    labels: dict[FieldKey, dict[str, str]]  # key -> engine value -> label

    @classmethod
    def from_config(cls, config: Config) -> Options:
        return cls(
            {
                key: {option.engine: option.name for option in options}
                for key, options in field_options(config).items()
                if options
            }
        )

    def to_freshdesk(self, key: FieldKey, value: str | None) -> str | int | None:
        if value is None:
            return None
        if key is FieldKey.ATTEMPTS:
            return int(value)
        return self.labels.get(key, {}).get(value, value)

    def from_freshdesk(self, key: FieldKey, value: object) -> str | None:
        """The field's value as the engine reads it; a choice not ours reads as empty."""
        if value is None or value == "":
            return None
        text = str(value)
        labels = self.labels.get(key)
        if labels is None:
            return text
        return next((engine for engine, label in labels.items() if label == text), None)


@dataclass(frozen=True)
class AccountLayout:
    worker_id: int
    statuses: dict[int, StatusRef]
    targets: dict[TargetStatus, StatusRef]  # the custom ones; solved is the built-in 4
    fields: dict[FieldKey, str]  # the field's `name` (cf_...), the key in custom_fields
    options: Options
    ficha: dict[str, str]  # `ficha:` setting -> the contact or company field's `name`

    @property
    def field_keys(self) -> dict[str, FieldKey]:
        return {name: key for key, name in self.fields.items()}

    def status_id(self, target: TargetStatus) -> int:
        return RESOLVED if target is TargetStatus.SOLVED else self.targets[target].id

    @classmethod
    def load(cls, client: FreshdeskClient, config: Config) -> AccountLayout:
        me = client.get("/api/v2/agents/me")
        ticket_fields = listed(client, "/api/v2/ticket_fields")
        status_field = next((f for f in ticket_fields if f.get("name") == "status"), {})
        statuses = statuses_of(status_field, config)
        lookup = Lookup("Freshdesk", FreshdeskError)
        targets = lookup.targets(
            statuses.values(), config, lambda _, label: f'the status "{label}"'
        )
        fields = lookup.fields(ticket_fields, config, "label")
        ficha: dict[str, str] = {}
        by_kind = {
            kind: listed(client, f"/api/v2/{kind}_fields") for kind in ("contact", "company")
        }
        for spec in FICHA_FIELDS:
            found = spec.find(by_kind[spec.kind], config)
            if found is None:
                lookup.missing.append(f'the {spec.kind} field "{spec.label}"')
            else:
                ficha[spec.setting] = str(found["name"])
        lookup.check()
        names = {key: str(field["name"]) for key, field in fields.items()}
        options = Options.from_config(config)
        return cls(int(me["id"]), statuses, targets, names, options, ficha)
