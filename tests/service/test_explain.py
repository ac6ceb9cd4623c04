"""`explain TICKET_ID`: where a ticket stands and what the worker would do next, and why.

One test per situation. Every call goes through `explained`, which also checks that explaining
writes nothing and that no e-mail address or document appears unmasked (CONTRACT 12)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.fakes.world import CNPJ, CPF, World, person
from worker import logs
from worker.core.model import StatusCategory
from worker.explain import explain
from worker.ports import HelpdeskError

MARIA = person("Maria Souza", "maria.souza@exemplo.com.br")
ANA = person("Ana Ribeiro", "ana@padaria.com.br")
BRUNO = person("Bruno Ribeiro", "bruno@padaria.com.br")
CARLA = person("Carla Mendes", "carla@padaria.com.br")
JOAO = person("João Lima", "joao.lima@outra.com.br")

PEOPLE = (MARIA, ANA, BRUNO, CARLA, JOAO)
SECRETS = (
    *(p.email for p in PEOPLE),
    "contato@empresa-cliente.com.br",
    CPF,
    CPF.replace(".", "").replace("-", ""),
    CNPJ,
    "98765-4321",
)


def explained(world: World, ticket: str) -> str:
    writes, outbox = world.helpdesk.writes, len(world.helpdesk.outbox)
    comments = len(world.ticket(ticket).comments)
    text = explain(world.worker, ticket, world.clock())
    assert world.helpdesk.writes == writes, "explain never writes"
    assert len(world.helpdesk.outbox) == outbox, "explain never sends"
    assert len(world.ticket(ticket).comments) == comments
    for secret in SECRETS:
        assert secret not in text, f"{secret} shown unmasked"
    return text


def holder_world() -> tuple[World, str]:
    world = World()
    world.pf(MARIA)
    return world, world.opens(MARIA)


def test_s1_new_ticket_shows_the_first_step_and_its_note() -> None:
    world, ticket = holder_world()
    text = explained(world, ticket)
    assert f'Ticket #{ticket} — "Cancelamento do contrato"' in text
    assert "Solicitante: Maria Souza <m***@***>" in text
    assert "Situação 1 (titular)" in text
    assert 'conta "Maria Souza" (CPF)' in text
    assert "Passos já feitos (notas do worker):\n  nenhum" in text
    assert "O que o worker faria agora (07/12/2026 às 09:00):" in text
    assert "1:inicio — escreve uma nota interna, sem e-mail" in text
    assert 'status "Em atendimento"' in text
    assert "Nota: [Cancelamento] Pedido de cancelamento recebido e registrado na ficha" in text
    assert "[cancelamento-worker]" not in text, "the marker line is not shown"
    world.poll()
    assert world.history(ticket).steps == 1, "what explain announced is what the worker does"


def test_s1_waiting_shows_the_deadline_then_the_cancel_step_once_it_passed() -> None:
    world, ticket = holder_world()
    world.poll()
    world.agent_says(ticket, "#tentativa\n#tentativa\n#tentativa")
    world.later(hours=1)

    before = explained(world, ticket)
    assert "5:email-contato — envia o e-mail" in before
    assert (
        "Por quê: um agente: #tentativa que completa as ligações (3 por padrão), sem e-mail de "
        "contato enviado (§3.3, §4.3)" in before
    )
    assert "fase ligando → aguardando_cliente" in before
    assert "Registra: tentativas 3 de 3" in before
    assert "Registra: e-mail de contato enviado; prazo até o fim de 09/12/2026" in before
    assert '"#tentativa" de Paula' in before

    world.poll()
    text = explained(world, ticket)
    assert "Fase: aguardando_cliente" in text
    assert "tentativas 3 de 3 · e-mail de contato enviado" in text
    assert "Prazo: até o fim de 09/12/2026 (quarta-feira)" in text
    assert "a partir de 10/12/2026 às 00:00" in text
    assert "5:email-contato" in text.split("O que o worker faria agora")[0]
    assert "nada agora: aguardando a resposta do cliente até o fim de 09/12/2026" in text
    assert "em 10/12/2026 às 00:00, sem novidades até lá: 6:cancelar-contrato" in text

    world.later(days=3)
    after = explained(world, ticket)
    assert "(já terminou)" in after
    assert "6:cancelar-contrato — escreve uma nota interna" in after
    assert "tags +cancelamento-executar" in after
    assert "Por quê: o prazo termina: prazo do cliente terminou sem resposta" in after
    assert "(§3.7)" in after
    assert (
        "cancelar porque sem resposta do cliente no prazo e a solicitação veio do e-mail" in after
    )


def test_s2_lists_the_partners_whose_confirmation_is_pending() -> None:
    world = World()
    world.pj("Padaria Pão Quente Ltda", [ANA, BRUNO, CARLA])
    ticket = world.opens(ANA)
    world.poll()
    world.agent_says(ticket, "#cancelar motivo: Encerramento da empresa")

    asking = explained(world, ticket)
    assert "2:pedido-socios — envia o e-mail" in asking
    assert "(cópias: b***@***, c***@***)" in asking

    world.poll()
    text = explained(world, ticket)
    assert "Situação 2 (sócio-administrador)" in text
    assert "Ana Ribeiro <a***@***>: confirmou" in text
    assert "Bruno Ribeiro <b***@***>: confirmação pendente" in text
    assert "Carla Mendes <c***@***>: confirmação pendente" in text
    assert "Fase: aguardando_socios" in text
    assert "aguardando a confirmação dos sócios (Bruno Ribeiro, Carla Mendes)" in text
    assert "3:prazo-socios" in text


def test_s3_third_party_gets_the_reply() -> None:
    world = World()
    world.pj("Padaria Pão Quente Ltda", [ANA, BRUNO], others=[JOAO])
    ticket = world.opens(JOAO)
    text = explained(world, ticket)
    assert "Situação 3 (terceiro)" in text
    assert '1:terceiro — envia o e-mail "resposta a terceiro" para j***@***' in text
    assert 'status "Resolvido"' in text
    assert "quem pede não é titular nem sócio-administrador" in text


def test_missing_data_goes_to_review_and_lists_the_problems() -> None:
    world = World()
    world.pj("Padaria Pão Quente Ltda", [ANA])
    ticket = world.opens(MARIA)
    text = explained(world, ticket)
    assert "Situação: não identificada" in text
    assert "a ficha não permite classificar:" in text
    assert "não pertence a nenhuma conta" in text
    assert "1:revisar" in text
    assert "tags +cancelamento-revisar" in text
    world.poll()
    waiting = explained(world, ticket)
    assert "Fase: revisar" in waiting
    assert "nada agora: aguardando um agente (dados da ficha faltando ou ambíguos)" in waiting


def test_a_solved_ticket_gets_nothing() -> None:
    world, ticket = holder_world()
    world.poll()
    world.helpdesk.agent_sets(ticket, status=StatusCategory.SOLVED)
    text = explained(world, ticket)
    assert "nada: ticket resolvido (por um agente)" in text
    assert "1:inicio" in text, "the steps done are still shown"


def test_a_ticket_that_is_not_a_cancellation_request_says_why() -> None:
    world = World()
    world.pf(MARIA)
    ticket = world.opens(
        MARIA,
        f"Segunda via do boleto, CPF {CPF}",
        "Meu telefone é (11) 98765-4321.",
        tags=(),
    )
    text = explained(world, ticket)
    assert "nada: não é um pedido de cancelamento" in text
    assert "sem a tag cancelamento e sem pedido nas palavras do assunto" in text
    assert "***.***.***-**" in text, "the CPF in the subject is masked"

    by_phone = world.opens(MARIA, "Quero cancelar", "Ligação", tags=(), channel="phone")
    assert "palavras-chave não valem no canal phone" in explained(world, by_phone)


def test_a_possible_request_says_it_waits_for_an_agent() -> None:
    world = World()
    world.pf(MARIA)
    body = "Qual a multa para cancelar o contrato antes do prazo?"
    ticket = world.opens(MARIA, "Dúvida", body, tags=())
    why = "o worker vê o ticket pela primeira vez: talvez um pedido (a detecção ficou em dúvida)"
    assert f"Por quê: {why} (§1)" in explained(world, ticket)
    world.poll()
    text = explained(world, ticket)
    assert "nada agora: talvez um pedido: aguardando um agente (#iniciar-cancelamento)" in text


def test_manual_says_who_took_it_and_what_waits() -> None:
    world, ticket = holder_world()
    world.poll()
    world.agent_says(ticket, "#manual")
    world.poll()
    world.customer_writes(ticket, MARIA, f"Alô? Meu CPF é {CPF}, e-mail {MARIA.email}")
    text = explained(world, ticket)
    assert "Fase: manual" in text
    assert "2:manual" in text
    assert "nada: #manual desde 07/12/2026 às 09:00 por Paula" in text
    assert "até #retomar" in text
    assert "Ainda não tratados pelo worker (ignorados até #retomar):" in text
    assert "mensagem de Maria Souza" in text


def test_an_unknown_ticket_is_an_error_not_a_guess() -> None:
    world = World()
    with pytest.raises(HelpdeskError):
        explain(world.worker, "9999", world.clock())


@pytest.fixture
def forget_secrets() -> Iterator[None]:
    yield
    logs._secrets.clear()


@pytest.mark.usefixtures("forget_secrets")
def test_a_credential_pasted_into_a_ticket_is_hidden_like_in_the_logs() -> None:
    token = "zd-token-9f8e7d6c5b4a"
    logs.remember_secrets({"ZENDESK_API_TOKEN": token})
    world = World()
    world.pf(MARIA)
    ticket = world.opens(MARIA)
    world.poll()
    world.customer_writes(
        ticket,
        MARIA,
        f"Meu sistema mostrou {token} e https://ops:senha-do-painel@acme.zendesk.com/x",
    )
    text = explained(world, ticket)
    assert token not in text, "a configured secret is hidden by value"
    assert "senha-do-painel" not in text, "a URL's user info is hidden by pattern"
    assert "mensagem de Maria Souza" in text, "the message itself is still listed"


def test_untrusted_messages_are_listed_with_the_reason() -> None:
    world = World()
    world.pj("Padaria Pão Quente Ltda", [ANA, BRUNO])
    ticket = world.opens(ANA, channel="web")
    world.poll()
    world.spoofed_reply(ticket, BRUNO, "Confirmo o cancelamento.")
    text = explained(world, ticket)
    assert "Mensagens sem remetente confirmado (podem parar, nunca avançar):" in text
    assert "formulário web" in text
    assert "pode não ter sido enviada por" in text


def test_why_a_step_is_taken_is_its_row_of_the_procedures_table() -> None:
    """The reason shown is the table's condition and §, the page a support lead signed."""
    world, ticket = holder_world()
    world.poll()
    world.customer_writes(ticket, MARIA, "Posso pagar a multa em duas vezes?")
    text = explained(world, ticket)
    assert "2:mensagem — escreve uma nota interna" in text
    assert "Por quê: uma mensagem no ticket: qualquer outra mensagem do cliente (§3.5)" in text
