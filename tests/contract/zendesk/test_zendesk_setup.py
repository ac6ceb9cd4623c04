"""`setup` and `check` against recorded Zendesk answers, asserting the exact requests.

The fixtures follow the JSON shapes of the Zendesk API reference (custom ticket statuses, ticket,
user and organization fields, macros, views, triggers, users/me), written by hand."""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests
import responses

from worker.adapters.zendesk.check import (
    CREDENTIALS_FIX,
    TRIGGER_FIX,
    check,
    notifies_on_public_comment,
    print_problems,
)
from worker.adapters.zendesk.http import Credentials, ZendeskClient
from worker.adapters.zendesk.layout import from_zendesk, to_zendesk
from worker.adapters.zendesk.provision import (
    ADMIN_FIX,
    SETUP_COMMAND,
    NotAdmin,
    Problem,
    field_specs,
    plan,
    setup,
)
from worker.config import Config
from worker.core.commands import Command, InvalidCommand, parse_commands
from worker.core.effects import FieldKey

BASE = "https://acme.zendesk.com"
Json = dict[str, Any]
CONFIG = Config()
REASONS = [(r.value, r.label) for r in CONFIG.reasons]


def new_client() -> ZendeskClient:
    credentials = Credentials(BASE, "ops@acme.com.br", "tok", None)
    return ZendeskClient(credentials, Config().zendesk, sleep=lambda s: None)


@pytest.fixture
def api() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


def writes(api: responses.RequestsMock) -> list[tuple[str, str, Json]]:
    found = []
    for call in api.calls:
        request = call.request
        if request.method != "GET":
            path = str(request.url).removeprefix(BASE)
            body = request.body if isinstance(request.body, (str, bytes)) else b"{}"
            found.append((str(request.method), path, json.loads(body)))
    return found


# --- the account's answers ------------------------------------------------------------------------

ADMIN = {
    "user": {
        "id": 900,
        "url": f"{BASE}/api/v2/users/900.json",
        "name": "Worker Cancelamento",
        "email": "ops@acme.com.br",
        "role": "admin",
        "active": True,
    }
}


def system_statuses() -> list[Json]:
    """The defaults every account with custom statuses has, one per category."""
    return [
        {
            "id": 1,
            "agent_label": label,
            "end_user_label": label,
            "status_category": category,
            "active": True,
            "default": True,
        }
        for label, category in (
            ("New", "new"),
            ("Open", "open"),
            ("Pending", "pending"),
            ("On-hold", "hold"),
            ("Solved", "solved"),
        )
    ]


OUR_STATUSES = [
    {
        "id": 31,
        "agent_label": "Em atendimento",
        "end_user_label": "Em atendimento",
        "status_category": "open",
        "active": True,
        "default": False,
    },
    {
        "id": 32,
        "agent_label": "Aguardando retorno do cliente",
        "end_user_label": "Aguardando sua resposta",
        "status_category": "pending",
        "active": True,
        "default": False,
    },
]

SYSTEM_FIELDS = [
    {"id": 1, "type": "subject", "title": "Subject", "active": True},
    {"id": 2, "type": "description", "title": "Description", "active": True},
    {"id": 3, "type": "status", "title": "Status", "active": True},
]


def options(key: FieldKey, pairs: list[tuple[str, str]], first_id: int) -> list[Json]:
    return [
        {
            "id": first_id + i,
            "name": name,
            "raw_name": name,
            "value": to_zendesk(key, engine),
            "default": False,
        }
        for i, (engine, name) in enumerate(pairs)
    ]


def our_fields() -> list[Json]:
    return [
        {
            "id": 501,
            "type": "tagger",
            "title": "Situação do cancelamento",
            "active": True,
            "custom_field_options": options(
                FieldKey.SITUATION,
                [
                    ("titular", "Titular"),
                    ("socio", "Sócio-administrador"),
                    ("terceiro", "Terceiro"),
                ],
                10,
            ),
        },
        {"id": 502, "type": "integer", "title": "Tentativas de ligação", "active": True},
        {
            "id": 503,
            "type": "tagger",
            "title": "Motivo da insatisfação",
            "active": True,
            "custom_field_options": options(FieldKey.REASON, REASONS, 20),
        },
        {
            "id": 504,
            "type": "tagger",
            "title": "Resultado do cancelamento",
            "active": True,
            "custom_field_options": options(
                FieldKey.OUTCOME,
                [
                    ("revertido", "Revertido"),
                    ("cancelado", "Cancelado"),
                    ("nao_cancelado", "Não cancelado"),
                    ("terceiro", "Pedido de terceiro"),
                ],
                40,
            ),
        },
        {"id": 505, "type": "date", "title": "Prazo do retorno", "active": True},
    ]


