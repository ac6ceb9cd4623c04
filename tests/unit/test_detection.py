"""Which tickets start the procedure (§1): the tag, or keywords where customers write."""

from __future__ import annotations

from dataclasses import replace

import pytest

from worker.config import Config, detection_settings
from worker.core.detection import DetectionResult, detect
from worker.core.settings import DetectionSettings

DETECTION = detection_settings(Config().detection)
TAG = "cancelamento"
NO_TAGS: frozenset[str] = frozenset()


def by_email(
    subject: str, message: str = "", detection: DetectionSettings = DETECTION
) -> DetectionResult | None:
    return detect(subject, message, "email", NO_TAGS, TAG, detection)


def test_a_tagged_ticket_is_a_request_on_any_channel() -> None:
    result = detect("Ligação", "", "phone", frozenset({"vip", TAG}), TAG, DETECTION)
    assert result == DetectionResult(by_tag=True, tag=TAG)
    assert result.describe() == "tag cancelamento"


def test_a_configured_tag_name_is_the_one_described() -> None:
    result = detect("Oi", "", "email", frozenset({"cancel-req"}), "cancel-req", DETECTION)
    assert result is not None
    assert result.describe() == "tag cancel-req"


def test_asking_to_cancel_in_the_subject() -> None:
    result = by_email("Quero cancelar meu contrato", "Bom dia, segue meu pedido.")
    assert result == DetectionResult(
        by_tag=False, matched="cancelar meu contrato", where="subject", tag=TAG
    )
    assert result.describe() == 'palavras "cancelar meu contrato" no assunto'


def test_asking_for_rescission_in_the_first_message() -> None:
    result = by_email("Contrato 2026", "Prezados,\n\nSolicito a rescisão do contrato.\n\nAtt,\nAna")
    assert result is not None
    assert (result.matched, result.where) == ("rescisao do contrato", "first_message")
    assert result.describe() == 'palavras "rescisao do contrato" na primeira mensagem'


def test_closing_the_contract_reads_as_a_request() -> None:
    result = by_email("Encerrar o contrato")
    assert result is not None
    assert result.matched == "encerrar o contrato"


def test_cancelling_a_bill_or_an_invoice_is_not_cancelling_the_contract() -> None:
    assert (
        by_email("Cancelar boleto de dezembro", "Já paguei por PIX, podem cancelar o boleto.")
        is None
    )
    assert by_email("Cancelamento da nota fiscal 123", "A NF saiu com o CNPJ errado.") is None


def test_an_excluded_subject_does_not_hide_a_request_in_the_message() -> None:
    result = by_email("Cancelar boleto", "Na verdade quero cancelar o contrato todo.")
    assert result is not None
    assert result.where == "first_message"


def test_words_in_the_quoted_history_of_the_first_message_do_not_count() -> None:
    message = (
        "Recebi, obrigado.\n\n"
        "Em seg., 7 de dez. de 2026 às 09:00, ACME <avisos@acme.com.br> escreveu:\n"
        "> Para cancelar o recebimento destes avisos, responda SAIR."
    )
    assert by_email("RE: Aviso de manutenção", message) is None


def test_phone_tickets_are_not_read_for_keywords() -> None:
    assert detect("Quero cancelar", "Quero cancelar", "phone", NO_TAGS, TAG, DETECTION) is None


def test_keywords_disabled_leaves_only_the_tag() -> None:
    off = replace(DETECTION, keywords_enabled=False)
    assert by_email("Quero cancelar meu contrato", detection=off) is None
    assert detect("Quero cancelar", "", "email", frozenset({TAG}), TAG, off) is not None


def test_an_unrelated_ticket_is_not_a_request() -> None:
    assert by_email("Dúvida sobre a fatura", "Qual o vencimento do próximo boleto?") is None


