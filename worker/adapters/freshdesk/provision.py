"""`setup` on Freshdesk: what its API can create, created once and never twice, and precise
manual steps (pt-BR names) for what it cannot: the scenario automations agents click.

Found by the name people see, exactly: a status by its agent label, a ticket field by its label,
a contact or company field by its `name` (the key the configuration's `ficha:` names). An
existing object is never changed, except that a dropdown missing some of our choices, or the
status field missing our statuses, gets them added. Freshdesk derives a new contact or company
field's `name` from its label; when the one it made differs from the configured key, setup
says which key to configure instead of guessing. The result has the Zendesk shapes (`Plan`,
`Change`, `Problem`), so the CLI treats both helpdesks alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TextIO

from worker.adapters import provisioning
from worker.adapters.freshdesk.http import FreshdeskClient, FreshdeskError, Json
from worker.adapters.freshdesk.layout import FIELD_TYPES, status_choices
from worker.adapters.provisioning import Change, Plan, Problem
from worker.config import Config
from worker.core.commands import MEANING, SYNTAX, CommandKind

ADMIN_FIX = (
    "give the worker's agent the Account Administrator or Administrator role and Global ticket"
    " scope (Admin > Team > Agents > the agent)"
)
_ADMIN = "/api/v2/admin/ticket_fields"


@dataclass(frozen=True)
class Snapshot:
    me: Json
    ticket_fields: list[Json]
    contact_fields: dict[str, Json]  # by name
    company_fields: dict[str, Json]  # by name

    @property
    def status_field(self) -> Json:
        return next((f for f in self.ticket_fields if f.get("name") == "status"), {})

    def ticket_field(self, label: str) -> Json | None:
        return next((f for f in self.ticket_fields if f.get("label") == label), None)


def read_account(client: FreshdeskClient) -> Snapshot:
    """Four reads; raises on credentials and network."""

    def listed(path: str) -> list[Json]:
        answer = client.get(path)
        return [item for item in answer or [] if isinstance(item, dict)]

    def by_name(items: list[Json]) -> dict[str, Json]:
        return {str(item.get("name")): item for item in items}

    return Snapshot(
        me=client.get("/api/v2/agents/me") or {},
        ticket_fields=listed("/api/v2/ticket_fields"),
        contact_fields=by_name(listed("/api/v2/contact_fields")),
        company_fields=by_name(listed("/api/v2/company_fields")),
    )


# --- comparing ----------------------------------------------------------------------------------


def _statuses(plan: Plan, config: Config, snapshot: Snapshot) -> None:
    field = snapshot.status_field
    have = set(status_choices(field).values())
    wanted = [
        (config.statuses.in_progress, config.statuses.in_progress, False),
        (config.statuses.waiting_customer, provisioning.WAITING_CUSTOMER_LABEL, True),
    ]
    missing = [w for w in wanted if w[0] not in have]
    plan.kept.extend(f'status "{label}"' for label, _, _ in wanted if label in have)
    if not missing:
        return
    if "id" not in field:
        plan.problems.append(
            Problem("the status ticket field is not visible to the worker's agent", ADMIN_FIX)
        )
        return
    choices = [
        {"value": label, "label_for_customers": customer, "stop_sla_timer": stop}
        for label, customer, stop in missing
    ]
    names = ", ".join(f'"{label}"' for label, _, _ in missing)
    plan.changes.append(
        Change(f"status {names}", "PUT", f"{_ADMIN}/{field['id']}", {"choices": choices})
    )


def _ticket_fields(plan: Plan, config: Config, snapshot: Snapshot) -> None:
    titles = provisioning.field_titles(config)
    for key, options in provisioning.field_options(config).items():
        title, kind = titles[key], FIELD_TYPES[key]
        found = snapshot.ticket_field(title)
        labels = [option.name for option in options]
        if found is None:
            body: Json = {
                "label": title,
                "label_for_customers": title,
                "type": kind,
                "customers_can_edit": False,
                "displayed_to_customers": False,
                "required_for_closure": False,
                "required_for_agents": False,
                "required_for_customers": False,
            }
            if labels:
                body["choices"] = [{"value": v, "position": i + 1} for i, v in enumerate(labels)]
            kind_name = {"custom_dropdown": "dropdown"}.get(kind, kind.removeprefix("custom_"))
            plan.changes.append(
                Change(f'ticket field "{title}" ({kind_name})', "POST", _ADMIN, body)
            )
        elif found.get("type") != kind:
            plan.problems.append(
                Problem(
                    f'ticket field "{title}" exists with type {found.get("type")!r}; the worker'
                    f" needs {kind!r}",
                    "rename the existing field (Admin > Workflows > Ticket fields) or set"
                    f" fields.{key.value} in the configuration to another label, then run"
                    " `python -m worker setup`",
                )
            )
        else:
            have = {str(c) for c in found.get("choices") or [] if isinstance(c, str)}
            missing = [label for label in labels if label not in have]
            if missing:
                choices = [
                    {"value": label, "position": len(have) + i + 1}
                    for i, label in enumerate(missing)
                ]
                names = ", ".join(f'"{label}"' for label in missing)
                plan.changes.append(
                    Change(
                        f'ticket field "{title}": add choices {names}',
                        "PUT",
                        f"{_ADMIN}/{found['id']}",
                        {"choices": choices},
                    )
                )
            else:
                plan.kept.append(f'ticket field "{title}"')


@dataclass(frozen=True)
class _FichaField:
    kind: str
    path: str
    setting: str  # the key of `ficha:` in the configuration that names it
    label: str  # pt-BR, what agents see
    type: str


FICHA_FIELDS = (
    _FichaField("contact field", "/api/v2/contact_fields", "holder", "Titular", "custom_checkbox"),
    _FichaField(
        "contact field",
        "/api/v2/contact_fields",
        "managing_partner",
        "Sócio-administrador",
        "custom_checkbox",
    ),
    _FichaField(
        "company field", "/api/v2/company_fields", "document", "CPF ou CNPJ", "custom_text"
    ),
    _FichaField(
        "company field",
        "/api/v2/company_fields",
        "registered_email",
        "E-mail de cadastro",
        "custom_text",
    ),
)


def _ficha_fields(plan: Plan, config: Config, snapshot: Snapshot) -> None:
    for spec in FICHA_FIELDS:
        existing = (
            snapshot.contact_fields if spec.kind == "contact field" else snapshot.company_fields
        )
        name = getattr(config.ficha, spec.setting)
        found = existing.get(name)
        same_label = next((f for f in existing.values() if f.get("label") == spec.label), None)
        if found is not None and found.get("type") != spec.type:
            plan.problems.append(
                Problem(
                    f'{spec.kind} "{name}" exists with type {found.get("type")!r}; the worker'
                    f" needs {spec.type!r}",
                    f"point ficha.{spec.setting} in the configuration to a {spec.type} field",
                )
            )
        elif found is not None:
            plan.kept.append(f'{spec.kind} "{name}"')
        elif same_label is not None:
            plan.problems.append(
                Problem(
                    f'{spec.kind} "{spec.label}" exists with the name'
                    f" {same_label.get('name')!r}, not {name!r}",
                    f"set ficha.{spec.setting}: {same_label.get('name')} in the configuration",
                )
            )
        else:
            body = {"label": spec.label, "label_for_customers": spec.label, "type": spec.type}
            plan.changes.append(
                Change(f'{spec.kind} "{name}" ("{spec.label}")', "POST", spec.path, body)
            )


def plan_from(snapshot: Snapshot, config: Config) -> Plan:
    plan = Plan()
    _statuses(plan, config, snapshot)
    _ticket_fields(plan, config, snapshot)
    _ficha_fields(plan, config, snapshot)
    return plan


# --- what the API cannot do: printed for an admin ------------------------------------------------


def manual_steps(config: Config) -> list[str]:
    """Scenario automations (one click per command for agents) and the ticket views, which the
    worker cannot create through the API; each step is spelled out with its pt-BR names."""
    reason = config.fields.reason
    steps = []
    for kind in CommandKind:
        title = f"Cancelamento: {provisioning.COMMAND_TITLES[kind]}"
        usage = SYNTAX[kind]
        if kind in provisioning.WITH_REASON:
            for option in config.reasons:
                steps.append(
                    f'Cenário "{title} - {option.label}": ação "Adicionar nota" (privada) com o'
                    f' texto "#{kind.value} motivo: {option.label}" e ação "Definir'
                    f' {reason}" = "{option.label}" ({MEANING[kind]})'
                )
        else:
            text = usage.split("<", 1)[0].strip() if "<" in usage else usage
            completes = " (o agente completa o e-mail)" if "<" in usage else ""
            steps.append(
                f'Cenário "{title}": ação "Adicionar nota" (privada) com o texto "{text}"'
                f"{completes} ({MEANING[kind]})"
            )
    tags = config.tags
    deadline = config.fields.deadline
    steps += [
        f'Visão "Cancelamentos em aberto por prazo": tag "{tags.cancellation}", status diferente'
        f' de Resolvido e Fechado, ordenada por "{deadline}"',
        f'Visão "Cancelamentos para revisar": tag "{tags.review}", status diferente de Resolvido'
        " e Fechado",
        f'Visão "Cancelamentos a executar no sistema": tag "{tags.execute_contract}", status'
        " diferente de Resolvido e Fechado",
    ]
    return steps


def print_manual_steps(config: Config, out: TextIO) -> None:
    print(
        "Freshdesk's API cannot create these; an admin creates them once"
        " (Admin > Workflows > Scenario automations, and the ticket list's saved views):",
        file=out,
    )
    for number, step in enumerate(manual_steps(config), 1):
        print(f"  {number:2}. {step}", file=out)


# --- doing ----------------------------------------------------------------------------------------


def setup(client: FreshdeskClient, config: Config, *, dry_run: bool, out: TextIO) -> Plan:
    """Prints the plan (dry run) or each write as it happens, then the manual steps. `problems`
    not empty means setup could not finish, and the command should exit non-zero. A failed
    write is printed and raised; running setup again resumes, since what exists is kept."""
    snapshot = read_account(client)
    plan = plan_from(snapshot, config)
    if dry_run:
        provisioning.print_changes(plan, out)
    else:
        for change in plan.changes:
            _write(client, change, config, plan, out)
        provisioning.print_done(plan, out)
    provisioning.print_problems(plan.problems, out)
    print_manual_steps(config, out)
    if dry_run:
        print("dry run: nothing was written.", file=out)
    return plan


def _write(
    client: FreshdeskClient, change: Change, config: Config, plan: Plan, out: TextIO
) -> None:
    def send(change: Change) -> object:
        return client.request(change.method, change.path, body=change.body).body

    answer = provisioning.write(change, send, FreshdeskError, out)
    spec = next((f for f in FICHA_FIELDS if f.label == change.body.get("label")), None)
    if spec is None or change.method != "POST" or not isinstance(answer, dict):
        return
    made, wanted = answer.get("name"), getattr(config.ficha, spec.setting)
    if made and made != wanted:
        plan.problems.append(
            Problem(
                f'Freshdesk named the new {spec.kind} "{spec.label}" {made!r}, not {wanted!r}',
                f"set ficha.{spec.setting}: {made} in the configuration",
            )
        )


__all__ = ["ADMIN_FIX", "Change", "Plan", "Problem", "plan_from", "read_account", "setup"]
