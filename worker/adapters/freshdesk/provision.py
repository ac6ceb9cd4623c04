"""`setup` on Freshdesk: what its API can create, created once and never twice, and precise
manual steps (pt-BR names) for what it cannot: the scenario automations agents click.

Found by the name people see, exactly: a status by its agent label, a ticket field by its label,
a contact or company field by the configured `ficha:` name or by its label. An existing object
is never changed, except that a dropdown missing some of our choices, or the status field
missing our statuses, gets them added (after the last existing choice). Freshdesk derives a new
field's `name` from its label; setup prints the one it got, and the worker finds it the same
way at start, so the configuration is never edited by hand. The result has the Zendesk shapes
(`Plan`, `Change`, `Problem`), so the CLI treats both helpdesks alike.

Every body is built from the documented attributes of its object (`DOCUMENTED`, with sources
in docs/freshdesk.md): Freshdesk refuses an attribute an object does not have (`invalid_field`),
and company fields, which customers never see, have no `label_for_customers`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TextIO

from worker.adapters import provisioning
from worker.adapters.freshdesk.http import FreshdeskClient, FreshdeskError, Json
from worker.adapters.freshdesk.layout import FICHA_FIELDS, FIELD_TYPES, listed, status_choices
from worker.adapters.provisioning import Change, Plan, Problem
from worker.config import Config
from worker.core.commands import MEANING, SYNTAX, CommandKind
from worker.webhooks import FRESHDESK_TOKEN_ENV, TOKEN_HEADER

TOKEN_HEADER_NAME = "-".join(part.capitalize() for part in TOKEN_HEADER.split("-"))
ADMIN_FIX = (
    "give the worker's agent the Account Administrator or Administrator role and Global ticket"
    " scope (Admin > Team > Agents > the agent)"
)
_ADMIN = "/api/v2/admin/ticket_fields"

# The documented attributes setup may send, per object (docs/freshdesk.md, facts 26-31).
DOCUMENTED: dict[str, frozenset[str]] = {
    "ticket field": frozenset(
        {
            "label",
            "label_for_customers",
            "type",
            "customers_can_edit",
            "displayed_to_customers",
            "position",
            "required_for_closure",
            "required_for_agents",
            "required_for_customers",
            "choices",
        }
    ),
    "ticket field update": frozenset({"choices"}),
    "status choice": frozenset({"value", "label_for_customers", "stop_sla_timer", "position"}),
    "dropdown choice": frozenset({"value", "position"}),
    "contact field": frozenset(
        {
            "label",
            "label_for_customers",
            "type",
            "position",
            "required_for_agents",
            "customers_can_edit",
            "required_for_customers",
            "displayed_for_customers",
        }
    ),
    "company field": frozenset({"label", "type", "position", "required_for_agents"}),
}


def body(kind: str, **attributes: object) -> Json:
    """A request body (or one choice) of `kind`, refusing any attribute it does not document."""
    unknown = set(attributes) - DOCUMENTED[kind]
    if unknown:
        raise ValueError(f"a Freshdesk {kind} has no attribute {', '.join(sorted(unknown))}")
    return dict(attributes)


@dataclass(frozen=True)
class Snapshot:
    me: Json
    ticket_fields: list[Json]
    contact_fields: list[Json]
    company_fields: list[Json]

    @property
    def status_field(self) -> Json:
        return next((f for f in self.ticket_fields if f.get("name") == "status"), {})

    def ticket_field(self, label: str) -> Json | None:
        return next((f for f in self.ticket_fields if f.get("label") == label), None)

    def ficha_fields(self, kind: str) -> list[Json]:
        return self.contact_fields if kind == "contact" else self.company_fields


def read_account(client: FreshdeskClient) -> Snapshot:
    """Four reads; raises on credentials and network."""

    return Snapshot(
        me=client.get("/api/v2/agents/me") or {},
        ticket_fields=listed(client, "/api/v2/ticket_fields"),
        contact_fields=listed(client, "/api/v2/contact_fields"),
        company_fields=listed(client, "/api/v2/company_fields"),
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
    last = len(status_choices(field))
    choices = [
        body(
            "status choice",
            value=label,
            label_for_customers=customer,
            stop_sla_timer=stop,
            position=last + n,
        )
        for n, (label, customer, stop) in enumerate(missing, 1)
    ]
    names = ", ".join(f'"{label}"' for label, _, _ in missing)
    plan.changes.append(
        Change(
            f"status {names}",
            "PUT",
            f"{_ADMIN}/{field['id']}",
            body("ticket field update", choices=choices),
        )
    )


def _ticket_fields(plan: Plan, config: Config, snapshot: Snapshot) -> None:
    titles = provisioning.field_titles(config)
    for key, options in provisioning.field_options(config).items():
        title, kind = titles[key], FIELD_TYPES[key]
        found = snapshot.ticket_field(title)
        labels = [option.name for option in options]
        if found is None:
            made = body(
                "ticket field",
                label=title,
                label_for_customers=title,
                type=kind,
                customers_can_edit=False,
                displayed_to_customers=False,
                required_for_closure=False,
                required_for_agents=False,
                required_for_customers=False,
            )
            if labels:
                made["choices"] = _choices(labels, 0)
            kind_name = {"custom_dropdown": "dropdown"}.get(kind, kind.removeprefix("custom_"))
            plan.changes.append(
                Change(f'ticket field "{title}" ({kind_name})', "POST", _ADMIN, made)
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
                names = ", ".join(f'"{label}"' for label in missing)
                plan.changes.append(
                    Change(
                        f'ticket field "{title}": add choices {names}',
                        "PUT",
                        f"{_ADMIN}/{found['id']}",
                        body("ticket field update", choices=_choices(missing, len(have))),
                    )
                )
            else:
                plan.kept.append(f'ticket field "{title}"')


def _choices(values: list[str], after: int) -> list[Json]:
    """New dropdown choices, placed after the `after` existing ones."""
    return [
        body("dropdown choice", value=value, position=after + n)
        for n, value in enumerate(values, 1)
    ]


def _ficha_fields(plan: Plan, config: Config, snapshot: Snapshot) -> None:
    for spec in FICHA_FIELDS:
        found = spec.find(snapshot.ficha_fields(spec.kind), config)
        what = f'{spec.kind} field "{spec.label}"'
        if found is not None and found.get("type") != spec.type:
            plan.problems.append(
                Problem(
                    f'{spec.kind} field "{found.get("label")}" ({found.get("name")}) exists with'
                    f" type {found.get('type')!r}; the worker needs {spec.type!r}",
                    f"rename that field in Freshdesk (Admin > {spec.kind.title()} fields) and run"
                    " `python -m worker setup` again",
                )
            )
        elif found is not None:
            plan.kept.append(f"{what} as {found.get('name')}")
        elif spec.kind == "contact":
            made = body(
                "contact field",
                label=spec.label,
                label_for_customers=spec.label,
                type=spec.type,
                customers_can_edit=False,
                displayed_for_customers=False,
            )
            plan.changes.append(Change(what, "POST", spec.path, made))
        else:  # company fields: customers never see them, so no label for customers
            made = body("company field", label=spec.label, type=spec.type)
            plan.changes.append(Change(what, "POST", spec.path, made))


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
            if kind is CommandKind.START:  # so the poll reads a ticket detection left alone
                completes = f' e ação "Adicionar tag" {config.tags.possible}'
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
        f'Visão "Talvez pedidos de cancelamento": tag "{tags.possible}", status diferente de'
        " Resolvido e Fechado (se for um pedido, #iniciar-cancelamento no ticket)",
    ]
    return steps + push_steps(config)


def push_steps(config: Config) -> list[str]:
    """Push (README "Push (webhooks)"): Freshdesk has no API for webhook subscriptions, so the
    automation rules that call the worker are created by hand, once per event kind. The token
    travels in a header the rule sets; the body names only the ticket."""
    url = config.webhooks.public_url
    if not url:
        return []
    call = (
        f'ação "Acionar webhook": método POST, URL {url}, codificação JSON, conteúdo avançado'
        ' {"ticket_id": "{{ticket.id}}"}, cabeçalho personalizado'
        f' "{TOKEN_HEADER_NAME}" com o valor de {FRESHDESK_TOKEN_ENV} (um segredo aleatório que'
        " você gera, por exemplo com: python -c 'import secrets;"
        " print(secrets.token_urlsafe(32))', e põe no ambiente do worker)"
    )
    tag = config.tags.cancellation
    words = "cancelar, cancelamento, rescindir, rescisão, distrato"
    return [
        f'Regra "Cancelamento: avisar o worker (criação)" em Automações > Criação de ticket:'
        f' condição "Assunto ou descrição contém algum de" {words}, ou "Tags contém" "{tag}";'
        f" {call}",
        f'Regra "Cancelamento: avisar o worker (atualização)" em Automações > Atualização de'
        f' ticket: evento "Resposta enviada" ou "Nota adicionada" ou "Cliente respondeu",'
        f' executada por Agente ou Cliente; condição "Tags contém" "{tag}"; {call}',
    ]


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
            _write(client, change, out)
        provisioning.print_done(plan, out)
    provisioning.print_problems(plan.problems, out)
    print_manual_steps(config, out)
    if dry_run:
        print("dry run: nothing was written.", file=out)
    return plan


def _write(client: FreshdeskClient, change: Change, out: TextIO) -> None:
    def send(change: Change) -> object:
        return client.request(change.method, change.path, body=change.body).body

    answer = provisioning.write(change, send, FreshdeskError, out)
    spec = next((f for f in FICHA_FIELDS if f.label == change.body.get("label")), None)
    if spec is not None and change.method == "POST" and isinstance(answer, dict):
        name = answer.get("name")
        print(f"        Freshdesk named it {name}; the worker finds it by its label", file=out)


__all__ = ["ADMIN_FIX", "Change", "Plan", "Problem", "plan_from", "read_account", "setup"]
