"""`setup` and `check` on Freshdesk: what is created, that a second run writes nothing, the
manual steps, and the problems `check` reports with their fixes."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
import responses

from tests.test_freshdesk_adapter import API, BASE, IN_PROGRESS, WAITING, Sleeps, me, ticket_fields
from worker.adapters.freshdesk.check import check
from worker.adapters.freshdesk.http import Credentials, FreshdeskClient
from worker.adapters.freshdesk.provision import setup
from worker.adapters.freshdesk.settings import Freshdesk as FreshdeskSettings
from worker.config import Config

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
REASONS = [
    "Preço",
    "Atendimento",
    "Qualidade do serviço",
    "Mudou para concorrente",
    "Encerramento da empresa",
    "Não utiliza mais",
    "Outro",
]


def provisioned() -> list[dict[str, Any]]:
    fields = ticket_fields()
    for field in fields:
        if field.get("name") == "cf_situacao_do_cancelamento":
            field["choices"] = ["Titular", "Sócio-administrador", "Terceiro"]
        if field.get("name") == "cf_motivo_da_insatisfacao":
            field["choices"] = REASONS
        if field.get("name") == "cf_resultado_do_cancelamento":
            field["choices"] = ["Revertido", "Cancelado", "Não cancelado", "Pedido de terceiro"]
    return fields


def client() -> FreshdeskClient:
    sleeps = Sleeps()
    return FreshdeskClient(
        Credentials(BASE, "k"), FreshdeskSettings(), sleep=sleeps, clock=sleeps.clock
    )


@pytest.fixture
def api() -> Any:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.get(f"{API}/agents/me", json=me())
        mock.get(
            f"{API}/roles",
            json=[{"id": 1, "name": "Account Administrator"}, {"id": 2, "name": "Agent"}],
        )
        yield mock


def writes(api: Any) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (c.request.method, c.request.url.removeprefix(API), json.loads(c.request.body))
        for c in api.calls
        if c.request.method != "GET"
    ]


def test_setup_on_an_empty_account_creates_statuses_fields_and_prints_manual_steps(
    api: Any,
) -> None:
    bare = [f for f in ticket_fields() if not str(f["name"]).startswith("cf_")]
    for field in bare:
        if field["name"] == "status":
            field["choices"] = {k: v for k, v in field["choices"].items() if int(k) < 6}
    api.get(f"{API}/ticket_fields", json=bare)
    api.get(f"{API}/contact_fields", json=[])
    api.get(f"{API}/company_fields", json=[])
    api.put(f"{API}/admin/ticket_fields/2000", json={"id": 2000})
    api.post(f"{API}/admin/ticket_fields", json={"id": 1})
    for name in ("titular", "socio_administrador"):
        api.post(f"{API}/contact_fields", json={"id": 9, "name": name})
    api.post(f"{API}/company_fields", json={"id": 9, "name": "documento"})
    api.post(f"{API}/company_fields", json={"id": 9, "name": "cf_email_de_cadastro"})
    out = io.StringIO()
    plan = setup(client(), Config(), dry_run=False, out=out)
    made = writes(api)
    assert made[0] == (
        "PUT",
        "/admin/ticket_fields/2000",
        {
            "choices": [
                {
                    "value": "Em atendimento",
                    "label_for_customers": "Em atendimento",
                    "stop_sla_timer": False,
                },
                {
                    "value": "Aguardando retorno do cliente",
                    "label_for_customers": "Aguardando sua resposta",
                    "stop_sla_timer": True,
                },
            ]
        },
    )
    situation = made[1][2]
    assert situation["label"] == "Situação do cancelamento"
    assert situation["type"] == "custom_dropdown"
    assert [c["value"] for c in situation["choices"]] == [
        "Titular",
        "Sócio-administrador",
        "Terceiro",
    ]
    assert [m[2]["type"] for m in made[1:6]] == [
        "custom_dropdown",
        "custom_number",
        "custom_dropdown",
        "custom_dropdown",
        "custom_date",
    ]
    assert [m[1] for m in made[6:]] == ["/contact_fields"] * 2 + ["/company_fields"] * 2
    # Freshdesk derived another name than the configured key: setup says what to configure.
    assert [p.fix for p in plan.problems] == [
        "set ficha.registered_email: cf_email_de_cadastro in the configuration"
    ]
    text = out.getvalue()
    assert 'Cenário "Cancelamento: Ligação sem sucesso"' in text
    assert '"#revertido motivo: Preço"' in text
    assert 'Visão "Cancelamentos em aberto por prazo"' in text


def test_a_second_setup_writes_nothing(api: Any) -> None:
    api.get(f"{API}/ticket_fields", json=provisioned())
    api.get(f"{API}/contact_fields", json=CONTACT_FIELDS)
    api.get(f"{API}/company_fields", json=COMPANY_FIELDS)
    plan = setup(client(), Config(), dry_run=False, out=io.StringIO())
    assert writes(api) == [] and plan.changes == [] and plan.problems == []
    assert check(client(), Config()) == []


def test_a_new_reason_is_added_to_the_dropdown_and_a_dry_run_writes_nothing(api: Any) -> None:
    fields = provisioned()
    api.get(f"{API}/ticket_fields", json=fields)
    api.get(f"{API}/contact_fields", json=CONTACT_FIELDS)
    api.get(f"{API}/company_fields", json=COMPANY_FIELDS)
    config = Config.model_validate(
        {"reasons": [{"value": "preco", "label": "Preço"}, {"value": "prazo", "label": "Prazo"}]}
    )
    out = io.StringIO()
    plan = setup(client(), config, dry_run=True, out=out)
    assert writes(api) == []
    [change] = plan.changes
    assert change.method == "PUT" and change.path.endswith("/admin/ticket_fields/3002")
    assert change.body == {"choices": [{"value": "Prazo", "position": 8}]}
    assert "dry run: nothing was written." in out.getvalue()


def test_check_reports_every_gap_with_its_fix(api: Any) -> None:
    api.replace(
        responses.GET, f"{API}/agents/me", json={**me(), "ticket_scope": 2, "role_ids": [2]}
    )
    fields = [f for f in provisioned() if f.get("name") != "cf_prazo_do_retorno"]
    api.get(f"{API}/ticket_fields", json=fields)
    api.get(
        f"{API}/contact_fields", json=[CONTACT_FIELDS[0], {**CONTACT_FIELDS[1], "name": "socio"}]
    )
    api.get(f"{API}/company_fields", json=COMPANY_FIELDS)
    problems = check(client(), Config())
    whats = [p.what for p in problems]
    assert any("does not see every ticket" in w for w in whats)
    assert any("is Agent, not an administrator" in w for w in whats)
    assert 'missing in Freshdesk: ticket field "Prazo do retorno" (date)' in whats
    assert any(p.fix == "set ficha.managing_partner: socio in the configuration" for p in problems)


def test_check_stops_at_rejected_credentials(api: Any) -> None:
    api.replace(
        responses.GET,
        f"{API}/agents/me",
        status=401,
        json={"code": "invalid_credentials", "message": "You have to be logged in"},
    )
    [problem] = check(client(), Config())
    assert "rejected the credentials" in problem.what and "FRESHDESK_API_KEY" in problem.fix


def test_statuses_already_there_are_kept(api: Any) -> None:
    fields = provisioned()
    assert {IN_PROGRESS, WAITING} <= {int(k) for k in fields[1]["choices"]}
    api.get(f"{API}/ticket_fields", json=fields)
    api.get(f"{API}/contact_fields", json=CONTACT_FIELDS)
    api.get(f"{API}/company_fields", json=COMPANY_FIELDS)
    plan = setup(client(), Config(), dry_run=True, out=io.StringIO())
    assert 'status "Em atendimento"' in plan.kept
