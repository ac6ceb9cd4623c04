"""`setup`: the Zendesk objects the worker and its agents rely on, created once and never twice.

Everything is found by the name people see (a status's agent label, a field's title or key, a
macro's or view's title), compared exactly, accents and case included: the worker itself finds
them that way at run time, so a near-miss ("Em Atendimento") is not ours and must not be taken
for it. An existing object is never changed, except that a dropdown missing some of our options
gets them added (an operator who adds a reason to the configuration runs `setup` again). An
inactive object of ours is reported and left alone: creating a second one with the same name
would make every later look-up ambiguous, and reactivating is a human decision.

Writes happen in dependency order: statuses and fields first, then the macros and views that
name the fields by id. A dry run cannot know ids that do not exist yet, so its plan shows a
placeholder in their place.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TextIO

from worker.adapters import provisioning
from worker.adapters.provisioning import (
    SETUP_COMMAND,
    Change,
    Plan,
    Problem,
    field_titles,
    print_problem,
)
from worker.adapters.zendesk import push
from worker.adapters.zendesk.http import Json, NotFound, Unauthorized, ZendeskClient, ZendeskError
from worker.adapters.zendesk.layout import FIELD_TYPES, to_zendesk
from worker.config import Config
from worker.core.commands import MEANING, SYNTAX, CommandKind
from worker.core.effects import FieldKey

# --- what the ticket fields hold ------------------------------------------------------------


@dataclass(frozen=True)
class FieldOption(provisioning.FieldOption):
    def value(self, key: FieldKey) -> str:
        """The option's tag in Zendesk (see `layout.OPTION_PREFIX`)."""
        return str(to_zendesk(key, self.engine))


@dataclass(frozen=True)
class FieldSpec:
    type: str  # Zendesk's ticket field type: tagger (a dropdown), integer, date
    description: str  # pt-BR, for agents
    options: tuple[FieldOption, ...] = ()


_DESCRIPTIONS: dict[FieldKey, str] = {
    FieldKey.SITUATION: (
        "Quem pediu o cancelamento (preenchido pelo worker; um agente pode corrigir)."
    ),
    FieldKey.ATTEMPTS: "Ligações sem sucesso registradas com #tentativa (preenchido pelo worker).",
    FieldKey.REASON: (
        "Motivo da insatisfação informado pelo cliente (macros de #revertido e #cancelar)."
    ),
    FieldKey.OUTCOME: "Como o pedido de cancelamento terminou (preenchido pelo worker).",
    FieldKey.DEADLINE: (
        "Último dia para o retorno do cliente ou dos sócios (preenchido pelo worker)."
    ),
}


def field_specs(config: Config) -> dict[FieldKey, FieldSpec]:
    """Every ticket field's Zendesk type, description and options (`provisioning`)."""
    return {
        key: FieldSpec(
            FIELD_TYPES[key],
            _DESCRIPTIONS[key],
            tuple(FieldOption(option.engine, option.name) for option in options),
        )
        for key, options in provisioning.field_options(config).items()
    }


# --- the account as it is -------------------------------------------------------------------------


@dataclass(frozen=True)
class Snapshot:
    """What `setup` and `check` read, indexed by the name each kind of object is found by."""

    me: Json
    statuses: dict[str, Json]  # by agent_label
    ticket_fields: dict[str, Json]  # by title
    user_fields: dict[str, Json]  # by key
    organization_fields: dict[str, Json]  # by key
    macros: dict[str, Json]  # by title
    views: dict[str, Json]  # by title


def read_account(client: ZendeskClient) -> Snapshot:
    """Seven reads (more when a list has several pages); raises on credentials and network."""
    me = client.get("/api/v2/users/me.json").get("user") or {}
    return Snapshot(
        me=me,
        statuses=_index(_custom_statuses(client), "agent_label"),
        ticket_fields=_index(_list(client, "/api/v2/ticket_fields.json", "ticket_fields"), "title"),
        user_fields=_index(_list(client, "/api/v2/user_fields.json", "user_fields"), "key"),
        organization_fields=_index(
            _list(client, "/api/v2/organization_fields.json", "organization_fields"), "key"
        ),
        macros=_index(_list(client, "/api/v2/macros.json", "macros"), "title"),
        views=_index(_list(client, "/api/v2/views.json", "views"), "title"),
    )


