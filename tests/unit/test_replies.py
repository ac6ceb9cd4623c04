"""A partner's e-mail confirms only in their own words, plainly (§4.5, CONTRACT 14)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from worker.config import Config, reply_settings
from worker.core.replies import (
    answer_text,
    classify_confirmation,
    excerpt,
    is_auto_reply,
    read_answer,
)

REPLIES = reply_settings(Config().replies)

# Our own request, as it comes back quoted under every answer: it asks for the word "Confirmo".
OUR_REQUEST = (
    "Olá, João,\n"
    "Recebemos o pedido de cancelamento do contrato da ACME Ltda (protocolo 4521).\n"
    "Como sócio-administrador, responda este e-mail com “Confirmo o cancelamento”.\n"
    "Equipe de Atendimento"
)


def quoted(text: str) -> str:
    return "\n".join(f"> {line}" for line in text.splitlines())


GMAIL_QUESTION = (
    "Bom dia. Quem pediu esse cancelamento? Ninguém falou comigo.\n"
    "\n"
    "Em qua., 24 de dez. de 2026 às 10:00, Atendimento ACME <atendimento@acme.com.br> escreveu:\n"
    "\n" + quoted(OUR_REQUEST)
)

GMAIL_WRAPPED_HEADER_NOT_QUOTED = (
    "Vou conversar com o Pedro e retorno.\n"
    "\n"
    "Em qua., 24 de dez. de 2026 às 10:00, Atendimento ACME Serviços Ltda <\n"
    "atendimento@acme.com.br> escreveu:\n"
    "\n" + OUR_REQUEST
)

OUTLOOK_WEB = (
    "Prefiro tratar disso por telefone.\n"
    "\n"
    "Obter o Outlook para Android\n"
    "________________________________\n"
    "De: Atendimento ACME <atendimento@acme.com.br>\n"
    "Enviado: quarta-feira, 24 de dezembro de 2026 10:00\n"
    "Para: João Souza <joao@cliente.com.br>\n"
    "Assunto: Confirmação do cancelamento - protocolo 4521\n"
    "\n" + OUR_REQUEST
)

OUTLOOK_DESKTOP = (
    "Recebido, vou analisar.\n"
    "\n"
    "*De:* Atendimento ACME [mailto:atendimento@acme.com.br]\n"
    "*Enviada em:* quarta-feira, 24 de dezembro de 2026 10:00\n"
    "*Para:* João Souza\n"
    "*Assunto:* Confirmação do cancelamento - protocolo 4521\n"
    "\n" + OUR_REQUEST
)

ORIGINAL_MESSAGE = (
    "Aguardo contato.\n-----Mensagem original-----\nDe: Atendimento ACME\n" + OUR_REQUEST
)

ENGLISH_CLIENT = (
    "Ligo amanhã.\n\n"
    "On Wed, Dec 24, 2026 at 10:00 AM Atendimento ACME <atendimento@acme.com.br> wrote:\n"
    + quoted(OUR_REQUEST)
)


@pytest.mark.parametrize(
    ("body", "answer"),
    [
        (GMAIL_QUESTION, "Bom dia. Quem pediu esse cancelamento? Ninguém falou comigo."),
        (GMAIL_WRAPPED_HEADER_NOT_QUOTED, "Vou conversar com o Pedro e retorno."),
        (OUTLOOK_WEB, "Prefiro tratar disso por telefone."),
        (OUTLOOK_DESKTOP, "Recebido, vou analisar."),
        (ORIGINAL_MESSAGE, "Aguardo contato."),
        (ENGLISH_CLIENT, "Ligo amanhã."),
    ],
    ids=["gmail", "gmail-wrapped", "outlook-web", "outlook-desktop", "original-msg", "english"],
)
def test_only_the_text_above_the_quoted_history_is_the_answer(body: str, answer: str) -> None:
    assert answer_text(body) == answer
    # Our quoted request says "Confirmo o cancelamento"; that is not the partner agreeing.
    assert classify_confirmation(body, REPLIES) == "unclear"


def test_the_signature_and_the_phone_sign_off_are_not_the_answer() -> None:
    body = (
        "Confirmo o cancelamento.\n"
        "-- \n"
        "João Souza | Diretor\n"
        "Se você não for o destinatário, apague esta mensagem.\n"
    )
    assert answer_text(body) == "Confirmo o cancelamento."
    # The disclaimer's "se" and "não" would otherwise make the agreement look conditional.
    assert classify_confirmation(body, REPLIES) == "affirm"
    assert answer_text("Confirmo.\n\nEnviado do meu iPhone\n") == "Confirmo."
    assert answer_text("Confirmo.\nSent from my Galaxy") == "Confirmo."


def test_a_sign_off_phrase_inside_the_answer_stays() -> None:
    body = "Enviado do meu iPhone porque estou viajando.\nConfirmo o cancelamento."
    assert answer_text(body) == body


@pytest.mark.parametrize(
    "answer",
    [
        "Confirmo o cancelamento.",
        "De acordo.",
        "Bom dia,\n\nAutorizo o cancelamento do contrato da ACME.\n\nAtenciosamente,\nJoão Souza",
        "Estou de acordo. Att, Sebastião",  # "se" inside a word is no "se"
        "Confirmo o cancelamento, como disse ao telefone.",
        "Confirmo o cancelamento do contrato.\n\n"
        "Agradeço pelo atendimento de todos esses anos. Caso precisem de algo, estou à disposição.",
    ],
)
def test_a_plain_agreement_affirms(answer: str) -> None:
    assert classify_confirmation(answer + "\n\n" + quoted(OUR_REQUEST), REPLIES) == "affirm"


@pytest.mark.parametrize(
    "answer",
    [
        "Não autorizo",
        "NÃO AUTORIZO O CANCELAMENTO.",
        "Não concordo com isso.",
        "de acordo com o contrato, não quero cancelar",
        "Confirmo o recebimento, mas não cancelem nada sem falar comigo.",
        "ñ autorizo",
    ],
)
def test_any_refusal_refuses_even_next_to_an_agreement(answer: str) -> None:
    assert classify_confirmation(answer, REPLIES) == "refuse"


@pytest.mark.parametrize(
    "answer",
    [
        "Confirmo, mas só depois de março",
        "Confirmo o cancelamento. Mas quero falar com vocês antes.",  # near, next sentence
        "Se for sem multa, autorizo",
        "confirmo?",
        "Não sei se confirmo, preciso falar com meu sócio.",
        # The condition is far from the agreement but in the same sentence, after or before it.
        "Autorizo o cancelamento do contrato da nossa empresa junto a vocês "
        "desde que a multa seja zerada",
        "Caso a multa rescisória prevista na cláusula sétima do contrato seja zerada, autorizo.",
        "Recebi o e-mail de vocês.",
        "",
        "   \n\n",
    ],
)
def test_anything_conditional_negated_or_silent_is_unclear(answer: str) -> None:
    assert classify_confirmation(answer, REPLIES) == "unclear"


@pytest.mark.parametrize(
    "body",
    [
        "De acordo com a cláusula 7, o aviso prévio é de 30 dias.",
        "Confirmo o recebimento. Vou falar com meu sócio.",
        "Autorizo o cancelamento a partir de março.",
        "Confirmo o cancelamento somente em 2027.",
    ],
)
def test_citing_terms_acknowledging_or_postponing_is_not_an_agreement(body: str) -> None:
    assert classify_confirmation(body, REPLIES) == "unclear"


@pytest.mark.parametrize(
    "body", ["Estou de acordo com o cancelamento.", "De acordo com o cancelamento do contrato."]
)
def test_agreeing_with_the_cancellation_itself_is_an_agreement(body: str) -> None:
    assert classify_confirmation(body, REPLIES) == "affirm"


def test_a_configured_hedge_phrase_can_veto_an_agreement_it_contains() -> None:
    replies = replace(REPLIES, hedges=(*REPLIES.hedges, "de acordo com"))
    body = "Estou de acordo com o cancelamento."
    assert classify_confirmation(body, REPLIES) == "affirm"
    assert classify_confirmation(body, replies) == "unclear"


@pytest.mark.parametrize(
    ("subject", "body"),
    [
        ("Resposta automática: Confirmação do cancelamento", "Olá."),
        ("RE: Confirmação do cancelamento", "Estou fora do escritório até 05/01/2027."),
        ("Automatic reply: Confirmação do cancelamento", "I am out of the office."),
        ("Ausente: Confirmação do cancelamento", "Retorno em 05/01."),
        ("RE: protocolo 4521", "Olá! Estou em férias até dia 10 e sem acesso ao e-mail."),
    ],
)
def test_out_of_office_answers_are_auto_replies(subject: str, body: str) -> None:
    assert is_auto_reply(subject, body, REPLIES)


def test_a_person_answering_is_not_an_auto_reply_even_when_quoting_one() -> None:
    body = (
        "Voltei hoje. Confirmo o cancelamento.\n\n"
        "Em seg., 29 de dez. de 2026 às 09:00, João <joao@cliente.com.br> escreveu:\n"
        "> Resposta automática: estou em férias até 05/01."
    )
    assert not is_auto_reply("RE: Confirmação do cancelamento", body, REPLIES)
    assert not is_auto_reply("RE: protocolo 4521", "Confirmo o cancelamento.", REPLIES)


def test_an_excerpt_is_the_answer_on_one_line() -> None:
    body = "Bom dia,\n\n   Confirmo   o cancelamento.\n\n" + quoted(OUR_REQUEST)
    assert excerpt(body) == "Bom dia, Confirmo o cancelamento."


def test_a_long_excerpt_is_cut_between_words() -> None:
    body = "Prezados, " + "gostaria de entender melhor a cobrança " * 20
    cut = excerpt(body, limit=60)
    assert cut == "Prezados, gostaria de entender melhor a cobrança gostaria…"
    assert len(cut) <= 60
    assert excerpt("a" * 100, limit=10) == "a" * 9 + "…"


@pytest.mark.parametrize(
    "answer",
    [
        "Confirmo na segunda-feira.",
        "Eu confirmo assim que receber o distrato.",
        "Vou confirmar com o outro sócio e volto a escrever.",
        "Confirmarei até o fim da semana.",
    ],
)
def test_a_partner_who_will_confirm_later_has_not_confirmed(answer: str) -> None:
    assert classify_confirmation(answer, REPLIES) == "unclear"


@pytest.mark.parametrize(
    "answer",
    [
        "Confirmo meus dados cadastrais.",
        "Confirmo que este é meu e-mail.",
        "Concordo em mudar para o plano básico.",
        "Confirmo a reunião de amanhã às 14h.",
        "Autorizo o Paulo a decidir sobre isso.",
    ],
)
def test_agreeing_to_something_else_is_not_a_confirmation(answer: str) -> None:
    assert classify_confirmation(answer, REPLIES) == "unclear"


def test_an_automatic_acknowledgement_with_confirmamos_is_not_a_confirmation() -> None:
    body = "Esta é uma mensagem automática. Confirmamos o recebimento da sua mensagem."
    assert classify_confirmation(body, REPLIES) == "unclear"


@pytest.mark.parametrize(
    "answer",
    [
        "Sim, pode seguir com o cancelamento.",
        "Pode encerrar o contrato.",
        "Ratifico o pedido de cancelamento.",
        "Sim.",
        "Ciente. Autorizo.",
    ],
)
def test_a_plain_yes_in_other_words_confirms(answer: str) -> None:
    assert classify_confirmation(answer + "\n\n" + quoted(OUR_REQUEST), REPLIES) == "affirm"


@pytest.mark.parametrize("answer", ["Não.", "Sou contra o cancelamento.", "Não aceito."])
def test_a_refusal_in_other_words_refuses(answer: str) -> None:
    assert classify_confirmation(answer, REPLIES) == "refuse"


def test_the_sentence_that_decided_is_given_as_written() -> None:
    reading = read_answer(
        "Olá, tudo bem.\nConfirmo amanhã, depois de falar com meu contador.", REPLIES
    )
    assert reading.verdict == "unclear"
    assert reading.sentence == "Confirmo amanhã, depois de falar com meu contador."
    assert '"amanha"' in reading.why