OUR_USER_FIELDS = [
    {"id": 601, "type": "checkbox", "key": "titular", "title": "Titular", "active": True},
    {
        "id": 602,
        "type": "checkbox",
        "key": "socio_administrador",
        "title": "Sócio-administrador",
        "active": True,
    },
]
OUR_ORG_FIELDS = [
    {"id": 701, "type": "text", "key": "documento", "title": "CPF ou CNPJ", "active": True},
    {
        "id": 702,
        "type": "text",
        "key": "email_cadastro",
        "title": "E-mail de cadastro",
        "active": True,
    },
]

SIMPLE_MACROS = [
    ("Cancelamento::Ligação sem sucesso", "#tentativa"),
    ("Cancelamento::Identidade confirmada", "#identidade-confirmada"),
    ("Cancelamento::Sócio confirmou", "#socio-confirmou "),
    ("Cancelamento::Contrato cancelado", "#contrato-cancelado"),
    ("Cancelamento::Assumir manualmente", "#manual"),
    ("Cancelamento::Devolver ao worker", "#retomar"),
    ("Cancelamento::Iniciar cancelamento", "#iniciar-cancelamento"),
]


def macro_titles() -> list[str]:
    """In the order setup creates them: the order of the commands."""
    return [
        SIMPLE_MACROS[0][0],
        *[f"Cancelamento::Revertido::{label}" for _, label in REASONS],
        *[f"Cancelamento::Quer cancelar::{label}" for _, label in REASONS],
        *[title for title, _ in SIMPLE_MACROS[1:]],
    ]


VIEW_TITLES = [
    "Cancelamentos em aberto por prazo",
    "Cancelamentos para revisar",
    "Cancelamentos a executar no sistema",
    "Talvez pedidos de cancelamento",
]

NOTIFY_ON_COMMENT = {
    "id": 8001,
    "title": "Notify requester and CCs of comment update",
    "active": True,
    "position": 3,
    "conditions": {
        "all": [
            {"field": "update_type", "operator": "is", "value": "Change"},
            {"field": "comment_is_public", "operator": "is", "value": "requester_can_see_comment"},
        ],
        "any": [],
    },
    "actions": [
        {
            "field": "notification_user",
            "value": ["requester_and_ccs", "[{{ticket.account}}] Re: {{ticket.title}}", "..."],
        }
    ],
}
NOTIFY_ON_CREATE = {
    **NOTIFY_ON_COMMENT,
    "id": 8002,
    "title": "Notify requester and CCs of received request",
    "conditions": {
        "all": [
            {"field": "update_type", "operator": "is", "value": "Create"},
            {"field": "status", "operator": "is_not", "value": "solved"},
        ],
        "any": [],
    },
}


def page(name: str, items: list[Json]) -> Json:
    return {name: items, "next_page": None, "previous_page": None, "count": len(items)}


def serve(
    api: responses.RequestsMock,
    *,
    me: Json = ADMIN,
    statuses: list[Json] | None = None,
    fields: list[Json] | None = None,
    user_fields: list[Json] | None = None,
    org_fields: list[Json] | None = None,
    macros: list[Json] | None = None,
    views: list[Json] | None = None,
    triggers: list[Json] | None = None,
) -> None:
    """An empty account by default; pass lists to fill it."""
    api.get(f"{BASE}/api/v2/users/me.json", json=me)
    api.get(
        f"{BASE}/api/v2/custom_statuses.json",
        json={"custom_statuses": system_statuses() + (statuses or [])},
    )
    api.get(
        f"{BASE}/api/v2/ticket_fields.json",
        json=page("ticket_fields", SYSTEM_FIELDS + (fields or [])),
    )
    api.get(f"{BASE}/api/v2/user_fields.json", json=page("user_fields", user_fields or []))
    api.get(
        f"{BASE}/api/v2/organization_fields.json",
        json=page("organization_fields", org_fields or []),
    )
    api.get(f"{BASE}/api/v2/macros.json", json=page("macros", macros or []))
    api.get(f"{BASE}/api/v2/views.json", json=page("views", views or []))
    api.get(f"{BASE}/api/v2/triggers/active.json", json=page("triggers", triggers or []))


