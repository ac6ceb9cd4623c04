"""Which tickets, and who is asking (PROCEDURE.md §1-§2, CONTRACT 2 and 15): never guess."""

from __future__ import annotations

import pytest

from tests.fakes.world import CNPJ_2, CNPJ_ALPHANUMERIC, World, person
from worker.core.model import Member
from worker.core.state import Phase, ReviewReason

ANA = person("Ana", "ana@empresa.com.br")
BRUNO = person("Bruno", "bruno@empresa.com.br")
MARIA = person("Maria", "maria@exemplo.com.br")


def situation_of(world: World, ticket: str) -> str | None:
    world.poll()
    return world.history(ticket).state.situation


def assert_sent_to_review(world: World, ticket: str, problem: str) -> None:
    state = world.history(ticket).state
    assert state.phase is Phase.REVIEW
    assert state.review is ReviewReason.MISSING_DATA
    assert "cancelamento-revisar" in world.ticket(ticket).tags
    assert world.status(ticket) == "Em atendimento"
    assert world.emails(ticket) == [], "missing data never gets an e-mail"
    assert problem in world.last_note(ticket)


# --- §1 which tickets ---------------------------------------------------------------------


def test_untagged_email_detected_by_keyword_gets_the_tag_and_the_note_says_how() -> None:
    world = World()
    world.pf(MARIA)
    ticket = world.opens(MARIA, "Quero cancelar meu contrato", "Por favor.", tags=())
    world.poll()
    assert "cancelamento" in world.ticket(ticket).tags
    assert 'palavras "cancelar meu contrato" no assunto' in world.notes(ticket)[0]


@pytest.mark.parametrize(
    ("subject", "channel"),
    [("Cancelar boleto de dezembro", "email"), ("Quero cancelar meu contrato", "phone")],
)
def test_not_a_cancellation_request_is_left_alone(subject: str, channel: str) -> None:
    world = World()
    world.pf(MARIA)
    ticket = world.opens(MARIA, subject, "Obrigada.", tags=(), channel=channel)  # type: ignore[arg-type]
    world.poll()
    assert world.notes(ticket) == []
    assert world.helpdesk.writes == 0


def test_cancelling_someones_access_is_left_alone() -> None:
    world = World()
    world.pf(MARIA)
    body = "Favor cancelar o acesso do usuário joao@exemplo.com.br ao portal, ele saiu."
    ticket = world.opens(MARIA, "Acesso ao portal", body, tags=())
    world.poll()
    assert world.notes(ticket) == []
    assert world.helpdesk.writes == 0


def test_a_possible_request_gets_one_note_and_the_tag_and_nothing_starts() -> None:
    world = World()
    world.pf(MARIA)
    body = "Qual a multa para cancelar o contrato antes do prazo?"
    ticket = world.opens(MARIA, "Dúvida", body, tags=())
    world.poll()
    world.poll()
    assert world.history(ticket).state.phase is Phase.POSSIBLE
    [note] = world.notes(ticket)
    assert 'palavras "cancelar o contrato" na primeira mensagem' in note
    assert '"multa"' in note and "#iniciar-cancelamento" in note
    tags = world.ticket(ticket).tags
    assert "cancelamento-possivel" in tags and "cancelamento" not in tags
    assert world.emails(ticket) == []
    assert world.status(ticket) != "Em atendimento"


def test_iniciar_cancelamento_starts_the_procedure_on_a_possible_request() -> None:
    world = World()
    world.pf(MARIA)
    ticket = world.opens(MARIA, "Reajuste", "Se o reajuste for mantido vou cancelar.", tags=())
    world.poll()
    world.agent_says(ticket, "Liguei, ela quer mesmo cancelar.\n#iniciar-cancelamento")
    world.poll()
    state = world.history(ticket).state
    assert (state.phase, state.situation) == (Phase.CALLING, "titular")
    assert "#iniciar-cancelamento de" in world.notes(ticket)[1]
    assert "cancelamento" in world.ticket(ticket).tags
    assert world.status(ticket) == "Em atendimento"


def test_iniciar_cancelamento_after_the_start_is_answered_with_a_note() -> None:
    world = World()
    world.pf(MARIA)
    ticket = world.opens(MARIA, "Quero cancelar meu contrato", "Por favor.", tags=())
    world.poll()
    world.agent_says(ticket, "#iniciar-cancelamento")
    world.poll()
    assert "já foi iniciado" in world.last_note(ticket)
    assert world.history(ticket).state.phase is Phase.CALLING