class CustomStatusesOff(ZendeskError):
    """The account has not activated custom ticket statuses, which the worker needs."""


CUSTOM_STATUSES_FIX = (
    "activate custom ticket statuses: Admin Center > Objects and rules > Tickets > Settings >"
    " Custom ticket statuses (it cannot be undone), then run `python -m worker setup`"
)


def _custom_statuses(client: ZendeskClient) -> list[Json]:
    """Zendesk answers 403/404 here when the account never turned custom statuses on
    (not confirmed from the docs: both are treated the same)."""
    try:
        return list(client.get("/api/v2/custom_statuses.json").get("custom_statuses") or [])
    except (NotFound, Unauthorized) as exc:
        if exc.status == 401:
            raise
        raise CustomStatusesOff(f"custom ticket statuses are not available ({exc})") from exc


def _list(client: ZendeskClient, path: str, name: str) -> list[Json]:
    return [item for page in client.pages(path) for item in page.get(name) or []]


def _index(items: Iterable[Json], key: str) -> dict[str, Json]:
    """By name; when two share it, the active one, so that a retired copy does not hide ours."""
    found: dict[str, Json] = {}
    for item in items:
        name = item.get(key)
        if not isinstance(name, str):
            continue
        if name not in found or (_active(item) and not _active(found[name])):
            found[name] = item
    return found


def _active(item: Json) -> bool:
    return item.get("active", True) is not False


# --- what we want -------------------------------------------------------------------------------

# Macro titles (pt-BR). "::" nests them in Zendesk's macro menu under "Cancelamento".
MACRO_PREFIX = "Cancelamento::"

VIEW_DEADLINES = "Cancelamentos em aberto por prazo"
VIEW_REVIEW = "Cancelamentos para revisar"
VIEW_EXECUTE = "Cancelamentos a executar no sistema"
VIEW_POSSIBLE = "Talvez pedidos de cancelamento"


@dataclass(frozen=True)
class _Wanted:
    kind: str  # for messages: "custom status", "ticket field", ...
    name: str  # the name it is found by
    path: str  # where it is created
    body: Json
    needs: tuple[FieldKey, ...] = ()  # fields whose ids the body uses

    @property
    def what(self) -> str:
        return f'{self.kind} "{self.name}"'


def _statuses(config: Config) -> list[tuple[_Wanted, str]]:
    wanted = [
        (config.statuses.in_progress, "open", config.statuses.in_progress),
        (config.statuses.waiting_customer, "pending", provisioning.WAITING_CUSTOMER_LABEL),
    ]
    return [
        (
            _Wanted(
                "custom status",
                label,
                "/api/v2/custom_statuses.json",
                {
                    "custom_status": {
                        "status_category": category,
                        "agent_label": label,
                        "end_user_label": end_user,
                        "active": True,
                    }
                },
            ),
            category,
        )
        for label, category, end_user in wanted
    ]


def _ticket_fields(config: Config) -> dict[FieldKey, _Wanted]:
    titles = field_titles(config)
    wanted: dict[FieldKey, _Wanted] = {}
    for key, spec in field_specs(config).items():
        body: Json = {"type": spec.type, "title": titles[key], "description": spec.description}
        if spec.options:
            body["custom_field_options"] = [
                {"name": option.name, "value": option.value(key)} for option in spec.options
            ]
        wanted[key] = _Wanted(
            "ticket field", titles[key], "/api/v2/ticket_fields.json", {"ticket_field": body}
        )
    return wanted