def serve_provisioned(api: responses.RequestsMock, **overrides: Any) -> None:
    account: dict[str, Any] = {
        "statuses": OUR_STATUSES,
        "fields": our_fields(),
        "user_fields": OUR_USER_FIELDS,
        "org_fields": OUR_ORG_FIELDS,
        "macros": [
            {"id": 1000 + i, "title": t, "active": True, "actions": []}
            for i, t in enumerate(macro_titles())
        ],
        "views": [{"id": 2000 + i, "title": t, "active": True} for i, t in enumerate(VIEW_TITLES)],
        "triggers": [NOTIFY_ON_CREATE, NOTIFY_ON_COMMENT],
    }
    account.update(overrides)
    serve(api, **account)


def creating(
    name: str, first_id: int
) -> Callable[[requests.PreparedRequest], tuple[int, dict[str, str], str]]:
    """Zendesk's answer to a create: 201 and the object with its new id."""
    counter = iter(range(first_id, first_id + 100))

    def answer(request: requests.PreparedRequest) -> tuple[int, dict[str, str], str]:
        body = json.loads(request.body or b"{}")
        created = {"id": next(counter), "active": True, **body[name]}
        return 201, {}, json.dumps({name: created})

    return answer


def accept_creates(api: responses.RequestsMock) -> None:
    for path, name, first in (
        ("custom_statuses", "custom_status", 31),
        ("ticket_fields", "ticket_field", 501),
        ("user_fields", "user_field", 601),
        ("organization_fields", "organization_field", 701),
        ("macros", "macro", 1000),
        ("views", "view", 2000),
    ):
        api.add_callback("POST", f"{BASE}/api/v2/{path}.json", callback=creating(name, first))


# --- setup ---------------------------------------------------------------------------------------


