"""Logs never carry personal data (LGPD): CPF, CNPJ, e-mail addresses and phone numbers."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
import structlog

from worker import logs


@pytest.mark.parametrize(
    ("raw", "secret"),
    [
        ("requester maria.souza@exemplo.com.br wrote", "maria.souza@exemplo.com.br"),
        ("cpf 529.982.247-25 invalid", "529.982.247-25"),
        ("cpf 52998224725 invalid", "52998224725"),
        ("cnpj 11.222.333/0001-81", "11.222.333/0001-81"),
        ("cnpj 12.ABC.345/01DE-35", "12.ABC.345/01DE-35"),
        ("call (11) 98765-4321 please", "98765-4321"),
        ("call +55 11 4000-1234", "4000-1234"),
    ],
)
def test_personal_data_is_masked(raw: str, secret: str) -> None:
    masked = logs.mask(raw)
    assert secret not in masked
    assert "*" in masked


def test_ticket_ids_and_step_keys_stay_readable() -> None:
    assert logs.mask("ticket 48213 step 5:email-contato") == "ticket 48213 step 5:email-contato"


@pytest.fixture
def restore_logs() -> Iterator[None]:
    yield
    structlog.reset_defaults()  # the configured stream is this test's captured stderr


@pytest.mark.usefixtures("restore_logs")
def test_every_field_of_a_real_event_is_masked(capsys: pytest.CaptureFixture[str]) -> None:
    logs.configure("json")
    structlog.get_logger("worker").warning(
        "ticket failed",
        ticket_id="48213",
        error="helpdesk refused: requester ana@padaria.com.br, CNPJ 11.222.333/0001-81",
        people=["bruno@padaria.com.br", {"phone": "(11) 4000-1234"}],
    )
    line = capsys.readouterr().err.strip()
    event = json.loads(line)
    assert event["ticket_id"] == "48213"
    for secret in ("ana@padaria.com.br", "11.222.333/0001-81", "bruno@padaria", "4000-1234"):
        assert secret not in line


@pytest.mark.parametrize(
    ("raw", "masked"),
    [
        ("de josé.araújo@padaria.com.br hoje", "de j***@*** hoje"),
        ("de ana@padaria-pão.com.br hoje", "de a***@*** hoje"),
        ("de ana@xn--padaria-po-j6a.com.br hoje", "de a***@*** hoje"),
        ("de иван@пекарня.рф hoje", "de и***@*** hoje"),
    ],
)
def test_accented_addresses_and_idn_domains_are_masked_whole(raw: str, masked: str) -> None:
    assert logs.mask(raw) == masked


@pytest.fixture
def remembered() -> Iterator[None]:
    yield
    logs._secrets.clear()


@pytest.mark.usefixtures("remembered")
@pytest.mark.parametrize(
    "raw",
    [
        "401: Authorization: Basic b3BzQGFjbWUuY29tLmJyL3Rva2VuOnNlY3JldG8= rejected",
        '{"headers": {"Authorization": "Bearer oauth-que-nao-pode-vazar"}}',
        "cannot reach https://ops:senha-secreta@acme.zendesk.com (ConnectionError)",
        "echoed api_key=chave-que-nao-pode-vazar&x=1",
        "echoed the token tok-que-nao-pode-vazar verbatim",
        "echoed the key fd-chave-freshdesk verbatim",
    ],
)
def test_credentials_are_hidden_by_value_and_by_pattern(raw: str) -> None:
    logs.remember_secrets(
        {
            "ZENDESK_API_TOKEN": "tok-que-nao-pode-vazar",
            "FRESHDESK_API_KEY": "fd-chave-freshdesk",
            "ZENDESK_URL": "https://ops:senha-secreta@acme.zendesk.com",
            "HOME": "/home/worker",
        }
    )
    shown = logs.shown(raw)
    for secret in (
        "b3BzQGFjbWUuY29tLmJyL3Rva2VuOnNlY3JldG8=",
        "oauth-que-nao-pode-vazar",
        "senha-secreta",
        "chave-que-nao-pode-vazar",
        "tok-que-nao-pode-vazar",
        "fd-chave-freshdesk",
    ):
        assert secret not in shown
    assert "***" in shown
    assert logs.shown("/home/worker/state") == "/home/worker/state"  # not a secret


@pytest.mark.usefixtures("remembered")
def test_a_secret_under_a_configured_name_is_hidden_too() -> None:
    env = {"CONTRATOS_HMAC": "hmac-que-nao-pode-vazar"}  # contract_cancellation.http.secret_env
    logs.remember_secrets(env, names=("CONTRATOS_HMAC",))
    assert logs.shown("signed with hmac-que-nao-pode-vazar") == "signed with ***"


def test_the_first_lines_about_a_ticket_name_the_situation_it_just_found() -> None:
    """An operator filtering the log by situation sees a ticket from its first line on."""
    from tests.fakes.world import MemoryWorld, person

    world = MemoryWorld()
    maria = person("Maria Souza", "maria@exemplo.com.br")
    world.pf(maria)
    ticket = world.opens(maria)
    with structlog.testing.capture_logs() as lines:
        world.poll()
    about = [line for line in lines if line.get("ticket_id") == ticket]
    assert [(line["event"], line["situation"]) for line in about[:2]] == [
        ("write", "titular"),
        ("ticket.handled", "titular"),
    ]
