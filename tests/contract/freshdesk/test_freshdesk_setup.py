"""`setup` and `check` on Freshdesk: what is created, that a second run writes nothing, the
manual steps, and the problems `check` reports with their fixes."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from typing import Any

import pytest
import responses

from tests.fakes.clock import Sleeps
from tests.fakes.freshdesk_fake import ATTRIBUTES, WORKER_ID, FakeFreshdesk, fresh_account
from tests.fakes.freshdesk_wire import (
    API,
    BASE,
    COMPANY_FIELDS,
    CONTACT_FIELDS,
    IN_PROGRESS,
    WAITING,
    me,
    ticket_fields,
)
from worker.adapters.freshdesk.check import check
from worker.adapters.freshdesk.http import Credentials, FreshdeskClient, Invalid
from worker.adapters.freshdesk.layout import AccountLayout
from worker.adapters.freshdesk.provision import ADMIN_FIX, DOCUMENTED, setup
from worker.adapters.freshdesk.settings import Freshdesk as FreshdeskSettings
from worker.config import Config, Webhooks

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


@pytest.fixture
def fresh() -> Iterator[FakeFreshdesk]:
    """A new Freshdesk account (the strict fake): four built-in statuses, no custom field."""
    with fresh_account() as fake:
        yield fake


def fake_writes(fake: FakeFreshdesk) -> list[tuple[str, str]]:
    return [(method, path) for method, path in fake.requests if method != "GET"]


def test_setup_on_a_fresh_account_succeeds_and_a_second_one_writes_nothing(
    fresh: FakeFreshdesk,
) -> None:
    out = io.StringIO()
    plan = setup(client(), Config(), dry_run=False, out=out)
    assert plan.problems == []
    assert fake_writes(fresh) == [
        ("PUT", "/api/v2/admin/ticket_fields/2000"),
        *[("POST", "/api/v2/admin/ticket_fields")] * 5,
        *[("POST", "/api/v2/contact_fields")] * 2,
        *[("POST", "/api/v2/company_fields")] * 2,
    ]
    assert "Freshdesk named it cf_cpf_ou_cnpj; the worker finds it by its label" in out.getvalue()
    fresh.requests.clear()
    again = setup(client(), Config(), dry_run=False, out=io.StringIO())
    assert fake_writes(fresh) == [] and again.changes == [] and again.problems == []


def test_check_passes_after_setup_with_no_configuration_edit_and_says_what_it_found(
    fresh: FakeFreshdesk,
) -> None:
    setup(client(), Config(), dry_run=False, out=io.StringIO())
    out = io.StringIO()
    assert check(client(), Config(), out) == []
    found = out.getvalue()
    assert 'company field "CPF ou CNPJ" -> cf_cpf_ou_cnpj' in found
    assert 'contact field "Sócio-administrador" -> cf_scio_administrador' in found
    assert 'ticket field "Situação do cancelamento" -> cf_situao_do_cancelamento' in found
    assert 'status "Em atendimento" -> 6' in found


def test_the_worker_finds_the_ficha_by_the_names_freshdesk_gave(fresh: FakeFreshdesk) -> None:
    setup(client(), Config(), dry_run=False, out=io.StringIO())
    layout = AccountLayout.load(client(), Config())
    assert layout.ficha == {
        "holder": "cf_titular",
        "managing_partner": "cf_scio_administrador",
        "document": "cf_cpf_ou_cnpj",
        "registered_email": "cf_e_mail_de_cadastro",
    }


def test_a_ficha_field_is_found_by_its_configured_name_before_any_label(
    fresh: FakeFreshdesk,
) -> None:
    setup(client(), Config(), dry_run=False, out=io.StringIO())
    fresh.company_fields.append(
        {
            "id": 99,
            "name": "doc_legado",
            "label": "Documento",
            "type": "custom_text",
            "default": False,
        }
    )
    config = Config.model_validate({"ficha": {"document": "doc_legado"}})
    assert AccountLayout.load(client(), config).ficha["document"] == "doc_legado"


def test_every_setup_body_carries_only_its_objects_documented_attributes(
    fresh: FakeFreshdesk,
) -> None:
    """The adapter's tables are within what Freshdesk documents (the fake's tables), and every
    body of a fresh account's plan is within its table."""
    for kind, attributes in DOCUMENTED.items():
        documented = ATTRIBUTES[kind.replace(" update", "").replace(" ", "_")]
        assert attributes <= documented, kind
    plan = setup(client(), Config(), dry_run=True, out=io.StringIO())
    for change in plan.changes:
        if change.path.endswith("/contact_fields"):
            assert set(change.body) <= DOCUMENTED["contact field"]
        elif change.path.endswith("/company_fields"):
            assert set(change.body) <= DOCUMENTED["company field"]
            assert "label_for_customers" not in change.body
        elif change.method == "POST":
            assert set(change.body) <= DOCUMENTED["ticket field"]
        else:
            assert set(change.body) <= DOCUMENTED["ticket field update"]
        for choice in change.body.get("choices", []):
            kind = "status choice" if "stop_sla_timer" in choice else "dropdown choice"
            assert set(choice) <= DOCUMENTED[kind]