def test_an_empty_account_gets_everything_in_dependency_order(
    api: responses.RequestsMock,
) -> None:
    serve(api)
    accept_creates(api)
    out = io.StringIO()

    result = setup(new_client(), CONFIG, dry_run=False, out=out)

    made = writes(api)
    assert [(m, p) for m, p, _ in made] == (
        [("POST", "/api/v2/custom_statuses.json")] * 2
        + [("POST", "/api/v2/ticket_fields.json")] * 5
        + [("POST", "/api/v2/user_fields.json")] * 2
        + [("POST", "/api/v2/organization_fields.json")] * 2
        + [("POST", "/api/v2/macros.json")] * 21
        + [("POST", "/api/v2/views.json")] * 4
    )
    bodies = [body for _, _, body in made]
    assert bodies[0:2] == [
        {
            "custom_status": {
                "status_category": "open",
                "agent_label": "Em atendimento",
                "end_user_label": "Em atendimento",
                "active": True,
            }
        },
        {
            "custom_status": {
                "status_category": "pending",
                "agent_label": "Aguardando retorno do cliente",
                "end_user_label": "Aguardando sua resposta",
                "active": True,
            }
        },
    ]
    fields = [body["ticket_field"] for body in bodies[2:7]]
    assert [(f["title"], f["type"]) for f in fields] == [
        ("Situação do cancelamento", "tagger"),
        ("Tentativas de ligação", "integer"),
        ("Motivo da insatisfação", "tagger"),
        ("Resultado do cancelamento", "tagger"),
        ("Prazo do retorno", "date"),
    ]
    assert fields[0]["custom_field_options"] == [
        {"name": "Titular", "value": "cancelamento_situacao_titular"},
        {"name": "Sócio-administrador", "value": "cancelamento_situacao_socio"},
        {"name": "Terceiro", "value": "cancelamento_situacao_terceiro"},
    ]
    assert fields[2]["custom_field_options"] == [
        {"name": label, "value": f"cancelamento_motivo_{value}"} for value, label in REASONS
    ]
    assert fields[3]["custom_field_options"] == [
        {"name": "Revertido", "value": "cancelamento_resultado_revertido"},
        {"name": "Cancelado", "value": "cancelamento_resultado_cancelado"},
        {"name": "Não cancelado", "value": "cancelamento_resultado_nao_cancelado"},
        {"name": "Pedido de terceiro", "value": "cancelamento_resultado_terceiro"},
    ]
    assert "custom_field_options" not in fields[1] and "custom_field_options" not in fields[4]
    assert bodies[7:11] == [
        {
            "user_field": {
                "type": "checkbox",
                "key": "titular",
                "title": "Titular",
                "description": "Titular do contrato da organização (pessoa física).",
            }
        },
        {
            "user_field": {
                "type": "checkbox",
                "key": "socio_administrador",
                "title": "Sócio-administrador",
                "description": "Sócio-administrador da organização (pessoa jurídica).",
            }
        },
        {
            "organization_field": {
                "type": "text",
                "key": "documento",
                "title": "CPF ou CNPJ",
                "description": "Documento do titular do contrato.",
            }
        },
        {
            "organization_field": {
                "type": "text",
                "key": "email_cadastro",
                "title": "E-mail de cadastro",
                "description": "E-mail registrado no contrato; pedidos vindos"
                " dele contam como do cliente.",
            }
        },
    ]
    macros = [body["macro"] for body in bodies[11:32]]
    assert [m["title"] for m in macros] == macro_titles()
    by_title = {m["title"]: m for m in macros}
    assert by_title["Cancelamento::Ligação sem sucesso"] == {
        "title": "Cancelamento::Ligação sem sucesso",
        "description": "ligação sem sucesso",
        "active": True,
        "actions": [
            {"field": "comment_value", "value": "#tentativa"},
            {"field": "comment_mode_is_public", "value": "false"},
        ],
    }
    # The reason field's id is the one Zendesk gave it a moment before (503).
    assert by_title["Cancelamento::Revertido::Preço"]["actions"] == [
        {"field": "comment_value", "value": "#revertido motivo: Preço"},
        {"field": "comment_mode_is_public", "value": "false"},
        {"field": "custom_fields_503", "value": "cancelamento_motivo_preco"},
    ]
    assert by_title["Cancelamento::Quer cancelar::Não utiliza mais"]["actions"][0] == {
        "field": "comment_value",
        "value": "#cancelar motivo: Não utiliza mais",
    }
    assert by_title["Cancelamento::Sócio confirmou"]["actions"][0] == {
        "field": "comment_value",
        "value": "#socio-confirmou ",
    }
    for title, text in SIMPLE_MACROS:
        assert by_title[title]["actions"][0]["value"] == text
    # The one that starts the procedure also tags the ticket, so the poll reads its command.
    assert by_title["Cancelamento::Iniciar cancelamento"]["actions"][2] == {
        "field": "current_tags",
        "value": "cancelamento-possivel",
    }
    views = [body["view"] for body in bodies[32:]]
    assert views[0] == {
        "title": "Cancelamentos em aberto por prazo",
        "description": "Pedidos de cancelamento abertos, o prazo mais próximo primeiro.",
        "active": True,
        "all": [
            {"field": "status", "operator": "less_than", "value": "solved"},
            {"field": "current_tags", "operator": "includes", "value": "cancelamento"},
        ],
        "output": {
            "columns": [
                "description",
                "requester",
                "organization",
                "custom_status_id",
                505,
                501,
                "assignee",
                "updated",
            ],
            "sort_by": 505,
            "sort_order": "asc",
        },
    }
    assert [v["all"][1]["value"] for v in views] == [
        "cancelamento",
        "cancelamento-revisar",
        "cancelamento-executar",
        "cancelamento-possivel",
    ]
    assert len(result.changes) == 36 and not result.problems
    assert 'created  macro "Cancelamento::Revertido::Preço"' in out.getvalue()
    assert "setup done: 36 change(s), 0 already there." in out.getvalue()


def test_a_provisioned_account_gets_zero_writes(api: responses.RequestsMock) -> None:
    serve_provisioned(api)
    client = new_client()
    out = io.StringIO()

    result = setup(client, CONFIG, dry_run=False, out=out)

    assert writes(api) == [] and client.stats.writes == 0
    assert result.changes == [] and result.problems == []
    assert len(result.kept) == 2 + 5 + 2 + 2 + 21 + 4
    assert out.getvalue() == "setup done: 0 change(s), 36 already there.\n"