# The ficha's fields: (kind, type, the key of `ficha:` that names it, title, description).
_FICHA_FIELDS = (
    (
        "user field",
        "checkbox",
        "holder",
        "Titular",
        "Titular do contrato da organização (pessoa física).",
    ),
    (
        "user field",
        "checkbox",
        "managing_partner",
        "Sócio-administrador",
        "Sócio-administrador da organização (pessoa jurídica).",
    ),
    ("organization field", "text", "document", "CPF ou CNPJ", "Documento do titular do contrato."),
    (
        "organization field",
        "text",
        "registered_email",
        "E-mail de cadastro",
        "E-mail registrado no contrato; pedidos vindos dele contam como do cliente.",
    ),
)


def _ficha_fields(config: Config, kind: str) -> list[_Wanted]:
    """The user or organization fields: a `user field` is created as `{"user_field": ...}`
    at /api/v2/user_fields.json, found by its key."""
    name = kind.replace(" ", "_")
    wanted: list[_Wanted] = []
    for field_kind, field_type, setting, title, text in _FICHA_FIELDS:
        key = getattr(config.ficha, setting)
        body = {"type": field_type, "key": key, "title": title, "description": text}
        if field_kind == kind:
            wanted.append(_Wanted(kind, key, f"/api/v2/{name}s.json", {name: body}))
    return wanted


FieldIds = Mapping[FieldKey, int | str]  # a str is a dry run's placeholder for an id to come


def _macros(config: Config, ids: FieldIds) -> list[_Wanted]:
    """One macro per command, and for `#revertido` and `#cancelar` one per reason.

    Why one per reason rather than one macro plus the field: a macro cannot ask the agent to
    pick an option, so a single `#revertido` macro would leave both the note's reason and the
    dropdown for the agent to fill by hand, twice, and they would drift apart (the dropdown is
    what reports count). Per reason, one click writes `#revertido motivo: Preço` (the engine
    reads the label back as the same option) and sets the dropdown; the agent only adds
    details after the label. Seven reasons make fourteen macros, kept tidy under
    "Cancelamento::Revertido::" and "Cancelamento::Quer cancelar::" in the macro menu.
    """
    macros: list[_Wanted] = []
    reason_field = f"custom_fields_{ids.get(FieldKey.REASON, '')}"
    for kind in CommandKind:
        title = MACRO_PREFIX + provisioning.COMMAND_TITLES[kind]
        if kind in provisioning.WITH_REASON:
            for option in field_specs(config)[FieldKey.REASON].options:
                text = f"#{kind.value} motivo: {option.name}"
                actions = [
                    *_note(text),
                    {"field": reason_field, "value": option.value(FieldKey.REASON)},
                ]
                macros.append(
                    _macro(f"{title}::{option.name}", kind, actions, needs=(FieldKey.REASON,))
                )
        else:
            usage = SYNTAX[kind]
            text = usage.split("<", 1)[0] if "<" in usage else usage  # the agent completes it
            actions = _note(text)
            if kind is CommandKind.START:
                # The tag makes a ticket detection left alone a candidate of the poll, so the
                # worker reads the command ("current_tags" adds to the ticket's tags).
                actions.append({"field": "current_tags", "value": config.tags.possible})
            macros.append(_macro(title, kind, actions))
    return macros


def _note(text: str) -> list[Json]:
    return [
        {"field": "comment_value", "value": text},
        {"field": "comment_mode_is_public", "value": "false"},
    ]


def _macro(
    title: str, kind: CommandKind, actions: list[Json], needs: tuple[FieldKey, ...] = ()
) -> _Wanted:
    body = {"title": title, "description": MEANING[kind], "active": True, "actions": actions}
    return _Wanted("macro", title, "/api/v2/macros.json", {"macro": body}, needs)