def test_new_status_choices_go_after_the_last_existing_one(fresh: FakeFreshdesk) -> None:
    plan = setup(client(), Config(), dry_run=True, out=io.StringIO())
    status = next(c for c in plan.changes if c.path.endswith("/2000"))
    assert [(c["value"], c["position"]) for c in status.body["choices"]] == [
        ("Em atendimento", 5),
        ("Aguardando retorno do cliente", 6),
    ]
    setup(client(), Config(), dry_run=False, out=io.StringIO())
    assert [(s.label, s.stop_sla_timer) for s in fresh.statuses.values()][-2:] == [
        ("Em atendimento", False),
        ("Aguardando retorno do cliente", True),
    ]


def test_setup_prints_the_manual_steps(fresh: FakeFreshdesk) -> None:
    out = io.StringIO()
    setup(client(), Config(), dry_run=False, out=out)
    text = out.getvalue()
    assert 'Cenário "Cancelamento: Ligação sem sucesso"' in text
    assert '"#revertido motivo: Preço"' in text
    assert 'Visão "Cancelamentos em aberto por prazo"' in text
    assert "Acionar webhook" not in text, "no push without webhooks.public_url"


def test_setup_prints_the_automation_rules_that_call_the_worker(fresh: FakeFreshdesk) -> None:
    url = "https://worker.empresa.com.br/webhooks/freshdesk"
    out = io.StringIO()
    setup(client(), Config(webhooks=Webhooks(public_url=url)), dry_run=False, out=out)
    text = out.getvalue()
    assert text.count(f'"Acionar webhook": método POST, URL {url}') == 2
    assert '"X-Cancelamento-Token" com o valor de FRESHDESK_WEBHOOK_TOKEN' in text
    assert '{"ticket_id": "{{ticket.id}}"}' in text


def test_the_scenario_that_starts_a_cancellation_also_tags_the_ticket(fresh: FakeFreshdesk) -> None:
    out = io.StringIO()
    setup(client(), Config(), dry_run=False, out=out)
    assert (
        'Cenário "Cancelamento: Iniciar cancelamento": ação "Adicionar nota" (privada) com o texto'
        ' "#iniciar-cancelamento" e ação "Adicionar tag" cancelamento-possivel'
    ) in out.getvalue()
    assert 'Visão "Talvez pedidos de cancelamento": tag "cancelamento-possivel"' in out.getvalue()


# --- the strict fake refuses what Freshdesk refuses -----------------------------------------


@pytest.mark.parametrize(
    ("path", "body", "field", "code"),
    [
        (
            "/company_fields",
            {"label": "X", "label_for_customers": "X", "type": "custom_text"},
            "label_for_customers",
            "invalid_field",
        ),
        (
            "/contact_fields",
            {"label": "X", "type": "custom_text"},
            "label_for_customers",
            "missing_field",
        ),
        (
            "/contact_fields",
            {"label": "X", "label_for_customers": "X", "type": "custom_text", "position": "1"},
            "position",
            "datatype_mismatch",
        ),
        (
            "/admin/ticket_fields/2000",
            {"choices": [{"value": "Novo", "label_for_customers": "Novo"}]},
            "choices[0].position",
            "missing_field",
        ),
    ],
)
def test_the_fake_refuses_like_freshdesk(
    fresh: FakeFreshdesk, path: str, body: dict[str, Any], field: str, code: str
) -> None:
    method = "PUT" if "admin" in path else "POST"
    with pytest.raises(Invalid) as refused:
        client().request(method, f"/api/v2{path}", body=body)
    assert f"{field}" in str(refused.value) and code in str(refused.value)


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
    assert not any("ficha." in p.fix for p in problems)  # found by its label: nothing to edit


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


def test_check_names_the_role_of_a_worker_agent_that_is_not_an_administrator(
    fresh: FakeFreshdesk,
) -> None:
    setup(client(), Config(), dry_run=False, out=io.StringIO())
    fresh.agents[WORKER_ID]["role_ids"] = [4]
    [problem] = check(client(), Config(), io.StringIO())
    assert "is Agent, not an administrator" in problem.what and problem.fix == ADMIN_FIX