def test_dry_run_prints_the_plan_and_writes_nothing(api: responses.RequestsMock) -> None:
    serve(api)
    client = new_client()
    out = io.StringIO()

    result = setup(client, CONFIG, dry_run=True, out=out)

    assert writes(api) == [] and client.stats.writes == 0
    printed = out.getvalue().splitlines()
    assert printed[0] == "setup would make 36 change(s):"
    assert printed[1] == (
        '  POST /api/v2/custom_statuses.json             custom status "Em atendimento" (open)'
    )
    assert any('ticket field "Motivo da insatisfação" (dropdown)' in line for line in printed)
    assert any(
        'macro "Cancelamento::Ligação sem sucesso" (private note "#tentativa")' in line
        for line in printed
    )
    assert printed[-2:] == ["already there: 0", "dry run: nothing was written."]
    # Ids that do not exist yet are named, not invented.
    preco = next(
        c for c in result.changes if c.what.startswith('macro "Cancelamento::Revertido::P')
    )
    assert preco.body["macro"]["actions"][2] == {
        "field": 'custom_fields_<id of "Motivo da insatisfação">',
        "value": "cancelamento_motivo_preco",
    }


def test_a_new_reason_is_added_to_the_existing_dropdown_keeping_its_options(
    api: responses.RequestsMock,
) -> None:
    fields = our_fields()
    fields[2]["custom_field_options"] = options(FieldKey.REASON, REASONS[:-1], 20)  # no "Outro"
    macros = [t for t in macro_titles() if not t.endswith("::Outro")]
    serve_provisioned(
        api, fields=fields, macros=[{"id": 1, "title": t, "active": True} for t in macros]
    )
    api.put(f"{BASE}/api/v2/ticket_fields/503.json", json={"ticket_field": fields[2]})
    accept_creates(api)

    setup(new_client(), CONFIG, dry_run=False, out=io.StringIO())

    made = writes(api)
    assert made[0] == (
        "PUT",
        "/api/v2/ticket_fields/503.json",
        {
            "ticket_field": {
                "custom_field_options": [
                    *[
                        {"id": 20 + i, "name": label, "value": f"cancelamento_motivo_{value}"}
                        for i, (value, label) in enumerate(REASONS[:-1])
                    ],
                    {"name": "Outro", "value": "cancelamento_motivo_outro"},
                ]
            }
        },
    )
    assert [body["macro"]["title"] for _, _, body in made[1:]] == [
        "Cancelamento::Revertido::Outro",
        "Cancelamento::Quer cancelar::Outro",
    ]


def test_an_inactive_field_is_not_duplicated_and_its_macros_wait(
    api: responses.RequestsMock,
) -> None:
    fields = our_fields()
    fields[2]["active"] = False
    macros = [{"id": 1, "title": t, "active": True} for t in macro_titles() if "::" not in t[14:]]
    serve_provisioned(api, fields=fields, macros=macros)
    out = io.StringIO()

    result = setup(new_client(), CONFIG, dry_run=False, out=out)

    assert writes(api) == []
    assert result.problems == [
        Problem(
            'ticket field "Motivo da insatisfação" exists but is inactive; setup will not create'
            " a duplicate",
            "reactivate it in Admin Center > Objects and rules > Tickets > Fields, then run"
            " `python -m worker setup` again",
        )
    ]
    assert 'PROBLEM ticket field "Motivo da insatisfação" exists but is inactive' in out.getvalue()


def test_setup_refuses_a_user_who_is_not_an_admin(api: responses.RequestsMock) -> None:
    serve(api, me={"user": {**ADMIN["user"], "role": "agent"}})

    with pytest.raises(NotAdmin, match="Role: Admin"):
        setup(new_client(), CONFIG, dry_run=True, out=io.StringIO())
    assert writes(api) == []


def test_plan_reads_only(api: responses.RequestsMock) -> None:
    serve(api)
    client = new_client()

    changes = plan(client, CONFIG).changes

    assert len(changes) == 36 and client.stats.writes == 0
    assert {call.request.method for call in api.calls} == {"GET"}


# --- check ---------------------------------------------------------------------------------------


def test_check_on_a_good_account_finds_nothing(api: responses.RequestsMock) -> None:
    serve_provisioned(api)
    client = new_client()
    out = io.StringIO()

    problems = check(client, CONFIG)
    print_problems(problems, out)

    assert problems == [] and client.stats.writes == 0
    assert out.getvalue() == "check: everything the worker needs is in place.\n"