def test_a_tagged_ticket_counts_whatever_its_channel() -> None:
    world = World()
    world.pf(MARIA)
    ticket = world.opens(MARIA, "Contato", "Ligação", channel="phone")
    assert situation_of(world, ticket) == "titular"


# --- §2 who is asking ---------------------------------------------------------------------


def test_the_only_managing_partner_of_a_company_is_situation_1() -> None:
    world = World()
    world.pj("Empresa", [ANA])
    assert situation_of(world, world.opens(ANA)) == "titular"


def test_one_of_several_managing_partners_is_situation_2() -> None:
    world = World()
    world.pj("Empresa", [ANA, BRUNO])
    assert situation_of(world, world.opens(BRUNO)) == "socio"


def test_the_new_alphanumeric_cnpj_is_a_company() -> None:
    world = World()
    world.pj("Empresa", [ANA, BRUNO], document=CNPJ_ALPHANUMERIC)
    assert situation_of(world, world.opens(ANA)) == "socio"


def test_an_employee_who_is_not_a_partner_is_a_third_party() -> None:
    world = World()
    employee = person("Joana", "joana@empresa.com.br")
    world.pj("Empresa", [ANA], others=[employee])
    assert situation_of(world, world.opens(employee)) == "terceiro"


def test_a_relative_in_a_persons_account_is_a_third_party() -> None:
    world = World()
    world.pf(MARIA)
    relative = person("Pedro", "pedro@exemplo.com.br")
    account = world.helpdesk.accounts[f"pf-{MARIA.email}"]
    world.helpdesk.add_account(
        account.id,
        account.name,
        account.document,
        account.registered_email,
        [*account.members, Member(relative)],
    )
    assert situation_of(world, world.opens(relative)) == "terceiro"


def test_a_requester_in_no_account_is_missing_data_not_a_third_party() -> None:
    world = World()
    ticket = world.opens(person("Luiz", "luiz@exemplo.com.br"))
    world.poll()
    assert_sent_to_review(world, ticket, "não pertence a nenhuma conta")


def test_a_requester_on_several_accounts_is_ambiguous() -> None:
    world = World()
    world.pj("Empresa A", [ANA])
    world.pj("Empresa B", [ANA, BRUNO], document=CNPJ_2)
    ticket = world.opens(ANA)
    world.poll()
    assert_sent_to_review(world, ticket, "mais de uma conta")


def test_a_partner_marked_on_two_accounts_is_ambiguous_for_each() -> None:
    world = World()
    world.pj("Empresa A", [ANA, BRUNO])
    world.pj("Empresa B", [BRUNO], document=CNPJ_2, registered="b@b.com.br")
    ticket = world.opens(ANA)
    world.poll()
    assert_sent_to_review(world, ticket, "pertence a mais de uma conta")


def test_a_company_without_partners_on_file_goes_to_review() -> None:
    world = World()
    world.pj("Empresa", [], registered=ANA.email)
    ticket = world.opens(ANA)
    world.poll()
    assert_sent_to_review(world, ticket, "não tem sócios-administradores")


@pytest.mark.parametrize(
    ("document", "problem"), [("123.456.789-00", "inválido"), (None, "não tem CPF")]
)
def test_a_malformed_or_missing_document_goes_to_review(document: str | None, problem: str) -> None:
    world = World()
    world.pj("Empresa", [ANA], document=document)
    ticket = world.opens(ANA)
    world.poll()
    assert_sent_to_review(world, ticket, problem)


def test_the_agent_sets_the_situation_by_hand_and_the_worker_follows() -> None:
    world = World()
    luiz = person("Luiz", "luiz@exemplo.com.br")
    ticket = world.opens(luiz)
    world.poll()
    world.helpdesk.agent_sets(ticket, fields={"situation": "titular"})
    world.poll()
    state = world.history(ticket).state
    assert state.situation == "titular"
    assert state.phase is Phase.CALLING
    assert "cancelamento-revisar" not in world.ticket(ticket).tags
    world.agent_says(ticket, "#tentativa\n#tentativa\n#tentativa")
    world.poll()
    assert world.email_templates(ticket) == ["email-contato"]