def _views(config: Config, ids: FieldIds) -> list[_Wanted]:
    """The deadline view the issue asks for, plus the two lists agents must work from: tickets
    tagged for review, and contracts waiting to be cancelled by hand (CONTRACT 6)."""
    deadline, situation = ids.get(FieldKey.DEADLINE, ""), ids.get(FieldKey.SITUATION, "")
    first: list[int | str] = ["description", "requester", "organization", "custom_status_id"]
    last: list[int | str] = ["assignee", "updated"]
    tags = config.tags
    return [
        _view(
            VIEW_DEADLINES,
            "Pedidos de cancelamento abertos, o prazo mais próximo primeiro.",
            tags.cancellation,
            [*first, deadline, situation, *last],
            sort_by=deadline,
            needs=(FieldKey.DEADLINE, FieldKey.SITUATION),
        ),
        _view(
            VIEW_REVIEW,
            "Cancelamentos que o worker deixou para um agente olhar (nota no ticket).",
            tags.review,
            [*first, situation, *last],
            sort_by="updated",
            needs=(FieldKey.SITUATION,),
        ),
        _view(
            VIEW_EXECUTE,
            "Contratos a cancelar no sistema da empresa; depois, #contrato-cancelado no ticket.",
            tags.execute_contract,
            [*first, *last],
            sort_by="updated",
        ),
        _view(
            VIEW_POSSIBLE,
            "Talvez sejam pedidos: leia a nota; se for, #iniciar-cancelamento no ticket.",
            tags.possible,
            [*first, *last],
            sort_by="updated",
        ),
    ]


def _view(
    title: str,
    description: str,
    tag: str,
    columns: list[int | str],
    *,
    sort_by: int | str,
    needs: tuple[FieldKey, ...] = (),
) -> _Wanted:
    body = {
        "title": title,
        "description": description,
        "active": True,
        "all": [
            {"field": "status", "operator": "less_than", "value": "solved"},
            {"field": "current_tags", "operator": "includes", "value": tag},
        ],
        "output": {"columns": columns, "sort_by": sort_by, "sort_order": "asc"},
    }
    return _Wanted("view", title, "/api/v2/views.json", {"view": body}, needs)


# --- comparing ----------------------------------------------------------------------------------


def _reactivate(wanted: _Wanted, where: str) -> Problem:
    return Problem(
        f"{wanted.what} exists but is inactive; setup will not create a duplicate",
        f"reactivate it in Admin Center > {where}, then run `python -m worker setup` again",
    )


_WHERE = {
    "ticket field": "Objects and rules > Tickets > Fields",
    "user field": "People > Configuration > User fields",
    "organization field": "People > Configuration > Organization fields",
    "macro": "Workspaces > Agent tools > Macros",
    "view": "Workspaces > Agent tools > Views",
}


def _compare_simple(
    plan: Plan, wanted: Iterable[_Wanted], existing: Mapping[str, Json], type_key: str
) -> None:
    for item in wanted:
        found = existing.get(item.name)
        if found is None:
            plan.changes.append(Change(_created(item), "POST", item.path, item.body))
            continue
        where = _WHERE[item.kind]
        inner = next(iter(item.body.values()))
        if type_key and found.get(type_key) != inner.get(type_key):
            plan.problems.append(
                Problem(
                    f"{item.what} exists with type {found.get(type_key)!r}; the worker needs"
                    f" {inner.get(type_key)!r}",
                    f"rename or delete the existing one (Admin Center > {where}), or configure"
                    " another name, then run `python -m worker setup`",
                )
            )
        elif not _active(found):
            plan.problems.append(_reactivate(item, where))
        else:
            plan.kept.append(item.what)


def _created(item: _Wanted) -> str:
    inner = next(iter(item.body.values()))
    if item.kind == "ticket field":
        kind = {"tagger": "dropdown"}.get(str(inner["type"]), str(inner["type"]))
        return f"{item.what} ({kind})"
    if item.kind == "macro":
        note = next(a["value"] for a in inner["actions"] if a["field"] == "comment_value")
        return f'{item.what} (private note "{note}")'
    return item.what