def test_check_names_a_missing_status(api: responses.RequestsMock) -> None:
    serve_provisioned(api, statuses=OUR_STATUSES[:1])

    assert check(new_client(), CONFIG) == [
        Problem(
            'missing in Zendesk: custom status "Aguardando retorno do cliente" (pending)',
            SETUP_COMMAND,
        )
    ]


def test_check_names_a_user_who_is_not_an_admin(api: responses.RequestsMock) -> None:
    serve_provisioned(api, me={"user": {**ADMIN["user"], "role": "agent"}})

    assert check(new_client(), CONFIG) == [
        Problem("the worker's user ops@acme.com.br is 'agent', not an admin", ADMIN_FIX)
    ]


def test_check_wants_an_active_trigger_that_emails_public_comments(
    api: responses.RequestsMock,
) -> None:
    serve_provisioned(api, triggers=[NOTIFY_ON_CREATE])

    problems = check(new_client(), CONFIG)

    assert [p.fix for p in problems] == [TRIGGER_FIX]
    assert "e-mails the requester when a public comment is added" in problems[0].what


def test_check_stops_at_rejected_credentials(api: responses.RequestsMock) -> None:
    api.get(
        f"{BASE}/api/v2/users/me.json",
        status=401,
        json={"error": "Couldn't authenticate you"},
    )

    problems = check(new_client(), CONFIG)

    assert problems == [
        Problem(
            "Zendesk rejected the credentials (GET /users/me: Zendesk answered 401:"
            " Couldn't authenticate you)",
            CREDENTIALS_FIX,
        )
    ]
    assert len(api.calls) == 1


def test_a_configured_tag_with_capitals_is_a_problem(api: responses.RequestsMock) -> None:
    serve_provisioned(api)
    config = Config.model_validate({"tags": {"review": "Cancelamento-Revisar"}})

    problems = check(new_client(), config)

    assert [p.what for p in problems] == [
        "tags.review is 'Cancelamento-Revisar'; Zendesk stores tags in lower case"
    ]


@pytest.mark.parametrize(
    ("condition", "sends"),
    [
        ({"field": "comment_is_public", "operator": "is", "value": "true"}, True),
        ({"field": "comment_is_public", "operator": "is", "value": "false"}, False),
        ({"field": "update_type", "operator": "is", "value": "Create"}, False),
        ({"field": "current_via_id", "operator": "is_not", "value": "5"}, False),
        ({"field": "current_via_id", "operator": "is", "value": "4"}, False),
        ({"field": "current_via_id", "operator": "is_not", "value": "4"}, True),
    ],
)
def test_which_triggers_email_the_workers_public_comments(condition: Json, sends: bool) -> None:
    trigger = {**NOTIFY_ON_COMMENT, "conditions": {"all": [condition], "any": []}}
    assert notifies_on_public_comment(trigger) is sends
    assert not notifies_on_public_comment({**trigger, "active": False})
    to_agents = {
        **trigger,
        "actions": [{"field": "notification_user", "value": ["assignee_id", "s", "b"]}],
    }
    assert not notifies_on_public_comment(to_agents)


def test_every_value_the_engine_writes_is_an_option_and_reads_back() -> None:
    specs = field_specs(CONFIG)
    for key, spec in specs.items():
        for option in spec.options:
            assert from_zendesk(key, option.value(key)) == option.engine
    assert from_zendesk(FieldKey.REASON, "preco") is None  # a tag that is not ours
    assert [o.engine for o in specs[FieldKey.REASON].options] == [v for v, _ in REASONS]


def test_every_macro_note_is_a_command_the_engine_reads(api: responses.RequestsMock) -> None:
    serve(api)
    changes = plan(new_client(), CONFIG).changes
    notes = {
        change.body["macro"]["title"]: change.body["macro"]["actions"][0]["value"]
        for change in changes
        if "macro" in change.body
    }
    for title, note in notes.items():
        (parsed,) = parse_commands(note)
        if title == "Cancelamento::Sócio confirmou":  # the agent types the partner's e-mail
            assert isinstance(parsed, InvalidCommand) and "falta o e-mail" in parsed.problem
            continue
        assert isinstance(parsed, Command), (title, parsed)
        if "::Revertido::" in title or "::Quer cancelar::" in title:
            assert parsed.argument == title.rsplit("::", 1)[1]