@pytest.mark.parametrize(
    "subject",
    [
        "Cancelamento de nota fiscal",
        "Cancelamento de boleto",
        "Cancelar os boletos",
        "Cancelar as notas fiscais",
        "Cancelar pagamento duplicado",
    ],
)
def test_articles_and_plurals_do_not_hide_a_billing_request(subject: str) -> None:
    assert by_email(subject) is None


@pytest.mark.parametrize("subject", ["Cancela meu plano", "Rescindo o contrato"])
def test_other_verb_forms_read_as_a_request(subject: str) -> None:
    assert by_email(subject) is not None


@pytest.mark.parametrize(
    ("subject", "message"),
    [
        ("Acesso", "Favor cancelar o acesso do usuário maria@cliente.com.br ao portal."),
        ("Funcionário", "Precisamos cancelar o cadastro do funcionário José no eSocial."),
        ("DARF", "Preciso cancelar o DARF que foi emitido em duplicidade."),
        ("Procuração", "Quero cancelar a procuração eletrônica do antigo contador."),
        ("newsletter", "Quero cancelar o recebimento da newsletter, por favor."),
        ("Revista", "Como cancelar a assinatura da revista que cobram no cartão da empresa?"),
        ("Aluguel", "Vou cancelar o contrato de aluguel da sala comercial."),
        ("NF", "tem como cancela a nota q emiti hj? errei o cnpj"),
        ("", "o darf veio errado, cancela e me manda outro pfv"),
    ],
)
def test_cancelling_anything_but_our_contract_is_not_a_request(subject: str, message: str) -> None:
    assert by_email(subject, message) is None


@pytest.mark.parametrize(
    "message",
    [
        "Olá, não quero mais os serviços de vocês. O que preciso fazer?",
        "Venho informar que vou desistir dos serviços contratados.",
        "Informamos que não vamos renovar o contrato que vence em janeiro.",
        "Oi, quero sair do plano. Obrigada",
        "Precisamos fazer o distrato do contrato de contabilidade.",
        "Quero deixar de ser cliente de vocês.",
    ],
)
def test_a_request_that_never_says_cancelar_is_a_request(message: str) -> None:
    result = by_email("Contato", message)
    assert result is not None
    assert result.outcome == "request"


@pytest.mark.parametrize(
    ("message", "doubt"),
    [
        ("Se o reajuste for mantido vou cancelar o contrato.", "se"),
        ("Mais um erro desses e a gente encerra o contrato.", "mais um erro"),
        ("Qual a multa para cancelar o contrato antes do prazo?", "multa"),
        ("Queria cancelar só o serviço de folha e manter o fiscal.", "so o"),
        ("Quero mudar para um plano mais barato.", "plano mais barato"),
    ],
)
def test_a_threat_a_question_or_a_downgrade_is_only_a_maybe(message: str, doubt: str) -> None:
    result = by_email("Contrato", message)
    assert result is not None
    assert (result.outcome, result.doubt, result.where) == ("maybe", doubt, "first_message")


def test_a_verb_without_object_counts_when_the_email_is_about_our_contract() -> None:
    result = by_email("Cancelamento da contabilidade", "Bom dia. Favor cancelar.")
    assert result is not None
    assert result.outcome == "request"


def test_a_verb_without_object_in_an_email_about_nothing_is_a_maybe() -> None:
    result = by_email("Cancelamento", "Bom dia, conforme conversamos.")
    assert result is not None
    assert result.outcome == "maybe"


def test_a_legal_disclaimer_with_cancellation_words_is_not_a_request() -> None:
    message = (
        "Seguem os documentos do mês.\n\nAVISO: esta mensagem é confidencial. Se a recebeu por "
        "engano, favor cancelar qualquer uso, não divulgar e apagar."
    )
    assert by_email("Documentos", message) is None


def test_a_request_next_to_a_look_alike_is_still_a_request() -> None:
    result = by_email("Cancelamento", "Quero cancelar o contrato. Não gerem mais boletos.")
    assert result is not None
    assert (result.outcome, result.matched) == ("request", "cancelar o contrato")