def _compare_statuses(plan: Plan, config: Config, snapshot: Snapshot) -> None:
    for item, category in _statuses(config):
        found = snapshot.statuses.get(item.name)
        where = "Objects and rules > Tickets > Ticket statuses"
        if found is None:
            plan.changes.append(Change(f"{item.what} ({category})", "POST", item.path, item.body))
        elif found.get("status_category") != category:
            plan.problems.append(
                Problem(
                    f'custom status "{item.name}" is in the {found.get("status_category")!r}'
                    f" category; the worker needs {category!r}",
                    f"create it in the {category!r} category under another name (Admin Center >"
                    f" {where}) and name that one in the configuration (statuses:), or rename"
                    " the existing one and run `python -m worker setup`",
                )
            )
        elif not _active(found):
            plan.problems.append(
                Problem(
                    f'custom status "{item.name}" exists but is inactive; setup will not create a'
                    " duplicate",
                    f"activate it in Admin Center > {where}",
                )
            )
        else:
            plan.kept.append(item.what)


def _compare_ticket_fields(plan: Plan, config: Config, snapshot: Snapshot) -> dict[FieldKey, int]:
    """Returns the ids of the fields the worker can use now."""
    ids: dict[FieldKey, int] = {}
    where = _WHERE["ticket field"]
    for key, item in _ticket_fields(config).items():
        found = snapshot.ticket_fields.get(item.name)
        wanted = item.body["ticket_field"]
        if found is None:
            plan.changes.append(Change(_created(item), "POST", item.path, item.body))
        elif found.get("type") != wanted["type"]:
            plan.problems.append(
                Problem(
                    f"{item.what} exists with type {found.get('type')!r}; the worker needs"
                    f" {wanted['type']!r}",
                    f"rename or deactivate the existing field (Admin Center > {where}) or set"
                    f" fields.{key.value} in the configuration to another title, then run"
                    " `python -m worker setup`",
                )
            )
        elif not _active(found):
            plan.problems.append(_reactivate(item, where))
        else:
            ids[key] = int(found["id"])
            missing = _missing_options(found, wanted)
            if missing:
                plan.changes.append(_add_options(item, found, missing))
            else:
                plan.kept.append(item.what)
    return ids


def _missing_options(found: Json, wanted: Json) -> list[Json]:
    have = {str(option.get("value")) for option in found.get("custom_field_options") or []}
    return [o for o in wanted.get("custom_field_options") or [] if o["value"] not in have]


def _add_options(item: _Wanted, found: Json, missing: list[Json]) -> Change:
    """Zendesk replaces the whole option list on update, so the existing options go back with
    their ids (kept as they are) and ours are appended."""
    kept = [
        {"id": o["id"], "name": o.get("raw_name") or o.get("name"), "value": o.get("value")}
        for o in found.get("custom_field_options") or []
    ]
    names = ", ".join(f'"{o["name"]}"' for o in missing)
    return Change(
        f"{item.what}: add options {names}",
        "PUT",
        f"/api/v2/ticket_fields/{found['id']}.json",
        {"ticket_field": {"custom_field_options": kept + missing}},
    )


def _second_phase(plan: Plan, config: Config, snapshot: Snapshot, ids: FieldIds) -> None:
    """Macros and views, which need the fields' ids; one whose field cannot be used is skipped
    (the field's own problem already says why)."""
    for item in [*_macros(config, ids), *_views(config, ids)]:
        if any(key not in ids for key in item.needs):
            continue
        existing = snapshot.macros if item.kind == "macro" else snapshot.views
        _compare_simple(plan, [item], existing, "")


def _first_phase(config: Config, snapshot: Snapshot) -> tuple[Plan, dict[FieldKey, int]]:
    plan = Plan()
    _compare_statuses(plan, config, snapshot)
    ids = _compare_ticket_fields(plan, config, snapshot)
    _compare_simple(plan, _ficha_fields(config, "user field"), snapshot.user_fields, "type")
    _compare_simple(
        plan, _ficha_fields(config, "organization field"), snapshot.organization_fields, "type"
    )
    return plan, ids


def plan_from(snapshot: Snapshot, config: Config) -> Plan:
    """Everything setup would do; ids of fields still to be created appear as placeholders."""
    plan, ids = _first_phase(config, snapshot)
    titles = field_titles(config)
    pending: dict[FieldKey, int | str] = dict(ids)
    for key, title in titles.items():
        if key not in ids and any(
            c.body.get("ticket_field", {}).get("title") == title for c in plan.changes
        ):
            pending[key] = f'<id of "{title}">'
    _second_phase(plan, config, snapshot, pending)
    return plan


def plan(client: ZendeskClient, config: Config) -> Plan:
    """Reads only."""
    return plan_from(read_account(client), config)


# --- doing ----------------------------------------------------------------------------------------


class NotAdmin(ZendeskError):
    pass


def require_admin(snapshot: Snapshot) -> None:
    role = snapshot.me.get("role")
    if role != "admin":
        raise NotAdmin(
            f"the worker's user {snapshot.me.get('email') or ''} is {role or 'not signed in'},"
            " not an admin: " + ADMIN_FIX
        )


ADMIN_FIX = (
    "make the worker's Zendesk user an admin (Admin Center > People > Team > Team members >"
    " the user > Role: Admin); the incremental export and setup need it"
)


def setup(client: ZendeskClient, config: Config, *, dry_run: bool, out: TextIO) -> Plan:
    """Prints the plan (dry run) or each write as it happens. Returns the plan carried out:
    `problems` not empty means setup could not finish, and the command should exit non-zero.
    A failed write is printed and raised; running setup again resumes, since what exists is
    kept."""
    snapshot = read_account(client)
    require_admin(snapshot)
    if dry_run:
        result = plan_from(snapshot, config)
        push.setup(client, config, result, write=None, out=out)
        _print_plan(result, out)
        return result
    result, ids = _first_phase(config, snapshot)
    first = list(result.changes)
    result.changes.clear()
    titles = {title: key for key, title in field_titles(config).items()}
    for change in first:
        response = _write(client, change, out)
        created = response.get("ticket_field")
        if change.method == "POST" and isinstance(created, dict):
            key = titles.get(str(created.get("title")))
            if key is not None and "id" in created:
                ids[key] = int(created["id"])
        result.changes.append(change)
    second = Plan()
    _second_phase(second, config, snapshot, ids)
    for change in second.changes:
        _write(client, change, out)
        result.changes.append(change)
    result.kept.extend(second.kept)
    result.problems.extend(second.problems)
    push.setup(client, config, result, write=lambda change: _write(client, change, out), out=out)
    _print_summary(result, out)
    return result


def _write(client: ZendeskClient, change: Change, out: TextIO) -> Json:
    def send(change: Change) -> Json:
        return client.request(change.method, change.path, body=change.body)

    answer: Json = provisioning.write(change, send, ZendeskError, out)
    return answer


def _print_plan(result: Plan, out: TextIO) -> None:
    provisioning.print_changes(result, out)
    print(f"already there: {len(result.kept)}", file=out)
    provisioning.print_problems(result.problems, out)
    print("dry run: nothing was written.", file=out)


def _print_summary(result: Plan, out: TextIO) -> None:
    provisioning.print_done(result, out)
    provisioning.print_problems(result.problems, out)


# Every public name, those re-exported from `provisioning` included (`check`, the CLI and the
# tests import them from here).
__all__ = [
    "ADMIN_FIX",
    "CUSTOM_STATUSES_FIX",
    "MACRO_PREFIX",
    "SETUP_COMMAND",
    "VIEW_DEADLINES",
    "VIEW_EXECUTE",
    "VIEW_POSSIBLE",
    "VIEW_REVIEW",
    "Change",
    "CustomStatusesOff",
    "FieldIds",
    "FieldOption",
    "FieldSpec",
    "NotAdmin",
    "Plan",
    "Problem",
    "Snapshot",
    "field_specs",
    "field_titles",
    "plan",
    "plan_from",
    "print_problem",
    "read_account",
    "require_admin",
    "setup",
]
